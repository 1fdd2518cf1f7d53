//! Everything that happened to a case, oldest first, in words: the reports by channel, every
//! history entry (workflow actions, claim decisions, quality documents, duplicates, deadlines,
//! the customer's emails, failed notifications), the emails and SMS sent, and deadline warnings.
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    deadlines::clock_name,
    labels::{known, label, local_in, say},
};
use crate::i18n::Lang;

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()?.parse().ok()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// A history action's name in `lang`; a code this console does not know yet is humanised.
pub fn action_label(lang: Lang, action: &str) -> String {
    label(lang, "action_", action)
}

/// Who did it: a service or the customer by name, staff by their id.
fn actor(lang: Lang, actor: &str) -> String {
    if known(lang, "actor_", actor) {
        label(lang, "actor_", actor)
    } else {
        actor.to_owned()
    }
}

/// Whom a notification was for: an address as notification masked it, or — for a rule that reached
/// nobody — the person, role or department it named (`person:<id>`, `role:<role>`, `department:<code>`)
/// or the kind of recipient it named (`assignee`).
fn recipient(lang: Lang, r: &str) -> String {
    match r.split_once(':') {
        Some(("person", id)) => id.to_owned(),
        Some(("role", role)) => label(lang, "role_", role),
        Some(("department", code)) => label(lang, "dept_", code),
        _ if known(lang, "rcpt_", r) => label(lang, "rcpt_", r),
        _ => r.to_owned(),
    }
}

