//! Corrective and preventive action records (CAPA; 000 §4.3.2 b, §4.1.4 《纠正和预防措施报告》), linked to
//! the cases that revealed the problem. Open → implemented → verified → closed; a verification that finds the
//! action ineffective sends it back to open, so nothing is closed on paper only.
use auth::Role;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, Deserialize)]
pub struct CapaSettings {
    /// Who opens and works CAPA records.
    pub editor_roles: Vec<Role>,
    /// Who verifies effect and closes (not the person who implemented it).
    pub verifier_roles: Vec<Role>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapaKind {
    Corrective,
    Preventive,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapaStatus {
    Open,
    Implemented,
    Verified,
    Closed,
}

impl CapaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CapaStatus::Open => "open",
            CapaStatus::Implemented => "implemented",
            CapaStatus::Verified => "verified",
            CapaStatus::Closed => "closed",
        }
    }
}

/// The actions on a record, as named in `POST /api/v1/capa/{id}/{action}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum CapaAction {
    Implement { note: String },
    Verify { effective: bool, note: String },
    Close { note: String },
}

impl CapaAction {
    pub fn name(&self) -> &'static str {
        match self {
            CapaAction::Implement { .. } => "implement",
            CapaAction::Verify { .. } => "verify",
            CapaAction::Close { .. } => "close",
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCapa {
    pub kind: CapaKind,
    pub title: String,
    /// The problem and its root cause, as analysed.
    pub problem: String,
    pub action_plan: String,
    pub owner: String,
    pub due_date: NaiveDate,
    /// Case ids or references the record is linked to (at least one).
    pub cases: Vec<String>,
}

#[derive(Debug, Error, PartialEq)]
pub enum CapaError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("a CAPA record cannot `{action}` while it is {status}")]
    IllegalTransition { action: &'static str, status: &'static str },
}

pub fn validate_new(new: &NewCapa, today: NaiveDate) -> Result<(), CapaError> {
    let invalid = |field, message: &str| {
        Err(CapaError::Invalid {
            field,
            message: message.into(),
        })
    };
    for (field, value, max) in [
        ("title", &new.title, 300),
        ("problem", &new.problem, 20_000),
        ("action_plan", &new.action_plan, 20_000),
        ("owner", &new.owner, 200),
    ] {
        let v = value.trim();
        if v.is_empty() {
            return invalid(field, "is required");
        }
        if v.chars().count() > max {
            return invalid(field, &format!("at most {max} characters"));
        }
        if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            return invalid(field, "contains control characters");
        }
    }
    if new.due_date < today {
        return invalid("due_date", "lies in the past");
    }
    if new.cases.is_empty() {
        return invalid("cases", "link the record to at least one case");
    }
    Ok(())
}

/// The next status, or why not. Notes are required: they are the record of what was done and seen.
pub fn transition(status: CapaStatus, action: &CapaAction) -> Result<CapaStatus, CapaError> {
    let note = match action {
        CapaAction::Implement { note } | CapaAction::Verify { note, .. } | CapaAction::Close { note } => note,
    };
    if note.trim().is_empty() {
        return Err(CapaError::Invalid {
            field: "note",
            message: "is required".into(),
        });
    }
    use CapaStatus as S;
    match (status, action) {
        (S::Open, CapaAction::Implement { .. }) => Ok(S::Implemented),
        (S::Implemented, CapaAction::Verify { effective: true, .. }) => Ok(S::Verified),
        (S::Implemented, CapaAction::Verify { effective: false, .. }) => Ok(S::Open),
        (S::Verified, CapaAction::Close { .. }) => Ok(S::Closed),
        _ => Err(CapaError::IllegalTransition {
            action: action.name(),
            status: status.as_str(),
        }),
    }
}

/// One entry of a record's history.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CapaEvent {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn implement() -> CapaAction {
        CapaAction::Implement { note: "done".into() }
    }
    fn verify(effective: bool) -> CapaAction {
        CapaAction::Verify {
            effective,
            note: "checked".into(),
        }
    }
    fn close() -> CapaAction {
        CapaAction::Close { note: "ok".into() }
    }

    #[test]
    fn a_record_goes_open_implemented_verified_closed_and_an_ineffective_one_back_to_open() {
        use CapaStatus as S;
        assert_eq!(transition(S::Open, &implement()), Ok(S::Implemented));
        assert_eq!(transition(S::Implemented, &verify(false)), Ok(S::Open));
        assert_eq!(transition(S::Implemented, &verify(true)), Ok(S::Verified));
        assert_eq!(transition(S::Verified, &close()), Ok(S::Closed));
        for (status, action) in [
            (S::Open, verify(true)),
            (S::Open, close()),
            (S::Implemented, close()),
            (S::Verified, implement()),
            (S::Closed, implement()),
            (S::Closed, verify(true)),
            (S::Closed, close()),
        ] {
            assert!(
                matches!(transition(status, &action), Err(CapaError::IllegalTransition { .. })),
                "{status:?} {action:?}"
            );
        }
        assert!(matches!(
            transition(S::Open, &CapaAction::Implement { note: " ".into() }),
            Err(CapaError::Invalid { field: "note", .. })
        ));
    }

    #[test]
    fn a_new_record_needs_its_fields_a_future_due_date_and_a_case() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let good = NewCapa {
            kind: CapaKind::Corrective,
            title: "Mould temperature".into(),
            problem: "cracks".into(),
            action_plan: "replace heater".into(),
            owner: "qe1".into(),
            due_date: today,
            cases: vec!["SH01-20261120-0001".into()],
        };
        assert_eq!(validate_new(&good, today), Ok(()));
        let field = |c: NewCapa| match validate_new(&c, today) {
            Err(CapaError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(NewCapa {
                title: "".into(),
                ..good.clone()
            }),
            "title"
        );
        assert_eq!(
            field(NewCapa {
                due_date: today.pred_opt().unwrap(),
                ..good.clone()
            }),
            "due_date"
        );
        assert_eq!(field(NewCapa { cases: vec![], ..good }), "cases");
    }
}
