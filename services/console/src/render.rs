//! What every page shares: the application state, the request context (language, session, the
//! signed-in user), form fields with their CSRF check, and rendering a template into a response
//! with the security headers.
use std::sync::Arc;

use auth::{AuthKeys, Claims, Role};
use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use minijinja::Environment;
use serde_json::{json, Map, Value};

use crate::{
    backend::Backend,
    csrf,
    error::{AppError, ClearSession, ErrorView},
    i18n::{self, Lang},
    session::{self, Session},
    settings::Settings,
};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub backend: Backend,
    pub templates: Arc<Environment<'static>>,
    pub keys: AuthKeys,
    pub tz: chrono_tz::Tz,
    pub default_lang: Lang,
    /// Report exports in progress or ready for download (this process's memory).
    pub exports: crate::exports::Exports,
}

impl AppState {
    pub fn cookie_secret(&self) -> &[u8] {
        self.settings.console.cookie_secret.as_bytes()
    }

    pub fn secure_cookie(&self) -> bool {
        self.settings.secure_cookie()
    }
}

/// The request as the pages see it. Never fails: a missing or bad session is simply absent.
pub struct Ctx {
    pub lang: Lang,
    pub session: Option<Session>,
    /// The signed-in user's verified token claims.
    pub user: Option<Claims>,
    /// Path and query of this request (the language switch comes back here).
    pub here: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Ctx::from_parts(parts, state))
    }
}

impl Ctx {
    pub fn from_parts(parts: &Parts, state: &AppState) -> Ctx {
        let headers = &parts.headers;
        let lang = Lang::negotiate(
            session::cookie(headers, i18n::COOKIE),
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
            state.default_lang,
        );
        let now = chrono::Utc::now().timestamp();
        let session =
            session::cookie(headers, session::COOKIE).and_then(|v| Session::decode(v, state.cookie_secret(), now));
        let user = session
            .as_ref()
            .and_then(|s| s.token.as_deref())
            .and_then(|t| state.keys.verify(t).ok());
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        Ctx {
            lang,
            session,
            user,
            here,
        }
    }

    /// The signed-in user and their token, or a redirect to the sign-in form.
    pub fn staff(&self) -> Result<(&Claims, &str), AppError> {
        match (&self.user, self.session.as_ref().and_then(|s| s.token.as_deref())) {
            (Some(user), Some(token)) => Ok((user, token)),
            _ => Err(AppError::NotSignedIn {
                next: self.here.clone(),
            }),
        }
    }

    pub fn token(&self) -> Result<&str, AppError> {
        self.staff().map(|(_, t)| t)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.user.as_ref().is_some_and(|u| u.has_any(roles))
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, form: &Fields) -> Result<(), AppError> {
        let expected = self.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or("");
        csrf::verify(expected, form.get(csrf::FIELD)).map_err(|e| {
            tracing::warn!(path = %self.here, reason = %e, "form refused");
            AppError::Csrf(e)
        })
    }
}

/// A submitted form (`application/x-www-form-urlencoded`), keeping repeated fields.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every field as a JSON object of strings (to show a form again as it was filled).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (k, v) in &self.0 {
            if k != csrf::FIELD && !k.contains("password") {
                map.entry(k.clone()).or_insert_with(|| Value::String(v.clone()));
            }
        }
        Value::Object(map)
    }
}

/// Roles that may use the administration screens.
pub const ADMINS: &[Role] = &[Role::Administrator];
/// Roles that may read the administration screens (auditors read only).
pub const ADMIN_READERS: &[Role] = &[Role::Administrator, Role::Auditor];

