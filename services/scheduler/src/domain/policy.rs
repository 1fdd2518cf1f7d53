//! SLA policies as configuration (domain.md §3): which clocks run for a case, what starts, stops and
//! pauses them, how long they are in working or clock time, when they warn and who is told when
//! they slip.
//!
//! The `[sla]` section of `config/default.toml` is parsed once into an [`SlaPolicy`]; everything is
//! validated there (unknown ladders, bad warning points, empty ladders), so the rest of the service
//! only sees valid clocks.

use std::collections::BTreeMap;
use std::fmt;

use calendar::Span;
use serde::{Deserialize, Serialize};

/// A role on the escalation chain: handler → department head / regional manager → marketing
/// director or management representative → general manager (domain.md §3; 004 §3.3, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The named responsible person of the case.
    Handler,
    /// Head of the department the case was routed to.
    DepartmentHead,
    /// Regional (sales) manager; decides service complaints (004 §4.1.1).
    RegionalManager,
    /// Marketing director; service and commercial escalations.
    MarketingDirector,
    /// Management representative; quality and adverse-event escalations.
    ManagementRepresentative,
    /// General manager; the top of the chain.
    GeneralManager,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Handler => "handler",
            Role::DepartmentHead => "department_head",
            Role::RegionalManager => "regional_manager",
            Role::MarketingDirector => "marketing_director",
            Role::ManagementRepresentative => "management_representative",
            Role::GeneralManager => "general_manager",
        })
    }
}

/// Which cases a clock applies to; an empty list matches any value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    /// Classes: `general`, `important`, `complaint`.
    #[serde(default)]
    pub classes: Vec<String>,
    /// Categories: `product_quality`, `logistics`, `commercial`, `staff_service`, `suggestion`,
    /// `adverse_event`, `consultation`.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Severities: `general`, `important`, `major`.
    #[serde(default)]
    pub severities: Vec<String>,
}

impl AppliesTo {
    /// Whether a case with this classification is covered.
    pub fn matches(&self, class: &str, category: &str, severity: &str) -> bool {
        let ok = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        ok(&self.classes, class) && ok(&self.categories, category) && ok(&self.severities, severity)
    }

    fn is_any(&self) -> bool {
        self.classes.is_empty() && self.categories.is_empty() && self.severities.is_empty()
    }

    /// Cases matched by both filters; `None` if no case can match both.
    fn and(&self, other: &AppliesTo) -> Option<AppliesTo> {
        fn both(a: &[String], b: &[String]) -> Option<Vec<String>> {
            match (a.is_empty(), b.is_empty()) {
                (true, _) => Some(b.to_vec()),
                (_, true) => Some(a.to_vec()),
                _ => {
                    let common: Vec<String> = a.iter().filter(|v| b.contains(v)).cloned().collect();
                    (!common.is_empty()).then_some(common)
                }
            }
        }
        Some(AppliesTo {
            classes: both(&self.classes, &other.classes)?,
            categories: both(&self.categories, &other.categories)?,
            severities: both(&self.severities, &other.severities)?,
        })
    }
}

/// One step of an escalation ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationLevel {
    /// 1, 2 or 3.
    pub level: u8,
    /// How long after the breach this level is reached.
    pub after: Span,
    /// Who is told.
    pub notify: Vec<Role>,
}

/// One SLA clock, resolved for a class of cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockPolicy {
    /// Clock name, e.g. `handling_result`; the `clock` of `deadline.*` events.
    pub name: String,
    /// Cases it applies to.
    pub applies_to: AppliesTo,
    /// Event that starts it, e.g. `case.opened`.
    pub start_event: String,
    /// Event that stops it, e.g. `case.replied`.
    pub stop_event: String,
    /// Case statuses during which it does not run, e.g. `waiting_for_customer`.
    pub pause_on: Vec<String>,
    /// How long it runs.
    pub length: Span,
    /// Warning point as a fraction of the clock's working time (0 < w ≤ 1).
    pub warning: f64,
    /// Name of the escalation ladder in the configuration.
    pub ladder: String,
    /// The ladder's levels, in order.
    pub escalation: Vec<EscalationLevel>,
}

