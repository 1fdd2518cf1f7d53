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
