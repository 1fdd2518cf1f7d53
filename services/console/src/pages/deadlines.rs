//! A case's deadlines in the user's language, from the scheduler's structured explanation
//! (`GET /api/v1/cases/{id}/deadlines`): the policy, the non-working days skipped, make-up days
//! counted, pauses, extensions and recounts, and where the clock stands. The scheduler's own
//! `summary` is one English paragraph; it is never shown.
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::labels::{label, local_in, say};
use crate::i18n::Lang;

/// The clock's name (`first_reply` → 首次答复 / First reply).
pub fn clock_name(lang: Lang, clock: &str) -> String {
    label(lang, "clock_", clock)
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()?.parse().ok()
}

/// `{"working_days": 7}` → 7个工作日 / 7 working days.
pub fn span_text(lang: Lang, span: &Value) -> String {
    let Some((unit, n)) = span.as_object().and_then(|o| o.iter().next()) else {
        return "—".into();
    };
    let n = n.as_u64().unwrap_or(0);
    let unit = label(lang, "span_", unit);
    match lang {
        Lang::ZhCn => format!("{n}{unit}"),
        Lang::En => format!("{n} {unit}"),
    }
}

/// 3 h 20 min / 3小时20分钟.
fn duration(lang: Lang, seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (h, m) = (minutes / 60, minutes % 60);
    say(lang, "dl_duration", &[("h", &h.to_string()), ("m", &m.to_string())])
}

/// A holiday's name in `lang`: the calendar names them bilingually ("国庆节 National Day").
pub fn holiday_name(lang: Lang, name: &str) -> String {
    let split = name
        .char_indices()
        .find(|(_, c)| c.is_ascii_alphabetic())
        .map(|(i, _)| i)
        .filter(|i| *i > 0 && !name[..*i].is_ascii());
    match (split, lang) {
        (Some(i), Lang::ZhCn) => name[..i].trim().to_owned(),
        (Some(i), Lang::En) => name[i..].trim().to_owned(),
        (None, _) => name.trim().to_owned(),
    }
}

/// What a skipped day is called: the holiday's name, or "weekend".
fn skip_reason(lang: Lang, reason: &Value) -> String {
    match reason.get("holiday").and_then(Value::as_str) {
        Some(name) => holiday_name(lang, name),
        None => lang.text("dl_weekend"),
    }
}

/// Consecutive skipped days with the same reason as one range: "2026-10-01 – 2026-10-07 National Day".
fn skipped_ranges(lang: Lang, skipped: &[Value]) -> Vec<String> {
    let mut days: Vec<(NaiveDate, String)> = skipped
        .iter()
        .filter_map(|s| Some((s["date"].as_str()?.parse().ok()?, skip_reason(lang, &s["reason"]))))
        .collect();
    days.sort();
    let mut ranges: Vec<(NaiveDate, NaiveDate, String)> = Vec::new();
    for (date, reason) in days {
        match ranges.last_mut() {
            Some((_, end, r)) if *r == reason && end.succ_opt() == Some(date) => *end = date,
            _ => ranges.push((date, date, reason)),
        }
    }
    ranges
        .into_iter()
        .map(|(start, end, reason)| {
            if start == end {
                format!("{start} {reason}")
            } else {
                say(
                    lang,
                    "dl_range",
                    &[
                        ("from", &start.to_string()),
                        ("to", &end.to_string()),
                        ("what", &reason),
                    ],
                )
            }
        })
        .collect()
}

/// Where the clock stands, in a few words.
pub fn state_text(lang: Lang, state: &Value, tz: chrono_tz::Tz) -> String {
    let level = state["level"].as_u64().unwrap_or(0).to_string();
    let at = time(&state["at"]).map(|t| local_in(tz, &t)).unwrap_or_default();
    match state["kind"].as_str().unwrap_or("") {
        "running" => lang.text("dl_state_running"),
        "warned" => lang.text("dl_state_warned"),
        "paused" => lang.text("dl_state_paused"),
        "breached" if level == "0" => lang.text("dl_state_breached"),
        "breached" => say(lang, "dl_state_escalated", &[("level", &level)]),
        "met" => say(lang, "dl_state_met", &[("at", &at)]),
        "breached_stopped" => say(lang, "dl_state_late", &[("at", &at), ("level", &level)]),
        other => label(lang, "clockstate_", other),
    }
}

