use axum::{extract::State, Json};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use crate::startup::AppState;

#[derive(Deserialize, IntoParams)]
pub struct DailyQuery {
    pub site: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

#[derive(Serialize, FromRow, ToSchema)]
pub struct DailyCount {
    pub site: String,
    pub day: NaiveDate,
    pub cases: i64,
}

/// Cases received per site and local day (in `reporting.timezone`).
#[utoipa::path(get, path = "/api/v1/stats/daily", params(DailyQuery),
    responses((status = 200, body = [DailyCount]), (status = 401)), security(("bearer" = [])))]
pub async fn daily(
    State(state): State<AppState>,
    _staff: auth::Staff,
    server::ApiQuery(q): server::ApiQuery<DailyQuery>,
) -> Result<Json<Vec<DailyCount>>, ApiError> {
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if t < f {
            return Err(ApiError::invalid("to", "is before `from`"));
        }
    }
    let rows = sqlx::query_as(
        "SELECT site, day, count(*) AS cases
           FROM (SELECT site, (received_at AT TIME ZONE $4)::date AS day FROM case_facts
                  WHERE ($1::text IS NULL OR site = $1)
                    AND ($2::date IS NULL OR received_at >= ($2::date::timestamp AT TIME ZONE $4))
                    AND ($3::date IS NULL OR received_at < (($3::date + 1)::timestamp AT TIME ZONE $4))) d
          GROUP BY site, day ORDER BY day, site",
    )
    .bind(q.site)
    .bind(q.from)
    .bind(q.to)
    .bind(state.tz.name())
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows))
}
