//! Which events tell whom (configured in `[[rules]]`), resolved through the directory.
use serde::Deserialize;

use super::directory::{Directory, Person};

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub event: String,
    /// Who: `customer`, `department` (the case's mailbox), `assignee` (the responsible person),
    /// `escalation` (the department's chain at the event's level), `approvers` (of the case's claim),
    /// `report_recipients`, `role:<role>` (in the case's department, else company-wide) or
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
}

/// A resolved recipient: an address (email or phone, by channel) and the language to write in.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub address: String,
    pub language: String,
    pub name: Option<String>,
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
    pub class: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub customer: Customer<'a>,
    /// Escalation level and the roles the scheduler named for it (deadline events).
    pub level: Option<u32>,
    pub roles: &'a [String],
    /// The amount of the case's claim, for its approvers.
    pub claim_amount: Option<f64>,
}

/// The ladder's first rung (scheduler's `handler`): the case's assignee.
const HANDLER: &str = "role:handler";

fn person_address(p: &Person, channel: &str) -> Option<Recipient> {
    let address = if channel == "sms" {
        p.phone.clone()
    } else {
        p.email.clone()
    }?;
    Some(Recipient {
        address,
        language: p.language.clone(),
        name: Some(p.name.clone()),
    })
}

pub fn recipients<'r>(
    rules: &'r [Rule],
    directory: &Directory,
    event_type: &str,
    action: Option<&str>,
    ctx: &Context<'_>,
) -> Vec<(&'r Rule, Recipient)> {
    let mut out: Vec<(&Rule, Recipient)> = Vec::new();
    let rules = rules.iter().filter(|r| {
        r.event == event_type
            && (r.action.is_none() || r.action.as_deref() == action)
            && (r.class.is_none() || r.class.as_deref() == ctx.class)
    });
    let department = (!ctx.department.is_empty()).then_some(ctx.department);
    for rule in rules {
        let sms = rule.channel == "sms";
        let people = |v: Vec<(&str, &Person)>| -> Vec<Recipient> {
            v.into_iter()
                .filter_map(|(_, p)| person_address(p, &rule.channel))
                .collect()
        };
        let found: Vec<Recipient> = match rule.recipient.as_str() {
            "department" => directory
                .departments
                .get(ctx.department)
                .and_then(|d| {
                    Some(Recipient {
                        address: if sms { d.phone.clone()? } else { d.mailbox.clone() },
                        language: d.language.clone(),
                        name: Some(d.name.clone()),
                    })
                })
                .into_iter()
                .collect(),
            "customer" if !ctx.customer.anonymous => {
                let c = &ctx.customer;
                (if sms { c.phone } else { c.email })
                    .map(|a| Recipient {
                        address: a.to_owned(),
                        language: c.language.to_owned(),
                        name: c.name.map(str::to_owned),
                    })
                    .into_iter()
                    .collect()
            }
            "assignee" => people(ctx.assignee.map(|a| directory.resolve(a, None)).unwrap_or_default()),
            "escalation" => people(
                ctx.level
                    .map(|level| directory.escalation_entries(ctx.department, level, ctx.roles))
                    .unwrap_or_default()
                    .iter()
                    .flat_map(|e| match (e.as_str(), ctx.assignee) {
                        // The handler on the ladder is whoever has the case.
                        (HANDLER, Some(a)) => directory.resolve(a, None),
                        (HANDLER, None) => vec![],
                        _ => directory.resolve(e, department),
                    })
                    .collect(),
            ),
            "approvers" => people(
                ctx.claim_amount
                    .map(|amount| directory.approvers(amount, department))
                    .unwrap_or_default(),
            ),
            "report_recipients" => people(directory.report_recipients()),
            other => match (other.strip_prefix("role:"), other.strip_prefix("person:")) {
                (Some(role), _) => people(directory.with_role(role, department)),
                (_, Some(id)) => people(directory.resolve(id, None)),
                _ => vec![],
            },
        };
        for r in found {
            // One message per address and rule, however many ways the directory reached it.
            if !out
                .iter()
                .any(|(x, y)| std::ptr::eq(*x, rule) && y.address == r.address)
            {
                out.push((rule, r));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(event: &str, recipient: &str, channel: &str) -> Rule {
        Rule {
            event: event.into(),
            recipient: recipient.into(),
            channel: channel.into(),
            template: "t".into(),
            action: None,
            class: None,
        }
    }

    fn directory() -> Directory {
        serde_json::from_value(json!({
            "departments": {"quality": {"name": "Q", "mailbox": "quality@x", "language": "zh-CN"}},
            "people": {
                "u1": {"name": "Handler", "email": "u1@x", "phone": "13900000001", "language": "en",
                       "roles": ["handler"], "department": "quality"},
                "head": {"name": "Head", "email": "head@x", "roles": ["department_head"], "department": "quality"},
                "gm": {"name": "GM", "email": "gm@x", "roles": ["general_manager"]},
            },
            "escalation": {"quality": [{"level": 1, "notify": ["role:department_head"]},
                                       {"level": 3, "notify": ["role:department_head", "gm", "head"]}]},
            "approvals": [{"above": 1000.0, "role": "general_manager"}],
            "report_recipients": ["gm"],
        }))
        .unwrap()
    }

    #[test]
    fn each_kind_of_recipient_comes_from_the_directory() {
        let d = directory();
        let roles = vec!["handler".to_owned(), "department_head".to_owned()];
        let ctx = Context {
            department: "quality",
            assignee: Some("u1"),
            customer: Customer {
                name: Some("张三"),
                email: Some("c@x"),
                phone: Some("13800000000"),
                language: "zh-CN",
                anonymous: false,
            },
            level: Some(3),
            claim_amount: Some(1500.0),
            ..Default::default()
        };
        let addresses = |r: Rule| -> Vec<String> {
            let rules = [r];
            recipients(&rules, &d, "e", None, &ctx)
                .into_iter()
                .map(|(_, r)| r.address)
                .collect()
        };
        assert_eq!(addresses(rule("e", "department", "email")), ["quality@x"]);
        assert_eq!(addresses(rule("e", "department", "sms")), Vec::<String>::new());
        assert_eq!(addresses(rule("e", "customer", "email")), ["c@x"]);
        assert_eq!(addresses(rule("e", "customer", "sms")), ["13800000000"]);
        assert_eq!(addresses(rule("e", "assignee", "email")), ["u1@x"]);
        assert_eq!(addresses(rule("e", "assignee", "sms")), ["13900000001"]);
        // Level 3: head reached twice (by role and by id) is told once.
        assert_eq!(addresses(rule("e", "escalation", "email")), ["head@x", "gm@x"]);
        assert_eq!(addresses(rule("e", "approvers", "email")), ["gm@x"]);
        // No configured chain for level 2: the scheduler's roles, the handler being the assignee.
        let level2 = Context {
            level: Some(2),
            roles: &roles,
            ..ctx.clone()
        };
        let found: Vec<String> = recipients(&[rule("e", "escalation", "email")], &d, "e", None, &level2)
            .into_iter()
            .map(|(_, r)| r.address)
            .collect();
        assert_eq!(found, ["u1@x", "head@x"]);
        assert_eq!(addresses(rule("e", "report_recipients", "email")), ["gm@x"]);
        assert_eq!(addresses(rule("e", "role:department_head", "email")), ["head@x"]);
        assert_eq!(addresses(rule("e", "person:gm", "email")), ["gm@x"]);
        assert_eq!(addresses(rule("other", "department", "email")), Vec::<String>::new());
        let en = recipients(&[rule("e", "assignee", "email")], &d, "e", None, &ctx)[0]
            .1
            .language
            .clone();
        assert_eq!(en, "en");
    }

    #[test]
    fn anonymous_customers_and_filters_are_respected() {
        let d = directory();
        let mut ctx = Context {
            department: "quality",
            class: Some("general"),
            customer: Customer {
                email: Some("c@x"),
                language: "en",
                anonymous: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(recipients(&[rule("e", "customer", "email")], &d, "e", None, &ctx).is_empty());
        ctx.customer.anonymous = false;
        let mut important = rule("e", "customer", "email");
        important.class = Some("important".into());
        assert!(recipients(std::slice::from_ref(&important), &d, "e", None, &ctx).is_empty());
        ctx.class = Some("important");
        assert_eq!(recipients(&[important], &d, "e", None, &ctx).len(), 1);
        let mut reply = rule("case.changed", "customer", "email");
        reply.action = Some("reply".into());
        assert!(recipients(std::slice::from_ref(&reply), &d, "case.changed", Some("note"), &ctx).is_empty());
        assert_eq!(recipients(&[reply], &d, "case.changed", Some("reply"), &ctx).len(), 1);
        // No level (not a deadline event), no claim: nobody.
        assert!(recipients(&[rule("e", "escalation", "email")], &d, "e", None, &ctx).is_empty());
        assert!(recipients(&[rule("e", "approvers", "email")], &d, "e", None, &ctx).is_empty());
    }
}
