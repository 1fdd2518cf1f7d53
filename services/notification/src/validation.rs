//! Configuration checked at start-up, so a typo in a rule fails loudly instead of telling nobody: every
//! rule's event, channel, recipient kind and template (both languages; the SMS text for SMS rules) must
//! exist, and an Aliyun gateway needs a registered template code for every SMS template a rule sends.
use std::fmt;

use crate::{
    domain::{
        rules::{known_kind, Rule, CHANNELS},
        templates::{Templates, LANGUAGES},
    },
    handlers::RULE_EVENTS,
    settings::{Settings, SmsProviderKind},
};

/// One thing wrong with one rule (numbered from 1, in the order of `[[rules]]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "rule {number} (event `{event}`, recipient `{recipient}`, channel `{channel}`, template `{template}`): {problem}"
)]
pub struct RuleError {
    pub number: usize,
    pub event: String,
    pub recipient: String,
    pub channel: String,
    pub template: String,
    pub problem: String,
}

/// Everything wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<RuleError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid notification rules:")?;
        for e in &self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn problems(rule: &Rule, settings: &Settings, templates: &Templates) -> Vec<String> {
    let mut out = Vec::new();
    if !RULE_EVENTS.contains(&rule.event.as_str()) {
        out.push(format!("unknown event; one of {}", RULE_EVENTS.join(", ")));
    }
    if !CHANNELS.contains(&rule.channel.as_str()) {
        out.push(format!("unknown channel; one of {}", CHANNELS.join(", ")));
    }
    if !known_kind(&rule.recipient) {
        out.push("unknown recipient kind".into());
    }
    if let Some(fallback) = rule.fallback.as_deref().filter(|f| !known_kind(f)) {
        out.push(format!("unknown fallback recipient kind `{fallback}`"));
    }
    if rule.event != "case.changed" {
        if rule.action.is_some() {
            out.push("`action` filters case.changed only".into());
        }
        if rule.changed.is_some() {
            out.push("`changed` filters case.changed only".into());
        }
    }
    let sms = rule.channel == "sms";
    for lang in LANGUAGES {
        let mut files = vec![format!("{}.{lang}.txt", rule.template)];
        if sms {
            files.push(format!("{}.{lang}.sms.txt", rule.template));
        }
        for file in files.into_iter().filter(|f| !templates.has_file(f)) {
            out.push(format!("no template file `{file}`"));
        }
    }
    if sms
        && settings.sms.provider == SmsProviderKind::Aliyun
        && !settings.sms.aliyun.templates.contains_key(&rule.template)
    {
        out.push(format!(
            "the Aliyun gateway has no template code for it (set sms.aliyun.templates.{} = {{ code = \"SMS_…\", params = […] }})",
            rule.template
        ));
    }
    out
}

/// Every problem of every rule, or `Ok` when the rules can all work.
pub fn validate(settings: &Settings, templates: &Templates) -> Result<(), ConfigErrors> {
    let errors: Vec<RuleError> = settings
        .rules
        .iter()
        .enumerate()
        .flat_map(|(i, rule)| {
            problems(rule, settings, templates)
                .into_iter()
                .map(move |problem| RuleError {
                    number: i + 1,
                    event: rule.event.clone(),
                    recipient: rule.recipient.clone(),
                    channel: rule.channel.clone(),
                    template: rule.template.clone(),
                    problem,
                })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ConfigErrors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::AliyunTemplate;

    fn settings() -> Settings {
        Settings::load().expect("default settings")
    }

    fn rule(event: &str, recipient: &str, channel: &str, template: &str) -> Rule {
        Rule {
            event: event.into(),
            recipient: recipient.into(),
            channel: channel.into(),
            template: template.into(),
            action: None,
            class: None,
            changed: None,
            fallback: None,
        }
    }

    fn problems_of(s: &Settings) -> Vec<(usize, String)> {
        match validate(s, &Templates::new().unwrap()) {
            Ok(()) => vec![],
            Err(ConfigErrors(e)) => e.into_iter().map(|e| (e.number, e.problem)).collect(),
        }
    }

    #[test]
    fn the_default_rules_are_valid() {
        assert_eq!(problems_of(&settings()), vec![]);
    }

    #[test]
    fn each_kind_of_mistake_is_refused_naming_the_rule() {
        let mut s = settings();
        let n = s.rules.len();
        s.rules.push(rule("case.openned", "department", "email", "case_opened"));
        s.rules.push(rule("case.opened", "department", "fax", "case_opened"));
        s.rules.push(rule("case.opened", "boss", "email", "case_opened"));
        s.rules.push(rule("case.opened", "department", "email", "case_opend"));
        // case_opened has no SMS text of its own.
        s.rules.push(rule("case.opened", "department", "sms", "case_opened"));
        let mut with_action = rule("case.opened", "assignee", "email", "case_assigned");
        with_action.action = Some("assign".into());
        with_action.fallback = Some("mailbox".into());
        s.rules.push(with_action);
        let found = problems_of(&s);
        let of = |k: usize| -> Vec<String> {
            found
                .iter()
                .filter(|(i, _)| *i == n + k)
                .map(|(_, p)| p.clone())
                .collect()
        };
        assert!(
            of(1)[0].starts_with("unknown event; one of feedback.received"),
            "{found:?}"
        );
        assert_eq!(of(2), ["unknown channel; one of email, sms"]);
        assert_eq!(of(3), ["unknown recipient kind"]);
        assert_eq!(
            of(4),
            [
                "no template file `case_opend.zh-CN.txt`",
                "no template file `case_opend.en.txt`"
            ]
        );
        assert_eq!(
            of(5),
            [
                "no template file `case_opened.zh-CN.sms.txt`",
                "no template file `case_opened.en.sms.txt`"
            ]
        );
        assert_eq!(
            of(6),
            [
                "unknown fallback recipient kind `mailbox`",
                "`action` filters case.changed only"
            ]
        );
        assert_eq!(found.len(), 9, "the default rules add nothing: {found:?}");
        let message = validate(&s, &Templates::new().unwrap()).unwrap_err().to_string();
        assert!(
            message.contains(&format!(
                "rule {} (event `case.openned`, recipient `department`, channel `email`, template `case_opened`): unknown event",
                n + 1
            )),
            "{message}"
        );
    }

    #[test]
    fn an_aliyun_gateway_needs_a_code_for_every_sms_template_a_rule_uses() {
        let mut s = settings();
        s.sms.provider = SmsProviderKind::Aliyun;
        let found = problems_of(&s);
        // The default SMS rules: acknowledgement, extension, resolution, escalation.
        let missing: Vec<&str> = found
            .iter()
            .map(|(_, p)| p.split("templates.").nth(1).unwrap().split(' ').next().unwrap())
            .collect();
        assert_eq!(
            missing,
            [
                "deadline_extended",
                "case_resolved",
                "deadline_escalated",
                "feedback_received"
            ]
        );
        for t in missing.iter().map(|t| t.to_string()).collect::<Vec<_>>() {
            s.sms.aliyun.templates.insert(
                t,
                AliyunTemplate {
                    code: "SMS_1".into(),
                    params: vec!["reference".into()],
                },
            );
        }
        assert_eq!(problems_of(&s), vec![]);
    }
}
