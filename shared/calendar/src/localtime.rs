//! Turning a local date and wall-clock time into an instant, with a fixed rule
//! for the two daylight-saving oddities, so every operation agrees on them:
//!
//! * a wall-clock time that occurs twice (clocks set back) means the earlier instant;
//! * a wall-clock time that does not exist (clocks set forward) is read with the
//!   UTC offset in force before the change, i.e. it is moved forward by the
//!   length of the gap (02:30 becomes 03:30 when clocks jump from 02:00 to 03:00).

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::schedule::TimeOfDay;

/// The instant at which the local wall clock shows `local` (see the module rules).
pub(crate) fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earliest, _) => earliest.with_timezone(&Utc),
        LocalResult::None => {
            // Offset in force a day earlier, i.e. before the transition.
            let before = tz
                .offset_from_utc_datetime(&(local - Duration::days(1)))
                .fix()
                .local_minus_utc();
            Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(before))))
        }
    }
}

/// The instant of `time` on local `date`; 24:00 is midnight of the next day.
/// `None` only at the very end of chrono's date range.
pub(crate) fn instant(tz: Tz, date: NaiveDate, time: TimeOfDay) -> Option<DateTime<Utc>> {
    let secs = time.seconds_from_midnight();
    let (date, secs) = if secs == TimeOfDay::END_OF_DAY.seconds_from_midnight() {
        (date.succ_opt()?, 0)
    } else {
        (date, secs)
    };
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?;
    Some(resolve(tz, date.and_time(t)))
}

/// The local calendar date of an instant.
pub(crate) fn local_date(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ndt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn gap_moves_forward_and_overlap_takes_earliest() {
        let ny = chrono_tz::America::New_York;
        // 2026-03-08 02:30 does not exist in New York (02:00 -> 03:00, EST -> EDT).
        assert_eq!(
            resolve(ny, ndt("2026-03-08 02:30")).to_rfc3339(),
            "2026-03-08T07:30:00+00:00" // 03:30 EDT
        );
        // 2026-11-01 01:30 happens twice; the first one is EDT.
        assert_eq!(
            resolve(ny, ndt("2026-11-01 01:30")).to_rfc3339(),
            "2026-11-01T05:30:00+00:00"
        );
    }

    #[test]
    fn end_of_day_is_next_midnight() {
        let sh = chrono_tz::Asia::Shanghai;
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(
            instant(sh, d, TimeOfDay::END_OF_DAY).unwrap().to_rfc3339(),
            "2026-01-01T16:00:00+00:00"
        );
    }
}
