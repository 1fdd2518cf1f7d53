//! Classification of feedback into class, category and severity by configured rules (domain.md §2).
//! Pure: the decision and its reason, nothing else.
//!
//! Rules are tried in order; the first that matches decides. A rule matches when its `channels` (if any) include
//! the feedback's channel and either one of its `when` conditions holds or one of its keywords appears in the
//! subject or content. Keywords compare without case. A keyword that starts or ends with a Latin letter or digit
//! must stand as a word there (`late` does not match "chocolate"); a trailing `*` makes it a prefix (`defect*`
//! matches "defective"). Chinese keywords match anywhere.
use contracts::feedback::FeedbackReceivedV1;
use serde::{Deserialize, Serialize};

/// The classes of domain.md §2 (000 §4.2.1).
pub const CLASSES: &[&str] = &["general", "important", "complaint"];
/// The severities of domain.md §2 (003 篇6 §1.3).
pub const SEVERITIES: &[&str] = &["general", "important", "major"];

#[derive(Debug, Clone, Deserialize)]
pub struct ClassificationSettings {
    pub rules: Vec<Rule>,
    pub default: Outcome,
}

/// A part of the feedback whose presence can decide a rule, even without keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// A claim amount or a return quantity.
    Claim,
    /// Adverse-reaction details (onset, dose, other medicines).
    AdverseReaction,
    /// A product code or batch.
    Product,
    /// An order number.
    Order,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub name: String,
    pub class: String,
    pub category: String,
    pub severity: String,
    /// Conditions any one of which makes the rule match (even without keywords); one or a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub when: Vec<Condition>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Channels the rule applies to (`phone`, `email`, `web`, …); empty = every channel.
    #[serde(default)]
    pub channels: Vec<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Condition>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Condition),
        Many(Vec<Condition>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => vec![],
        Some(OneOrMany::One(c)) => vec![c],
        Some(OneOrMany::Many(v)) => v,
    })
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

impl ClassificationSettings {
    /// Every rule names a known class and severity and a category that `categories` (the routed ones) knows,
    /// and has something to match on; a channel is one intake registers. `Err` names the rule and the problem.
    pub fn validate(&self, categories: &[&str]) -> Result<(), String> {
        let check = |rule: &str, class: &str, category: &str, severity: &str| -> Result<(), String> {
            if !CLASSES.contains(&class) {
                return Err(format!(
                    "classification rule `{rule}`: unknown class `{class}` (one of {CLASSES:?})"
                ));
            }
            if !SEVERITIES.contains(&severity) {
                return Err(format!(
                    "classification rule `{rule}`: unknown severity `{severity}` (one of {SEVERITIES:?})"
                ));
            }
            if !categories.contains(&category) {
                return Err(format!(
                    "classification rule `{rule}`: category `{category}` has no department in [routing.departments]"
                ));
            }
            Ok(())
        };
        for r in &self.rules {
            check(&r.name, &r.class, &r.category, &r.severity)?;
            if r.when.is_empty() && r.keywords.iter().all(|k| k.trim_end_matches('*').trim().is_empty()) {
                return Err(format!(
                    "classification rule `{}` has neither `when` nor keywords",
                    r.name
                ));
            }
            if let Some(c) = r.channels.iter().find(|c| !is_channel(c)) {
                return Err(format!("classification rule `{}`: unknown channel `{c}`", r.name));
            }
        }
        let d = &self.default;
        check(&d.name, &d.class, &d.category, &d.severity)
    }
}

fn is_channel(name: &str) -> bool {
    serde_json::from_value::<contracts::feedback::Channel>(serde_json::Value::String(name.to_owned())).is_ok()
}

/// Whether `c` holds for the feedback, and how to say so.
fn holds(c: Condition, f: &FeedbackReceivedV1) -> Option<&'static str> {
    let present = match c {
        Condition::Claim => f
            .claim
            .as_ref()
            .is_some_and(|c| c.amount.is_some() || c.return_quantity.is_some()),
        Condition::AdverseReaction => f.adverse_reaction.is_some(),
        Condition::Product => f
            .product
            .as_ref()
            .is_some_and(|p| p.code.is_some() || p.batch.is_some()),
        Condition::Order => f.order.as_ref().is_some_and(|o| o.number.is_some()),
    };
    present.then_some(match c {
        Condition::Claim => "a claim amount or return quantity is given",
        Condition::AdverseReaction => "adverse-reaction details are given",
        Condition::Product => "a product code or batch is given",
        Condition::Order => "an order number is given",
    })
}

