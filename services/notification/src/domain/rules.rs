//! Which events tell whom (configured in `[[rules]]`).
use serde::Deserialize;

use super::directory::Directory;

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub event: String,
    /// `department` (the case's department mailbox) or `customer`.
    pub recipient: String,
    pub channel: String,
    pub template: String,
    /// For `case.changed`: only this workflow action (e.g. `reply`).
    #[serde(default)]
    pub action: Option<String>,
}

/// A resolved recipient: an address and the language to write to them in.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub address: String,
    pub language: String,
    pub name: Option<String>,
}

/// What the rules need to know about an event's case.
pub struct Context<'a> {
    pub department: &'a str,
    pub customer_name: Option<&'a str>,
    pub customer_email: Option<&'a str>,
    pub customer_language: &'a str,
    pub customer_anonymous: bool,
}

pub fn recipients<'r>(
    rules: &'r [Rule],
    directory: &Directory,
    event_type: &str,
    action: Option<&str>,
    ctx: &Context<'_>,
) -> Vec<(&'r Rule, Recipient)> {
    rules
        .iter()
        .filter(|r| r.event == event_type && (r.action.is_none() || r.action.as_deref() == action))
        .filter_map(|rule| {
            let recipient = match rule.recipient.as_str() {
                "department" => directory.departments.get(ctx.department).map(|d| Recipient {
                    address: d.mailbox.clone(),
                    language: d.language.clone(),
                    name: Some(d.name.clone()),
                }),
                "customer" if !ctx.customer_anonymous => ctx.customer_email.map(|e| Recipient {
                    address: e.to_owned(),
                    language: ctx.customer_language.to_owned(),
                    name: ctx.customer_name.map(str::to_owned),
                }),
                _ => None,
            }?;
            Some((rule, recipient))
        })
        .collect()
}
