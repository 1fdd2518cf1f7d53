//! Reporting's monthly, quarterly, half-yearly and annual reports: charts with their numbers, and
//! reporting's own CSV, Excel and printable HTML as exports the user can watch ([`crate::exports`]).
use std::collections::BTreeMap;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::dashboard::chart;
use crate::{
    backend::Service,
    error::{AppError, ErrorView},
    exports::{self, Job, State as ExportState},
    render::{encode, error_page, AppState, Ctx},
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
    /// Build the report now rather than take reporting's snapshot (a few minutes old at most).
    #[serde(default)]
    fresh: bool,
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
    let mut asked = query.clone();
    if q.fresh {
        asked.push(("fresh", "true".to_owned()));
    }
    let report: Value = state
        .backend
        .get(Service::Reporting, &format!("/api/v1/reports/{kind}"), &asked, token)
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
    let as_of = report["generated_at"]
        .as_str()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| super::labels::local_in(state.tz, &at.with_timezone(&chrono::Utc)));
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
            "exports": FORMATS.iter().map(|(f, _, _)| json!({
                "format": f, "href": format!("/reports/export?kind={kind}{link_query}&format={f}") })).collect::<Vec<_>>(),
            "print_link": format!("/reports?kind={kind}{link_query}&print=true"),
            "as_of": as_of, "fresh_link": format!("/reports?kind={kind}{link_query}&fresh=true"),
        }),
    )?;
    Ok(html.into_response())
}

/// The download formats reporting renders: (format, file extension, content type).
pub const FORMATS: [(&str, &str, &str); 3] = [
    ("csv", "csv", "text/csv; charset=utf-8"),
    (
        "xlsx",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("html", "html", "text/html; charset=utf-8"),
];

/// Reporting's printable page is self-contained (inline styles and SVG) and runs no script.
const PRINTABLE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    kind: Option<String>,
    period: Option<String>,
    site: Option<String>,
    format: Option<String>,
}

/// `GET /reports/export?kind=&period=&site=&format=csv|xlsx|html`: the report in that format from reporting,
/// fetched with the user's token. A quick one is the answer itself; a long one continues in the background
/// and the user is sent to its progress page.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let (user, token) = ctx.staff()?;
    let Some((format, extension, content_type)) = FORMATS
        .iter()
        .copied()
        .find(|(f, _, _)| Some(*f) == q.format.as_deref())
    else {
        return Err(AppError::BadForm(ctx.lang.text("err_format")));
    };
    let report = ReportQuery {
        kind: q.kind,
        period: q.period,
        site: q.site,
        print: false,
        fresh: false,
    };
    let kind = report.kind().to_owned();
    let mut query = report.backend_query(&state);
    let title = format!(
        "{} {}",
        ctx.lang.text(&format!("kind_{kind}")),
        query
            .iter()
            .find(|(k, _)| *k == "period")
            .map(|(_, p)| p.as_str())
            .unwrap_or("")
    );
    query.push(("format", format.to_owned()));
    query.push(("lang", ctx.lang.tag().to_owned()));
    let job = match state.exports.start(&user.sub, format, title.trim().to_owned()) {
        Ok(job) => job,
        Err(_) => {
            return Ok(error_page(
                &state,
                &ctx,
                &ErrorView {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    message_key: "err_exports_busy",
                    detail: None,
                },
            ))
        }
    };
    tracing::info!(export = %job.id, kind, format, "report export started");
    let settings = &state.settings.console;
    let fetch = fetch(
        state.backend.clone(),
        job.clone(),
        format!("/api/v1/reports/{kind}"),
        query,
        token.to_owned(),
        (kind, extension, content_type),
        (
            Duration::from_secs(settings.export_timeout_secs),
            settings.export_max_bytes,
        ),
    );
    tokio::spawn(fetch);
    let progress = job.settled(Duration::from_millis(settings.export_wait_ms)).await;
    match progress.state {
        ExportState::Done => Ok(download(&job, &progress)),
        ExportState::Failed { message_key, detail } => Ok(error_page(
            &state,
            &ctx,
            &ErrorView {
                status: StatusCode::BAD_GATEWAY,
                message_key,
                detail,
            },
        )),
        ExportState::Running => Ok(super::see_other(&format!("/reports/exports/{}", job.id))),
    }
}

