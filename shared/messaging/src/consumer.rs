//! Consumers: bounded prefetch, work and inbox row committed together, ack after commit.
//!
//! - A body that is not an envelope goes to the dead-letter queue at once (`reject`, no requeue).
//! - `HandlerError::Malformed` (data that does not fit its contract) likewise.
//! - `HandlerError::Transient` is retried with back-off; after `max_attempts` it is dead-lettered.
//! - A redelivered message whose id is already in the inbox is acked without running the handler.
//! - Deliveries already waiting are handled together, up to `batch_max`, in one transaction.
//! - The broker's `x-delivery-limit` catches a message that kills the process before it can count.
use std::sync::Arc;

use async_trait::async_trait;
use contracts::RawEnvelope;
use futures::{FutureExt, StreamExt};
use lapin::{
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
    },
    types::{AMQPValue, FieldTable},
};
use sqlx::{PgConnection, PgPool};
use tokio::{sync::Semaphore, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    outbox::OutboxSignal,
    topology::{declare_queue, QueueSpec},
    Bus, BusError, Topology,
};

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event cannot be handled, now or ever: dead-letter it.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// Something that may work next time (database, a dependency).
    #[error(transparent)]
    Transient(#[from] anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        HandlerError::Transient(e.into())
    }
}

impl From<contracts::envelope::DecodeError> for HandlerError {
    fn from(e: contracts::envelope::DecodeError) -> Self {
        HandlerError::Malformed(e.to_string())
    }
}

/// A service's reaction to events. Runs inside the transaction that also records the inbox row;
/// write business rows and outbox rows through `conn` and nothing else.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError>;
}

/// All the consumers of one service: one per queue (per served site).
pub struct ConsumerGroup {
    pub bus: Arc<Bus>,
    pub pool: PgPool,
    pub topology: Topology,
    pub handler: Arc<dyn Handler>,
    /// Woken after each commit, so events the handler enqueued leave at once.
    pub outbox: OutboxSignal,
}

impl ConsumerGroup {
    /// Declares the topology (so producers' events have somewhere to go even before the first
    /// delivery) and runs every queue's consumer until `shutdown`, draining in-flight work.
    pub async fn run(self, shutdown: CancellationToken) {
        let shared = Arc::new(self);
        let mut tasks = JoinSet::new();
        for spec in shared.topology.queues(shared.bus.settings()) {
            let this = shared.clone();
            let shutdown = shutdown.clone();
            tasks.spawn(async move { this.consume_queue(spec, shutdown).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Declares every queue once; services call this at start-up before reporting ready.
    pub async fn declare(&self) -> Result<(), BusError> {
        let channel = self.bus.channel().await?;
        for spec in self.topology.queues(self.bus.settings()) {
            declare_queue(&channel, self.bus.settings(), &spec).await?;
        }
        let _ = channel.close(200, "declared".into()).await;
        Ok(())
    }

    async fn consume_queue(self: Arc<Self>, spec: QueueSpec, shutdown: CancellationToken) {
        let settings = self.bus.settings().clone();
        let limit = Arc::new(Semaphore::new(settings.handler_concurrency.max(1)));
        let mut in_flight = JoinSet::new();
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let channel = match self.bus.channel_with_retry(&shutdown).await {
                Ok(c) => c,
                Err(_) => break,
            };
            let started = async {
                declare_queue(&channel, &settings, &spec).await?;
                channel.basic_qos(settings.prefetch, BasicQosOptions::default()).await?;
                let consumer = channel
                    .basic_consume(
                        spec.name.clone().into(),
                        "".into(),
                        BasicConsumeOptions::default(),
                        FieldTable::default(),
                    )
                    .await?;
                Ok::<_, BusError>(consumer)
            }
            .await;
            let mut consumer = match started {
                Ok(c) => c,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(queue = %spec.name, error = %e, "cannot start consuming; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(crate::settings::backoff(100, settings.reconnect_max_ms, failures)) => continue,
                    }
                }
            };
            failures = 0;
            let unsettled = Unsettled::default();
            tracing::info!(queue = %spec.name, "consuming");
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => {
                        let _ = channel.basic_cancel(consumer.tag(), BasicCancelOptions::default()).await;
                        break;
                    }
                    next = consumer.next() => match next {
                        Some(Ok(first)) => {
                            let permit = limit.clone().acquire_owned().await.expect("semaphore never closed");
                            // Take whatever else is already here, up to a batch: one transaction and
                            // one commit for all of them.
                            let mut batch = vec![first];
                            let mut lost = false;
                            while batch.len() < settings.batch_max.max(1) {
                                match consumer.next().now_or_never() {
                                    Some(Some(Ok(d))) => batch.push(d),
                                    Some(Some(Err(_))) | Some(None) => { lost = true; break; }
                                    None => break,
                                }
                            }
                            unsettled.0.lock().await.extend(batch.iter().map(|d| d.delivery_tag));
                            let this = self.clone();
                            let queue = spec.name.clone();
                            let unsettled = unsettled.clone();
                            in_flight.spawn(async move {
                                this.process_batch(&queue, batch, &unsettled).await;
                                drop(permit);
                            });
                            // Reap finished tasks so the set does not grow without bound.
                            while in_flight.try_join_next().is_some() {}
                            if lost {
                                tracing::warn!(queue = %spec.name, "consumer lost its channel; reconnecting");
                                break;
                            }
                        }
                        Some(Err(e)) => {
                            tracing::warn!(queue = %spec.name, error = %e, "consumer lost its channel; reconnecting");
                            break;
                        }
                        None => {
                            tracing::warn!(queue = %spec.name, "consumer stream ended; reconnecting");
                            break;
                        }
                    }
                }
            }
            // Finish what was started before consuming again (or stopping).
            while in_flight.join_next().await.is_some() {}
            let _ = channel.close(200, "bye".into()).await;
        }
        while in_flight.join_next().await.is_some() {}
    }

