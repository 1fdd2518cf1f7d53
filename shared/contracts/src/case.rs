//! Events published by triage.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{feedback::Channel, feedback::CustomerV1, Event};

/// `case.opened` v1: feedback became a case, classified and routed to a department.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseOpenedV1 {
    pub case_id: Uuid,
    pub reference: String,
    pub feedback_id: Uuid,
    pub channel: Channel,
    pub received_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    /// `general` | `important` | `complaint` (domain.md §2).
    pub class: String,
    pub category: String,
    /// `general` | `important` | `major`.
    pub severity: String,
    /// Department code from the directory, e.g. `quality`.
    pub department: String,
    /// Staff user id of the responsible person, when one was assigned.
    pub assignee: Option<String>,
    pub customer: CustomerV1,
    pub subject: Option<String>,
    /// The start of the customer's text, for notifications (full text stays in triage).
    pub summary: String,
    /// The claim the case opened with, if any, and whose approval it waits for.
    #[serde(default)]
    pub claim: Option<ClaimOpenedV1>,
    /// Roles the case's category involves besides its department (triage's `[routing.involve]`), e.g.
    /// `["management_representative"]` for an adverse event.
    #[serde(default)]
    pub involved_roles: Vec<String>,
}

/// A claim (return and/or compensation) as a case opens with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClaimOpenedV1 {
    /// Decimal amount as text, e.g. `"2500.00"`.
    pub amount: String,
    /// ISO 4217, e.g. `CNY`.
    pub currency: String,
    /// Roles that must each approve it before it can be accepted (triage's `[[claims.approvals]]` tiers the
    /// amount exceeds, lowest first), e.g. `["marketing_manager", "general_manager"]`; empty below the lowest.
    pub approvals_required: Vec<String>,
}

impl Event for CaseOpenedV1 {
    const TYPE: &'static str = "case.opened";
    const VERSION: u32 = 1;
}

/// `case.changed` v1: a staff action changed a case (every workflow transition and edit).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseChangedV1 {
    pub case_id: Uuid,
    pub reference: String,
    /// Workflow action, e.g. `acknowledge`, `reply`, `resolve`, `claim_approved`.
    pub action: String,
    pub from_status: String,
    pub status: String,
    /// Staff user id of who did it.
    pub actor: String,
    pub department: String,
    pub assignee: Option<String>,
    pub class: String,
    pub category: String,
    pub severity: String,
    /// `{ field: [old, new] }` for what changed.
    pub changes: serde_json::Value,
    /// The action with its data (e.g. the reply text, the new due date and reason).
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
    /// The case history entry this change wrote (one per change; with `case_id` a natural key for consumers that
    /// must act once per change, whatever the event id). Absent from events published before it existed.
    #[serde(default)]
    pub history_id: Option<i64>,
}

impl Event for CaseChangedV1 {
    const TYPE: &'static str = "case.changed";
    const VERSION: u32 = 1;
}
