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

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub reference: String,
    pub site: String,
    pub channel: String,
    pub status: String,
    pub class: String,
    pub category: String,
    pub severity: String,
    pub department: String,
    pub assignee: Option<String>,
    #[schema(value_type = Object)]
    pub decided_by: serde_json::Value,
    pub subject: Option<String>,
    pub content: String,
    pub received_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
}

/// One case, by id or by reference.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}", params(("id" = String, Path, description = "case id or reference")),
    responses((status = 200, body = CaseView), (status = 401), (status = 404)),
    security(("bearer" = []))
)]
pub async fn get_case(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let case: Option<CaseView> = match Uuid::parse_str(&id) {
        Ok(uuid) => sqlx::query_as("SELECT * FROM cases WHERE id = $1").bind(uuid),
        Err(_) => sqlx::query_as("SELECT * FROM cases WHERE reference = $1").bind(&id),
    }
    .fetch_optional(&state.pool)
    .await?;
    let case = case.ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    if !staff.0.sites.is_empty() && !staff.0.sites.contains(&case.site) {
        return Err(auth::AuthError::Forbidden(format!("case {} belongs to another site", case.reference)).into());
    }
    Ok(Json(case))
}
