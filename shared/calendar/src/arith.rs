//! Working-time arithmetic.
//!
//! Every operation walks local dates one at a time and handles each day's few
//! working intervals as whole blocks, so the cost grows with the number of
//! calendar days covered, never with minutes (10 working days ≈ 14 days ≈ a few
//! dozen interval computations).
//!
//! Conventions shared by all operations:
//! * working intervals are half-open: 08:30 is working time, 12:00 is not
//!   (with 08:30-12:00); so an instant exactly at the end of an interval is
//!   outside working time, but a deadline may land there (11:00 + 1 h = 12:00);
//! * a start outside working time counts from the next working instant;
//! * searches give up after [`MAX_IDLE_DAYS`] consecutive days without working
//!   time ([`CalendarError::NoWorkingTimeWithin`]) and never go beyond
//!   [`HORIZON_DAYS`] ([`CalendarError::OutOfRange`]), so they always end.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::calendar::Calendar;
use crate::error::{CalendarError, Result};
use crate::localtime;
use crate::span::DayDeadline;

/// Longest run of days without working time that a search accepts (about three years).
pub const MAX_IDLE_DAYS: u32 = 3 * 366;

/// Furthest a search goes from its start, in days (about 200 years).
pub const HORIZON_DAYS: u32 = 200 * 366;

/// Bookkeeping for a forward walk over local dates that must end.
struct Walk {
    after: DateTime<Utc>,
    first: NaiveDate,
    date: NaiveDate,
    last_work: NaiveDate,
}

impl Walk {
    fn new(after: DateTime<Utc>, first: NaiveDate) -> Self {
        Walk {
            after,
            first,
            date: first,
            last_work: first,
        }
    }

    /// Moves to the next date, failing when a bound is hit.
    fn step(&mut self, had_work: bool) -> Result<()> {
        if had_work {
            self.last_work = self.date;
        }
        if (self.date - self.last_work).num_days() >= i64::from(MAX_IDLE_DAYS) {
            return Err(CalendarError::NoWorkingTimeWithin {
                after: self.after,
                days: MAX_IDLE_DAYS,
            });
        }
        if (self.date - self.first).num_days() >= i64::from(HORIZON_DAYS) {
            return Err(CalendarError::OutOfRange(format!(
                "more than {HORIZON_DAYS} days after {}",
                self.after
            )));
        }
        self.date = self
            .date
            .succ_opt()
            .ok_or_else(|| CalendarError::OutOfRange(format!("after {}", self.date)))?;
        Ok(())
    }
}

impl Calendar {
    /// Whether `t` is inside a working interval (start included, end excluded).
    pub fn is_working_time(&self, t: DateTime<Utc>) -> bool {
        let date = self.local_date(t);
        [date.pred_opt(), Some(date)]
            .into_iter()
            .flatten()
            .any(|d| self.work_intervals(d).any(|(s, e)| s <= t && t < e))
    }

    /// The first working instant at or after `t` (`t` itself if it is working time).
    pub fn next_working_instant(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
        Ok(self.advance(t, Duration::zero())?.0)
    }

    /// `start` plus `amount` of working time: only time inside working intervals
    /// counts, so 11:00 + 2 h with a 12:00-13:00 lunch break is 14:00.
    ///
    /// A deadline that uses up an interval exactly lands at its end (11:00 + 1 h
    /// = 12:00, not 13:00). Adding zero gives [`Calendar::next_working_instant`].
    pub fn add_working_duration(&self, start: DateTime<Utc>, amount: Duration) -> Result<DateTime<Utc>> {
        if amount < Duration::zero() {
            return Err(CalendarError::NegativeDuration(amount));
        }
        Ok(self.advance(start, amount)?.0)
    }

    /// `start` plus `days` working days.
    ///
    /// Counting starts at the next working instant at or after `start` (so a
    /// Friday-evening start counts from Monday's opening, a start during lunch
    /// from the afternoon opening). The deadline is on the `days`-th working
    /// day after that instant's day — holidays and weekends are skipped,
    /// make-up working days count — at the place `mode` says. Zero days gives
    /// the next working instant (or the end of its day for [`DayDeadline::EndOfDay`]).
    pub fn add_working_days(&self, start: DateTime<Utc>, days: u32, mode: DayDeadline) -> Result<DateTime<Utc>> {
        let (first, anchor) = self.advance(start, Duration::zero())?;
        let mut walk = Walk::new(start, anchor);
        let mut counted = 0;
        while counted < days {
            walk.step(false)?;
            if self.work_intervals(walk.date).next().is_some() {
                counted += 1;
                walk.last_work = walk.date;
            }
        }
        let target = walk.date;
        let intervals: Vec<_> = self.work_intervals(target).collect();
        let Some(&(_, day_end)) = intervals.last() else {
            // Unreachable: `target` is the anchor (which holds `first`) or a counted day.
            return Ok(first);
        };
        match mode {
            DayDeadline::EndOfDay => Ok(day_end),
            DayDeadline::SameTime => {
                let clock = first.with_timezone(&self.time_zone()).time();
                let wanted = localtime::resolve(self.time_zone(), target.and_time(clock));
                Ok(intervals
                    .iter()
                    .find(|&&(_, e)| wanted < e)
                    .map_or(day_end, |&(s, _)| s.max(wanted)))
            }
        }
    }

    /// Working time between two instants; negative if `to` is before `from`.
    pub fn working_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to < from {
            return -self.working_time_between(to, from);
        }
        let last = self.local_date(to);
        let first = self.local_date(from);
        let mut date = first.pred_opt().unwrap_or(first);
        let mut total = Duration::zero();
        loop {
            for (s, e) in self.work_intervals(date) {
                let (s, e) = (s.max(from), e.min(to));
                if e > s {
                    total += e - s;
                }
            }
            match date.succ_opt() {
                Some(next) if next <= last => date = next,
                _ => return total,
            }
        }
    }

    /// Walks forward from `start` through `amount` of working time; returns the
    /// instant reached and the local date of the interval it is in.
    fn advance(&self, start: DateTime<Utc>, amount: Duration) -> Result<(DateTime<Utc>, NaiveDate)> {
        let first = self.local_date(start);
        // The previous day too: after a daylight-saving gap one of its
        // intervals may end after local midnight.
        let mut walk = Walk::new(start, first.pred_opt().unwrap_or(first));
        let mut remaining = amount;
        loop {
            let mut had_work = false;
            for (s, e) in self.work_intervals(walk.date) {
                if e <= start {
                    continue;
                }
                had_work = true;
                let s = s.max(start);
                let available = e - s;
                if remaining <= available {
                    return Ok((s + remaining, walk.date));
                }
                remaining -= available;
            }
            walk.step(had_work)?;
        }
    }
}
