//! No SMS to customers at night: a daily window (local time in the customer's/site's time zone) in
//! which messages wait until the window closes. Pure functions of a clock value so they can be tested.
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// `start`–`end` local time, e.g. 21:00–08:00 (a window may wrap midnight; `start == end` means none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "QuietHoursConfig")]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

#[derive(Deserialize)]
struct QuietHoursConfig {
    start: String,
    end: String,
}

impl TryFrom<QuietHoursConfig> for QuietHours {
    type Error = String;
    fn try_from(c: QuietHoursConfig) -> Result<Self, String> {
        let parse = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").map_err(|e| format!("quiet hours `{s}`: {e}"));
        Ok(Self {
            start: parse(&c.start)?,
            end: parse(&c.end)?,
        })
    }
}

impl QuietHours {
    /// Whether local time-of-day `t` falls inside the quiet window.
    pub fn contains(&self, t: NaiveTime) -> bool {
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => t >= self.start && t < self.end,
            // Wraps midnight: 21:00–08:00 is quiet from 21:00 to 23:59 and from 00:00 to 07:59.
            std::cmp::Ordering::Greater => t >= self.start || t < self.end,
        }
    }

    /// `None` when a message may go at `now`; otherwise the instant the window closes (UTC).
    pub fn hold_until(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&tz);
        if !self.contains(local.time()) {
            return None;
        }
        // The end on the same local day, or the next day when it has already passed (before midnight).
        let mut day = local.date_naive();
        if local.time() >= self.end {
            day += Duration::days(1);
        }
        let end = day.and_time(self.end);
        // A DST gap has no such local time: take the earliest valid instant after it.
        let opens = tz
            .from_local_datetime(&end)
            .earliest()
            .or_else(|| tz.from_local_datetime(&(end + Duration::hours(1))).earliest())?;
        Some(opens.with_timezone(&Utc))
    }
}

/// An IANA time zone (`Asia/Shanghai`), checked when the configuration is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Zone(pub Tz);

impl TryFrom<String> for Zone {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        name.parse::<Tz>()
            .map(Zone)
            .map_err(|e| format!("time zone `{name}`: {e}"))
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night() -> QuietHours {
        QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_window_over_midnight_holds_evening_and_early_morning_messages_until_it_closes() {
        let shanghai: Tz = "Asia/Shanghai".parse().unwrap();
        // 22:30 in Shanghai (14:30 UTC) waits until 08:00 the next morning (00:00 UTC).
        assert_eq!(
            night().hold_until(utc("2026-11-23T14:30:00Z"), shanghai),
            Some(utc("2026-11-24T00:00:00Z"))
        );
        // 03:00 in Shanghai (19:00 UTC the day before) waits until 08:00 the same local day.
        assert_eq!(
            night().hold_until(utc("2026-11-22T19:00:00Z"), shanghai),
            Some(utc("2026-11-23T00:00:00Z"))
        );
        // 08:00 sharp and 20:59 go at once; 21:00 sharp is quiet.
        assert_eq!(night().hold_until(utc("2026-11-23T00:00:00Z"), shanghai), None);
        assert_eq!(night().hold_until(utc("2026-11-23T12:59:00Z"), shanghai), None);
        assert!(night().hold_until(utc("2026-11-23T13:00:00Z"), shanghai).is_some());
    }

    #[test]
    fn the_time_zone_decides_and_a_same_day_window_and_an_empty_one_work() {
        let london: Tz = "Europe/London".parse().unwrap();
        // 14:30 UTC is quiet in Shanghai but the middle of the afternoon in London.
        assert_eq!(night().hold_until(utc("2026-11-23T14:30:00Z"), london), None);
        let lunch = QuietHours {
            start: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(13, 30, 0).unwrap(),
        };
        assert_eq!(
            lunch.hold_until(utc("2026-11-23T12:10:00Z"), london),
            Some(utc("2026-11-23T13:30:00Z"))
        );
        assert!(!lunch.contains(NaiveTime::from_hms_opt(13, 30, 0).unwrap()));
        let none = QuietHours {
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        };
        assert_eq!(none.hold_until(utc("2026-11-23T09:00:00Z"), london), None);
    }

    #[test]
    fn a_window_ending_in_a_dst_gap_opens_after_the_gap() {
        // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist that day.
        let ny: Tz = "America/New_York".parse().unwrap();
        let q = QuietHours {
            start: NaiveTime::from_hms_opt(1, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
        };
        // 01:30 EST = 06:30 UTC; the window closes at 03:30 EDT = 07:30 UTC.
        assert_eq!(
            q.hold_until(utc("2026-03-08T06:30:00Z"), ny),
            Some(utc("2026-03-08T07:30:00Z"))
        );
    }

    #[test]
    fn configuration_is_parsed_and_checked() {
        let q: QuietHours = serde_json::from_value(serde_json::json!({"start": "21:00", "end": "08:00"})).unwrap();
        assert_eq!(q, night());
        assert!(serde_json::from_value::<QuietHours>(serde_json::json!({"start": "25:00", "end": "08:00"})).is_err());
        assert!(Zone::try_from("Mars/Olympus".to_owned()).is_err());
        assert_eq!(
            Zone::try_from("Asia/Shanghai".to_owned()).unwrap().to_string(),
            "Asia/Shanghai"
        );
    }
}
