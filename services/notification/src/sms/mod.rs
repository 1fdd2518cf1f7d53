//! SMS through an HTTP gateway, behind one interface with a module per provider's request format.
//! Which provider is configured in `[sms]`; every provider's answer is classified the same way:
//! HTTP 429 (honouring `Retry-After`), 5xx and timeouts are transient, other 4xx permanent.
pub mod aliyun;
pub mod channel;
pub mod segments;
pub mod twilio;
pub mod webhook;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::settings::{SmsProviderKind, SmsSettings};

/// One SMS to send.
#[derive(Debug, Clone)]
pub struct SmsMessage {
    pub delivery_id: Uuid,
    /// The phone number as given (`13800000000`, `+8613800000000`).
    pub to: String,
    /// The rendered text, already cut to the configured number of parts.
    pub text: String,
    /// The template name, for gateways that send registered templates (Aliyun template codes).
    pub template: String,
    /// The template's variables, for those gateways.
    pub vars: Value,
}

/// A request as a provider builds it: pure, so its exact format and signature can be tested.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SmsError {
    #[error("transient: {error}")]
    Transient {
        error: String,
        retry_after: Option<Duration>,
    },
    #[error("permanent: {0}")]
    Permanent(String),
}

pub trait SmsProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// The gateway request for `m` at `now` (timestamps and nonces are part of some signatures).
    fn request(&self, m: &SmsMessage, now: DateTime<Utc>, nonce: Uuid) -> Result<HttpRequest, SmsError>;
    /// The provider's message id from a 2xx answer, or an error when the body says it failed.
    fn accepted(&self, body: &[u8]) -> Result<String, SmsError>;
}

/// The configured provider, or `None` when SMS is switched off.
pub fn provider(settings: &SmsSettings) -> Option<Box<dyn SmsProvider>> {
    match settings.provider {
        SmsProviderKind::None => None,
        SmsProviderKind::Twilio => Some(Box::new(twilio::Twilio(settings.twilio.clone()))),
        SmsProviderKind::Aliyun => Some(Box::new(aliyun::Aliyun(settings.aliyun.clone()))),
        SmsProviderKind::Webhook => Some(Box::new(webhook::Webhook(settings.webhook.clone()))),
    }
}

/// Sends `m` through `provider` with `http` (whose timeout bounds a slow gateway).
pub async fn send(provider: &dyn SmsProvider, http: &reqwest::Client, m: &SmsMessage) -> Result<String, SmsError> {
    let r = provider.request(m, Utc::now(), Uuid::new_v4())?;
    let mut builder = http.request(r.method, &r.url).body(r.body);
    for (k, v) in &r.headers {
        builder = builder.header(k, v);
    }
    let response = builder.send().await.map_err(|e| SmsError::Transient {
        error: format!("{}: {e}", provider.name()),
        retry_after: None,
    })?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, Utc::now()));
    let body = response.bytes().await.map_err(|e| SmsError::Transient {
        error: format!("{}: reading the answer: {e}", provider.name()),
        retry_after: None,
    })?;
    classify(status.as_u16(), retry_after, &body).map_err(|e| prefix(provider.name(), e))?;
    provider.accepted(&body).map_err(|e| prefix(provider.name(), e))
}

fn prefix(name: &str, e: SmsError) -> SmsError {
    match e {
        SmsError::Transient { error, retry_after } => SmsError::Transient {
            error: format!("{name}: {error}"),
            retry_after,
        },
        SmsError::Permanent(error) => SmsError::Permanent(format!("{name}: {error}")),
    }
}

/// HTTP status → outcome: 2xx ok; 408, 429 and 5xx worth retrying; any other 4xx will never work.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Result<(), SmsError> {
    // The start of the answer is useful in the log; gateways do not echo phone numbers in errors.
    let excerpt: String = String::from_utf8_lossy(body).chars().take(200).collect();
    match status {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(SmsError::Transient {
            error: format!("HTTP {status} {excerpt}"),
            retry_after,
        }),
        _ => Err(SmsError::Permanent(format!("HTTP {status} {excerpt}"))),
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or_default())
}

/// RFC 3986 percent-encoding (unreserved characters kept, everything else `%XX`, space as `%20`):
/// what the signed gateway APIs expect.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_and_retry_after_is_read_in_both_forms() {
        assert_eq!(classify(201, None, b""), Ok(()));
        let wait = Some(Duration::from_secs(3));
        assert!(
            matches!(classify(429, wait, b"slow down"), Err(SmsError::Transient { retry_after, .. }) if retry_after == wait)
        );
        assert!(matches!(classify(503, None, b""), Err(SmsError::Transient { .. })));
        assert!(matches!(classify(400, None, b"bad number"), Err(SmsError::Permanent(e)) if e.contains("bad number")));
        assert!(matches!(classify(401, None, b""), Err(SmsError::Permanent(_))));
        let now: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Mon, 23 Nov 2026 08:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn percent_encoding_is_rfc3986() {
        assert_eq!(percent_encode("a b*~+/:"), "a%20b%2A~%2B%2F%3A");
        assert_eq!(percent_encode("阿"), "%E9%98%BF");
    }
}
