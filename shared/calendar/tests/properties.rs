//! Property tests on the real 2025-2026 calendar of mainland China (and on a
//! daylight-saving zone), with random starts anywhere in 2025-2026, working
//! time or not.

mod common;

use calendar::{Calendar, DayDeadline, DayKind, DaySchedule, Span, SpecialDays, WeekSchedule};
use chrono::{DateTime, Duration, TimeZone, Utc};
use common::china_office;
use proptest::prelude::*;

/// 2025-01-01 00:00 Shanghai.
fn epoch() -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Any second of 2025-2026 (minus a margin so deadlines stay in the data).
fn any_start() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..(700 * 86_400)).prop_map(|s| epoch() + Duration::seconds(s))
}

fn not_in_holiday(cal: &Calendar, t: DateTime<Utc>) -> bool {
    !matches!(cal.day_kind(cal.local_date(t)), DayKind::Holiday(_))
}

proptest! {
    #[test]
    fn elapsed_inverts_add_in_working_hours(start in any_start(), n in 0u32..200) {
        let cal = china_office();
        let due = cal.add(start, Span::WorkingHours(n)).unwrap();
        prop_assert_eq!(cal.working_time_between(start, due), Duration::hours(i64::from(n)));
    }

    #[test]
    fn elapsed_inverts_add_in_working_minutes(start in any_start(), n in 0u32..5_000) {
        let cal = china_office();
        let due = cal.add(start, Span::WorkingMinutes(n)).unwrap();
        prop_assert_eq!(cal.working_time_between(start, due), Duration::minutes(i64::from(n)));
    }

    #[test]
    fn add_is_monotone_in_n(start in any_start(), a in 0u32..120, b in 0u32..120) {
        let cal = china_office();
        let (lo, hi) = (a.min(b), a.max(b));
        for span in [Span::WorkingHours, Span::WorkingMinutes, Span::WorkingDays] {
            let x = cal.add(start, span(lo)).unwrap();
            let y = cal.add(start, span(hi)).unwrap();
            prop_assert!(x <= y, "{:?}: {} > {}", span(lo), x, y);
            prop_assert!(x >= start);
        }
        let end = cal.clone().with_day_deadline(DayDeadline::EndOfDay);
        prop_assert!(end.add(start, Span::WorkingDays(lo)).unwrap() <= end.add(start, Span::WorkingDays(hi)).unwrap());
    }

    #[test]
    fn results_are_never_inside_a_holiday(start in any_start(), n in 0u32..60) {
        let cal = china_office();
        let end = cal.clone().with_day_deadline(DayDeadline::EndOfDay);
        for due in [
            cal.add(start, Span::WorkingHours(n)).unwrap(),
            cal.add(start, Span::WorkingDays(n)).unwrap(),
            end.add(start, Span::WorkingDays(n)).unwrap(),
            cal.next_working_instant(start).unwrap(),
        ] {
            prop_assert!(not_in_holiday(&cal, due), "{} is in a holiday", due);
            prop_assert!(cal.is_working_day(cal.local_date(due)));
        }
    }

    #[test]
    fn working_hour_deadlines_end_working_time(start in any_start(), n in 1u32..100) {
        let cal = china_office();
        let due = cal.add(start, Span::WorkingHours(n)).unwrap();
        prop_assert!(cal.is_working_time(due - Duration::seconds(1)));
    }

    #[test]
    fn next_working_instant_skips_only_idle_time(start in any_start()) {
        let cal = china_office();
        let next = cal.next_working_instant(start).unwrap();
        prop_assert!(next >= start);
        prop_assert!(cal.is_working_time(next));
        prop_assert_eq!(cal.working_time_between(start, next), Duration::zero());
        prop_assert_eq!(cal.is_working_time(start), next == start);
    }

    #[test]
    fn working_days_count_exactly_n_working_days(start in any_start(), n in 0u32..40) {
        let cal = china_office();
        let first = cal.next_working_instant(start).unwrap();
        let due = cal.add(start, Span::WorkingDays(n)).unwrap();
        let (from, to) = (cal.local_date(first), cal.local_date(due));
        let counted = from.iter_days().skip(1).take_while(|d| *d <= to)
            .filter(|d| cal.is_working_day(*d)).count();
        prop_assert_eq!(counted, n as usize);
        // Same clock time when both days have it as working time.
        let tz = cal.time_zone();
        if cal.is_working_time(due) {
            prop_assert_eq!(due.with_timezone(&tz).time(), first.with_timezone(&tz).time());
        }
    }

    #[test]
    fn elapsed_is_additive(start in any_start(), a in 0i64..(30 * 86_400), b in 0i64..(30 * 86_400)) {
        let cal = china_office();
        let mid = start + Duration::seconds(a);
        let end = mid + Duration::seconds(b);
        prop_assert_eq!(
            cal.working_time_between(start, mid) + cal.working_time_between(mid, end),
            cal.working_time_between(start, end)
        );
    }

    #[test]
    fn daylight_saving_zone_keeps_the_inverse(
        start in (0i64..(700 * 86_400)).prop_map(|s| Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(s)),
        n in 0u32..300,
    ) {
        // Round the clock, every day, in New York: days are 23, 24 or 25 hours.
        let allday = DaySchedule::parse(&["00:00-24:00"], "all").unwrap();
        let mut week = WeekSchedule::weekdays(allday.clone());
        week.set(chrono::Weekday::Sat, allday.clone());
        week.set(chrono::Weekday::Sun, allday);
        let cal = Calendar::new(chrono_tz::America::New_York, week, SpecialDays::new()).unwrap();
        let due = cal.add(start, Span::WorkingHours(n)).unwrap();
        prop_assert_eq!(due, start + Duration::hours(i64::from(n)), "24/7 equals clock time");

        let office = Calendar::new(
            chrono_tz::America::New_York,
            WeekSchedule::weekdays(DaySchedule::parse(&["09:00-12:00", "13:00-17:00"], "wd").unwrap()),
            SpecialDays::new(),
        ).unwrap();
        let due = office.add(start, Span::WorkingHours(n)).unwrap();
        prop_assert_eq!(office.working_time_between(start, due), Duration::hours(i64::from(n)));
    }
}
