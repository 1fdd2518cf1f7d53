//! `GET /api/v1/customers/lookup?phone=`: what the register already knows about a caller, for the
//! agent taking a call (the staff console's phone intake). Staff only; personal data is returned
//! only to the roles that handle customers (auditors and administrators get 403), never logged.
use axum::{extract::State, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use crate::{domain::contact, startup::AppState};

#[derive(Deserialize, IntoParams)]
pub struct LookupQuery {
    pub phone: String,
}

#[derive(Serialize, FromRow, ToSchema)]
pub struct EarlierFeedback {
    pub reference: String,
    pub channel: String,
    pub received_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub language: String,
}

#[derive(Serialize, ToSchema)]
pub struct Lookup {
    /// The caller's latest non-anonymous feedback first (at most 10).
    pub earlier: Vec<EarlierFeedback>,
}

/// Earlier feedback from a phone number (normalised as the register does).
#[utoipa::path(get, path = "/api/v1/customers/lookup", params(LookupQuery),
    responses((status = 200, body = Lookup), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn lookup(
    State(state): State<AppState>,
    staff: auth::Staff,
    server::ApiQuery(q): server::ApiQuery<LookupQuery>,
) -> Result<Json<Lookup>, ApiError> {
    staff.require(&state.settings.intake.customer_lookup_roles, "looking up customers")?;
    if !contact::valid_phone(&q.phone) {
        return Err(ApiError::invalid("phone", "is not a phone number"));
    }
    let key = contact::contact_key(Some(&q.phone), None);
    let earlier = sqlx::query_as(
        "SELECT reference, channel, received_at, subject, customer_name, customer_email, language FROM feedback
          WHERE contact_key = $1 AND NOT anonymous ORDER BY received_at DESC LIMIT 10",
    )
    .bind(key)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Lookup { earlier }))
}