impl ClockPolicy {
    /// Whether a case in `status` pauses this clock.
    pub fn pauses_on(&self, status: &str) -> bool {
        self.pause_on.iter().any(|s| s == status)
    }
}

/// All clocks of the platform. Built from the `[sla]` configuration (see [`SlaConfig`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "SlaConfig")]
pub struct SlaPolicy {
    /// Variants in precedence order: for each clock name its overrides first, then its base entry.
    clocks: Vec<ClockPolicy>,
}

impl SlaPolicy {
    /// Validates a configuration.
    pub fn from_config(config: SlaConfig) -> Result<SlaPolicy, PolicyError> {
        SlaPolicy::try_from(config)
    }

    /// The clocks that run for a case with this classification: per clock name, the first
    /// matching variant (an override before the clock's own entry). Ordered by name.
    pub fn clocks_for(&self, class: &str, category: &str, severity: &str) -> Vec<&ClockPolicy> {
        let mut chosen: Vec<&ClockPolicy> = Vec::new();
        for clock in &self.clocks {
            if clock.applies_to.matches(class, category, severity) && !chosen.iter().any(|c| c.name == clock.name) {
                chosen.push(clock);
            }
        }
        chosen
    }

    /// The clock of that name for a case with this classification, if it applies.
    pub fn clock_for(&self, name: &str, class: &str, category: &str, severity: &str) -> Option<&ClockPolicy> {
        self.clocks
            .iter()
            .find(|c| c.name == name && c.applies_to.matches(class, category, severity))
    }

    /// Every configured variant, in precedence order.
    pub fn all(&self) -> &[ClockPolicy] {
        &self.clocks
    }
}

/// The clocks that run for a case with this classification (see [`SlaPolicy::clocks_for`]).
pub fn clocks_for<'p>(policy: &'p SlaPolicy, class: &str, category: &str, severity: &str) -> Vec<&'p ClockPolicy> {
    policy.clocks_for(class, category, severity)
}

/// The `[sla]` configuration as written:
///
/// ```toml
/// [sla.ladders]
/// service = [
///     { after = { clock_hours = 0 }, notify = ["handler", "department_head"] },
///     { after = { working_days = 1 }, notify = ["marketing_director"] },
///     { after = { working_days = 2 }, notify = ["general_manager"] },
/// ]
///
/// [sla.clocks.handling_result]
/// applies_to = { classes = ["complaint"] }   # optional; empty lists = any
/// start = "case.opened"
/// stop = "case.resolved"
/// pause_on = ["waiting_for_customer"]        # optional, this is the default
/// length = { working_days = 7 }
/// warning = 0.8                              # optional, this is the default
/// escalation = "service"
/// overrides = [{ when = { severities = ["major"] }, length = { working_days = 5 } }]  # optional
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaConfig {
    /// Escalation ladders by name: one to three levels each.
    #[serde(default)]
    pub ladders: BTreeMap<String, Vec<LadderStepConfig>>,
    /// Clocks by name.
    #[serde(default)]
    pub clocks: BTreeMap<String, ClockConfig>,
}

/// One level of a configured ladder; its position gives the level number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LadderStepConfig {
    /// How long after the breach.
    pub after: Span,
    /// Who is told.
    pub notify: Vec<Role>,
}

/// One configured clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// Cases it applies to (default: all).
    #[serde(default)]
    pub applies_to: AppliesTo,
    /// Starting event.
    pub start: String,
    /// Stopping event.
    pub stop: String,
    /// Case statuses that pause it (default `["waiting_for_customer"]`).
    #[serde(default = "default_pause_on")]
    pub pause_on: Vec<String>,
    /// Its length.
    pub length: Span,
    /// Warning point as a fraction (default 0.8).
    #[serde(default = "default_warning")]
    pub warning: f64,
    /// Name of a ladder in `[sla.ladders]`.
    pub escalation: String,
    /// Variants for some classes, categories or severities; the first matching one wins.
    #[serde(default)]
    pub overrides: Vec<ClockOverride>,
}

