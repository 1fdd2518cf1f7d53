//! Serde-friendly configuration of a site's calendar, usually written in TOML:
//!
//! ```toml
//! time_zone = "Asia/Shanghai"
//! base_calendar = "cn"            # optional: the built-in official calendar of mainland China
//! day_deadline = "same_time"      # or "end_of_day"; optional, default "same_time"
//! makeup_hours = ["09:00-12:00"]  # optional; default: the hours of a normal weekday
//!
//! [hours]                         # omitted days are days off
//! mon = ["08:30-12:00", "13:00-17:30"]
//! tue = ["08:30-12:00", "13:00-17:30"]
//!
//! [[holidays]]
//! name = "厂庆 Founders' Day"
//! start = "2026-06-01"
//! end = "2026-06-02"              # optional, inclusive
//!
//! [[makeup_days]]
//! date = "2026-06-06"
//! name = "补班 make-up working day"  # optional
//! hours = ["09:00-12:00"]          # optional
//! ```
//!
//! Dates may be strings (`"2026-06-01"`, also what JSON needs) or bare TOML
//! dates (`2026-06-01`). The site's own holidays and make-up days override the
//! base calendar on the same date.

use chrono::NaiveDate;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::calendar::{parse_time_zone, Calendar};
use crate::china;
use crate::error::{CalendarError, Result};
use crate::holidays::{SpecialDay, SpecialDays};
use crate::schedule::{DaySchedule, WeekSchedule, WorkInterval};
use crate::span::DayDeadline;

/// A site's calendar configuration; see the module documentation for the TOML form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// IANA time zone name, e.g. "Asia/Shanghai".
    pub time_zone: String,
    /// Working hours per weekday.
    #[serde(default)]
    pub hours: WeeklyHours,
    /// Hours of make-up working days that do not carry their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub makeup_hours: Option<Vec<WorkInterval>>,
    /// Where working-day deadlines land on their last day.
    #[serde(default)]
    pub day_deadline: DayDeadline,
    /// A built-in calendar to start from: `"cn"` (mainland China, 2025-2026).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_calendar: Option<String>,
    /// The site's own holidays.
    #[serde(default)]
    pub holidays: Vec<HolidayEntry>,
    /// The site's own make-up working days.
    #[serde(default)]
    pub makeup_days: Vec<MakeupDayEntry>,
    /// iCalendar files of holidays and make-up working days (e.g. a company's or a region's feed), read when
    /// the calendar is built; they override the base calendar, `holidays`/`makeup_days` override them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ics_files: Vec<std::path::PathBuf>,
}

/// Working intervals per weekday; a missing or empty list is a day off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    /// Monday.
    #[serde(default)]
    pub mon: Vec<WorkInterval>,
    /// Tuesday.
    #[serde(default)]
    pub tue: Vec<WorkInterval>,
    /// Wednesday.
    #[serde(default)]
    pub wed: Vec<WorkInterval>,
    /// Thursday.
    #[serde(default)]
    pub thu: Vec<WorkInterval>,
    /// Friday.
    #[serde(default)]
    pub fri: Vec<WorkInterval>,
    /// Saturday.
    #[serde(default)]
    pub sat: Vec<WorkInterval>,
    /// Sunday.
    #[serde(default)]
    pub sun: Vec<WorkInterval>,
}

/// One holiday or a range of holiday dates sharing a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayEntry {
    /// Shown to users, e.g. "国庆节 National Day".
    pub name: String,
    /// First date.
    #[serde(deserialize_with = "de_date")]
    pub start: NaiveDate,
    /// Last date, inclusive; defaults to `start`.
    #[serde(default, deserialize_with = "de_opt_date", skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
}

/// One make-up working day (调休).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakeupDayEntry {
    /// The date.
    #[serde(deserialize_with = "de_date")]
    pub date: NaiveDate,
    /// Optional label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Hours of that day, if not the site's make-up hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Vec<WorkInterval>>,
}

/// Holidays and make-up days alone: the format of the built-in data file
/// `data/cn-2025-2026.toml` and of shared holiday lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialDaysConfig {
    /// Holidays.
    #[serde(default)]
    pub holidays: Vec<HolidayEntry>,
    /// Make-up working days.
    #[serde(default)]
    pub makeup_days: Vec<MakeupDayEntry>,
}

