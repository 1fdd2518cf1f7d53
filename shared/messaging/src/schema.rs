//! The outbox and inbox tables, which every service's database has.
//!
//! The bus owns these tables, not the service, so they are created here (idempotently, under an
//! advisory lock so replicas starting together do not race) rather than in each service's migrations.
use sqlx::PgPool;

const DDL: &str = r#"
CREATE TABLE IF NOT EXISTS outbox (
    seq             BIGSERIAL PRIMARY KEY,
    id              UUID NOT NULL UNIQUE,
    event_type      TEXT NOT NULL,
    routing_key     TEXT NOT NULL,
    correlation_id  UUID,
    payload         JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at    TIMESTAMPTZ,
    attempts        INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE TABLE IF NOT EXISTS inbox (
    message_id   UUID PRIMARY KEY,
    queue        TEXT NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#;

/// Lock key for schema set-up: an arbitrary constant shared by every replica.
const SCHEMA_LOCK: i64 = 0x6f75_7462_6f78;

pub async fn ensure(pool: &PgPool) -> Result<(), sqlx::Error> {
    ensure_ddl(pool, SCHEMA_LOCK, DDL).await
}

/// Runs idempotent `ddl` (`CREATE … IF NOT EXISTS`) under the advisory lock `lock`: for tables a shared crate
/// owns in every service's database, so that replicas starting together do not race.
pub async fn ensure_ddl(pool: &PgPool, lock: i64, ddl: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(ddl).execute(&mut *tx).await?;
    tx.commit().await
}
