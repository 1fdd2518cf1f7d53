//! What every service's HTTP side and process lifecycle share: JSON errors, JSON body and query extractors
//! that name the offending field, health and metrics endpoints, and graceful shutdown.
#![forbid(unsafe_code)]

pub mod error;
pub mod health;
pub mod json;
pub mod lifecycle;
pub mod query;

pub use error::ApiError;
pub use json::ApiJson;
pub use lifecycle::{shutdown_signal, Service, Worker};
pub use query::ApiQuery;

/// Waits for the database (up to `patience`), applies the service's migrations and the bus tables.
pub async fn prepare_database(
    pool: &sqlx::PgPool,
    migrator: &sqlx::migrate::Migrator,
    patience: std::time::Duration,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let deadline = std::time::Instant::now() + patience;
    loop {
        match sqlx::query("SELECT 1").execute(pool).await {
            Ok(_) => break,
            Err(e) if std::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "database not reachable yet");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e).context("database not reachable"),
        }
    }
    migrator.run(pool).await.context("applying migrations")?;
    messaging::schema::ensure(pool)
        .await
        .context("creating outbox/inbox tables")?;
    Ok(())
}
