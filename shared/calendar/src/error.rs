//! The one error type of the crate.
//!
//! Configuration mistakes are reported when a [`crate::Calendar`] is built, so
//! that deadline arithmetic on a built calendar can only fail for reasons that
//! depend on the data (e.g. a year of holidays with no working time at all).

use chrono::{DateTime, NaiveDate, Utc};
use thiserror::Error;

/// Everything that can go wrong while building a calendar or computing a deadline.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// The time zone is not an IANA name known to `chrono-tz`.
    #[error("invalid time zone {0:?}: expected an IANA name such as \"Asia/Shanghai\"")]
    InvalidTimeZone(String),

    /// A time of day that is not `HH:MM` or `HH:MM:SS` (00:00..=24:00).
    #[error("invalid time of day {0:?}: expected HH:MM or HH:MM:SS between 00:00 and 24:00")]
    InvalidTime(String),

    /// An interval that is malformed or empty (its end is not after its start).
    #[error("invalid working interval {0:?}: expected \"HH:MM-HH:MM\" with the end after the start")]
    InvalidInterval(String),

    /// Two intervals of the same day overlap.
    #[error("overlapping working intervals on {day}: {first} and {second}")]
    OverlappingIntervals {
        /// Which day's schedule (a weekday name, "make-up days" or a date).
        day: String,
        /// The earlier interval.
        first: String,
        /// The interval that starts before `first` ends.
        second: String,
    },

    /// A holiday range whose end is before its start.
    #[error("invalid date range {start}..={end} for {name:?}")]
    InvalidDateRange {
        /// Name of the holiday.
        name: String,
        /// First day.
        start: NaiveDate,
        /// Last day (inclusive).
        end: NaiveDate,
    },

    /// The same date is declared twice (twice a holiday, or a holiday and a make-up day).
    #[error("date {date} is declared twice ({first} and {second})")]
    ConflictingDay {
        /// The date.
        date: NaiveDate,
        /// Description of the first declaration.
        first: String,
        /// Description of the second declaration.
        second: String,
    },

    /// A built-in calendar name that the crate does not ship.
    #[error("unknown base calendar {0:?}: known calendars are \"cn\"")]
    UnknownBaseCalendar(String),

    /// The calendar has no working hours on any weekday and no make-up days.
    #[error("the calendar has no working time at all")]
    NoWorkingTime,

    /// No working time was found within the search bound (about three years)
    /// after the given instant, e.g. because every day is a holiday.
    #[error("no working time within {days} days after {after}")]
    NoWorkingTimeWithin {
        /// Where the fruitless search started.
        after: DateTime<Utc>,
        /// Length of the search window in days.
        days: u32,
    },

    /// The result would be beyond the supported horizon (200 years) or chrono's date range.
    #[error("deadline out of range: {0}")]
    OutOfRange(String),

    /// A working duration to add was negative.
    #[error("negative working duration {0}")]
    NegativeDuration(chrono::Duration),

    /// Configuration text that does not parse.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// An iCalendar file that does not parse or uses unsupported features.
    #[error("invalid iCalendar data at line {line}: {message}")]
    Ics {
        /// 1-based line number (of the unfolded line's first physical line).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = CalendarError> = std::result::Result<T, E>;
