//! Revisit (回访) events: the scheduler says when one is due; triage records attempts and outcomes
//! (domain.md §5; seed 003).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

/// Why a revisit is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisitReason {
    /// After a complaint is closed (003 篇6 §1.3).
    AfterClose,
    /// After repair or warranty service (003 篇1).
    AfterService,
    /// The warranty-period cadence (003 篇9).
    WarrantyCadence,
    /// Key-account cadence (003 篇10).
    KeyAccount,
    /// Created by hand.
    Manual,
    /// The next revisit after a dissatisfied one (003 篇6 §1.9, §2.3).
    FollowUp,
}

impl RevisitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevisitReason::AfterClose => "after_close",
            RevisitReason::AfterService => "after_service",
            RevisitReason::WarrantyCadence => "warranty_cadence",
            RevisitReason::KeyAccount => "key_account",
            RevisitReason::Manual => "manual",
            RevisitReason::FollowUp => "follow_up",
        }
    }
}

/// `revisit.due` v1: a revisit of the case is due at `due_at`; `sequence` numbers the case's
/// scheduled revisits (1, 2, …) and with `case_id` identifies it (consumers create one task per pair).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevisitDueV1 {
    pub case_id: Uuid,
    pub reference: String,
    pub site: String,
    pub reason: RevisitReason,
    pub due_at: DateTime<Utc>,
    pub sequence: u32,
}

impl Event for RevisitDueV1 {
    const TYPE: &'static str = "revisit.due";
    const VERSION: u32 = 1;
}

/// `revisit.attempted` v1: a call that did not reach an outcome (no answer, busy, wrong number,
/// call back later, customer declines revisits).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevisitAttemptedV1 {
    pub revisit_id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
    pub site: String,
    /// `no_answer` | `busy` | `wrong_number` | `call_back` | `declined`.
    pub kind: String,
    /// Attempts so far, this one included.
    pub attempt: u32,
    /// When the task is due again, if it stays open.
    pub next_due_at: Option<DateTime<Utc>>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl Event for RevisitAttemptedV1 {
    const TYPE: &'static str = "revisit.attempted";
    const VERSION: u32 = 1;
}

/// `revisit.completed` v1: the outcome of a revisit (method, questionnaire answers, satisfaction).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevisitCompletedV1 {
    pub revisit_id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
    pub site: String,
    pub reason: RevisitReason,
    pub sequence: u32,
    /// `phone` | `sms` | `online` | `email` | `on_site`.
    pub method: String,
    /// The overall satisfaction score 0–5 (003 篇9), when answered.
    pub score: Option<u8>,
    pub satisfied: bool,
    /// Answers by question id (no personal data: scores, yes/no and the customer's suggestions).
    pub answers: serde_json::Value,
    /// Attempts before this outcome.
    pub attempts: u32,
    /// True when the dissatisfied outcome reopened the case (or opened a linked one).
    pub case_reopened: bool,
    pub actor: String,
    pub completed_at: DateTime<Utc>,
}

impl Event for RevisitCompletedV1 {
    const TYPE: &'static str = "revisit.completed";
    const VERSION: u32 = 1;
}

/// `revisit.closed` v1: a manager closed an unsatisfied revisit loop with a reason.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevisitClosedV1 {
    pub revisit_id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
    pub site: String,
    pub reason: String,
    pub actor: String,
    pub closed_at: DateTime<Utc>,
}

impl Event for RevisitClosedV1 {
    const TYPE: &'static str = "revisit.closed";
    const VERSION: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisit_due_serialises_reason_as_snake_case() {
        let e = RevisitDueV1 {
            case_id: Uuid::nil(),
            reference: "SH01-20261122-0001".into(),
            site: "sh01".into(),
            reason: RevisitReason::WarrantyCadence,
            due_at: Utc::now(),
            sequence: 2,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["reason"], "warranty_cadence");
        assert_eq!(serde_json::from_value::<RevisitDueV1>(v).unwrap(), e);
        assert_eq!(RevisitReason::FollowUp.as_str(), "follow_up");
    }
}
