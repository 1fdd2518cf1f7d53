//! `deadline.changed` → triage's copy of the case's clocks, its nearest deadline (`next_due_at`, what "my work"
//! sorts by) and whether it is overdue now (`overdue_level`: the highest level of a clock still running late).
use contracts::{deadline::DeadlineChangedV1, Envelope};
use messaging::HandlerError;
use sqlx::PgConnection;

/// Clock states that still count towards a due time (paused and stopped clocks do not).
pub const COUNTING: &[&str] = &["running", "warned", "breached"];

pub async fn handle(conn: &mut PgConnection, event: &Envelope<DeadlineChangedV1>) -> Result<(), HandlerError> {
    let d = &event.data;
    // Events of the same case may be handled concurrently (a stop and a breach, say): hold the case first, so
    // that each computes the nearest due time below from what the others committed.
    sqlx::query("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE")
        .bind(d.case_id)
        .execute(&mut *conn)
        .await?;
    let mut stored = 0;
    for c in &d.clocks {
        // Snapshots: only a newer revision replaces what we have (an old one arriving late changes nothing).
        stored += sqlx::query(
            "INSERT INTO case_clocks (case_id, clock, status, started_at, due_at, level, stopped_at, revision)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
             ON CONFLICT (case_id, clock) DO UPDATE SET status = EXCLUDED.status, started_at = EXCLUDED.started_at,
                 due_at = EXCLUDED.due_at, level = EXCLUDED.level, stopped_at = EXCLUDED.stopped_at,
                 revision = EXCLUDED.revision
             WHERE case_clocks.revision < EXCLUDED.revision",
        )
        .bind(d.case_id)
        .bind(&c.clock)
        .bind(&c.status)
        .bind(c.started_at)
        .bind(c.due_at)
        .bind(c.level as i32)
        .bind(c.stopped_at)
        .bind(c.revision)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    if stored == 0 {
        return Ok(());
    }
    sqlx::query(
        "UPDATE cases c SET next_due_at = n.due_at, next_due_clock = n.clock,
                overdue_level = coalesce((SELECT max(greatest(level, 1)) FROM case_clocks
                                           WHERE case_id = $1 AND status = 'breached'), 0)
           FROM (SELECT $1::uuid AS id) k
           LEFT JOIN LATERAL (SELECT due_at, clock FROM case_clocks
                               WHERE case_id = $1 AND status = ANY($2) ORDER BY due_at, clock LIMIT 1) n ON true
          WHERE c.id = k.id",
    )
    .bind(d.case_id)
    .bind(COUNTING)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
