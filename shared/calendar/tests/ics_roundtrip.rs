//! iCalendar import of a small hand-written feed (tests/data/sample.ics),
//! export, and re-import.

mod common;

use calendar::ics::{parse_ics, to_ics};
use calendar::{china, Calendar, CalendarError, DaySchedule, Span, SpecialDay, WeekSchedule};
use common::{date, office_hours, sh};

const SAMPLE: &str = include_str!("data/sample.ics");

#[test]
fn imports_the_sample_feed() {
    let days = parse_ics(SAMPLE).unwrap();
    // 7 National Day + 3 Mid-Autumn + 2 make-up + 1 company holiday; the cancelled event is ignored.
    assert_eq!(days.len(), 13);
    for d in 1..=7 {
        assert_eq!(
            days.holiday(date(&format!("2026-10-{d:02}"))),
            Some("国庆节 National Day")
        );
    }
    assert!(days.get(date("2026-10-08")).is_none(), "DTEND is exclusive");
    // DURATION:P3D and a folded SUMMARY.
    for d in 25..=27 {
        assert_eq!(
            days.holiday(date(&format!("2026-09-{d}"))),
            Some("中秋节 Mid-Autumn Festival")
        );
    }
    // Make-up day recognised by its summary (补班), single day without DTEND.
    assert_eq!(
        days.get(date("2026-09-20")),
        Some(&SpecialDay::MakeupWorkday {
            name: Some("国庆节补班".into()),
            hours: None
        })
    );
    // Make-up day recognised by CATEGORIES, with its own hours.
    assert_eq!(
        days.get(date("2026-10-10")),
        Some(&SpecialDay::MakeupWorkday {
            name: Some("National Day (make-up)".into()),
            hours: Some(DaySchedule::parse(&["09:00-12:00", "13:00-16:00"], "x").unwrap())
        })
    );
    assert!(days.get(date("2026-10-12")).is_none(), "cancelled");
    // Escaped text, case-insensitive category in a list.
    assert_eq!(days.holiday(date("2026-12-31")), Some("Year-end closing; office shut"));
    // Same result with LF line endings.
    assert_eq!(parse_ics(&SAMPLE.replace("\r\n", "\n")).unwrap(), days);
}

#[test]
fn imported_days_drive_deadlines() {
    let days = parse_ics(SAMPLE).unwrap();
    let cal = Calendar::new(chrono_tz::Asia::Shanghai, WeekSchedule::weekdays(office_hours()), days).unwrap();
    assert_eq!(
        cal.add(sh(2026, 9, 24, 10, 0), Span::WorkingDays(7)).unwrap(),
        sh(2026, 10, 12, 10, 0)
    );
    // The make-up Saturday only works 09:00-12:00, 13:00-16:00.
    assert!(!cal.is_working_time(sh(2026, 10, 10, 16, 30)));
    assert!(cal.is_working_time(sh(2026, 10, 10, 15, 30)));
}

#[test]
fn round_trip_through_export() {
    let days = parse_ics(SAMPLE).unwrap();
    let text = to_ics(&days, "示例");
    assert!(text.lines().all(|l| l.trim_end_matches('\r').len() <= 75));
    assert!(text.contains("DTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261008\r\n"));
    assert_eq!(parse_ics(&text).unwrap(), days);
    // Deterministic.
    assert_eq!(to_ics(&days, "示例"), text);
}

#[test]
fn official_china_calendar_round_trips() {
    let days = china::special_days();
    let text = to_ics(&days, "中国法定节假日 2025-2026");
    assert_eq!(parse_ics(&text).unwrap(), days);
    // 2026 National Day is one event, Mid-Autumn another.
    assert!(text.contains("DTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261008\r\n"));
}

fn ics_err(events: &str) -> CalendarError {
    let text = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n");
    parse_ics(&text).unwrap_err()
}

#[test]
fn unsupported_or_broken_events_are_errors() {
    let timed = "BEGIN:VEVENT\r\nDTSTART:20261001T090000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n";
    assert!(matches!(ics_err(timed), CalendarError::Ics { line: 4, message } if message.contains("time of day")));
    let rrule = "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n";
    assert!(matches!(ics_err(rrule), CalendarError::Ics { line: 5, .. }));
    let backwards = "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261005\r\nDTEND;VALUE=DATE:20261001\r\nEND:VEVENT\r\n";
    assert!(matches!(ics_err(backwards), CalendarError::Ics { line: 3, .. }));
    let no_start = "BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n";
    assert!(matches!(ics_err(no_start), CalendarError::Ics { .. }));
    let both = "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\nCATEGORIES:HOLIDAY,WORKDAY\r\nEND:VEVENT\r\n";
    assert!(matches!(ics_err(both), CalendarError::Ics { message, .. } if message.contains("both")));
    let bad_date = "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:2026-10-01\r\nEND:VEVENT\r\n";
    assert!(matches!(ics_err(bad_date), CalendarError::Ics { line: 4, .. }));
    let twice = "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\nEND:VEVENT\r\n\
                 BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261001\r\nSUMMARY:补班\r\nEND:VEVENT\r\n";
    assert!(matches!(ics_err(twice), CalendarError::ConflictingDay { .. }));
    assert!(matches!(
        parse_ics("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"),
        Err(CalendarError::Ics { .. })
    ));
    assert!(matches!(
        parse_ics("BEGIN:VCALENDAR\r\nEND:VEVENT\r\n"),
        Err(CalendarError::Ics { line: 2, .. })
    ));
}

#[test]
fn a_site_configuration_reads_its_ics_files_under_its_own_entries() {
    let path = format!("{}/tests/data/sample.ics", env!("CARGO_MANIFEST_DIR"));
    let cal = Calendar::from_toml_str(&format!(
        r#"
        time_zone = "Asia/Shanghai"
        ics_files = ["{path}"]
        [hours]
        mon = ["09:00-17:00"]
        tue = ["09:00-17:00"]
        wed = ["09:00-17:00"]
        thu = ["09:00-17:00"]
        fri = ["09:00-17:00"]
        [[holidays]]
        name = "Our own name"
        start = "2026-10-02"
        "#
    ))
    .unwrap();
    // From the feed: National Day is off; the explicit entry wins over the feed's name.
    assert!(!cal.is_working_day(date("2026-10-05")));
    assert!(cal.is_working_day(date("2026-10-09")));
    assert_eq!(cal.special_days().holiday(date("2026-10-02")), Some("Our own name"));
    let missing = Calendar::from_toml_str(
        r#"
        time_zone = "Asia/Shanghai"
        ics_files = ["/nonexistent/holidays.ics"]
        "#,
    );
    assert!(matches!(missing, Err(CalendarError::Config(m)) if m.contains("/nonexistent/holidays.ics")));
}
