//! Splitting a report that was linked to a case as a duplicate (dedup, domain.md §2) back out into a case of
//! its own, when the link was wrong ("un-merge"). Pure: the HTTP layer (`routes::split`) loads the case and the
//! report, asks [`authorize`] and [`check`], then opens the new case the way new feedback opens one.
use super::workflow::{self, ActionKind, Actor, Status};

/// The `case.changed` action (and history entry) on the case the report leaves.
pub const ACTION: &str = "report_split";

/// A report of the case as far as splitting cares.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedReport {
    /// The report that opened the case (it *is* the case; there is nothing to split it from).
    pub first: bool,
    /// The received feedback is stored (reports linked before migration 10 have none).
    pub has_content: bool,
}

/// Why a split is refused; nothing changes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    /// 409: a closed or rejected case keeps its reports.
    #[error("the case is {0}: reports can be split only from an open case (reopen it first)")]
    CaseFinished(Status),
    /// 422 `reason`.
    #[error("a reason is required")]
    ReasonMissing,
    /// 422 `report`.
    #[error("{0} is not one of the reports linked to this case")]
    NotLinked(String),
    /// 422 `report`.
    #[error("{0} is the report that opened this case; only the reports linked to it later can be split out")]
    FirstReport(String),
    /// 422 `report`.
    #[error("{0} was linked before triage kept the content of linked reports; it cannot be reopened as a case")]
    NoContent(String),
}

impl SplitError {
    /// The request field the refusal is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            SplitError::CaseFinished(_) => None,
            SplitError::ReasonMissing => Some("reason"),
            SplitError::NotLinked(_) | SplitError::FirstReport(_) | SplitError::NoContent(_) => Some("report"),
        }
    }
}

/// The staff who may merge a duplicate into another case may split a linked one out again: handling staff
/// ([`workflow::required_roles`] of `merge`) acting on a case of their department and site
/// ([`workflow::may_act`]). `Err` carries the reason for the 403.
pub fn authorize(actor: &Actor, case_department: &str, case_site: &str) -> Result<(), String> {
    let roles = workflow::required_roles(ActionKind::Merge);
    if !actor.has_any(roles) {
        let names: Vec<&str> = roles.iter().map(workflow::role_name).collect();
        return Err(format!("split requires one of the roles {}", names.join(", ")));
    }
    workflow::may_act(actor, case_department, case_site)
}

/// Whether `report_reference` may be split out of a case in `status`; `report` is that report when it belongs
/// to this case. The status is checked first (like a workflow action: 409 before the data), then the data.
pub fn check(
    status: Status,
    reason: &str,
    report_reference: &str,
    report: Option<&LinkedReport>,
) -> Result<(), SplitError> {
    if !status.is_open() {
        return Err(SplitError::CaseFinished(status));
    }
    if reason.trim().is_empty() {
        return Err(SplitError::ReasonMissing);
    }
    let reference = report_reference.to_owned();
    match report {
        None => Err(SplitError::NotLinked(reference)),
        Some(r) if r.first => Err(SplitError::FirstReport(reference)),
        Some(r) if !r.has_content => Err(SplitError::NoContent(reference)),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth::Role;

    const LINKED: LinkedReport = LinkedReport {
        first: false,
        has_content: true,
    };

    fn actor(roles: Vec<Role>, department: &str, sites: &[&str]) -> Actor {
        Actor {
            id: "u1".into(),
            name: "U".into(),
            roles,
            department: Some(department.into()),
            sites: sites.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_linked_report_with_content_splits_from_any_open_case() {
        for status in Status::ALL.into_iter().filter(|s| s.is_open()) {
            assert_eq!(
                check(status, "different batch", "R-2", Some(&LINKED)),
                Ok(()),
                "{status}"
            );
        }
    }

    #[test]
    fn finished_cases_blank_reasons_and_other_reports_are_refused() {
        for status in [Status::Closed, Status::Rejected] {
            let e = check(status, "x", "R-2", Some(&LINKED)).unwrap_err();
            assert_eq!(e, SplitError::CaseFinished(status));
            assert_eq!(e.field(), None);
        }
        assert_eq!(
            check(Status::New, "  ", "R-2", Some(&LINKED)),
            Err(SplitError::ReasonMissing)
        );
        assert_eq!(SplitError::ReasonMissing.field(), Some("reason"));
        let not_here = check(Status::New, "x", "R-9", None).unwrap_err();
        assert_eq!(not_here, SplitError::NotLinked("R-9".into()));
        assert_eq!(not_here.field(), Some("report"));
        let first = LinkedReport {
            first: true,
            has_content: true,
        };
        assert_eq!(
            check(Status::New, "x", "R-1", Some(&first)),
            Err(SplitError::FirstReport("R-1".into()))
        );
        let old = LinkedReport {
            first: false,
            has_content: false,
        };
        assert_eq!(
            check(Status::New, "x", "R-2", Some(&old)),
            Err(SplitError::NoContent("R-2".into()))
        );
    }

    #[test]
    fn authorised_like_merge() {
        assert!(authorize(&actor(vec![Role::Handler], "quality", &["sh01"]), "quality", "sh01").is_ok());
        assert!(authorize(&actor(vec![Role::DepartmentHead], "quality", &[]), "quality", "bj01").is_ok());
        assert!(authorize(&actor(vec![Role::GeneralManager], "gm", &[]), "quality", "sh01").is_ok());
        let other_department = authorize(&actor(vec![Role::Handler], "sales", &["sh01"]), "quality", "sh01");
        assert!(other_department.unwrap_err().contains("department quality"));
        let other_site = authorize(&actor(vec![Role::Handler], "quality", &["bj01"]), "quality", "sh01");
        assert!(other_site.unwrap_err().contains("site sh01"));
        let agent = authorize(&actor(vec![Role::Agent], "quality", &["sh01"]), "quality", "sh01");
        assert!(agent
            .unwrap_err()
            .starts_with("split requires one of the roles handler"));
        assert!(authorize(&actor(vec![Role::Auditor], "quality", &[]), "quality", "sh01").is_err());
        // Exactly the actors who may merge.
        for roles in [
            vec![Role::Agent],
            vec![Role::Handler],
            vec![Role::QualityEngineer],
            vec![Role::Auditor],
        ] {
            let a = actor(roles, "quality", &["sh01"]);
            assert_eq!(
                authorize(&a, "quality", "sh01").is_ok(),
                workflow::authorize(&a, ActionKind::Merge, "quality", "sh01").is_ok()
            );
        }
    }
}
