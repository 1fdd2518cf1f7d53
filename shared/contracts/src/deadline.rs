//! Events published by the scheduler.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

/// `deadline.breached` v1: a clock ran out; `level` is the escalation step (1 = first breach).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadlineBreachedV1 {
    pub case_id: Uuid,
    pub case_reference: String,
    /// Clock name from the SLA policy, e.g. `registration`.
    pub clock: String,
    pub due_at: DateTime<Utc>,
    pub level: u32,
    /// True when the scheduler fired it after downtime, later than the due time.
    pub late: bool,
}

impl Event for DeadlineBreachedV1 {
    const TYPE: &'static str = "deadline.breached";
    const VERSION: u32 = 1;
}

/// `deadline.warning` v1: a clock reached its warning point (e.g. 80 % of its time).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadlineWarningV1 {
    pub case_id: Uuid,
    pub case_reference: String,
    pub clock: String,
    pub due_at: DateTime<Utc>,
    pub department: String,
    pub late: bool,
}

impl Event for DeadlineWarningV1 {
    const TYPE: &'static str = "deadline.warning";
    const VERSION: u32 = 1;
}

/// `deadline.escalated` v1: a breached clock reached a level of its escalation ladder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadlineEscalatedV1 {
    pub case_id: Uuid,
    pub case_reference: String,
    pub clock: String,
    pub due_at: DateTime<Utc>,
    pub department: String,
    /// 1, 2 or 3.
    pub level: u32,
    /// Roles on the chain of command to tell at this level (e.g. `department_head`, `general_manager`).
    pub notify: Vec<String>,
    pub late: bool,
}

impl Event for DeadlineEscalatedV1 {
    const TYPE: &'static str = "deadline.escalated";
    const VERSION: u32 = 1;
}

/// A clock stopped: the case reached the clock's stop event (or was closed, rejected or merged). `met` when it
/// stopped at or before its due time. Reporting counts timeliness per clock from these.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadlineStoppedV1 {
    pub case_id: Uuid,
    pub case_reference: String,
    pub clock: String,
    pub department: String,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub stopped_at: DateTime<Utc>,
    pub met: bool,
    /// Working time from start to stop, pauses excluded, in seconds.
    pub working_seconds: i64,
    /// Escalation levels reached before it stopped (0 = none).
    pub level: u32,
}

impl Event for DeadlineStoppedV1 {
    const TYPE: &'static str = "deadline.stopped";
    const VERSION: u32 = 1;
}

/// `deadline.changed` v1: the whole current state of the clocks of one case that a transaction of the scheduler
/// changed (started, paused, resumed, extended, recomputed, warned, breached, escalated, stopped), published in
/// that transaction — one event per case and transaction, so a new case's six or so clocks travel together.
/// Snapshots, not deltas: a consumer keeps, per (case, clock), the one with the highest `revision` and ignores
/// older ones that arrive late or again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeadlineChangedV1 {
    pub case_id: Uuid,
    pub case_reference: String,
    pub department: String,
    pub clocks: Vec<ClockSnapshotV1>,
}

/// One clock of a case as it now stands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClockSnapshotV1 {
    /// Clock name from the SLA policy, e.g. `first_reply`.
    pub clock: String,
    /// `running` | `warned` | `paused` | `breached` | `met` | `breached_stopped`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    /// The due time after pauses, extensions and recomputation.
    pub due_at: DateTime<Utc>,
    /// Escalation levels reached (0 = none).
    pub level: u32,
    /// When the clock stopped (`met` or `breached_stopped`).
    pub stopped_at: Option<DateTime<Utc>>,
    /// 1 when the clock starts, one more with every change.
    pub revision: i64,
}

impl ClockSnapshotV1 {
    /// Whether the clock still counts (or waits paused): not met, not stopped.
    pub fn is_running(&self) -> bool {
        self.stopped_at.is_none()
    }
}

impl Event for DeadlineChangedV1 {
    const TYPE: &'static str = "deadline.changed";
    const VERSION: u32 = 1;
}
