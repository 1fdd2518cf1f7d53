//! The clocks one transaction changed, published as one `deadline.changed` per case before it commits: a new
//! case's clocks, or every clock a rejection stops, travel together instead of as one event each.
use std::collections::BTreeMap;

use contracts::{
    deadline::{ClockSnapshotV1, DeadlineChangedV1},
    Envelope,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::clock::{ClockState, ClockStatus};

/// The case facts of a stored clock, as `deadline.changed` needs them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClockRow {
    pub case_id: Uuid,
    pub case_reference: String,
    pub site: String,
    pub department: String,
    pub revision: i64,
}

#[derive(Default)]
pub struct ClockChanges {
    by_case: BTreeMap<Uuid, (ClockRow, Vec<ClockSnapshotV1>)>,
}

/// The clock as it now stands.
pub fn snapshot(state: &ClockState, revision: i64) -> ClockSnapshotV1 {
    let (status, level, stopped_at) = match state.status() {
        ClockStatus::Running => ("running", 0, None),
        ClockStatus::Warned => ("warned", 0, None),
        ClockStatus::Paused { .. } => ("paused", state.escalation_level().unwrap_or(0), None),
        ClockStatus::Breached { level } => ("breached", level, None),
        ClockStatus::Met { at } => ("met", 0, Some(at)),
        ClockStatus::BreachedStopped { at, level } => ("breached_stopped", level, Some(at)),
    };
    ClockSnapshotV1 {
        clock: state.policy().name.clone(),
        status: status.to_owned(),
        started_at: state.started_at(),
        due_at: state.due(),
        level: level.into(),
        stopped_at,
        revision,
    }
}

impl ClockChanges {
    pub fn add(&mut self, row: ClockRow, state: &ClockState) {
        let snapshot = snapshot(state, row.revision);
        self.by_case
            .entry(row.case_id)
            .or_insert_with(|| (row, Vec::new()))
            .1
            .push(snapshot);
    }

    pub fn is_empty(&self) -> bool {
        self.by_case.is_empty()
    }

    /// One `deadline.changed` per case into the outbox of `conn`'s transaction.
    pub async fn publish(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        for (case_id, (row, clocks)) in self.by_case {
            let data = DeadlineChangedV1 {
                case_id,
                case_reference: row.case_reference,
                department: row.department,
                clocks,
            };
            messaging::enqueue(&mut *conn, &Envelope::new(row.site, case_id, data)).await?;
        }
        Ok(())
    }
}
