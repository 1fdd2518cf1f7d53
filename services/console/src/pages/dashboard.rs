//! Dashboard: today and this month, per site or all sites, as bar charts with their numbers.
//! Intake counts come from reporting; open and overdue cases by department from triage's case list
//! (the most recent cases, up to a bound); revisit figures from triage's revisits when it has them.
use std::collections::BTreeMap;

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    backend::Service,
    charts,
    error::AppError,
    i18n::Lang,
    render::{AppState, Ctx},
};

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    site: Option<String>,
}

/// Cases looked at for the open/overdue counts (pages of 200).
const CASE_PAGES: usize = 10;

/// A chart and its numbers (the table makes them readable without the picture).
pub fn chart(lang: Lang, title_key: &str, label_prefix: &str, counts: &BTreeMap<String, i64>) -> Value {
    let items: Vec<(String, f64)> = counts
        .iter()
        .map(|(k, v)| {
            let label = if label_prefix.is_empty() {
                k.clone()
            } else {
                lang.text(&format!("{label_prefix}{k}"))
            };
            (label, *v as f64)
        })
        .collect();
    let total: i64 = counts.values().sum();
    json!({
        "id": title_key,
        "title": lang.text(title_key),
        "svg": (!items.is_empty()).then(|| charts::bars(&lang.text(title_key), &items)),
        "rows": items.iter().map(|(l, v)| json!({"label": l, "value": *v as i64})).collect::<Vec<_>>(),
        "total": total,
    })
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let site = q.site.filter(|s| state.settings.sites.known.contains(s));
    let today = Utc::now().with_timezone(&state.tz).date_naive();
    let mut site_query: Vec<(&str, String)> = vec![];
    if let Some(s) = &site {
        site_query.push(("site", s.clone()));
    }
    let mut daily_query = site_query.clone();
    daily_query.push(("from", today.to_string()));
    daily_query.push(("to", today.to_string()));
    let mut month_query = site_query.clone();
    month_query.push(("period", today.format("%Y-%m").to_string()));
    let (daily, month, cases) = futures::join!(
        state
            .backend
            .get::<Vec<Value>>(Service::Reporting, "/api/v1/stats/daily", &daily_query, token),
        state
            .backend
            .get::<Value>(Service::Reporting, "/api/v1/reports/monthly", &month_query, token),
        open_cases(&state, token, site.as_deref(), today),
    );
    let daily = daily?;
    let month = month?;
    let CaseCounts {
        open,
        overdue,
        counted,
        finished,
        finished_on_time,
        today_by_channel,
    } = cases?;
    let lang = ctx.lang;
    let mut today_by_site = BTreeMap::new();
    for d in &daily {
        *today_by_site
            .entry(d["site"].as_str().unwrap_or("").to_owned())
            .or_insert(0) += d["cases"].as_i64().unwrap_or(0);
    }
    let by_channel: BTreeMap<String, i64> =
        serde_json::from_value(month["breakdown"]["channel"].clone()).unwrap_or_default();
    // Reporting's read model has this month's revisit figures when it keeps them; else ask triage.
    let revisits = match month_revisits(&month) {
        Some(r) => r,
        None => revisit_figures(&state, token, site.as_deref()).await,
    };
    let timeliness = timeliness_chart(lang, &month["timeliness"]);
    let html = state.render(
        &ctx,
        "dashboard.html",
        json!({
            "nav": "dashboard", "site": site, "today": today.to_string(), "month": month["period"],
            "today_total": today_by_site.values().sum::<i64>(),
            "month_total": month["total"],
            "today_by_site": chart(lang, "intake_by_site_today", "", &today_by_site),
            "today_by_channel": chart(lang, "intake_by_channel_today", "channel_", &today_by_channel),
            "month_by_channel": chart(lang, "intake_by_channel", "channel_", &by_channel),
            "open_by_department": chart(lang, "open_by_department", "", &open),
            "overdue_by_department": chart(lang, "overdue_by_department", "", &overdue),
            "counted": counted,
            "timeliness": timeliness,
            "on_time": (finished > 0).then(|| json!({ "rate": finished_on_time * 100 / finished, "finished": finished, "on_time": finished_on_time })),
            "revisits": revisits,
        }),
    )?;
    Ok(html.into_response())
}

type Counts = BTreeMap<String, i64>;

#[derive(Default)]
struct CaseCounts {
    open: Counts,
    overdue: Counts,
    counted: usize,
    /// Resolved or closed, and of those never overdue.
    finished: usize,
    finished_on_time: usize,
    /// Cases received today (local time), by channel.
    today_by_channel: Counts,
}

