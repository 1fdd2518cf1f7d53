//! Returns and claims (domain.md §4; 001 §5.5–5.7): who must approve a claim, recording approvals, rejection
//! for a configured reason, and whether a claim may be closed as accepted. Pure; money is [`Decimal`].
//!
//! Approval tiers are cumulative and strict: with the defaults a claim of more than 1,000.00 CNY needs the
//! marketing manager, one of more than 2,000.00 CNY also the general manager; 1,000.00 exactly needs nobody.
//! Only a holder of a required role can approve (an administrator or a manager whose role is not required
//! cannot), each required role once, and each person once (no one approves twice, even holding two roles).
use std::fmt;

use auth::Role;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::workflow::Actor;

/// `[claims]` in `config/default.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ClaimSettings {
    /// The currency of the approval thresholds; a claim in another currency needs every tier's approval.
    pub currency: String,
    /// Approval tiers: a claim of strictly more than `over` needs `role`.
    pub approvals: Vec<ApprovalTier>,
    /// The only grounds on which a claim may be rejected.
    pub rejection_reasons: Vec<RejectionReason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalTier {
    pub over: Decimal,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectionReason {
    pub code: String,
    /// Label in Chinese (zh-CN).
    pub zh_cn: String,
    /// Label in English.
    pub en: String,
}

impl RejectionReason {
    /// The label for a language tag: Chinese for `zh*`, English otherwise.
    pub fn label(&self, language: &str) -> &str {
        if language.to_ascii_lowercase().starts_with("zh") {
            &self.zh_cn
        } else {
            &self.en
        }
    }
}

impl ClaimSettings {
    pub fn rejection_reason(&self, code: &str) -> Option<&RejectionReason> {
        self.rejection_reasons.iter().find(|r| r.code == code)
    }
}

/// A return or claim attached to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub amount: Decimal,
    pub currency: String,
    pub return_quantity: Option<i64>,
    /// The approvals this claim needs, fixed from the tiers configured when it was opened.
    pub required: Vec<Role>,
    pub approvals: Vec<Approval>,
    /// The code of the rejection reason, once rejected.
    pub rejection: Option<String>,
    /// Why the approvals are not those of the amount's tier (an amount in another currency, or a return without
    /// an amount), for the people deciding it.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The required role this approval fills.
    pub role: Role,
    /// The approver's staff user id.
    pub approver: String,
    pub approver_name: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClaimError {
    #[error("claims are in {expected}; this one is in {got}")]
    Currency { expected: String, got: String },
    #[error("a claim amount cannot be negative")]
    NegativeAmount,
    #[error("{approver} holds none of the roles this claim needs approved ({})", RoleList(.required))]
    RoleNotRequired { approver: String, required: Vec<Role> },
    #[error("{0}")]
    DuplicateApproval(String),
    #[error("the claim was rejected ({0})")]
    Rejected(String),
    #[error("`{0}` is not a configured rejection reason")]
    UnknownReason(String),
    #[error("the claim still needs the approval of {}", RoleList(.0))]
    MissingApprovals(Vec<Role>),
}

struct RoleList<'a>(&'a [Role]);

impl fmt::Display for RoleList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("nobody");
        }
        let names: Vec<String> = self
            .0
            .iter()
            .map(|r| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        f.write_str(&names.join(", "))
    }
}

/// The roles whose approval a claim of `amount` needs: every tier whose threshold the amount strictly exceeds,
/// lowest threshold first, each role once.
pub fn required_approvals(settings: &ClaimSettings, amount: Decimal) -> Vec<Role> {
    let mut tiers: Vec<&ApprovalTier> = settings.approvals.iter().filter(|t| amount > t.over).collect();
    tiers.sort_by_key(|t| t.over);
    let mut roles = Vec::new();
    for tier in tiers {
        if !roles.contains(&tier.role) {
            roles.push(tier.role);
        }
    }
    roles
}

