//! The quality documents of a case: the 8D report and the regulator report of an adverse event. Each change
//! locks the case, decides with the pure rules in `domain::{eight_d, regulator}`, and stores the document with a
//! case-history row and a `case.changed` event in one transaction.
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use server::{ApiError, ApiJson};
use sqlx::{PgConnection, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        access,
        eight_d::{self, EightD, EightDError, NewAction, SectionsPatch},
        regulator::{self, RegulatorError, RegulatorReport, ReportPatch},
        workflow::{may_act, Actor},
    },
    startup::AppState,
    store::{self, LockedCase},
};

fn eight_d_error(e: EightDError) -> ApiError {
    match e {
        EightDError::Invalid { field, message } => ApiError::invalid(field, message),
        EightDError::NoSuchAction(_) => ApiError::not_found(e.to_string()),
        EightDError::Closed => ApiError::new(StatusCode::CONFLICT, "eight_d_closed", e.to_string()),
        EightDError::NotDone => ApiError::new(StatusCode::CONFLICT, "action_not_done", e.to_string()),
        EightDError::Incomplete(_) => ApiError::new(StatusCode::CONFLICT, "eight_d_incomplete", e.to_string()),
    }
}

fn regulator_error(e: RegulatorError) -> ApiError {
    match e {
        RegulatorError::Invalid { field, message } => ApiError::invalid(field, message),
        RegulatorError::Forbidden(m) => auth::AuthError::Forbidden(m).into(),
        _ => ApiError::new(StatusCode::CONFLICT, "regulator_report_state", e.to_string()),
    }
}

fn stale(current: i32) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "stale_version",
        format!("someone else changed this document meanwhile (now version {current}); reload and edit again"),
    )
}

/// Splits `{"version": n, …fields}` into the version and the fields, parsed strictly (an unknown field is a
/// 422 naming it; serde's `flatten` would silently drop it).
fn versioned<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(i32, T), ApiError> {
    let mut value: Value = server::json::parse(body)?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    let version = match obj.remove("version") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| ApiError::invalid("version", "must be a whole number"))?,
        Some(_) => return Err(ApiError::invalid("version", "must be a whole number")),
        None => {
            return Err(ApiError::invalid(
                "version",
                "is required: the version you started editing from",
            ))
        }
    };
    let fields = server::json::parse(&serde_json::to_vec(&value).expect("serialisable"))?;
    Ok((version, fields))
}

/// What the documents need to know about their case besides the locked workflow state.
struct CaseFacts {
    category: String,
    subject: String,
    content: String,
    details: Value,
    language: String,
}

