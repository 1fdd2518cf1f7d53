//! Issued reports: a frozen copy per (kind, period, site) and version. Late events change the live report, never
//! an issued one; issuing again makes the next version. Issuing publishes `report.issued` (for notification).
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
    Json,
};
use chrono::{DateTime, Utc};
use contracts::{report::ReportIssuedV1, Envelope};
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::{FromRow, PgConnection};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    period::Period,
    report::{self, Report},
    settings::ReportingSettings,
    startup::AppState,
};
use chrono_tz::Tz;

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct IssuedVersion {
    pub kind: String,
    pub period: String,
    /// Empty for all sites.
    pub site: String,
    pub version: i32,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
}

/// Builds the report as of now and stores it as the next version, with its `report.issued` event, in one
/// transaction. `site` empty means all sites.
pub async fn issue(
    conn: &mut PgConnection,
    settings: &ReportingSettings,
    tz: Tz,
    period: &Period,
    site: &str,
    issued_by: &str,
) -> Result<IssuedVersion, ApiError> {
    // Read through the same transaction: what is issued is exactly what this transaction sees.
    let report = report::build(&mut *conn, settings, tz, period, (!site.is_empty()).then_some(site)).await?;
    let kind = report.kind.clone();
    // Serialise issuing per report so two requests cannot take the same version number.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("{kind}/{}/{site}", report.period))
        .execute(&mut *conn)
        .await?;
    let version: i32 = sqlx::query_scalar(
        "SELECT coalesce(max(version), 0) + 1 FROM issued_reports WHERE kind = $1 AND period = $2 AND site = $3",
    )
    .bind(&kind)
    .bind(&report.period)
    .bind(site)
    .fetch_one(&mut *conn)
    .await?;
    let issued: IssuedVersion = sqlx::query_as(
        "INSERT INTO issued_reports (kind, period, site, version, issued_at, issued_by, body)
         VALUES ($1,$2,$3,$4,now(),$5,$6) RETURNING kind, period, site, version, issued_at, issued_by",
    )
    .bind(&kind)
    .bind(&report.period)
    .bind(site)
    .bind(version)
    .bind(issued_by)
    .bind(serde_json::to_value(&report).map_err(ApiError::internal)?)
    .fetch_one(&mut *conn)
    .await?;
    let event = ReportIssuedV1 {
        kind: kind.clone(),
        period: report.period.clone(),
        site: site.to_owned(),
        version,
        issued_at: issued.issued_at,
        issued_by: issued_by.to_owned(),
        path: format!(
            "/api/v1/reports/{kind}/issued/{version}?period={}{}",
            report.period,
            if site.is_empty() {
                String::new()
            } else {
                format!("&site={site}")
            }
        ),
        total: report.total,
        previous_total: report.previous_total,
    };
    // All-sites reports travel under the configured home site's routing key.
    let routing_site = if site.is_empty() {
        settings.all_sites_key.clone()
    } else {
        site.to_owned()
    };
    messaging::enqueue(conn, &Envelope::new(routing_site, Uuid::now_v7(), event)).await?;
    Ok(issued)
}

#[derive(Deserialize, IntoParams)]
pub struct IssueQuery {
    pub period: Option<String>,
    pub site: Option<String>,
    pub format: Option<String>,
    pub lang: Option<String>,
}

/// Issue the report now (a new version if it was issued before).
#[utoipa::path(post, path = "/api/v1/reports/{kind}/issue", params(("kind" = String, Path), IssueQuery),
    responses((status = 201, body = IssuedVersion), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn issue_now(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(kind): Path<String>,
    server::ApiQuery(q): server::ApiQuery<IssueQuery>,
) -> Result<(StatusCode, Json<IssuedVersion>), ApiError> {
    if !staff.0.has_any(&state.settings.issuer_roles) {
        return Err(auth::AuthError::Forbidden(format!("{} may not issue reports", staff.0.sub)).into());
    }
    let period = report::parse_period(&kind, q.period.as_deref(), state.tz)?;
    let mut tx = state.pool.begin().await?;
    let issued = issue(
        &mut tx,
        &state.settings,
        state.tz,
        &period,
        q.site.as_deref().unwrap_or(""),
        &staff.0.sub,
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(kind = %issued.kind, period = %issued.period, version = issued.version, "report issued");
    Ok((StatusCode::CREATED, Json(issued)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedList {
    pub items: Vec<IssuedVersion>,
}

/// The versions issued of a report.
#[utoipa::path(get, path = "/api/v1/reports/{kind}/issued", params(("kind" = String, Path), IssueQuery),
    responses((status = 200, body = IssuedList), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn list_issued(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(kind): Path<String>,
    server::ApiQuery(q): server::ApiQuery<IssueQuery>,
) -> Result<Json<IssuedList>, ApiError> {
    let period = report::parse_period(&kind, q.period.as_deref(), state.tz)?;
    let items = sqlx::query_as(
        "SELECT kind, period, site, version, issued_at, issued_by FROM issued_reports
          WHERE kind = $1 AND period = $2 AND site = $3 ORDER BY version",
    )
    .bind(&kind)
    .bind(period.label())
    .bind(q.site.as_deref().unwrap_or(""))
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(IssuedList { items }))
}

/// One issued version, exactly as issued, in any format.
#[utoipa::path(get, path = "/api/v1/reports/{kind}/issued/{version}", params(("kind" = String, Path), ("version" = i32, Path), IssueQuery),
    responses((status = 200, body = Report), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn get_issued(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path((kind, version)): Path<(String, i32)>,
    server::ApiQuery(q): server::ApiQuery<IssueQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let period = report::parse_period(&kind, q.period.as_deref(), state.tz)?;
    let format = report::format(q.format.as_deref(), &headers)?;
    let body: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT body FROM issued_reports WHERE kind = $1 AND period = $2 AND site = $3 AND version = $4",
    )
    .bind(&kind)
    .bind(period.label())
    .bind(q.site.as_deref().unwrap_or(""))
    .bind(version)
    .fetch_optional(&state.pool)
    .await?;
    let body =
        body.ok_or_else(|| ApiError::not_found(format!("version {version} of the {kind} report {}", period.label())))?;
    let report: Report = serde_json::from_value(body).map_err(ApiError::internal)?;
    report::respond(&report, format, q.lang.as_deref().unwrap_or("zh-CN"), Some(version))
}
