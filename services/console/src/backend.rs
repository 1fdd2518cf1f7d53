//! The services the console calls, with the signed-in user's bearer token, and their
//! `{"error": {"code", "message", "field"?}}` answers as a typed error.
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::settings::BackendSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Intake,
    Triage,
    Notification,
    Reporting,
    Scheduler,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Intake => "intake",
            Service::Triage => "triage",
            Service::Notification => "notification",
            Service::Reporting => "reporting",
            Service::Scheduler => "scheduler",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Not reachable, timed out, or a 5xx: nothing we can do but try later.
    #[error("{} is not available", .0.name())]
    Unavailable(Service),
    /// A 4xx with the service's explanation.
    #[error("{service:?} answered {status}: {code}: {message}")]
    Refused {
        service: Service,
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
    },
    /// The answer was not what this console expects (a version mismatch).
    #[error("{name} gave an answer the console does not understand: {why}", name = .0.name(), why = .1)]
    Unexpected(Service, String),
}

impl BackendError {
    pub fn status(&self) -> Option<u16> {
        match self {
            BackendError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

#[derive(Clone)]
pub struct Backend {
    http: reqwest::Client,
    urls: BackendSettings,
}

impl Backend {
    pub fn new(urls: BackendSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(urls.timeout_ms))
            .build()
            .expect("a plain HTTP client builds");
        Self { http, urls }
    }

    pub fn url(&self, service: Service, path: &str) -> String {
        let base = match service {
            Service::Intake => &self.urls.intake,
            Service::Triage => &self.urls.triage,
            Service::Notification => &self.urls.notification,
            Service::Reporting => &self.urls.reporting,
            Service::Scheduler => &self.urls.scheduler,
        };
        format!("{}{path}", base.trim_end_matches('/'))
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        token: &str,
    ) -> Result<T, BackendError> {
        let request = self.http.get(self.url(service, path)).query(query).bearer_auth(token);
        let body = send(service, request).await?;
        serde_json::from_slice(&body).map_err(|e| BackendError::Unexpected(service, e.to_string()))
    }

    /// The body as text (CSV downloads).
    pub async fn get_text(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        token: &str,
    ) -> Result<String, BackendError> {
        let request = self.http.get(self.url(service, path)).query(query).bearer_auth(token);
        let body = send(service, request).await?;
        String::from_utf8(body).map_err(|e| BackendError::Unexpected(service, e.to_string()))
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Result<T, BackendError> {
        let mut request = self.http.post(self.url(service, path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body = send(service, request).await?;
        if body.is_empty() {
            return serde_json::from_value(Value::Null).map_err(|e| BackendError::Unexpected(service, e.to_string()));
        }
        serde_json::from_slice(&body).map_err(|e| BackendError::Unexpected(service, e.to_string()))
    }

    pub async fn patch<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        body: &Value,
        token: &str,
    ) -> Result<T, BackendError> {
        let request = self.http.patch(self.url(service, path)).json(body).bearer_auth(token);
        let body = send(service, request).await?;
        serde_json::from_slice(&body).map_err(|e| BackendError::Unexpected(service, e.to_string()))
    }

    /// A whole-document edit (the 8D and regulator reports, saved with the version they started from).
    pub async fn put<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        body: &Value,
        token: &str,
    ) -> Result<T, BackendError> {
        let request = self.http.put(self.url(service, path)).json(body).bearer_auth(token);
        let body = send(service, request).await?;
        serde_json::from_slice(&body).map_err(|e| BackendError::Unexpected(service, e.to_string()))
    }

    /// A POST with an `Idempotency-Key`: a form submitted twice registers once.
    pub async fn post_once<T: DeserializeOwned>(
        &self,
        service: Service,
        path: &str,
        body: &Value,
        token: &str,
        key: &str,
    ) -> Result<T, BackendError> {
        let request = self
            .http
            .post(self.url(service, path))
            .json(body)
            .bearer_auth(token)
            .header("idempotency-key", key);
        let body = send(service, request).await?;
        serde_json::from_slice(&body).map_err(|e| BackendError::Unexpected(service, e.to_string()))
    }

    /// A GET whose body the caller reads as it arrives (long downloads), with its own time limit; a refusal
    /// is read here as for every other call.
    pub async fn get_streamed(
        &self,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        token: &str,
        timeout: Duration,
    ) -> Result<reqwest::Response, BackendError> {
        let response = self
            .http
            .get(self.url(service, path))
            .query(query)
            .bearer_auth(token)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(service = service.name(), error = %e, "backend not reachable");
                BackendError::Unavailable(service)
            })?;
        let status = response.status().as_u16();
        if status < 400 {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(refusal(service, status, &body))
    }

    /// Whether `service` answers its liveness probe.
    pub async fn live(&self, service: Service) -> bool {
        self.http
            .get(self.url(service, "/health/live"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

async fn send(service: Service, request: reqwest::RequestBuilder) -> Result<Vec<u8>, BackendError> {
    let response = request.send().await.map_err(|e| {
        tracing::warn!(service = service.name(), error = %e, "backend not reachable");
        BackendError::Unavailable(service)
    })?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|_| BackendError::Unavailable(service))?
        .to_vec();
    if status < 400 {
        return Ok(body);
    }
    let error = refusal(service, status, &body);
    if let BackendError::Unavailable(_) = error {
        tracing::warn!(service = service.name(), status, "backend failed");
    }
    Err(error)
}

/// A 4xx with the contract's error body → `Refused`; 5xx → `Unavailable`.
pub fn refusal(service: Service, status: u16, body: &[u8]) -> BackendError {
    if status >= 500 {
        return BackendError::Unavailable(service);
    }
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    BackendError::Refused {
        service,
        status,
        code: text(&error["code"]).unwrap_or_else(|| format!("http_{status}")),
        message: text(&error["message"]).unwrap_or_default(),
        field: text(&error["field"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_body_of_the_contract_is_read() {
        let body = br#"{"error":{"code":"invalid_field","message":"must not be blank","field":"text"}}"#;
        match refusal(Service::Triage, 422, body) {
            BackendError::Refused {
                status,
                code,
                message,
                field,
                ..
            } => {
                assert_eq!(
                    (status, code.as_str(), message.as_str()),
                    (422, "invalid_field", "must not be blank")
                );
                assert_eq!(field.as_deref(), Some("text"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_errors_are_unavailable_and_odd_bodies_still_map() {
        assert!(matches!(
            refusal(Service::Reporting, 503, b"{}"),
            BackendError::Unavailable(Service::Reporting)
        ));
        let odd = refusal(Service::Triage, 404, b"not json");
        assert!(odd.is_not_found());
        assert!(matches!(odd, BackendError::Refused { ref code, .. } if code == "http_404"));
    }
}
