//! Golden deadlines on the real 2026 calendar of mainland China (Asia/Shanghai,
//! 08:30-12:00 and 13:00-17:30 Monday to Friday). Expected values were worked
//! out by hand from the data verified against `chinesecalendar`.

mod common;

use calendar::{DayDeadline, SkipReason, SkippedDay, Span};
use chrono::{Duration, Weekday};
use common::{china_office, date, sh};

#[test]
fn seven_days_from_mid_autumn_eve_skip_both_holidays_and_count_the_makeup_saturday() {
    let cal = china_office();
    // Thu 09-24 10:00. Fri 09-25..Sun 09-27 Mid-Autumn; Mon 28 (1), Tue 29 (2),
    // Wed 30 (3); 10-01..10-07 National Day; Thu 10-08 (4), Fri 10-09 (5),
    // Sat 10-10 make-up (6), Sun 10-11 weekend, Mon 10-12 (7).
    let start = sh(2026, 9, 24, 10, 0);
    assert_eq!(cal.add(start, Span::WorkingDays(7)).unwrap(), sh(2026, 10, 12, 10, 0));

    let why = cal.explain(start, Span::WorkingDays(7)).unwrap();
    assert_eq!(why.due, sh(2026, 10, 12, 10, 0));
    let mut expected: Vec<SkippedDay> = ["2026-09-25", "2026-09-26", "2026-09-27"]
        .iter()
        .map(|d| SkippedDay {
            date: date(d),
            reason: SkipReason::Holiday("中秋节 Mid-Autumn Festival".into()),
        })
        .collect();
    for day in 1..=7 {
        expected.push(SkippedDay {
            date: date(&format!("2026-10-{day:02}")),
            reason: SkipReason::Holiday("国庆节 National Day".into()),
        });
    }
    expected.push(SkippedDay {
        date: date("2026-10-11"),
        reason: SkipReason::Weekend(Weekday::Sun),
    });
    assert_eq!(why.skipped, expected);
    let makeup: Vec<_> = why.makeup_days.iter().map(|m| m.date).collect();
    assert_eq!(makeup, vec![date("2026-10-10")]);
    assert_eq!(
        why.makeup_days[0].name.as_deref(),
        Some("国庆节补班 National Day make-up working day")
    );
    assert_eq!(
        why.to_string(),
        "Due 2026-10-12 10:00 (Asia/Shanghai), 7 working days after 2026-09-24 10:00. \
         Skipped: 2026-09-25..2026-09-27 holiday 中秋节 Mid-Autumn Festival; \
         2026-10-01..2026-10-07 holiday 国庆节 National Day; 2026-10-11 weekend. \
         Make-up working days counted: 2026-10-10 国庆节补班 National Day make-up working day."
    );
}

#[test]
fn sunday_2026_09_20_is_a_working_day() {
    let cal = china_office();
    assert!(cal.is_working_day(date("2026-09-20")));
    assert!(cal.is_working_time(sh(2026, 9, 20, 10, 0)));
    assert!(!cal.is_working_time(sh(2026, 9, 19, 10, 0)), "Saturday 09-19 is off");
    // Fri 09-18 10:00 + 7: Sun 20 (1), Mon 21 (2), Tue 22 (3), Wed 23 (4),
    // Thu 24 (5), [25-27 Mid-Autumn], Mon 28 (6), Tue 29 (7).
    let due = cal.add(sh(2026, 9, 18, 10, 0), Span::WorkingDays(7)).unwrap();
    assert_eq!(due, sh(2026, 9, 29, 10, 0));
    let why = cal.explain(sh(2026, 9, 18, 10, 0), Span::WorkingDays(7)).unwrap();
    assert_eq!(why.makeup_days[0].date, date("2026-09-20"));
    assert_eq!(why.skipped[0].date, date("2026-09-19"));
}

#[test]
fn two_days_across_spring_festival() {
    let cal = china_office();
    // Fri 02-13 10:00; Sat 02-14 make-up (1); 02-15..02-23 holidays; Tue 02-24 (2).
    let due = cal.add(sh(2026, 2, 13, 10, 0), Span::WorkingDays(2)).unwrap();
    assert_eq!(due, sh(2026, 2, 24, 10, 0));
    let one = cal.add(sh(2026, 2, 13, 10, 0), Span::WorkingDays(1)).unwrap();
    assert_eq!(one, sh(2026, 2, 14, 10, 0));
}

