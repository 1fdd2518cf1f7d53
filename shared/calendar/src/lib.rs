//! Deadlines in working time for the complaint platform.
//!
//! A [`Calendar`] describes one site: its IANA time zone, working hours per
//! weekday (several intervals a day, so lunch breaks are not working time),
//! public holidays and make-up working days (调休). It is built from a
//! [`SiteConfig`] (TOML or any serde format) or in code, can import holidays
//! from iCalendar ([`ics::parse_ics`]), and ships the official calendar of
//! mainland China for 2025-2026 ([`china`]).
//!
//! All operations take and return `DateTime<Utc>` and compute in the site's
//! time zone. [`Calendar::add`] with a [`Span`] is the single entry point;
//! [`Calendar::explain`] also says which days were skipped and why.
//!
//! ```
//! use calendar::{Calendar, Span};
//! use chrono::{TimeZone, Utc};
//!
//! let cal = Calendar::from_toml_str(r#"
//!     time_zone = "Asia/Shanghai"
//!     base_calendar = "cn"
//!     [hours]
//!     mon = ["08:30-12:00", "13:00-17:30"]
//!     tue = ["08:30-12:00", "13:00-17:30"]
//!     wed = ["08:30-12:00", "13:00-17:30"]
//!     thu = ["08:30-12:00", "13:00-17:30"]
//!     fri = ["08:30-12:00", "13:00-17:30"]
//! "#).unwrap();
//! // Friday 2026-02-13 10:00 in Shanghai is 02:00 UTC.
//! let start = Utc.with_ymd_and_hms(2026, 2, 13, 2, 0, 0).unwrap();
//! let due = cal.add(start, Span::WorkingDays(2)).unwrap();
//! // Saturday 02-14 is a make-up working day, 02-15..02-23 the Spring Festival.
//! assert_eq!(due, Utc.with_ymd_and_hms(2026, 2, 24, 2, 0, 0).unwrap());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod arith;
mod calendar;
pub mod china;
mod config;
mod error;
mod explain;
mod holidays;
pub mod ics;
mod localtime;
pub mod period;
mod schedule;
mod span;

pub use arith::{HORIZON_DAYS, MAX_IDLE_DAYS};
pub use calendar::{parse_time_zone, Calendar, DayKind, MakeupInfo};
pub use config::{HolidayEntry, MakeupDayEntry, SiteConfig, SpecialDaysConfig, WeeklyHours};
pub use error::{CalendarError, Result};
pub use explain::{CountedMakeupDay, Explanation, SkipReason, SkippedDay};
pub use holidays::{SpecialDay, SpecialDays};
pub use schedule::{DaySchedule, TimeOfDay, WeekSchedule, WorkInterval};
pub use span::{DayDeadline, Span};

/// Re-exported so callers name the same time-zone type.
pub use chrono_tz::Tz;
