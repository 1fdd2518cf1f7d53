use axum::{
    extract::{Path, State},
    Json,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use server::ApiError;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::startup::AppState;

#[derive(Serialize, FromRow, ToSchema)]
pub struct DeadlineView {
    pub clock: String,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub level: i32,
    pub state: String,
    pub fired_at: Option<DateTime<Utc>>,
    pub late: bool,
}

/// Every clock of a case (by id or reference).
#[utoipa::path(get, path = "/api/v1/cases/{id}/deadlines", params(("id" = String, Path)),
    responses((status = 200, body = [DeadlineView]), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn deadlines(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<Vec<DeadlineView>>, ApiError> {
    let rows: Vec<DeadlineView> = sqlx::query_as(
        "SELECT clock, started_at, due_at, level, state, fired_at, late FROM timers
          WHERE case_id = $1 OR case_reference = $2 ORDER BY due_at",
    )
    .bind(Uuid::parse_str(&id).ok())
    .bind(&id)
    .fetch_all(&state.pool)
    .await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(format!("deadlines of case {id}")));
    }
    Ok(Json(rows))
}
