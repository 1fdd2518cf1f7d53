//! When revisits (回访) are due after a case closes (domain.md §5; seed 003): a pure plan of
//! `(reason, sequence, due_at)` from the close time, the case's class and severity and its outcome.
//!
//! - a closed case of a revisited class: one revisit `after_close.days` later (3 days, 篇6 §1.3; per
//!   severity overridable);
//! - a case closed with a service outcome (repair, replacement, warranty service): one revisit
//!   `after_service.days` later (10 days, 篇1), then the warranty cadence (篇9: quarterly in year 1,
//!   half-yearly in year 2, yearly after) until the warranty ends.
//!
//! - a key account's closed case: besides those, revisits every `key_accounts.every_days` (two a year,
//!   篇10; very large accounts quarterly) within `horizon_days`.
//!
//! Days are `day_seconds` long (86 400; tests shorten it to drive the timers in seconds).
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use contracts::revisit::RevisitReason;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RevisitPolicy {
    /// Whether closed cases get revisits scheduled at all.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Length of one "day" in seconds: 86 400 (tests set a few seconds).
    #[serde(default = "one_day")]
    pub day_seconds: u64,
    pub after_close: AfterClose,
    pub after_service: AfterService,
    pub warranty: Warranty,
    #[serde(default)]
    pub key_accounts: KeyAccounts,
}

/// Key accounts by their normalised contact (`customer.contact_key`), until a customer master says so.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct KeyAccounts {
    pub contacts: Vec<String>,
    pub very_large_contacts: Vec<String>,
    pub every_days: u32,
    pub very_large_every_days: u32,
    pub horizon_days: u32,
}

impl Default for KeyAccounts {
    fn default() -> Self {
        KeyAccounts {
            contacts: vec![],
            very_large_contacts: vec![],
            every_days: 182,
            very_large_every_days: 91,
            horizon_days: 365,
        }
    }
}

/// How important a customer is for revisits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTier {
    KeyAccount,
    VeryLarge,
}

impl KeyTier {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyTier::KeyAccount => "key_account",
            KeyTier::VeryLarge => "very_large",
        }
    }

    pub fn parse(s: &str) -> Option<KeyTier> {
        match s {
            "key_account" => Some(KeyTier::KeyAccount),
            "very_large" => Some(KeyTier::VeryLarge),
            _ => None,
        }
    }
}

