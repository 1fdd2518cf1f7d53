//! The case workflow (domain.md §2, §4, §7): a pure state machine over [`CaseState`].
//!
//! [`apply`] checks that an [`Action`] is legal in the case's [`Status`], validates its data and returns the new
//! state together with the [`HistoryEntry`] that records it (who, when, what changed). [`replay`] rebuilds a state
//! from its initial state and history alone. Nothing here reads the clock, the database or the bus: the HTTP layer
//! loads the case, calls [`authorize`] and [`apply`], and stores and publishes the result.
//!
//! # Transitions
//!
//! Rows are actions, columns the status the case is in. `·` is illegal ([`WorkflowError::IllegalTransition`], a
//! 409 that changes nothing), `=` is legal and keeps the status, anything else is the status the case moves to.
//!
//! | action \ from        | new | tri | asg | inp | wfc | rep | res | clo | rej | reo |
//! |----------------------|-----|-----|-----|-----|-----|-----|-----|-----|-----|-----|
//! | `acknowledge`        | t/a |  ·  | inp |  ·  |  ·  |  ·  |  ·  |  ·  |  ·  | inp |
//! | `assign`             | asg | asg |  ·  |  ·  |  ·  |  ·  |  ·  |  ·  |  ·  | asg |
//! | `reassign`           |  ·  |  ·  |  =  |  =  |  =  |  =  |  ·  |  ·  |  ·  |  ·  |
//! | `reclassify`         |  =  |  =  |  =  |  =  |  =  |  =  |  =  |  ·  |  ·  |  =  |
//! | `note`               |  =  |  =  |  =  |  =  |  =  |  =  |  =  |  ·  |  ·  |  =  |
//! | `record_containment` |  =  |  =  | inp |  =  |  =  | inp |  ·  |  ·  |  ·  |  =  |
//! | `reply`              |  =  |  =  | rep | rep | rep |  =  |  =  |  ·  |  ·  |  =  |
//! | `wait_for_customer`  |  ·  |  ·  |  ·  | wfc |  ·  | wfc |  ·  |  ·  |  ·  |  ·  |
//! | `customer_responded` |  ·  |  ·  |  ·  |  ·  | inp |  ·  |  ·  |  ·  |  ·  |  ·  |
//! | `set_validity`       | =/r | =/r | =/r | =/r | =/r | =/r | =/r |  ·  |  ·  | =/r |
//! | `propose_plan`       |  ·  |  ·  | inp |  =  |  =  | inp |  ·  |  ·  |  ·  |  ·  |
//! | `extend_deadline`    |  =  |  =  |  =  |  =  |  =  |  =  |  ·  |  ·  |  ·  |  =  |
//! | `resolve`            |  ·  |  ·  |  ·  | res | res | res |  ·  |  ·  |  ·  |  ·  |
//! | `close`              |  ·  |  ·  |  ·  |  ·  |  ·  | clo | clo |  ·  |  ·  |  ·  |
//! | `reject`             | rej | rej | rej | rej | rej | rej | rej |  ·  |  ·  | rej |
//! | `reopen`             |  ·  |  ·  |  ·  |  ·  |  ·  |  ·  | reo | reo | reo |  ·  |
//! | `merge`              | clo | clo | clo | clo | clo | clo |  ·  |  ·  |  ·  | clo |
//!
//! new = `new`, tri = `triaged`, asg = `assigned`, inp = `in_progress`, wfc = `waiting_for_customer`,
//! rep = `replied`, res = `resolved`, clo = `closed`, rej = `rejected`, reo = `reopened`;
//! `=/r`: `set_validity` with `valid: true` keeps the status, with `valid: false` the case is `rejected`;
//! `t/a`: acknowledging a new case confirms its triage: `triaged`, or `assigned` when the department's rule
//! already named the responsible person when it opened (the hand-over is done).
//!
//! In words: every open status (all but `closed` and `rejected`) takes notes, replies, reclassification, a
//! validity decision and a rejection; `closed` and `rejected` take nothing but `reopen`. Work (containment, a
//! plan, a reply) on an `assigned` case starts it; containment or a new plan after a reply resumes work.
//! `close` only from `resolved` or `replied`. `merge` closes a duplicate with `merged_into` set and outcome
//! `merged`; reopening it un-merges it. Reopening a rejected case clears its validity decision.
//!
//! Data checks, after the status check, give [`WorkflowError::Invalid`] (also without any change): texts and
//! reasons must not be blank, `reassign` must name someone else, `reclassify` must change something, an extended
//! deadline must lie after `at` and after any earlier extension of the same clock, a case cannot be merged into
//! itself, and a reopened case without an assignee must be assigned before `acknowledge` resumes work. So a case
//! in `assigned`, `in_progress`, `waiting_for_customer`, `replied` or `resolved` always has an assignee.
//!
//! # Permissions
//!
//! [`required_roles`] says which roles may take each action; [`may_act`] which cases an actor may touch at all
//! (department and site); [`authorize`] applies both. They are separate from [`apply`] so that the HTTP layer can
//! answer 403 with a reason before it looks at the transition.
use std::{collections::BTreeMap, fmt};

