//! One module per screen.
pub mod admin;
pub mod case;
pub mod dashboard;
pub mod deadlines;
pub mod eight_d;
pub mod intake;
pub mod labels;
pub mod login;
pub mod reports;
pub mod revisits;
pub mod timeline;
pub mod work;

use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Redirect, Response},
};

/// 303 to `to` (after a successful POST: a reload does not post again).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `response` with `Set-Cookie: cookie` added.
pub fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}
