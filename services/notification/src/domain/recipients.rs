//! A rule's recipient kind → addresses, through the directory. A rule that names somebody who cannot be
//! reached (an assignee the directory does not know, an inactive account, a role nobody holds, a person
//! without an email address) yields a [`Resolved::Nobody`], which the delivery log records, instead of
//! vanishing. Nothing is recorded when nobody was meant: an anonymous customer, a case without an
//! assignee, a claim without approvals, and SMS to staff without a phone (email is their channel).
use super::{
    directory::{Directory, Person},
    rules::{Context, Rule},
};

/// A resolved recipient: an address (email or phone, by channel) and the language to write in.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub address: String,
    pub language: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Resolved<'r> {
    /// Tell `recipient`; `kind` is the rule's recipient kind, or its fallback when that was used.
    To {
        rule: &'r Rule,
        kind: &'r str,
        recipient: Recipient,
    },
    /// The rule named `target` (`person:<id>`, `role:<role>`, `department:<code>`) and it reaches nobody.
    Nobody {
        rule: &'r Rule,
        kind: &'r str,
        target: String,
        reason: String,
    },
}

/// The ladder's first rung (scheduler's `handler`): the case's assignee.
const HANDLER: &str = "role:handler";

#[derive(Default)]
struct Found {
    reached: Vec<Recipient>,
    /// (target, reason) of what was named and reaches nobody.
    missed: Vec<(String, String)>,
}

impl Found {
    fn add(&mut self, other: Found) {
        self.reached.extend(other.reached);
        self.missed.extend(other.missed);
    }
}

struct Resolver<'a> {
    directory: &'a Directory,
    ctx: &'a Context<'a>,
    sms: bool,
}

impl Resolver<'_> {
    fn department(&self) -> Option<&str> {
        (!self.ctx.department.is_empty()).then_some(self.ctx.department)
    }

    fn person(&self, id: &str, p: &Person) -> Found {
        let address = if self.sms { &p.phone } else { &p.email };
        match address {
            Some(address) => Found {
                reached: vec![Recipient {
                    address: address.clone(),
                    language: p.language.clone(),
                    name: Some(p.name.clone()),
                }],
                missed: vec![],
            },
            // Staff without a phone simply get no SMS; without an email they miss something.
            None if self.sms => Found::default(),
            None => Found {
                reached: vec![],
                missed: vec![(format!("person:{id}"), format!("`{id}` has no email address"))],
            },
        }
    }

    fn person_by_id(&self, id: &str) -> Found {
        match self.directory.people.get(id) {
            Some(p) => self.person(id, p),
            None => Found {
                reached: vec![],
                missed: vec![(format!("person:{id}"), self.directory.why_unknown(id))],
            },
        }
    }

    /// `role:<role>` or a person id, as in chains and report recipient lists.
    fn entry(&self, entry: &str) -> Found {
        let Some(role) = entry.strip_prefix("role:") else {
            return self.person_by_id(entry);
        };
        let holders = self.directory.with_role(role, self.department(), self.ctx.site);
        if holders.is_empty() {
            return Found {
                reached: vec![],
                missed: vec![(entry.to_owned(), format!("nobody in the directory holds role `{role}`"))],
            };
        }
        let mut found = Found::default();
        for (id, p) in holders {
            found.add(self.person(id, p));
        }
        found
    }

    fn kind(&self, kind: &str) -> Found {
        let ctx = self.ctx;
        match kind {
            "customer" => {
                let c = &ctx.customer;
                let address = if self.sms { c.phone } else { c.email };
                Found {
                    reached: address
                        .filter(|_| !c.anonymous)
                        .map(|a| Recipient {
                            address: a.to_owned(),
                            language: c.language.to_owned(),
                            name: c.name.map(str::to_owned),
                        })
                        .into_iter()
                        .collect(),
                    missed: vec![],
                }
            }
            "department" => match (self.department(), self.directory.departments.get(ctx.department)) {
                (None, _) => Found::default(),
                (Some(code), None) => Found {
                    reached: vec![],
                    missed: vec![(
                        format!("department:{code}"),
                        format!("department `{code}` is not in the directory"),
                    )],
                },
                (Some(_), Some(d)) => Found {
                    reached: (if self.sms {
                        d.phone.clone()
                    } else {
                        Some(d.mailbox.clone())
                    })
                    .map(|address| Recipient {
                        address,
                        language: d.language.clone(),
                        name: Some(d.name.clone()),
                    })
                    .into_iter()
                    .collect(),
                    missed: vec![],
                },
            },
            "assignee" => ctx.assignee.map(|a| self.person_by_id(a)).unwrap_or_default(),
            "escalation" => {
                let entries = ctx
                    .level
                    .map(|level| self.directory.escalation_entries(ctx.department, level, ctx.roles))
                    .unwrap_or_default();
                let mut found = Found::default();
                for e in entries {
                    found.add(match (e.as_str(), ctx.assignee) {
                        // The handler on the ladder is whoever has the case (none yet: the others are told).
                        (HANDLER, Some(a)) => self.person_by_id(a),
                        (HANDLER, None) => Found::default(),
                        _ => self.entry(&e),
                    });
                }
                found
            }
            // Every role triage says must approve the claim; each one missing is a claim that cannot be decided.
            "approvers" => {
                let mut found = Found::default();
                for role in ctx.approvals {
                    found.add(self.entry(&format!("role:{role}")));
                }
                found
            }
            // The roles the case's category involves besides its department (an adverse event: the management
            // representative, who reports to the regulator).
            "involved" => {
                let mut found = Found::default();
                for role in ctx.involved {
                    found.add(self.entry(&format!("role:{role}")));
                }
                found
            }
            "report_recipients" => {
                let mut found = Found::default();
                for e in &self.directory.report_recipients {
                    found.add(self.entry(e));
                }
                found
            }
            other => match (other.strip_prefix("role:"), other.strip_prefix("person:")) {
                (Some(_), _) => self.entry(other),
                (_, Some(id)) => self.person_by_id(id),
                _ => Found::default(),
            },
        }
    }
}