/// Different settings for part of the cases a clock applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockOverride {
    /// Which of the clock's cases (must restrict something).
    pub when: AppliesTo,
    /// Replaces the clock's length.
    #[serde(default)]
    pub length: Option<Span>,
    /// Replaces the warning point.
    #[serde(default)]
    pub warning: Option<f64>,
    /// Replaces the ladder.
    #[serde(default)]
    pub escalation: Option<String>,
    /// Replaces the pausing statuses.
    #[serde(default)]
    pub pause_on: Option<Vec<String>>,
}

fn default_pause_on() -> Vec<String> {
    vec!["waiting_for_customer".to_string()]
}

fn default_warning() -> f64 {
    0.8
}

/// Why an `[sla]` configuration was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("sla.clocks.{clock}: escalation ladder `{ladder}` is not defined in sla.ladders")]
    UnknownLadder { clock: String, ladder: String },
    #[error("sla.ladders.{0}: a ladder has 1 to 3 levels")]
    LadderLength(String),
    #[error("sla.ladders.{ladder}: level {level} notifies nobody")]
    NobodyNotified { ladder: String, level: usize },
    #[error("sla.clocks.{clock}: warning {warning} must be greater than 0 and at most 1")]
    Warning { clock: String, warning: f64 },
    #[error("sla.clocks.{0}: length must not be zero")]
    ZeroLength(String),
    #[error("sla.clocks.{0}: start and stop events must be named and differ")]
    Events(String),
    #[error("sla.clocks.{clock}: override {index} must restrict the clock's cases to a non-empty set")]
    Override { clock: String, index: usize },
}

impl TryFrom<SlaConfig> for SlaPolicy {
    type Error = PolicyError;

