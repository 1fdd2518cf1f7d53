//! One working calendar per site, built once at start-up (building parses the holiday data).
use std::collections::HashMap;

use calendar::Calendar;
use chrono::{Datelike, NaiveDate};

use crate::settings::CalendarSettings;

pub struct Calendars {
    by_site: HashMap<String, Calendar>,
    default: Calendar,
}

impl Calendars {
    pub fn build(settings: &CalendarSettings, sites: &[String]) -> anyhow::Result<Self> {
        let mut by_site = HashMap::new();
        for site in sites {
            by_site.insert(
                site.clone(),
                settings
                    .calendar_for(site)
                    .map_err(|e| anyhow::anyhow!("calendar of site {site}: {e}"))?,
            );
        }
        Ok(Self {
            by_site,
            default: settings
                .calendar_for("")
                .map_err(|e| anyhow::anyhow!("default calendar: {e}"))?,
        })
    }

    pub fn for_site(&self, site: &str) -> &Calendar {
        self.by_site.get(site).unwrap_or(&self.default)
    }

    /// Every calendar's holidays and make-up working days from `from` on (resolved: the built-in data, the site's
    /// own entries and its iCalendar feeds together), by calendar (`default` and the sites), for administrators.
    pub fn special_days_from(&self, from: NaiveDate) -> serde_json::Value {
        let list = |cal: &Calendar| -> Vec<serde_json::Value> {
            cal.special_days()
                .iter()
                .filter(|(d, _)| *d >= from)
                .map(|(d, day)| match day {
                    calendar::SpecialDay::Holiday { name } => {
                        serde_json::json!({ "date": d, "kind": "holiday", "name": name })
                    }
                    calendar::SpecialDay::MakeupWorkday { name, .. } => {
                        serde_json::json!({ "date": d, "kind": "makeup_workday", "name": name })
                    }
                })
                .collect()
        };
        let mut all = serde_json::Map::new();
        all.insert("default".into(), list(&self.default).into());
        for (site, cal) in &self.by_site {
            all.insert(site.clone(), list(cal).into());
        }
        serde_json::Value::Object(all)
    }

    /// What administrators must know about the holiday data: for every calendar that has public holidays at all
    /// (e.g. the built-in China calendar), each year reached within `horizon_days` of `today` for which it knows
    /// none — deadlines there would count only weekends as days off (the State Council publishes each year's
    /// holidays and make-up days late in the year before; add them to the site's `holidays`/`makeup_days` or
    /// an `ics_files` feed).
    pub fn coverage_warnings(&self, today: NaiveDate, horizon_days: i64) -> Vec<String> {
        let until = today + chrono::Duration::days(horizon_days.max(0));
        let mut named: Vec<(&str, &Calendar)> = self.by_site.iter().map(|(s, c)| (s.as_str(), c)).collect();
        named.sort_by_key(|(s, _)| *s);
        named.insert(0, ("default", &self.default));
        let mut warnings = Vec::new();
        for (site, cal) in named {
            let days = cal.special_days();
            if days.is_empty() {
                continue;
            }
            for year in today.year()..=until.year() {
                if !days.iter().any(|(d, _)| d.year() == year) {
                    warnings.push(format!(
                        "calendar {site}: no public holidays or make-up working days are known for {year}; \
                         deadlines then count only weekends as days off. Add {year}'s official dates to \
                         [calendar.{}] (holidays, makeup_days or ics_files).",
                        if site == "default" {
                            "default".to_owned()
                        } else {
                            format!("sites.{site}")
                        }
                    ));
                }
            }
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendars() -> Calendars {
        let s: crate::settings::Settings =
            settings::load(include_str!("../config/default.toml")).expect("config/default.toml loads");
        Calendars::build(&s.calendar, &["sh01".to_owned()]).unwrap()
    }

    #[test]
    fn a_year_without_holiday_data_within_the_horizon_is_named() {
        let c = calendars();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(c.coverage_warnings(d("2026-06-01"), 60).is_empty(), "2026 is shipped");
        let late = c.coverage_warnings(d("2026-12-02"), 60);
        assert_eq!(late.len(), 2, "the default and sh01: {late:?}");
        assert!(late[0].starts_with("calendar default: no public holidays") && late[0].contains("2027"));
        assert!(late[1].contains("[calendar.sites.sh01]"), "{late:?}");
    }

    #[test]
    fn resolved_special_days_are_listed_per_calendar() {
        let c = calendars();
        let days = c.special_days_from("2026-09-01".parse().unwrap());
        let sh01 = days["sh01"].as_array().unwrap();
        assert!(sh01.iter().any(|d| d["date"] == "2026-10-01" && d["kind"] == "holiday"));
        assert!(sh01
            .iter()
            .any(|d| d["date"] == "2026-10-10" && d["kind"] == "makeup_workday"));
        assert!(sh01.iter().all(|d| d["date"].as_str().unwrap() >= "2026-09-01"));
        assert_eq!(days["default"], days["sh01"]);
    }
}
