//! Signing in with a triage staff account, signing out, and the language switch.
use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Form,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{see_other, with_cookie};
use crate::{
    backend::{BackendError, Service},
    error::AppError,
    i18n::{self, Lang},
    render::{safe_next, AppState, Ctx, Fields},
    session::{self, Session},
};

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
    #[serde(default)]
    out: bool,
}

/// The sign-in form, with a fresh anonymous session carrying the form's CSRF token.
pub async fn form(
    State(state): State<AppState>,
    mut ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let now = chrono::Utc::now().timestamp();
    let session = match ctx.session.take() {
        Some(s) => s,
        None => Session::anonymous(now),
    };
    ctx.session = Some(session.clone());
    ctx.user = None;
    let notice = q.out.then(|| ctx.lang.text("signed_out"));
    let html = state.render(
        &ctx,
        "login.html",
        json!({ "next": safe_next(q.next.as_deref()), "notice": notice, "form": {} }),
    )?;
    Ok(with_cookie(
        html.into_response(),
        session.set_cookie(state.cookie_secret(), state.secure_cookie(), now),
    ))
}

/// Exchanges user and password for triage's token; the session then holds it.
pub async fn submit(State(state): State<AppState>, ctx: Ctx, Form(form): Form<Fields>) -> Result<Response, AppError> {
    ctx.check_csrf(&form)?;
    let next = safe_next(form.get("next"));
    let body = json!({ "user": form.get("user").unwrap_or(""), "password": form.0.iter().find(|(k, _)| k == "password").map(|(_, v)| v.as_str()).unwrap_or("") });
    let answer: Result<Value, BackendError> = state
        .backend
        .post(Service::Triage, "/api/v1/auth/login", &body, None)
        .await;
    match answer {
        Ok(v) => {
            let token = v["token"]
                .as_str()
                .ok_or_else(|| AppError::Internal("login answer without a token".into()))?;
            let now = chrono::Utc::now().timestamp();
            let lifetime = state.settings.console.session_hours * 3600;
            let session = Session::signed_in(token.to_owned(), now, lifetime);
            tracing::info!(user = %v["user"]["id"].as_str().unwrap_or("?"), "signed in to the console");
            Ok(with_cookie(
                see_other(&next),
                session.set_cookie(state.cookie_secret(), state.secure_cookie(), now),
            ))
        }
        Err(BackendError::Refused { status: 401, .. }) | Err(BackendError::Refused { status: 422, .. }) => {
            let html = state.render(
                &ctx,
                "login.html",
                json!({ "next": next, "error": ctx.lang.text("login_failed"), "form": { "user": form.get("user") } }),
            )?;
            Ok((StatusCode::UNAUTHORIZED, html).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Signs out: triage revokes the token (so a copy of the cookie is worthless too), then the session goes.
pub async fn logout(State(state): State<AppState>, ctx: Ctx, Form(form): Form<Fields>) -> Result<Response, AppError> {
    ctx.check_csrf(&form)?;
    if let Some(token) = ctx.session.as_ref().and_then(|s| s.token.as_deref()) {
        let revoked: Result<Value, BackendError> = state
            .backend
            .post(Service::Triage, "/api/v1/auth/logout", &json!({}), Some(token))
            .await;
        match revoked {
            // 401: the token had already ended; either way it no longer works.
            Ok(_) | Err(BackendError::Refused { status: 401, .. }) => {}
            // The cookie still goes: signing out never fails for the user; the token then ends at its expiry.
            Err(e) => tracing::warn!(error = %e, "the staff token could not be revoked at sign-out"),
        }
    }
    Ok(with_cookie(
        see_other("/login?out=true"),
        session::clear_cookie(state.secure_cookie()),
    ))
}

/// `GET /lang/en?next=/work`: remembers the choice for a year and goes back.
pub async fn switch_language(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let Some(lang) = Lang::parse(&tag) else {
        return AppError::NotFound.into_response();
    };
    let secure = if state.secure_cookie() { "; Secure" } else { "" };
    let cookie = HeaderValue::from_str(&format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        i18n::COOKIE,
        lang.tag()
    ))
    .expect("ASCII");
    with_cookie(see_other(&safe_next(q.next.as_deref())), cookie)
}
