//! Policy changes reach running clocks: at start-up every open clock is compared with the policy the current
//! configuration gives its case, and recounted when they differ (the clock's history keeps both policies and
//! due times; `GET …/deadlines` shows them). A clock whose policy no longer applies is stopped.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    calendars::Calendars, clock_changes::ClockChanges, domain::clock::ClockState, handlers::update_clock,
    settings::Settings,
};

pub struct PolicySync {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub calendars: Arc<Calendars>,
}

#[derive(Debug, Default, PartialEq)]
pub struct SyncSummary {
    pub checked: usize,
    pub recomputed: usize,
    pub stopped: usize,
}

impl PolicySync {
    /// Runs once, at start-up.
    pub async fn run(self, stop: CancellationToken) {
        tokio::select! {
            _ = stop.cancelled() => {}
            r = self.sync(Utc::now()) => match r {
                Ok(s) if s.recomputed + s.stopped > 0 => {
                    tracing::info!(checked = s.checked, recomputed = s.recomputed, stopped = s.stopped,
                        "open clocks follow the changed policy");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "recomputing clocks after a policy change failed"),
            },
        }
    }

    /// Compares every open clock with the configured policy at `now`, in batches (each its own transaction;
    /// SKIP LOCKED leaves clocks being fired or changed to the next start).
    pub async fn sync(&self, now: DateTime<Utc>) -> Result<SyncSummary, sqlx::Error> {
        let mut summary = SyncSummary::default();
        let mut after = Uuid::nil();
        loop {
            let mut tx = self.pool.begin().await?;
            let rows = sqlx::query(
                "SELECT id, site, clock, class, category, severity, state FROM clocks
                  WHERE id > $1 AND status NOT IN ('met', 'breached_stopped')
                  ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED",
            )
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut changes = ClockChanges::default();
            for row in rows {
                let id: Uuid = row.get("id");
                after = id;
                summary.checked += 1;
                let Ok(mut state) = serde_json::from_value::<ClockState>(row.get("state")) else {
                    continue;
                };
                let name: String = row.get("clock");
                let cal = self.calendars.for_site(row.get("site"));
                let current =
                    self.settings
                        .sla
                        .clock_for(&name, row.get("class"), row.get("category"), row.get("severity"));
                let changed = match current {
                    Some(policy) if policy == state.policy() => continue,
                    Some(policy) => state.recompute(cal, now, policy).map(|()| &mut summary.recomputed),
                    None => state.stop(cal, now).map(|_| &mut summary.stopped),
                };
                match changed {
                    Ok(counter) => {
                        *counter += 1;
                        update_clock(&mut tx, id, &state, &mut changes).await?;
                    }
                    Err(e) => tracing::warn!(clock = %id, error = %e, "clock left on its old policy"),
                }
            }
            changes.publish(&mut tx).await?;
            tx.commit().await?;
        }
        Ok(summary)
    }
}
