//! The one place recipients come from: departments (mailboxes), people (with roles, their department and
//! sites), escalation chains per department and report recipients. People are the configured
//! `[directory.people]` merged with the staff accounts triage announces (`staff.changed`): a synced account
//! replaces a configured entry of the same id, and an inactive one removes it. Rules name kinds of
//! recipient; only this directory turns them into addresses.
use std::collections::{HashMap, HashSet};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Directory {
    #[serde(default)]
    pub departments: HashMap<String, Department>,
    /// Staff by user id (the id triage names as assignee or actor).
    #[serde(default)]
    pub people: HashMap<String, Person>,
    /// Department code → its chain of command for overdue cases, level by level.
    #[serde(default)]
    pub escalation: HashMap<String, Vec<EscalationLevel>>,
    /// Who receives the issued reports: person ids or `role:<role>`.
    #[serde(default)]
    pub report_recipients: Vec<String>,
    /// The former `[[directory.approvals]]` thresholds, read only to warn that they are ignored: triage's claim
    /// thresholds decide, and case.opened names the roles.
    #[serde(default, rename = "approvals")]
    pub obsolete_approvals: Option<serde_json::Value>,
    /// Synced accounts that are deactivated: told nothing (kept to say why in the delivery log).
    #[serde(skip)]
    pub inactive: HashSet<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Department {
    pub name: String,
    pub mailbox: String,
    pub language: String,
    /// A duty phone for SMS to the department, if it has one.
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Person {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default = "zh_cn")]
    pub language: String,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Department code; `None` for company-wide roles (general manager, management representative).
    #[serde(default)]
    pub department: Option<String>,
    /// Sites the person works for; empty = all.
    #[serde(default)]
    pub sites: Vec<String>,
}

impl Person {
    fn serves(&self, site: Option<&str>) -> bool {
        match site {
            Some(site) => self.sites.is_empty() || self.sites.iter().any(|s| s == site),
            None => true,
        }
    }
}

fn zh_cn() -> String {
    "zh-CN".into()
}

/// A staff account as triage last announced it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedAccount {
    pub user_id: String,
    pub person: Person,
    pub active: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EscalationLevel {
    pub level: u32,
    /// Person ids or `role:<role>` (a role is looked up in the case's department first, then company-wide).
    pub notify: Vec<String>,
}

impl Directory {
    /// The configured directory with the synced accounts laid over it.
    pub fn with_synced(&self, accounts: impl IntoIterator<Item = SyncedAccount>) -> Directory {
        let mut merged = self.clone();
        for account in accounts {
            if account.active {
                merged.inactive.remove(&account.user_id);
                merged.people.insert(account.user_id, account.person);
            } else {
                merged.people.remove(&account.user_id);
                merged.inactive.insert(account.user_id);
            }
        }
        merged
    }

    /// The name to show for a staff id (the id itself when the directory does not know it).
    pub fn name_of(&self, id: &str) -> String {
        self.people
            .get(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_owned())
    }

    /// Why `id` resolves to nobody, for the delivery log.
    pub fn why_unknown(&self, id: &str) -> String {
        if self.inactive.contains(id) {
            format!("staff account `{id}` is inactive")
        } else {
            format!("`{id}` is not in the directory")
        }
    }

