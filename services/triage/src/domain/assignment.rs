//! Choosing the responsible person for a new case (000 §4.2.2 c) by the department's rule. Pure.
use std::collections::HashMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct AssignmentSettings {
    #[serde(default)]
    pub departments: HashMap<String, DepartmentRule>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DepartmentRule {
    pub rule: Rule,
    /// For `fixed`: the staff user id.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Fixed,
    RoundRobin,
    LeastOpen,
}

/// A handler who may take the case, with how many open cases they hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub user: String,
    pub open_cases: i64,
}

/// The chosen user and the rule that chose them, or `None` (nobody eligible: the head assigns by hand).
pub fn choose(rule: &DepartmentRule, candidates: &[Candidate], last: Option<&str>) -> Option<(String, String)> {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| a.user.cmp(&b.user));
    let chosen = match rule.rule {
        Rule::Fixed => rule
            .owner
            .as_deref()
            .filter(|o| candidates.iter().any(|c| c.user == *o))
            .map(str::to_owned),
        Rule::RoundRobin => {
            let next = last
                .and_then(|l| sorted.iter().position(|c| c.user.as_str() > l))
                .unwrap_or(0);
            sorted.get(next).map(|c| c.user.clone())
        }
        Rule::LeastOpen => sorted.iter().min_by_key(|c| c.open_cases).map(|c| c.user.clone()),
    }?;
    let why = match rule.rule {
        Rule::Fixed => "fixed owner of the department",
        Rule::RoundRobin => "round robin in the department",
        Rule::LeastOpen => "fewest open cases in the department",
    };
    Some((chosen, why.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(user: &str, open: i64) -> Candidate {
        Candidate {
            user: user.into(),
            open_cases: open,
        }
    }

    fn rule(r: Rule, owner: Option<&str>) -> DepartmentRule {
        DepartmentRule {
            rule: r,
            owner: owner.map(Into::into),
        }
    }

    #[test]
    fn least_open_picks_the_least_loaded_ties_by_name() {
        let cs = [c("b", 3), c("a", 1), c("c", 1)];
        assert_eq!(choose(&rule(Rule::LeastOpen, None), &cs, None).unwrap().0, "a");
    }

    #[test]
    fn round_robin_goes_around() {
        let cs = [c("a", 0), c("b", 0), c("c", 0)];
        let r = rule(Rule::RoundRobin, None);
        assert_eq!(choose(&r, &cs, None).unwrap().0, "a");
        assert_eq!(choose(&r, &cs, Some("a")).unwrap().0, "b");
        assert_eq!(choose(&r, &cs, Some("c")).unwrap().0, "a");
        assert_eq!(choose(&r, &cs, Some("gone")).unwrap().0, "a");
    }

    #[test]
    fn fixed_owner_only_when_eligible_and_nobody_means_none() {
        let cs = [c("a", 0)];
        assert_eq!(choose(&rule(Rule::Fixed, Some("a")), &cs, None).unwrap().0, "a");
        assert_eq!(choose(&rule(Rule::Fixed, Some("z")), &cs, None), None);
        assert_eq!(choose(&rule(Rule::LeastOpen, None), &[], None), None);
    }
}
