//! Test and benchmark support: real PostgreSQL databases, RabbitMQ nodes and SMTP capture, each
//! isolated per test so tests can run in parallel. `make test` starts the shared servers and sets
//! `TEST_DATABASE_URL` and `TEST_AMQP_URL`.
#![forbid(unsafe_code)]

pub mod browser;
pub mod imap;
pub mod mail;
pub mod rabbit;
pub mod services;

use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::{Connection, PgConnection};

/// The shared test servers, from the environment `make test` sets.
#[derive(Clone)]
pub struct Infra {
    pub admin_database_url: String,
    pub amqp_url: String,
    pub rabbit_node: Option<String>,
}

impl Infra {
    pub fn from_env() -> Self {
        let need = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| {
                panic!("{k} is not set: run the tests with `make test`, which starts PostgreSQL and RabbitMQ")
            })
        };
        Self {
            admin_database_url: need("TEST_DATABASE_URL"),
            amqp_url: need("TEST_AMQP_URL"),
            rabbit_node: std::env::var("TEST_RABBITMQ_NODENAME").ok(),
        }
    }

    /// A new, empty database; its URL. Names are unique per call. Each is stamped with its creation time, and
    /// those older than [`STALE_AFTER_SECS`] — left by a test that failed or never dropped its own — go first.
    pub async fn create_database(&self, label: &str) -> anyhow::Result<String> {
        let name = format!("t_{}_{}", label, unique());
        let mut conn = PgConnection::connect(&self.admin_database_url)
            .await
            .context("connecting to TEST_DATABASE_URL")?;
        drop_stale_databases(&mut conn).await;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        sqlx::query(&format!("COMMENT ON DATABASE \"{name}\" IS 'testkit created {now}'"))
            .execute(&mut conn)
            .await?;
        Ok(replace_database(&self.admin_database_url, &name))
    }

    pub async fn drop_database(&self, url: &str) {
        let Some(name) = url
            .rsplit('/')
            .next()
            .map(|s| s.split('?').next().unwrap_or(s).to_owned())
        else {
            return;
        };
        if let Ok(mut conn) = PgConnection::connect(&self.admin_database_url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

/// Test databases older than this are left-overs: no test or benchmark runs for half a day.
pub const STALE_AFTER_SECS: i64 = 12 * 3600;

/// Drops the stamped test databases older than [`STALE_AFTER_SECS`]. Best effort: another process may be dropping
/// the same ones.
async fn drop_stale_databases(conn: &mut PgConnection) {
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database
          WHERE datname LIKE 't\\_%' AND shobj_description(oid, 'pg_database') LIKE 'testkit created %'
            AND split_part(shobj_description(oid, 'pg_database'), ' ', 3)::bigint
                < extract(epoch FROM now())::bigint - $1",
    )
    .bind(STALE_AFTER_SECS)
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for name in stale {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut *conn)
            .await;
    }
}

/// A short unique token for names (databases, queue prefixes).
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// A TCP port free right now on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `check` until it returns `Some`, or fails after `timeout` with `what` in the message.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced_keeping_the_query() {
        assert_eq!(
            super::replace_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h:1/postgres", "x"),
            "postgres://u@h:1/x"
        );
    }
}
