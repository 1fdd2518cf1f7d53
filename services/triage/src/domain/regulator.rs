//! The regulator report of an adverse event (000 §3: the management representative reports adverse events to
//! the local authority; the general manager approves what is reported). Draft → approved → submitted; an edit
//! after approval withdraws the approval, so what is submitted is exactly what was approved.
use auth::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::workflow::Actor;

#[derive(Debug, Clone, Deserialize)]
pub struct RegulatorSettings {
    /// Case categories that need a regulator report.
    pub categories: Vec<String>,
    /// The authority a report goes to unless the report names another.
    pub default_authority: String,
    /// Who approves (default: the general manager).
    pub approver_roles: Vec<Role>,
    /// Who prepares, edits and marks the report submitted.
    pub editor_roles: Vec<Role>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Draft,
    Approved,
    Submitted,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Draft => "draft",
            ReportStatus::Approved => "approved",
            ReportStatus::Submitted => "submitted",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Stamp {
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RegulatorReport {
    pub status: ReportStatus,
    pub authority: String,
    pub product: String,
    pub batch: String,
    /// When the reaction began, as the customer described it.
    pub onset: String,
    pub dose: String,
    pub other_medicines: String,
    pub description: String,
    /// Outcome for the patient so far (recovered, ongoing, hospitalised, …).
    pub patient_outcome: String,
    pub approved: Option<Stamp>,
    pub submitted: Option<Stamp>,
    pub submission_reference: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportPatch {
    pub authority: Option<String>,
    pub product: Option<String>,
    pub batch: Option<String>,
    pub onset: Option<String>,
    pub dose: Option<String>,
    pub other_medicines: Option<String>,
    pub description: Option<String>,
    pub patient_outcome: Option<String>,
}

#[derive(Debug, Error, PartialEq)]
pub enum RegulatorError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("the report was submitted to the authority and can no longer change")]
    Submitted,
    #[error("only an approved report can be marked submitted")]
    NotApproved,
    #[error("the report is already approved")]
    AlreadyApproved,
    #[error("the report is incomplete: {}", .0.join(", "))]
    Incomplete(Vec<&'static str>),
}

/// The first draft, from what intake registered about the reaction.
pub fn draft(settings: &RegulatorSettings, details: &serde_json::Value, content: &str) -> RegulatorReport {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let reaction = &details["adverse_reaction"];
    RegulatorReport {
        status: ReportStatus::Draft,
        authority: settings.default_authority.clone(),
        product: s(&details["product"]["code"]),
        batch: s(&details["product"]["batch"]),
        onset: s(&reaction["onset"]),
        dose: s(&reaction["dose"]),
        other_medicines: s(&reaction["other_medicines"]),
        description: content.to_owned(),
        patient_outcome: String::new(),
        approved: None,
        submitted: None,
        submission_reference: None,
    }
}

fn require_role(actor: &Actor, roles: &[Role], what: &str) -> Result<(), RegulatorError> {
    if actor.has_any(roles) {
        Ok(())
    } else {
        let names: Vec<String> = roles
            .iter()
            .map(|r| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        Err(RegulatorError::Forbidden(format!(
            "{what} needs one of the roles {}; {} holds none of them",
            names.join(", "),
            actor.id
        )))
    }
}

const MAX_FIELD: usize = 10_000;

impl RegulatorReport {
    pub fn edit(
        &self,
        settings: &RegulatorSettings,
        actor: &Actor,
        patch: ReportPatch,
    ) -> Result<RegulatorReport, RegulatorError> {
        require_role(actor, &settings.editor_roles, "editing the regulator report")?;
        if self.status == ReportStatus::Submitted {
            return Err(RegulatorError::Submitted);
        }
        let mut next = self.clone();
        let fields: [(&'static str, Option<String>, &mut String); 8] = [
            ("authority", patch.authority, &mut next.authority),
            ("product", patch.product, &mut next.product),
            ("batch", patch.batch, &mut next.batch),
            ("onset", patch.onset, &mut next.onset),
            ("dose", patch.dose, &mut next.dose),
            ("other_medicines", patch.other_medicines, &mut next.other_medicines),
            ("description", patch.description, &mut next.description),
            ("patient_outcome", patch.patient_outcome, &mut next.patient_outcome),
        ];
        let mut changed = false;
        for (field, value, slot) in fields {
            let Some(v) = value else { continue };
            let v = v.trim().to_owned();
            if v.chars().count() > MAX_FIELD {
                return Err(RegulatorError::Invalid {
                    field,
                    message: format!("at most {MAX_FIELD} characters"),
                });
            }
            if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                return Err(RegulatorError::Invalid {
                    field,
                    message: "contains control characters".into(),
                });
            }
            changed |= *slot != v;
            *slot = v;
        }
        if changed && next.status == ReportStatus::Approved {
            // What the general manager approved is no longer what would be submitted.
            next.status = ReportStatus::Draft;
            next.approved = None;
        }
        Ok(next)
    }

    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("authority", &self.authority),
            ("product", &self.product),
            ("batch", &self.batch),
            ("onset", &self.onset),
            ("description", &self.description),
            ("patient_outcome", &self.patient_outcome),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
        .collect()
    }

    pub fn approve(
        &self,
        settings: &RegulatorSettings,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<RegulatorReport, RegulatorError> {
        require_role(actor, &settings.approver_roles, "approving the regulator report")?;
        match self.status {
            ReportStatus::Submitted => return Err(RegulatorError::Submitted),
            ReportStatus::Approved => return Err(RegulatorError::AlreadyApproved),
            ReportStatus::Draft => {}
        }
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(RegulatorError::Incomplete(missing));
        }
        let mut next = self.clone();
        next.status = ReportStatus::Approved;
        next.approved = Some(Stamp {
            by: actor.id.clone(),
            at,
        });
        Ok(next)
    }

    pub fn submit(
        &self,
        settings: &RegulatorSettings,
        actor: &Actor,
        submission_reference: &str,
        at: DateTime<Utc>,
    ) -> Result<RegulatorReport, RegulatorError> {
        require_role(actor, &settings.editor_roles, "marking the regulator report submitted")?;
        match self.status {
            ReportStatus::Submitted => return Err(RegulatorError::Submitted),
            ReportStatus::Draft => return Err(RegulatorError::NotApproved),
            ReportStatus::Approved => {}
        }
        let reference = submission_reference.trim();
        if reference.is_empty() || reference.chars().count() > 200 {
            return Err(RegulatorError::Invalid {
                field: "submission_reference",
                message: "the authority's reference (1–200 characters) is required".into(),
            });
        }
        let mut next = self.clone();
        next.status = ReportStatus::Submitted;
        next.submitted = Some(Stamp {
            by: actor.id.clone(),
            at,
        });
        next.submission_reference = Some(reference.to_owned());
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> RegulatorSettings {
        RegulatorSettings {
            categories: vec!["adverse_event".into()],
            default_authority: "市药品监督管理局".into(),
            approver_roles: vec![Role::GeneralManager],
            editor_roles: vec![Role::ManagementRepresentative, Role::QualityEngineer],
        }
    }

    fn actor(role: Role) -> Actor {
        Actor {
            id: format!("{role:?}").to_lowercase(),
            name: "x".into(),
            roles: vec![role],
            department: None,
            sites: vec![],
        }
    }

    fn at() -> DateTime<Utc> {
        "2026-11-20T08:00:00Z".parse().unwrap()
    }

    fn complete() -> RegulatorReport {
        let details = json!({"product": {"code": "VC-500", "batch": "B2026"},
                             "adverse_reaction": {"onset": "2 h after the first dose", "dose": "2 tablets"}});
        draft(&settings(), &details, "rash and dizziness")
            .edit(
                &settings(),
                &actor(Role::ManagementRepresentative),
                ReportPatch {
                    patient_outcome: Some("recovered".into()),
                    ..Default::default()
                },
            )
            .unwrap()
    }

    #[test]
    fn the_draft_takes_what_intake_registered() {
        let r = complete();
        assert_eq!((r.product.as_str(), r.batch.as_str()), ("VC-500", "B2026"));
        assert_eq!(r.onset, "2 h after the first dose");
        assert_eq!(r.authority, "市药品监督管理局");
        assert!(r.missing().is_empty());
    }

    #[test]
    fn only_the_general_manager_approves_and_only_an_approved_report_is_submitted() {
        let s = settings();
        let r = complete();
        for role in [
            Role::ManagementRepresentative,
            Role::QualityEngineer,
            Role::Administrator,
        ] {
            assert!(matches!(
                r.approve(&s, &actor(role), at()),
                Err(RegulatorError::Forbidden(_))
            ));
        }
        assert_eq!(
            r.submit(&s, &actor(Role::ManagementRepresentative), "NMPA-1", at()),
            Err(RegulatorError::NotApproved)
        );
        let approved = r.approve(&s, &actor(Role::GeneralManager), at()).unwrap();
        assert_eq!(approved.status, ReportStatus::Approved);
        assert!(matches!(
            approved.submit(&s, &actor(Role::GeneralManager), "NMPA-1", at()),
            Err(RegulatorError::Forbidden(_))
        ));
        assert!(matches!(
            approved.submit(&s, &actor(Role::ManagementRepresentative), " ", at()),
            Err(RegulatorError::Invalid { .. })
        ));
        let submitted = approved
            .submit(&s, &actor(Role::ManagementRepresentative), "NMPA-2026-77", at())
            .unwrap();
        assert_eq!(submitted.submission_reference.as_deref(), Some("NMPA-2026-77"));
        assert_eq!(
            submitted.edit(&s, &actor(Role::QualityEngineer), ReportPatch::default()),
            Err(RegulatorError::Submitted)
        );
    }

    #[test]
    fn an_incomplete_report_cannot_be_approved() {
        let r = draft(&settings(), &json!({}), "");
        let Err(RegulatorError::Incomplete(missing)) = r.approve(&settings(), &actor(Role::GeneralManager), at())
        else {
            panic!("approved an empty report")
        };
        assert_eq!(missing, ["product", "batch", "onset", "description", "patient_outcome"]);
    }

    #[test]
    fn changing_an_approved_report_withdraws_the_approval_but_an_identical_edit_does_not() {
        let s = settings();
        let approved = complete().approve(&s, &actor(Role::GeneralManager), at()).unwrap();
        let same = approved
            .edit(
                &s,
                &actor(Role::QualityEngineer),
                ReportPatch {
                    batch: Some("B2026".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(same.status, ReportStatus::Approved);
        let changed = approved
            .edit(
                &s,
                &actor(Role::QualityEngineer),
                ReportPatch {
                    batch: Some("B2027".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(changed.status, ReportStatus::Draft);
        assert!(changed.approved.is_none());
    }
}
