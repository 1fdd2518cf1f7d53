//! "My work": the open cases of my department, or assigned to me, nearest deadline first across all pages
//! (triage's `sort=due`), overdue marked, with every filter of the case list (contract.md) and full-text
//! search. One call to triage per page: the next deadline and the overdue mark come with each case.
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{
    backend::Service,
    error::AppError,
    render::{encode, AppState, Ctx},
};

/// The page's query: every value optional and read leniently (an unknown one is simply not applied).
#[derive(Debug, Deserialize, Default)]
pub struct WorkQuery {
    /// `mine`, `department` or `all`; default: `department` for staff of a department, else `all`.
    pub scope: Option<String>,
    /// `open` (default: all but closed and rejected), `all`, or one status.
    pub status: Option<String>,
    pub site: Option<String>,
    pub department: Option<String>,
    pub class: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    /// `true`, `false` or empty.
    pub overdue: Option<String>,
    pub assignee: Option<String>,
    pub text: Option<String>,
    /// Received on or after / on or before (`YYYY-MM-DD`).
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    /// The cursors of the pages before this one after the first, comma-separated: the way back.
    pub trail: Option<String>,
}

pub const STATUSES: [&str; 10] = [
    "new",
    "triaged",
    "assigned",
    "in_progress",
    "waiting_for_customer",
    "replied",
    "resolved",
    "closed",
    "rejected",
    "reopened",
];
pub const CLASSES: [&str; 3] = ["general", "important", "complaint"];
pub const CATEGORIES: [&str; 7] = [
    "product_quality",
    "logistics",
    "commercial",
    "staff_service",
    "suggestion",
    "adverse_event",
    "consultation",
];
pub const SEVERITIES: [&str; 3] = ["general", "important", "major"];

