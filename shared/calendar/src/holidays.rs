//! Dates that break the weekly rhythm: public holidays and make-up working days (调休).
//!
//! Kept apart from the weekly hours because they come from different sources
//! (State Council notices, iCalendar feeds, site configuration) and are merged.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::error::{CalendarError, Result};
use crate::schedule::DaySchedule;

/// What a special date is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpecialDay {
    /// A public holiday: no working time, whatever the weekday.
    Holiday {
        /// Shown to users when a deadline skips the day, e.g. "国庆节 National Day".
        name: String,
    },
    /// A make-up working day (调休): a day that is worked although its weekday is
    /// normally off (usually a Saturday or Sunday).
    MakeupWorkday {
        /// Optional label, e.g. "国庆节补班 National Day make-up working day".
        name: Option<String>,
        /// Hours of that day; `None` means the site's make-up hours (by default
        /// those of a normal weekday).
        hours: Option<DaySchedule>,
    },
}

impl SpecialDay {
    /// Whether this is a holiday.
    pub fn is_holiday(&self) -> bool {
        matches!(self, SpecialDay::Holiday { .. })
    }

    /// The holiday or make-up day name, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            SpecialDay::Holiday { name } => Some(name),
            SpecialDay::MakeupWorkday { name, .. } => name.as_deref(),
        }
    }

    fn describe(&self) -> String {
        match self {
            SpecialDay::Holiday { name } => format!("holiday {name:?}"),
            SpecialDay::MakeupWorkday { name: Some(n), .. } => format!("make-up day {n:?}"),
            SpecialDay::MakeupWorkday { name: None, .. } => "make-up day".to_string(),
        }
    }
}

/// A set of special dates, at most one declaration per date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialDays(BTreeMap<NaiveDate, SpecialDay>);

impl SpecialDays {
    /// No special dates.
    pub fn new() -> Self {
        SpecialDays::default()
    }

    /// Declares a date; a second declaration of the same date is an error
    /// because within one source it is almost always a typo.
    pub fn insert(&mut self, date: NaiveDate, day: SpecialDay) -> Result<()> {
        if let Some(existing) = self.0.get(&date) {
            return Err(CalendarError::ConflictingDay {
                date,
                first: existing.describe(),
                second: day.describe(),
            });
        }
        self.0.insert(date, day);
        Ok(())
    }

    /// Declares every date of `start..=end` a holiday called `name`.
    pub fn insert_holiday_range(&mut self, name: &str, start: NaiveDate, end: NaiveDate) -> Result<()> {
        if end < start {
            return Err(CalendarError::InvalidDateRange {
                name: name.to_string(),
                start,
                end,
            });
        }
        for date in start.iter_days().take_while(|d| *d <= end) {
            self.insert(date, SpecialDay::Holiday { name: name.to_string() })?;
        }
        Ok(())
    }

    /// Adds `other`'s dates, which replace ours where both declare a date:
    /// a site's own configuration overrides a built-in calendar.
    pub fn merge_over(&mut self, other: &SpecialDays) {
        for (date, day) in &other.0 {
            self.0.insert(*date, day.clone());
        }
    }

    /// The declaration for a date, if any.
    pub fn get(&self, date: NaiveDate) -> Option<&SpecialDay> {
        self.0.get(&date)
    }

    /// The holiday name, if the date is a holiday.
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        match self.0.get(&date) {
            Some(SpecialDay::Holiday { name }) => Some(name),
            _ => None,
        }
    }

    /// Whether the date is a make-up working day.
    pub fn is_makeup_workday(&self, date: NaiveDate) -> bool {
        matches!(self.0.get(&date), Some(SpecialDay::MakeupWorkday { .. }))
    }

    /// All declarations in date order.
    pub fn iter(&self) -> impl Iterator<Item = (NaiveDate, &SpecialDay)> {
        self.0.iter().map(|(d, s)| (*d, s))
    }

    /// Number of declared dates.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no date is declared.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether any make-up working day is declared.
    pub fn has_makeup_workdays(&self) -> bool {
        self.0.values().any(|d| !d.is_holiday())
    }

    /// Consecutive holiday dates with the same name, as `(name, first, last)`:
    /// the compact form used when exporting to iCalendar.
    pub fn holiday_ranges(&self) -> Vec<(&str, NaiveDate, NaiveDate)> {
        let mut ranges: Vec<(&str, NaiveDate, NaiveDate)> = Vec::new();
        for (date, day) in &self.0 {
            let SpecialDay::Holiday { name } = day else {
                continue;
            };
            match ranges.last_mut() {
                Some((n, _, last)) if *n == name.as_str() && last.succ_opt() == Some(*date) => {
                    *last = *date;
                }
                _ => ranges.push((name, *date, *date)),
            }
        }
        ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_expand_and_compact() {
        let mut days = SpecialDays::new();
        days.insert_holiday_range("A", d("2026-10-01"), d("2026-10-03"))
            .unwrap();
        days.insert_holiday_range("B", d("2026-10-04"), d("2026-10-04"))
            .unwrap();
        days.insert(
            d("2026-10-10"),
            SpecialDay::MakeupWorkday {
                name: None,
                hours: None,
            },
        )
        .unwrap();
        assert_eq!(days.len(), 5);
        assert_eq!(days.holiday(d("2026-10-02")), Some("A"));
        assert!(days.is_makeup_workday(d("2026-10-10")));
        assert_eq!(
            days.holiday_ranges(),
            vec![
                ("A", d("2026-10-01"), d("2026-10-03")),
                ("B", d("2026-10-04"), d("2026-10-04"))
            ]
        );
    }

    #[test]
    fn conflicts_and_bad_ranges_are_errors() {
        let mut days = SpecialDays::new();
        days.insert_holiday_range("A", d("2026-10-01"), d("2026-10-02"))
            .unwrap();
        let err = days
            .insert(
                d("2026-10-02"),
                SpecialDay::MakeupWorkday {
                    name: None,
                    hours: None,
                },
            )
            .unwrap_err();
        assert!(matches!(err, CalendarError::ConflictingDay { .. }));
        assert!(matches!(
            days.insert_holiday_range("B", d("2026-10-05"), d("2026-10-04")),
            Err(CalendarError::InvalidDateRange { .. })
        ));
    }

    #[test]
    fn merge_over_lets_the_site_win() {
        let mut base = SpecialDays::new();
        base.insert_holiday_range("A", d("2026-10-01"), d("2026-10-02"))
            .unwrap();
        let mut site = SpecialDays::new();
        site.insert(
            d("2026-10-02"),
            SpecialDay::MakeupWorkday {
                name: Some("open".into()),
                hours: None,
            },
        )
        .unwrap();
        base.merge_over(&site);
        assert_eq!(base.holiday(d("2026-10-01")), Some("A"));
        assert!(base.is_makeup_workday(d("2026-10-02")));
    }
}
