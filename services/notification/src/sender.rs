//! The send queue: one worker per channel (email, SMS) claims its pending deliveries, a bounded number
//! at a time, so a slow SMTP server never holds up SMS and a slow gateway never holds up email.
//!
//! Rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so replicas share the work and a
//! crash mid-send only delays a message. Transient failures are retried with exponential back-off and
//! jitter (or the server's `Retry-After`); permanent ones, and transient ones past the last attempt,
//! are recorded as failed and announce `notification.failed` through the outbox in the same
//! transaction, so the case shows that someone was not told.
use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::{notification::NotificationFailedV1, Envelope};
use messaging::OutboxSignal;
use serde_json::Value;
use sqlx::{PgPool, Row};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    clock::{Clock, SystemClock},
    settings::SenderSettings,
};

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub site: String,
    pub correlation_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub case_reference: Option<String>,
    pub recipient: String,
    pub recipient_masked: String,
    pub recipient_kind: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub template_vars: Value,
    /// Set for SMS to customers: the zone their quiet hours are judged in.
    pub quiet_hours_tz: Option<String>,
    pub attempts: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Transient {
        error: String,
        retry_after: Option<Duration>,
    },
    Permanent(String),
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Accepted; the provider's message id.
    Sent(String),
    Failed(Failure),
    /// Not now (quiet hours): try again at this time, without counting an attempt.
    Held(DateTime<Utc>),
}

/// A way of sending: email over SMTP, SMS through a gateway.
#[async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The `channel` column value it sends.
    fn name(&self) -> &'static str;
    async fn deliver(&self, d: &Claimed) -> Outcome;
}

pub struct Sender {
    pool: PgPool,
    channel: Arc<dyn Channel>,
    settings: SenderSettings,
    concurrency: usize,
    outbox: OutboxSignal,
    clock: Arc<dyn Clock>,
}

impl Sender {
    pub fn new(
        pool: PgPool,
        channel: Arc<dyn Channel>,
        settings: SenderSettings,
        concurrency: usize,
        outbox: OutboxSignal,
    ) -> Self {
        Self {
            pool,
            channel,
            settings,
            concurrency,
            outbox,
            clock: Arc::new(SystemClock),
        }
    }

