//! Transactional outbox: events are rows written in the same transaction as the business change,
//! and a relay publishes them with confirms, marking a row published only on the broker's ack.
use std::sync::Arc;
use std::time::Duration;

use contracts::{Envelope, Event};
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    publisher::{ConfirmedPublisher, OutgoingMessage, PublishOutcome},
    Bus, BusError,
};

/// Adds an event to the outbox inside the caller's transaction.
pub async fn enqueue<T: Event>(conn: &mut PgConnection, event: &Envelope<T>) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_value(event).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO outbox (id, event_type, routing_key, correlation_id, payload) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(event.id)
    .bind(&event.event_type)
    .bind(event.routing_key())
    .bind(event.correlation_id)
    .bind(payload)
    .execute(conn)
    .await?;
    Ok(())
}

/// Wakes the relay after a commit that added outbox rows, so events leave at once instead of at
/// the next poll.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

pub struct OutboxRelay {
    pool: PgPool,
    bus: Arc<Bus>,
    signal: OutboxSignal,
}

struct Row_ {
    seq: i64,
    message: OutgoingMessage,
}

impl OutboxRelay {
    pub fn new(pool: PgPool, bus: Arc<Bus>, signal: OutboxSignal) -> Self {
        Self { pool, bus, signal }
    }

    /// Relays until `shutdown`, then makes one last pass so nothing committed is left behind.
    pub async fn run(self, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.bus.settings().relay_poll_ms);
        let mut publisher: Option<ConfirmedPublisher> = None;
        let mut failures = 0u32;
        loop {
            let stopping = shutdown.is_cancelled();
            // Keep a confirmed channel open even when idle: the connection is then re-established
            // as soon as the broker is back, and `/health/ready` tells the truth.
            let ensured = match &publisher {
                Some(p) if p.is_open() => Ok(()),
                _ if stopping && !self.bus.is_connected() => Err(BusError::ShuttingDown),
                _ => ConfirmedPublisher::open(&self.bus).await.map(|p| publisher = Some(p)),
            };
            let pass = match ensured {
                Ok(()) => self.drain(&mut publisher, &shutdown).await,
                Err(e) => Err(e),
            };
            match pass {
                Ok(()) => failures = 0,
                Err(e) => {
                    publisher = None;
                    failures += 1;
                    tracing::warn!(error = %e, "outbox relay pass failed; will retry");
                    if stopping {
                        break;
                    }
                    let delay = crate::settings::backoff(100, self.bus.settings().reconnect_max_ms, failures);
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(delay) => {}
                    }
                    continue;
                }
            }
            if stopping {
                break;
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = self.signal.0.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
        if let Some(p) = publisher {
            p.close().await;
        }
    }

    /// Publishes batches until no due row is left.
    async fn drain(
        &self,
        publisher: &mut Option<ConfirmedPublisher>,
        shutdown: &CancellationToken,
    ) -> Result<(), BusError> {
        let batch = self.bus.settings().relay_batch;
        loop {
            let published = self.relay_batch(publisher, batch, shutdown).await?;
            if published < batch as usize {
                return Ok(());
            }
        }
    }

    async fn relay_batch(
        &self,
        publisher: &mut Option<ConfirmedPublisher>,
        limit: i64,
        shutdown: &CancellationToken,
    ) -> Result<usize, BusError> {
        let mut tx = self.pool.begin().await?;
        // SKIP LOCKED: replicas share the outbox without publishing a row twice at the same time.
        let rows = sqlx::query(
            "SELECT seq, id, event_type, routing_key, correlation_id, payload::text AS payload
               FROM outbox
              WHERE published_at IS NULL AND next_attempt_at <= now()
              ORDER BY seq
              LIMIT $1
              FOR UPDATE SKIP LOCKED",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let rows: Vec<Row_> = rows
            .into_iter()
            .map(|r| Row_ {
                seq: r.get("seq"),
                message: OutgoingMessage {
                    message_id: r.get("id"),
                    event_type: r.get("event_type"),
                    routing_key: r.get("routing_key"),
                    correlation_id: r.get("correlation_id"),
                    payload: r.get::<String, _>("payload").into_bytes(),
                },
            })
            .collect();

        if publisher.as_ref().is_none_or(|p| !p.is_open()) {
            if shutdown.is_cancelled() && !self.bus.is_connected() {
                return Err(BusError::ShuttingDown);
            }
            *publisher = Some(ConfirmedPublisher::open(&self.bus).await?);
        }
        let messages: Vec<OutgoingMessage> = rows.iter().map(|r| r.message.clone()).collect();
        let outcomes = publisher
            .as_ref()
            .expect("publisher opened above")
            .publish_batch(&messages)
            .await?;

        let mut confirmed = Vec::new();
        let mut failed = Vec::new();
        for (row, outcome) in rows.iter().zip(&outcomes) {
            match outcome {
                PublishOutcome::Confirmed => confirmed.push(row.seq),
                other => {
                    tracing::warn!(event_id = %row.message.message_id, routing_key = %row.message.routing_key,
                        outcome = ?other, "event not accepted by the broker; will retry");
                    failed.push((row.seq, format!("{other:?}")));
                }
            }
        }
        sqlx::query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE seq = ANY($1)")
            .bind(&confirmed)
            .execute(&mut *tx)
            .await?;
        for (seq, error) in &failed {
            // Unroutable or nacked: kept, retried later with back-off, never dropped.
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                        next_attempt_at = now() + least(interval '1 minute', interval '200 milliseconds' * power(2, least(attempts, 10)))
                  WHERE seq = $1",
            )
            .bind(seq)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        metrics::counter!("outbox_published_total").increment(confirmed.len() as u64);
        if !failed.is_empty() {
            metrics::counter!("outbox_publish_failures_total").increment(failed.len() as u64);
        }
        Ok(rows.len())
    }
}

/// Convenience for tests and tools: how many events are still waiting to leave.
pub async fn pending_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(pool)
        .await
}