impl Claim {
    /// A new claim with the approvals its amount needs under `settings`.
    pub fn open(
        settings: &ClaimSettings,
        amount: Decimal,
        currency: &str,
        return_quantity: Option<i64>,
    ) -> Result<Claim, ClaimError> {
        if currency != settings.currency {
            return Err(ClaimError::Currency {
                expected: settings.currency.clone(),
                got: currency.to_owned(),
            });
        }
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(ClaimError::NegativeAmount);
        }
        Ok(Claim {
            amount,
            currency: currency.to_owned(),
            return_quantity,
            required: required_approvals(settings, amount),
            approvals: Vec::new(),
            rejection: None,
            note: None,
        })
    }

    /// The claim registered feedback opens, if it has one: an amount (in any currency) and/or a return
    /// quantity. What cannot be valued in the configured currency is never waved through: an amount in another
    /// currency needs every tier's approval, a return without an amount the lowest tier's.
    pub fn from_feedback(
        settings: &ClaimSettings,
        amount: Option<Decimal>,
        currency: Option<&str>,
        return_quantity: Option<i64>,
    ) -> Option<Claim> {
        let currency = currency.unwrap_or(&settings.currency);
        let mut tiers = settings.approvals.clone();
        tiers.sort_by_key(|t| t.over);
        let roles = |tiers: &[ApprovalTier]| {
            let mut roles: Vec<Role> = Vec::new();
            for t in tiers {
                if !roles.contains(&t.role) {
                    roles.push(t.role);
                }
            }
            roles
        };
        let (amount, required, note) = match amount {
            Some(a) if a.is_sign_negative() && !a.is_zero() => return None, // intake refuses these
            Some(a) if currency == settings.currency => (a, required_approvals(settings, a), None),
            Some(a) => (
                a,
                roles(&tiers),
                Some(format!(
                    "the amount is in {currency}, not {}: every approval tier is required",
                    settings.currency
                )),
            ),
            None if return_quantity.is_some() => (
                Decimal::ZERO,
                roles(&tiers[..tiers.len().min(1)]),
                Some("a return without an amount: the lowest approval tier is required".to_owned()),
            ),
            None => return None,
        };
        Some(Claim {
            amount,
            currency: currency.to_owned(),
            return_quantity,
            required,
            approvals: Vec::new(),
            rejection: None,
            note,
        })
    }

    /// Required roles not yet approved.
    pub fn missing_approvals(&self) -> Vec<Role> {
        self.required
            .iter()
            .filter(|r| !self.approvals.iter().any(|a| a.role == **r))
            .copied()
            .collect()
    }
}

/// Records `approver`'s approval for the first required role they hold that is still missing.
pub fn record_approval(claim: &Claim, approver: &Actor) -> Result<Claim, ClaimError> {
    if let Some(reason) = &claim.rejection {
        return Err(ClaimError::Rejected(reason.clone()));
    }
    if !approver.has_any(&claim.required) {
        return Err(ClaimError::RoleNotRequired {
            approver: approver.id.clone(),
            required: claim.required.clone(),
        });
    }
    if claim.approvals.iter().any(|a| a.approver == approver.id) {
        return Err(ClaimError::DuplicateApproval(format!(
            "{} has already approved this claim",
            approver.id
        )));
    }
    let Some(role) = claim.missing_approvals().into_iter().find(|r| approver.has(*r)) else {
        return Err(ClaimError::DuplicateApproval(format!(
            "the approval of {} has already been given",
            RoleList(&approver.roles)
        )));
    };
    let mut approved = claim.clone();
    approved.approvals.push(Approval {
        role,
        approver: approver.id.clone(),
        approver_name: approver.name.clone(),
    });
    Ok(approved)
}

/// Who may decide a claim: approving takes a role the claim still needs (checked again, per role, by
/// [`record_approval`]); rejecting (for a configured reason) takes such a role too, or handling staff who may act
/// on the case (its department and site) — not agents, not auditors. `Err` is the reason for the 403.
pub fn authorize(actor: &Actor, claim: &Claim, action: &str, department: &str, site: &str) -> Result<(), String> {
    if actor.has_any(&claim.required) {
        return Ok(());
    }
    let needs = if claim.required.is_empty() {
        "nobody's approval".to_owned()
    } else {
        RoleList(&claim.required).to_string()
    };
    if action == "claim_rejected" {
        use crate::domain::workflow::{authorize, ActionKind};
        return authorize(actor, ActionKind::SetValidity, department, site)
            .map_err(|why| format!("rejecting a claim: {why}"));
    }
    Err(format!(
        "{} holds none of the roles this claim needs approved ({needs})",
        actor.id
    ))
}