    /// Decides what is due (and when to retry) by `clock` (tests drive time with it).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    pub async fn run(self, stop: CancellationToken) {
        let this = Arc::new(self);
        let limit = Arc::new(Semaphore::new(this.concurrency.max(1)));
        let mut in_flight = tokio::task::JoinSet::new();
        while !stop.is_cancelled() {
            // Wait for a free slot (a send finishing) rather than sleeping while every slot is busy: a full
            // sender claims again the moment it can send again.
            let first = tokio::select! {
                _ = stop.cancelled() => break,
                permit = limit.clone().acquire_owned() => permit.expect("semaphore never closed"),
            };
            let free = 1 + limit.available_permits() as i64;
            let claimed = this.claim(free.min(this.settings.batch)).await.unwrap_or_else(|e| {
                tracing::warn!(channel = this.channel.name(), error = %e, "cannot claim deliveries");
                vec![]
            });
            if claimed.is_empty() {
                drop(first);
                while in_flight.try_join_next().is_some() {}
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(this.settings.poll_ms)) => {}
                }
                continue;
            }
            let mut first = Some(first);
            for delivery in claimed {
                let permit = match first.take() {
                    Some(p) => p,
                    None => limit.clone().acquire_owned().await.expect("semaphore never closed"),
                };
                let this = this.clone();
                in_flight.spawn(async move {
                    let outcome = this.channel.deliver(&delivery).await;
                    if let Err(e) = this.record(&delivery, outcome).await {
                        // The lease runs out and the delivery is tried again: at-least-once, never lost.
                        tracing::warn!(delivery = %delivery.id, error = %e, "could not record the delivery outcome");
                    }
                    drop(permit);
                });
            }
            while in_flight.try_join_next().is_some() {}
        }
        while in_flight.join_next().await.is_some() {}
    }

    async fn claim(&self, n: i64) -> Result<Vec<Claimed>, sqlx::Error> {
        // Customers' mail threads under the first message actually sent to them under this reference
        // (never under one that failed or is still waiting), found now rather than when queued; and a
        // customer's later mail waits while an earlier one to them under the reference is still being
        // tried, so they arrive in order and the reply can thread under the acknowledgement.
        let rows = sqlx::query(
            "UPDATE deliveries d SET status = 'sending', attempts = attempts + 1,
                    next_attempt_at = $4 + make_interval(secs => $2),
                    in_reply_to = CASE WHEN d.channel = 'email' AND d.recipient_kind = 'customer' THEN
                        (SELECT p.message_id FROM deliveries p
                          WHERE p.case_reference = d.case_reference AND p.recipient = d.recipient
                            AND p.channel = 'email' AND p.status = 'sent' AND p.id <> d.id
                          ORDER BY p.sent_at, p.id LIMIT 1)
                        ELSE d.in_reply_to END
              WHERE d.id IN (SELECT q.id FROM deliveries q
                            WHERE q.status IN ('pending', 'sending') AND q.channel = $3 AND q.next_attempt_at <= $4
                              AND NOT (q.channel = 'email' AND q.recipient_kind = 'customer' AND EXISTS (
                                  SELECT 1 FROM deliveries e
                                   WHERE e.case_reference = q.case_reference AND e.recipient = q.recipient
                                     AND e.channel = 'email' AND e.status IN ('pending', 'sending') AND e.id < q.id))
                            ORDER BY q.next_attempt_at LIMIT $1 FOR UPDATE OF q SKIP LOCKED)
          RETURNING d.id, d.event_id, d.event_type, d.site, d.correlation_id, d.case_id, d.case_reference,
                    d.recipient, d.recipient_masked, d.recipient_kind, d.template, d.subject, d.body_text,
                    d.body_html, d.message_id, d.in_reply_to, d.template_vars, d.quiet_hours_tz, d.attempts",
        )
        .bind(n)
        .bind(self.settings.lease_seconds as f64)
        .bind(self.channel.name())
        .bind(self.clock.now())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Claimed {
                id: r.get("id"),
                event_id: r.get("event_id"),
                event_type: r.get("event_type"),
                site: r.get("site"),
                correlation_id: r.get("correlation_id"),
                case_id: r.get("case_id"),
                case_reference: r.get("case_reference"),
                recipient: r.get("recipient"),
                recipient_masked: r.get("recipient_masked"),
                recipient_kind: r.get("recipient_kind"),
                template: r.get("template"),
                subject: r.get("subject"),
                body_text: r.get("body_text"),
                body_html: r.get("body_html"),
                message_id: r.get("message_id"),
                in_reply_to: r.get("in_reply_to"),
                template_vars: r.get("template_vars"),
                quiet_hours_tz: r.get("quiet_hours_tz"),
                attempts: r.get("attempts"),
            })
            .collect())
    }

    async fn record(&self, d: &Claimed, outcome: Outcome) -> Result<(), sqlx::Error> {
        let channel = self.channel.name();
        // Servers echo the address in their answers ("<x@y>: recipient rejected"): the log, the
        // delivery row and the event get the masked form only.
        let outcome = match outcome {
            Outcome::Failed(Failure::Transient { error, retry_after }) => Outcome::Failed(Failure::Transient {
                error: scrub(&error, d),
                retry_after,
            }),
            Outcome::Failed(Failure::Permanent(error)) => Outcome::Failed(Failure::Permanent(scrub(&error, d))),
            other => other,
        };
        match outcome {
            Outcome::Sent(provider_id) => {
                metrics::counter!("notifications_sent_total", "channel" => channel).increment(1);
                sqlx::query(
                    "UPDATE deliveries SET status = 'sent', sent_at = now(), last_error = NULL,
                            provider_message_id = $2 WHERE id = $1",
                )
                .bind(d.id)
                .bind(provider_id)
                .execute(&self.pool)
                .await?;
            }
            Outcome::Held(until) => {
                tracing::info!(delivery = %d.id, %channel, %until, "held until quiet hours end");
                sqlx::query(
                    "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, next_attempt_at = $2
                      WHERE id = $1",
                )
                .bind(d.id)
                .bind(until)
                .execute(&self.pool)
                .await?;
            }
            Outcome::Failed(Failure::Transient { error, retry_after }) if d.attempts < self.settings.max_attempts => {
                let delay = backoff(
                    self.settings.retry_base_ms,
                    self.settings.retry_max_ms,
                    d.attempts as u32,
                )
                .max(retry_after.unwrap_or_default());
                metrics::counter!("notifications_retried_total", "channel" => channel).increment(1);
                tracing::warn!(delivery = %d.id, %channel, attempt = d.attempts, %error, "deferred; will retry");
                sqlx::query(
                    "UPDATE deliveries SET status = 'pending', last_error = $2,
                            next_attempt_at = $4 + make_interval(secs => $3) WHERE id = $1",
                )
                .bind(d.id)
                .bind(&error)
                .bind(delay.as_secs_f64())
                .bind(self.clock.now())
                .execute(&self.pool)
                .await?;
            }
            Outcome::Failed(Failure::Transient { error, .. } | Failure::Permanent(error)) => {
                self.fail(d, &error).await?;
            }
        }
        Ok(())
    }

    /// Failed for good: the row and the event in one transaction.
    async fn fail(&self, d: &Claimed, error: &str) -> Result<(), sqlx::Error> {
        let channel = self.channel.name();
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE deliveries SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'sending'",
        )
        .bind(d.id)
        .bind(error)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            // Someone else (a replica after our lease ran out) already recorded it.
            return tx.commit().await;
        }
        let event = Envelope::new(
            d.site.clone(),
            d.correlation_id.unwrap_or(d.event_id),
            NotificationFailedV1 {
                delivery_id: d.id,
                case_id: d.case_id,
                case_reference: d.case_reference.clone(),
                event_id: d.event_id,
                event_type: d.event_type.clone(),
                channel: channel.to_owned(),
                template: d.template.clone(),
                recipient_kind: d.recipient_kind.clone(),
                recipient_masked: d.recipient_masked.clone(),
                error: error.to_owned(),
                attempts: d.attempts.max(0) as u32,
                failed_at: Utc::now(),
            },
        );
        messaging::outbox::enqueue(&mut tx, &event).await?;
        tx.commit().await?;
        self.outbox.notify();
        metrics::counter!("notifications_failed_total", "channel" => channel).increment(1);
        tracing::error!(delivery = %d.id, %channel, attempt = d.attempts, %error, "failed permanently");
        Ok(())
    }
}

fn scrub(error: &str, d: &Claimed) -> String {
    if d.recipient.is_empty() {
        return error.to_owned();
    }
    error.replace(&d.recipient, &d.recipient_masked)
}

pub fn backoff(base_ms: u64, max_ms: u64, attempt: u32) -> Duration {
    let ceiling = base_ms.saturating_mul(1u64 << attempt.min(20)).min(max_ms).max(1);
    Duration::from_millis(rand::random_range(ceiling / 2..=ceiling))
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_with_jitter_up_to_the_cap() {
        for attempt in 1..30 {
            let d = super::backoff(1000, 60_000, attempt).as_millis() as u64;
            let ceiling = (1000u64 << attempt.min(20)).min(60_000);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d}");
        }
    }
}