async fn facts(conn: &mut PgConnection, case_id: Uuid) -> Result<CaseFacts, sqlx::Error> {
    let r = sqlx::query("SELECT category, subject, content, details, customer FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await?;
    let customer: Value = r.get("customer");
    Ok(CaseFacts {
        category: r.get("category"),
        subject: r.get::<Option<String>, _>("subject").unwrap_or_default(),
        content: r.get("content"),
        details: r.get("details"),
        language: customer["language"].as_str().unwrap_or("zh-CN").to_owned(),
    })
}

async fn lock(conn: &mut PgConnection, id: &str) -> Result<(LockedCase, CaseFacts), ApiError> {
    let case = store::lock(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    let facts = facts(conn, case.id).await?;
    Ok((case, facts))
}

fn may_edit(actor: &Actor, roles: &[auth::Role], case: &LockedCase, what: &str) -> Result<(), ApiError> {
    if !actor.has_any(roles) {
        return Err(auth::AuthError::Forbidden(format!("{} may not edit the {what}", actor.id)).into());
    }
    // Managers edit every case's documents; others those of the cases they may act on.
    may_act(actor, &case.department, &case.site).map_err(|m| auth::AuthError::Forbidden(m).into())
}

// ---------------------------------------------------------------------------------------------- 8D

#[derive(Debug, Serialize, ToSchema)]
pub struct EightDView {
    pub case_id: Uuid,
    pub reference: String,
    /// 0 for a report not saved yet; send the current version with every edit.
    pub version: i32,
    pub closed: bool,
    pub report: EightD,
    /// What D8 still waits for, in English words.
    pub missing: Vec<String>,
    /// The same as data (`code`, `discipline`, `action`, `description`), for wording it in any language.
    pub missing_items: Vec<crate::domain::eight_d::Missing>,
    /// Whether this user may edit it (the case's category takes an 8D, the user holds an editor role and may
    /// act on the case, and the report is not closed).
    pub can_edit: bool,
    /// Whether this user may send it to the customer (again) now: an editor who may act on the case, once the
    /// report has been saved; closed or not.
    pub can_send: bool,
    /// The root-cause categories D4 chooses from (`[quality.eight_d] cause_categories`).
    pub cause_categories: Vec<String>,
}

fn eight_d_view(
    state: &AppState,
    actor: &Actor,
    case: &LockedCase,
    category: &str,
    version: i32,
    report: EightD,
) -> EightDView {
    let settings = &state.settings.quality.eight_d;
    let editor = settings.categories.iter().any(|c| c == category)
        && may_edit(actor, &settings.editor_roles, case, "8D report").is_ok();
    let can_edit = editor && report.closure.is_none();
    let can_send = editor && version > 0;
    EightDView {
        case_id: case.id,
        reference: case.reference.clone(),
        version,
        closed: report.closure.is_some(),
        missing: report.missing(),
        missing_items: report.missing_items(),
        can_edit,
        can_send,
        cause_categories: settings.cause_categories.clone(),
        report,
    }
}

async fn load_eight_d(conn: &mut PgConnection, case_id: Uuid) -> Result<(EightD, i32), ApiError> {
    let row: Option<(Value, i32)> = sqlx::query_as("SELECT report, version FROM eight_d_reports WHERE case_id = $1")
        .bind(case_id)
        .fetch_optional(conn)
        .await?;
    match row {
        Some((report, version)) => Ok((serde_json::from_value(report).map_err(ApiError::internal)?, version)),
        None => Ok((EightD::default(), 0)),
    }
}

async fn store_eight_d(conn: &mut PgConnection, case_id: Uuid, report: &EightD, by: &str) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO eight_d_reports (case_id, report, closed, updated_by, updated_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (case_id) DO UPDATE SET report = $2, closed = $3, updated_by = $4, updated_at = now(),
                version = eight_d_reports.version + 1
         RETURNING version",
    )
    .bind(case_id)
    .bind(serde_json::to_value(report).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(report.closure.is_some())
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Locks the case, checks the 8D applies and the actor may edit it, applies `change`, stores and records it.
async fn change_eight_d(
    state: &AppState,
    staff: &auth::Staff,
    id: &str,
    expected_version: Option<i32>,
    action: &str,
    change: impl FnOnce(&EightD, &Actor) -> Result<(EightD, Value), EightDError>,
) -> Result<EightDView, ApiError> {
    let actor = Actor::from(&staff.0);
    let mut tx = state.pool.begin().await?;
    let (case, facts) = lock(&mut tx, id).await?;
    let settings = &state.settings.quality.eight_d;
    may_edit(&actor, &settings.editor_roles, &case, "8D report")?;
    if !settings.categories.contains(&facts.category) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_applicable",
            format!(
                "8D reports are written for {} cases; this case is {}",
                settings.categories.join(", "),
                facts.category
            ),
        ));
    }
    let (current, version) = load_eight_d(&mut tx, case.id).await?;
    if let Some(expected) = expected_version {
        if expected != version {
            return Err(stale(version));
        }
    }
    let (next, detail) = change(&current, &actor).map_err(eight_d_error)?;
    let version = store_eight_d(&mut tx, case.id, &next, &actor.id).await?;
    store::record_unchanged(&mut tx, &case, action, &actor.id, detail, json!({})).await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(case = %case.reference, action, actor = %actor.id, "8D report changed");
    Ok(eight_d_view(state, &actor, &case, &facts.category, version, next))
}

