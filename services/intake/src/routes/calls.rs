//! The phone channel (domain.md §1): the telephony system's (CTI) webhook records each call, signed
//! with HMAC-SHA256, and pre-fills the caller from the register by normalised number; an agent then
//! registers the call as feedback, received at the time the call came in.
use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, Path, State},
    http::{header::CONTENT_TYPE, HeaderMap, StatusCode},
    Json,
};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use server::ApiError;
use sha2::Sha256;
use sqlx::Row;
use utoipa::ToSchema;

use crate::{
    domain::{contact, feedback::FeedbackRequest, feedback::Limits},
    startup::AppState,
    store::{self, Idempotency, Outcome, Registered},
};

/// What a telephony provider posts (form-encoded), per call event (ringing, answered, completed…).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CtiCall {
    pub call_id: String,
    pub caller: String,
    pub callee: Option<String>,
    pub status: Option<String>,
    pub recording_url: Option<String>,
    pub transcription: Option<String>,
    /// RFC 3339 or Unix seconds; when the call started.
    pub timestamp: Option<String>,
    pub site: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub call_id: String,
    pub site: String,
    pub caller: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub recording_url: Option<String>,
    pub transcription: Option<String>,
    /// The caller as last known from the register (name, email, language, last reference).
    #[schema(value_type = Object)]
    pub customer: Value,
    pub reference: Option<String>,
}

/// `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
pub fn signature_valid(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| s.parse::<i64>().ok().and_then(|secs| DateTime::from_timestamp(secs, 0)))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// Record a call event from the telephony system.
#[utoipa::path(post, path = "/api/v1/cti/calls",
    request_body(content = CtiCall, content_type = "application/x-www-form-urlencoded"),
    params(("X-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body under cti.secret>")),
    responses((status = 201, body = CallView, description = "a new call"), (status = 200, body = CallView, description = "an update of a known call"),
               (status = 401, description = "missing or wrong signature, or a stale timestamp"), (status = 415), (status = 422)))]
pub async fn cti_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CallView>), ApiError> {
    let body = server::json::read_body(body)?;
    let cti = &state.settings.cti;
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok());
    if !signature_valid(&cti.secret, &body, signature) {
        tracing::warn!("CTI webhook refused: bad signature");
        return Err(unauthorized("the request signature (X-Signature) is missing or wrong"));
    }
    let form_encoded = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be form-encoded (application/x-www-form-urlencoded)",
        ));
    }
    let call: CtiCall = serde_urlencoded::from_bytes(&body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    let call_id = call.call_id.trim();
    if call_id.is_empty() || call_id.len() > 128 {
        return Err(ApiError::invalid("call_id", "must be 1 to 128 characters"));
    }
    if !contact::valid_phone(&call.caller) {
        return Err(ApiError::invalid("caller", "is not a phone number"));
    }
    let site = call.site.as_deref().unwrap_or(&cti.default_site).to_lowercase();
    if !state.settings.sites.is_known(&site) {
        return Err(ApiError::invalid("site", format!("unknown site `{site}`")));
    }
    let now = Utc::now();
    let started_at = match call.timestamp.as_deref() {
        None => now,
        Some(t) => parse_time(t).ok_or_else(|| ApiError::invalid("timestamp", "is not RFC 3339 or Unix seconds"))?,
    };
    if (started_at - now).num_seconds() > cti.max_skew_seconds || (now - started_at).num_hours() >= cti.max_age_hours {
        return Err(unauthorized(
            "the call's timestamp is in the future or too old (a replay?)",
        ));
    }
    let key = contact::contact_key(Some(&call.caller), None);
    let customer: Value = sqlx::query(
        "SELECT customer_name, customer_email, language, reference FROM feedback
          WHERE contact_key = $1 AND NOT anonymous ORDER BY received_at DESC LIMIT 1",
    )
    .bind(&key)
    .fetch_optional(&state.pool)
    .await?
    .map(|r| {
        json!({
            "name": r.get::<Option<String>, _>("customer_name"),
            "email": r.get::<Option<String>, _>("customer_email"),
            "language": r.get::<String, _>("language"),
            "last_reference": r.get::<String, _>("reference"),
        })
    })
    .unwrap_or_else(|| json!({}));
    let status = call.status.clone().unwrap_or_else(|| "ringing".into());
    let inserted: bool = sqlx::query_scalar(
        "INSERT INTO calls (call_id, site, caller, contact_key, callee, status, recording_url, transcription,
                            started_at, prefill)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
         ON CONFLICT (call_id) DO UPDATE SET
                status = CASE WHEN calls.status = 'completed' THEN calls.status ELSE EXCLUDED.status END,
                recording_url = coalesce(EXCLUDED.recording_url, calls.recording_url),
                transcription = coalesce(EXCLUDED.transcription, calls.transcription),
                prefill = EXCLUDED.prefill, updated_at = now()
         RETURNING (xmax = 0)",
    )
    .bind(call_id)
    .bind(&site)
    .bind(call.caller.trim())
    .bind(&key)
    .bind(&call.callee)
    .bind(&status)
    .bind(&call.recording_url)
    .bind(&call.transcription)
    .bind(started_at)
    .bind(&customer)
    .fetch_one(&state.pool)
    .await?;
    tracing::info!(call_id, %status, "call recorded");
    let view = load(&state, call_id).await?;
    Ok((if inserted { StatusCode::CREATED } else { StatusCode::OK }, Json(view)))
}

