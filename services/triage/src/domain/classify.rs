//! Classification of feedback into class, category and severity by configured rules (domain.md §2).
//! Pure: the decision and its reason, nothing else.
use contracts::feedback::FeedbackReceivedV1;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct ClassificationSettings {
    pub rules: Vec<Rule>,
    pub default: Outcome,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub name: String,
    pub class: String,
    pub category: String,
    pub severity: String,
    /// `claim` or `adverse_reaction`: the rule matches when that part of the feedback is present
    /// (even without keywords).
    #[serde(default)]
    pub when: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub class: String,
    pub category: String,
    pub severity: String,
}

/// The outcome and why: which rule, and what in the feedback matched.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Decision {
    pub class: String,
    pub category: String,
    pub severity: String,
    pub rule: String,
    pub reason: String,
}

pub fn classify(settings: &ClassificationSettings, feedback: &FeedbackReceivedV1) -> Decision {
    let text = format!("{} {}", feedback.subject.as_deref().unwrap_or(""), feedback.content).to_lowercase();
    for rule in &settings.rules {
        let condition = match rule.when.as_deref() {
            Some("claim") => feedback
                .claim
                .as_ref()
                .is_some_and(|c| c.amount.is_some() || c.return_quantity.is_some())
                .then(|| "a claim amount or return quantity is given".to_owned()),
            Some("adverse_reaction") => feedback
                .adverse_reaction
                .is_some()
                .then(|| "adverse-reaction details are given".to_owned()),
            _ => None,
        };
        let keyword = rule
            .keywords
            .iter()
            .find(|k| text.contains(&k.to_lowercase()))
            .map(|k| format!("the text mentions \u{201c}{k}\u{201d}"));
        if let Some(reason) = condition.or(keyword) {
            return Decision {
                class: rule.class.clone(),
                category: rule.category.clone(),
                severity: rule.severity.clone(),
                rule: rule.name.clone(),
                reason,
            };
        }
    }
    let d = &settings.default;
    Decision {
        class: d.class.clone(),
        category: d.category.clone(),
        severity: d.severity.clone(),
        rule: d.name.clone(),
        reason: "no rule matched".into(),
    }
}