use auth::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Where a case is in its handling (serialised as snake_case, e.g. `in_progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Triaged,
    Assigned,
    InProgress,
    WaitingForCustomer,
    Replied,
    Resolved,
    Closed,
    /// Invalid feedback (a misunderstanding, not our fault): explained politely and not handled further.
    Rejected,
    Reopened,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::New,
        Status::Triaged,
        Status::Assigned,
        Status::InProgress,
        Status::WaitingForCustomer,
        Status::Replied,
        Status::Resolved,
        Status::Closed,
        Status::Rejected,
        Status::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Triaged => "triaged",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::WaitingForCustomer => "waiting_for_customer",
            Status::Replied => "replied",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Rejected => "rejected",
            Status::Reopened => "reopened",
        }
    }

    /// Not finished: everything but `closed` and `rejected`.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Rejected)
    }

    /// Still being worked on: open and not yet `resolved`.
    pub fn is_active(self) -> bool {
        self.is_open() && self != Status::Resolved
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff action on a case, with the data it needs. Serialised with its name in `action`, e.g.
/// `{"action": "assign", "assignee": "u42"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Acknowledge,
    Assign {
        assignee: String,
    },
    Reassign {
        assignee: String,
    },
    Reclassify {
        class: String,
        category: String,
        severity: String,
        reason: String,
    },
    Note {
        text: String,
    },
    /// Emergency containment (stop shipments, fix documents, stock actions; 001 §5.1).
    RecordContainment {
        text: String,
    },
    /// A message to the customer (sent by the notification service).
    Reply {
        text: String,
    },
    WaitForCustomer,
    CustomerResponded,
    /// Valid (our fault) or invalid (a misunderstanding); invalid rejects the case (004 §2.2).
    SetValidity {
        valid: bool,
        reason: String,
    },
    ProposePlan {
        text: String,
    },
    /// A deadline that cannot be met: the customer is told the reason and the new date (001 §5.3).
    ExtendDeadline {
        clock: String,
        new_due: DateTime<Utc>,
        reason: String,
    },
    Resolve {
        summary: String,
    },
    Close {
        outcome: String,
    },
    Reject {
        reason: String,
    },
    Reopen {
        reason: String,
    },
    /// Records this case once more under the case it duplicates (003 篇6 §1.12).
    Merge {
        into_case: Uuid,
        /// Why it duplicates that case (kept in both cases' history).
        #[serde(default)]
        reason: Option<String>,
    },
}

/// The name of an [`Action`] without its data (serialised as snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Acknowledge,
    Assign,
    Reassign,
    Reclassify,
    Note,
    RecordContainment,
    Reply,
    WaitForCustomer,
    CustomerResponded,
    SetValidity,
    ProposePlan,
    ExtendDeadline,
    Resolve,
    Close,
    Reject,
    Reopen,
    Merge,
}

impl ActionKind {
    pub const ALL: [ActionKind; 17] = [
        ActionKind::Acknowledge,
        ActionKind::Assign,
        ActionKind::Reassign,
        ActionKind::Reclassify,
        ActionKind::Note,
        ActionKind::RecordContainment,
        ActionKind::Reply,
        ActionKind::WaitForCustomer,
        ActionKind::CustomerResponded,
        ActionKind::SetValidity,
        ActionKind::ProposePlan,
        ActionKind::ExtendDeadline,
        ActionKind::Resolve,
        ActionKind::Close,
        ActionKind::Reject,
        ActionKind::Reopen,
        ActionKind::Merge,
    ];

    /// The snake_case name, as in `POST /api/v1/cases/{id}/<name>` and in the history.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Acknowledge => "acknowledge",
            ActionKind::Assign => "assign",
            ActionKind::Reassign => "reassign",
            ActionKind::Reclassify => "reclassify",
            ActionKind::Note => "note",
            ActionKind::RecordContainment => "record_containment",
            ActionKind::Reply => "reply",
            ActionKind::WaitForCustomer => "wait_for_customer",
            ActionKind::CustomerResponded => "customer_responded",
            ActionKind::SetValidity => "set_validity",
            ActionKind::ProposePlan => "propose_plan",
            ActionKind::ExtendDeadline => "extend_deadline",
            ActionKind::Resolve => "resolve",
            ActionKind::Close => "close",
            ActionKind::Reject => "reject",
            ActionKind::Reopen => "reopen",
            ActionKind::Merge => "merge",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Acknowledge => ActionKind::Acknowledge,
            Action::Assign { .. } => ActionKind::Assign,
            Action::Reassign { .. } => ActionKind::Reassign,
            Action::Reclassify { .. } => ActionKind::Reclassify,
            Action::Note { .. } => ActionKind::Note,
            Action::RecordContainment { .. } => ActionKind::RecordContainment,
            Action::Reply { .. } => ActionKind::Reply,
            Action::WaitForCustomer => ActionKind::WaitForCustomer,
            Action::CustomerResponded => ActionKind::CustomerResponded,
            Action::SetValidity { .. } => ActionKind::SetValidity,
            Action::ProposePlan { .. } => ActionKind::ProposePlan,
            Action::ExtendDeadline { .. } => ActionKind::ExtendDeadline,
            Action::Resolve { .. } => ActionKind::Resolve,
            Action::Close { .. } => ActionKind::Close,
            Action::Reject { .. } => ActionKind::Reject,
            Action::Reopen { .. } => ActionKind::Reopen,
            Action::Merge { .. } => ActionKind::Merge,
        }
    }
}

/// A staff member acting on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// Staff user id; what the history records.
    pub id: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub department: Option<String>,
    /// Sites the actor works for; empty means all.
    pub sites: Vec<String>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }
}

impl From<&auth::Claims> for Actor {
    fn from(c: &auth::Claims) -> Self {
        Actor {
            id: c.sub.clone(),
            name: c.name.clone(),
            roles: c.roles.clone(),
            department: c.department.clone(),
            sites: c.sites.clone(),
        }
    }
}

/// Class, category and severity, and which rule (or `manual`) decided them and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    pub class: String,
    pub category: String,
    pub severity: String,
    pub rule: String,
    pub reason: String,
}

/// The rule name recorded when staff reclassify a case.
pub const MANUAL_RULE: &str = "manual";

/// The outcome recorded when a case is merged into another.
pub const MERGED_OUTCOME: &str = "merged";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    pub valid: bool,
    pub reason: String,
}

/// What the workflow knows of a case: its status and every field an action changes.
///
/// Serialised field by field into [`HistoryEntry::changes`]; every field is always serialised (an absent value
/// as `null`) so that [`replay`] can set it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub id: Uuid,
    pub status: Status,
    /// The named responsible person (000 §4.2.2 c).
    pub assignee: Option<String>,
    pub classification: Classification,
    pub validity: Option<Validity>,
    /// Set while the case is closed as a duplicate of another.
    pub merged_into: Option<Uuid>,
    /// The latest handling plan proposed.
    pub plan: Option<String>,
    pub resolution: Option<String>,
    pub outcome: Option<String>,
    /// Deadlines moved by `extend_deadline`: clock name → new due time.
    pub extended_deadlines: BTreeMap<String, DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    /// First containment recorded (the 24 h clock of 001 §5.1).
    pub contained_at: Option<DateTime<Utc>>,
    /// First reply to the customer (the 24 h clock of 004 §4.4.3).
    pub first_reply_at: Option<DateTime<Utc>>,
    /// First handling plan proposed (the 10-working-day clock of 000 §4.3.2).
    pub plan_proposed_at: Option<DateTime<Utc>>,
    /// Set while the case is waiting for the customer.
    pub waiting_since: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reopen_count: u32,
}

