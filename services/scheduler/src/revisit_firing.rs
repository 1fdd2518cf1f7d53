//! Fires due revisit timers exactly once, like [`crate::firing`]: a batch is claimed with
//! `FOR UPDATE SKIP LOCKED`, each timer's `revisit.due` goes to the outbox and the timer is marked
//! fired in the same transaction, so replicas never announce the same revisit twice.

use chrono::{DateTime, Utc};
use contracts::{
    revisit::{RevisitDueV1, RevisitReason},
    Envelope,
};
use messaging::OutboxSignal;
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::settings::FiringSettings;

pub struct RevisitFiring {
    pub pool: PgPool,
    pub settings: FiringSettings,
    pub outbox: OutboxSignal,
}

fn reason(name: &str) -> Option<RevisitReason> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

impl RevisitFiring {
    pub async fn run(self, stop: CancellationToken) {
        crate::firing::run_loop(
            &self.settings,
            "revisit timers",
            stop,
            |now| self.fire_due(now),
            || async {
                sqlx::query_scalar("SELECT min(due_at) FROM revisit_timers WHERE state = 'pending'")
                    .fetch_one(&self.pool)
                    .await
                    .unwrap_or(None)
            },
        )
        .await
    }

    /// Announces every revisit due at `now` (one batch); returns how many timers fired.
    pub async fn fire_due(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT id, case_id, case_reference, site, correlation_id, reason, sequence, due_at FROM revisit_timers
              WHERE state = 'pending' AND due_at <= $1
              ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(self.settings.batch)
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let id: Uuid = r.get("id");
            let site: String = r.get("site");
            let due_at: DateTime<Utc> = r.get("due_at");
            let reason_name: String = r.get("reason");
            let sequence: i32 = r.get("sequence");
            let Some(reason) = reason(&reason_name) else {
                // Written by this service from a typed reason, so this is a defect; keep it out of the way.
                tracing::error!(timer = %id, reason = %reason_name, "unknown revisit reason; timer skipped");
                sqlx::query("UPDATE revisit_timers SET state = 'invalid' WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                continue;
            };
            let data = RevisitDueV1 {
                case_id: r.get("case_id"),
                reference: r.get("case_reference"),
                site: site.clone(),
                reason,
                due_at,
                sequence: sequence as u32,
            };
            messaging::enqueue(&mut tx, &Envelope::new(site, r.get("correlation_id"), data)).await?;
            let late = (now - due_at).num_seconds() > self.settings.late_after_seconds;
            sqlx::query("UPDATE revisit_timers SET state = 'fired', fired_at = $2, late = $3 WHERE id = $1")
                .bind(id)
                .bind(now)
                .bind(late)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if !rows.is_empty() {
            self.outbox.notify();
            metrics::counter!("revisit_timers_fired_total").increment(rows.len() as u64);
        }
        Ok(rows.len())
    }
}
