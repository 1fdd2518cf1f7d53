//! Rough timing of the hot paths. Run with
//! `CARGO_TARGET_DIR=/tmp/target-calendar cargo run --release --example bench`.

use std::time::Instant;

use calendar::{china, DaySchedule, Span, WeekSchedule};
use chrono::{Duration, TimeZone, Utc};

fn main() {
    let hours = DaySchedule::parse(&["08:30-12:00", "13:00-17:30"], "weekday").expect("hours");
    let cal = china::calendar(WeekSchedule::weekdays(hours)).expect("calendar");
    // Thursday 2026-09-24 10:00 in Shanghai: the next 10 working days cross two holidays.
    let start = Utc.with_ymd_and_hms(2026, 9, 24, 2, 0, 0).unwrap();
    for (label, span) in [
        ("10 working days", Span::WorkingDays(10)),
        ("80 working hours", Span::WorkingHours(80)),
        ("250 working days", Span::WorkingDays(250)),
    ] {
        const RUNS: u32 = 20_000;
        let t = Instant::now();
        let mut sink = start;
        for i in 0..RUNS {
            let s = start + Duration::minutes(i64::from(i % 600));
            sink = sink.max(cal.add(s, span).expect("deadline"));
        }
        println!("{label:>18}: {:?} per call (latest {sink})", t.elapsed() / RUNS);
    }
    let t = Instant::now();
    let why = cal.explain(start, Span::WorkingDays(10)).expect("explain");
    println!("{:>18}: {:?}\n{why}", "explain 10 days", t.elapsed());
}
