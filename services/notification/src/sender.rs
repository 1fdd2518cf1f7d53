//! Sends pending deliveries over SMTP, a bounded number at a time, with retries.
//!
//! Rows are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so replicas share the work and a
//! crash mid-send only delays a message. Transient failures (4xx, timeouts, connection errors) are
//! retried with exponential back-off and jitter; permanent ones (5xx) are recorded as failed.
use std::{sync::Arc, time::Duration};

use anyhow::Context;
use lettre::{
    message::header::{ContentType, HeaderName, HeaderValue},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sqlx::{PgPool, Row};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::settings::{SenderSettings, SmtpSecurity, SmtpSettings};

pub struct Sender {
    pool: PgPool,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    smtp: SmtpSettings,
    settings: SenderSettings,
}

struct Claimed {
    id: Uuid,
    recipient: String,
    subject: String,
    body: String,
    message_id: String,
    in_reply_to: Option<String>,
    attempts: i32,
}

/// `Auto-Submitted: auto-generated`, so auto-responders never answer us and no mail loop starts.
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

pub fn transport(smtp: &SmtpSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_millis(smtp.timeout_ms)));
    if !smtp.username.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.username.clone(), smtp.password.clone()));
    }
    Ok(builder.build())
}

enum Failure {
    Transient(String),
    Permanent(String),
}

impl Sender {
    pub fn new(pool: PgPool, smtp: SmtpSettings, settings: SenderSettings) -> anyhow::Result<Self> {
        Ok(Self {
            transport: transport(&smtp)?,
            pool,
            smtp,
            settings,
        })
    }

    pub async fn run(self, stop: CancellationToken) {
        let this = Arc::new(self);
        let limit = Arc::new(Semaphore::new(this.settings.concurrency.max(1)));
        let mut in_flight = tokio::task::JoinSet::new();
        while !stop.is_cancelled() {
            let free = limit.available_permits() as i64;
            let claimed = if free > 0 {
                this.claim(free.min(this.settings.batch)).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "cannot claim deliveries");
                    vec![]
                })
            } else {
                vec![]
            };
            let idle = claimed.is_empty();
            for delivery in claimed {
                let permit = limit.clone().acquire_owned().await.expect("semaphore never closed");
                let this = this.clone();
                in_flight.spawn(async move {
                    this.send(delivery).await;
                    drop(permit);
                });
            }
            while in_flight.try_join_next().is_some() {}
            if idle {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(this.settings.poll_ms)) => {}
                }
            }
        }
        while in_flight.join_next().await.is_some() {}
    }

    async fn claim(&self, n: i64) -> Result<Vec<Claimed>, sqlx::Error> {
        let rows = sqlx::query(
            "UPDATE deliveries SET status = 'sending', attempts = attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $2)
              WHERE id IN (SELECT id FROM deliveries
                            WHERE status IN ('pending', 'sending') AND channel = 'email' AND next_attempt_at <= now()
                            ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
          RETURNING id, recipient, subject, body_text, message_id, in_reply_to, attempts",
        )
        .bind(n)
        .bind(self.settings.lease_seconds as f64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Claimed {
                id: r.get("id"),
                recipient: r.get("recipient"),
                subject: r.get("subject"),
                body: r.get("body_text"),
                message_id: r.get("message_id"),
                in_reply_to: r.get("in_reply_to"),
                attempts: r.get("attempts"),
            })
            .collect())
    }

    async fn send(&self, d: Claimed) {
        let result = match self.message(&d) {
            Ok(message) => self.transport.send(message).await.map_err(classify),
            Err(e) => Err(Failure::Permanent(format!("{e:#}"))),
        };
        let update = match result {
            Ok(response) => {
                metrics::counter!("notifications_sent_total", "channel" => "email").increment(1);
                let provider_id = response.message().collect::<Vec<_>>().join(" ");
                sqlx::query(
                    "UPDATE deliveries SET status = 'sent', sent_at = now(), last_error = NULL,
                            provider_message_id = $2 WHERE id = $1",
                )
                .bind(d.id)
                .bind(provider_id)
                .execute(&self.pool)
                .await
            }
            Err(Failure::Transient(error)) if d.attempts < self.settings.max_attempts => {
                let delay = backoff(
                    self.settings.retry_base_ms,
                    self.settings.retry_max_ms,
                    d.attempts as u32,
                );
                tracing::warn!(delivery = %d.id, attempt = d.attempts, %error, "email deferred; will retry");
                sqlx::query(
                    "UPDATE deliveries SET status = 'pending', last_error = $2,
                            next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
                )
                .bind(d.id)
                .bind(&error)
                .bind(delay.as_secs_f64())
                .execute(&self.pool)
                .await
            }
            Err(Failure::Transient(error)) | Err(Failure::Permanent(error)) => {
                metrics::counter!("notifications_failed_total", "channel" => "email").increment(1);
                tracing::error!(delivery = %d.id, attempt = d.attempts, %error, "email failed permanently");
                sqlx::query("UPDATE deliveries SET status = 'failed', last_error = $2 WHERE id = $1")
                    .bind(d.id)
                    .bind(&error)
                    .execute(&self.pool)
                    .await
            }
        };
        if let Err(e) = update {
            // The lease runs out and the delivery is tried again: at-least-once, never lost.
            tracing::warn!(delivery = %d.id, error = %e, "could not record the delivery outcome");
        }
    }

    fn message(&self, d: &Claimed) -> anyhow::Result<Message> {
        let mut builder = Message::builder();
        if let Some(parent) = &d.in_reply_to {
            // Threading: the customer's mail client shows the conversation, and their reply carries
            // our Message-IDs back to intake.
            builder = builder.in_reply_to(parent.clone()).references(parent.clone());
        }
        builder
            .from(self.smtp.from.parse().context("smtp.from")?)
            .to(d.recipient.parse().context("recipient address")?)
            .subject(&d.subject)
            .message_id(Some(d.message_id.clone()))
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN)
            .body(d.body.clone())
            .context("building the message")
    }
}

fn classify(e: lettre::transport::smtp::Error) -> Failure {
    if e.is_permanent() {
        Failure::Permanent(e.to_string())
    } else {
        Failure::Transient(e.to_string())
    }
}

fn backoff(base_ms: u64, max_ms: u64, attempt: u32) -> Duration {
    let ceiling = base_ms.saturating_mul(1u64 << attempt.min(20)).min(max_ms).max(1);
    Duration::from_millis(rand::random_range(ceiling / 2..=ceiling))
}
