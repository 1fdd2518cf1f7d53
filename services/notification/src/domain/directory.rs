//! The one place recipients come from: departments (mailboxes), people (with roles and their
//! department), escalation chains per department, claim approval thresholds and report recipients.
//! Rules name kinds of recipient; only this directory turns them into addresses.
use std::collections::HashMap;

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
    /// Who approves a claim, by amount (the highest threshold the amount exceeds decides).
    #[serde(default)]
    pub approvals: Vec<ApprovalStep>,
    /// Who receives the monthly report: person ids or `role:<role>`.
    #[serde(default)]
    pub report_recipients: Vec<String>,
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

#[derive(Debug, Clone, Deserialize)]
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
}

fn zh_cn() -> String {
    "zh-CN".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct EscalationLevel {
    pub level: u32,
    /// Person ids or `role:<role>` (a role is looked up in the case's department first, then company-wide).
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApprovalStep {
    /// Claims above this amount (CNY) need this role's approval.
    pub above: f64,
    pub role: String,
}

impl Directory {
    /// People holding `role`: those of `department` when there are any, otherwise everyone with it
    /// (a department head is found in the department, the general manager company-wide).
    pub fn with_role<'a>(&'a self, role: &str, department: Option<&str>) -> Vec<(&'a str, &'a Person)> {
        let mut holders: Vec<(&str, &Person)> = self
            .people
            .iter()
            .filter(|(_, p)| p.roles.iter().any(|r| r == role))
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
    pub fn resolve<'a>(&'a self, entry: &str, department: Option<&str>) -> Vec<(&'a str, &'a Person)> {
        match entry.strip_prefix("role:") {
            Some(role) => self.with_role(role, department),
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

    /// [`Self::escalation_entries`] resolved to people (without the assignee).
    pub fn escalation<'a>(&'a self, department: &str, level: u32, roles: &[String]) -> Vec<(&'a str, &'a Person)> {
        self.escalation_entries(department, level, roles)
            .iter()
            .flat_map(|e| self.resolve(e, Some(department)))
            .collect()
    }

    /// The approvers a claim of `amount` waits for: the holders of every tier's role whose threshold the amount
    /// strictly exceeds (triage requires all of them), lowest tier first, each person once; none below the
    /// lowest threshold.
    pub fn approvers(&self, amount: f64, department: Option<&str>) -> Vec<(&str, &Person)> {
        let mut tiers: Vec<_> = self.approvals.iter().filter(|s| amount > s.above).collect();
        tiers.sort_by(|a, b| a.above.total_cmp(&b.above));
        let mut people: Vec<(&str, &Person)> = Vec::new();
        for tier in tiers {
            for (id, person) in self.with_role(&tier.role, department) {
                if !people.iter().any(|(seen, _)| *seen == id) {
                    people.push((id, person));
                }
            }
        }
        people
    }

    pub fn report_recipients(&self) -> Vec<(&str, &Person)> {
        self.report_recipients
            .iter()
            .flat_map(|e| self.resolve(e, None))
            .collect()
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
            "approvals": [{"above": 1000.0, "role": "marketing_manager"}, {"above": 2000.0, "role": "general_manager"}],
        }))
        .unwrap()
    }

    #[test]
    fn roles_are_found_in_the_department_first_then_company_wide() {
        let d = directory();
        let ids = |v: Vec<(&str, &Person)>| v.into_iter().map(|(id, _)| id.to_owned()).collect::<Vec<_>>();
        assert_eq!(ids(d.with_role("department_head", Some("quality"))), ["li"]);
        assert_eq!(ids(d.with_role("department_head", Some("technical"))), ["li", "wang"]);
        assert_eq!(ids(d.with_role("general_manager", Some("quality"))), ["gm"]);
        // A configured chain wins; otherwise the roles the scheduler named.
        assert_eq!(ids(d.escalation("quality", 3, &["handler".into()])), ["gm", "li"]);
        assert_eq!(ids(d.escalation("sales", 2, &["department_head".into()])), ["wang"]);
        assert_eq!(ids(d.approvers(500.0, None)), Vec::<String>::new());
        assert_eq!(ids(d.approvers(1500.0, None)), ["mm"]);
        assert_eq!(ids(d.approvers(2000.0, None)), ["mm"]);
        assert_eq!(ids(d.approvers(2000.01, None)), ["mm", "gm"]);
        assert_eq!(ids(d.approvers(2500.0, None)), ["mm", "gm"]);
        assert_eq!(ids(d.report_recipients()), ["gm", "li"]);
        assert!(d.resolve("nobody", None).is_empty());
    }
}
