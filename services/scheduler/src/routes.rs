use axum::{
    extract::{Path, State},
    Json,
};
use serde_json::Value;
use server::ApiError;
use sqlx::Row;
use uuid::Uuid;

use crate::{domain::clock::ClockState, startup::AppState};

/// Every clock of a case (by id or reference), explained: policy, start, pauses, non-working days
/// skipped (holiday names), make-up days counted, due time, state and escalation level.
#[utoipa::path(get, path = "/api/v1/cases/{id}/deadlines", params(("id" = String, Path, description = "case id or reference")),
    responses((status = 200, description = "one explanation per clock", body = [Object]), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn deadlines(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let rows =
        sqlx::query("SELECT site, state FROM clocks WHERE case_id = $1 OR case_reference = $2 ORDER BY due_at, clock")
            .bind(Uuid::parse_str(&id).ok())
            .bind(&id)
            .fetch_all(&state.pool)
            .await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(format!("deadlines of case {id}")));
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let site: String = r.get("site");
        let clock: ClockState = serde_json::from_value(r.get("state")).map_err(ApiError::internal)?;
        let explanation = clock
            .explain(state.calendars.for_site(&site))
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
        out.push(serde_json::to_value(explanation).map_err(ApiError::internal)?);
    }
    Ok(Json(out))
}
