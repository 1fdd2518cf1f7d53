use axum::{
    extract::{Query, State},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::startup::AppState;

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Case id.
    pub case: Option<Uuid>,
    /// Case reference.
    pub reference: Option<String>,
}

/// A delivery-log entry; the recipient is masked.
#[derive(Serialize, FromRow, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub case_reference: Option<String>,
    pub recipient_masked: String,
    pub channel: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The notifications sent (or tried) for a case.
#[utoipa::path(get, path = "/api/v1/notifications", params(ListQuery),
    responses((status = 200, body = [DeliveryView]), (status = 401)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    if q.case.is_none() && q.reference.is_none() {
        return Err(ApiError::invalid("case", "give a case id (`case`) or a `reference`"));
    }
    let rows = sqlx::query_as(
        "SELECT id, event_id, event_type, case_reference, recipient_masked, channel, template, status, attempts,
                provider_message_id, last_error, created_at, sent_at
           FROM deliveries WHERE ($1::uuid IS NULL OR case_id = $1) AND ($2::text IS NULL OR case_reference = $2)
          ORDER BY created_at LIMIT 500",
    )
    .bind(q.case)
    .bind(q.reference)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows))
}