impl SpecialDaysConfig {
    /// Builds the set, rejecting a date declared twice.
    pub fn build(&self) -> Result<SpecialDays> {
        build_special_days(&self.holidays, &self.makeup_days)
    }
}

impl SpecialDays {
    /// Parses the TOML form of [`SpecialDaysConfig`].
    pub fn from_toml_str(text: &str) -> Result<SpecialDays> {
        toml::from_str::<SpecialDaysConfig>(text)
            .map_err(|e| CalendarError::Config(e.to_string()))?
            .build()
    }
}

impl SiteConfig {
    /// Parses a TOML document.
    pub fn from_toml_str(text: &str) -> Result<SiteConfig> {
        toml::from_str(text).map_err(|e| CalendarError::Config(e.to_string()))
    }

    /// Validates the configuration and builds the calendar.
    pub fn build(&self) -> Result<Calendar> {
        let tz = parse_time_zone(&self.time_zone)?;
        let h = &self.hours;
        let mut week = WeekSchedule::closed();
        for (day, intervals, label) in [
            (chrono::Weekday::Mon, &h.mon, "mon"),
            (chrono::Weekday::Tue, &h.tue, "tue"),
            (chrono::Weekday::Wed, &h.wed, "wed"),
            (chrono::Weekday::Thu, &h.thu, "thu"),
            (chrono::Weekday::Fri, &h.fri, "fri"),
            (chrono::Weekday::Sat, &h.sat, "sat"),
            (chrono::Weekday::Sun, &h.sun, "sun"),
        ] {
            week.set(day, DaySchedule::new(intervals.clone(), label)?);
        }
        let mut special = match self.base_calendar.as_deref() {
            None => SpecialDays::new(),
            Some("cn") => china::special_days(),
            Some(other) => return Err(CalendarError::UnknownBaseCalendar(other.to_string())),
        };
        for path in &self.ics_files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CalendarError::Config(format!("ics file {}: {e}", path.display())))?;
            let days = crate::ics::parse_ics(&text)
                .map_err(|e| CalendarError::Config(format!("ics file {}: {e}", path.display())))?;
            special.merge_over(&days);
        }
        special.merge_over(&build_special_days(&self.holidays, &self.makeup_days)?);
        let mut calendar = Calendar::new(tz, week, special)?.with_day_deadline(self.day_deadline);
        if let Some(hours) = &self.makeup_hours {
            calendar = calendar.with_makeup_hours(DaySchedule::new(hours.clone(), "make-up days")?)?;
        }
        Ok(calendar)
    }
}

impl Calendar {
    /// Parses a TOML [`SiteConfig`] and builds the calendar.
    pub fn from_toml_str(text: &str) -> Result<Calendar> {
        SiteConfig::from_toml_str(text)?.build()
    }

    /// Builds the calendar from a configuration (same as [`SiteConfig::build`]).
    pub fn from_config(config: &SiteConfig) -> Result<Calendar> {
        config.build()
    }
}

fn build_special_days(holidays: &[HolidayEntry], makeup: &[MakeupDayEntry]) -> Result<SpecialDays> {
    let mut days = SpecialDays::new();
    for h in holidays {
        days.insert_holiday_range(&h.name, h.start, h.end.unwrap_or(h.start))?;
    }
    for m in makeup {
        let hours = match &m.hours {
            Some(h) => Some(DaySchedule::new(h.clone(), &m.date.to_string())?),
            None => None,
        };
        days.insert(
            m.date,
            SpecialDay::MakeupWorkday {
                name: m.name.clone(),
                hours,
            },
        )?;
    }
    Ok(days)
}

/// Accepts `"2026-10-01"` or a bare TOML date `2026-10-01`.
fn de_date<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<NaiveDate, D::Error> {
    d.deserialize_any(DateVisitor)
}

fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<NaiveDate>, D::Error> {
    de_date(d).map(Some)
}

struct DateVisitor;

impl<'de> Visitor<'de> for DateVisitor {
    type Value = NaiveDate;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a date such as \"2026-10-01\"")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<NaiveDate, E> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| E::custom(format!("invalid date {s:?}, expected YYYY-MM-DD")))
    }

    /// toml hands its native date values over as a one-entry map.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<NaiveDate, A::Error> {
        let Some((_, value)) = map.next_entry::<String, String>()? else {
            return Err(de::Error::custom("expected a date"));
        };
        self.visit_str(&value)
    }
}
