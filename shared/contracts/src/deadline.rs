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
