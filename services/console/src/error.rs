//! One error type for every page, and its one mapping to what the user sees: a sentence in their
//! language (plus the service's own explanation where it helps), never a stack trace. A handler's
//! error becomes a bare response carrying an [`ErrorView`]; the `render_errors` layer turns it into
//! the HTML error page in the user's language.
use axum::{
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::{backend::BackendError, csrf::CsrfError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session (or the token expired): back to the sign-in form, then to `next`.
    #[error("not signed in")]
    NotSignedIn { next: String },
    #[error(transparent)]
    Csrf(#[from] CsrfError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("the form could not be read: {0}")]
    BadForm(String),
    #[error("not found")]
    NotFound,
    #[error("only {0} may use this page")]
    Forbidden(&'static str),
    #[error("{0}")]
    Internal(String),
}

/// Marks a response whose session must be dropped; the `render_errors` layer, which knows whether the
/// cookie is `Secure`, sets the clearing cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearSession;

/// What the error page shows: a text key of `i18n`, and the backend's explanation when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorView {
    pub status: StatusCode,
    pub message_key: &'static str,
    pub detail: Option<String>,
}

impl AppError {
    /// The user-facing view, or `None` when the answer is a redirect to sign in.
    pub fn view(&self) -> Option<ErrorView> {
        let view = |status, message_key, detail: Option<String>| {
            Some(ErrorView {
                status,
                message_key,
                detail: detail.filter(|d| !d.is_empty()),
            })
        };
        match self {
            AppError::NotSignedIn { .. } => None,
            AppError::Csrf(_) => view(StatusCode::FORBIDDEN, "err_csrf", None),
            AppError::BadForm(why) => view(StatusCode::BAD_REQUEST, "err_bad_form", Some(why.clone())),
            AppError::NotFound => view(StatusCode::NOT_FOUND, "err_not_found", None),
            AppError::Forbidden(_) => view(StatusCode::FORBIDDEN, "err_forbidden", None),
            AppError::Internal(_) => view(StatusCode::INTERNAL_SERVER_ERROR, "err_internal", None),
            AppError::Backend(e) => match e {
                BackendError::Unavailable(_) => view(StatusCode::SERVICE_UNAVAILABLE, "err_unavailable", None),
                BackendError::Unexpected(..) => view(StatusCode::BAD_GATEWAY, "err_internal", None),
                BackendError::Refused {
                    status, message, field, ..
                } => {
                    let detail = match field {
                        Some(f) if !message.starts_with(f.as_str()) => format!("{f}: {message}"),
                        _ => message.clone(),
                    };
                    match status {
                        401 => None,
                        403 => view(StatusCode::FORBIDDEN, "err_forbidden", Some(detail)),
                        404 => view(StatusCode::NOT_FOUND, "err_not_found", Some(detail)),
                        409 => view(StatusCode::CONFLICT, "err_conflict", Some(detail)),
                        _ => view(StatusCode::UNPROCESSABLE_ENTITY, "err_invalid", Some(detail)),
                    }
                }
            },
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(why) => tracing::error!(error = %why, "page failed"),
            AppError::Backend(BackendError::Unexpected(service, why)) => {
                tracing::error!(service = service.name(), error = %why, "unexpected backend answer")
            }
            _ => {}
        }
        match self.view() {
            Some(view) => {
                let mut response = view.status.into_response();
                response.extensions_mut().insert(view);
                response
            }
            None => {
                let next = match self {
                    AppError::NotSignedIn { next } => next,
                    _ => "/".to_owned(),
                };
                let mut response =
                    Redirect::to(&format!("/login?next={}", crate::render::encode(&next))).into_response();
                // An expired token: drop the session too.
                response.extensions_mut().insert(ClearSession);
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Service;

    fn refused(status: u16, message: &str, field: Option<&str>) -> AppError {
        AppError::Backend(BackendError::Refused {
            service: Service::Triage,
            status,
            code: "x".into(),
            message: message.into(),
            field: field.map(Into::into),
        })
    }

    #[test]
    fn backend_answers_become_sentences_not_traces() {
        let v = refused(403, "close requires one of the roles department_head", None)
            .view()
            .unwrap();
        assert_eq!(v.status, StatusCode::FORBIDDEN);
        assert_eq!(v.message_key, "err_forbidden");
        assert_eq!(
            v.detail.as_deref(),
            Some("close requires one of the roles department_head")
        );
        let v = refused(422, "must not be blank", Some("text")).view().unwrap();
        assert_eq!(
            (v.message_key, v.detail.as_deref()),
            ("err_invalid", Some("text: must not be blank"))
        );
        assert_eq!(
            refused(409, "cannot close a case that is new", None)
                .view()
                .unwrap()
                .message_key,
            "err_conflict"
        );
        assert_eq!(
            AppError::Backend(BackendError::Unavailable(Service::Scheduler))
                .view()
                .unwrap()
                .message_key,
            "err_unavailable"
        );
        let internal = AppError::Backend(BackendError::Unexpected(Service::Triage, "missing field `id`".into()));
        assert_eq!(internal.view().unwrap().detail, None, "no internals shown");
    }

    #[test]
    fn an_expired_token_sends_the_user_to_sign_in() {
        assert_eq!(refused(401, "the token has expired", None).view(), None);
        let r = AppError::NotSignedIn {
            next: "/cases/X-1".into(),
        }
        .into_response();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[axum::http::header::LOCATION], "/login?next=%2Fcases%2FX-1");
        assert_eq!(r.extensions().get::<ClearSession>(), Some(&ClearSession));
        assert_eq!(
            AppError::from(CsrfError::Missing).into_response().status(),
            StatusCode::FORBIDDEN
        );
    }
}
