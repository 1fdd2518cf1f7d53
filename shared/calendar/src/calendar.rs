//! [`Calendar`]: one site's working time (time zone + weekly hours + special days),
//! and what kind of day any date is.
//!
//! The calendar is immutable once built and validated, so deadline arithmetic
//! (in `arith.rs`) never sees an inconsistent configuration.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use crate::error::{CalendarError, Result};
use crate::holidays::{SpecialDay, SpecialDays};
use crate::localtime;
use crate::schedule::{DaySchedule, WeekSchedule};
use crate::span::DayDeadline;

/// A site's working-time calendar. Cheap to share (`&Calendar`); all operations take `&self`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    tz: Tz,
    week: WeekSchedule,
    makeup_hours: DaySchedule,
    special: SpecialDays,
    day_deadline: DayDeadline,
}

/// What kind of day a local date is for a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind<'a> {
    /// A day with working hours.
    Working {
        /// The hours of that day.
        hours: &'a DaySchedule,
        /// Whether it is a make-up working day (调休) rather than a regular weekday.
        makeup: Option<MakeupInfo<'a>>,
    },
    /// A regular day off of the week (no working hours on that weekday).
    Weekend(Weekday),
    /// A public holiday, with its name.
    Holiday(&'a str),
}

/// Label of a make-up working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MakeupInfo<'a> {
    /// The configured name, if any.
    pub name: Option<&'a str>,
}

impl Calendar {
    /// A calendar in `tz` with weekly hours and special days.
    ///
    /// Make-up working days get the hours of a normal weekday (the first day from
    /// Monday on with working hours) unless they carry their own or
    /// [`Calendar::with_makeup_hours`] says otherwise. Deadlines in working days
    /// land at the same clock time ([`DayDeadline::SameTime`]) unless
    /// [`Calendar::with_day_deadline`] says otherwise.
    ///
    /// Fails with [`CalendarError::NoWorkingTime`] if there is no working time at all.
    pub fn new(tz: Tz, week: WeekSchedule, special: SpecialDays) -> Result<Self> {
        let makeup_hours = week.normal_weekday();
        let cal = Calendar {
            tz,
            week,
            makeup_hours,
            special,
            day_deadline: DayDeadline::default(),
        };
        cal.validate()?;
        Ok(cal)
    }

    /// Like [`Calendar::new`] with the time zone given by its IANA name.
    pub fn with_zone_name(tz: &str, week: WeekSchedule, special: SpecialDays) -> Result<Self> {
        Calendar::new(parse_time_zone(tz)?, week, special)
    }

    /// Sets the hours of make-up working days that do not carry their own.
    pub fn with_makeup_hours(mut self, hours: DaySchedule) -> Result<Self> {
        self.makeup_hours = hours;
        self.validate()?;
        Ok(self)
    }

    /// Sets where [`crate::Span::WorkingDays`] deadlines land within the last day.
    pub fn with_day_deadline(mut self, mode: DayDeadline) -> Self {
        self.day_deadline = mode;
        self
    }

    fn validate(&self) -> Result<()> {
        for (date, day) in self.special.iter() {
            if let SpecialDay::MakeupWorkday { hours, .. } = day {
                if hours.as_ref().unwrap_or(&self.makeup_hours).is_closed() {
                    return Err(CalendarError::Config(format!(
                        "make-up working day {date} has no working hours \
                         (give it hours, or set makeup_hours / weekday hours)"
                    )));
                }
            }
        }
        if self.week.is_closed() && !self.special.has_makeup_workdays() {
            return Err(CalendarError::NoWorkingTime);
        }
        Ok(())
    }

    /// The site's time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The regular weekly hours.
    pub fn week(&self) -> &WeekSchedule {
        &self.week
    }

    /// Hours of make-up days that do not carry their own.
    pub fn makeup_hours(&self) -> &DaySchedule {
        &self.makeup_hours
    }

    /// Holidays and make-up working days.
    pub fn special_days(&self) -> &SpecialDays {
        &self.special
    }

    /// The configured landing rule for working-day deadlines.
    pub fn day_deadline(&self) -> DayDeadline {
        self.day_deadline
    }

    /// What kind of day a local date is. Holidays win over weekdays, make-up
    /// days over weekends.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind<'_> {
        match self.special.get(date) {
            Some(SpecialDay::Holiday { name }) => DayKind::Holiday(name),
            Some(SpecialDay::MakeupWorkday { name, hours }) => DayKind::Working {
                hours: hours.as_ref().unwrap_or(&self.makeup_hours),
                makeup: Some(MakeupInfo { name: name.as_deref() }),
            },
            None => {
                let hours = self.week.get(date.weekday());
                if hours.is_closed() {
                    DayKind::Weekend(date.weekday())
                } else {
                    DayKind::Working { hours, makeup: None }
                }
            }
        }
    }

    /// Whether the local date has working hours.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        matches!(self.day_kind(date), DayKind::Working { .. })
    }

    /// The local date of an instant in the site's time zone.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        localtime::local_date(self.tz, t)
    }

    /// The working intervals of a local date as instants, in order and
    /// non-overlapping. Intervals that vanish in a daylight-saving gap are
    /// dropped; overlaps created by one are clipped.
    pub(crate) fn work_intervals(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let hours = match self.day_kind(date) {
            DayKind::Working { hours, .. } => hours.intervals(),
            _ => &[],
        };
        let tz = self.tz;
        let mut prev_end: Option<DateTime<Utc>> = None;
        hours.iter().filter_map(move |i| {
            let mut start = localtime::instant(tz, date, i.start())?;
            let end = localtime::instant(tz, date, i.end())?;
            if let Some(p) = prev_end {
                start = start.max(p);
            }
            if end <= start {
                return None;
            }
            prev_end = Some(end);
            Some((start, end))
        })
    }
}

/// Parses an IANA time zone name.
pub fn parse_time_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| CalendarError::InvalidTimeZone(name.to_string()))
}
