//! Reporting's monthly, quarterly, half-yearly and annual reports: charts with their numbers, a CSV
//! download (reporting's own CSV) and a printable page.
use std::collections::BTreeMap;

use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::dashboard::chart;
use crate::{
    backend::Service,
    error::AppError,
    render::{encode, AppState, Ctx},
};

pub const KINDS: [&str; 4] = ["monthly", "quarterly", "half-yearly", "annual"];
const DIMENSIONS: [(&str, &str); 5] = [
    ("channel", "channel_"),
    ("class", "class_"),
    ("category", "category_"),
    ("severity", "severity_"),
    ("department", ""),
];

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    kind: Option<String>,
    period: Option<String>,
    site: Option<String>,
    #[serde(default)]
    print: bool,
}

impl ReportQuery {
    fn kind(&self) -> &str {
        self.kind.as_deref().filter(|k| KINDS.contains(k)).unwrap_or("monthly")
    }

    fn backend_query(&self, state: &AppState) -> Vec<(&'static str, String)> {
        let mut query = vec![];
        if let Some(p) = self.period.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            query.push(("period", p.to_owned()));
        }
        if let Some(s) = self
            .site
            .as_deref()
            .filter(|s| state.settings.sites.known.iter().any(|k| k == s))
        {
            query.push(("site", s.to_owned()));
        }
        query
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ReportQuery>) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let kind = q.kind();
    let query = q.backend_query(&state);
    let report: Value = state
        .backend
        .get(Service::Reporting, &format!("/api/v1/reports/{kind}"), &query, token)
        .await?;
    let charts: Vec<Value> = DIMENSIONS
        .iter()
        .map(|(dimension, prefix)| {
            let counts: BTreeMap<String, i64> =
                serde_json::from_value(report["breakdown"][*dimension].clone()).unwrap_or_default();
            chart(ctx.lang, &format!("dim_{dimension}"), prefix, &counts)
        })
        .collect();
    let timeliness = super::dashboard::timeliness_chart(ctx.lang, &report["timeliness"]);
    let trend: Vec<(String, f64)> = report["trend"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["month"].as_str()?.to_owned(), p["count"].as_f64()?)))
        .collect();
    let trend = (!trend.is_empty()).then(|| crate::charts::bars(&ctx.lang.text("trend"), &trend));
    let link_query = query
        .iter()
        .map(|(k, v)| format!("&{k}={}", encode(v)))
        .collect::<String>();
    let html = state.render(
        &ctx,
        "reports.html",
        json!({
            "nav": "reports", "kinds": KINDS, "kind": kind, "report": report, "charts": charts, "print": q.print,
            "timeliness": timeliness, "trend": trend,
            "q": { "period": q.period.as_deref().map(str::trim).filter(|p| !p.is_empty()), "site": q.site },
            "csv_link": format!("/reports/csv?kind={kind}{link_query}"),
            "print_link": format!("/reports?kind={kind}{link_query}&print=true"),
        }),
    )?;
    Ok(html.into_response())
}

/// Reporting's CSV, downloaded under a telling file name.
pub async fn csv(State(state): State<AppState>, ctx: Ctx, Query(q): Query<ReportQuery>) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let kind = q.kind();
    let mut query = q.backend_query(&state);
    query.push(("format", "csv".into()));
    let body = state
        .backend
        .get_text(Service::Reporting, &format!("/api/v1/reports/{kind}"), &query, token)
        .await?;
    let period = body
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').nth(1))
        .filter(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or("current")
        .to_owned();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"report-{kind}-{period}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}
