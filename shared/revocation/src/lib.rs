//! Which validly signed staff tokens a service must still refuse: those triage revoked (sign-out, an account
//! change) and those of deactivated accounts.
//!
//! Tokens are verified by signature everywhere (`auth`), which alone would let a signed-out or deactivated
//! user's token work at every service but triage until it expires. Triage announces revocations
//! (`staff.token_revoked`) and account changes (`staff.changed`); each service keeps them in two small tables
//! of its own database (created here, like the bus's outbox and inbox) through its own queue, and
//! [`refuse_revoked`] consults them on every request that carries a token.
#![forbid(unsafe_code)]

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use auth::{AuthKeys, Claims};
use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
    Router,
};
use chrono::{DateTime, Utc};
use contracts::{
    staff::{StaffChangedV1, StaffTokenRevokedV1},
    Event, RawEnvelope,
};
use messaging::{Bus, ConsumerGroup, Handler, HandlerError, OutboxSignal, Topology};
use serde::Deserialize;
use server::ApiError;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

const DDL: &str = r#"
CREATE TABLE IF NOT EXISTS token_accounts (
    user_id            TEXT PRIMARY KEY,
    active             BOOLEAN NOT NULL,
    tokens_valid_after TIMESTAMPTZ,
    revision           BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS token_revocations (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS token_revocations_expiry ON token_revocations (expires_at);
"#;

/// Lock key for schema set-up, shared by every replica (distinct from the bus's).
const SCHEMA_LOCK: i64 = 0x746f_6b65_6e73;

/// Creates the two tables (idempotent; replicas starting together wait on an advisory lock).
pub async fn ensure_schema(pool: &PgPool) -> Result<(), sqlx::Error> {
    messaging::schema::ensure_ddl(pool, SCHEMA_LOCK, DDL).await
}

/// `[staff]` of a service's configuration: where triage publishes staff events.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffEventsSettings {
    /// Triage's `staff.events_site` (the head office): staff events are routed under it.
    pub events_site: String,
}

/// The events a service's token queue takes.
pub const EVENT_TYPES: &[&str] = &[StaffChangedV1::TYPE, StaffTokenRevokedV1::TYPE];

/// Keeps an account's standing unless a later revision is already here (events may come out of order or twice).
pub async fn record_account(conn: &mut PgConnection, s: &StaffChangedV1) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO token_accounts (user_id, active, tokens_valid_after, revision) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET active = $2, tokens_valid_after = $3, revision = $4
          WHERE token_accounts.revision < EXCLUDED.revision",
    )
    .bind(&s.user_id)
    .bind(s.active)
    .bind(s.tokens_valid_after)
    .bind(s.revision)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a revoked token (idempotent) and forgets revocations of tokens that have expired anyway.
pub async fn record_revoked(conn: &mut PgConnection, r: &StaffTokenRevokedV1) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM token_revocations WHERE expires_at < now() - interval '1 hour'")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO token_revocations (token_sha256, user_id, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (token_sha256) DO NOTHING",
    )
    .bind(r.token_sha256.to_ascii_lowercase())
    .bind(&r.user_id)
    .bind(r.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The handler of a service's token queue.
pub struct StandingHandler;

#[async_trait]
impl Handler for StandingHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        handle(conn, event).await
    }
}

/// Records a `staff.changed` or `staff.token_revoked`; for services whose own handler also takes staff events.
pub async fn handle(conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
    match event.event_type.as_str() {
        StaffChangedV1::TYPE => Ok(record_account(conn, &event.decode::<StaffChangedV1>()?.data).await?),
        StaffTokenRevokedV1::TYPE => Ok(record_revoked(conn, &event.decode::<StaffTokenRevokedV1>()?.data).await?),
        other => Err(HandlerError::Malformed(format!(
            "the token queue does not take {other}"
        ))),
    }
}

/// What a service does at start-up: the tables created and its token queue declared. Run the returned group
/// alongside the service's other work.
pub async fn prepare(
    service: &str,
    bus: Arc<Bus>,
    pool: &PgPool,
    events_site: &str,
    outbox: OutboxSignal,
) -> anyhow::Result<ConsumerGroup> {
    ensure_schema(pool).await.context("creating the token tables")?;
    // `<service>.tokens.<events_site>`, which every replica shares: the tables are in the database, so whichever
    // replica records a revocation, all refuse the token.
    let group = ConsumerGroup {
        bus,
        pool: pool.clone(),
        topology: Topology {
            service: format!("{service}.tokens"),
            sites: vec![events_site.to_owned()],
            event_types: EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        },
        handler: Arc::new(StandingHandler),
        outbox,
    };
    group.declare().await.context("declaring the token queue")?;
    Ok(group)
}