    /// Handles a batch in one transaction; if any handler in it fails, the transaction is rolled
    /// back and each message is handled on its own, so retries and dead-lettering stay per message.
    async fn process_batch(&self, queue: &str, batch: Vec<Delivery>, unsettled: &Unsettled) {
        let mut parsed = Vec::with_capacity(batch.len());
        for delivery in batch {
            if let Some(envelope) = parse(queue, &delivery).await {
                parsed.push((delivery, envelope));
            } else {
                unsettled.0.lock().await.remove(&delivery.delivery_tag);
            }
        }
        if parsed.len() > 1 {
            let envelopes: Vec<&RawEnvelope> = parsed.iter().map(|(_, e)| e).collect();
            match self.handle_together(queue, &envelopes).await {
                Ok(fresh) => {
                    let deliveries: Vec<&Delivery> = parsed.iter().map(|(d, _)| d).collect();
                    unsettled.ack(&deliveries).await;
                    metrics::counter!("bus_consumed_total", "queue" => queue.to_owned(), "outcome" => "handled")
                        .increment(fresh as u64);
                    metrics::counter!("bus_consumed_total", "queue" => queue.to_owned(), "outcome" => "duplicate")
                        .increment((parsed.len() - fresh) as u64);
                    return;
                }
                Err(e) => {
                    tracing::debug!(queue, error = %e, size = parsed.len(), "batch failed; handling one by one");
                }
            }
        }
        for (delivery, envelope) in parsed {
            let tag = delivery.delivery_tag;
            self.process(queue, delivery, envelope).await;
            unsettled.0.lock().await.remove(&tag);
        }
    }

    /// All envelopes, their inbox rows and their handlers in one transaction. Returns how many were new.
    async fn handle_together(&self, queue: &str, envelopes: &[&RawEnvelope]) -> Result<usize, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let mut fresh = 0;
        for envelope in envelopes {
            let new = sqlx::query("INSERT INTO inbox (message_id, queue) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(envelope.id)
                .bind(queue)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if new {
                self.handler.handle(&mut tx, envelope).await?;
                fresh += 1;
            }
        }
        tx.commit().await?;
        self.outbox.notify();
        Ok(fresh)
    }

