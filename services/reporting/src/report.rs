//! `GET /api/v1/reports/{monthly|quarterly|half-yearly|annual}?period=&site=` as JSON or CSV
//! (`Accept: text/csv` or `?format=csv`): feedback counts by channel, class, category, severity and
//! department, with the change against the previous period and the same period a year earlier.
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::{PgPool, Row};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

use crate::{
    period::{Kind, Period},
    startup::AppState,
};

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// `2026-11`, `2026-Q4`, `2026-H2` or `2026`; default: the current period.
    pub period: Option<String>,
    pub site: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    pub kind: String,
    pub period: String,
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub site: Option<String>,
    pub total: i64,
    pub previous_total: i64,
    /// Percentage change against the previous period; absent when it had none.
    pub change_vs_previous_pct: Option<f64>,
    pub year_earlier_total: i64,
    pub change_vs_year_earlier_pct: Option<f64>,
    /// dimension → value → count (channel, class, category, severity, department).
    pub breakdown: BTreeMap<String, BTreeMap<String, i64>>,
}

const DIMENSIONS: [&str; 5] = ["channel", "class", "category", "severity", "department"];

fn bounds(tz: Tz, p: &Period) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    let at = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .expect("midnight exists")
            .with_timezone(&Utc)
    };
    (at(p.start), at(p.end()))
}

async fn total(pool: &PgPool, tz: Tz, p: &Period, site: Option<&str>) -> Result<i64, sqlx::Error> {
    let (from, to) = bounds(tz, p);
    sqlx::query_scalar(
        "SELECT count(*) FROM case_facts WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR site = $3)",
    )
    .bind(from)
    .bind(to)
    .bind(site)
    .fetch_one(pool)
    .await
}

fn change(now: i64, before: i64) -> Option<f64> {
    (before > 0).then(|| ((now - before) as f64 / before as f64 * 1000.0).round() / 10.0)
}

pub async fn build(pool: &PgPool, tz: Tz, p: &Period, site: Option<&str>) -> Result<Report, sqlx::Error> {
    let (from, to) = bounds(tz, p);
    let rows = sqlx::query(
        "SELECT channel, class, category, severity, department, count(*) AS n FROM case_facts
          WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR site = $3)
          GROUP BY GROUPING SETS ((channel), (class), (category), (severity), (department))",
    )
    .bind(from)
    .bind(to)
    .bind(site)
    .fetch_all(pool)
    .await?;
    let mut breakdown: BTreeMap<String, BTreeMap<String, i64>> =
        DIMENSIONS.iter().map(|d| (d.to_string(), BTreeMap::new())).collect();
    for r in rows {
        for d in DIMENSIONS {
            if let Some(v) = r.get::<Option<String>, _>(d) {
                breakdown.get_mut(d).expect("known dimension").insert(v, r.get("n"));
            }
        }
    }
    let total_now = total(pool, tz, p, site).await?;
    let previous = total(pool, tz, &p.previous(), site).await?;
    let year_earlier = total(pool, tz, &p.a_year_earlier(), site).await?;
    Ok(Report {
        kind: format!("{:?}", p.kind).to_lowercase(),
        period: p.label(),
        from: p.start,
        to: p.end(),
        site: site.map(str::to_owned),
        total: total_now,
        previous_total: previous,
        change_vs_previous_pct: change(total_now, previous),
        year_earlier_total: year_earlier,
        change_vs_year_earlier_pct: change(total_now, year_earlier),
        breakdown,
    })
}

fn csv(r: &Report) -> String {
    let mut out = String::from("section,key,count\n");
    out.push_str(&format!("total,{},{}\n", r.period, r.total));
    out.push_str(&format!("previous_total,{},{}\n", r.period, r.previous_total));
    out.push_str(&format!("year_earlier_total,{},{}\n", r.period, r.year_earlier_total));
    for (dimension, values) in &r.breakdown {
        for (key, n) in values {
            let key = if key.contains([',', '"', '\n']) {
                format!("\"{}\"", key.replace('"', "\"\""))
            } else {
                key.clone()
            };
            out.push_str(&format!("{dimension},{key},{n}\n"));
        }
    }
    out
}

/// A report for one period, per site or for all sites.
#[utoipa::path(get, path = "/api/v1/reports/{kind}", params(("kind" = String, Path, description = "monthly, quarterly, half-yearly or annual"), ReportQuery),
    responses((status = 200, body = Report, description = "JSON, or CSV with Accept: text/csv or ?format=csv"),
              (status = 401), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(kind): Path<String>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let kind = Kind::parse(&kind).ok_or_else(|| ApiError::not_found(format!("report kind `{kind}`")))?;
    let tz: Tz = state
        .timezone
        .parse()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("reporting.timezone")))?;
    let period = match &q.period {
        Some(p) => Period::parse(kind, p).ok_or_else(|| {
            ApiError::invalid(
                "period",
                format!("`{p}` is not a period of this kind (e.g. 2026-11, 2026-Q4, 2026-H2, 2026)"),
            )
        })?,
        None => Period::containing(kind, Utc::now().with_timezone(&tz).date_naive()),
    };
    let report = build(&state.pool, tz, &period, q.site.as_deref()).await?;
    let wants_csv = q.format.as_deref() == Some("csv")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"));
    if wants_csv {
        let name = format!(
            "report-{}{}.csv",
            report.period,
            q.site.as_deref().map(|s| format!("-{s}")).unwrap_or_default()
        );
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            csv(&report),
        )
            .into_response())
    } else {
        Ok(Json(report).into_response())
    }
}