impl CaseState {
    /// A case as it is opened: `new`, classified by the rules, nobody assigned.
    pub fn new(id: Uuid, classification: Classification) -> Self {
        CaseState {
            id,
            status: Status::New,
            assignee: None,
            classification,
            validity: None,
            merged_into: None,
            plan: None,
            resolution: None,
            outcome: None,
            extended_deadlines: BTreeMap::new(),
            acknowledged_at: None,
            assigned_at: None,
            contained_at: None,
            first_reply_at: None,
            plan_proposed_at: None,
            waiting_since: None,
            resolved_at: None,
            closed_at: None,
            reopen_count: 0,
        }
    }
}

/// One line of a case's history: who did what when, and what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// The actor's staff user id.
    pub actor: String,
    /// The action's name ([`ActionKind::name`]).
    pub action: String,
    /// The action as taken, with its data (texts, reasons).
    pub detail: Value,
    /// Every changed field of [`CaseState`]: `{"field": [old, new]}`; `{}` when nothing changed (a note).
    pub changes: Value,
}

/// The result of a legal action.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub state: CaseState,
    pub entry: HistoryEntry,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkflowError {
    /// The action is not legal in the case's status (409).
    #[error("cannot {action} a case that is {from}")]
    IllegalTransition { from: Status, action: ActionKind },
    /// The action's data is not acceptable (422).
    #[error("{0}")]
    Invalid(String),
}

/// The status `kind` leads to from `from`, or `None` when it is illegal there (the table above). `valid` only
/// matters for `set_validity`.
fn next_status(from: Status, kind: ActionKind, valid: bool) -> Option<Status> {
    use ActionKind as A;
    use Status as S;
    let to = match (kind, from) {
        (A::Acknowledge, S::New) => S::Triaged,
        (A::Acknowledge, S::Assigned | S::Reopened) => S::InProgress,
        (A::Assign, S::New | S::Triaged | S::Reopened) => S::Assigned,
        (A::Reassign, S::Assigned | S::InProgress | S::WaitingForCustomer | S::Replied) => from,
        (A::Reclassify | A::Note, _) if from.is_open() => from,
        (A::RecordContainment, S::Assigned | S::Replied) => S::InProgress,
        (A::RecordContainment, S::New | S::Triaged | S::InProgress | S::WaitingForCustomer | S::Reopened) => from,
        (A::Reply, S::Assigned | S::InProgress | S::WaitingForCustomer | S::Replied) => S::Replied,
        (A::Reply, S::New | S::Triaged | S::Resolved | S::Reopened) => from,
        (A::WaitForCustomer, S::InProgress | S::Replied) => S::WaitingForCustomer,
        (A::CustomerResponded, S::WaitingForCustomer) => S::InProgress,
        (A::SetValidity, _) if from.is_open() => {
            if valid {
                from
            } else {
                S::Rejected
            }
        }
        (A::ProposePlan, S::Assigned | S::Replied) => S::InProgress,
        (A::ProposePlan, S::InProgress | S::WaitingForCustomer) => from,
        (A::ExtendDeadline, _) if from.is_active() => from,
        (A::Resolve, S::InProgress | S::WaitingForCustomer | S::Replied) => S::Resolved,
        (A::Close, S::Resolved | S::Replied) => S::Closed,
        (A::Reject, _) if from.is_open() => S::Rejected,
        (A::Reopen, S::Resolved | S::Closed | S::Rejected) => S::Reopened,
        (A::Merge, _) if from.is_active() => S::Closed,
        _ => return None,
    };
    Some(to)
}

/// Whether `kind` is legal in `status` (its data may still be refused).
pub fn is_legal(status: Status, kind: ActionKind) -> bool {
    next_status(status, kind, true).is_some()
}

/// The actions legal in `status`, for offering them in a user interface.
pub fn legal_actions(status: Status) -> Vec<ActionKind> {
    ActionKind::ALL.into_iter().filter(|k| is_legal(status, *k)).collect()
}

fn require_text(what: &str, value: &str) -> Result<(), WorkflowError> {
    if value.trim().is_empty() {
        Err(WorkflowError::Invalid(format!("{what} must not be blank")))
    } else {
        Ok(())
    }
}