/// `router` with [`refuse_revoked`] in front of every route, asking `check`.
pub fn guarded(router: Router, keys: AuthKeys, check: impl StandingCheck) -> Router {
    let guard = TokenGuard {
        keys,
        check: Arc::new(check),
    };
    router.layer(axum::middleware::from_fn_with_state(guard, refuse_revoked))
}

/// Lower-case hex SHA-256 of a bearer token: how revocations name tokens.
pub fn token_sha256(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

#[derive(Debug, PartialEq)]
pub enum Standing {
    Accepted,
    Refused(&'static str),
}

pub const DEACTIVATED: &str = "this staff account has been deactivated";
pub const CHANGED: &str = "the staff account was changed after this token was issued; sign in again";
pub const REVOKED: &str = "this token was signed out or revoked; sign in again";

/// Whether a validly signed token still stands here. Accounts this service has not heard of are accepted.
pub async fn standing(pool: &PgPool, token: &str, claims: &Claims) -> Result<Standing, sqlx::Error> {
    let (revoked, active, valid_after): (bool, Option<bool>, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM token_revocations WHERE token_sha256 = $1), a.active, a.tokens_valid_after
           FROM (SELECT) one LEFT JOIN token_accounts a ON a.user_id = $2",
    )
    .bind(token_sha256(token))
    .bind(&claims.sub)
    .fetch_one(pool)
    .await?;
    Ok(decide(revoked, active, valid_after, claims.iat))
}

/// `iat` has whole seconds: a token of the very second of the change is accepted, so that signing in again
/// right after a change works; triage announces each token it issued and revoked by its hash anyway.
fn decide(revoked: bool, active: Option<bool>, valid_after: Option<DateTime<Utc>>, iat: i64) -> Standing {
    if revoked {
        Standing::Refused(REVOKED)
    } else if active == Some(false) {
        Standing::Refused(DEACTIVATED)
    } else if valid_after.is_some_and(|after| iat < after.timestamp()) {
        Standing::Refused(CHANGED)
    } else {
        Standing::Accepted
    }
}

/// Where a service learns whether a validly signed token still stands: the announced revocations here
/// ([`Announced`]), or triage's own staff tables.
#[async_trait]
pub trait StandingCheck: Send + Sync + 'static {
    async fn standing(&self, token: &str, claims: &Claims) -> Result<Standing, sqlx::Error>;
}

/// The revocations and account changes triage announced, as this service's token queue recorded them.
pub struct Announced(pub PgPool);

#[async_trait]
impl StandingCheck for Announced {
    async fn standing(&self, token: &str, claims: &Claims) -> Result<Standing, sqlx::Error> {
        standing(&self.0, token, claims).await
    }
}

/// What [`refuse_revoked`] needs.
#[derive(Clone)]
pub struct TokenGuard {
    pub keys: AuthKeys,
    pub check: Arc<dyn StandingCheck>,
}

/// Middleware: a bearer token that verifies must also still stand, or the request gets 401 with the reason
/// (the console then sends the user to sign in). Requests without a valid signature pass on to the handlers'
/// own extractors, which refuse them as before.
pub async fn refuse_revoked(State(guard): State<TokenGuard>, request: Request, next: Next) -> Response {
    if let Some(token) = auth::bearer_token(request.headers()) {
        if let Ok(claims) = guard.keys.verify(token) {
            match guard.check.standing(token, &claims).await {
                Ok(Standing::Accepted) => {}
                Ok(Standing::Refused(reason)) => {
                    tracing::warn!(user = %claims.sub, reason, "token refused");
                    return ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", reason).into_response();
                }
                Err(e) => return ApiError::from(e).into_response(),
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn revoked_deactivated_and_older_than_the_change_are_refused() {
        let change = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap() + chrono::Duration::milliseconds(500);
        let second = change.timestamp();
        assert_eq!(decide(false, None, None, second), Standing::Accepted);
        assert_eq!(decide(true, Some(true), None, second), Standing::Refused(REVOKED));
        assert_eq!(decide(false, Some(false), None, second), Standing::Refused(DEACTIVATED));
        assert_eq!(
            decide(false, Some(true), Some(change), second - 1),
            Standing::Refused(CHANGED)
        );
        // Signed in again within the second of the change.
        assert_eq!(decide(false, Some(true), Some(change), second), Standing::Accepted);
        assert_eq!(decide(false, Some(true), Some(change), second + 60), Standing::Accepted);
    }

    #[test]
    fn token_hash_is_lower_case_hex_sha256() {
        assert_eq!(
            token_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