pub fn local(state: &AppState, at: &DateTime<Utc>) -> String {
    at.with_timezone(&state.tz).format("%Y-%m-%d %H:%M").to_string()
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The filters as the page understood them: what goes to triage, what the form shows again, what was wrong.
#[derive(Debug, Default, PartialEq)]
pub struct Filters {
    /// The page's own query (scope, status and the filters), for links and the form.
    pub shown: Vec<(&'static str, String)>,
    /// Triage's query (without paging).
    pub triage: Vec<(&'static str, String)>,
    /// Field → text key of what is wrong with it.
    pub errors: Vec<(&'static str, &'static str)>,
}

/// Reads the page's query for a user (`me`, of `my_department`): known values only, dates checked.
pub fn filters(
    q: &WorkQuery,
    me: &str,
    my_department: Option<&str>,
    sites: &[String],
    departments: &[String],
) -> Filters {
    let mut f = Filters::default();
    let default_scope = if my_department.is_some() { "department" } else { "all" };
    let scope = match non_empty(&q.scope) {
        Some("mine") => "mine",
        Some("department") if my_department.is_some() => "department",
        Some("all") => "all",
        _ => default_scope,
    };
    f.shown.push(("scope", scope.into()));
    match scope {
        "mine" => f.triage.push(("assignee", me.into())),
        "department" => f.triage.push(("department", my_department.unwrap_or_default().into())),
        _ => {}
    }
    let status = match non_empty(&q.status) {
        Some("all") => "all",
        Some(s) if STATUSES.contains(&s) => s,
        _ => "open",
    };
    f.shown.push(("status", status.into()));
    if status != "all" {
        f.triage.push(("status", status.into()));
    }
    let known = |v: Option<&str>, allowed: &[&str]| v.filter(|v| allowed.contains(v)).map(str::to_owned);
    let sites: Vec<&str> = sites.iter().map(String::as_str).collect();
    let departments: Vec<&str> = departments.iter().map(String::as_str).collect();
    let chosen = [
        ("site", known(non_empty(&q.site), &sites)),
        // "My department" already says which department.
        (
            "department",
            known(non_empty(&q.department), &departments).filter(|_| scope != "department"),
        ),
        ("class", known(non_empty(&q.class), &CLASSES)),
        ("category", known(non_empty(&q.category), &CATEGORIES)),
        ("severity", known(non_empty(&q.severity), &SEVERITIES)),
        ("overdue", known(non_empty(&q.overdue), &["true", "false"])),
        // "Assigned to me" already says whose.
        (
            "assignee",
            non_empty(&q.assignee)
                .filter(|_| scope != "mine")
                .map(|a| a.chars().take(100).collect()),
        ),
        ("text", non_empty(&q.text).map(|t| t.chars().take(200).collect())),
    ];
    for (key, value) in chosen {
        if let Some(v) = value {
            f.shown.push((key, v.clone()));
            f.triage.push((key, v));
        }
    }
    let mut dates = vec![];
    for (key, value) in [("from", &q.from), ("to", &q.to)] {
        match non_empty(value).map(|v| (v, v.parse::<NaiveDate>())) {
            Some((v, Ok(d))) => {
                f.shown.push((key, v.to_owned()));
                f.triage.push((key, d.to_string()));
                dates.push(d);
            }
            Some((_, Err(_))) => f.errors.push((key, "err_date_only")),
            None => {}
        }
    }
    if let [from, to] = dates[..] {
        if to < from {
            f.triage.retain(|(k, _)| *k != "to");
            f.errors.push(("to", "err_to_before_from"));
        }
    }
    f
}

/// `/work?…` with `shown`, and the page's place: `cursor` where it starts, `trail` the way back.
fn link(shown: &[(&str, String)], cursor: Option<&str>, trail: &[&str]) -> String {
    let mut parts: Vec<String> = shown.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    if let Some(c) = cursor {
        parts.push(format!("cursor={}", encode(c)));
    }
    if !trail.is_empty() {
        parts.push(format!("trail={}", encode(&trail.join(","))));
    }
    format!("/work?{}", parts.join("&"))
}

/// Links to the next and the previous page, keeping the filters (triage's keyset pages only go forward, so a
/// link forward carries the way back).
pub fn pages(
    shown: &[(&str, String)],
    cursor: Option<&str>,
    trail: &[&str],
    next: Option<&str>,
) -> (Option<String>, Option<String>) {
    let next = next.map(|n| {
        let mut back = trail.to_vec();
        back.extend(cursor);
        link(shown, Some(n), &back)
    });
    let previous = cursor.map(|_| match trail.split_last() {
        Some((last, before)) => link(shown, Some(last), before),
        None => link(shown, None, &[]),
    });
    (next, previous)
}

/// A case of triage's list as a row of the page.
fn row(state: &AppState, c: &Value) -> Value {
    let at = |v: &Value| v.as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok());
    let overdue = c["overdue"].as_bool().unwrap_or(false) || c["overdue_level"].as_i64().unwrap_or(0) > 0;
    json!({
        "reference": c["reference"], "subject": c["subject"], "status": c["status"],
        "severity": c["severity"], "department": c["department"], "assignee": c["assignee"],
        "site": c["site"], "channel": c["channel"], "category": c["category"], "class": c["class"],
        "received": at(&c["received_at"]).map(|t| local(state, &t)),
        "overdue": overdue,
        "next_due": at(&c["next_due_at"]).map(|t| local(state, &t)),
        "next_clock": c["next_due_clock"],
    })
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<WorkQuery>) -> Result<Response, AppError> {
    let (user, token) = ctx.staff()?;
    let settings = &state.settings;
    let f = filters(
        &q,
        &user.sub,
        user.department.as_deref(),
        &settings.sites.known,
        &settings.console.departments,
    );
    let cursor = non_empty(&q.cursor);
    let trail: Vec<&str> = q
        .trail
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let mut query = f.triage.clone();
    query.push(("sort", "due".into()));
    query.push(("limit", settings.console.page_size.to_string()));
    if let Some(c) = cursor {
        query.push(("cursor", c.to_owned()));
    }
    let page: Value = state
        .backend
        .get(Service::Triage, "/api/v1/cases", &query, token)
        .await?;
    let rows: Vec<Value> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| row(&state, c))
        .collect();
    let (next_page, previous_page) = pages(&f.shown, cursor, &trail, page["next_cursor"].as_str());
    let shown: Map<String, Value> = f.shown.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let errors: Map<String, Value> = f
        .errors
        .iter()
        .map(|(k, key)| (k.to_string(), json!(ctx.lang.text(key))))
        .collect();
    let more_filters = ["department", "class", "category", "severity", "assignee", "from", "to"]
        .iter()
        .any(|k| shown.contains_key(*k) || errors.contains_key(*k));
    let html = state.render(
        &ctx,
        "work.html",
        json!({
            "nav": "work", "rows": rows, "next_page": next_page, "previous_page": previous_page,
            "statuses": STATUSES, "classes": CLASSES, "categories": CATEGORIES, "severities": SEVERITIES,
            "departments": settings.console.departments, "has_department": user.department.is_some(),
            "my_department": user.department, "q": shown, "errors": errors, "more_filters": more_filters,
        }),
    )?;
    Ok(html.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's query as axum reads it.
    fn q(pairs: &[(&str, &str)]) -> WorkQuery {
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let uri: axum::http::Uri = format!("/work?{query}").parse().unwrap();
        Query::<WorkQuery>::try_from_uri(&uri).unwrap().0
    }

    const SITES: &[&str] = &["sh01", "bj01"];

    fn read(pairs: &[(&str, &str)], department: Option<&str>) -> Filters {
        let sites: Vec<String> = SITES.iter().map(|s| s.to_string()).collect();
        filters(&q(pairs), "h1", department, &sites, &["quality".into(), "sales".into()])
    }

    #[test]
    fn a_department_sees_its_open_cases_and_mine_means_assigned_to_me() {
        let f = read(&[], Some("quality"));
        assert_eq!(
            f.triage,
            vec![("department", "quality".to_owned()), ("status", "open".to_owned())]
        );
        let f = read(&[("scope", "mine"), ("assignee", "someone-else")], Some("quality"));
        assert_eq!(
            f.triage,
            vec![("assignee", "h1".to_owned()), ("status", "open".to_owned())]
        );
        // Without a department: everything the user may read (triage narrows it), still only open cases.
        let f = read(&[("scope", "department")], None);
        assert_eq!(f.shown[0], ("scope", "all".to_owned()));
        assert_eq!(f.triage, vec![("status", "open".to_owned())]);
        assert!(read(&[("status", "all")], None).triage.is_empty(), "every status");
    }

    #[test]
    fn every_filter_of_the_contract_is_passed_on_and_unknown_values_are_not() {
        let f = read(
            &[
                ("scope", "all"),
                ("status", "in_progress"),
                ("site", "bj01"),
                ("department", "sales"),
                ("class", "complaint"),
                ("category", "logistics"),
                ("severity", "major"),
                ("overdue", "true"),
                ("assignee", "li.lei"),
                ("text", " 包装 "),
                ("from", "2026-11-01"),
                ("to", "2026-11-30"),
            ],
            Some("quality"),
        );
        let keys: Vec<&str> = f.triage.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            vec![
                "status",
                "site",
                "department",
                "class",
                "category",
                "severity",
                "overdue",
                "assignee",
                "text",
                "from",
                "to"
            ]
        );
        assert!(f.triage.contains(&("text", "包装".to_owned())));
        let f = read(
            &[
                ("status", "lost"),
                ("site", "xx99"),
                ("severity", "huge"),
                ("overdue", "maybe"),
            ],
            None,
        );
        assert_eq!(f.triage, vec![("status", "open".to_owned())]);
        let f = read(&[("from", "yesterday"), ("to", "2026-11-01")], None);
        assert_eq!(f.errors, vec![("from", "err_date_only")]);
        let f = read(&[("from", "2026-11-02"), ("to", "2026-11-01")], None);
        assert_eq!(f.errors, vec![("to", "err_to_before_from")]);
        assert!(!f.triage.iter().any(|(k, _)| *k == "to"));
    }

    #[test]
    fn pages_link_forward_and_back_keeping_the_filters() {
        let shown = vec![("scope", "mine".to_owned()), ("status", "open".to_owned())];
        let (next, previous) = pages(&shown, None, &[], Some("c1"));
        assert_eq!(next.as_deref(), Some("/work?scope=mine&status=open&cursor=c1"));
        assert_eq!(previous, None);
        let (next, previous) = pages(&shown, Some("c1"), &[], Some("c2"));
        assert_eq!(next.as_deref(), Some("/work?scope=mine&status=open&cursor=c2&trail=c1"));
        assert_eq!(previous.as_deref(), Some("/work?scope=mine&status=open"));
        let (next, previous) = pages(&shown, Some("c2"), &["c1"], None);
        assert_eq!(next, None);
        assert_eq!(previous.as_deref(), Some("/work?scope=mine&status=open&cursor=c1"));
    }
}