    fn try_from(config: SlaConfig) -> Result<Self, PolicyError> {
        let mut ladders: BTreeMap<&str, Vec<EscalationLevel>> = BTreeMap::new();
        for (name, steps) in &config.ladders {
            if steps.is_empty() || steps.len() > 3 {
                return Err(PolicyError::LadderLength(name.clone()));
            }
            let mut levels = Vec::with_capacity(steps.len());
            for (i, step) in steps.iter().enumerate() {
                if step.notify.is_empty() {
                    return Err(PolicyError::NobodyNotified {
                        ladder: name.clone(),
                        level: i + 1,
                    });
                }
                levels.push(EscalationLevel {
                    level: i as u8 + 1,
                    after: step.after,
                    notify: step.notify.clone(),
                });
            }
            ladders.insert(name, levels);
        }
        let resolve = |clock: &str, ladder: &str| {
            ladders.get(ladder).cloned().ok_or_else(|| PolicyError::UnknownLadder {
                clock: clock.to_string(),
                ladder: ladder.to_string(),
            })
        };
        let check = |clock: &str, length: Span, warning: f64| {
            if !(warning > 0.0 && warning <= 1.0) {
                return Err(PolicyError::Warning {
                    clock: clock.to_string(),
                    warning,
                });
            }
            let zero = match length {
                Span::ClockHours(n) | Span::WorkingHours(n) | Span::WorkingMinutes(n) | Span::WorkingDays(n) => n == 0,
            };
            if zero {
                return Err(PolicyError::ZeroLength(clock.to_string()));
            }
            Ok(())
        };

        let mut clocks = Vec::new();
        for (name, c) in &config.clocks {
            if c.start.trim().is_empty() || c.stop.trim().is_empty() || c.start == c.stop {
                return Err(PolicyError::Events(name.clone()));
            }
            check(name, c.length, c.warning)?;
            let base = ClockPolicy {
                name: name.clone(),
                applies_to: c.applies_to.clone(),
                start_event: c.start.clone(),
                stop_event: c.stop.clone(),
                pause_on: c.pause_on.clone(),
                length: c.length,
                warning: c.warning,
                ladder: c.escalation.clone(),
                escalation: resolve(name, &c.escalation)?,
            };
            for (index, o) in c.overrides.iter().enumerate() {
                let bad = || PolicyError::Override {
                    clock: name.clone(),
                    index,
                };
                if o.when.is_any() {
                    return Err(bad());
                }
                let applies_to = base.applies_to.and(&o.when).ok_or_else(bad)?;
                let ladder = o.escalation.clone().unwrap_or_else(|| base.ladder.clone());
                let variant = ClockPolicy {
                    applies_to,
                    pause_on: o.pause_on.clone().unwrap_or_else(|| base.pause_on.clone()),
                    length: o.length.unwrap_or(base.length),
                    warning: o.warning.unwrap_or(base.warning),
                    escalation: resolve(name, &ladder)?,
                    ladder,
                    ..base.clone()
                };
                check(name, variant.length, variant.warning)?;
                clocks.push(variant);
            }
            clocks.push(base);
        }
        Ok(SlaPolicy { clocks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::default_domain_config;

    fn names(clocks: &[&ClockPolicy]) -> Vec<String> {
        clocks.iter().map(|c| c.name.clone()).collect()
    }

    fn length(policy: &SlaPolicy, name: &str) -> Span {
        policy.all().iter().find(|c| c.name == name).unwrap().length
    }

    #[test]
    fn default_config_has_the_clocks_of_domain_md_section_3() {
        let policy = default_domain_config().sla;
        for (name, span) in [
            ("registration", Span::ClockHours(24)),
            ("first_reply", Span::ClockHours(24)),
            ("containment", Span::ClockHours(24)),
            ("service_decision", Span::WorkingDays(1)),
            ("adverse_reaction_answer", Span::WorkingDays(1)),
            ("concern_letter", Span::WorkingDays(2)),
            ("handling_result", Span::WorkingDays(7)),
            ("eight_d_reply", Span::WorkingDays(7)),
            ("handling_plan", Span::WorkingDays(10)),
            ("tracking", Span::ClockHours(72)),
        ] {
            assert_eq!(length(&policy, name), span, "{name}");
        }
        let mut distinct: Vec<&str> = policy.all().iter().map(|c| c.name.as_str()).collect();
        distinct.dedup();
        assert_eq!(distinct.len(), 10, "{distinct:?}");
        for clock in policy.all() {
            assert_eq!(clock.warning, 0.8, "{}", clock.name);
            assert_eq!(clock.pause_on, vec!["waiting_for_customer"], "{}", clock.name);
            assert_eq!(clock.escalation.len(), 3, "{}", clock.name);
            assert_eq!(
                clock.escalation.last().unwrap().notify,
                vec![Role::GeneralManager],
                "{}: the ladder ends at the general manager",
                clock.name
            );
        }
    }

    #[test]
    fn product_quality_complaint_gets_containment_and_8d_with_the_quality_ladder() {
        let policy = default_domain_config().sla;
        let clocks = clocks_for(&policy, "complaint", "product_quality", "major");
        assert_eq!(
            names(&clocks),
            [
                "containment",
                "eight_d_reply",
                "first_reply",
                "handling_result",
                "registration",
                "tracking"
            ]
        );
        let containment = clocks.iter().find(|c| c.name == "containment").unwrap();
        assert_eq!(containment.escalation[1].notify, vec![Role::ManagementRepresentative]);
        assert_eq!(containment.start_event, "case.opened");
    }

    #[test]
    fn staff_service_and_adverse_event_get_their_one_working_day_clocks() {
        let policy = default_domain_config().sla;
        let service = names(&clocks_for(&policy, "complaint", "staff_service", "general"));
        assert!(service.contains(&"service_decision".to_string()));
        assert!(!service.contains(&"containment".to_string()));
        assert!(!service.contains(&"eight_d_reply".to_string()));
        let adverse = names(&clocks_for(&policy, "complaint", "adverse_event", "major"));
        assert!(adverse.contains(&"adverse_reaction_answer".to_string()));
        assert!(!adverse.contains(&"service_decision".to_string()));
    }

    #[test]
    fn important_information_gets_concern_letter_and_handling_plan() {
        let policy = default_domain_config().sla;
        assert_eq!(
            names(&clocks_for(&policy, "important", "suggestion", "general")),
            [
                "concern_letter",
                "handling_plan",
                "handling_result",
                "registration",
                "tracking"
            ]
        );
        assert_eq!(
            names(&clocks_for(&policy, "general", "consultation", "general")),
            ["handling_result", "registration", "tracking"]
        );
    }

    #[test]
    fn tracking_starts_when_the_case_is_resolved() {
        let policy = default_domain_config().sla;
        let tracking = policy
            .clock_for("tracking", "complaint", "logistics", "general")
            .unwrap();
        assert_eq!(tracking.start_event, "case.resolved");
        assert!(tracking.pauses_on("waiting_for_customer"));
        assert!(!tracking.pauses_on("in_progress"));
    }

    fn json_config(extra_clock: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "ladders": { "service": [
                { "after": { "clock_hours": 0 }, "notify": ["handler", "department_head"] },
                { "after": { "working_days": 1 }, "notify": ["marketing_director"] },
                { "after": { "working_days": 2 }, "notify": ["general_manager"] }
            ] },
            "clocks": { "handling_result": extra_clock }
        })
    }

    #[test]
    fn first_matching_override_wins_and_inherits_the_rest() {
        let policy: SlaPolicy = serde_json::from_value(json_config(serde_json::json!({
            "start": "case.opened", "stop": "case.resolved",
            "length": { "working_days": 7 }, "escalation": "service",
            "overrides": [
                { "when": { "severities": ["major"] }, "length": { "working_days": 3 } },
                { "when": { "classes": ["complaint"] }, "length": { "working_days": 5 }, "warning": 0.5 }
            ]
        })))
        .unwrap();
        let pick = |class, severity| policy.clocks_for(class, "logistics", severity)[0].clone();
        assert_eq!(pick("complaint", "major").length, Span::WorkingDays(3));
        assert_eq!(pick("complaint", "general").length, Span::WorkingDays(5));
        assert_eq!(pick("complaint", "general").warning, 0.5);
        assert_eq!(pick("general", "general").length, Span::WorkingDays(7));
        assert_eq!(pick("general", "general").warning, 0.8);
        assert_eq!(pick("general", "major").start_event, "case.opened");
        assert_eq!(policy.clocks_for("complaint", "logistics", "major").len(), 1);
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let clock = |patch: serde_json::Value| {
            let mut c = serde_json::json!({
                "start": "case.opened", "stop": "case.resolved",
                "length": { "working_days": 7 }, "escalation": "service"
            });
            c.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
            serde_json::from_value::<SlaConfig>(json_config(c)).map(SlaPolicy::from_config)
        };
        assert!(matches!(
            clock(serde_json::json!({ "escalation": "nope" })).unwrap(),
            Err(PolicyError::UnknownLadder { .. })
        ));
        assert!(matches!(
            clock(serde_json::json!({ "warning": 1.5 })).unwrap(),
            Err(PolicyError::Warning { .. })
        ));
        assert!(matches!(
            clock(serde_json::json!({ "length": { "clock_hours": 0 } })).unwrap(),
            Err(PolicyError::ZeroLength(_))
        ));
        assert!(matches!(
            clock(serde_json::json!({ "stop": "case.opened" })).unwrap(),
            Err(PolicyError::Events(_))
        ));
        assert!(matches!(
            clock(serde_json::json!({ "applies_to": { "classes": ["general"] },
                "overrides": [{ "when": { "classes": ["complaint"] } }] }))
            .unwrap(),
            Err(PolicyError::Override { .. })
        ));
        assert!(
            clock(serde_json::json!({ "lenght": { "working_days": 1 } })).is_err(),
            "typo"
        );
        assert!(clock(serde_json::json!({ "length": { "working_weeks": 1 } })).is_err());
        let mut too_long = json_config(serde_json::json!({
            "start": "case.opened", "stop": "case.resolved",
            "length": { "working_days": 7 }, "escalation": "service"
        }));
        too_long["ladders"]["service"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({ "after": { "working_days": 3 }, "notify": ["general_manager"] }));
        assert!(matches!(
            SlaPolicy::from_config(serde_json::from_value(too_long).unwrap()),
            Err(PolicyError::LadderLength(_))
        ));
        let unknown_role = serde_json::json!({ "after": { "clock_hours": 0 }, "notify": ["janitor"] });
        assert!(serde_json::from_value::<LadderStepConfig>(unknown_role).is_err());
    }
}
