//! Import and export of holidays and make-up working days as iCalendar (RFC 5545).
//!
//! Only the subset holiday feeds use is supported, parsed here rather than with
//! a dependency: `VEVENT`s with all-day `DTSTART` (`VALUE=DATE`, `YYYYMMDD`),
//! an optional `DTEND` (exclusive, as RFC 5545 says for dates) or `DURATION`
//! in days/weeks (`P3D`, `P1W`), `SUMMARY`, `CATEGORIES` and `STATUS`.
//! Timed events and `RRULE`/`RDATE` are rejected rather than misread: a
//! recurring or partial-day holiday would silently give wrong deadlines.
//! Cancelled events (`STATUS:CANCELLED`) are ignored, nested components such
//! as `VALARM` and `VTIMEZONE` are skipped.
//!
//! # Holiday or make-up working day?
//!
//! 1. `CATEGORIES` decides if it names a kind (case-insensitive):
//!    `WORKDAY`, `WORKING DAY`, `MAKEUP`, `MAKE-UP`, `MAKE-UP WORKING DAY`,
//!    `补班`, `上班` or `调休上班` mean a make-up working day;
//!    `HOLIDAY`, `PUBLIC HOLIDAY`, `假日`, `节假日` or `休` mean a holiday.
//! 2. Otherwise the `SUMMARY` decides: it is a make-up working day if it
//!    contains `补班`, `上班`, `(班)`, `（班）`, or (case-insensitive)
//!    `make-up`, `makeup`, `workday` or `working day`.
//! 3. Otherwise the event is a holiday.
//!
//! The `SUMMARY` becomes the day's name (a holiday without one is called
//! "Holiday"). A make-up day's own hours may be given as
//! `X-WORKING-HOURS:09:00-12:00,13:00-17:00`; [`to_ics`] writes it, so
//! export followed by import loses nothing.

use chrono::{Duration, NaiveDate};

use crate::error::{CalendarError, Result};
use crate::holidays::{SpecialDay, SpecialDays};
use crate::schedule::{DaySchedule, WorkInterval};

const MAKEUP_CATEGORIES: &[&str] = &[
    "WORKDAY",
    "WORKING DAY",
    "MAKEUP",
    "MAKE-UP",
    "MAKE-UP WORKING DAY",
    "补班",
    "上班",
    "调休上班",
];
const HOLIDAY_CATEGORIES: &[&str] = &["HOLIDAY", "PUBLIC HOLIDAY", "假日", "节假日", "休"];
const MAKEUP_SUMMARY_MARKS: &[&str] = &["补班", "上班", "(班)", "（班）"];
const MAKEUP_SUMMARY_WORDS: &[&str] = &["make-up", "makeup", "workday", "working day"];

/// Reads holidays and make-up working days from iCalendar text.
pub fn parse_ics(text: &str) -> Result<SpecialDays> {
    let mut days = SpecialDays::new();
    let mut stack: Vec<String> = Vec::new();
    let mut event: Option<Event> = None;
    for (line_no, line) in unfold(text) {
        if line.trim().is_empty() {
            continue;
        }
        let prop = Property::parse(&line).map_err(|m| ics_error(line_no, m))?;
        match prop.name.as_str() {
            "BEGIN" => {
                let component = prop.value.trim().to_ascii_uppercase();
                if component == "VEVENT" && stack.last().map(String::as_str) == Some("VCALENDAR") {
                    event = Some(Event::new(line_no));
                }
                stack.push(component);
            }
            "END" => {
                let component = prop.value.trim().to_ascii_uppercase();
                if stack.pop().as_deref() != Some(component.as_str()) {
                    return Err(ics_error(line_no, format!("unexpected END:{component}")));
                }
                if component == "VEVENT" && stack.last().map(String::as_str) == Some("VCALENDAR") {
                    if let Some(done) = event.take() {
                        done.add_to(&mut days, line_no)?;
                    }
                }
            }
            _ if stack.last().map(String::as_str) == Some("VEVENT") => {
                if let Some(ev) = event.as_mut() {
                    ev.set(prop, line_no)?;
                }
            }
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(ics_error(0, format!("missing END:{open}")));
    }
    Ok(days)
}

/// Writes holidays (consecutive dates with the same name as one event) and
/// make-up working days (one event per date) as an iCalendar document that
/// follows the convention [`parse_ics`] reads. Output is deterministic.
pub fn to_ics(days: &SpecialDays, calendar_name: &str) -> String {
    let mut out = String::new();
    let mut push = |line: String| fold_into(&mut out, &line);
    push("BEGIN:VCALENDAR".into());
    push("VERSION:2.0".into());
    push("PRODID:-//complaint-platform//calendar//EN".into());
    push("CALSCALE:GREGORIAN".into());
    push(format!("X-WR-CALNAME:{}", escape(calendar_name)));
    let mut events: Vec<(NaiveDate, Vec<String>)> = days
        .holiday_ranges()
        .into_iter()
        .map(|(name, first, last)| {
            let end = last.succ_opt().unwrap_or(last);
            (first, event_lines("holiday", first, end, Some(name), "HOLIDAY", None))
        })
        .collect();
    for (date, day) in days.iter() {
        if let SpecialDay::MakeupWorkday { name, hours } = day {
            let end = date.succ_opt().unwrap_or(date);
            let lines = event_lines("makeup", date, end, name.as_deref(), "WORKDAY", hours.as_ref());
            events.push((date, lines));
        }
    }
    events.sort_by_key(|(date, _)| *date);
    for line in events.into_iter().flat_map(|(_, lines)| lines) {
        push(line);
    }
    push("END:VCALENDAR".into());
    out
}

fn event_lines(
    kind: &str,
    start: NaiveDate,
    end: NaiveDate,
    name: Option<&str>,
    category: &str,
    hours: Option<&DaySchedule>,
) -> Vec<String> {
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:{kind}-{}@calendar", start.format("%Y%m%d")),
        // Fixed stamp keeps exports reproducible (RFC 5545 requires DTSTAMP).
        "DTSTAMP:20250101T000000Z".to_string(),
        format!("DTSTART;VALUE=DATE:{}", start.format("%Y%m%d")),
        format!("DTEND;VALUE=DATE:{}", end.format("%Y%m%d")),
    ];
    if let Some(name) = name {
        lines.push(format!("SUMMARY:{}", escape(name)));
    }
    lines.push(format!("CATEGORIES:{category}"));
    if let Some(hours) = hours {
        let list: Vec<String> = hours.intervals().iter().map(ToString::to_string).collect();
        lines.push(format!("X-WORKING-HOURS:{}", list.join(",")));
    }
    lines.push("TRANSP:TRANSPARENT".to_string());
    lines.push("END:VEVENT".to_string());
    lines
}

