//! Working hours: times of day, intervals, one day's schedule and a week of them.
//!
//! Hours are kept as local wall-clock times (seconds since local midnight) and
//! only turned into instants for a given date, so the same schedule holds on
//! both sides of a daylight-saving change.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use crate::error::{CalendarError, Result};

const SECONDS_PER_DAY: u32 = 86_400;

/// A local wall-clock time between 00:00 and 24:00 inclusive, to the second.
///
/// 24:00 exists so that a day can be worked until midnight (`"00:00-24:00"`);
/// it is only meaningful as the end of an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    /// Midnight at the end of the day (24:00).
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(SECONDS_PER_DAY);

    /// Builds a time from hours, minutes and seconds; `None` unless it is within 00:00..=24:00.
    pub fn from_hms(hour: u32, minute: u32, second: u32) -> Option<Self> {
        if minute >= 60 || second >= 60 {
            return None;
        }
        let secs = hour.checked_mul(3600)? + minute * 60 + second;
        (secs <= SECONDS_PER_DAY).then_some(TimeOfDay(secs))
    }

    /// Seconds since local midnight (0..=86400).
    pub fn seconds_from_midnight(self) -> u32 {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || CalendarError::InvalidTime(s.to_string());
        let parts: Vec<&str> = s.trim().split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let mut nums = [0u32; 3];
        for (slot, part) in nums.iter_mut().zip(&parts) {
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            *slot = part.parse().map_err(|_| bad())?;
        }
        TimeOfDay::from_hms(nums[0], nums[1], nums[2]).ok_or_else(bad)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, self.0 / 60 % 60, self.0 % 60);
        if s == 0 {
            write!(f, "{h:02}:{m:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

/// A half-open working interval `[start, end)` of local wall-clock time.
///
/// Written `"08:30-12:00"` in configuration, which keeps TOML files short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkInterval {
    start: TimeOfDay,
    end: TimeOfDay,
}

impl WorkInterval {
    /// An interval; fails unless `start < end`.
    pub fn new(start: TimeOfDay, end: TimeOfDay) -> Result<Self> {
        if start < end {
            Ok(WorkInterval { start, end })
        } else {
            Err(CalendarError::InvalidInterval(format!("{start}-{end}")))
        }
    }

    /// First working instant of the interval (local time).
    pub fn start(self) -> TimeOfDay {
        self.start
    }

    /// First instant after the interval (local time).
    pub fn end(self) -> TimeOfDay {
        self.end
    }
}

impl FromStr for WorkInterval {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || CalendarError::InvalidInterval(s.to_string());
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let start: TimeOfDay = a.parse().map_err(|_| bad())?;
        let end: TimeOfDay = b.parse().map_err(|_| bad())?;
        WorkInterval::new(start, end).map_err(|_| bad())
    }
}

impl TryFrom<String> for WorkInterval {
    type Error = CalendarError;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<WorkInterval> for String {
    fn from(i: WorkInterval) -> String {
        i.to_string()
    }
}

impl fmt::Display for WorkInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The working intervals of one day: sorted, non-overlapping (touching is allowed).
/// An empty schedule is a day off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DaySchedule(Vec<WorkInterval>);

impl DaySchedule {
    /// A day off.
    pub fn closed() -> Self {
        DaySchedule(Vec::new())
    }

    /// Sorts the intervals and rejects overlaps; `label` names the day in errors.
    pub fn new(mut intervals: Vec<WorkInterval>, label: &str) -> Result<Self> {
        intervals.sort();
        for pair in intervals.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(CalendarError::OverlappingIntervals {
                    day: label.to_string(),
                    first: pair[0].to_string(),
                    second: pair[1].to_string(),
                });
            }
        }
        Ok(DaySchedule(intervals))
    }

    /// Parses `["08:30-12:00", "13:00-17:30"]`-style strings.
    pub fn parse(intervals: &[&str], label: &str) -> Result<Self> {
        let parsed = intervals
            .iter()
            .map(|s| s.parse())
            .collect::<Result<Vec<WorkInterval>>>()?;
        DaySchedule::new(parsed, label)
    }

    /// The intervals, in order.
    pub fn intervals(&self) -> &[WorkInterval] {
        &self.0
    }

    /// Whether the day has no working time.
    pub fn is_closed(&self) -> bool {
        self.0.is_empty()
    }

    /// Total nominal working time of the day, in seconds (ignoring DST changes).
    pub fn working_seconds(&self) -> u32 {
        self.0.iter().map(|i| i.end.0 - i.start.0).sum()
    }
}

