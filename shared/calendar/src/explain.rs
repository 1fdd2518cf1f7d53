//! Deadlines with their reasons: which days were skipped and why, which
//! make-up working days were counted, so a user can be told why a complaint
//! filed on 24 September is due on 12 October.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use serde::Serialize;

use crate::calendar::{Calendar, DayKind};
use crate::error::Result;
use crate::span::Span;

/// A deadline and what went into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The instant counting started from (as given).
    pub start: DateTime<Utc>,
    /// What was added.
    pub span: Span,
    /// The deadline.
    pub due: DateTime<Utc>,
    /// IANA name of the site's time zone; dates below are local to it.
    pub time_zone: String,
    /// Days without working time between the start's and the deadline's local
    /// dates, in order. Empty for [`Span::ClockHours`].
    pub skipped: Vec<SkippedDay>,
    /// Make-up working days (调休) whose working time was counted, in order.
    pub makeup_days: Vec<CountedMakeupDay>,
}

/// A local date that contributed no working time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedDay {
    /// The local date.
    pub date: NaiveDate,
    /// Why it has no working time.
    pub reason: SkipReason,
}

/// Why a day has no working time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A regular day off of the week (normally Saturday or Sunday).
    Weekend(Weekday),
    /// A public holiday, with its name.
    Holiday(String),
}

/// A make-up working day that was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountedMakeupDay {
    /// The local date.
    pub date: NaiveDate,
    /// Its configured name, if any.
    pub name: Option<String>,
}

impl Calendar {
    /// Like [`Calendar::add`], with the skipped days and counted make-up days.
    pub fn explain(&self, start: DateTime<Utc>, span: Span) -> Result<Explanation> {
        let due = self.add(start, span)?;
        let mut skipped = Vec::new();
        let mut makeup_days = Vec::new();
        if !matches!(span, Span::ClockHours(_)) {
            let last = self.local_date(due);
            let mut date = self.local_date(start);
            while date <= last {
                match self.day_kind(date) {
                    // The deadline's own date is never skipped; it can only be
                    // non-working when the deadline is exactly at its midnight.
                    DayKind::Holiday(name) if date < last => skipped.push(SkippedDay {
                        date,
                        reason: SkipReason::Holiday(name.to_string()),
                    }),
                    DayKind::Weekend(weekday) if date < last => skipped.push(SkippedDay {
                        date,
                        reason: SkipReason::Weekend(weekday),
                    }),
                    DayKind::Working { makeup: Some(info), .. }
                        if self.work_intervals(date).any(|(s, e)| s <= due && e > start) =>
                    {
                        makeup_days.push(CountedMakeupDay {
                            date,
                            name: info.name.map(str::to_string),
                        });
                    }
                    _ => {}
                }
                let Some(next) = date.succ_opt() else { break };
                date = next;
            }
        }
        Ok(Explanation {
            start,
            span,
            due,
            time_zone: self.time_zone().name().to_string(),
            skipped,
            makeup_days,
        })
    }
}

impl fmt::Display for Explanation {
    /// A short English text for users, consecutive days with the same reason
    /// grouped: "Due 2026-10-12 10:00 (Asia/Shanghai), 7 working days after …".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tz: chrono_tz::Tz = self.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M");
        write!(
            f,
            "Due {} ({}), {} after {}.",
            local(self.due),
            self.time_zone,
            self.span,
            local(self.start)
        )?;
        let mut groups: Vec<(NaiveDate, NaiveDate, &SkipReason)> = Vec::new();
        for day in &self.skipped {
            match groups.last_mut() {
                Some((_, last, reason)) if last.succ_opt() == Some(day.date) && same_kind(reason, &day.reason) => {
                    *last = day.date;
                }
                _ => groups.push((day.date, day.date, &day.reason)),
            }
        }
        if !groups.is_empty() {
            write!(f, " Skipped:")?;
            for (i, (first, last, reason)) in groups.iter().enumerate() {
                let sep = if i == 0 { " " } else { "; " };
                let what = match reason {
                    SkipReason::Weekend(_) => "weekend".to_string(),
                    SkipReason::Holiday(name) => format!("holiday {name}"),
                };
                if first == last {
                    write!(f, "{sep}{first} {what}")?;
                } else {
                    write!(f, "{sep}{first}..{last} {what}")?;
                }
            }
            write!(f, ".")?;
        }
        if !self.makeup_days.is_empty() {
            write!(f, " Make-up working days counted:")?;
            for (i, day) in self.makeup_days.iter().enumerate() {
                let sep = if i == 0 { " " } else { "; " };
                match &day.name {
                    Some(name) => write!(f, "{sep}{} {name}", day.date)?,
                    None => write!(f, "{sep}{}", day.date)?,
                }
            }
            write!(f, ".")?;
        }
        Ok(())
    }
}

/// Whether two skip reasons read the same in a grouped listing.
fn same_kind(a: &SkipReason, b: &SkipReason) -> bool {
    match (a, b) {
        (SkipReason::Weekend(_), SkipReason::Weekend(_)) => true,
        (SkipReason::Holiday(x), SkipReason::Holiday(y)) => x == y,
        _ => false,
    }
}