    /// People holding `role` who serve `site`: those of `department` when there are any, otherwise everyone
    /// with it (a department head is found in the department, the general manager company-wide).
    pub fn with_role<'a>(
        &'a self,
        role: &str,
        department: Option<&str>,
        site: Option<&str>,
    ) -> Vec<(&'a str, &'a Person)> {
        let mut holders: Vec<(&str, &Person)> = self
            .people
            .iter()
            .filter(|(_, p)| p.roles.iter().any(|r| r == role) && p.serves(site))
            .map(|(id, p)| (id.as_str(), p))
            .collect();
        holders.sort_by_key(|(id, _)| *id);
        let local: Vec<_> = holders
            .iter()
            .filter(|(_, p)| department.is_some() && p.department.as_deref() == department)
            .cloned()
            .collect();
        if local.is_empty() {
            holders
        } else {
            local
        }
    }

    /// An entry of a chain or list: `role:<role>` or a person id.
    pub fn resolve<'a>(
        &'a self,
        entry: &str,
        department: Option<&str>,
        site: Option<&str>,
    ) -> Vec<(&'a str, &'a Person)> {
        match entry.strip_prefix("role:") {
            Some(role) => self.with_role(role, department, site),
            None => self
                .people
                .get_key_value(entry)
                .map(|(k, p)| (k.as_str(), p))
                .into_iter()
                .collect(),
        }
    }

    /// The entries to tell at escalation `level` of `department`: the configured chain, or else the
    /// roles the scheduler named for the level (`role:handler` is the case's assignee).
    pub fn escalation_entries(&self, department: &str, level: u32, roles: &[String]) -> Vec<String> {
        let configured = self
            .escalation
            .get(department)
            .and_then(|chain| chain.iter().find(|l| l.level == level));
        match configured {
            Some(l) => l.notify.clone(),
            None => roles.iter().map(|r| format!("role:{r}")).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        let person = |name: &str, roles: &[&str], department: Option<&str>| serde_json::json!({"name": name, "email": format!("{name}@x"), "roles": roles, "department": department});
        serde_json::from_value(serde_json::json!({
            "report_recipients": ["role:general_manager", "li"],
            "people": {
                "li": person("Li", &["department_head"], Some("quality")),
                "wang": person("Wang", &["department_head"], Some("sales")),
                "gm": person("GM", &["general_manager"], None),
                "mm": person("MM", &["marketing_manager"], None),
            },
            "escalation": {"quality": [{"level": 3, "notify": ["gm", "role:department_head"]}]},
        }))
        .unwrap()
    }

    fn ids(v: Vec<(&str, &Person)>) -> Vec<String> {
        v.into_iter().map(|(id, _)| id.to_owned()).collect()
    }

    #[test]
    fn roles_are_found_in_the_department_first_then_company_wide() {
        let d = directory();
        assert_eq!(ids(d.with_role("department_head", Some("quality"), None)), ["li"]);
        assert_eq!(
            ids(d.with_role("department_head", Some("technical"), None)),
            ["li", "wang"]
        );
        assert_eq!(ids(d.with_role("general_manager", Some("quality"), None)), ["gm"]);
        assert_eq!(
            d.escalation_entries("quality", 3, &["handler".into()]),
            ["gm", "role:department_head"]
        );
        assert_eq!(
            d.escalation_entries("sales", 2, &["department_head".into()]),
            ["role:department_head"]
        );
        assert!(d.resolve("nobody", None, None).is_empty());
    }

    #[test]
    fn synced_accounts_override_configured_ones_and_inactive_ones_are_removed() {
        let synced = |id: &str, name: &str, roles: &[&str], sites: &[&str], active: bool| SyncedAccount {
            user_id: id.into(),
            person: Person {
                name: name.into(),
                email: Some(format!("{id}@synced")),
                phone: None,
                language: "en".into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                department: Some("quality".into()),
                sites: sites.iter().map(|s| s.to_string()).collect(),
            },
            active,
        };
        let d = directory().with_synced([
            // A configured person replaced by the account of the same id.
            synced("li", "Li Lei", &["department_head"], &[], true),
            // A new account serving one site only.
            synced("zhao", "Zhao", &["department_head"], &["bj01"], true),
            // A configured person whose account was deactivated.
            synced("gm", "GM", &["general_manager"], &[], false),
        ]);
        assert_eq!(d.people["li"].email.as_deref(), Some("li@synced"));
        assert_eq!(d.name_of("li"), "Li Lei");
        assert_eq!(
            ids(d.with_role("department_head", Some("quality"), Some("sh01"))),
            ["li"]
        );
        assert_eq!(
            ids(d.with_role("department_head", Some("quality"), Some("bj01"))),
            ["li", "zhao"]
        );
        assert!(d.with_role("general_manager", None, None).is_empty());
        assert_eq!(d.why_unknown("gm"), "staff account `gm` is inactive");
        assert_eq!(d.why_unknown("nobody"), "`nobody` is not in the directory");
        // Reactivated later: back.
        let back = d.with_synced([synced("gm", "GM", &["general_manager"], &[], true)]);
        assert_eq!(ids(back.with_role("general_manager", None, None)), ["gm"]);
        assert!(back.inactive.is_empty());
    }
}
