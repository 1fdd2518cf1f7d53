//! Cross-check of the embedded official calendar (data/cn-2025-2026.toml)
//! against a snapshot of the `chinesecalendar` PyPI package, version 1.11.0,
//! taken with `python3 scripts/check_cn_data.py dump`. The same comparison
//! runs in Python with `python3 scripts/check_cn_data.py check`.

use calendar::{china, DayKind, DaySchedule, WeekSchedule};
use chrono::NaiveDate;

const SNAPSHOT: &str = include_str!("data/chinesecalendar-1.11.0.txt");

/// "国庆节 National Day" / "国庆节补班 National Day make-up working day" -> "national day".
fn english(name: &str) -> String {
    let english = name.split_once(' ').map_or(name, |(_, e)| e);
    english.trim_end_matches(" make-up working day").to_lowercase()
}

#[test]
fn every_date_of_2025_and_2026_matches_chinesecalendar() {
    let week = WeekSchedule::weekdays(DaySchedule::parse(&["09:00-17:00"], "weekday").unwrap());
    let cal = china::calendar(week).unwrap();
    let mut checked = 0;
    for line in SNAPSHOT.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [day, work, kind, name] = fields[..] else {
            panic!("bad snapshot line {line:?}");
        };
        let date: NaiveDate = day.parse().unwrap();
        assert!(china::covers(date));
        assert_eq!(cal.is_working_day(date), work == "work", "{date}");
        let ours = match cal.day_kind(date) {
            DayKind::Holiday(n) => ("holiday", english(n)),
            DayKind::Weekend(_) => ("weekend", "-".to_string()),
            DayKind::Working { makeup: Some(m), .. } => ("makeup", english(m.name.unwrap())),
            DayKind::Working { makeup: None, .. } => ("normal", "-".to_string()),
        };
        assert_eq!(ours, (kind, name.to_lowercase()), "{date}");
        checked += 1;
    }
    assert_eq!(checked, 365 + 365);
}

#[test]
fn facts_from_the_brief() {
    let days = china::special_days();
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    for day in 1..=7 {
        assert!(days.holiday(d(&format!("2026-10-{day:02}"))).is_some());
    }
    for day in 15..=23 {
        assert!(days.holiday(d(&format!("2026-02-{day}"))).is_some());
    }
    assert!(days.is_makeup_workday(d("2026-09-20")));
    assert!(days.is_makeup_workday(d("2026-10-10")));
    assert!(days.is_makeup_workday(d("2026-02-14")));
    assert_eq!(days.holiday(d("2026-09-25")), Some("中秋节 Mid-Autumn Festival"));
    // Every make-up working day of the data is a Saturday or Sunday.
    use chrono::Datelike;
    for (date, day) in days.iter() {
        if !day.is_holiday() {
            assert!(date.weekday().number_from_monday() >= 6, "{date}");
        }
    }
}