impl KeyAccounts {
    /// The tier of a customer by contact key (very large wins).
    pub fn tier(&self, contact_key: Option<&str>) -> Option<KeyTier> {
        let key = contact_key?;
        if self.very_large_contacts.iter().any(|c| c == key) {
            Some(KeyTier::VeryLarge)
        } else if self.contacts.iter().any(|c| c == key) {
            Some(KeyTier::KeyAccount)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AfterClose {
    /// Classes whose closed cases are revisited (`complaint`: 100 % of complaints, 篇2).
    pub classes: Vec<String>,
    pub days: u32,
    /// Severity → days, replacing `days` for that severity.
    #[serde(default)]
    pub severity_days: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AfterService {
    /// Close outcomes that mean repair or warranty service was done.
    pub outcomes: Vec<String>,
    pub days: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Warranty {
    /// Cadence steps in order: revisit every `every_days` until `until_days` after the close.
    pub steps: Vec<CadenceStep>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
pub struct CadenceStep {
    pub every_days: u32,
    pub until_days: u32,
}

fn yes() -> bool {
    true
}

fn one_day() -> u64 {
    86_400
}

/// One revisit the scheduler will announce with `revisit.due`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedRevisit {
    pub reason: RevisitReason,
    pub sequence: u32,
    pub due_at: DateTime<Utc>,
}

impl RevisitPolicy {
    fn days(&self, n: u32) -> Duration {
        Duration::seconds(self.day_seconds as i64 * n as i64)
    }

    /// The warranty cadence as offsets in days from the close (strictly increasing).
    pub fn warranty_offsets(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut t = 0u32;
        for step in &self.warranty.steps {
            if step.every_days == 0 {
                continue;
            }
            while t + step.every_days <= step.until_days {
                t += step.every_days;
                out.push(t);
            }
        }
        out
    }

    /// The revisits of a case closed at `closed_at` with `outcome`, for a customer of tier `key`.
    pub fn plan(
        &self,
        closed_at: DateTime<Utc>,
        class: &str,
        severity: &str,
        outcome: &str,
        key: Option<KeyTier>,
    ) -> Vec<PlannedRevisit> {
        if !self.enabled {
            return vec![];
        }
        let mut plan = self.plan_for_case(closed_at, class, severity, outcome);
        if let Some(tier) = key {
            let k = &self.key_accounts;
            let every = match tier {
                KeyTier::KeyAccount => k.every_days,
                KeyTier::VeryLarge => k.very_large_every_days,
            };
            let first = plan.len() as u32 + 1;
            let offsets = (1..)
                .map(|i| i * every)
                .take_while(|d| every > 0 && *d <= k.horizon_days);
            plan.extend(offsets.zip(first..).map(|(d, sequence)| PlannedRevisit {
                reason: RevisitReason::KeyAccount,
                sequence,
                due_at: closed_at + self.days(d),
            }));
        }
        plan
    }

    fn plan_for_case(
        &self,
        closed_at: DateTime<Utc>,
        class: &str,
        severity: &str,
        outcome: &str,
    ) -> Vec<PlannedRevisit> {
        if self.after_service.outcomes.iter().any(|o| o == outcome) {
            let mut plan = vec![PlannedRevisit {
                reason: RevisitReason::AfterService,
                sequence: 1,
                due_at: closed_at + self.days(self.after_service.days),
            }];
            plan.extend(
                self.warranty_offsets()
                    .into_iter()
                    .zip(2..)
                    .map(|(d, sequence)| PlannedRevisit {
                        reason: RevisitReason::WarrantyCadence,
                        sequence,
                        due_at: closed_at + self.days(d),
                    }),
            );
            return plan;
        }
        if self.after_close.classes.iter().any(|c| c == class) {
            let days = self
                .after_close
                .severity_days
                .get(severity)
                .copied()
                .unwrap_or(self.after_close.days);
            return vec![PlannedRevisit {
                reason: RevisitReason::AfterClose,
                sequence: 1,
                due_at: closed_at + self.days(days),
            }];
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy() -> RevisitPolicy {
        crate::settings::Settings::load()
            .expect("config/default.toml loads")
            .revisit
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap()
    }

    #[test]
    fn a_closed_complaint_is_revisited_three_days_later() {
        let plan = policy().plan(t0(), "complaint", "general", "resolved", None);
        assert_eq!(
            plan,
            vec![PlannedRevisit {
                reason: RevisitReason::AfterClose,
                sequence: 1,
                due_at: t0() + Duration::days(3)
            }]
        );
    }

    #[test]
    fn general_information_is_not_revisited_by_default() {
        assert!(policy().plan(t0(), "general", "general", "resolved", None).is_empty());
    }

    #[test]
    fn severity_override_replaces_the_days() {
        let mut p = policy();
        p.after_close.severity_days.insert("major".into(), 1);
        assert_eq!(
            p.plan(t0(), "complaint", "major", "resolved", None)[0].due_at,
            t0() + Duration::days(1)
        );
    }

    #[test]
    fn service_outcome_gives_ten_days_then_the_warranty_cadence() {
        let plan = policy().plan(t0(), "complaint", "important", "repaired", None);
        assert_eq!(plan[0].reason, RevisitReason::AfterService);
        assert_eq!(plan[0].due_at, t0() + Duration::days(10));
        // Quarterly in year 1 (4), half-yearly in year 2 (2), yearly in year 3 (1).
        let cadence: Vec<_> = plan[1..]
            .iter()
            .map(|p| (p.sequence, (p.due_at - t0()).num_days()))
            .collect();
        assert_eq!(
            cadence,
            vec![(2, 91), (3, 182), (4, 273), (5, 364), (6, 546), (7, 728), (8, 1093)]
        );
        assert!(plan[1..].iter().all(|p| p.reason == RevisitReason::WarrantyCadence));
    }

    #[test]
    fn day_seconds_shortens_every_delay_and_disabled_plans_nothing() {
        let mut p = policy();
        p.day_seconds = 2;
        assert_eq!(
            p.plan(t0(), "complaint", "general", "resolved", None)[0].due_at,
            t0() + Duration::seconds(6)
        );
        p.enabled = false;
        assert!(p.plan(t0(), "complaint", "general", "resolved", None).is_empty());
    }

    #[test]
    fn key_accounts_get_two_revisits_a_year_and_very_large_ones_quarterly() {
        let mut p = policy();
        p.key_accounts.contacts = vec!["tel:+8613800000001".into()];
        p.key_accounts.very_large_contacts = vec!["tel:+8613800000002".into()];
        assert_eq!(
            p.key_accounts.tier(Some("tel:+8613800000001")),
            Some(KeyTier::KeyAccount)
        );
        assert_eq!(
            p.key_accounts.tier(Some("tel:+8613800000002")),
            Some(KeyTier::VeryLarge)
        );
        assert_eq!(p.key_accounts.tier(Some("tel:+8613800000003")), None);
        assert_eq!(p.key_accounts.tier(None), None);
        let days = |plan: &[PlannedRevisit]| -> Vec<(RevisitReason, u32, i64)> {
            plan.iter()
                .map(|r| (r.reason, r.sequence, (r.due_at - t0()).num_days()))
                .collect()
        };
        let key = p.plan(t0(), "complaint", "general", "resolved", Some(KeyTier::KeyAccount));
        assert_eq!(
            days(&key),
            vec![
                (RevisitReason::AfterClose, 1, 3),
                (RevisitReason::KeyAccount, 2, 182),
                (RevisitReason::KeyAccount, 3, 364)
            ]
        );
        // Even a class that is not revisited by itself: the account is.
        let large = p.plan(t0(), "general", "general", "resolved", Some(KeyTier::VeryLarge));
        assert_eq!(
            days(&large),
            vec![
                (RevisitReason::KeyAccount, 1, 91),
                (RevisitReason::KeyAccount, 2, 182),
                (RevisitReason::KeyAccount, 3, 273),
                (RevisitReason::KeyAccount, 4, 364)
            ]
        );
    }
}