/// Regular working hours for each day of the week (Monday first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WeekSchedule([DaySchedule; 7]);

impl WeekSchedule {
    /// No working hours on any day.
    pub fn closed() -> Self {
        WeekSchedule::default()
    }

    /// The same hours Monday to Friday, Saturday and Sunday off.
    pub fn weekdays(hours: DaySchedule) -> Self {
        let mut week = WeekSchedule::closed();
        for day in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
            week.set(day, hours.clone());
        }
        week
    }

    /// Replaces one weekday's hours.
    pub fn set(&mut self, day: Weekday, hours: DaySchedule) {
        self.0[day.num_days_from_monday() as usize] = hours;
    }

    /// One weekday's hours.
    pub fn get(&self, day: Weekday) -> &DaySchedule {
        &self.0[day.num_days_from_monday() as usize]
    }

    /// Whether no weekday has working time.
    pub fn is_closed(&self) -> bool {
        self.0.iter().all(DaySchedule::is_closed)
    }

    /// The hours a make-up working day gets when none are configured: those of
    /// the first day from Monday on that has working hours, i.e. "a normal weekday".
    pub fn normal_weekday(&self) -> DaySchedule {
        self.0.iter().find(|d| !d.is_closed()).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_times() {
        assert_eq!("08:30".parse::<TimeOfDay>().unwrap().to_string(), "08:30");
        assert_eq!("8:05:07".parse::<TimeOfDay>().unwrap().to_string(), "08:05:07");
        assert_eq!("24:00".parse::<TimeOfDay>().unwrap(), TimeOfDay::END_OF_DAY);
        for bad in ["24:01", "12", "12:60", "ab:cd", "1:2:3:4", "-1:00", "123:00", ""] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_intervals_and_rejects_empty_ones() {
        let i: WorkInterval = "08:30-12:00".parse().unwrap();
        assert_eq!(i.to_string(), "08:30-12:00");
        assert!(matches!(
            "12:00-08:30".parse::<WorkInterval>(),
            Err(CalendarError::InvalidInterval(_))
        ));
        assert!("12:00-12:00".parse::<WorkInterval>().is_err());
        assert!("12:00".parse::<WorkInterval>().is_err());
    }

    #[test]
    fn day_schedule_sorts_and_rejects_overlaps() {
        let d = DaySchedule::parse(&["13:00-17:30", "08:30-12:00"], "mon").unwrap();
        assert_eq!(d.intervals()[0].to_string(), "08:30-12:00");
        assert_eq!(d.working_seconds(), 8 * 3600);
        // Touching intervals are fine.
        assert!(DaySchedule::parse(&["08:00-12:00", "12:00-13:00"], "mon").is_ok());
        let err = DaySchedule::parse(&["08:00-12:00", "11:00-13:00"], "tue").unwrap_err();
        assert_eq!(
            err,
            CalendarError::OverlappingIntervals {
                day: "tue".into(),
                first: "08:00-12:00".into(),
                second: "11:00-13:00".into()
            }
        );
    }

    #[test]
    fn week_normal_weekday_is_first_working_day() {
        let mut week = WeekSchedule::closed();
        assert!(week.is_closed());
        let sat = DaySchedule::parse(&["10:00-14:00"], "sat").unwrap();
        week.set(Weekday::Sat, sat.clone());
        assert_eq!(week.normal_weekday(), sat);
        let mon = DaySchedule::parse(&["09:00-17:00"], "mon").unwrap();
        week.set(Weekday::Mon, mon.clone());
        assert_eq!(week.normal_weekday(), mon);
    }
}
