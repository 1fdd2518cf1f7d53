//! Rebuilding the read models from `event_log`, the copy of every event reporting consumed: after a fix in how
//! events are applied, or when a new report needs a column computed over history. Issued reports are kept.
//!
//! Runs in one transaction (readers see the old figures until it commits) and under an advisory lock, so two
//! rebuilds do not interleave. Live consumption waits on the same tables meanwhile and continues afterwards.
use contracts::RawEnvelope;
use serde::Serialize;
use sqlx::{PgPool, Row};
use utoipa::ToSchema;

use crate::{handlers::apply, settings::ReportingSettings};

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct RebuildSummary {
    pub events: i64,
    pub skipped: i64,
    pub cases: i64,
}

const READ_MODELS: &str =
    "case_facts, feedback_facts, clock_facts, case_days, case_channel_days, clock_days, closure_days, revisit_due_facts,
     revisit_due_days, revisit_facts, revisit_days, staff_complaints";

pub async fn rebuild(pool: &PgPool, settings: &ReportingSettings) -> anyhow::Result<RebuildSummary> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('reporting.rebuild'))")
        .execute(&mut *tx)
        .await?;
    // Consumers insert into these tables too: lock them so no live event lands between truncate and replay.
    sqlx::query(&format!("LOCK TABLE {READ_MODELS}, event_log IN EXCLUSIVE MODE"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("TRUNCATE {READ_MODELS}"))
        .execute(&mut *tx)
        .await?;
    let mut last = 0i64;
    let (mut events, mut skipped) = (0i64, 0i64);
    loop {
        let rows = sqlx::query("SELECT seq, envelope FROM event_log WHERE seq > $1 ORDER BY seq LIMIT 1000")
            .bind(last)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            last = row.get("seq");
            let envelope: RawEnvelope = serde_json::from_value(row.get("envelope"))?;
            // An event that cannot be applied any more (e.g. its case is gone) is counted, not fatal.
            sqlx::query("SAVEPOINT ev").execute(&mut *tx).await?;
            match apply::apply(&mut tx, settings, &envelope).await {
                Ok(()) => {
                    sqlx::query("RELEASE SAVEPOINT ev").execute(&mut *tx).await?;
                    events += 1;
                }
                Err(e) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT ev").execute(&mut *tx).await?;
                    tracing::warn!(event = %envelope.id, error = %e, "event skipped in rebuild");
                    skipped += 1;
                }
            }
        }
    }
    let cases: i64 = sqlx::query_scalar("SELECT count(*) FROM case_facts")
        .fetch_one(&mut *tx)
        .await?;
    // Snapshots were built from the old read models.
    crate::report::snapshot::forget_all(&mut tx).await?;
    tx.commit().await?;
    Ok(RebuildSummary { events, skipped, cases })
}
