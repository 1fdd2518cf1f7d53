use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, Path, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    Json,
};
use serde::Deserialize;
use server::ApiError;

use crate::{
    domain::feedback::{FeedbackRequest, Limits},
    startup::AppState,
    store::{self, Idempotency, Outcome, PublicStatus, Registered},
};

/// Register feedback from any channel.
#[utoipa::path(
    post, path = "/api/v1/feedback", request_body = FeedbackRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "same key and body → same answer, one record")),
    responses(
        (status = 201, body = Registered, description = "registered; the event is committed to the outbox"),
        (status = 200, body = Registered, description = "replay of an earlier request with the same Idempotency-Key"),
        (status = 400, description = "malformed JSON"), (status = 409, description = "Idempotency-Key reused with another body"),
        (status = 413, description = "body too large"), (status = 415, description = "not JSON"),
        (status = 422, description = "a field is invalid; `error.field` names it"),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    staff: auth::MaybeStaff,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    server::json::require_json(&headers)?;
    let body = server::json::read_body(body)?;
    let request: FeedbackRequest = server::json::parse(&body)?;
    let limits = Limits {
        settings: &state.settings.intake,
        known_sites: &state.settings.sites.known,
    };
    // Microseconds: what PostgreSQL keeps, so every copy of the time agrees.
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
    let feedback = request.validate(&limits, staff.0.is_some(), now)?;

    let key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII"))
        })
        .transpose()?;
    if key.is_some_and(|k| k.is_empty() || k.len() > 200) {
        return Err(ApiError::invalid("Idempotency-Key", "must be 1 to 200 characters"));
    }
    let idempotency = key.map(|key| Idempotency {
        key,
        request_hash: store::hash_request(&body),
    });
    let registered_by = staff.0.as_ref().map(|c| c.sub.as_str());
    let public_url = state.settings.http.public_url.as_deref().unwrap_or("");
    let outcome = store::register(
        &state.pool,
        &state.references,
        public_url,
        feedback,
        registered_by,
        idempotency,
    )
    .await?;
    match outcome {
        Outcome::Created(r) => {
            state.outbox.notify();
            metrics::counter!("feedback_registered_total").increment(1);
            tracing::info!(reference = %r.reference, "feedback registered");
            Ok((StatusCode::CREATED, Json(r)))
        }
        Outcome::Replayed(r) => Ok((StatusCode::CREATED, Json(r))),
        Outcome::KeyReused => Err(ApiError::conflict(
            "this Idempotency-Key was already used with a different request body",
        )),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// Whether feedback with this reference is registered, when and through which channel (staff): the console tells
/// "not triaged yet" from "no such reference" with it.
#[utoipa::path(
    get, path = "/api/v1/feedback/{reference}",
    params(("reference" = String, Path)),
    responses((status = 200, body = PublicStatus), (status = 401), (status = 404, description = "no such reference")),
    security(("bearer" = []))
)]
pub async fn registered(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(reference): Path<String>,
) -> Result<Json<PublicStatus>, ApiError> {
    store::registered(&state.pool, reference.trim())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("feedback {reference}")))
}

/// The customer's own view of their feedback.
#[utoipa::path(
    get, path = "/api/v1/feedback/{reference}/status",
    params(("reference" = String, Path), ("token" = String, Query)),
    responses((status = 200, body = PublicStatus), (status = 404, description = "unknown reference or wrong token"))
)]
pub async fn status(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    server::ApiQuery(q): server::ApiQuery<TokenQuery>,
) -> Result<Json<PublicStatus>, ApiError> {
    let token = q.token.ok_or_else(|| ApiError::invalid("token", "is required"))?;
    store::status(&state.pool, &reference, &token)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("feedback {reference}")))
}