/// The text between the first pair of backticks: the id, role or department a reason names.
fn quoted(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Why a rule reached nobody (notification's `last_error`, English) in `lang`; a reason this console
/// does not know is given as notification wrote it.
pub fn unreached_reason(lang: Lang, last_error: &str) -> String {
    let why = last_error.trim().trim_start_matches("nobody to tell:").trim();
    let name = quoted(why).unwrap_or("");
    if why.ends_with("has no email address") {
        say(lang, "nr_no_email", &[("who", name)])
    } else if why.starts_with("staff account") && why.ends_with("is inactive") {
        say(lang, "nr_inactive", &[("who", name)])
    } else if why.starts_with("nobody in the directory holds role") {
        say(lang, "nr_no_role_holder", &[("role", &label(lang, "role_", name))])
    } else if why.starts_with("department") && why.ends_with("is not in the directory") {
        say(
            lang,
            "nr_unknown_department",
            &[("department", &label(lang, "dept_", name))],
        )
    } else if why.ends_with("is not in the directory") && !name.is_empty() {
        say(lang, "nr_unknown_person", &[("who", name)])
    } else if let Some(rest) = why.strip_prefix("neither `") {
        let mut names = rest.split('`').step_by(2);
        let (kind, fallback) = (names.next().unwrap_or(""), names.next().unwrap_or(""));
        say(
            lang,
            "nr_neither",
            &[
                ("kind", &recipient(lang, kind)),
                ("fallback", &recipient(lang, fallback)),
            ],
        )
    } else {
        why.to_owned()
    }
}

/// Why a report belongs to its case (triage's dedup reasons) in `lang`; anything else as written.
pub fn link_reason(lang: Lang, reason: &str) -> String {
    let r = reason.trim();
    if r == "first report" {
        return lang.text("dup_first_report");
    }
    if let Some(from) = r
        .strip_prefix("first report (split from ")
        .and_then(|x| x.strip_suffix(')'))
    {
        return say(lang, "dup_split_from", &[("case", from)]);
    }
    if let Some(rest) = r.strip_prefix("same customer, product ") {
        if let Some((product, batch)) = rest.split_once(" batch ") {
            return say(lang, "dup_same_batch", &[("product", product), ("batch", batch)]);
        }
    }
    if let Some(order) = r.strip_prefix("same customer, order ") {
        return say(lang, "dup_same_order", &[("order", order)]);
    }
    if let Some(pct) = r
        .strip_prefix("same customer, text ")
        .and_then(|x| x.strip_suffix(" alike"))
    {
        return say(lang, "dup_same_text", &[("pct", pct)]);
    }
    if let Some(case) = r.strip_prefix("dissatisfied revisit of ") {
        return say(lang, "dup_revisit", &[("case", case)]);
    }
    reason.to_owned()
}

/// What a history entry says beyond its name, in `lang` (codes as labels, times local).
fn detail(lang: Lang, tz: chrono_tz::Tz, action: &str, d: &Value, reasons: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: String| {
        if !v.trim().is_empty() {
            out.push(v)
        }
    };
    match action {
        "opened" => {
            let c = &d["classification"];
            if c.is_object() {
                push(format!(
                    "{} · {} · {}",
                    label(lang, "class_", s(&c["class"])),
                    label(lang, "category_", s(&c["category"])),
                    label(lang, "severity_", s(&c["severity"]))
                ));
            }
            if let Some(dep) = d["department"].as_str() {
                push(format!("{} {}", lang.text("department"), label(lang, "dept_", dep)));
            }
            if let Some(a) = d["assignee"].as_str() {
                push(format!("{} {a}", lang.text("assignee")));
            }
            if let Some(from) = d["split_from"]["reference"].as_str() {
                push(say(lang, "tl_split_from", &[("case", from)]));
            }
            if let Some(from) = d["linked_to"].as_str() {
                push(say(lang, "tl_revisit_of", &[("case", from)]));
            }
            push(s(&d["reason"]).to_owned());
        }
        "assign" | "reassign" => push(s(&d["assignee"]).to_owned()),
        "reclassify" => {
            push(format!(
                "{} · {} · {}",
                label(lang, "class_", s(&d["class"])),
                label(lang, "category_", s(&d["category"])),
                label(lang, "severity_", s(&d["severity"]))
            ));
            push(s(&d["reason"]).to_owned());
        }
        "set_validity" => {
            let valid = d["valid"].as_bool().unwrap_or(false);
            push(lang.text(if valid { "valid_yes" } else { "valid_no" }));
            push(s(&d["reason"]).to_owned());
        }
        "extend_deadline" => {
            push(clock_name(lang, s(&d["clock"])));
            if let Some(due) = time(&d["new_due"]) {
                push(format!("{} {}", lang.text("new_due"), local_in(tz, &due)));
            }
            push(s(&d["reason"]).to_owned());
        }
        "close" => push(label(lang, "outcome_", s(&d["outcome"]))),
        "merge" => {
            push(lang.text("tl_merged"));
            push(s(&d["reason"]).to_owned());
        }
        "claim_rejected" => push(reasons(s(&d["reason"]))),
        "duplicate_linked" => {
            push(format!(
                "{} · {}",
                s(&d["reference"]),
                label(lang, "channel_", s(&d["channel"]))
            ));
            push(link_reason(lang, s(&d["reason"])));
        }
        "report_split" => {
            push(say(
                lang,
                "tl_split_into",
                &[("report", s(&d["report"])), ("case", s(&d["new_case"]["reference"]))],
            ));
            push(s(&d["reason"]).to_owned());
        }
        "duplicate_merged" | "duplicate_unmerged" => {
            let key = if action == "duplicate_merged" {
                "tl_merged_from"
            } else {
                "tl_unmerged"
            };
            let n = d["reports"].as_i64().unwrap_or(0).to_string();
            push(say(lang, key, &[("case", s(&d["reference"])), ("n", &n)]));
            // Why it was merged (given with the merge); reopening gives none.
            push(s(&d["reason"]).to_owned());
        }
        "revisit_linked_case" => {
            push(say(lang, "tl_revisit_case", &[("case", s(&d["linked_case"]))]));
            push(s(&d["reason"]).to_owned());
        }
        "customer_followup" => {
            push(s(&d["from"]).to_owned());
            push(s(&d["subject"]).to_owned());
            push(s(&d["text"]).to_owned());
        }
        "notification_failed" => {
            push(format!(
                "{} · {} · {}",
                label(lang, "notify_channel_", s(&d["channel"])),
                label(lang, "tmpl_", s(&d["template"])),
                recipient(lang, s(&d["recipient"]))
            ));
            push(lang.text("tl_not_delivered"));
        }
        "deadline_breached" | "deadline_escalated" => {
            push(clock_name(lang, s(&d["clock"])));
            if let Some(level) = d["level"].as_u64().filter(|l| *l > 0) {
                push(say(lang, "dl_level", &[("level", &level.to_string())]));
            }
        }
        "eight_d_edited" => {
            if let Some(c) = d["cause_category"].as_str() {
                push(format!(
                    "{} {}",
                    lang.text("ed_cause_category"),
                    label(lang, "cause_", c)
                ));
            }
        }
        "eight_d_action_added" => push(format!(
            "{} · {} {} · {} {}",
            s(&d["discipline"]),
            lang.text("ed_owner"),
            s(&d["owner"]),
            lang.text("ed_due_date"),
            s(&d["due_date"])
        )),
        "eight_d_action_verified" => {
            let effective = d["effective"].as_bool().unwrap_or(false);
            push(lang.text(if effective { "ed_effective" } else { "ed_not_effective" }));
        }
        "send_8d" => {
            if let Some(l) = d["language"].as_str() {
                push(format!(
                    "{} {}",
                    lang.text("customer_language"),
                    label(lang, "lang_", l)
                ));
            }
        }
        a if a.starts_with("regulator_report_") => {
            if let Some(st) = d["status"].as_str() {
                push(label(lang, "reg_status_", st));
            }
            push(s(&d["submission_reference"]).to_owned());
        }
        "capa_opened" => push(format!("{} {}", s(&d["number"]), s(&d["title"]))),
        "capa_closed" => push(s(&d["number"]).to_owned()),
        "staff_named" => {
            let staff: Vec<&str> = d["staff"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            push(if staff.is_empty() {
                lang.text("none")
            } else {
                staff.join(", ")
            });
            push(s(&d["reason"]).to_owned());
        }
        _ => {
            for k in ["text", "summary", "reason", "assignee"] {
                push(s(&d[k]).to_owned());
            }
        }
    }
    out
}

fn kind_of(action: &str) -> &'static str {
    match action {
        "customer_followup" => "email",
        "notification_failed" => "failed",
        a if a.starts_with("deadline_") => "deadline",
        "duplicate_linked" | "duplicate_merged" | "duplicate_unmerged" | "report_split" | "revisit_linked_case" => {
            "report"
        }
        a if a.starts_with("eight_d_")
            || a.starts_with("regulator_report_")
            || a.starts_with("capa_")
            || a == "send_8d" =>
        {
            "quality"
        }
        _ => "action",
    }
}

/// The timeline: (time, kind, title, actor, text lines, status change), oldest first.
pub fn timeline(
    lang: Lang,
    tz: chrono_tz::Tz,
    case: &Value,
    notifications: &[Value],
    deadlines: &[Value],
    reasons: &dyn Fn(&str) -> String,
) -> Vec<Value> {
    let mut events: Vec<(DateTime<Utc>, Value)> = Vec::new();
    for r in case["reports"].as_array().into_iter().flatten() {
        if let Some(at) = time(&r["received_at"]) {
            events.push((
                at,
                json!({ "kind": "report",
                        "title": format!("{} · {} · {}", lang.text("tl_report"), label(lang, "channel_", s(&r["channel"])), s(&r["reference"])),
                        "lines": [link_reason(lang, s(&r["reason"]))] }),
            ));
        }
    }
    for h in case["history"].as_array().into_iter().flatten() {
        let Some(at) = time(&h["at"]) else { continue };
        let action = s(&h["action"]);
        let change = h["changes"]["status"].as_array().filter(|c| c.len() == 2).map(|c| {
            format!(
                "{} → {}",
                label(lang, "status_", s(&c[0])),
                label(lang, "status_", s(&c[1]))
            )
        });
        events.push((
            at,
            json!({ "kind": kind_of(action), "title": action_label(lang, action), "actor": actor(lang, s(&h["actor"])),
                    "lines": detail(lang, tz, action, &h["detail"], reasons), "change": change }),
        ));
    }
    for n in notifications {
        let Some(at) = time(&n["sent_at"]).or_else(|| time(&n["created_at"])) else {
            continue;
        };
        let who = recipient(lang, s(&n["recipient_masked"]));
        let (kind, line) = match s(&n["status"]) {
            // A rule named somebody nobody could be found for: nobody was told, and the page says who and why.
            "no_recipient" => {
                let why = unreached_reason(lang, s(&n["last_error"]));
                // "mr has no email address" names whom already.
                let line = if why.contains(&who) {
                    say(lang, "tl_no_recipient_why", &[("why", &why)])
                } else {
                    say(lang, "tl_no_recipient", &[("who", &who), ("why", &why)])
                };
                ("failed", line)
            }
            "failed" => ("failed", format!("{who} · {}", label(lang, "delivery_", "failed"))),
            status => ("email", format!("{who} · {}", label(lang, "delivery_", status))),
        };
        events.push((
            at,
            json!({ "kind": kind,
                    "title": format!("{} · {}", label(lang, "notify_channel_", s(&n["channel"])), label(lang, "tmpl_", s(&n["template"]))),
                    "lines": [line] }),
        ));
    }
    // Breaches and escalations are in the case history already; warnings only the scheduler knows.
    for d in deadlines {
        for f in d["fired"].as_array().into_iter().flatten() {
            if f["kind"] != "warning" {
                continue;
            }
            if let Some(at) = time(&f["fired_at"]).or_else(|| time(&f["at"])) {
                events.push((
                    at,
                    json!({ "kind": "deadline", "title": lang.text("tl_deadline_warning"),
                            "lines": [clock_name(lang, s(&d["clock"]))] }),
                ));
            }
        }
    }
    events.sort_by_key(|(at, _)| *at);
    events
        .into_iter()
        .map(|(at, mut e)| {
            e["at"] = json!(local_in(tz, &at));
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    /// Every action the services record in a case's history (workflow.rs `ActionKind`, docs/events.md,
    /// and the history rows written by triage's handlers).
    const RECORDED: &[&str] = &[
        "opened",
        "acknowledge",
        "assign",
        "reassign",
        "reclassify",
        "note",
        "record_containment",
        "reply",
        "wait_for_customer",
        "customer_responded",
        "set_validity",
        "propose_plan",
        "extend_deadline",
        "resolve",
        "close",
        "reject",
        "reopen",
        "merge",
        "claim_approved",
        "claim_rejected",
        "eight_d_edited",
        "eight_d_action_added",
        "eight_d_action_done",
        "eight_d_action_verified",
        "eight_d_closed",
        "send_8d",
        "regulator_report_edited",
        "regulator_report_approved",
        "regulator_report_submitted",
        "capa_opened",
        "capa_closed",
        "staff_named",
        "duplicate_linked",
        "duplicate_merged",
        "duplicate_unmerged",
        "report_split",
        "customer_followup",
        "notification_failed",
        "deadline_breached",
        "deadline_escalated",
        "revisit_linked_case",
    ];

    #[test]
    fn every_recorded_action_has_a_label_in_both_languages() {
        for action in RECORDED {
            for lang in [Lang::ZhCn, Lang::En] {
                assert!(known(lang, "action_", action), "{action} in {lang:?}");
            }
        }
        assert_eq!(
            action_label(Lang::ZhCn, "deadline_breached"),
            Lang::ZhCn.text("action_deadline_breached")
        );
        assert_eq!(action_label(Lang::En, "brand_new_thing"), "Brand new thing");
    }

    #[test]
    fn emails_and_notifications_read_as_words() {
        let case = json!({ "reports": [], "history": [
            {"at": "2026-11-20T02:00:00Z", "actor": "customer", "action": "customer_followup",
             "detail": {"from": "l***@example.com", "subject": "Re: 8D", "text": "Still cracked"}, "changes": {}},
            {"at": "2026-11-20T03:00:00Z", "actor": "scheduler", "action": "deadline_escalated",
             "detail": {"clock": "first_reply", "level": 2}, "changes": {}}
        ]});
        let sent = [
            json!({"channel": "email", "template": "eight_d_report", "status": "sent",
                           "recipient_masked": "l***@example.com", "sent_at": "2026-11-20T04:00:00Z"}),
        ];
        let t = timeline(Lang::En, SH, &case, &sent, &[], &|r| r.to_owned());
        let text = serde_json::to_string(&t).unwrap();
        assert!(
            !text.contains("eight_d_report") && !text.contains("action_") && !text.contains("\"sent\""),
            "{text}"
        );
        assert_eq!(t[0]["title"], Lang::En.text("action_customer_followup"));
        assert_eq!(t[0]["actor"], Lang::En.text("actor_customer"));
        assert!(t[1]["lines"][0] == Lang::En.text("clock_first_reply"));
        assert_eq!(
            t[2]["title"],
            format!(
                "{} · {}",
                Lang::En.text("notify_channel_email"),
                Lang::En.text("tmpl_eight_d_report")
            )
        );
        assert!(t[2]["lines"][0]
            .as_str()
            .unwrap()
            .ends_with(&Lang::En.text("delivery_sent")));
        let nobody = [
            json!({"channel": "email", "template": "case_opened", "status": "no_recipient",
                   "recipient_masked": "role:management_representative", "created_at": "2026-11-20T04:00:00Z",
                   "last_error": "nobody to tell: nobody in the directory holds role `management_representative`"}),
            json!({"channel": "email", "template": "case_reassigned", "status": "no_recipient",
                   "recipient_masked": "person:h9", "created_at": "2026-11-20T05:00:00Z",
                   "last_error": "nobody to tell: staff account `h9` is inactive"}),
        ];
        let t = timeline(Lang::ZhCn, SH, &json!({}), &nobody, &[], &|r| r.to_owned());
        assert_eq!(t[0]["kind"], "failed");
        assert_eq!(t[0]["title"], "邮件 · 新案件（通知部门）");
        assert_eq!(t[0]["lines"][0], "无人收到此通知：没有人担任管理者代表");
        assert_eq!(t[1]["title"], "邮件 · 案件已改派（通知部门）");
        assert_eq!(
            t[1]["lines"][0], "无人收到此通知：员工账号 h9 已停用",
            "whom the reason names already"
        );
        // A reason that does not name whom: whom, then why (as notification wrote it when it is new here).
        let nobody = [
            json!({"channel": "email", "template": "case_reopened", "status": "no_recipient",
                             "recipient_masked": "department:quality", "created_at": "2026-11-20T04:00:00Z",
                             "last_error": "nobody to tell: the mailbox is being moved"}),
        ];
        let t = timeline(Lang::En, SH, &json!({}), &nobody, &[], &|r| r.to_owned());
        assert_eq!(
            t[0]["lines"][0],
            "Nobody could be told: Quality (the mailbox is being moved)"
        );
    }

    /// Every template notification's rules send (services/notification/templates), the reassignment
    /// and the concern letter on reclassification among them.
    #[test]
    fn every_template_notification_sends_has_a_label_in_both_languages() {
        for template in [
            "feedback_received",
            "case_opened",
            "case_assigned",
            "case_reassigned",
            "case_reopened",
            "case_reply",
            "case_resolved",
            "claim_approval",
            "concern_letter",
            "customer_followup",
            "deadline_warning",
            "deadline_breached",
            "deadline_escalated",
            "deadline_extended",
            "eight_d_report",
            "report_issued",
            "revisit_announcement",
        ] {
            for lang in [Lang::ZhCn, Lang::En] {
                assert!(known(lang, "tmpl_", template), "{template} in {lang:?}");
            }
        }
    }

    #[test]
    fn why_nobody_could_be_told_is_said_in_words() {
        let zh = |e| unreached_reason(Lang::ZhCn, e);
        assert_eq!(zh("nobody to tell: `h1` has no email address"), "h1 没有电子邮箱");
        assert_eq!(zh("nobody to tell: `h1` is not in the directory"), "通讯录中没有 h1");
        assert_eq!(
            zh("nobody to tell: department `quality` is not in the directory"),
            "通讯录中没有质量部的人员"
        );
        assert_eq!(
            unreached_reason(
                Lang::En,
                "nobody to tell: neither `assignee` nor `department` is known for this case"
            ),
            "neither the assignee nor the department is known for this case"
        );
        assert_eq!(
            zh("nobody to tell: the moon is in the way"),
            "the moon is in the way",
            "an unknown reason as notification wrote it"
        );
    }

    #[test]
    fn a_merge_says_why_in_both_cases() {
        let case = json!({ "reports": [], "history": [
            {"at": "2026-11-20T02:00:00Z", "actor": "h1", "action": "merge",
             "detail": {"action": "merge", "into_case": "0193a000-0000-7000-8000-000000000001", "reason": "same batch"}, "changes": {}},
            {"at": "2026-11-20T02:00:00Z", "actor": "h1", "action": "duplicate_merged",
             "detail": {"reference": "SH01-20261120-0002", "reports": 1, "reason": "same batch"}, "changes": {}}
        ]});
        let t = timeline(Lang::En, SH, &case, &[], &[], &|r| r.to_owned());
        assert_eq!(t[0]["lines"], json!([Lang::En.text("tl_merged"), "same batch"]));
        assert_eq!(
            t[1]["lines"],
            json!([
                "SH01-20261120-0002 merged in as a duplicate, with 1 report(s)",
                "same batch"
            ])
        );
    }

    #[test]
    fn link_reasons_are_translated() {
        assert_eq!(
            link_reason(Lang::En, "same customer, product P-100 batch B7"),
            "Same customer, product P-100, batch B7"
        );
        assert!(link_reason(Lang::ZhCn, "same customer, text 86% alike").contains("86%"));
        assert_eq!(
            link_reason(Lang::ZhCn, "first report"),
            Lang::ZhCn.text("dup_first_report")
        );
        assert!(link_reason(Lang::En, "first report (split from SH01-20261120-0001)").contains("SH01-20261120-0001"));
        assert_eq!(link_reason(Lang::En, "something else"), "something else");
    }
}