async fn read_case(state: &AppState, staff: &auth::Staff, id: &str) -> Result<(LockedCase, CaseFacts), ApiError> {
    // store::lock takes the row lock; this transaction ends at once, so readers hold it only briefly.
    let mut tx = state.pool.begin().await?;
    let (case, facts) = lock(&mut tx, id).await?;
    tx.commit().await?;
    let actor = Actor::from(&staff.0);
    access::can_read(&actor, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
    Ok((case, facts))
}

/// The case's 8D report (an empty draft with version 0 until someone writes it).
#[utoipa::path(get, path = "/api/v1/cases/{id}/8d", params(("id" = String, Path, description = "case id or reference")),
    responses((status = 200, body = EightDView), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_eight_d(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<EightDView>, ApiError> {
    let (case, facts) = read_case(&state, &staff, &id).await?;
    let (report, version) = load_eight_d(&mut *state.pool.acquire().await?, case.id).await?;
    let actor = Actor::from(&staff.0);
    Ok(Json(eight_d_view(
        &state,
        &actor,
        &case,
        &facts.category,
        version,
        report,
    )))
}

/// The body of an edit (documentation only; parsed by `versioned`): `version`, the one the editor started
/// from (0 for a new document), and the fields to change.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct EditEightD {
    pub version: i32,
    pub sections: SectionsPatch,
}

/// Edit the text sections D1–D7 (absent fields stay as they are).
#[utoipa::path(put, path = "/api/v1/cases/{id}/8d", params(("id" = String, Path)), request_body = EditEightD,
    responses((status = 200, body = EightDView), (status = 403), (status = 404),
               (status = 409, description = "stale version, closed report, or not a product-quality case"), (status = 422)),
    security(("bearer" = [])))]