/// Reads reporting's answer into the job as it arrives, counting the bytes for the progress page.
async fn fetch(
    backend: crate::backend::Backend,
    job: Arc<Job>,
    path: String,
    query: Vec<(&'static str, String)>,
    token: String,
    (kind, extension, content_type): (String, &'static str, &'static str),
    (timeout, max_bytes): (Duration, usize),
) {
    let response = match backend
        .get_streamed(Service::Reporting, &path, &query, &token, timeout)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            let (key, detail) = exports::failure(&e);
            tracing::warn!(export = %job.id, error = %e, "report export refused");
            return job.fail(key, detail);
        }
    };
    let total = response.content_length();
    let name = exports::file_name(
        &kind,
        response
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok()),
        extension,
    );
    let mut response = response;
    let mut body = Vec::with_capacity(total.unwrap_or(0).min(max_bytes as u64) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > max_bytes {
                    tracing::warn!(export = %job.id, bytes = body.len(), "report export too large");
                    return job.fail("err_export_too_large", None);
                }
                job.set_bytes(body.len(), total);
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(export = %job.id, error = %e, "report export interrupted");
                return job.fail("err_unavailable", None);
            }
        }
    }
    tracing::info!(export = %job.id, bytes = body.len(), "report export ready");
    job.finish(exports::File {
        content_type: content_type.to_owned(),
        name,
        body,
    });
}

/// The finished file: Excel and CSV as downloads, the printable page shown in the browser.
fn download(job: &Job, progress: &exports::Progress) -> Response {
    let Some(file) = &progress.file else {
        return AppError::NotFound.into_response();
    };
    let disposition = if job.format == "html" { "inline" } else { "attachment" };
    let mut response = (
        [
            (header::CONTENT_TYPE, file.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{}\"", file.name),
            ),
        ],
        file.body.clone(),
    )
        .into_response();
    if job.format == "html" {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PRINTABLE_CSP));
    }
    response
}

/// `GET /reports/exports/{id}`: where the export is — a page that refreshes itself while it runs (or, asked
/// for JSON, the figures for the script that enhances it), then the download link.
pub async fn job_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (user, _) = ctx.staff()?;
    let job = state.exports.get(&id, &user.sub).ok_or(AppError::NotFound)?;
    let p = job.progress();
    let (state_name, message) = match &p.state {
        ExportState::Running => ("running", None),
        ExportState::Done => ("done", None),
        ExportState::Failed { message_key, detail } => (
            "failed",
            Some(
                format!("{} {}", ctx.lang.text(message_key), detail.as_deref().unwrap_or(""))
                    .trim()
                    .to_owned(),
            ),
        ),
    };
    let file = format!("/reports/exports/{}/file", job.id);
    let view = json!({
        "id": job.id, "state": state_name, "format": job.format, "title": job.title,
        "bytes": p.bytes, "total": p.total, "size": size_text(p.bytes),
        "percent": p.total.filter(|t| *t > 0).map(|t| (p.bytes as u64 * 100 / t).min(100)),
        "seconds": job.started.elapsed().as_secs(), "message": message, "file": file,
    });
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with("application/json"));
    if wants_json {
        return Ok(Json(view).into_response());
    }
    let html = state.render(&ctx, "report_export.html", json!({ "nav": "reports", "job": view }))?;
    Ok(html.into_response())
}

/// `GET /reports/exports/{id}/file`: the finished file, for the user who asked.
pub async fn job_file(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let (user, _) = ctx.staff()?;
    let job = state.exports.get(&id, &user.sub).ok_or(AppError::NotFound)?;
    let progress = job.progress();
    if progress.state != ExportState::Done {
        return Ok(super::see_other(&format!("/reports/exports/{}", job.id)));
    }
    Ok(download(&job, &progress))
}

/// `12 KB`, `3.4 MB`: how much has arrived.
pub fn size_text(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The old CSV link: the CSV export.
pub async fn csv(state: State<AppState>, ctx: Ctx, Query(q): Query<ExportQuery>) -> Result<Response, AppError> {
    let q = ExportQuery {
        format: Some("csv".into()),
        ..q
    };
    export(state, ctx, Query(q)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(900), "900 B");
        assert_eq!(size_text(12 * 1024 + 5), "12 KB");
        assert_eq!(size_text(3 * 1024 * 1024 + 400 * 1024), "3.4 MB");
    }
}
