//! `POST /api/v1/email/inbound`: raw MIME from a mail provider (deployments that receive mail by
//! webhook instead of IMAP), signed like the CTI webhook; the same pipeline and dedup as the poller.
use axum::{
    body::Bytes,
    extract::{rejection::BytesRejection, State},
    http::{header::CONTENT_TYPE, HeaderMap, StatusCode},
    Json,
};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use server::ApiError;
use utoipa::{IntoParams, ToSchema};

use crate::{
    email::{Ingested, Source},
    routes::calls::signature_valid,
    startup::AppState,
};

/// The JSON form of the body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InboundEmail {
    /// Our name for the receiving mailbox (dedup is per mailbox); default `email.webhook_mailbox`.
    pub mailbox: Option<String>,
    /// Default `email.webhook_site`.
    pub site: Option<String>,
    /// The whole RFC 5322 message, base64.
    pub raw_base64: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboundQuery {
    /// For `message/rfc822` bodies: the mailbox name.
    pub mailbox: Option<String>,
    /// For `message/rfc822` bodies: the site.
    pub site: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct InboundResult {
    /// registered | followup | ignored | rejected | already_processed
    pub outcome: String,
    pub reference: Option<String>,
    /// Why it was ignored or rejected (auto_reply, bounce, own_message, unparseable, too_large, no_sender).
    pub reason: Option<String>,
}

/// Take one email as raw MIME.
#[utoipa::path(post, path = "/api/v1/email/inbound",
    request_body(content = InboundEmail, description = "JSON, or the raw message with content type message/rfc822"),
    params(InboundQuery, ("X-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body under email.webhook_secret>")),
    responses((status = 201, body = InboundResult, description = "registered as feedback or as a follow-up"),
               (status = 200, body = InboundResult, description = "ignored, rejected, or seen before"),
               (status = 401, description = "missing or wrong signature"), (status = 413), (status = 415), (status = 422)))]
pub async fn inbound(
    State(state): State<AppState>,
    server::ApiQuery(query): server::ApiQuery<InboundQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<InboundResult>), ApiError> {
    let body = server::json::read_body(body)?;
    let email = &state.settings.email;
    let signature = headers.get("x-signature").and_then(|v| v.to_str().ok());
    if !signature_valid(&email.webhook_secret, &body, signature) {
        tracing::warn!("email webhook refused: bad signature");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the request signature (X-Signature) is missing or wrong",
        ));
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (mailbox, site, raw) = if content_type.starts_with("message/rfc822") {
        (query.mailbox, query.site, body.to_vec())
    } else if content_type.starts_with("application/json") {
        let b: InboundEmail = server::json::parse(&body)?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b.raw_base64.trim())
            .map_err(|_| ApiError::invalid("raw_base64", "is not base64"))?;
        (b.mailbox.or(query.mailbox), b.site.or(query.site), raw)
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the message as message/rfc822, or JSON {mailbox, raw_base64}",
        ));
    };
    let mailbox = mailbox.unwrap_or_else(|| email.webhook_mailbox.clone());
    if mailbox.trim().is_empty() || mailbox.len() > 200 {
        return Err(ApiError::invalid("mailbox", "must be 1 to 200 characters"));
    }
    let site = site.unwrap_or_else(|| email.webhook_site.clone()).to_lowercase();
    if !state.settings.sites.is_known(&site) {
        return Err(ApiError::invalid("site", format!("unknown site `{site}`")));
    }
    let source = Source {
        mailbox: &mailbox,
        site: &site,
        uid: None,
        received_at: None,
    };
    let outcome = state.ingest.ingest(&source, &raw).await.map_err(|e| {
        tracing::error!(error = %e, "email webhook failed");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again later")
    })?;
    let status = if outcome.is_new_work() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let (reference, reason) = match &outcome {
        Ingested::Registered { reference } | Ingested::Followup { reference } => (Some(reference.clone()), None),
        Ingested::Ignored(r) | Ingested::Rejected(r) => (None, Some((*r).to_owned())),
        Ingested::AlreadyProcessed => (None, None),
    };
    Ok((
        status,
        Json(InboundResult {
            outcome: outcome.outcome().to_owned(),
            reference,
            reason,
        }),
    ))
}
