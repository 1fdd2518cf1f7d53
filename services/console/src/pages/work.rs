//! "My work": the cases assigned to me or my department (triage narrows the list to what the user
//! may read), nearest deadline first, overdue marked, with filters and full-text search.
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    backend::Service,
    error::AppError,
    render::{encode, AppState, Ctx},
};

#[derive(Debug, Deserialize, Default)]
pub struct WorkQuery {
    /// `department` (default) or `mine`.
    pub scope: Option<String>,
    /// A status, or empty for every open case.
    pub status: Option<String>,
    /// `true`, `false` or empty.
    pub overdue: Option<String>,
    pub text: Option<String>,
    pub site: Option<String>,
    pub cursor: Option<String>,
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

/// The earliest due time among a case's clocks that still count (running, warned, breached).
pub fn next_due(deadlines: &[Value]) -> Option<(DateTime<Utc>, String)> {
    deadlines
        .iter()
        .filter(|d| matches!(d["state"]["kind"].as_str(), Some("running" | "warned" | "breached")))
        .filter_map(|d| {
            let due = d["due"].as_str()?.parse::<DateTime<Utc>>().ok()?;
            Some((due, d["clock"].as_str().unwrap_or("").to_owned()))
        })
        .min_by_key(|(due, _)| *due)
}

pub fn local(state: &AppState, at: &DateTime<Utc>) -> String {
    at.with_timezone(&state.tz).format("%Y-%m-%d %H:%M").to_string()
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<WorkQuery>) -> Result<Response, AppError> {
    let (user, token) = ctx.staff()?;
    let mine = q.scope.as_deref() == Some("mine");
    let status = non_empty(&q.status).filter(|s| STATUSES.contains(&s.as_str()));
    let mut query: Vec<(&str, String)> = vec![("limit", state.settings.console.page_size.to_string())];
    if mine {
        query.push(("assignee", user.sub.clone()));
    }
    if let Some(s) = &status {
        query.push(("status", s.clone()));
    }
    if let Some(o) = non_empty(&q.overdue).filter(|o| o == "true" || o == "false") {
        query.push(("overdue", o));
    }
    for (key, value) in [("text", &q.text), ("site", &q.site), ("cursor", &q.cursor)] {
        if let Some(v) = non_empty(value) {
            query.push((key, v));
        }
    }
    let page: Value = state
        .backend
        .get(Service::Triage, "/api/v1/cases", &query, token)
        .await?;
    let items: Vec<Value> = page["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        // Without a status filter, "my work" is what is still open.
        .filter(|c| status.is_some() || !matches!(c["status"].as_str(), Some("closed" | "rejected")))
        .collect();
    // Each case's deadlines, concurrently; a case the scheduler does not know yet has none.
    let deadlines = futures::future::join_all(items.iter().map(|c| {
        let id = c["id"].as_str().unwrap_or_default().to_owned();
        let backend = state.backend.clone();
        async move {
            backend
                .get::<Vec<Value>>(Service::Scheduler, &format!("/api/v1/cases/{id}/deadlines"), &[], token)
                .await
                .unwrap_or_default()
        }
    }))
    .await;
    let now = Utc::now();
    let mut rows: Vec<(Option<DateTime<Utc>>, Value)> = items
        .into_iter()
        .zip(deadlines)
        .map(|(c, d)| {
            let next = next_due(&d);
            let overdue =
                c["overdue_level"].as_i64().unwrap_or(0) > 0 || next.as_ref().is_some_and(|(due, _)| *due < now);
            let received = c["received_at"]
                .as_str()
                .and_then(|s| s.parse::<DateTime<Utc>>().ok())
                .map(|t| local(&state, &t));
            let row = json!({
                "reference": c["reference"], "subject": c["subject"], "status": c["status"],
                "severity": c["severity"], "department": c["department"], "assignee": c["assignee"],
                "site": c["site"], "channel": c["channel"], "category": c["category"], "received": received,
                "overdue": overdue,
                "next_due": next.as_ref().map(|(due, _)| local(&state, due)),
                "next_clock": next.as_ref().map(|(_, clock)| clock.clone()),
            });
            (next.map(|(due, _)| due), row)
        })
        .collect();
    // Nearest deadline first; cases without a running clock last.
    rows.sort_by_key(|(due, _)| (due.is_none(), *due));
    let rows: Vec<Value> = rows.into_iter().map(|(_, r)| r).collect();
    let next_page = page["next_cursor"].as_str().map(|c| {
        format!(
            "/work?scope={}&status={}&overdue={}&text={}&site={}&cursor={}",
            if mine { "mine" } else { "department" },
            encode(status.as_deref().unwrap_or("")),
            encode(q.overdue.as_deref().unwrap_or("")),
            encode(q.text.as_deref().unwrap_or("")),
            encode(q.site.as_deref().unwrap_or("")),
            encode(c)
        )
    });
    let html = state.render(
        &ctx,
        "work.html",
        json!({
            "nav": "work", "rows": rows, "statuses": STATUSES, "next_page": next_page,
            "q": { "scope": if mine { "mine" } else { "department" }, "status": status, "overdue": q.overdue,
                   "text": q.text, "site": q.site },
        }),
    )?;
    Ok(html.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_counting_clock_is_the_next_deadline() {
        let d = vec![
            json!({"clock": "reply", "due": "2026-11-24T02:00:00Z", "state": {"kind": "met", "at": "x"}}),
            json!({"clock": "handling", "due": "2026-11-30T02:00:00Z", "state": {"kind": "running"}}),
            json!({"clock": "registration", "due": "2026-11-25T02:00:00Z", "state": {"kind": "breached", "level": 1}}),
            json!({"clock": "paused", "due": "2026-11-20T02:00:00Z", "state": {"kind": "paused", "since": "x"}}),
        ];
        let (due, clock) = next_due(&d).unwrap();
        assert_eq!(clock, "registration");
        assert_eq!(due.to_rfc3339(), "2026-11-25T02:00:00+00:00");
        assert_eq!(next_due(&[]), None);
    }
}
