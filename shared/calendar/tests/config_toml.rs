//! Loading a site calendar from TOML (and JSON) configuration, and the errors
//! a bad configuration gives.

mod common;

use calendar::{Calendar, CalendarError, DayDeadline, DayKind, SiteConfig, Span, SpecialDays};
use chrono::Weekday;
use common::{date, sh};

const SITE: &str = r#"
time_zone = "Asia/Shanghai"
base_calendar = "cn"
day_deadline = "end_of_day"

[hours]
mon = ["08:30-12:00", "13:00-17:30"]
tue = ["08:30-12:00", "13:00-17:30"]
wed = ["08:30-12:00", "13:00-17:30"]
thu = ["08:30-12:00", "13:00-17:30"]
fri = ["13:00-17:30", "08:30-12:00"]   # order does not matter

[[holidays]]
name = "厂庆 Founders' Day"
start = 2026-06-01                     # bare TOML dates work too
end = "2026-06-02"

[[makeup_days]]
date = "2026-06-06"
name = "厂庆补班"
hours = ["09:00-12:00"]

[[makeup_days]]
date = "2026-10-01"                    # the site works on National Day
"#;

#[test]
fn loads_a_site_from_toml() {
    let cal = Calendar::from_toml_str(SITE).unwrap();
    assert_eq!(cal.time_zone(), chrono_tz::Asia::Shanghai);
    assert_eq!(cal.day_deadline(), DayDeadline::EndOfDay);
    // Own holiday range.
    assert_eq!(cal.day_kind(date("2026-06-01")), DayKind::Holiday("厂庆 Founders' Day"));
    assert_eq!(cal.day_kind(date("2026-06-02")), DayKind::Holiday("厂庆 Founders' Day"));
    // Base calendar still there.
    assert_eq!(
        cal.day_kind(date("2026-10-02")),
        DayKind::Holiday("国庆节 National Day")
    );
    assert!(cal.special_days().is_makeup_workday(date("2026-10-10")));
    // Site entries override the base calendar.
    assert!(cal.is_working_day(date("2026-10-01")));
    // Weekend without a make-up day.
    assert_eq!(cal.day_kind(date("2026-06-07")), DayKind::Weekend(Weekday::Sun));
    // Make-up day with its own hours: Sat 06-06 09:00-12:00.
    assert!(cal.is_working_time(sh(2026, 6, 6, 9, 0)));
    assert!(!cal.is_working_time(sh(2026, 6, 6, 13, 0)));
    // End-of-day deadlines from the configuration: Fri 06-05 10:00 + 1 day = Sat 06-06 12:00.
    assert_eq!(
        cal.add(sh(2026, 6, 5, 10, 0), Span::WorkingDays(1)).unwrap(),
        sh(2026, 6, 6, 12, 0)
    );
}

#[test]
fn makeup_day_without_hours_gets_normal_weekday_hours_or_makeup_hours() {
    let cal = Calendar::from_toml_str(SITE).unwrap();
    // 10-10 has no own hours: a normal weekday's 08:30-12:00, 13:00-17:30.
    assert!(cal.is_working_time(sh(2026, 10, 10, 8, 30)));
    assert!(cal.is_working_time(sh(2026, 10, 10, 17, 0)));

    let with_makeup_hours = SITE.replace("day_deadline = \"end_of_day\"", "makeup_hours = [\"10:00-15:00\"]");
    let cal = Calendar::from_toml_str(&with_makeup_hours).unwrap();
    assert!(!cal.is_working_time(sh(2026, 10, 10, 9, 0)));
    assert!(cal.is_working_time(sh(2026, 10, 10, 12, 30)));
    assert_eq!(cal.day_deadline(), DayDeadline::SameTime);
}