    async fn process(&self, queue: &str, delivery: Delivery, envelope: RawEnvelope) {
        let settings = self.bus.settings();
        let attempt = delivery_count(delivery.properties.headers().as_ref());
        match self.handle_once(queue, &envelope).await {
            Ok(fresh) => {
                if delivery.acker.ack(BasicAckOptions::default()).await.is_err() {
                    // The channel died after our commit: the broker will redeliver and the inbox
                    // will recognise the message.
                    tracing::debug!(queue, event_id = %envelope.id, "ack failed after commit");
                }
                let outcome = if fresh { "handled" } else { "duplicate" };
                metrics::counter!("bus_consumed_total", "queue" => queue.to_owned(), "outcome" => outcome).increment(1);
            }
            Err(HandlerError::Malformed(reason)) => {
                tracing::warn!(queue, event_id = %envelope.id, event_type = %envelope.event_type, %reason,
                    "event does not fit its contract; dead-lettering");
                metrics::counter!("bus_dead_lettered_total", "queue" => queue.to_owned(), "reason" => "malformed")
                    .increment(1);
                let _ = delivery.acker.reject(BasicRejectOptions { requeue: false }).await;
            }
            Err(HandlerError::Transient(e)) => {
                if attempt + 1 >= settings.max_attempts {
                    tracing::error!(queue, event_id = %envelope.id, attempt, error = %e,
                        "handler kept failing; dead-lettering");
                    metrics::counter!("bus_dead_lettered_total", "queue" => queue.to_owned(), "reason" => "retries")
                        .increment(1);
                    let _ = delivery.acker.reject(BasicRejectOptions { requeue: false }).await;
                } else {
                    let delay = settings.retry_delay(attempt);
                    tracing::warn!(queue, event_id = %envelope.id, attempt, retry_in_ms = delay.as_millis() as u64,
                        error = %e, "handler failed; will retry");
                    tokio::time::sleep(delay).await;
                    let _ = delivery
                        .acker
                        .nack(BasicNackOptions {
                            requeue: true,
                            ..Default::default()
                        })
                        .await;
                }
            }
        }
    }

    /// Runs the handler and the inbox insert in one transaction. `Ok(false)`: already handled.
    async fn handle_once(&self, queue: &str, envelope: &RawEnvelope) -> Result<bool, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let fresh = sqlx::query("INSERT INTO inbox (message_id, queue) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(envelope.id)
            .bind(queue)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !fresh {
            tx.rollback().await?;
            return Ok(false);
        }
        self.handler.handle(&mut tx, envelope).await?;
        tx.commit().await?;
        self.outbox.notify();
        Ok(true)
    }
}

/// Delivery tags received on the current channel and not yet acked, nacked or rejected.
///
/// A committed batch is acked with a single `multiple` ack (one settle command for the quorum queue
/// instead of one per message) when no other unsettled delivery precedes it; otherwise one by one.
/// Deciding and sending happen under the lock, so no ack ever covers another batch's work.
#[derive(Clone, Default)]
struct Unsettled(Arc<tokio::sync::Mutex<std::collections::BTreeSet<u64>>>);

impl Unsettled {
    async fn ack(&self, batch: &[&Delivery]) {
        let mut tags = self.0.lock().await;
        for d in batch {
            tags.remove(&d.delivery_tag);
        }
        let Some(last) = batch.iter().max_by_key(|d| d.delivery_tag) else {
            return;
        };
        if tags.range(..last.delivery_tag).next().is_none() {
            let _ = last.acker.ack(BasicAckOptions { multiple: true }).await;
        } else {
            for d in batch {
                let _ = d.acker.ack(BasicAckOptions::default()).await;
            }
        }
    }
}

/// The envelope, or `None` after dead-lettering a body that is not one.
async fn parse(queue: &str, delivery: &Delivery) -> Option<RawEnvelope> {
    match serde_json::from_slice(&delivery.data) {
        Ok(e) => Some(e),
        Err(e) => {
            tracing::warn!(queue, error = %e, "unparseable message; dead-lettering");
            metrics::counter!("bus_dead_lettered_total", "queue" => queue.to_owned(), "reason" => "unparseable")
                .increment(1);
            let _ = delivery.acker.reject(BasicRejectOptions { requeue: false }).await;
            None
        }
    }
}

/// How many times the broker delivered this message before (quorum queues count it for us).
fn delivery_count(headers: Option<&FieldTable>) -> u32 {
    let Some(value) = headers.and_then(|h| h.inner().get("x-delivery-count")) else {
        return 0;
    };
    let n: i64 = match value {
        AMQPValue::LongLongInt(n) => *n,
        AMQPValue::LongInt(n) => (*n).into(),
        AMQPValue::LongUInt(n) => (*n).into(),
        AMQPValue::ShortInt(n) => (*n).into(),
        AMQPValue::ShortUInt(n) => (*n).into(),
        AMQPValue::ShortShortInt(n) => (*n).into(),
        AMQPValue::ShortShortUInt(n) => (*n).into(),
        _ => 0,
    };
    n.clamp(0, u32::MAX as i64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_count_reads_any_integer_width() {
        let mut h = FieldTable::default();
        assert_eq!(delivery_count(Some(&h)), 0);
        h.insert("x-delivery-count".into(), AMQPValue::LongLongInt(3));
        assert_eq!(delivery_count(Some(&h)), 3);
        h.insert("x-delivery-count".into(), AMQPValue::LongInt(2));
        assert_eq!(delivery_count(Some(&h)), 2);
        assert_eq!(delivery_count(None), 0);
    }
}