/// Whether `keyword` (see the module documentation) appears in `text`, which is already lower-cased.
pub fn mentions(text: &str, keyword: &str) -> bool {
    let keyword = keyword.to_lowercase();
    let (word, prefix) = match keyword.strip_suffix('*') {
        Some(w) => (w.trim(), true),
        None => (keyword.trim(), false),
    };
    if word.is_empty() {
        return false;
    }
    let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let bound_start = latin(word.chars().next());
    let bound_end = !prefix && latin(word.chars().last());
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let glued_before = bound_start && latin(before);
        let glued_after = bound_end && latin(after);
        !glued_before && !glued_after
    })
}

pub fn classify(settings: &ClassificationSettings, feedback: &FeedbackReceivedV1) -> Decision {
    let text = format!("{} {}", feedback.subject.as_deref().unwrap_or(""), feedback.content).to_lowercase();
    let channel = feedback.channel.as_str();
    for rule in &settings.rules {
        if !rule.channels.is_empty() && !rule.channels.iter().any(|c| c == channel) {
            continue;
        }
        let condition = rule.when.iter().find_map(|c| holds(*c, feedback)).map(str::to_owned);
        let keyword = || {
            rule.keywords
                .iter()
                .find(|k| mentions(&text, k))
                .map(|k| format!("the text mentions \u{201c}{}\u{201d}", k.trim_end_matches('*')))
        };
        if let Some(mut reason) = condition.or_else(keyword) {
            if !rule.channels.is_empty() {
                reason.push_str(&format!(" (channel {channel})"));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::feedback::{AdverseReactionV1, Channel, ClaimV1, CustomerV1, ProductV1};
    use serde_json::json;

    fn shipped() -> crate::settings::Settings {
        settings::load(include_str!("../../config/default.toml")).expect("config/default.toml loads")
    }

    fn feedback(channel: Channel, subject: Option<&str>, content: &str) -> FeedbackReceivedV1 {
        serde_json::from_value(json!({
            "feedback_id": uuid::Uuid::nil(), "reference": "SH01-20261202-0001", "channel": channel,
            "received_at": "2026-12-02T02:00:00Z", "customer": CustomerV1::default(),
            "subject": subject, "content": content,
        }))
        .expect("a feedback.received payload")
    }

    /// (channel, subject, content, extra parts) → (class, category, severity, rule), with the shipped rules and
    /// the department it routes to at sh01.
    #[test]
    fn the_shipped_rules_classify_and_route_chinese_and_english_feedback() {
        let s = shipped();
        type Row<'a> = (&'a str, Option<&'a str>, &'a str, [&'a str; 5]);
        let table: &[Row] = &[
            (
                "phone",
                None,
                "服用后出现皮疹，怀疑过敏",
                ["complaint", "adverse_event", "major", "adverse-event", "quality"],
            ),
            (
                "email",
                Some("Side effects"),
                "My son had side effects after the second dose",
                ["complaint", "adverse_event", "major", "adverse-event", "quality"],
            ),
            (
                "web",
                None,
                "充电时电池起火，差点受伤",
                ["complaint", "product_quality", "major", "product-safety", "quality"],
            ),
            (
                "email",
                None,
                "The heater EXPLODED in the kitchen",
                ["complaint", "product_quality", "major", "product-safety", "quality"],
            ),
            (
                "phone",
                None,
                "收到的产品有质量缺陷，包装破损",
                ["complaint", "product_quality", "important", "product-defect", "quality"],
            ),
            (
                "web",
                None,
                "Two of the bottles were defective",
                ["complaint", "product_quality", "important", "product-defect", "quality"],
            ),
            (
                "web",
                None,
                "物流太慢，发票丢失",
                ["complaint", "logistics", "general", "logistics", "sales"],
            ),
            (
                "email",
                None,
                "The delivery was three days late",
                ["complaint", "logistics", "general", "logistics", "sales"],
            ),
            (
                "phone",
                None,
                "客服人员态度很差",
                ["complaint", "staff_service", "general", "staff-service", "sales"],
            ),
            (
                "web",
                None,
                "The driver was rude to my staff",
                ["complaint", "staff_service", "general", "staff-service", "sales"],
            ),
            (
                "web",
                None,
                "建议增加小包装规格",
                ["important", "suggestion", "general", "suggestion", "technical"],
            ),
            (
                "email",
                None,
                "Could you add an English manual?",
                ["important", "suggestion", "general", "suggestion", "technical"],
            ),
            (
                "phone",
                None,
                "请问这个产品怎么储存",
                ["general", "consultation", "general", "consultation", "sales"],
            ),
            // Word boundaries: "chocolate" is not "late", "unrelated" not "late" either.
            (
                "web",
                None,
                "I love your chocolate, unrelated to anything",
                ["general", "consultation", "general", "default", "sales"],
            ),
            (
                "web",
                None,
                "谢谢",
                ["general", "consultation", "general", "default", "sales"],
            ),
        ];
        for (channel, subject, content, [class, category, severity, rule, department]) in table {
            let channel: Channel = serde_json::from_value(json!(channel)).unwrap();
            let d = classify(&s.classification, &feedback(channel, *subject, content));
            assert_eq!(
                (
                    d.class.as_str(),
                    d.category.as_str(),
                    d.severity.as_str(),
                    d.rule.as_str()
                ),
                (*class, *category, *severity, *rule),
                "{content}: {}",
                d.reason
            );
            assert_eq!(
                crate::domain::routing::department_for(&s.routing, "sh01", &d.category),
                *department,
                "{content}"
            );
        }
    }

    #[test]
    fn parts_of_the_feedback_decide_without_keywords_and_say_why() {
        let s = shipped();
        let mut f = feedback(Channel::Api, None, "见附件");
        f.adverse_reaction = Some(AdverseReactionV1 {
            onset: Some("2 h".into()),
            ..Default::default()
        });
        let d = classify(&s.classification, &f);
        assert_eq!(
            (d.category.as_str(), d.reason.as_str()),
            ("adverse_event", "adverse-reaction details are given")
        );
        let mut f = feedback(Channel::Api, None, "要求退款");
        f.claim = Some(ClaimV1 {
            amount: Some("1500.00".parse().unwrap()),
            ..Default::default()
        });
        let d = classify(&s.classification, &f);
        assert_eq!((d.category.as_str(), d.rule.as_str()), ("commercial", "claim"));
        assert!(d.reason.contains("claim amount"), "{}", d.reason);
        let d = classify(&s.classification, &feedback(Channel::Web, None, "包装破损"));
        assert_eq!(d.reason, "the text mentions \u{201c}破损\u{201d}");
    }

    #[test]
    fn a_rule_can_be_limited_to_channels_and_conditions_combine() {
        let settings: ClassificationSettings = serde_json::from_value(json!({
            "rules": [
                {"name": "survey-suggestion", "class": "important", "category": "suggestion", "severity": "general",
                 "channels": ["survey", "card"], "keywords": ["希望"]},
                {"name": "product-report", "class": "complaint", "category": "product_quality",
                 "severity": "general", "when": ["product", "order"]},
            ],
            "default": {"name": "default", "class": "general", "category": "consultation", "severity": "general"}
        }))
        .unwrap();
        let d = classify(&settings, &feedback(Channel::Survey, None, "希望有更多颜色"));
        assert_eq!(d.rule, "survey-suggestion");
        assert!(d.reason.ends_with("(channel survey)"), "{}", d.reason);
        assert_eq!(
            classify(&settings, &feedback(Channel::Phone, None, "希望有更多颜色")).rule,
            "default"
        );
        let mut f = feedback(Channel::Phone, None, "see the batch");
        f.product = Some(ProductV1 {
            batch: Some("B-9".into()),
            ..Default::default()
        });
        assert_eq!(classify(&settings, &f).rule, "product-report");
        let categories = ["suggestion", "product_quality", "consultation"];
        assert_eq!(settings.validate(&categories), Ok(()));
    }

    #[test]
    fn keywords_match_whole_latin_words_prefixes_and_chinese_anywhere() {
        assert!(mentions("the parcel came late.", "late"));
        assert!(!mentions("chocolate", "late"));
        assert!(!mentions("lately", "late"));
        assert!(
            mentions("产品late了", "late"),
            "Chinese next to a Latin word is a boundary"
        );
        assert!(mentions("defective units", "defect*"));
        assert!(!mentions("undefective", "defect*"));
        assert!(mentions("it was lost in transit!", "Lost in transit"));
        assert!(mentions("包装破损严重", "破损"));
        assert!(!mentions("anything", "*"));
    }

    #[test]
    fn the_shipped_rules_are_valid_and_mistakes_are_named() {
        let s = shipped();
        let categories: Vec<&str> = s.routing.departments.keys().map(String::as_str).collect();
        assert_eq!(s.classification.validate(&categories), Ok(()));
        let mut bad = s.classification.clone();
        bad.rules[0].class = "grave".into();
        assert!(bad.validate(&categories).unwrap_err().contains("unknown class `grave`"));
        let mut bad = s.classification.clone();
        bad.rules[0].category = "weather".into();
        assert!(bad
            .validate(&categories)
            .unwrap_err()
            .contains("`weather` has no department"));
        let mut bad = s.classification.clone();
        bad.rules[1].channels = vec!["pigeon".into()];
        assert!(bad
            .validate(&categories)
            .unwrap_err()
            .contains("unknown channel `pigeon`"));
        assert!(
            serde_json::from_value::<Rule>(json!({"name": "x", "class": "general", "category": "consultation",
            "severity": "general", "when": "telepathy"}))
            .is_err()
        );
    }
}
