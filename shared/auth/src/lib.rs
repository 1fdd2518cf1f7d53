//! Staff authentication shared by every service: signed, expiring bearer tokens (HS256) that any
//! service can verify without reading triage's tables, and the roles of domain.md.
//!
//! Triage owns staff accounts and issues tokens; other services only verify them.
#![forbid(unsafe_code)]

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The shipped development secret; refused in production.
pub const DEV_SECRET: &str = "dev-only-secret-change-me-0123456789abcdef";

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Handler,
    DepartmentHead,
    QualityEngineer,
    MarketingManager,
    GeneralManager,
    ManagementRepresentative,
    Administrator,
    Auditor,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// Staff user id.
    pub sub: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub department: Option<String>,
    /// Sites the user works for; empty means all.
    pub sites: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    /// Token id, so triage can revoke a token.
    pub jti: String,
}

impl Claims {
    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }
}

#[derive(Clone)]
pub struct AuthKeys {
    encoding: Arc<EncodingKey>,
    decoding: Arc<DecodingKey>,
}

impl AuthKeys {
    pub fn new(secret: &str) -> Self {
        Self {
            encoding: Arc::new(EncodingKey::from_secret(secret.as_bytes())),
            decoding: Arc::new(DecodingKey::from_secret(secret.as_bytes())),
        }
    }

    pub fn issue(
        &self,
        sub: &str,
        name: &str,
        roles: Vec<Role>,
        department: Option<String>,
        sites: Vec<String>,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let claims = Claims {
            sub: sub.into(),
            name: name.into(),
            roles,
            department,
            sites,
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        decode::<Claims>(token, &self.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("the token is not valid")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("{0}")]
    Forbidden(String),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            AuthError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            _ => (StatusCode::UNAUTHORIZED, "unauthorized"),
        };
        if let AuthError::Forbidden(reason) = &self {
            tracing::warn!(reason, "request refused");
        }
        let body = serde_json::json!({ "error": { "code": code, "message": self.to_string() } });
        (status, Json(body)).into_response()
    }
}

/// An authenticated staff member, extracted from `Authorization: Bearer …`.
#[derive(Debug, Clone)]
pub struct Staff(pub Claims);

impl Staff {
    /// 403 with a reason unless the user holds one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), AuthError> {
        if self.0.has_any(roles) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "{action} requires one of the roles {roles:?}"
            )))
        }
    }
}

/// The token of `Authorization: Bearer …`, if any.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn bearer(parts: &Parts) -> Option<&str> {
    bearer_token(&parts.headers)
}

impl<S> FromRequestParts<S> for Staff
where
    AuthKeys: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(AuthError::Missing)?;
        AuthKeys::from_ref(state).verify(token).map(Staff)
    }
}

/// Like [`Staff`] but optional: public endpoints that give staff more (e.g. a back-dated `received_at`).
#[derive(Debug, Clone)]
pub struct MaybeStaff(pub Option<Claims>);

impl<S> FromRequestParts<S> for MaybeStaff
where
    AuthKeys: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            None => Ok(MaybeStaff(None)),
            Some(token) => AuthKeys::from_ref(state).verify(token).map(|c| MaybeStaff(Some(c))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_verifies_and_a_tampered_one_does_not() {
        let keys = AuthKeys::new("secret-a");
        let token = keys
            .issue(
                "u1",
                "Admin",
                vec![Role::Administrator],
                None,
                vec![],
                Duration::hours(1),
            )
            .unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "u1");
        assert!(claims.has_any(&[Role::Administrator]));
        assert_eq!(AuthKeys::new("secret-b").verify(&token), Err(AuthError::Invalid));
    }

    #[test]
    fn expired_token_is_refused() {
        let keys = AuthKeys::new("s");
        let token = keys
            .issue("u1", "A", vec![Role::Agent], None, vec![], Duration::hours(-1))
            .unwrap();
        assert_eq!(keys.verify(&token), Err(AuthError::Expired));
    }
}

/// `[auth]` configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub secret: String,
}