async fn load(state: &AppState, call_id: &str) -> Result<CallView, ApiError> {
    let r = sqlx::query(
        "SELECT call_id, site, caller, status, started_at, recording_url, transcription, prefill, reference
           FROM calls WHERE call_id = $1",
    )
    .bind(call_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::not_found(format!("call {call_id}")))?;
    Ok(CallView {
        call_id: r.get("call_id"),
        site: r.get("site"),
        caller: r.get("caller"),
        status: r.get("status"),
        started_at: r.get("started_at"),
        recording_url: r.get("recording_url"),
        transcription: r.get("transcription"),
        customer: r.get("prefill"),
        reference: r.get("reference"),
    })
}

/// A call, with the caller pre-filled from the register (agents).
#[utoipa::path(get, path = "/api/v1/calls/{call_id}", params(("call_id" = String, Path)),
    responses((status = 200, body = CallView), (status = 401), (status = 404)), security(("bearer" = [])))]
pub async fn get_call(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(call_id): Path<String>,
) -> Result<Json<CallView>, ApiError> {
    Ok(Json(load(&state, &call_id).await?))
}

/// Register a call as feedback (channel `phone`, received when the call came in). The body holds
/// what the agent noted: `content` (default: the transcription), optional `subject`, `customer`
/// corrections, `product`, `order`, `claim`, `adverse_reaction` as in `POST /api/v1/feedback`.
#[utoipa::path(post, path = "/api/v1/calls/{call_id}/register", params(("call_id" = String, Path)),
    request_body(content = Object), responses((status = 201, body = Registered), (status = 401), (status = 404),
    (status = 409, description = "already registered with other data"), (status = 422)), security(("bearer" = [])))]
pub async fn register_call(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(call_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    server::json::require_json(&headers)?;
    let body = server::json::read_body(body)?;
    let notes: Value = server::json::parse(&body)?;
    let call = load(&state, &call_id).await?;
    let mut customer = json!({ "phone": call.caller, "name": call.customer["name"], "email": call.customer["email"],
                               "language": call.customer["language"] });
    if let Some(given) = notes.get("customer").and_then(Value::as_object) {
        for (k, v) in given {
            customer[k] = v.clone();
        }
    }
    let mut request = json!({
        "channel": "phone", "site": call.site, "received_at": call.started_at, "customer": customer,
        "subject": notes.get("subject"),
        "content": notes.get("content").cloned().or_else(|| call.transcription.clone().map(Value::String)),
    });
    for part in ["product", "order", "claim", "adverse_reaction"] {
        if let Some(v) = notes.get(part) {
            request[part] = v.clone();
        }
    }
    let request: FeedbackRequest = server::json::parse(&serde_json::to_vec(&request).expect("serialisable"))?;
    let limits = Limits {
        settings: &state.settings.intake,
        known_sites: &state.settings.sites.known,
    };
    let feedback = request.validate(&limits, true, Utc::now())?;
    let public_url = state.settings.http.public_url.as_deref().unwrap_or("");
    // One registration per call: the call id is the idempotency key.
    let key = format!("call:{call_id}");
    let outcome = store::register(
        &state.pool,
        &state.references,
        public_url,
        feedback,
        Some(&staff.0.sub),
        Some(Idempotency {
            key: &key,
            request_hash: store::hash_request(&body),
        }),
    )
    .await?;
    let registered = match outcome {
        Outcome::Created(r) | Outcome::Replayed(r) => r,
        Outcome::KeyReused => {
            return Err(ApiError::conflict(format!(
                "call {call_id} is already registered as {}",
                call.reference.unwrap_or_default()
            )))
        }
    };
    sqlx::query("UPDATE calls SET feedback_id = $2, reference = $3, updated_at = now() WHERE call_id = $1")
        .bind(&call_id)
        .bind(registered.id)
        .bind(&registered.reference)
        .execute(&state.pool)
        .await?;
    state.outbox.notify();
    tracing::info!(call_id, reference = %registered.reference, "call registered");
    Ok((StatusCode::CREATED, Json(registered)))
}