/// The parts of a VEVENT we use.
struct Event {
    first_line: usize,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    duration_days: Option<i64>,
    summary: Option<String>,
    categories: Vec<String>,
    hours: Option<DaySchedule>,
    cancelled: bool,
}

impl Event {
    fn new(first_line: usize) -> Self {
        Event {
            first_line,
            start: None,
            end: None,
            duration_days: None,
            summary: None,
            categories: Vec::new(),
            hours: None,
            cancelled: false,
        }
    }

    fn set(&mut self, prop: Property, line: usize) -> Result<()> {
        match prop.name.as_str() {
            "DTSTART" => self.start = Some(parse_date(&prop, line)?),
            "DTEND" => self.end = Some(parse_date(&prop, line)?),
            "DURATION" => self.duration_days = Some(parse_days(&prop.value, line)?),
            "SUMMARY" => self.summary = Some(unescape(&prop.value)),
            "CATEGORIES" => self
                .categories
                .extend(split_list(&prop.value).into_iter().map(|c| unescape(&c))),
            "STATUS" => self.cancelled = prop.value.trim().eq_ignore_ascii_case("CANCELLED"),
            "RRULE" | "RDATE" | "EXRULE" => return Err(ics_error(line, format!("{} is not supported", prop.name))),
            "X-WORKING-HOURS" => {
                let intervals = split_list(&prop.value)
                    .iter()
                    .map(|s| s.trim().parse::<WorkInterval>())
                    .collect::<Result<Vec<_>>>()
                    .map_err(|e| ics_error(line, e.to_string()))?;
                let label = format!("event at line {}", self.first_line);
                self.hours = Some(DaySchedule::new(intervals, &label)?);
            }
            _ => {}
        }
        Ok(())
    }

    fn is_makeup(&self, line: usize) -> Result<bool> {
        let has = |list: &[&str]| {
            self.categories
                .iter()
                .any(|c| list.iter().any(|k| c.trim().eq_ignore_ascii_case(k)))
        };
        match (has(MAKEUP_CATEGORIES), has(HOLIDAY_CATEGORIES)) {
            (true, true) => Err(ics_error(
                line,
                "CATEGORIES says both holiday and make-up working day".to_string(),
            )),
            (true, false) => Ok(true),
            (false, true) => Ok(false),
            (false, false) => {
                let summary = self.summary.as_deref().unwrap_or("");
                let lower = summary.to_lowercase();
                Ok(MAKEUP_SUMMARY_MARKS.iter().any(|m| summary.contains(m))
                    || MAKEUP_SUMMARY_WORDS.iter().any(|w| lower.contains(w)))
            }
        }
    }

    fn add_to(self, days: &mut SpecialDays, line: usize) -> Result<()> {
        if self.cancelled {
            return Ok(());
        }
        let start = self
            .start
            .ok_or_else(|| ics_error(self.first_line, "VEVENT without DTSTART".to_string()))?;
        let end = match (self.end, self.duration_days) {
            (Some(end), _) => end,
            (None, Some(n)) => start
                .checked_add_signed(Duration::days(n))
                .ok_or_else(|| ics_error(line, "DURATION out of range".to_string()))?,
            (None, None) => start.succ_opt().unwrap_or(start),
        };
        if end <= start {
            return Err(ics_error(
                self.first_line,
                format!("event ends ({end}) before it starts ({start})"),
            ));
        }
        let makeup = self.is_makeup(self.first_line)?;
        let last = end.pred_opt().unwrap_or(end);
        if makeup {
            for date in start.iter_days().take_while(|d| *d <= last) {
                days.insert(
                    date,
                    SpecialDay::MakeupWorkday {
                        name: self.summary.clone(),
                        hours: self.hours.clone(),
                    },
                )?;
            }
            Ok(())
        } else {
            let name = self.summary.as_deref().unwrap_or("Holiday");
            days.insert_holiday_range(name, start, last)
        }
    }
}

