//! Fires due timers exactly once: each batch is claimed with `FOR UPDATE SKIP LOCKED`, its events
//! written to the outbox and the timers marked fired in the same transaction. Replicas never fire
//! the same timer; after downtime, everything overdue fires at once, marked late.
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::{deadline::DeadlineBreachedV1, Envelope};
use messaging::OutboxSignal;
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::settings::FiringSettings;

pub struct Firing {
    pub pool: PgPool,
    pub settings: FiringSettings,
    pub outbox: OutboxSignal,
}

impl Firing {
    pub async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let sleep = match self.fire_due(Utc::now()).await {
                Ok(n) if n as i64 >= self.settings.batch => Duration::ZERO,
                Ok(_) => self.until_next().await,
                Err(e) => {
                    tracing::warn!(error = %e, "firing timers failed; will retry");
                    Duration::from_millis(self.settings.max_sleep_ms)
                }
            };
            if !sleep.is_zero() {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
        }
    }

    async fn until_next(&self) -> Duration {
        let max = Duration::from_millis(self.settings.max_sleep_ms);
        let next: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT min(due_at) FROM timers WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await
            .unwrap_or(None);
        match next {
            Some(t) => (t - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(max),
            None => max,
        }
    }

    /// Fires one batch of timers due at `now`; returns how many fired.
    pub async fn fire_due(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT id, case_id, case_reference, site, clock, due_at, level FROM timers
              WHERE state = 'pending' AND due_at <= $1
              ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(self.settings.batch)
        .fetch_all(&mut *tx)
        .await?;
        let mut fired = Vec::with_capacity(rows.len());
        let mut late_ids = Vec::new();
        for r in &rows {
            let id: Uuid = r.get("id");
            let due_at: DateTime<Utc> = r.get("due_at");
            let late = (now - due_at).num_seconds() > self.settings.late_after_seconds;
            let site: String = r.get("site");
            let case_id: Uuid = r.get("case_id");
            let event = Envelope::new(
                site,
                case_id,
                DeadlineBreachedV1 {
                    case_id,
                    case_reference: r.get("case_reference"),
                    clock: r.get("clock"),
                    due_at,
                    level: r.get::<i32, _>("level") as u32,
                    late,
                },
            );
            messaging::enqueue(&mut tx, &event).await?;
            fired.push(id);
            if late {
                late_ids.push(id);
            }
        }
        if !fired.is_empty() {
            sqlx::query("UPDATE timers SET state = 'fired', fired_at = $2, late = (id = ANY($3)) WHERE id = ANY($1)")
                .bind(&fired)
                .bind(now)
                .bind(&late_ids)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if !fired.is_empty() {
            self.outbox.notify();
            metrics::counter!("timers_fired_total").increment(fired.len() as u64);
        }
        Ok(fired.len())
    }
}
