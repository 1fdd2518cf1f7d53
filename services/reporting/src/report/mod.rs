//! `GET /api/v1/reports/{monthly|quarterly|half-yearly|annual}?period=&site=&format=json|csv|xlsx|html`:
//! the report management reviews (domain.md §6), built from the read models (served from a snapshot at most
//! `snapshots.fresh_for_seconds` old; `?fresh=true` builds it now).
//! Issued (frozen) versions live in `crate::issue`.
pub mod csv;
pub mod html;
pub mod labels;
pub mod sections;
pub mod snapshot;
pub mod xlsx;

use std::collections::BTreeMap;

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};

use crate::{
    period::{Kind, Period},
    settings::ReportingSettings,
    startup::AppState,
};
use sections::{ClockRow, OverdueRow, ParetoRow, Scope, StaffRow};

#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// `2026-11`, `2026-Q4`, `2026-H2` or `2026`; default: the current period.
    pub period: Option<String>,
    pub site: Option<String>,
    /// `json` (default), `csv`, `xlsx` or `html`.
    pub format: Option<String>,
    /// `zh-CN` (default) or `en`, for HTML and Excel.
    pub lang: Option<String>,
    /// `true`: build the report now instead of serving a snapshot younger than `snapshots.fresh_for_seconds`.
    pub fresh: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct TrendPoint {
    pub month: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub kind: String,
    pub period: String,
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub site: Option<String>,
    pub generated_at: DateTime<Utc>,
    pub total: i64,
    pub previous_total: i64,
    /// Percentage change against the previous period; absent when it had none.
    pub change_vs_previous_pct: Option<f64>,
    pub year_earlier_total: i64,
    pub change_vs_year_earlier_pct: Option<f64>,
    /// dimension → value → count (channel, class, category, severity, department, validity, product, cause).
    pub breakdown: BTreeMap<String, BTreeMap<String, i64>>,
    pub pareto: Vec<ParetoRow>,
    /// Cases per month over the twelve months ending with this period.
    pub trend: Vec<TrendPoint>,
    pub timeliness: Vec<ClockRow>,
    pub overdue: Vec<OverdueRow>,
    pub claims: sections::Claims,
    pub repeats: sections::Repeats,
    pub staff: Vec<StaffRow>,
    pub revisits: sections::Revisits,
    /// Complaints naming each staff member, with the bands of 004 §4.5.
    #[serde(default)]
    pub staff_complaints: sections::StaffComplaints,
}

fn at_midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("midnight exists")
        .with_timezone(&Utc)
}

pub(crate) fn scope<'a>(tz: Tz, p: &Period, site: Option<&'a str>) -> Scope<'a> {
    Scope {
        from: at_midnight(tz, p.start),
        to: at_midnight(tz, p.end()),
        first_day: p.start,
        end_day: p.end(),
        site,
    }
}

fn change(now: i64, before: i64) -> Option<f64> {
    (before > 0).then(|| sections::round1((now - before) as f64 / before as f64 * 100.0))
}

/// Cases per month over the twelve months ending with `p`, from the per-day counts.
async fn trend(conn: &mut PgConnection, p: &Period, site: Option<&str>) -> Result<Vec<TrendPoint>, sqlx::Error> {
    let end = p.end();
    let start = end - chrono::Months::new(12);
    let days = sections::per_day(
        conn,
        Scope {
            from: Utc::now(),
            to: Utc::now(),
            first_day: start,
            end_day: end,
            site,
        },
    )
    .await?;
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for (day, n) in days {
        *counts.entry(day.format("%Y-%m").to_string()).or_default() += n;
    }
    Ok((0..12)
        .map(|i| {
            let month = (start + chrono::Months::new(i)).format("%Y-%m").to_string();
            TrendPoint {
                count: counts.get(&month).copied().unwrap_or(0),
                month,
            }
        })
        .collect())
}

pub async fn build(
    conn: &mut PgConnection,
    settings: &ReportingSettings,
    tz: Tz,
    p: &Period,
    site: Option<&str>,
) -> Result<Report, sqlx::Error> {
    // One snapshot for every section, and memory enough that percentiles and groupings sort in memory.
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query("SELECT set_config('work_mem', $1, true)")
        .bind(&settings.work_mem)
        .execute(&mut *tx)
        .await?;
    let report = build_in(&mut tx, settings, tz, p, site).await?;
    tx.commit().await?;
    Ok(report)
}