/// Everyone the rules that apply to this event tell, and every named recipient nobody could be found for.
pub fn resolve<'r>(
    rules: &'r [Rule],
    directory: &Directory,
    event_type: &str,
    action: Option<&str>,
    ctx: &Context<'_>,
) -> Vec<Resolved<'r>> {
    let mut out: Vec<Resolved<'r>> = Vec::new();
    for rule in rules.iter().filter(|r| r.applies(event_type, action, ctx)) {
        let resolver = Resolver {
            directory,
            ctx,
            sms: rule.channel == "sms",
        };
        let mut kind = rule.recipient.as_str();
        let mut found = resolver.kind(kind);
        if found.reached.is_empty() {
            if let Some(fallback) = rule.fallback.as_deref() {
                let instead = resolver.kind(fallback);
                if instead.reached.is_empty() {
                    found.add(instead);
                    if found.missed.is_empty() {
                        // A rule with a fallback exists so that somebody is told: say that nobody was.
                        found.missed.push((
                            kind.to_owned(),
                            format!("neither `{kind}` nor `{fallback}` is known for this case"),
                        ));
                    }
                } else {
                    kind = fallback;
                    found = instead;
                }
            }
        }
        for recipient in found.reached {
            // One message per address and rule, however many ways the directory reached it.
            let seen = out.iter().any(
                |r| matches!(r, Resolved::To { rule: x, recipient: y, .. } if std::ptr::eq(*x, rule) && y.address == recipient.address),
            );
            if !seen {
                out.push(Resolved::To { rule, kind, recipient });
            }
        }
        for (target, reason) in found.missed {
            let seen = out.iter().any(
                |r| matches!(r, Resolved::Nobody { rule: x, target: t, .. } if std::ptr::eq(*x, rule) && *t == target),
            );
            if !seen {
                out.push(Resolved::Nobody {
                    rule,
                    kind,
                    target,
                    reason,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{directory::SyncedAccount, rules::Customer};
    use serde_json::json;

    fn rule(event: &str, recipient: &str, channel: &str) -> Rule {
        Rule {
            event: event.into(),
            recipient: recipient.into(),
            channel: channel.into(),
            template: "t".into(),
            action: None,
            class: None,
            changed: None,
            fallback: None,
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
                "mm": {"name": "MM", "roles": ["marketing_manager"]},
            },
            "escalation": {"quality": [{"level": 1, "notify": ["role:department_head"]},
                                       {"level": 3, "notify": ["role:department_head", "gm", "head"]}]},
            "report_recipients": ["gm"],
        }))
        .unwrap()
    }

    fn addresses(found: &[Resolved<'_>]) -> Vec<String> {
        found
            .iter()
            .filter_map(|r| match r {
                Resolved::To { recipient, .. } => Some(recipient.address.clone()),
                Resolved::Nobody { .. } => None,
            })
            .collect()
    }

    fn nobody(found: &[Resolved<'_>]) -> Vec<(String, String)> {
        found
            .iter()
            .filter_map(|r| match r {
                Resolved::Nobody { target, reason, .. } => Some((target.clone(), reason.clone())),
                Resolved::To { .. } => None,
            })
            .collect()
    }

    /// What one rule does: the addresses told and the targets recorded as reaching nobody.
    fn outcome(r: Rule, d: &Directory, ctx: &Context<'_>) -> (Vec<String>, Vec<(String, String)>) {
        let rules = [r];
        let found = resolve(&rules, d, "e", None, ctx);
        (addresses(&found), nobody(&found))
    }

    fn ctx<'a>(roles: &'a [String], approvals: &'a [String]) -> Context<'a> {
        Context {
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
            roles,
            approvals,
            ..Default::default()
        }
    }

    #[test]
    fn each_kind_of_recipient_comes_from_the_directory() {
        let d = directory();
        let roles = vec!["handler".to_owned(), "department_head".to_owned()];
        let approvals = vec!["general_manager".to_owned()];
        let ctx = ctx(&roles, &approvals);
        let to = |r: Rule| addresses(&resolve(&[r], &d, "e", None, &ctx));
        assert_eq!(to(rule("e", "department", "email")), ["quality@x"]);
        assert_eq!(to(rule("e", "department", "sms")), Vec::<String>::new());
        assert_eq!(to(rule("e", "customer", "email")), ["c@x"]);
        assert_eq!(to(rule("e", "customer", "sms")), ["13800000000"]);
        assert_eq!(to(rule("e", "assignee", "email")), ["u1@x"]);
        assert_eq!(to(rule("e", "assignee", "sms")), ["13900000001"]);
        // Level 3: head reached twice (by role and by id) is told once.
        assert_eq!(to(rule("e", "escalation", "email")), ["head@x", "gm@x"]);
        assert_eq!(to(rule("e", "approvers", "email")), ["gm@x"]);
        // No configured chain for level 2: the scheduler's roles, the handler being the assignee.
        let level2 = Context {
            level: Some(2),
            ..ctx.clone()
        };
        assert_eq!(
            outcome(rule("e", "escalation", "email"), &d, &level2).0,
            ["u1@x", "head@x"]
        );
        assert_eq!(to(rule("e", "report_recipients", "email")), ["gm@x"]);
        assert_eq!(to(rule("e", "role:department_head", "email")), ["head@x"]);
        assert_eq!(to(rule("e", "person:gm", "email")), ["gm@x"]);
        assert_eq!(to(rule("other", "department", "email")), Vec::<String>::new());
        match &resolve(&[rule("e", "assignee", "email")], &d, "e", None, &ctx)[0] {
            Resolved::To { recipient, kind, .. } => {
                assert_eq!((recipient.language.as_str(), *kind), ("en", "assignee"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn approvers_are_the_holders_of_every_role_the_event_names() {
        let d = directory();
        let approvals = vec![
            "marketing_manager".to_owned(),
            "general_manager".to_owned(),
            "cfo".to_owned(),
        ];
        let (told, missed) = outcome(rule("e", "approvers", "email"), &d, &ctx(&[], &approvals));
        assert_eq!(told, ["gm@x"]);
        // Each role that cannot approve is on record: mm has no email, nobody is cfo.
        assert_eq!(
            missed,
            [
                ("person:mm".to_owned(), "`mm` has no email address".to_owned()),
                (
                    "role:cfo".to_owned(),
                    "nobody in the directory holds role `cfo`".to_owned()
                ),
            ]
        );
        // No approvals required: nobody, and nothing to record.
        assert!(resolve(&[rule("e", "approvers", "email")], &d, "e", None, &ctx(&[], &[])).is_empty());
    }

    #[test]
    fn an_unknown_or_inactive_assignee_is_recorded_and_a_fallback_tells_somebody() {
        let d = directory().with_synced([SyncedAccount {
            user_id: "u1".into(),
            person: d_person(),
            active: false,
        }]);
        let c = ctx(&[], &[]);
        assert_eq!(
            outcome(rule("e", "assignee", "email"), &d, &c).1,
            [("person:u1".to_owned(), "staff account `u1` is inactive".to_owned())]
        );
        let unknown = Context {
            assignee: Some("u.new"),
            ..c.clone()
        };
        assert_eq!(
            outcome(rule("e", "assignee", "email"), &d, &unknown).1,
            [("person:u.new".to_owned(), "`u.new` is not in the directory".to_owned())]
        );
        // No assignee at all: nobody meant, nothing recorded; with a fallback, the department is told.
        let unassigned = Context {
            assignee: None,
            ..c.clone()
        };
        assert!(resolve(&[rule("e", "assignee", "email")], &d, "e", None, &unassigned).is_empty());
        let mut with_fallback = rule("e", "assignee", "email");
        with_fallback.fallback = Some("department".into());
        let rules = [with_fallback];
        let found = resolve(&rules, &d, "e", None, &unassigned);
        assert!(
            matches!(&found[..], [Resolved::To { kind: "department", recipient, .. }] if recipient.address == "quality@x"),
            "{found:?}"
        );
        // Neither an assignee nor a department known: recorded.
        let unknown_case = Context {
            department: "",
            ..unassigned
        };
        let found = resolve(&rules, &d, "e", None, &unknown_case);
        assert_eq!(
            nobody(&found),
            [(
                "assignee".to_owned(),
                "neither `assignee` nor `department` is known for this case".to_owned()
            )]
        );
    }

    fn d_person() -> Person {
        Person {
            name: "Handler".into(),
            email: Some("u1@x".into()),
            phone: None,
            language: "en".into(),
            roles: vec!["handler".into()],
            department: Some("quality".into()),
            sites: vec![],
        }
    }

    #[test]
    fn anonymous_customers_and_staff_without_a_phone_are_not_recorded() {
        let d = directory();
        let mut c = Context {
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
        assert!(resolve(&[rule("e", "customer", "email")], &d, "e", None, &c).is_empty());
        c.customer.anonymous = false;
        assert_eq!(
            addresses(&resolve(&[rule("e", "customer", "email")], &d, "e", None, &c)),
            ["c@x"]
        );
        // The head has no phone: no SMS, and nothing to record (email is staff's channel).
        assert!(resolve(&[rule("e", "role:department_head", "sms")], &d, "e", None, &c).is_empty());
        // No level (not a deadline event), no approvals: nobody.
        assert!(resolve(&[rule("e", "escalation", "email")], &d, "e", None, &c).is_empty());
        assert!(resolve(&[rule("e", "approvers", "email")], &d, "e", None, &c).is_empty());
    }
}
