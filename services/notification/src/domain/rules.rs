//! Which events tell whom (configured in `[[rules]]`); [`super::recipients`] turns a rule's recipient
//! kind into addresses through the directory.
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Rule {
    pub event: String,
    /// Who: one of [`RECIPIENT_KINDS`], `role:<role>` (in the case's department, else company-wide) or
    /// `person:<id>`.
    pub recipient: String,
    /// `email` or `sms`.
    pub channel: String,
    pub template: String,
    /// For `case.changed`: only this workflow action (e.g. `reply`).
    #[serde(default)]
    pub action: Option<String>,
    /// Only cases of this class (e.g. the concern letter for `important` information).
    #[serde(default)]
    pub class: Option<String>,
    /// For `case.changed`: only when the change changed this field (`class`, `department`, `assignee`, …),
    /// e.g. the concern letter when a case is reclassified *to* important, not on every reclassification.
    #[serde(default)]
    pub changed: Option<String>,
    /// Told instead when `recipient` reaches nobody (e.g. the department when the case has no assignee).
    #[serde(default)]
    pub fallback: Option<String>,
}

/// Recipient kinds besides `role:<role>` and `person:<id>`.
pub const RECIPIENT_KINDS: &[&str] = &[
    "customer",
    "department",
    "assignee",
    "escalation",
    "approvers",
    "involved",
    "report_recipients",
];

pub const CHANNELS: &[&str] = &["email", "sms"];

/// Whether `kind` is a recipient the resolver knows.
pub fn known_kind(kind: &str) -> bool {
    RECIPIENT_KINDS.contains(&kind)
        || ["role:", "person:"]
            .iter()
            .any(|p| kind.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// How to reach the customer of a case.
#[derive(Debug, Clone, Default)]
pub struct Customer<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub language: &'a str,
    pub anonymous: bool,
}

/// What the rules need to know about an event's case.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    pub department: &'a str,
    /// The event's site: role holders are those who serve it.
    pub site: Option<&'a str>,
    pub class: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub customer: Customer<'a>,
    /// Escalation level and the roles the scheduler named for it (deadline events).
    pub level: Option<u32>,
    pub roles: &'a [String],
    /// The roles that must approve the case's claim, as triage said on `case.opened`.
    pub approvals: &'a [String],
    /// Roles the case's category involves besides its department (`case.opened`'s `involved_roles`, e.g. the
    /// management representative for an adverse event).
    pub involved: &'a [String],
    /// Fields the change changed (`case.changed`).
    pub changed: &'a [String],
}

impl Rule {
    /// Whether this rule speaks about an event of `event_type` (with `action`, for `case.changed`).
    pub fn applies(&self, event_type: &str, action: Option<&str>, ctx: &Context<'_>) -> bool {
        self.event == event_type
            && (self.action.is_none() || self.action.as_deref() == action)
            && (self.class.is_none() || self.class.as_deref() == ctx.class)
            && self
                .changed
                .as_ref()
                .is_none_or(|field| ctx.changed.iter().any(|c| c == field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            event: "case.changed".into(),
            recipient: "customer".into(),
            channel: "email".into(),
            template: "t".into(),
            action: Some("reclassify".into()),
            class: Some("important".into()),
            changed: Some("class".into()),
            fallback: None,
        }
    }

    #[test]
    fn action_class_and_changed_field_filter_the_rule() {
        let changed = vec!["class".to_owned()];
        let ctx = Context {
            class: Some("important"),
            changed: &changed,
            ..Default::default()
        };
        assert!(rule().applies("case.changed", Some("reclassify"), &ctx));
        assert!(!rule().applies("case.opened", Some("reclassify"), &ctx));
        assert!(!rule().applies("case.changed", Some("note"), &ctx));
        // Reclassified, still important, but only the severity changed: no second letter.
        let severity = vec!["severity".to_owned()];
        assert!(!rule().applies(
            "case.changed",
            Some("reclassify"),
            &Context {
                changed: &severity,
                ..ctx.clone()
            }
        ));
        // Reclassified to general: not important.
        assert!(!rule().applies(
            "case.changed",
            Some("reclassify"),
            &Context {
                class: Some("general"),
                ..ctx.clone()
            }
        ));
    }

    #[test]
    fn recipient_kinds_are_known_or_not() {
        for kind in ["customer", "approvers", "role:general_manager", "person:u.gm"] {
            assert!(known_kind(kind), "{kind}");
        }
        for kind in ["boss", "role:", "person:", ""] {
            assert!(!known_kind(kind), "{kind}");
        }
    }
}