/// One content line: `NAME;PARAM=VALUE:value`.
struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

impl Property {
    fn parse(line: &str) -> std::result::Result<Property, String> {
        // The value starts after the first colon that is not inside a quoted parameter.
        let mut in_quotes = false;
        let colon = line
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    in_quotes = !in_quotes;
                }
                c == ':' && !in_quotes
            })
            .map(|(i, _)| i)
            .ok_or_else(|| format!("not a content line: {line:?}"))?;
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let mut parts = split_outside_quotes(head, ';').into_iter();
        let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
        if name.is_empty() {
            return Err(format!("content line without a name: {line:?}"));
        }
        let params = parts
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_string()),
                None => (p.trim().to_ascii_uppercase(), String::new()),
            })
            .collect();
        Ok(Property {
            name,
            params,
            value: value.to_string(),
        })
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Joins folded lines (CRLF or LF followed by a space or tab); yields each
/// logical line with the 1-based number of its first physical line.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, last))) => last.push_str(rest),
            _ => lines.push((i + 1, raw.to_string())),
        }
    }
    lines
}

/// Appends a content line, folded at 75 octets without splitting a character.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn parse_date(prop: &Property, line: usize) -> Result<NaiveDate> {
    let value = prop.value.trim();
    if prop.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE-TIME")) || value.contains('T') {
        return Err(ics_error(
            line,
            format!(
                "{} {value:?} has a time of day; only all-day dates (VALUE=DATE) are supported",
                prop.name
            ),
        ));
    }
    NaiveDate::parse_from_str(value, "%Y%m%d")
        .map_err(|_| ics_error(line, format!("{} {value:?} is not a YYYYMMDD date", prop.name)))
}

/// `P3D`, `P1W`, `P1W2D` → days; anything with a time part is rejected.
fn parse_days(value: &str, line: usize) -> Result<i64> {
    let bad = || {
        ics_error(
            line,
            format!("DURATION {value:?}: only whole days or weeks are supported"),
        )
    };
    let body = value.trim().strip_prefix('P').ok_or_else(bad)?;
    let (mut days, mut num) = (0i64, String::new());
    for c in body.chars() {
        match c {
            '0'..='9' => num.push(c),
            'W' | 'D' => {
                let n: i64 = num.parse().map_err(|_| bad())?;
                days += if c == 'W' { n * 7 } else { n };
                num.clear();
            }
            _ => return Err(bad()),
        }
    }
    if !num.is_empty() || days <= 0 {
        return Err(bad());
    }
    Ok(days)
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let (mut parts, mut cur, mut in_quotes) = (Vec::new(), String::new(), false);
    for c in s.chars() {
        if c == '"' {
            in_quotes = !in_quotes;
        }
        if c == sep && !in_quotes {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

/// Splits a TEXT list on commas that are not escaped (`\,`); items stay escaped.
fn split_list(value: &str) -> Vec<String> {
    let (mut items, mut cur, mut escaped) = (Vec::new(), String::new(), false);
    for c in value.chars() {
        if c == ',' && !escaped {
            items.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
        escaped = c == '\\' && !escaped;
    }
    items.push(cur);
    items
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

fn ics_error(line: usize, message: String) -> CalendarError {
    CalendarError::Ics { line, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_parses_params() {
        let lines = unfold("A:1\r\nSUMMARY:Long\r\n  text\r\nB;X=\"a:b\";VALUE=DATE:20261001\r\n");
        assert_eq!(lines[1], (2, "SUMMARY:Long text".to_string()));
        let p = Property::parse(&lines[2].1).unwrap();
        assert_eq!(p.name, "B");
        assert_eq!(p.param("X"), Some("a:b"));
        assert_eq!(p.param("VALUE"), Some("DATE"));
        assert_eq!(p.value, "20261001");
    }

    #[test]
    fn escapes_round_trip_and_lists_split() {
        let s = "a, b; c\\d\ne";
        assert_eq!(unescape(&escape(s)), s);
        assert_eq!(split_list("HOLIDAY,A\\,B"), vec!["HOLIDAY", "A\\,B"]);
    }

    #[test]
    fn durations_in_days() {
        assert_eq!(parse_days("P3D", 1).unwrap(), 3);
        assert_eq!(parse_days("P1W2D", 1).unwrap(), 9);
        assert!(parse_days("PT8H", 1).is_err());
        assert!(parse_days("P0D", 1).is_err());
    }

    #[test]
    fn folding_respects_utf8() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "国".repeat(40));
        fold_into(&mut out, &line);
        assert!(out.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(unfold(&out)[0].1, line);
    }
}
