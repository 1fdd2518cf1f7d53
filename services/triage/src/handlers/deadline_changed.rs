//! `deadline.changed` → triage's copy of the case's clocks, its nearest deadline (`next_due_at`, what "my work"
//! sorts by) and whether it is overdue now (`overdue_level`: the highest level of a clock still running late).
use contracts::{deadline::DeadlineChangedV1, Envelope};
use messaging::HandlerError;
use sqlx::PgConnection;

/// Clock states that still count towards a due time (paused and stopped clocks do not).
pub const COUNTING: &[&str] = &["running", "warned", "breached"];

pub async fn handle(conn: &mut PgConnection, event: &Envelope<DeadlineChangedV1>) -> Result<(), HandlerError> {
    let d = &event.data;
    // A case's clocks often change together (a rejection stops them all) and their snapshots are handled
    // concurrently: hold the case first, so that each computes the nearest due time below from what the others
    // committed, not from what it saw before waiting for them.
    sqlx::query("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE")
        .bind(d.case_id)
        .execute(&mut *conn)
        .await?;
    // Snapshots: only a newer revision replaces what we have (an old one arriving late changes nothing).
    let stored = sqlx::query(
        "INSERT INTO case_clocks (case_id, clock, status, started_at, due_at, level, stopped_at, revision)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
         ON CONFLICT (case_id, clock) DO UPDATE SET status = EXCLUDED.status, started_at = EXCLUDED.started_at,
             due_at = EXCLUDED.due_at, level = EXCLUDED.level, stopped_at = EXCLUDED.stopped_at,
             revision = EXCLUDED.revision
         WHERE case_clocks.revision < EXCLUDED.revision",
    )
    .bind(d.case_id)
    .bind(&d.clock)
    .bind(&d.status)
    .bind(d.started_at)
    .bind(d.due_at)
    .bind(d.level as i32)
    .bind(d.stopped_at)
    .bind(d.revision)
    .execute(&mut *conn)
    .await?
    .rows_affected();
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