/// The explanation of one clock, sentence by sentence.
pub fn explain(lang: Lang, d: &Value, fallback_tz: chrono_tz::Tz) -> Vec<String> {
    let tz: chrono_tz::Tz = d["time_zone"]
        .as_str()
        .and_then(|z| z.parse().ok())
        .unwrap_or(fallback_tz);
    let local = |v: &Value| time(v).map(|t| local_in(tz, &t)).unwrap_or_else(|| "—".into());
    let event = |v: &Value| {
        let code = v.as_str().unwrap_or("");
        label(lang, "clockevent_", code.strip_prefix("case.").unwrap_or(code))
    };
    let mut lines = vec![say(
        lang,
        "dl_policy",
        &[
            ("span", &span_text(lang, &d["length"])),
            ("start", &event(&d["start_event"])),
            ("stop", &event(&d["stop_event"])),
            ("from", &local(&d["start"])),
        ],
    )];
    let skipped = skipped_ranges(lang, d["skipped"].as_array().map(Vec::as_slice).unwrap_or(&[]));
    if !skipped.is_empty() {
        lines.push(say(
            lang,
            "dl_skipped",
            &[("days", &skipped.join(lang.text("dl_list_sep").as_str()))],
        ));
    }
    let makeup: Vec<String> = d["makeup_days"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["date"].as_str().map(str::to_owned))
        .collect();
    if !makeup.is_empty() {
        lines.push(say(
            lang,
            "dl_makeup",
            &[("days", &makeup.join(lang.text("dl_list_sep").as_str()))],
        ));
    }
    let clock_hours = d["length"].get("clock_hours").is_some();
    for p in d["pauses"].as_array().into_iter().flatten() {
        let from = local(&p["from"]);
        if p["to"].is_null() {
            lines.push(say(lang, "dl_paused_since", &[("from", &from)]));
            continue;
        }
        let seconds = if clock_hours {
            p["elapsed_seconds"].as_i64()
        } else {
            p["working_seconds"].as_i64()
        };
        let key = if p["moves_due"].as_bool().unwrap_or(true) {
            "dl_paused"
        } else {
            "dl_paused_after_breach"
        };
        lines.push(say(
            lang,
            key,
            &[
                ("from", &from),
                ("to", &local(&p["to"])),
                ("amount", &duration(lang, seconds.unwrap_or(0))),
            ],
        ));
    }
    for h in d["history"].as_array().into_iter().flatten() {
        let (at, previous, new) = (local(&h["at"]), local(&h["previous_due"]), local(&h["new_due"]));
        match h["kind"].as_str() {
            Some("extended") => lines.push(say(
                lang,
                "dl_extended",
                &[
                    ("at", &at),
                    ("by", h["by"].as_str().unwrap_or("—")),
                    ("due", &new),
                    ("reason", h["reason"].as_str().unwrap_or("")),
                ],
            )),
            _ => lines.push(say(
                lang,
                "dl_recounted",
                &[
                    ("at", &at),
                    ("before", &span_text(lang, &h["previous_policy"]["length"])),
                    ("after", &span_text(lang, &h["new_policy"]["length"])),
                    ("previous", &previous),
                    ("due", &new),
                ],
            )),
        }
    }
    if matches!(d["state"]["kind"].as_str(), Some("running")) {
        lines.push(say(lang, "dl_warning_at", &[("at", &local(&d["warning_at"]))]));
    }
    lines.push(say(
        lang,
        "dl_now",
        &[
            ("due", &local(&d["due"])),
            ("zone", d["time_zone"].as_str().unwrap_or(tz.name())),
            ("state", &state_text(lang, &d["state"], tz)),
        ],
    ));
    lines
}

fn level_text(lang: Lang, level: Option<u64>) -> Value {
    match level {
        Some(l) if l > 0 => json!(say(lang, "dl_level", &[("level", &l.to_string())])),
        _ => Value::Null,
    }
}

/// One row per clock, as the case page shows it.
pub fn rows(lang: Lang, deadlines: &[Value], tz: chrono_tz::Tz) -> Vec<Value> {
    deadlines
        .iter()
        .map(|d| {
            let clock = d["clock"].as_str().unwrap_or("");
            let state = d["state"]["kind"].as_str().unwrap_or("");
            let level = d["escalation_level"].as_u64().or_else(|| d["state"]["level"].as_u64());
            json!({
                "clock": clock, "name": clock_name(lang, clock),
                "due": time(&d["due"]).map(|t| local_in(tz, &t)),
                "state": state, "state_label": label(lang, "clockstate_", state),
                "level": level_text(lang, level),
                "lines": explain(lang, d, tz),
            })
        })
        .collect()
}

