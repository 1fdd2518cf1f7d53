//! Shared fixtures: the real 2026 calendar of mainland China in Asia/Shanghai
//! with 08:30-12:00 and 13:00-17:30 Monday to Friday.
#![allow(dead_code)]

use calendar::{china, Calendar, DaySchedule, WeekSchedule};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub fn office_hours() -> DaySchedule {
    DaySchedule::parse(&["08:30-12:00", "13:00-17:30"], "weekday").unwrap()
}

pub fn china_office() -> Calendar {
    china::calendar(WeekSchedule::weekdays(office_hours())).unwrap()
}

/// An instant given as Shanghai wall-clock time.
pub fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