pub async fn edit_eight_d(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<EightDView>, ApiError> {
    let (version, sections): (i32, SectionsPatch) = versioned(&body)?;
    let allowed = &state.settings.quality.eight_d.cause_categories;
    if let Some(c) = sections.cause_category.as_deref().map(str::trim) {
        if !c.is_empty() && !allowed.iter().any(|a| a == c) {
            return Err(ApiError::invalid(
                "cause_category",
                format!("`{c}` is not one of {}", allowed.join(", ")),
            ));
        }
    }
    let view = change_eight_d(&state, &staff, &id, Some(version), "eight_d_edited", |r, _| {
        let next = r.edit(sections)?;
        // Reporting counts causes from this event (the Pareto of root causes).
        let detail = if next.cause_category.is_empty() {
            json!({})
        } else {
            json!({ "cause_category": next.cause_category })
        };
        Ok((next, detail))
    })
    .await?;
    Ok(Json(view))
}

/// Add an action (D3, D5, D6 or D7) with its owner and due date.
#[utoipa::path(post, path = "/api/v1/cases/{id}/8d/actions", params(("id" = String, Path)), request_body = NewAction,
    responses((status = 201, body = EightDView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn add_eight_d_action(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewAction>,
) -> Result<(StatusCode, Json<EightDView>), ApiError> {
    let action_id = Uuid::now_v7();
    let detail = json!({ "action_id": action_id, "discipline": body.discipline, "owner": body.owner,
                         "due_date": body.due_date });
    let view = change_eight_d(&state, &staff, &id, None, "eight_d_action_added", |r, _| {
        Ok((r.add_action(body, action_id)?, detail))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionDone {
    #[serde(default)]
    pub note: String,
}

/// Mark an action done.
#[utoipa::path(post, path = "/api/v1/cases/{id}/8d/actions/{action_id}/done", params(("id" = String, Path), ("action_id" = Uuid, Path)),
    request_body = ActionDone, responses((status = 200, body = EightDView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn eight_d_action_done(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path((id, action_id)): Path<(String, Uuid)>,
    ApiJson(body): ApiJson<ActionDone>,
) -> Result<Json<EightDView>, ApiError> {
    let view = change_eight_d(&state, &staff, &id, None, "eight_d_action_done", |r, _| {
        Ok((
            r.mark_done(action_id, &body.note, Utc::now())?,
            json!({ "action_id": action_id }),
        ))
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyAction {
    pub effective: bool,
    pub note: String,
}

/// Record the verification of an action's effect; an ineffective action is open again.
#[utoipa::path(post, path = "/api/v1/cases/{id}/8d/actions/{action_id}/verify", params(("id" = String, Path), ("action_id" = Uuid, Path)),
    request_body = VerifyAction, responses((status = 200, body = EightDView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn verify_eight_d_action(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path((id, action_id)): Path<(String, Uuid)>,
    ApiJson(body): ApiJson<VerifyAction>,
) -> Result<Json<EightDView>, ApiError> {
    let view = change_eight_d(&state, &staff, &id, None, "eight_d_action_verified", |r, actor| {
        let next = r.verify(action_id, body.effective, &body.note, &actor.id, Utc::now())?;
        Ok((next, json!({ "action_id": action_id, "effective": body.effective })))
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseEightD {
    pub note: String,
}

/// D8: close the report; refused with the list of what is missing until D1–D7 are complete and every action is
/// done and verified effective.
#[utoipa::path(post, path = "/api/v1/cases/{id}/8d/close", params(("id" = String, Path)), request_body = CloseEightD,
    responses((status = 200, body = EightDView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn close_eight_d(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseEightD>,
) -> Result<Json<EightDView>, ApiError> {
    let view = change_eight_d(&state, &staff, &id, None, "eight_d_closed", |r, actor| {
        Ok((r.close(&body.note, &actor.id, Utc::now())?, json!({})))
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
pub struct DocumentQuery {
    /// zh-CN or en; default: the customer's language.
    pub lang: Option<String>,
    /// html (default) or text.
    pub format: Option<String>,
}

fn heading<'a>(case: &'a LockedCase, facts: &'a CaseFacts) -> eight_d::CaseHeading<'a> {
    eight_d::CaseHeading {
        reference: &case.reference,
        subject: &facts.subject,
        product: facts.details["product"]["code"].as_str().unwrap_or_default(),
        batch: facts.details["product"]["batch"].as_str().unwrap_or_default(),
    }
}

/// The 8D report as a document for the customer: printable HTML or plain text.
#[utoipa::path(get, path = "/api/v1/cases/{id}/8d/document", params(("id" = String, Path),
    ("lang" = Option<String>, Query), ("format" = Option<String>, Query, description = "html or text")),
    responses((status = 200, description = "the document"), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn eight_d_document(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    server::ApiQuery(q): server::ApiQuery<DocumentQuery>,
) -> Result<Response, ApiError> {
    let (case, facts) = read_case(&state, &staff, &id).await?;
    let (report, version) = load_eight_d(&mut *state.pool.acquire().await?, case.id).await?;
    if version == 0 {
        return Err(ApiError::not_found(format!("an 8D report for case {}", case.reference)));
    }
    let language = q.lang.unwrap_or_else(|| facts.language.clone());
    let heading = heading(&case, &facts);
    match q.format.as_deref().unwrap_or("html") {
        "html" => Ok((
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            eight_d::render_html(&report, &heading, &language),
        )
            .into_response()),
        "text" => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            eight_d::render_text(&report, &heading, &language),
        )
            .into_response()),
        other => Err(ApiError::invalid("format", format!("`{other}` is not html or text"))),
    }
}

/// Send the 8D report to the customer (001 §5.11): recorded on the case and mailed by notification in the
/// customer's language.
#[utoipa::path(post, path = "/api/v1/cases/{id}/8d/send", params(("id" = String, Path)),
    responses((status = 200, body = EightDView), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn send_eight_d(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<EightDView>, ApiError> {
    let actor = Actor::from(&staff.0);
    let mut tx = state.pool.begin().await?;
    let (case, facts) = lock(&mut tx, &id).await?;
    may_edit(&actor, &state.settings.quality.eight_d.editor_roles, &case, "8D report")?;
    let (report, version) = load_eight_d(&mut tx, case.id).await?;
    if version == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_eight_d",
            "this case has no 8D report to send",
        ));
    }
    let text = eight_d::render_text(&report, &heading(&case, &facts), &facts.language);
    store::record_unchanged(
        &mut tx,
        &case,
        "send_8d",
        &actor.id,
        json!({ "text": text, "language": facts.language, "version": version }),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify();
    Ok(Json(eight_d_view(
        &state,
        &actor,
        &case,
        &facts.category,
        version,
        report,
    )))
}

// ------------------------------------------------------------------------------- regulator report

#[derive(Debug, Serialize, ToSchema)]
pub struct RegulatorView {
    pub case_id: Uuid,
    pub reference: String,
    /// 0 for the draft prepared from the case, not saved yet.
    pub version: i32,
    pub report: RegulatorReport,
    pub missing: Vec<&'static str>,
    /// What this user may do with it now (the domain's own checks, tried without changing anything).
    pub can_edit: bool,
    pub can_approve: bool,
    pub can_submit: bool,
}

async fn load_regulator(
    conn: &mut PgConnection,
    settings: &regulator::RegulatorSettings,
    case: &LockedCase,
    facts: &CaseFacts,
) -> Result<(RegulatorReport, i32), ApiError> {
    if !settings.categories.contains(&facts.category) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_applicable",
            format!(
                "regulator reports are made for {} cases; this case is {}",
                settings.categories.join(", "),
                facts.category
            ),
        ));
    }
    let row: Option<(Value, i32)> = sqlx::query_as("SELECT report, version FROM regulator_reports WHERE case_id = $1")
        .bind(case.id)
        .fetch_optional(conn)
        .await?;
    match row {
        Some((report, version)) => Ok((serde_json::from_value(report).map_err(ApiError::internal)?, version)),
        None => Ok((regulator::draft(settings, &facts.details, &facts.content), 0)),
    }
}

fn regulator_view(
    state: &AppState,
    actor: &Actor,
    case: &LockedCase,
    version: i32,
    report: RegulatorReport,
) -> RegulatorView {
    let settings = &state.settings.quality.regulator;
    let in_reach = access::can_read(actor, &case.department, &case.site).is_ok();
    let now = Utc::now();
    RegulatorView {
        case_id: case.id,
        reference: case.reference.clone(),
        version,
        missing: report.missing(),
        can_edit: in_reach && report.edit(settings, actor, ReportPatch::default()).is_ok(),
        can_approve: in_reach && report.approve(settings, actor, now).is_ok(),
        can_submit: in_reach && report.submit(settings, actor, "-", now).is_ok(),
        report,
    }
}

async fn change_regulator(
    state: &AppState,
    staff: &auth::Staff,
    id: &str,
    expected_version: Option<i32>,
    action: &str,
    change: impl FnOnce(&RegulatorReport, &Actor) -> Result<RegulatorReport, RegulatorError>,
) -> Result<RegulatorView, ApiError> {
    let actor = Actor::from(&staff.0);
    let settings = &state.settings.quality.regulator;
    let mut tx = state.pool.begin().await?;
    let (case, facts) = lock(&mut tx, id).await?;
    access::can_read(&actor, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
    let (current, version) = load_regulator(&mut tx, settings, &case, &facts).await?;
    if let Some(expected) = expected_version {
        if expected != version {
            return Err(stale(version));
        }
    }
    let next = change(&current, &actor).map_err(regulator_error)?;
    let version: i32 = sqlx::query_scalar(
        "INSERT INTO regulator_reports (case_id, report, status, updated_by, updated_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (case_id) DO UPDATE SET report = $2, status = $3, updated_by = $4, updated_at = now(),
                version = regulator_reports.version + 1
         RETURNING version",
    )
    .bind(case.id)
    .bind(serde_json::to_value(&next).map_err(ApiError::internal)?)
    .bind(next.status.as_str())
    .bind(&actor.id)
    .fetch_one(&mut *tx)
    .await?;
    store::record_unchanged(
        &mut tx,
        &case,
        action,
        &actor.id,
        json!({ "status": next.status, "submission_reference": next.submission_reference }),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(case = %case.reference, action, actor = %actor.id, "regulator report changed");
    Ok(regulator_view(state, &actor, &case, version, next))
}

/// The adverse event's regulator report (a draft prepared from the case until someone saves it).
#[utoipa::path(get, path = "/api/v1/cases/{id}/regulator-report", params(("id" = String, Path)),
    responses((status = 200, body = RegulatorView), (status = 403), (status = 404),
               (status = 409, description = "not an adverse-event case")), security(("bearer" = [])))]
pub async fn get_regulator_report(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<RegulatorView>, ApiError> {
    let (case, facts) = read_case(&state, &staff, &id).await?;
    let (report, version) = load_regulator(
        &mut *state.pool.acquire().await?,
        &state.settings.quality.regulator,
        &case,
        &facts,
    )
    .await?;
    let actor = Actor::from(&staff.0);
    Ok(Json(regulator_view(&state, &actor, &case, version, report)))
}

/// The body of an edit (documentation only; parsed by `versioned`): `version`, the one the editor started
/// from (0 for a new document), and the fields to change.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct EditRegulator {
    pub version: i32,
    pub fields: ReportPatch,
}

/// Edit the report; a change after approval withdraws the approval.
#[utoipa::path(put, path = "/api/v1/cases/{id}/regulator-report", params(("id" = String, Path)), request_body = EditRegulator,
    responses((status = 200, body = RegulatorView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn edit_regulator_report(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<RegulatorView>, ApiError> {
    let (version, fields): (i32, ReportPatch) = versioned(&body)?;
    let settings = state.settings.quality.regulator.clone();
    let view = change_regulator(&state, &staff, &id, Some(version), "regulator_report_edited", |r, a| {
        r.edit(&settings, a, fields)
    })
    .await?;
    Ok(Json(view))
}

/// Approve the report (the general manager, by default).
#[utoipa::path(post, path = "/api/v1/cases/{id}/regulator-report/approve", params(("id" = String, Path)),
    responses((status = 200, body = RegulatorView), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn approve_regulator_report(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<RegulatorView>, ApiError> {
    let settings = state.settings.quality.regulator.clone();
    let view = change_regulator(&state, &staff, &id, None, "regulator_report_approved", |r, a| {
        r.approve(&settings, a, Utc::now())
    })
    .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRegulator {
    /// The authority's acknowledgement number.
    pub submission_reference: String,
}

/// Mark the approved report submitted to the authority.
#[utoipa::path(post, path = "/api/v1/cases/{id}/regulator-report/submit", params(("id" = String, Path)), request_body = SubmitRegulator,
    responses((status = 200, body = RegulatorView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn submit_regulator_report(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitRegulator>,
) -> Result<Json<RegulatorView>, ApiError> {
    let settings = state.settings.quality.regulator.clone();
    let view = change_regulator(&state, &staff, &id, None, "regulator_report_submitted", |r, a| {
        r.submit(&settings, a, &body.submission_reference, Utc::now())
    })
    .await?;
    Ok(Json(view))
}
