//! Searches that must end, daylight-saving changes, and speed.

mod common;

use std::time::Instant;

use calendar::{Calendar, CalendarError, DayDeadline, DaySchedule, Span, SpecialDays, WeekSchedule, MAX_IDLE_DAYS};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::New_York;
use common::{china_office, date, office_hours, sh};

fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn closed_for(years: i64) -> Calendar {
    let mut days = SpecialDays::new();
    let first = date("2026-01-01");
    days.insert_holiday_range("closed", first, first + Duration::days(365 * years))
        .unwrap();
    Calendar::new(chrono_tz::Asia::Shanghai, WeekSchedule::weekdays(office_hours()), days).unwrap()
}

#[test]
fn calendar_without_working_time_is_rejected() {
    assert_eq!(
        Calendar::new(chrono_tz::UTC, WeekSchedule::closed(), SpecialDays::new()).unwrap_err(),
        CalendarError::NoWorkingTime
    );
}

#[test]
fn years_of_holidays_end_the_search_with_an_error() {
    let cal = closed_for(4);
    let start = sh(2025, 12, 31, 17, 0);
    let t = Instant::now();
    let expect = CalendarError::NoWorkingTimeWithin {
        after: start,
        days: MAX_IDLE_DAYS,
    };
    assert_eq!(cal.add(start, Span::WorkingHours(1)).unwrap_err(), expect);
    assert_eq!(cal.add(start, Span::WorkingDays(1)).unwrap_err(), expect);
    let holiday = sh(2026, 6, 1, 10, 0);
    assert!(matches!(
        cal.next_working_instant(holiday),
        Err(CalendarError::NoWorkingTimeWithin { .. })
    ));
    assert!(matches!(
        cal.add_working_days(holiday, 0, DayDeadline::EndOfDay),
        Err(CalendarError::NoWorkingTimeWithin { .. })
    ));
    assert!(!cal.is_working_time(holiday));
    assert!(t.elapsed().as_secs() < 5, "bounded search took {:?}", t.elapsed());
}

#[test]
fn two_years_of_holidays_are_crossed() {
    let cal = closed_for(2);
    // 2026-01-01 + 730 days = 2028-01-01 is the last holiday; Mon 2028-01-03 is the next working day.
    let due = cal.add(sh(2025, 12, 31, 17, 0), Span::WorkingHours(1)).unwrap();
    assert_eq!(due, sh(2028, 1, 3, 9, 0));
}

#[test]
fn absurd_spans_are_out_of_range_not_endless() {
    let cal = china_office();
    let start = sh(2026, 3, 4, 10, 0);
    assert!(matches!(
        cal.add(start, Span::WorkingDays(u32::MAX)),
        Err(CalendarError::OutOfRange(_))
    ));
    assert!(matches!(
        cal.add(start, Span::WorkingHours(u32::MAX)),
        Err(CalendarError::OutOfRange(_))
    ));
    assert_eq!(
        cal.add_working_duration(start, Duration::hours(-1)).unwrap_err(),
        CalendarError::NegativeDuration(Duration::hours(-1))
    );
    // Clock hours are plain arithmetic, within chrono's range (about 262,000 years).
    assert_eq!(
        cal.add(start, Span::ClockHours(1_000_000)).unwrap(),
        start + Duration::hours(1_000_000)
    );
    assert!(matches!(
        cal.add(start, Span::ClockHours(u32::MAX)),
        Err(CalendarError::OutOfRange(_))
    ));
}

#[test]
fn beyond_the_official_data_only_weekends_are_off() {
    let cal = china_office();
    assert!(!calendar::china::covers(date("2027-10-01")));
    assert!(cal.is_working_day(date("2027-10-01")), "no 2027 data shipped");
}

#[test]
fn office_hours_across_a_daylight_saving_change() {
    let week = WeekSchedule::weekdays(DaySchedule::parse(&["09:00-17:00"], "wd").unwrap());
    let cal = Calendar::new(New_York, week, SpecialDays::new()).unwrap();
    // Clocks go forward on Sunday 2026-03-08; Monday still opens at 09:00 local.
    let due = cal.add(ny(2026, 3, 6, 16, 0), Span::WorkingHours(2)).unwrap();
    assert_eq!(due, ny(2026, 3, 9, 10, 0));
    assert_eq!(
        cal.add(ny(2026, 3, 6, 16, 0), Span::WorkingDays(1)).unwrap(),
        ny(2026, 3, 9, 16, 0)
    );
    assert_eq!(
        cal.working_time_between(ny(2026, 3, 6, 0, 0), ny(2026, 3, 10, 0, 0)),
        Duration::hours(16)
    );
}

#[test]
fn days_of_23_and_25_hours() {
    let mut week = WeekSchedule::closed();
    let all = DaySchedule::parse(&["00:00-24:00"], "all").unwrap();
    week.set(chrono::Weekday::Sun, all);
    let cal = Calendar::new(New_York, week, SpecialDays::new()).unwrap();
    let day = |d: NaiveDate| {
        let next = d.succ_opt().unwrap();
        cal.working_time_between(
            ny(2026, d.month0() + 1, d.day0() + 1, 0, 0),
            ny(2026, next.month0() + 1, next.day0() + 1, 0, 0),
        )
    };
    use chrono::Datelike;
    assert_eq!(day(date("2026-03-08")), Duration::hours(23));
    assert_eq!(day(date("2026-11-01")), Duration::hours(25));
    assert_eq!(day(date("2026-03-15")), Duration::hours(24));
}

#[test]
fn interval_inside_a_daylight_saving_gap() {
    // 01:00-03:00 on the spring-forward night: 02:00-03:00 does not exist.
    let mut week = WeekSchedule::closed();
    week.set(
        chrono::Weekday::Sun,
        DaySchedule::parse(&["01:00-03:00"], "sun").unwrap(),
    );
    let cal = Calendar::new(New_York, week, SpecialDays::new()).unwrap();
    let start = ny(2026, 3, 8, 0, 0);
    let end = ny(2026, 3, 9, 0, 0);
    assert_eq!(cal.working_time_between(start, end), Duration::hours(1));
    assert_eq!(cal.add(start, Span::WorkingMinutes(60)).unwrap(), ny(2026, 3, 8, 3, 0));
    // On the fall-back night the same interval holds three hours of time.
    let start = ny(2026, 11, 1, 0, 0);
    let end = ny(2026, 11, 2, 0, 0);
    assert_eq!(cal.working_time_between(start, end), Duration::hours(3));
}

#[test]
fn ten_working_days_take_microseconds() {
    let cal = china_office();
    let start = sh(2026, 9, 24, 10, 0);
    const RUNS: u32 = 2_000;
    let t = Instant::now();
    let mut last = start;
    for i in 0..RUNS {
        last = cal
            .add(start + Duration::minutes(i64::from(i % 600)), Span::WorkingDays(10))
            .unwrap();
    }
    let per_call = t.elapsed() / RUNS;
    assert!(last > start);
    // Unoptimised test build on a shared 2-core machine: allow 500 µs; the
    // release build measures a few µs (examples/bench.rs).
    assert!(per_call.as_micros() < 500, "10 working days took {per_call:?} per call");
    eprintln!("10 working days: {per_call:?} per call (debug build)");
}
