//! Dashboard: a day (today) and its month, per site or for all sites, as bar charts with their numbers — intake
//! by channel and site, open and overdue cases by department, on-time rates per clock, revisit rate and
//! satisfaction. One call to reporting's `GET /api/v1/stats/overview`, which answers from its read models in a
//! constant handful of indexed queries however many cases there are.
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
    let mut query: Vec<(&str, String)> = vec![("date", today.to_string())];
    if let Some(s) = &site {
        query.push(("site", s.clone()));
    }
    let o: Value = state
        .backend
        .get(Service::Reporting, "/api/v1/stats/overview", &query, token)
        .await?;
    let lang = ctx.lang;
    let html = state.render(&ctx, "dashboard.html", view(lang, site.as_deref(), &o))?;
    Ok(html.into_response())
}

type Counts = BTreeMap<String, i64>;

fn counts(v: &Value) -> Counts {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

/// The template's data from reporting's overview.
pub fn view(lang: Lang, site: Option<&str>, o: &Value) -> Value {
    let (day, month) = (&o["today"], &o["this_month"]);
    json!({
        "nav": "dashboard", "site": site, "today": o["date"], "month": o["month"],
        "today_total": day["intake"].as_i64().unwrap_or(0),
        "month_total": month["intake"].as_i64().unwrap_or(0),
        "today_by_site": chart(lang, "intake_by_site_today", "", &counts(&day["by_site"])),
        "today_by_channel": chart(lang, "intake_by_channel_today", "channel_", &counts(&day["by_channel"])),
        "month_by_channel": chart(lang, "intake_by_channel", "channel_", &counts(&month["by_channel"])),
        "open_by_department": chart(lang, "open_by_department", "", &counts(&o["open_by_department"])),
        "overdue_by_department": chart(lang, "overdue_by_department", "", &counts(&o["overdue_by_department"])),
        "timeliness": timeliness_chart(lang, &month["on_time"]),
        "timeliness_today": timeliness_chart(lang, &day["on_time"]),
        "revisits": revisit_figures(&month["revisits"]),
        "revisits_today": revisit_figures(&day["revisits"]),
    })
}

/// On-time percentage per clock (reporting's `on_time` rows, or a report's `timeliness`), as a chart and a table.
pub fn timeliness_chart(lang: Lang, section: &Value) -> Option<Value> {
    let rows = section.as_array().filter(|r| !r.is_empty())?;
    let items: Vec<(String, f64)> = rows
        .iter()
        .filter_map(|r| Some((r["clock"].as_str()?.to_owned(), r["on_time_pct"].as_f64()?)))
        .collect();
    let table: Vec<Value> = rows
        .iter()
        .map(|r| {
            let running = if r["running"].is_null() { &r["open"] } else { &r["running"] };
            json!({ "clock": r["clock"], "met": r["met"], "breached": r["breached"], "open": running, "pct": r["on_time_pct"] })
        })
        .collect();
    Some(json!({
        "svg": (!items.is_empty()).then(|| charts::bars(&lang.text("on_time_rate"), &items)),
        "rows": table,
    }))
}

/// Reporting's revisit figures (rate against its target, satisfaction, average score), in the template's shape.
pub fn revisit_figures(r: &Value) -> Value {
    let pct = |k: &str| r[k].as_f64().map(|p| p.round() as i64);
    json!({
        "total": r["due"], "done": r["done"],
        "rate": pct("rate_pct"), "target": r["rate_target_pct"],
        "closed": r["closed_cases"], "revisited": r["closed_cases_revisited"],
        "satisfied": r["satisfied"], "assessed": r["done"],
        "satisfaction": pct("satisfied_pct"),
        "average_score": r["average_score"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overview() -> Value {
        json!({
            "date": "2026-11-20", "month": "2026-11",
            "today": {"intake": 3, "by_channel": {"phone": 2, "web": 1}, "by_site": {"sh01": 3},
                      "on_time": [], "revisits": {"due": 0, "done": 0, "rate_pct": null, "rate_target_pct": 80.0,
                                                  "satisfied": 0, "satisfied_pct": null, "average_score": null}},
            "this_month": {"intake": 9, "by_channel": {"phone": 9}, "by_site": {"sh01": 9},
                           "on_time": [{"clock": "first_reply", "met": 3, "breached": 1, "running": 2, "on_time_pct": 75.0}],
                           "revisits": {"due": 4, "done": 2, "closed_cases": 2, "closed_cases_revisited": 1,
                                        "rate_pct": 50.0, "rate_target_pct": 80.0, "satisfied": 1,
                                        "satisfied_pct": 50.0, "average_score": 3.5}},
            "open_by_department": {"quality": 4}, "open": 4,
            "overdue_by_department": {"quality": 1}, "overdue": 1,
        })
    }

    #[test]
    fn the_overview_becomes_charts_tables_and_figures() {
        let v = view(Lang::En, Some("sh01"), &overview());
        assert_eq!(
            (v["today_total"].as_i64(), v["month_total"].as_i64()),
            (Some(3), Some(9))
        );
        assert_eq!(v["today_by_channel"]["rows"][0], json!({"label": "Phone", "value": 2}));
        assert_eq!(
            v["overdue_by_department"]["rows"][0],
            json!({"label": "quality", "value": 1})
        );
        let t = &v["timeliness"];
        assert!(t["svg"].as_str().unwrap().contains(">75<"));
        assert_eq!(t["rows"][0]["open"], 2);
        assert_eq!(v["timeliness_today"], Value::Null, "no clock today");
        assert_eq!(v["revisits"]["rate"], 50);
        assert_eq!(v["revisits"]["satisfaction"], 50);
        assert_eq!(v["revisits"]["average_score"], 3.5);
        assert_eq!(v["revisits_today"]["rate"], Value::Null);
        // A report's timeliness section reads the same.
        let report = json!([{"clock": "first_reply", "met": 3, "breached": 1, "open": 0, "on_time_pct": 75.0}]);
        assert_eq!(timeliness_chart(Lang::En, &report).unwrap()["rows"][0]["open"], 0);
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