/// Rows from triage's own projection of the clocks (`deadlines` in the case detail), for when the
/// scheduler cannot explain them: due time, state and level, without the explanation.
pub fn rows_from_case(lang: Lang, deadlines: &[Value], tz: chrono_tz::Tz) -> Vec<Value> {
    deadlines
        .iter()
        .map(|d| {
            let clock = d["clock"].as_str().unwrap_or("");
            let state = d["status"].as_str().unwrap_or("");
            json!({
                "clock": clock, "name": clock_name(lang, clock),
                "due": time(&d["due_at"]).map(|t| local_in(tz, &t)),
                "state": state, "state_label": label(lang, "clockstate_", state),
                "level": level_text(lang, d["level"].as_u64()), "lines": [],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    /// The scheduler's explanation of a 7-working-day clock across the National Day holidays,
    /// paused once and extended once (the shape `ClockExplanation` serialises to).
    fn explanation() -> Value {
        json!({
            "clock": "eight_d_reply", "start_event": "case.opened", "stop_event": "case.eight_d_replied",
            "length": {"working_days": 7}, "ladder": "quality", "start": "2026-09-24T02:00:00Z",
            "time_zone": "Asia/Shanghai", "policy_due": "2026-10-12T02:00:00Z",
            "skipped": [
                {"date": "2026-09-26", "reason": {"weekend": "Sat"}},
                {"date": "2026-09-27", "reason": {"weekend": "Sun"}},
                {"date": "2026-10-01", "reason": {"holiday": "国庆节 National Day"}},
                {"date": "2026-10-02", "reason": {"holiday": "国庆节 National Day"}},
                {"date": "2026-10-03", "reason": {"holiday": "国庆节 National Day"}}
            ],
            "makeup_days": [{"date": "2026-10-10", "name": null}],
            "pauses": [{"from": "2026-09-25T02:00:00Z", "to": "2026-09-25T05:20:00Z", "working_seconds": 12000,
                        "elapsed_seconds": 12000, "moves_due": true}],
            "history": [{"at": "2026-10-09T01:00:00Z", "previous_due": "2026-10-12T05:20:00Z",
                         "new_due": "2026-10-14T09:00:00Z", "kind": "extended", "reason": "lab test", "by": "qe1"}],
            "warning_at": "2026-10-09T07:48:00Z", "due": "2026-10-14T09:00:00Z",
            "state": {"kind": "breached", "level": 2}, "escalation_level": 2, "next": null, "fired": [],
            "summary": "eight_d_reply: 7 working days … Now due 2026-10-14 17:00 (Asia/Shanghai); breached."
        })
    }

    #[test]
    fn the_explanation_is_in_chinese_on_a_chinese_page() {
        let lines = explain(Lang::ZhCn, &explanation(), SH);
        let all = lines.join("\n");
        assert!(all.contains("7个工作日"), "{all}");
        assert!(all.contains("2026-10-01 至 2026-10-03 国庆节"), "{all}");
        assert!(all.contains("2026-09-26 至 2026-09-27 周末"), "{all}");
        assert!(all.contains("2026-10-10"), "make-up day: {all}");
        assert!(all.contains("3小时20分钟"), "the pause moved the due time: {all}");
        assert!(
            all.contains("qe1") && all.contains("lab test") && all.contains("2026-10-14 17:00"),
            "{all}"
        );
        assert!(all.contains("第 2 级"), "{all}");
        assert!(
            !all.contains("National Day") && !all.contains("Now due") && !all.contains("working day"),
            "{all}"
        );
        let rows = rows(Lang::ZhCn, &[explanation()], SH);
        assert_eq!(rows[0]["name"], Lang::ZhCn.text("clock_eight_d_reply"));
        assert_eq!(rows[0]["due"], "2026-10-14 17:00");
    }

    #[test]
    fn the_explanation_is_in_english_on_an_english_page() {
        let all = explain(Lang::En, &explanation(), SH).join("\n");
        assert!(all.contains("7 working days"), "{all}");
        assert!(all.contains("2026-10-01 – 2026-10-03 National Day"), "{all}");
        assert!(!all.contains("国庆节"), "{all}");
        assert!(all.contains("3 h 20 min"), "{all}");
        assert!(all.contains("escalated to level 2"), "{all}");
    }

    #[test]
    fn every_configured_clock_has_a_name_in_both_languages() {
        for clock in [
            "registration",
            "first_reply",
            "containment",
            "service_decision",
            "adverse_reaction_answer",
            "concern_letter",
            "handling_result",
            "eight_d_reply",
            "handling_plan",
            "tracking",
        ] {
            for lang in [Lang::ZhCn, Lang::En] {
                assert!(super::super::labels::known(lang, "clock_", clock), "{clock}");
            }
        }
        assert_eq!(clock_name(Lang::En, "a_new_clock"), "A new clock");
        assert_eq!(holiday_name(Lang::ZhCn, "中秋节 Mid-Autumn Festival"), "中秋节");
        assert_eq!(holiday_name(Lang::En, "Company day"), "Company day");
    }

    #[test]
    fn paused_and_met_clocks_say_so() {
        let mut d = explanation();
        d["pauses"] = json!([{"from": "2026-09-25T02:00:00Z", "to": null, "working_seconds": 0, "elapsed_seconds": 0, "moves_due": true}]);
        d["history"] = json!([]);
        d["state"] = json!({"kind": "met", "at": "2026-09-30T02:00:00Z"});
        let all = explain(Lang::En, &d, SH).join("\n");
        assert!(all.contains("Paused since 2026-09-25 10:00"), "{all}");
        assert!(all.contains("met on time at 2026-09-30 10:00"), "{all}");
        let from_case = rows_from_case(
            Lang::En,
            &[json!({"clock": "first_reply", "status": "breached", "due_at": "2026-09-25T02:00:00Z", "level": 1})],
            SH,
        );
        assert_eq!(from_case[0]["level"], "Level 1");
        assert_eq!(from_case[0]["due"], "2026-09-25 10:00");
    }
}