#[test]
fn end_of_day_variant() {
    let cal = china_office().with_day_deadline(DayDeadline::EndOfDay);
    let start = sh(2026, 2, 13, 10, 0);
    assert_eq!(cal.add(start, Span::WorkingDays(2)).unwrap(), sh(2026, 2, 24, 17, 30));
    assert_eq!(cal.add(start, Span::WorkingDays(0)).unwrap(), sh(2026, 2, 13, 17, 30));
    assert_eq!(
        cal.add_working_days(sh(2026, 9, 24, 10, 0), 7, DayDeadline::EndOfDay)
            .unwrap(),
        sh(2026, 10, 12, 17, 30)
    );
    // Explicit mode wins over the configured one.
    assert_eq!(
        cal.add_working_days(start, 2, DayDeadline::SameTime).unwrap(),
        sh(2026, 2, 24, 10, 0)
    );
}

#[test]
fn working_hours_across_lunch_night_and_weekend() {
    let cal = china_office();
    let h = |n| Span::WorkingHours(n);
    // Lunch: Wed 03-04 11:00 + 2 h = 11:00-12:00 + 13:00-14:00.
    assert_eq!(cal.add(sh(2026, 3, 4, 11, 0), h(2)).unwrap(), sh(2026, 3, 4, 14, 0));
    // Exactly filling the morning lands at 12:00, not 13:00.
    assert_eq!(cal.add(sh(2026, 3, 4, 11, 0), h(1)).unwrap(), sh(2026, 3, 4, 12, 0));
    // Night: Thu 03-05 17:00 + 1 h = 30 min Thursday + 30 min Friday.
    assert_eq!(cal.add(sh(2026, 3, 5, 17, 0), h(1)).unwrap(), sh(2026, 3, 6, 9, 0));
    // Weekend: Fri 03-06 17:00 + 1 h = Mon 03-09 09:00.
    assert_eq!(cal.add(sh(2026, 3, 6, 17, 0), h(1)).unwrap(), sh(2026, 3, 9, 9, 0));
    // A full working day is 8 hours: Mon 08:30 + 8 h = Mon 17:30; + 9 h = Tue 09:30.
    assert_eq!(cal.add(sh(2026, 3, 9, 8, 30), h(8)).unwrap(), sh(2026, 3, 9, 17, 30));
    assert_eq!(cal.add(sh(2026, 3, 9, 8, 30), h(9)).unwrap(), sh(2026, 3, 10, 9, 30));
    // Minutes.
    assert_eq!(
        cal.add(sh(2026, 3, 4, 11, 45), Span::WorkingMinutes(30)).unwrap(),
        sh(2026, 3, 4, 13, 15)
    );
    // Clock hours ignore the calendar.
    assert_eq!(
        cal.add(sh(2026, 10, 1, 10, 0), Span::ClockHours(24)).unwrap(),
        sh(2026, 10, 2, 10, 0)
    );
    assert!(cal
        .explain(sh(2026, 10, 1, 10, 0), Span::ClockHours(24))
        .unwrap()
        .skipped
        .is_empty());
}

#[test]
fn working_hours_across_national_day() {
    let cal = china_office();
    // Wed 09-30 17:00 + 1 h: 30 min on 09-30, then 10-01..10-07 off, Thu 10-08 09:00.
    assert_eq!(
        cal.add(sh(2026, 9, 30, 17, 0), Span::WorkingHours(1)).unwrap(),
        sh(2026, 10, 8, 9, 0)
    );
    assert_eq!(
        cal.working_time_between(sh(2026, 9, 30, 17, 0), sh(2026, 10, 8, 9, 0)),
        Duration::hours(1)
    );
}