/// Whether a case with this claim may be closed with `outcome`. The claim must be decided first: approved by
/// every required role, or rejected; and a rejected claim cannot be closed as accepted (an outcome that says
/// "accept" in English or Chinese).
pub fn may_close(claim: &Claim, outcome: &str) -> Result<(), ClaimError> {
    let o = outcome.trim().to_lowercase();
    let says_accepted = o.contains("accept") || ["同意", "接受", "受理"].iter().any(|w| o.contains(w));
    match &claim.rejection {
        Some(reason) if says_accepted => Err(ClaimError::Rejected(reason.clone())),
        Some(_) => Ok(()),
        None => can_close_as_accepted(claim),
    }
}

/// Whether the claim may be closed as accepted: not rejected and every required approval given.
pub fn can_close_as_accepted(claim: &Claim) -> Result<(), ClaimError> {
    if let Some(reason) = &claim.rejection {
        return Err(ClaimError::Rejected(reason.clone()));
    }
    let missing = claim.missing_approvals();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ClaimError::MissingApprovals(missing))
    }
}

/// Rejects the claim for `reason`, which must be the code of a configured rejection reason.
pub fn reject(settings: &ClaimSettings, claim: &Claim, reason: &str) -> Result<Claim, ClaimError> {
    if let Some(earlier) = &claim.rejection {
        return Err(ClaimError::Rejected(earlier.clone()));
    }
    let reason = settings
        .rejection_reason(reason)
        .ok_or_else(|| ClaimError::UnknownReason(reason.to_owned()))?;
    let mut rejected = claim.clone();
    rejected.rejection = Some(reason.code.clone());
    Ok(rejected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct OnlyClaims {
        claims: ClaimSettings,
    }

    /// The shipped configuration, loaded the way the service loads it.
    fn shipped() -> ClaimSettings {
        settings::load::<OnlyClaims>(include_str!("../../config/default.toml"))
            .expect("config/default.toml loads")
            .claims
    }

    fn cny(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn person(id: &str, roles: &[Role]) -> Actor {
        Actor {
            id: id.into(),
            name: id.to_uppercase(),
            roles: roles.to_vec(),
            department: Some("sales".into()),
            sites: vec![],
        }
    }

    fn claim(amount: &str) -> Claim {
        Claim::open(&shipped(), cny(amount), "CNY", Some(3)).unwrap()
    }

    #[test]
    fn shipped_config_has_the_domain_defaults() {
        let s = shipped();
        assert_eq!(s.currency, "CNY");
        assert_eq!(
            s.approvals,
            vec![
                ApprovalTier {
                    over: cny("1000.00"),
                    role: Role::MarketingManager
                },
                ApprovalTier {
                    over: cny("2000.00"),
                    role: Role::GeneralManager
                },
            ]
        );
        let codes: Vec<&str> = s.rejection_reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["past_shelf_life", "not_our_product", "met_contract"]);
        for r in &s.rejection_reasons {
            assert!(!r.label("zh-CN").is_empty() && !r.label("en").is_empty());
            assert_ne!(r.label("zh-CN"), r.label("en"));
        }
        assert_eq!(
            s.rejection_reason("past_shelf_life").unwrap().label("zh-CN"),
            "超过保质期"
        );
    }

    #[test]
    fn the_whole_triage_settings_load_with_claims() {
        let s: crate::settings::Settings = settings::load(include_str!("../../config/default.toml")).unwrap();
        assert_eq!(s.claims, shipped());
    }

    #[test]
    fn boundary_amounts_need_the_configured_approvals() {
        let s = shipped();
        let mm = Role::MarketingManager;
        let gm = Role::GeneralManager;
        let cases: [(&str, Vec<Role>); 5] = [
            ("999.99", vec![]),
            ("1000.00", vec![]),
            ("1000.01", vec![mm]),
            ("2000.00", vec![mm]),
            ("2000.01", vec![mm, gm]),
        ];
        for (amount, expected) in cases {
            assert_eq!(required_approvals(&s, cny(amount)), expected, "{amount} CNY");
            assert_eq!(claim(amount).required, expected, "{amount} CNY");
        }
        // Scale does not matter: 1000 and 1000.000 are the same amount.
        assert!(required_approvals(&s, cny("1000")).is_empty());
        assert!(required_approvals(&s, cny("1000.000")).is_empty());
    }

    #[test]
    fn boundary_amounts_close_only_when_fully_approved() {
        let mm = person("mm", &[Role::MarketingManager]);
        let gm = person("gm", &[Role::GeneralManager]);
        for amount in ["999.99", "1000.00"] {
            assert_eq!(can_close_as_accepted(&claim(amount)), Ok(()), "{amount}");
        }
        for amount in ["1000.01", "2000.00"] {
            let c = claim(amount);
            assert_eq!(
                can_close_as_accepted(&c),
                Err(ClaimError::MissingApprovals(vec![Role::MarketingManager]))
            );
            assert_eq!(
                can_close_as_accepted(&record_approval(&c, &mm).unwrap()),
                Ok(()),
                "{amount}"
            );
        }
        let c = claim("2000.01");
        let after_mm = record_approval(&c, &mm).unwrap();
        assert_eq!(
            can_close_as_accepted(&after_mm),
            Err(ClaimError::MissingApprovals(vec![Role::GeneralManager]))
        );
        let after_gm_only = record_approval(&c, &gm).unwrap();
        assert_eq!(
            can_close_as_accepted(&after_gm_only),
            Err(ClaimError::MissingApprovals(vec![Role::MarketingManager]))
        );
        let both = record_approval(&after_mm, &gm).unwrap();
        assert_eq!(can_close_as_accepted(&both), Ok(()));
        assert_eq!(both.approvals.len(), 2);
        assert_eq!(both.approvals[1].role, Role::GeneralManager);
        assert_eq!(both.approvals[1].approver, "gm");
    }

    #[test]
    fn approval_by_a_role_that_is_not_required_is_refused() {
        let c = claim("1500.00");
        for roles in [
            vec![Role::Handler],
            vec![Role::DepartmentHead],
            vec![Role::Administrator],
            vec![Role::Auditor],
            vec![Role::GeneralManager],
            vec![],
        ] {
            let err = record_approval(&c, &person("x", &roles)).unwrap_err();
            assert!(matches!(err, ClaimError::RoleNotRequired { .. }), "{roles:?}: {err}");
        }
        let err = record_approval(&claim("999.99"), &person("mm", &[Role::MarketingManager])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mm holds none of the roles this claim needs approved (nobody)"
        );
    }

    #[test]
    fn duplicate_approval_is_refused() {
        let c = claim("2500.00");
        let mm = person("mm", &[Role::MarketingManager]);
        let approved = record_approval(&c, &mm).unwrap();
        assert!(matches!(
            record_approval(&approved, &mm),
            Err(ClaimError::DuplicateApproval(_))
        ));
        let another_mm = person("mm2", &[Role::MarketingManager]);
        assert!(matches!(
            record_approval(&approved, &another_mm),
            Err(ClaimError::DuplicateApproval(_))
        ));
        // One person holding both roles fills one of them, not both.
        let both_roles = person("boss", &[Role::MarketingManager, Role::GeneralManager]);
        let once = record_approval(&c, &both_roles).unwrap();
        assert_eq!(once.missing_approvals(), vec![Role::GeneralManager]);
        assert!(matches!(
            record_approval(&once, &both_roles),
            Err(ClaimError::DuplicateApproval(_))
        ));
    }

    #[test]
    fn closing_an_unapproved_claim_as_accepted_is_refused() {
        let err = can_close_as_accepted(&claim("5000.00")).unwrap_err();
        assert_eq!(
            err,
            ClaimError::MissingApprovals(vec![Role::MarketingManager, Role::GeneralManager])
        );
        assert_eq!(
            err.to_string(),
            "the claim still needs the approval of marketing_manager, general_manager"
        );
    }

    #[test]
    fn rejection_needs_a_configured_reason_and_blocks_approval_and_acceptance() {
        let s = shipped();
        let c = claim("1500.00");
        assert_eq!(
            reject(&s, &c, "too_expensive"),
            Err(ClaimError::UnknownReason("too_expensive".into()))
        );
        let rejected = reject(&s, &c, "past_shelf_life").unwrap();
        assert_eq!(rejected.rejection.as_deref(), Some("past_shelf_life"));
        let mm = person("mm", &[Role::MarketingManager]);
        assert!(matches!(record_approval(&rejected, &mm), Err(ClaimError::Rejected(_))));
        assert!(matches!(can_close_as_accepted(&rejected), Err(ClaimError::Rejected(_))));
        assert!(matches!(
            reject(&s, &rejected, "met_contract"),
            Err(ClaimError::Rejected(_))
        ));
        // Rejection is possible after an approval, and acceptance then is not.
        let approved = record_approval(&c, &mm).unwrap();
        let rejected = reject(&s, &approved, "not_our_product").unwrap();
        assert!(can_close_as_accepted(&rejected).is_err());
    }

    #[test]
    fn other_currencies_and_negative_amounts_are_refused() {
        let s = shipped();
        assert_eq!(
            Claim::open(&s, cny("10"), "USD", None),
            Err(ClaimError::Currency {
                expected: "CNY".into(),
                got: "USD".into()
            })
        );
        assert_eq!(
            Claim::open(&s, cny("-0.01"), "CNY", None),
            Err(ClaimError::NegativeAmount)
        );
        assert!(Claim::open(&s, cny("0"), "CNY", None).is_ok());
    }

    #[test]
    fn claims_serialise_money_as_strings() {
        let v = serde_json::to_value(claim("2000.01")).unwrap();
        assert_eq!(v["amount"], "2000.01");
        assert_eq!(
            v["required"],
            serde_json::json!(["marketing_manager", "general_manager"])
        );
    }

    #[test]
    fn claims_that_cannot_be_valued_in_cny_need_approval_anyway() {
        let s = shipped();
        let usd = Claim::from_feedback(&s, Some(cny("100.00")), Some("USD"), None).unwrap();
        assert_eq!(usd.required, vec![Role::MarketingManager, Role::GeneralManager]);
        assert!(usd.note.as_deref().unwrap().contains("USD"));
        let cny_claim = Claim::from_feedback(&s, Some(cny("100.00")), None, Some(2)).unwrap();
        assert_eq!((cny_claim.currency.as_str(), cny_claim.required.len()), ("CNY", 0));
        assert_eq!(cny_claim.note, None);
        let return_only = Claim::from_feedback(&s, None, None, Some(20)).unwrap();
        assert_eq!(return_only.required, vec![Role::MarketingManager]);
        assert_eq!(
            (return_only.amount, return_only.return_quantity),
            (Decimal::ZERO, Some(20))
        );
        assert_eq!(
            Claim::from_feedback(&s, None, Some("CNY"), None),
            None,
            "nothing claimed"
        );
    }

    #[test]
    fn a_case_with_a_claim_closes_only_once_the_claim_is_decided() {
        let s = shipped();
        let pending = claim("1500.00");
        for outcome in ["accepted", "resolved", "客户同意换货"] {
            assert_eq!(
                may_close(&pending, outcome),
                Err(ClaimError::MissingApprovals(vec![Role::MarketingManager])),
                "{outcome}"
            );
        }
        let approved = record_approval(&pending, &person("mm", &[Role::MarketingManager])).unwrap();
        assert_eq!(may_close(&approved, "accepted"), Ok(()));
        let rejected = reject(&s, &pending, "past_shelf_life").unwrap();
        assert_eq!(may_close(&rejected, "rejected: past shelf life"), Ok(()));
        for outcome in ["Accepted", "claim accepted", "同意退货"] {
            assert_eq!(
                may_close(&rejected, outcome),
                Err(ClaimError::Rejected("past_shelf_life".into())),
                "{outcome}"
            );
        }
        assert_eq!(
            may_close(&claim("999.99"), "accepted"),
            Ok(()),
            "nobody needs to approve"
        );
    }

    proptest! {
        #[test]
        fn more_money_never_needs_fewer_approvals(a in 0i64..500_000, b in 0i64..500_000) {
            let s = shipped();
            let (low, high) = (Decimal::new(a.min(b), 2), Decimal::new(a.max(b), 2));
            let low_roles = required_approvals(&s, low);
            let high_roles = required_approvals(&s, high);
            prop_assert!(low_roles.iter().all(|r| high_roles.contains(r)));
        }
    }
}
