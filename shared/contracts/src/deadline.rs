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