#[test]
fn minimal_config_and_json() {
    let cal = Calendar::from_toml_str("time_zone = \"Europe/Paris\"\n[hours]\nmon = [\"09:00-17:00\"]\n").unwrap();
    assert!(cal.special_days().is_empty());
    assert!(cal.is_working_day(date("2026-03-09")));
    assert!(!cal.is_working_day(date("2026-03-10")));

    let json = r#"{"time_zone":"UTC","hours":{"sat":["00:00-24:00"]},
                   "holidays":[{"name":"X","start":"2026-03-07"}]}"#;
    let config: SiteConfig = serde_json::from_str(json).unwrap();
    let cal = config.build().unwrap();
    assert_eq!(cal.day_kind(date("2026-03-07")), DayKind::Holiday("X"));
    assert!(cal.is_working_day(date("2026-03-14")));
}

#[test]
fn config_serialises_back() {
    let config = SiteConfig::from_toml_str(SITE).unwrap();
    let json = serde_json::to_string(&config).unwrap();
    let back: SiteConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    assert!(json.contains(r#""mon":["08:30-12:00","13:00-17:30"]"#));
}

fn err(text: &str) -> CalendarError {
    Calendar::from_toml_str(text).unwrap_err()
}

#[test]
fn configuration_errors() {
    assert_eq!(
        err("time_zone = \"Mars/Olympus\"\n[hours]\nmon = [\"09:00-17:00\"]"),
        CalendarError::InvalidTimeZone("Mars/Olympus".into())
    );
    assert!(matches!(
        err("time_zone = \"UTC\"\n[hours]\nmon = [\"17:00-09:00\"]"),
        CalendarError::Config(m) if m.contains("invalid working interval")
    ));
    assert!(matches!(
        err("time_zone = \"UTC\"\n[hours]\nmon = [\"25:00-26:00\"]"),
        CalendarError::Config(_)
    ));
    assert_eq!(
        err("time_zone = \"UTC\"\n[hours]\nmon = [\"08:00-12:00\", \"11:30-13:00\"]"),
        CalendarError::OverlappingIntervals {
            day: "mon".into(),
            first: "08:00-12:00".into(),
            second: "11:30-13:00".into()
        }
    );
    assert_eq!(err("time_zone = \"UTC\""), CalendarError::NoWorkingTime);
    assert_eq!(
        err("time_zone = \"UTC\"\nbase_calendar = \"xx\"\n[hours]\nmon = [\"09:00-17:00\"]"),
        CalendarError::UnknownBaseCalendar("xx".into())
    );
    assert!(matches!(
        err("time_zone = \"UTC\"\n[hours]\nmon = [\"09:00-17:00\"]\n\
             [[holidays]]\nname = \"A\"\nstart = \"2026-01-01\"\n\
             [[makeup_days]]\ndate = \"2026-01-01\""),
        CalendarError::ConflictingDay { .. }
    ));
    assert!(matches!(
        err("time_zone = \"UTC\"\n[hours]\nmon = [\"09:00-17:00\"]\n\
             [[holidays]]\nname = \"A\"\nstart = \"2026-01-05\"\nend = \"2026-01-01\""),
        CalendarError::InvalidDateRange { .. }
    ));
    assert!(matches!(
        err("time_zone = \"UTC\"\n[hours]\nmon = [\"09:00-17:00\"]\n\
             [[holidays]]\nname = \"A\"\nstart = \"1 May\""),
        CalendarError::Config(m) if m.contains("YYYY-MM-DD")
    ));
    // Typos in keys are caught rather than silently ignored.
    assert!(matches!(
        err("time_zone = \"UTC\"\n[hours]\nmonday = [\"09:00-17:00\"]"),
        CalendarError::Config(_)
    ));
    // A make-up day on a site with no weekday hours has nothing to borrow.
    assert!(matches!(
        err("time_zone = \"UTC\"\n[[makeup_days]]\ndate = \"2026-01-03\""),
        CalendarError::Config(m) if m.contains("no working hours")
    ));
}

#[test]
fn special_days_file_format() {
    let days = SpecialDays::from_toml_str(
        "[[holidays]]\nname = \"A\"\nstart = \"2026-01-01\"\nend = \"2026-01-03\"\n\
         [[makeup_days]]\ndate = \"2026-01-04\"\n",
    )
    .unwrap();
    assert_eq!(days.len(), 4);
    assert!(days.is_makeup_workday(date("2026-01-04")));
}