/// Applies `action`, taken by `actor` at `at`, to `state`.
///
/// Legal actions (see the table in the module documentation) with acceptable data give the new state and its
/// history entry; anything else gives an error and no change. Permissions are not checked here: see
/// [`authorize`].
pub fn apply(
    state: &CaseState,
    action: &Action,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Transition, WorkflowError> {
    let kind = action.kind();
    let valid = !matches!(action, Action::SetValidity { valid: false, .. });
    let to = next_status(state.status, kind, valid).ok_or(WorkflowError::IllegalTransition {
        from: state.status,
        action: kind,
    })?;
    let to = if kind == ActionKind::Acknowledge && state.status == Status::New && state.assignee.is_some() {
        Status::Assigned
    } else {
        to
    };
    let mut next = state.clone();
    match action {
        Action::Acknowledge => {
            if state.status == Status::Reopened && state.assignee.is_none() {
                return Err(WorkflowError::Invalid(
                    "the reopened case has nobody assigned: assign it before work resumes".into(),
                ));
            }
            next.acknowledged_at.get_or_insert(at);
        }
        Action::Assign { assignee } => {
            require_text("the assignee", assignee)?;
            next.assignee = Some(assignee.clone());
            next.assigned_at = Some(at);
        }
        Action::Reassign { assignee } => {
            require_text("the assignee", assignee)?;
            if state.assignee.as_deref() == Some(assignee.as_str()) {
                return Err(WorkflowError::Invalid(format!(
                    "the case is already assigned to {assignee}"
                )));
            }
            next.assignee = Some(assignee.clone());
            next.assigned_at = Some(at);
        }
        Action::Reclassify {
            class,
            category,
            severity,
            reason,
        } => {
            require_text("the class", class)?;
            require_text("the category", category)?;
            require_text("the severity", severity)?;
            require_text("the reason", reason)?;
            let c = &state.classification;
            if (&c.class, &c.category, &c.severity) == (class, category, severity) {
                return Err(WorkflowError::Invalid(
                    "the reclassification changes neither class, category nor severity".into(),
                ));
            }
            next.classification = Classification {
                class: class.clone(),
                category: category.clone(),
                severity: severity.clone(),
                rule: MANUAL_RULE.into(),
                reason: reason.clone(),
            };
        }
        Action::Note { text } => require_text("the note", text)?,
        Action::RecordContainment { text } => {
            require_text("the containment", text)?;
            next.contained_at.get_or_insert(at);
        }
        Action::Reply { text } => {
            require_text("the reply", text)?;
            next.first_reply_at.get_or_insert(at);
        }
        Action::WaitForCustomer => next.waiting_since = Some(at),
        Action::CustomerResponded => {}
        Action::SetValidity { valid, reason } => {
            require_text("the reason", reason)?;
            next.validity = Some(Validity {
                valid: *valid,
                reason: reason.clone(),
            });
        }
        Action::ProposePlan { text } => {
            require_text("the plan", text)?;
            next.plan = Some(text.clone());
            next.plan_proposed_at.get_or_insert(at);
        }
        Action::ExtendDeadline { clock, new_due, reason } => {
            require_text("the clock", clock)?;
            require_text("the reason", reason)?;
            if *new_due <= at {
                return Err(WorkflowError::Invalid(format!(
                    "the new due time {new_due} has already passed"
                )));
            }
            if let Some(earlier) = state
                .extended_deadlines
                .get(clock)
                .filter(|earlier| *new_due <= **earlier)
            {
                return Err(WorkflowError::Invalid(format!(
                    "{clock} was already extended to {earlier}; the new due time must be later"
                )));
            }
            next.extended_deadlines.insert(clock.clone(), *new_due);
        }
        Action::Resolve { summary } => {
            require_text("the summary", summary)?;
            next.resolution = Some(summary.clone());
            next.resolved_at = Some(at);
        }
        Action::Close { outcome } => {
            require_text("the outcome", outcome)?;
            next.outcome = Some(outcome.clone());
            next.closed_at = Some(at);
        }
        Action::Reject { reason } => {
            require_text("the reason", reason)?;
            next.validity = Some(Validity {
                valid: false,
                reason: reason.clone(),
            });
        }
        Action::Reopen { reason } => {
            require_text("the reason", reason)?;
            next.reopen_count += 1;
            next.resolution = None;
            next.resolved_at = None;
            next.outcome = None;
            next.closed_at = None;
            next.merged_into = None;
            if state.status == Status::Rejected {
                next.validity = None;
            }
        }
        Action::Merge { into_case, .. } => {
            if *into_case == state.id || into_case.is_nil() {
                return Err(WorkflowError::Invalid("a case cannot be merged into itself".into()));
            }
            next.merged_into = Some(*into_case);
            next.outcome = Some(MERGED_OUTCOME.into());
            next.closed_at = Some(at);
        }
    }
    next.status = to;
    if to != Status::WaitingForCustomer {
        next.waiting_since = None;
    }
    let entry = HistoryEntry {
        at,
        actor: actor.id.clone(),
        action: kind.name().into(),
        detail: serde_json::to_value(action).unwrap_or(Value::Null),
        changes: diff(state, &next),
    };
    Ok(Transition { state: next, entry })
}

fn fields(state: &CaseState) -> Map<String, Value> {
    match serde_json::to_value(state) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// `{"field": [old, new]}` for every field that differs.
pub fn diff(old: &CaseState, new: &CaseState) -> Value {
    let old = fields(old);
    let changes: Map<String, Value> = fields(new)
        .into_iter()
        .filter_map(|(field, value)| {
            let before = old.get(&field).cloned().unwrap_or(Value::Null);
            (before != value).then(|| (field, Value::Array(vec![before, value])))
        })
        .collect();
    Value::Object(changes)
}

/// Rebuilds a case's state from its initial state and its history, by setting every changed field to its new
/// value in order. Changes of what the workflow does not hold (the department, the claim, the report count) are
/// passed over; an entry that cannot be applied (a change not of the form `[old, new]`, or a value of the wrong
/// shape, i.e. a corrupted history) is skipped and logged.
pub fn replay(initial: &CaseState, history: &[HistoryEntry]) -> CaseState {
    history
        .iter()
        .fold(initial.clone(), |state, entry| match replay_entry(&state, entry) {
            Some(next) => next,
            None => {
                let (case, action, at) = (initial.id, &entry.action, entry.at);
                tracing::warn!(%case, %action, %at, "history entry skipped on replay");
                state
            }
        })
}

fn replay_entry(state: &CaseState, entry: &HistoryEntry) -> Option<CaseState> {
    let changes = match &entry.changes {
        Value::Null => return Some(state.clone()),
        Value::Object(changes) => changes,
        _ => return None,
    };
    let mut map = fields(state);
    for (field, pair) in changes {
        let new = pair.as_array().filter(|p| p.len() == 2)?.get(1)?;
        if let Some(value) = map.get_mut(field) {
            *value = new.clone();
        }
    }
    serde_json::from_value(Value::Object(map)).ok()
}

const ALL_STAFF: &[Role] = &[
    Role::Agent,
    Role::Handler,
    Role::DepartmentHead,
    Role::QualityEngineer,
    Role::MarketingManager,
    Role::GeneralManager,
    Role::ManagementRepresentative,
    Role::Administrator,
];

/// Staff who handle cases (everyone but agents, who register feedback and talk to customers).
const HANDLING: &[Role] = &[
    Role::Handler,
    Role::DepartmentHead,
    Role::QualityEngineer,
    Role::MarketingManager,
    Role::GeneralManager,
    Role::ManagementRepresentative,
    Role::Administrator,
];

/// Staff who decide who handles a case and when it is finished.
const SUPERVISING: &[Role] = &[
    Role::DepartmentHead,
    Role::MarketingManager,
    Role::GeneralManager,
    Role::ManagementRepresentative,
    Role::Administrator,
];

/// The roles that may take `action` (any one of them suffices). Auditors appear nowhere: they only read.
///
/// - all staff but auditors: acknowledge, reclassify, note, reply, wait_for_customer, customer_responded, reopen;
/// - handling staff (all but agents and auditors): record_containment, set_validity, propose_plan,
///   extend_deadline, resolve, reject, merge;
/// - supervisors (department head, marketing and general manager, management representative, administrator):
///   assign, reassign, close.
pub fn required_roles(action: ActionKind) -> &'static [Role] {
    use ActionKind as A;
    match action {
        A::Acknowledge | A::Reclassify | A::Note | A::Reply | A::WaitForCustomer | A::CustomerResponded | A::Reopen => {
            ALL_STAFF
        }
        A::RecordContainment
        | A::SetValidity
        | A::ProposePlan
        | A::ExtendDeadline
        | A::Resolve
        | A::Reject
        | A::Merge => HANDLING,
        A::Assign | A::Reassign | A::Close => SUPERVISING,
    }
}

/// Roles that may act on the cases of every department and site.
const ALL_CASES: &[Role] = &[
    Role::MarketingManager,
    Role::GeneralManager,
    Role::ManagementRepresentative,
    Role::Administrator,
];

/// Roles that may act on the cases of their own department and sites only.
const OWN_DEPARTMENT_AND_SITE: &[Role] = &[Role::Agent, Role::Handler, Role::QualityEngineer];

/// Whether `actor` may act on a case of `case_department` at `case_site`; `Err` carries the reason for the 403.
///
/// Managers (marketing, general, management representative) and administrators: every case. Department heads:
/// every case of their department, at any site. Handlers, agents and quality engineers: cases of their department
/// at their sites (no sites means all). Auditors: none (they only read). The most permissive role held counts.
pub fn may_act(actor: &Actor, case_department: &str, case_site: &str) -> Result<(), String> {
    if actor.has_any(ALL_CASES) {
        return Ok(());
    }
    let own_department = actor.department.as_deref() == Some(case_department);
    if actor.has(Role::DepartmentHead) && own_department {
        return Ok(());
    }
    let own_site = actor.sites.is_empty() || actor.sites.iter().any(|s| s == case_site);
    if actor.has_any(OWN_DEPARTMENT_AND_SITE) && own_department && own_site {
        return Ok(());
    }
    let who = &actor.id;
    if !actor.has_any(ALL_STAFF) {
        return Err(if actor.has(Role::Auditor) {
            format!("{who} is an auditor: auditors may read cases but not change them")
        } else {
            format!("{who} holds no role that may change cases")
        });
    }
    if !own_department {
        let theirs = actor.department.as_deref().unwrap_or("no department");
        return Err(format!(
            "the case belongs to department {case_department}; {who} works for {theirs}"
        ));
    }
    Err(format!(
        "the case belongs to site {case_site}, which {who} does not work for"
    ))
}

/// [`required_roles`] and [`may_act`] together: whether `actor` may take `action` on a case of
/// `case_department` at `case_site`; `Err` carries the reason for the 403.
pub fn authorize(actor: &Actor, action: ActionKind, case_department: &str, case_site: &str) -> Result<(), String> {
    let roles = required_roles(action);
    if !actor.has_any(roles) {
        let names: Vec<&str> = roles.iter().map(role_name).collect();
        return Err(format!("{action} requires one of the roles {}", names.join(", ")));
    }
    may_act(actor, case_department, case_site)
}

pub fn role_name(role: &Role) -> &'static str {
    match role {
        Role::Agent => "agent",
        Role::Handler => "handler",
        Role::DepartmentHead => "department_head",
        Role::QualityEngineer => "quality_engineer",
        Role::MarketingManager => "marketing_manager",
        Role::GeneralManager => "general_manager",
        Role::ManagementRepresentative => "management_representative",
        Role::Administrator => "administrator",
        Role::Auditor => "auditor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap()
    }

    fn case_id() -> Uuid {
        Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)
    }

    fn initial() -> CaseState {
        CaseState::new(
            case_id(),
            Classification {
                class: "complaint".into(),
                category: "product_quality".into(),
                severity: "important".into(),
                rule: "product-defect".into(),
                reason: "the text mentions \u{201c}破损\u{201d}".into(),
            },
        )
    }

    fn actor(roles: &[Role], department: Option<&str>, sites: &[&str]) -> Actor {
        Actor {
            id: "u1".into(),
            name: "张伟".into(),
            roles: roles.to_vec(),
            department: department.map(str::to_owned),
            sites: sites.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn admin() -> Actor {
        actor(&[Role::Administrator], None, &[])
    }

    fn sample(kind: ActionKind) -> Action {
        let text = || "文本 text".to_string();
        match kind {
            ActionKind::Acknowledge => Action::Acknowledge,
            ActionKind::Assign => Action::Assign { assignee: "u2".into() },
            ActionKind::Reassign => Action::Reassign { assignee: "u3".into() },
            ActionKind::Reclassify => Action::Reclassify {
                class: "complaint".into(),
                category: "logistics".into(),
                severity: "general".into(),
                reason: "damaged in transit".into(),
            },
            ActionKind::Note => Action::Note { text: text() },
            ActionKind::RecordContainment => Action::RecordContainment { text: text() },
            ActionKind::Reply => Action::Reply { text: text() },
            ActionKind::WaitForCustomer => Action::WaitForCustomer,
            ActionKind::CustomerResponded => Action::CustomerResponded,
            ActionKind::SetValidity => Action::SetValidity {
                valid: false,
                reason: "misunderstanding of the instructions".into(),
            },
            ActionKind::ProposePlan => Action::ProposePlan { text: text() },
            ActionKind::ExtendDeadline => Action::ExtendDeadline {
                clock: "formal_reply".into(),
                new_due: t0() + Duration::days(10),
                reason: "waiting for the lab".into(),
            },
            ActionKind::Resolve => Action::Resolve { summary: text() },
            ActionKind::Close => Action::Close {
                outcome: "resolved".into(),
            },
            ActionKind::Reject => Action::Reject {
                reason: "not our product".into(),
            },
            ActionKind::Reopen => Action::Reopen {
                reason: "the customer called again".into(),
            },
            ActionKind::Merge => Action::Merge {
                into_case: Uuid::from_u128(42),
                reason: Some("the same batch".into()),
            },
        }
    }

    /// A case in `status` with someone assigned, as it would be after reaching it.
    fn in_status(status: Status) -> CaseState {
        let mut s = initial();
        s.status = status;
        s.assignee = Some("u1".into());
        if status == Status::Rejected {
            s.validity = Some(Validity {
                valid: false,
                reason: "invalid".into(),
            });
        }
        s
    }

    /// The transition table of the module documentation, written out independently: `.` illegal, `=` legal and
    /// the status stays, otherwise the status reached (`set_validity` is sampled with `valid: false`).
    const TABLE: &[(&str, &str)] = &[
        //                     new tri asg inp wfc rep res clo rej reo
        ("acknowledge", "        asg .   inp .   .   .   .   .   .   inp"),
        ("assign", "             asg asg .   .   .   .   .   .   .   asg"),
        ("reassign", "           .   .   =   =   =   =   .   .   .   .  "),
        ("reclassify", "         =   =   =   =   =   =   =   .   .   =  "),
        ("note", "               =   =   =   =   =   =   =   .   .   =  "),
        ("record_containment", " =   =   inp =   =   inp .   .   .   =  "),
        ("reply", "              =   =   rep rep rep =   =   .   .   =  "),
        ("wait_for_customer", "  .   .   .   wfc .   wfc .   .   .   .  "),
        ("customer_responded", " .   .   .   .   inp .   .   .   .   .  "),
        ("set_validity", "       rej rej rej rej rej rej rej .   .   rej"),
        ("propose_plan", "       .   .   inp =   =   inp .   .   .   .  "),
        ("extend_deadline", "    =   =   =   =   =   =   .   .   .   =  "),
        ("resolve", "            .   .   .   res res res .   .   .   .  "),
        ("close", "              .   .   .   .   .   clo clo .   .   .  "),
        ("reject", "             rej rej rej rej rej rej rej .   .   rej"),
        ("reopen", "             .   .   .   .   .   .   reo reo reo .  "),
        ("merge", "              clo clo clo clo clo clo .   .   .   clo"),
    ];

    fn status_code(code: &str, from: Status) -> Option<Status> {
        Some(match code {
            "." => return None,
            "=" => from,
            "tri" => Status::Triaged,
            "asg" => Status::Assigned,
            "inp" => Status::InProgress,
            "wfc" => Status::WaitingForCustomer,
            "rep" => Status::Replied,
            "res" => Status::Resolved,
            "clo" => Status::Closed,
            "rej" => Status::Rejected,
            "reo" => Status::Reopened,
            other => panic!("unknown code {other}"),
        })
    }

    #[test]
    fn every_status_and_action_pair_follows_the_table() {
        assert_eq!(TABLE.len(), ActionKind::ALL.len());
        for (kind, (name, row)) in ActionKind::ALL.into_iter().zip(TABLE) {
            assert_eq!(kind.name(), *name);
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells.len(), Status::ALL.len(), "row {name}");
            for (from, cell) in Status::ALL.into_iter().zip(cells) {
                let state = in_status(from);
                let expected = status_code(cell, from);
                let result = apply(&state, &sample(kind), &admin(), t0());
                match (expected, result) {
                    (Some(to), Ok(t)) => {
                        assert_eq!(t.state.status, to, "{kind} from {from}");
                        assert!(is_legal(from, kind));
                        assert!(legal_actions(from).contains(&kind));
                        assert_eq!(t.entry.action, kind.name());
                        assert_eq!(replay(&state, std::slice::from_ref(&t.entry)), t.state);
                    }
                    (None, Err(e)) => {
                        assert_eq!(e, WorkflowError::IllegalTransition { from, action: kind });
                        assert!(!is_legal(from, kind));
                    }
                    (expected, result) => panic!("{kind} from {from}: expected {expected:?}, got {result:?}"),
                }
            }
        }
    }

    #[test]
    fn acknowledging_a_new_case_hands_it_over_when_somebody_is_responsible_already() {
        let unassigned = initial();
        let t = apply(&unassigned, &Action::Acknowledge, &admin(), t0()).unwrap();
        assert_eq!(t.state.status, Status::Triaged, "a supervisor assigns it next");
        let t = apply(&in_status(Status::New), &Action::Acknowledge, &admin(), t0()).unwrap();
        assert_eq!(
            t.state.status,
            Status::Assigned,
            "the department's rule named u1 when it opened"
        );
        assert_eq!(t.state.assignee.as_deref(), Some("u1"));
    }

    #[test]
    fn illegal_transition_message_names_the_action_and_status() {
        let err = apply(&in_status(Status::Closed), &sample(ActionKind::Note), &admin(), t0()).unwrap_err();
        assert_eq!(err.to_string(), "cannot note a case that is closed");
    }

    #[test]
    fn set_validity_true_keeps_the_status_and_false_rejects() {
        for from in Status::ALL.into_iter().filter(|s| s.is_open()) {
            let action = Action::SetValidity {
                valid: true,
                reason: "our fault".into(),
            };
            let t = apply(&in_status(from), &action, &admin(), t0()).unwrap();
            assert_eq!(t.state.status, from);
            assert_eq!(t.state.validity.as_ref().map(|v| v.valid), Some(true));
        }
        let t = apply(
            &in_status(Status::InProgress),
            &sample(ActionKind::SetValidity),
            &admin(),
            t0(),
        )
        .unwrap();
        assert_eq!(t.state.status, Status::Rejected);
        assert_eq!(t.state.validity.map(|v| v.valid), Some(false));
    }

    #[test]
    fn happy_path_records_who_when_and_what() {
        let steps = [
            Action::Acknowledge,
            Action::Assign { assignee: "u7".into() },
            Action::RecordContainment {
                text: "stopped shipments of batch B-17".into(),
            },
            Action::Reply {
                text: "您好，我们已收到您的投诉".into(),
            },
            Action::Resolve {
                summary: "replaced".into(),
            },
            Action::Close {
                outcome: "resolved".into(),
            },
        ];
        let mut state = initial();
        let mut history = vec![];
        for (i, action) in steps.iter().enumerate() {
            let at = t0() + Duration::hours(i as i64);
            let t = apply(&state, action, &admin(), at).unwrap();
            assert_eq!(t.entry.at, at);
            assert_eq!(t.entry.actor, "u1");
            state = t.state;
            history.push(t.entry);
        }
        assert_eq!(state.status, Status::Closed);
        assert_eq!(state.assignee.as_deref(), Some("u7"));
        assert_eq!(state.contained_at, Some(t0() + Duration::hours(2)));
        assert_eq!(state.first_reply_at, Some(t0() + Duration::hours(3)));
        assert_eq!(history[1].changes["assignee"], serde_json::json!([null, "u7"]));
        assert_eq!(history[1].changes["status"], serde_json::json!(["triaged", "assigned"]));
        assert_eq!(history[3].detail["text"], "您好，我们已收到您的投诉");
        assert_eq!(replay(&initial(), &history), state);
    }

    #[test]
    fn a_note_changes_nothing_but_is_recorded() {
        let state = in_status(Status::InProgress);
        let t = apply(&state, &sample(ActionKind::Note), &admin(), t0()).unwrap();
        assert_eq!(t.state, state);
        assert_eq!(t.entry.changes, serde_json::json!({}));
        assert_eq!(
            t.entry.detail,
            serde_json::json!({"action": "note", "text": "文本 text"})
        );
    }

    #[test]
    fn invalid_data_is_refused() {
        let inp = in_status(Status::InProgress);
        let invalid = |state: &CaseState, action: Action| {
            assert!(
                matches!(apply(state, &action, &admin(), t0()), Err(WorkflowError::Invalid(_))),
                "{action:?}"
            );
        };
        invalid(&inp, Action::Note { text: "  ".into() });
        invalid(&inp, Action::Reassign { assignee: "u1".into() });
        invalid(
            &inp,
            Action::Reclassify {
                class: "complaint".into(),
                category: "product_quality".into(),
                severity: "important".into(),
                reason: "same".into(),
            },
        );
        invalid(
            &inp,
            Action::Merge {
                into_case: case_id(),
                reason: None,
            },
        );
        invalid(
            &inp,
            Action::Merge {
                into_case: Uuid::nil(),
                reason: None,
            },
        );
        invalid(
            &inp,
            Action::ExtendDeadline {
                clock: "formal_reply".into(),
                new_due: t0(),
                reason: "late".into(),
            },
        );
        let extended = apply(&inp, &sample(ActionKind::ExtendDeadline), &admin(), t0())
            .unwrap()
            .state;
        invalid(
            &extended,
            Action::ExtendDeadline {
                clock: "formal_reply".into(),
                new_due: t0() + Duration::days(9),
                reason: "shorter".into(),
            },
        );
        let mut reopened = in_status(Status::Reopened);
        reopened.assignee = None;
        invalid(&reopened, Action::Acknowledge);
    }

    #[test]
    fn merge_closes_the_duplicate_and_reopen_unmerges_it() {
        let merged = apply(&in_status(Status::Triaged), &sample(ActionKind::Merge), &admin(), t0())
            .unwrap()
            .state;
        assert_eq!(merged.status, Status::Closed);
        assert_eq!(merged.merged_into, Some(Uuid::from_u128(42)));
        assert_eq!(merged.outcome.as_deref(), Some(MERGED_OUTCOME));
        let reopened = apply(&merged, &sample(ActionKind::Reopen), &admin(), t0())
            .unwrap()
            .state;
        assert_eq!(reopened.status, Status::Reopened);
        assert_eq!(reopened.merged_into, None);
        assert_eq!(reopened.reopen_count, 1);
    }

    #[test]
    fn waiting_for_customer_and_back() {
        let waiting = apply(&in_status(Status::Replied), &Action::WaitForCustomer, &admin(), t0())
            .unwrap()
            .state;
        assert_eq!(waiting.waiting_since, Some(t0()));
        let back = apply(&waiting, &Action::CustomerResponded, &admin(), t0())
            .unwrap()
            .state;
        assert_eq!(back.status, Status::InProgress);
        assert_eq!(back.waiting_since, None);
    }

    #[test]
    fn statuses_and_actions_serialise_as_snake_case() {
        assert_eq!(
            serde_json::to_value(Status::WaitingForCustomer).unwrap(),
            "waiting_for_customer"
        );
        for s in Status::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in ActionKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
            assert_eq!(serde_json::to_value(sample(k)).unwrap()["action"], k.name());
        }
        let parsed: Action = serde_json::from_value(serde_json::json!({
            "action": "extend_deadline", "clock": "first_reply", "new_due": "2026-11-25T08:00:00Z", "reason": "r"
        }))
        .unwrap();
        assert_eq!(parsed.kind(), ActionKind::ExtendDeadline);
    }

    #[test]
    fn auditors_can_take_no_action() {
        for kind in ActionKind::ALL {
            assert!(!required_roles(kind).contains(&Role::Auditor), "{kind}");
            assert!(!required_roles(kind).is_empty(), "{kind}");
            let auditor = actor(&[Role::Auditor], Some("quality"), &[]);
            assert!(authorize(&auditor, kind, "quality", "sh01").is_err());
        }
    }

    #[test]
    fn role_requirements_per_action() {
        let agent = actor(&[Role::Agent], Some("sales"), &[]);
        assert!(authorize(&agent, ActionKind::Reply, "sales", "sh01").is_ok());
        let err = authorize(&agent, ActionKind::Resolve, "sales", "sh01").unwrap_err();
        assert!(err.contains("resolve requires one of the roles"), "{err}");
        let handler = actor(&[Role::Handler], Some("sales"), &[]);
        assert!(authorize(&handler, ActionKind::Resolve, "sales", "sh01").is_ok());
        assert!(authorize(&handler, ActionKind::Assign, "sales", "sh01").is_err());
        assert!(authorize(&handler, ActionKind::Close, "sales", "sh01").is_err());
        let head = actor(&[Role::DepartmentHead], Some("sales"), &["sh01"]);
        assert!(authorize(&head, ActionKind::Assign, "sales", "bj01").is_ok());
    }

    #[test]
    fn department_and_site_checks() {
        let handler = actor(&[Role::Handler], Some("quality"), &["sh01"]);
        assert!(may_act(&handler, "quality", "sh01").is_ok());
        let err = may_act(&handler, "quality", "bj01").unwrap_err();
        assert!(err.contains("site bj01"), "{err}");
        let err = may_act(&handler, "sales", "sh01").unwrap_err();
        assert!(err.contains("department sales"), "{err}");

        let everywhere = actor(&[Role::Agent], Some("sales"), &[]);
        assert!(may_act(&everywhere, "sales", "gz01").is_ok());
        assert!(may_act(&everywhere, "quality", "gz01").is_err());
        assert!(may_act(&actor(&[Role::Handler], None, &[]), "quality", "sh01").is_err());

        let head = actor(&[Role::DepartmentHead], Some("quality"), &["sh01"]);
        assert!(may_act(&head, "quality", "bj01").is_ok());
        assert!(may_act(&head, "sales", "sh01").is_err());

        for role in [
            Role::MarketingManager,
            Role::GeneralManager,
            Role::ManagementRepresentative,
            Role::Administrator,
        ] {
            assert!(
                may_act(&actor(&[role], None, &["sh01"]), "technical", "bj01").is_ok(),
                "{role:?}"
            );
        }

        let auditor = actor(&[Role::Auditor], Some("quality"), &[]);
        assert!(may_act(&auditor, "quality", "sh01").unwrap_err().contains("auditor"));
        let auditor_and_handler = actor(&[Role::Auditor, Role::Handler], Some("quality"), &[]);
        assert!(may_act(&auditor_and_handler, "quality", "sh01").is_ok());
    }

    #[test]
    fn replay_skips_a_corrupted_entry() {
        let t = apply(&initial(), &Action::Acknowledge, &admin(), t0()).unwrap();
        let mut bad = t.entry.clone();
        bad.changes = serde_json::json!({"status": "closed"});
        assert_eq!(replay(&initial(), &[bad, t.entry.clone()]), t.state);
        let mut wrong_shape = t.entry.clone();
        wrong_shape.changes = serde_json::json!({"status": [null, 42]});
        assert_eq!(replay(&initial(), &[wrong_shape, t.entry]), t.state);
    }

    #[test]
    fn replay_applies_an_entry_that_also_changed_what_the_workflow_does_not_hold() {
        let t = apply(
            &initial(),
            &Action::Reclassify {
                class: "complaint".into(),
                category: "logistics".into(),
                severity: "general".into(),
                reason: "transport damage".into(),
            },
            &admin(),
            t0(),
        )
        .unwrap();
        let mut stored = t.entry.clone();
        // What the HTTP layer adds to the stored entry: the case's new department.
        stored.changes["department"] = serde_json::json!(["quality", "sales"]);
        assert_eq!(replay(&initial(), &[stored]), t.state);
    }

    fn arb_text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("  ".to_string()),
            Just("ok".to_string()),
            Just("好的".to_string())
        ]
    }

    fn arb_person() -> impl Strategy<Value = String> {
        prop_oneof![Just("u1".to_string()), Just("u2".to_string()), Just("".to_string())]
    }

    fn arb_action() -> impl Strategy<Value = Action> {
        let word = |words: &'static [&'static str]| proptest::sample::select(words).prop_map(str::to_owned);
        prop_oneof![
            3 => Just(Action::Acknowledge),
            3 => arb_person().prop_map(|assignee| Action::Assign { assignee }),
            1 => arb_person().prop_map(|assignee| Action::Reassign { assignee }),
            1 => (
                word(&["complaint", "general"]),
                word(&["product_quality", "logistics"]),
                word(&["major", "general"]),
                arb_text()
            )
                .prop_map(|(class, category, severity, reason)| Action::Reclassify {
                    class,
                    category,
                    severity,
                    reason
                }),
            1 => arb_text().prop_map(|text| Action::Note { text }),
            1 => arb_text().prop_map(|text| Action::RecordContainment { text }),
            2 => arb_text().prop_map(|text| Action::Reply { text }),
            2 => Just(Action::WaitForCustomer),
            2 => Just(Action::CustomerResponded),
            1 => (any::<bool>(), arb_text()).prop_map(|(valid, reason)| Action::SetValidity { valid, reason }),
            1 => arb_text().prop_map(|text| Action::ProposePlan { text }),
            1 => (word(&["first_reply", "formal_reply"]), -48i64..240, arb_text()).prop_map(|(clock, hours, reason)| {
                Action::ExtendDeadline {
                    clock,
                    new_due: t0() + Duration::hours(hours),
                    reason,
                }
            }),
            2 => arb_text().prop_map(|summary| Action::Resolve { summary }),
            2 => arb_text().prop_map(|outcome| Action::Close { outcome }),
            1 => arb_text().prop_map(|reason| Action::Reject { reason }),
            2 => arb_text().prop_map(|reason| Action::Reopen { reason }),
            1 => prop_oneof![Just(case_id()), Just(Uuid::from_u128(7)), Just(Uuid::nil())]
                .prop_map(|into_case| Action::Merge { into_case, reason: None }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn history_always_replays_to_the_current_state(actions in proptest::collection::vec(arb_action(), 0..80)) {
            let initial = initial();
            let mut state = initial.clone();
            let mut history: Vec<HistoryEntry> = vec![];
            for (i, action) in actions.iter().enumerate() {
                let at = t0() + Duration::minutes(i as i64 * 7);
                let before = state.clone();
                let entries = history.len();
                match apply(&state, action, &admin(), at) {
                    Ok(t) => {
                        prop_assert!(is_legal(before.status, action.kind()));
                        prop_assert_eq!(t.entry.at, at);
                        prop_assert_eq!(&t.entry.action, action.kind().name());
                        state = t.state;
                        history.push(t.entry);
                    }
                    Err(WorkflowError::IllegalTransition { from, action: kind }) => {
                        prop_assert_eq!(from, before.status);
                        prop_assert_eq!(kind, action.kind());
                        prop_assert!(!is_legal(before.status, kind));
                    }
                    Err(WorkflowError::Invalid(_)) => prop_assert!(is_legal(before.status, action.kind())),
                }
                if history.len() == entries {
                    // An illegal or invalid action changes nothing and records nothing.
                    prop_assert_eq!(&state, &before);
                }
                // The history, stored as JSON and read back, replays to the current state.
                let stored = serde_json::to_string(&history).unwrap();
                let loaded: Vec<HistoryEntry> = serde_json::from_str(&stored).unwrap();
                prop_assert_eq!(&replay(&initial, &loaded), &state);
                // Invariants of the table.
                let working = [Status::Assigned, Status::InProgress, Status::WaitingForCustomer, Status::Replied];
                if working.contains(&state.status) || state.status == Status::Resolved {
                    prop_assert!(state.assignee.is_some(), "{} without an assignee", state.status);
                }
                prop_assert_eq!(state.status == Status::Rejected, state.validity.as_ref().is_some_and(|v| !v.valid));
                prop_assert_eq!(state.status == Status::WaitingForCustomer, state.waiting_since.is_some());
                if state.merged_into.is_some() {
                    prop_assert_eq!(state.status, Status::Closed);
                }
            }
        }
    }
}
