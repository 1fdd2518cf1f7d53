//! [`Span`]: the one way callers say "how long until the deadline", and
//! [`DayDeadline`]: where a deadline counted in days lands on its last day.
//!
//! One enum keeps SLA policies serialisable (`{ working_days = 2 }` in TOML)
//! and gives callers a single entry point, [`crate::Calendar::add`].

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::error::{CalendarError, Result};

/// How much time to add to a start instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Plain elapsed time: 24 clock hours is 24 hours, whatever the calendar says.
    ClockHours(u32),
    /// Hours counted only inside working intervals.
    WorkingHours(u32),
    /// Minutes counted only inside working intervals.
    WorkingMinutes(u32),
    /// Working days; where the deadline lands on the last day follows the
    /// calendar's [`DayDeadline`].
    WorkingDays(u32),
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match *self {
            Span::ClockHours(n) => (n, "clock hour"),
            Span::WorkingHours(n) => (n, "working hour"),
            Span::WorkingMinutes(n) => (n, "working minute"),
            Span::WorkingDays(n) => (n, "working day"),
        };
        write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

/// Where a deadline of N working days lands on the Nth working day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayDeadline {
    /// At the same local clock time as the (working) start: Friday 10:00 + 1
    /// working day = Monday 10:00. If that time is not working time on the
    /// last day, it moves forward to the next interval of that day, or back to
    /// the end of that day's working time if none is left.
    #[default]
    SameTime,
    /// At the end of the last working interval of the Nth working day.
    EndOfDay,
}

impl Calendar {
    /// The deadline `span` after `start`: the single entry point for callers.
    ///
    /// Working spans follow the rules of [`Calendar::add_working_duration`] and
    /// [`Calendar::add_working_days`] (with the calendar's [`DayDeadline`]).
    pub fn add(&self, start: DateTime<Utc>, span: Span) -> Result<DateTime<Utc>> {
        match span {
            Span::ClockHours(n) => start
                .checked_add_signed(Duration::hours(i64::from(n)))
                .ok_or_else(|| CalendarError::OutOfRange(format!("{start} + {span}"))),
            Span::WorkingHours(n) => self.add_working_duration(start, Duration::hours(i64::from(n))),
            Span::WorkingMinutes(n) => self.add_working_duration(start, Duration::minutes(i64::from(n))),
            Span::WorkingDays(n) => self.add_working_days(start, n, self.day_deadline()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_serde_is_toml_and_json_friendly() {
        assert_eq!(
            serde_json::to_string(&Span::WorkingDays(2)).unwrap(),
            r#"{"working_days":2}"#
        );
        let s: Span = serde_json::from_str(r#"{"clock_hours":24}"#).unwrap();
        assert_eq!(s, Span::ClockHours(24));
        let d: DayDeadline = serde_json::from_str(r#""end_of_day""#).unwrap();
        assert_eq!(d, DayDeadline::EndOfDay);
        assert_eq!(Span::WorkingDays(1).to_string(), "1 working day");
        assert_eq!(Span::WorkingMinutes(90).to_string(), "90 working minutes");
    }
}