/// Open and overdue cases by department, and the on-time rate of finished ones, over the most
/// recent cases the user may read.
async fn open_cases(
    state: &AppState,
    token: &str,
    site: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<CaseCounts, AppError> {
    let mut n = CaseCounts::default();
    let mut cursor: Option<String> = None;
    for _ in 0..CASE_PAGES {
        let mut query: Vec<(&str, String)> = vec![("limit", "200".into())];
        if let Some(s) = site {
            query.push(("site", s.to_owned()));
        }
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page: Value = state
            .backend
            .get(Service::Triage, "/api/v1/cases", &query, token)
            .await?;
        for c in page["items"].as_array().into_iter().flatten() {
            n.counted += 1;
            let received_today = c["received_at"]
                .as_str()
                .and_then(|t| t.parse::<chrono::DateTime<Utc>>().ok())
                .is_some_and(|t| t.with_timezone(&state.tz).date_naive() == today);
            if received_today {
                *n.today_by_channel
                    .entry(c["channel"].as_str().unwrap_or("").to_owned())
                    .or_insert(0) += 1;
            }
            let late = c["overdue_level"].as_i64().unwrap_or(0) > 0;
            match c["status"].as_str() {
                Some("rejected") => continue,
                Some("closed" | "resolved") => {
                    n.finished += 1;
                    n.finished_on_time += usize::from(!late);
                    continue;
                }
                _ => {}
            }
            let department = c["department"].as_str().unwrap_or("").to_owned();
            *n.open.entry(department.clone()).or_insert(0) += 1;
            if late {
                *n.overdue.entry(department).or_insert(0) += 1;
            }
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    Ok(n)
}

/// Revisit rate (done among all tasks) and satisfaction of the latest done ones (their details
/// carry the outcome), if triage offers revisits to this user; `null` otherwise.
async fn revisit_figures(state: &AppState, token: &str, site: Option<&str>) -> Value {
    let mut query: Vec<(&str, String)> = vec![("status", "all".into()), ("limit", "200".into())];
    if let Some(s) = site {
        query.push(("site", s.to_owned()));
    }
    let Ok(page) = state
        .backend
        .get::<Value>(Service::Triage, "/api/v1/revisits", &query, token)
        .await
    else {
        return Value::Null;
    };
    let items = page["items"].as_array().cloned().unwrap_or_default();
    let done: Vec<&Value> = items.iter().filter(|r| r["status"].as_str() == Some("done")).collect();
    let details = futures::future::join_all(done.iter().take(REVISIT_DETAILS).map(|r| {
        let path = format!("/api/v1/revisits/{}", r["id"].as_str().unwrap_or_default());
        async move {
            state
                .backend
                .get::<Value>(Service::Triage, &path, &[], token)
                .await
                .ok()
        }
    }))
    .await;
    let outcomes: Vec<&Value> = details.iter().flatten().collect();
    let satisfied = outcomes
        .iter()
        .filter(|d| d["satisfied"].as_bool() == Some(true))
        .count();
    let scores: Vec<f64> = outcomes.iter().filter_map(|d| d["score"].as_f64()).collect();
    json!({
        "total": items.len(), "done": done.len(),
        "rate": (!items.is_empty()).then(|| done.len() * 100 / items.len()),
        "satisfied": satisfied, "assessed": outcomes.len(),
        "satisfaction": (!outcomes.is_empty()).then(|| satisfied * 100 / outcomes.len()),
        "average_score": (!scores.is_empty()).then(|| (scores.iter().sum::<f64>() / scores.len() as f64 * 10.0).round() / 10.0),
    })
}

/// This month's on-time percentage per clock (reporting's `timeliness` section), as a chart.
pub fn timeliness_chart(lang: Lang, section: &Value) -> Option<Value> {
    let rows = section.as_array().filter(|r| !r.is_empty())?;
    let items: Vec<(String, f64)> = rows
        .iter()
        .filter_map(|r| Some((r["clock"].as_str()?.to_owned(), r["on_time_pct"].as_f64()?)))
        .collect();
    let table: Vec<Value> = rows
        .iter()
        .map(|r| json!({ "clock": r["clock"], "met": r["met"], "breached": r["breached"], "open": r["open"], "pct": r["on_time_pct"] }))
        .collect();
    Some(json!({
        "svg": (!items.is_empty()).then(|| charts::bars(&lang.text("on_time_rate"), &items)),
        "rows": table,
    }))
}

/// Reporting's revisit section (rate against its target, satisfaction), in the dashboard's shape.
pub fn month_revisits(month: &Value) -> Option<Value> {
    // Only when it has counted any: an empty section may just mean its events have not arrived yet.
    let r = month["revisits"]
        .as_object()
        .filter(|r| r.get("done").and_then(Value::as_i64).unwrap_or(0) > 0)?;
    let get = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
    let pct = |k: &str| get(k).as_f64().map(|p| p.round() as i64);
    Some(json!({
        "source": "reporting",
        "total": get("due"), "done": get("done"),
        "rate": pct("rate_pct"), "target": get("rate_target_pct"),
        "satisfied": get("satisfied"), "assessed": get("done"),
        "satisfaction": pct("satisfied_pct"),
        "average_score": Value::Null,
    }))
}

/// Done revisits whose outcome is read for the satisfaction figure (the latest first).
const REVISIT_DETAILS: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporting_sections_are_used_when_present() {
        let month = json!({
            "timeliness": [{"clock": "first_reply", "met": 3, "breached": 1, "open": 0, "on_time_pct": 75.0}],
            "revisits": {"due": 4, "done": 2, "rate_pct": 50.0, "rate_target_pct": 80.0, "satisfied": 1, "satisfied_pct": 50.0},
        });
        assert_eq!(
            month_revisits(&json!({"revisits": {"done": 0}})),
            None,
            "nothing counted yet"
        );
        let t = timeliness_chart(Lang::En, &month["timeliness"]).unwrap();
        assert!(t["svg"].as_str().unwrap().contains(">75<"));
        assert_eq!(month_revisits(&month).unwrap()["rate"], 50);
        assert_eq!(timeliness_chart(Lang::En, &json!([])), None);
        assert_eq!(
            month_revisits(&json!({"total": 1})),
            None,
            "an older reporting without the section"
        );
    }

    #[test]
    fn a_chart_has_its_numbers_and_labels() {
        let counts: Counts = [("phone".to_string(), 3), ("web".to_string(), 1)].into_iter().collect();
        let c = chart(Lang::En, "intake_by_channel", "channel_", &counts);
        assert_eq!(c["total"], 4);
        assert_eq!(c["rows"][0], json!({"label": "Phone", "value": 3}));
        assert!(c["svg"].as_str().unwrap().contains("<rect"));
        assert_eq!(chart(Lang::En, "x", "", &Counts::new())["svg"], Value::Null);
    }
}