async fn build_in(
    conn: &mut PgConnection,
    settings: &ReportingSettings,
    tz: Tz,
    p: &Period,
    site: Option<&str>,
) -> Result<Report, sqlx::Error> {
    let now = scope(tz, p, site);
    let total = sections::total(&mut *conn, now).await?;
    let previous = sections::total(&mut *conn, scope(tz, &p.previous(), site)).await?;
    let year_earlier = sections::total(&mut *conn, scope(tz, &p.a_year_earlier(), site)).await?;
    let breakdown = sections::breakdown(&mut *conn, now, settings.top_n).await?;
    let mut pareto = sections::pareto(&breakdown["cause"]);
    pareto.truncate(settings.top_n);
    Ok(Report {
        kind: p.kind.name().to_owned(),
        period: p.label(),
        from: p.start,
        to: p.end(),
        site: site.map(str::to_owned),
        generated_at: Utc::now(),
        total,
        previous_total: previous,
        change_vs_previous_pct: change(total, previous),
        year_earlier_total: year_earlier,
        change_vs_year_earlier_pct: change(total, year_earlier),
        pareto,
        breakdown,
        trend: trend(&mut *conn, p, site).await?,
        timeliness: sections::timeliness(&mut *conn, now).await?,
        overdue: sections::overdue(&mut *conn, now).await?,
        claims: sections::claims(&mut *conn, now).await?,
        repeats: sections::repeats(&mut *conn, now).await?,
        staff: sections::staff(&mut *conn, now).await?,
        revisits: sections::revisits(&mut *conn, now, &settings.revisits).await?,
        staff_complaints: sections::staff_complaints(&mut *conn, now, &settings.staff_complaint_bands).await?,
    })
}

pub fn parse_period(kind: &str, period: Option<&str>, tz: Tz) -> Result<Period, ApiError> {
    let kind = Kind::parse(kind).ok_or_else(|| ApiError::not_found(format!("report kind `{kind}`")))?;
    match period {
        Some(p) => Period::parse(kind, p).ok_or_else(|| {
            ApiError::invalid(
                "period",
                format!("`{p}` is not a period of this kind (e.g. 2026-11, 2026-Q4, 2026-H2, 2026)"),
            )
        }),
        None => Ok(Period::containing(kind, Utc::now().with_timezone(&tz).date_naive())),
    }
}

/// The requested output format: `?format=` first, then the Accept header.
pub fn format(q: Option<&str>, headers: &HeaderMap) -> Result<&'static str, ApiError> {
    if let Some(f) = q {
        return ["json", "csv", "xlsx", "html"]
            .into_iter()
            .find(|k| *k == f)
            .ok_or_else(|| ApiError::invalid("format", "one of json, csv, xlsx, html"));
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(if accept.contains("text/csv") {
        "csv"
    } else if accept.contains("spreadsheetml") {
        "xlsx"
    } else if accept.contains("text/html") {
        "html"
    } else {
        "json"
    })
}

/// Renders a report in the asked format, as a download where that is what people do with it.
pub fn respond(report: &Report, format: &str, lang: &str, version: Option<i32>) -> Result<Response, ApiError> {
    let name = format!(
        "report-{}{}{}",
        report.period,
        report.site.as_deref().map(|s| format!("-{s}")).unwrap_or_default(),
        version.map(|v| format!("-v{v}")).unwrap_or_default()
    );
    let attachment = |ext: &str| format!("attachment; filename=\"{name}.{ext}\"");
    Ok(match format {
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, attachment("csv")),
            ],
            csv::render(report),
        )
            .into_response(),
        "xlsx" => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                ),
                (header::CONTENT_DISPOSITION, attachment("xlsx")),
            ],
            xlsx::render(report, lang).map_err(ApiError::internal)?,
        )
            .into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned())],
            html::render(report, lang, version),
        )
            .into_response(),
        _ => Json(report).into_response(),
    })
}

/// A report for one period, per site or for all sites, as of `generated_at`: at most
/// `reporting.snapshots.fresh_for_seconds` ago (see [`snapshot`]), or now with `?fresh=true`.
#[utoipa::path(get, path = "/api/v1/reports/{kind}", params(("kind" = String, Path, description = "monthly, quarterly, half-yearly or annual"), ReportQuery),
    responses((status = 200, body = Report, description = "JSON; CSV, Excel or printable HTML with ?format= or Accept"),
              (status = 401), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(kind): Path<String>,
    server::ApiQuery(q): server::ApiQuery<ReportQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tz = state.tz;
    let period = parse_period(&kind, q.period.as_deref(), tz)?;
    let format = format(q.format.as_deref(), &headers)?;
    let force = q.fresh.unwrap_or(false);
    let report = snapshot::live(&state.pool, &state.settings, tz, &period, q.site.as_deref(), force).await?;
    respond(&report, format, q.lang.as_deref().unwrap_or("zh-CN"), None)
}
