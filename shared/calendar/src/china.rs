//! The official public-holiday calendar of mainland China, shipped as data.
//!
//! Holidays and make-up working days (调休) are set each year by a State
//! Council notice, so they cannot be computed; they are typed into
//! `data/cn-2025-2026.toml` (embedded here) and cross-checked date by date
//! against the `chinesecalendar` PyPI package (`scripts/check_cn_data.py`,
//! `tests/china_data.rs`). Years outside [`FIRST_YEAR`]..=[`LAST_YEAR`] have
//! no holidays in this data: extend the file when a new notice is published.

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};

use crate::calendar::Calendar;
use crate::error::Result;
use crate::holidays::SpecialDays;
use crate::schedule::WeekSchedule;

/// The embedded data file (format: [`crate::SpecialDaysConfig`] in TOML).
pub const DATA_TOML: &str = include_str!("../data/cn-2025-2026.toml");

/// First year covered by the data.
pub const FIRST_YEAR: i32 = 2025;
/// Last year covered by the data.
pub const LAST_YEAR: i32 = 2026;

/// IANA time zone of mainland China.
pub const TIME_ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// The official holidays and make-up working days of 2025 and 2026.
pub fn special_days() -> SpecialDays {
    static PARSED: OnceLock<SpecialDays> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            // The data is compiled in and parsed by the crate's tests, so a
            // failure here is a build defect, not a runtime condition.
            SpecialDays::from_toml_str(DATA_TOML).expect("data/cn-2025-2026.toml is valid")
        })
        .clone()
}

/// Whether the data covers the year of `date` (outside it, only weekends are off).
pub fn covers(date: NaiveDate) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
}

/// A calendar in Asia/Shanghai with the official holidays and the given weekly hours.
pub fn calendar(week: WeekSchedule) -> Result<Calendar> {
    Calendar::new(TIME_ZONE, week, special_days())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_parses_and_has_the_known_2026_dates() {
        let days = special_days();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(days.holiday(d("2026-10-01")), Some("国庆节 National Day"));
        assert_eq!(days.holiday(d("2026-09-25")), Some("中秋节 Mid-Autumn Festival"));
        assert!(days.is_makeup_workday(d("2026-09-20")));
        assert!(days.is_makeup_workday(d("2026-10-10")));
        assert!(days.is_makeup_workday(d("2026-02-14")));
        assert!(covers(d("2026-12-31")) && !covers(d("2027-01-01")));
    }
}