#[test]
fn start_outside_working_time() {
    let cal = china_office();
    // Evening: Thu 03-05 19:00 counts from Fri 08:30.
    assert_eq!(
        cal.next_working_instant(sh(2026, 3, 5, 19, 0)).unwrap(),
        sh(2026, 3, 6, 8, 30)
    );
    assert_eq!(
        cal.add(sh(2026, 3, 5, 19, 0), Span::WorkingDays(1)).unwrap(),
        sh(2026, 3, 9, 8, 30)
    );
    assert_eq!(
        cal.add(sh(2026, 3, 5, 19, 0), Span::WorkingHours(2)).unwrap(),
        sh(2026, 3, 6, 10, 30)
    );
    // Holiday: Thu 10-01 10:00 counts from Thu 10-08 08:30.
    assert_eq!(
        cal.add(sh(2026, 10, 1, 10, 0), Span::WorkingDays(1)).unwrap(),
        sh(2026, 10, 9, 8, 30)
    );
    assert_eq!(
        cal.add(sh(2026, 10, 1, 10, 0), Span::WorkingHours(1)).unwrap(),
        sh(2026, 10, 8, 9, 30)
    );
    let why = cal.explain(sh(2026, 10, 1, 10, 0), Span::WorkingDays(1)).unwrap();
    assert_eq!(why.skipped.len(), 7, "10-01..10-07, the start day included");
    // Lunch: Wed 03-04 12:30 counts from 13:00.
    assert_eq!(
        cal.add(sh(2026, 3, 4, 12, 30), Span::WorkingDays(1)).unwrap(),
        sh(2026, 3, 5, 13, 0)
    );
    assert_eq!(
        cal.add(sh(2026, 3, 4, 12, 30), Span::WorkingHours(1)).unwrap(),
        sh(2026, 3, 4, 14, 0)
    );
    // Early morning and weekend.
    assert_eq!(
        cal.add(sh(2026, 3, 4, 6, 0), Span::WorkingDays(0)).unwrap(),
        sh(2026, 3, 4, 8, 30)
    );
    assert_eq!(
        cal.add(sh(2026, 3, 7, 10, 0), Span::WorkingHours(2)).unwrap(),
        sh(2026, 3, 9, 10, 30)
    );
}

#[test]
fn is_working_time_boundaries() {
    let cal = china_office();
    assert!(cal.is_working_time(sh(2026, 3, 4, 8, 30)));
    assert!(!cal.is_working_time(sh(2026, 3, 4, 8, 29)));
    assert!(!cal.is_working_time(sh(2026, 3, 4, 12, 0)), "intervals are half-open");
    assert!(!cal.is_working_time(sh(2026, 3, 4, 12, 30)));
    assert!(cal.is_working_time(sh(2026, 3, 4, 13, 0)));
    assert!(!cal.is_working_time(sh(2026, 3, 4, 17, 30)));
    assert!(!cal.is_working_time(sh(2026, 10, 5, 10, 0)), "National Day (a Monday)");
    assert!(cal.is_working_time(sh(2026, 10, 10, 10, 0)), "make-up Saturday");
    assert_eq!(
        cal.next_working_instant(sh(2026, 3, 4, 10, 0)).unwrap(),
        sh(2026, 3, 4, 10, 0)
    );
}

#[test]
fn elapsed_working_time() {
    let cal = china_office();
    let week = cal.working_time_between(sh(2026, 3, 9, 0, 0), sh(2026, 3, 16, 0, 0));
    assert_eq!(week, Duration::hours(40));
    // Reversed arguments give the negative.
    assert_eq!(
        cal.working_time_between(sh(2026, 3, 4, 14, 0), sh(2026, 3, 4, 11, 0)),
        -Duration::hours(2)
    );
    // National Day week of 2026: Mon 09-28..Sun 10-11 holds 5 working days
    // (09-28, 09-29, 09-30, 10-08, 10-09) plus Saturday 10-10.
    let fortnight = cal.working_time_between(sh(2026, 9, 28, 0, 0), sh(2026, 10, 12, 0, 0));
    assert_eq!(fortnight, Duration::hours(6 * 8));
}

#[test]
fn same_time_clamps_into_a_shorter_makeup_day() {
    use calendar::{Calendar, DaySchedule};
    // A site whose make-up days are mornings only.
    let cal = china_office()
        .with_makeup_hours(DaySchedule::parse(&["09:00-12:00"], "make-up").unwrap())
        .unwrap();
    assert!(cal.special_days().is_makeup_workday(date("2026-10-10")));
    // Fri 10-09 15:00 + 1 day = Sat 10-10 (make-up, 09:00-12:00): 15:00 is after
    // its working time, so the deadline is the end of that day's working time.
    assert_eq!(
        cal.add(sh(2026, 10, 9, 15, 0), Span::WorkingDays(1)).unwrap(),
        sh(2026, 10, 10, 12, 0)
    );
    // Fri 10-09 08:30 + 1 day: 08:30 is before opening, so 09:00.
    assert_eq!(
        cal.add(sh(2026, 10, 9, 8, 30), Span::WorkingDays(1)).unwrap(),
        sh(2026, 10, 10, 9, 0)
    );
    let _: &Calendar = &cal;
}