impl AppState {
    /// Renders `template` with the shared context (texts, user, CSRF token, language switch) and `extra`.
    pub fn render(&self, ctx: &Ctx, template: &str, extra: Value) -> Result<Html<String>, AppError> {
        let mut context = Map::new();
        context.insert("lang".into(), json!(ctx.lang.tag()));
        context.insert("t".into(), json!(i18n::all(ctx.lang)));
        context.insert("here".into(), json!(encode(&ctx.here)));
        context.insert(
            "csrf".into(),
            json!(ctx.session.as_ref().map(|s| s.csrf.clone()).unwrap_or_default()),
        );
        if let Some(u) = &ctx.user {
            context.insert(
                "user".into(),
                json!({ "id": u.sub, "name": u.name, "roles": u.roles, "department": u.department, "sites": u.sites }),
            );
            context.insert("is_admin".into(), json!(u.has_any(ADMINS)));
            context.insert("sees_admin".into(), json!(u.has_any(ADMIN_READERS)));
            context.insert(
                "takes_calls".into(),
                json!(u.has_any(&self.settings.console.phone_intake_roles)),
            );
            let auditor_only = u.roles.iter().all(|r| *r == Role::Auditor);
            context.insert("is_auditor_only".into(), json!(auditor_only));
            let revisits = u.has_any(&self.settings.console.revisit_roles);
            context.insert("sees_revisits".into(), json!(revisits));
            context.insert("records_revisits".into(), json!(revisits && !auditor_only));
        }
        context.insert("sites".into(), json!(self.settings.sites.known));
        if let Value::Object(extra) = extra {
            context.extend(extra);
        }
        let html = self
            .templates
            .get_template(template)
            .and_then(|t| t.render(Value::Object(context)))
            .map_err(|e| AppError::Internal(format!("template {template}: {e:#}")))?;
        Ok(Html(html))
    }
}

/// Security headers for every HTML answer; no caching of pages with personal data.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // A handler may set a narrower policy of its own (reporting's printable page).
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ));
    response
}

/// Turns an [`ErrorView`] left by a handler — or a plain-text refusal of the framework (a query, form or
/// path that does not parse, a wrong content type, a wrong method) — into the error page in the user's
/// language, and drops the session where a handler asked for it ([`ClearSession`]) with the right flags.
pub async fn render_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let ctx = Ctx::from_parts(&parts, &state);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if response.extensions().get::<ClearSession>().is_some() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, session::clear_cookie(state.secure_cookie()));
    }
    if let Some(view) = response.extensions().get::<ErrorView>().cloned() {
        return error_page(&state, &ctx, &view);
    }
    let Some(message_key) = rejection_key(&response) else {
        return response;
    };
    let status = response.status();
    // The framework's own words are for the log, not for the user.
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    tracing::info!(path = %ctx.here, status = status.as_u16(), rejection = %String::from_utf8_lossy(&body), "request refused");
    error_page(
        &state,
        &ctx,
        &ErrorView {
            status,
            message_key,
            detail: None,
        },
    )
}

/// The text key for a refusal the framework answered in plain text (its extractors' rejections and
/// "method not allowed"), or `None` for every other answer.
pub fn rejection_key(response: &Response) -> Option<&'static str> {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.starts_with("text/plain")));
    if !plain {
        return None;
    }
    match response.status() {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => Some("err_bad_request"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::LENGTH_REQUIRED => Some("err_bad_form"),
        StatusCode::PAYLOAD_TOO_LARGE => Some("err_too_large"),
        StatusCode::METHOD_NOT_ALLOWED => Some("err_method"),
        _ => None,
    }
}

pub fn error_page(state: &AppState, ctx: &Ctx, view: &ErrorView) -> Response {
    let page = state.render(
        ctx,
        "error.html",
        json!({ "message": ctx.lang.text(view.message_key), "detail": view.detail, "status": view.status.as_u16() }),
    );
    match page {
        Ok(html) => (view.status, html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong; please try again.",
            )
                .into_response()
        }
    }
}

/// Percent-encoding for values put into URLs (query values, `next`).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only same-site paths are followed after sign-in or a language switch (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/work".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/cases/X?y=1")), "/cases/X?y=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/work");
        assert_eq!(safe_next(Some("https://evil.example/")), "/work");
        assert_eq!(safe_next(Some("/\\evil")), "/work");
        assert_eq!(safe_next(None), "/work");
    }

    #[test]
    fn fields_keep_repeats_and_drop_blanks() {
        let f = Fields(vec![
            ("roles".into(), "agent".into()),
            ("roles".into(), "handler".into()),
            ("name".into(), "  ".into()),
            ("password".into(), "secret".into()),
        ]);
        assert_eq!(f.all("roles"), vec!["agent", "handler"]);
        assert_eq!(f.get("name"), None);
        assert_eq!(f.to_json().get("password"), None, "passwords are never shown again");
        assert_eq!(encode("/a b?c=ü"), "%2Fa%20b%3Fc%3D%C3%BC");
    }
}
