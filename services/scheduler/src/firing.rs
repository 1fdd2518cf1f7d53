//! Fires due clock timers exactly once: each batch of clocks is claimed with
//! `FOR UPDATE SKIP LOCKED`, advanced to `now`, and its events written to the outbox with the new
//! clock state in the same transaction. Replicas never fire the same timer; after downtime,
//! everything overdue fires at once, in order, marked late.
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::{
    deadline::{DeadlineBreachedV1, DeadlineEscalatedV1, DeadlineWarningV1},
    Envelope,
};
use messaging::OutboxSignal;
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    clock_changes::ClockChanges,
    domain::clock::{ClockState, TimerKind},
    handlers::update_clock,
    settings::FiringSettings,
};

pub struct Firing {
    pub pool: PgPool,
    pub settings: FiringSettings,
    pub outbox: OutboxSignal,
}

/// The loop every kind of timer shares: fire one batch at `now`; after a full batch go again at once, else sleep
/// until the next due time (at most `max_sleep_ms`), or `max_sleep_ms` after an error.
pub async fn run_loop<Fire, FireFut, Next, NextFut>(
    settings: &FiringSettings,
    what: &str,
    stop: CancellationToken,
    fire: Fire,
    next_due: Next,
) where
    Fire: Fn(DateTime<Utc>) -> FireFut,
    FireFut: std::future::Future<Output = Result<usize, sqlx::Error>>,
    Next: Fn() -> NextFut,
    NextFut: std::future::Future<Output = Option<DateTime<Utc>>>,
{
    let max = Duration::from_millis(settings.max_sleep_ms);
    while !stop.is_cancelled() {
        let sleep = match fire(Utc::now()).await {
            Ok(n) if n as i64 >= settings.batch => Duration::ZERO,
            Ok(_) => match next_due().await {
                Some(t) => (t - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(max),
                None => max,
            },
            Err(e) => {
                tracing::warn!(error = %e, what, "firing timers failed; will retry");
                max
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

impl Firing {
    pub async fn run(self, stop: CancellationToken) {
        run_loop(
            &self.settings,
            "clock timers",
            stop,
            |now| self.fire_due(now),
            || async {
                sqlx::query_scalar("SELECT min(next_fire_at) FROM clocks WHERE next_fire_at IS NOT NULL")
                    .fetch_one(&self.pool)
                    .await
                    .unwrap_or(None)
            },
        )
        .await
    }

    /// Fires what is due at `now` for one batch of clocks; returns how many clocks were advanced.
    /// `now` is a parameter so tests (and a replay) can drive time.
    pub async fn fire_due(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT id, case_id, case_reference, site, clock, department, state FROM clocks
              WHERE next_fire_at IS NOT NULL AND next_fire_at <= $1
              ORDER BY next_fire_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(self.settings.batch)
        .fetch_all(&mut *tx)
        .await?;
        let mut fired_total = 0;
        let mut changes = ClockChanges::default();
        for r in &rows {
            let id: Uuid = r.get("id");
            let case_id: Uuid = r.get("case_id");
            let site: String = r.get("site");
            let reference: String = r.get("case_reference");
            let department: String = r.get("department");
            let clock: String = r.get("clock");
            let mut state: ClockState =
                serde_json::from_value(r.get("state")).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            for timer in state.advance(now) {
                let late = (now - timer.at).num_seconds() > self.settings.late_after_seconds;
                let due_at = state.due();
                match timer.kind {
                    TimerKind::Warning => {
                        let data = DeadlineWarningV1 {
                            case_id,
                            case_reference: reference.clone(),
                            clock: clock.clone(),
                            due_at,
                            department: department.clone(),
                            late,
                        };
                        messaging::enqueue(&mut tx, &Envelope::new(site.clone(), case_id, data)).await?;
                    }
                    TimerKind::Breach => {
                        let data = DeadlineBreachedV1 {
                            case_id,
                            case_reference: reference.clone(),
                            clock: clock.clone(),
                            due_at,
                            level: 1,
                            late,
                        };
                        messaging::enqueue(&mut tx, &Envelope::new(site.clone(), case_id, data)).await?;
                    }
                    TimerKind::Escalation { level } => {
                        let notify = state
                            .policy()
                            .escalation
                            .iter()
                            .find(|l| l.level == level)
                            .map(|l| {
                                l.notify
                                    .iter()
                                    .filter_map(|r| serde_json::to_value(r).ok()?.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let data = DeadlineEscalatedV1 {
                            case_id,
                            case_reference: reference.clone(),
                            clock: clock.clone(),
                            due_at,
                            department: department.clone(),
                            level: level.into(),
                            notify,
                            late,
                        };
                        messaging::enqueue(&mut tx, &Envelope::new(site.clone(), case_id, data)).await?;
                    }
                }
                fired_total += 1;
            }
            update_clock(&mut tx, id, &state, &mut changes).await?;
        }
        changes.publish(&mut tx).await?;
        tx.commit().await?;
        if fired_total > 0 {
            self.outbox.notify();
            metrics::counter!("timers_fired_total").increment(fired_total as u64);
        }
        Ok(rows.len())
    }
}
