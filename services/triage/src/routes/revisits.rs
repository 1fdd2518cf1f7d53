//! Revisits (回访) over HTTP: the call queue, manual tasks, attempts, outcomes and the manager's close.
//! Each handler: parse, authorise (`domain::revisit` access rules), lock, decide (pure), store with
//! its event in one transaction, respond.
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use chrono::{DateTime, Duration, Utc};
use contracts::{
    revisit::{RevisitAttemptedV1, RevisitClosedV1, RevisitCompletedV1, RevisitReason},
    Envelope,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use server::ApiError;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::{
        access,
        revisit::{self, AttemptKind, Method, OnDissatisfied, Question, RevisitError, TaskStatus},
        workflow::{self, Action, Actor, Status},
    },
    revisits::{self, NewTask, TaskRow, TASK_COLUMNS},
    startup::AppState,
    store::{self, Change},
};

fn revisit_error(e: RevisitError) -> ApiError {
    match e {
        RevisitError::Invalid { field, message } => ApiError::invalid(field, message),
        RevisitError::Conflict(m) => ApiError::conflict(m),
    }
}

fn forbidden(reason: String) -> ApiError {
    auth::AuthError::Forbidden(reason).into()
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found(format!("revisit {id}")))
}

/// The customer as this user may see them: masked unless their role needs the contact data.
fn customer_view(state: &AppState, actor: &Actor, customer: &Value) -> Value {
    let c = json!({ "name": customer["name"], "phone": customer["phone"], "email": customer["email"] });
    if access::sees_personal_data(actor, &state.settings.privacy.unmasked_roles) {
        c
    } else {
        access::mask_customer(&c)
    }
}

/// Site scope: staff with sites see only those sites' revisits.
fn may_see_site(actor: &Actor, site: &str) -> Result<(), ApiError> {
    if actor.sites.is_empty() || actor.sites.iter().any(|s| s == site) {
        Ok(())
    } else {
        Err(forbidden(format!("{} does not work for site {site}", actor.id)))
    }
}

/// A revisit task in the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisitItem {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_reference: String,
    pub site: String,
    pub due_at: DateTime<Utc>,
    /// after_close, after_service, warranty_cadence, key_account, manual, follow_up
    pub reason: String,
    pub sequence: i32,
    /// open, done, unreachable, declined, cancelled, closed
    pub status: String,
    pub required_role: String,
    pub attempts: i32,
    /// name, phone, email (masked unless the role needs them)
    #[schema(value_type = Object)]
    pub customer: Value,
    /// Due, and inside a call window on a working day in the customer's time zone.
    pub callable_now: bool,
    /// The first call-window instant at or after the later of now and the due time (open tasks).
    pub next_window_start: Option<DateTime<Utc>>,
    pub time_zone: String,
}

fn item(state: &AppState, actor: &Actor, t: &TaskRow, customer: &Value, now: DateTime<Utc>) -> RevisitItem {
    let windows = state.settings.revisit.windows(&t.time_zone).ok();
    let open = t.is(TaskStatus::Open);
    RevisitItem {
        id: t.id,
        case_id: t.case_id,
        case_reference: t.case_reference.clone(),
        site: t.site.clone(),
        due_at: t.due_at,
        reason: t.reason.clone(),
        sequence: t.sequence,
        status: t.status.clone(),
        required_role: t.required_role.clone(),
        attempts: t.attempts,
        customer: customer_view(state, actor, customer),
        callable_now: open
            && windows
                .as_ref()
                .is_some_and(|w| revisit::callable_now(w, t.due_at, now)),
        next_window_start: windows
            .as_ref()
            .filter(|_| open)
            .and_then(|w| revisit::next_window_start(w, t.due_at.max(now))),
        time_zone: t.time_zone.clone(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    pub site: Option<String>,
    /// The role that calls (agent, department_head, general_manager, …).
    pub role: Option<String>,
    /// open (default), done (everything no longer open) or all.
    pub status: Option<String>,
    /// true: open tasks whether due and callable now or not.
    pub include_outside_window: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisitPage {
    pub items: Vec<RevisitItem>,
    pub next_cursor: Option<String>,
}

fn parse_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || ApiError::invalid("cursor", "is not a cursor this API gave out");
    let (at, id) = cursor.split_once('_').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.with_timezone(&Utc);
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

fn cursor_of(t: &TaskRow) -> String {
    format!(
        "{}_{}",
        t.due_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        t.id
    )
}

/// The call queue, by due time: by default only open tasks that are due and callable now (inside a call
/// window on a working day in the customer's time zone), never customers who declined revisits.
#[utoipa::path(get, path = "/api/v1/revisits", params(QueueQuery),
    responses((status = 200, body = RevisitPage), (status = 401), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    staff: auth::Staff,
    server::ApiQuery(q): server::ApiQuery<QueueQuery>,
) -> Result<Json<RevisitPage>, ApiError> {
    let actor = Actor::from(&staff.0);
    revisit::may_read(&state.settings.revisit, &actor).map_err(forbidden)?;
    let limits = &state.settings.lists;
    let limit = q.limit.unwrap_or(limits.page_size);
    if !(1..=limits.max_page_size).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {}", limits.max_page_size),
        ));
    }
    let status = q.status.as_deref().unwrap_or("open");
    if !["open", "done", "all"].contains(&status) {
        return Err(ApiError::invalid("status", "must be open, done or all"));
    }
    if let Some(role) = &q.role {
        if serde_json::from_value::<auth::Role>(Value::String(role.clone())).is_err() {
            return Err(ApiError::invalid("role", format!("unknown role `{role}`")));
        }
    }
    let mut after = q.cursor.as_deref().map(parse_cursor).transpose()?;
    let only_callable = status == "open" && !q.include_outside_window.unwrap_or(false);
    let now = Utc::now();
    let mut items = Vec::new();
    let mut last_kept: Option<TaskRow> = None;
    let mut has_more = false;
    // Window filtering happens per customer time zone after the query, so read in chunks until the page fills.
    let chunk = limit + 1;
    for _ in 0..50 {
        let mut b: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {TASK_COLUMNS}, c.customer FROM revisits r JOIN cases c ON c.id = r.case_id WHERE true"
        ));
        if !actor.sites.is_empty() {
            b.push(" AND r.site = ANY(").push_bind(actor.sites.clone()).push(")");
        }
        if let Some(site) = &q.site {
            b.push(" AND r.site = ").push_bind(site.clone());
        }
        if let Some(department) = revisit::queue_department(&state.settings.revisit, &actor) {
            b.push(" AND c.department = ").push_bind(department);
        }
        if let Some(role) = &q.role {
            b.push(" AND r.required_role = ").push_bind(role.clone());
        }
        match status {
            "open" => {
                b.push(
                    " AND r.status = 'open' AND NOT EXISTS
                      (SELECT 1 FROM revisit_do_not_call d WHERE d.contact_key = r.contact_key)",
                );
            }
            "done" => {
                b.push(" AND r.status <> 'open'");
            }
            _ => {}
        }
        if only_callable {
            b.push(" AND r.due_at <= ").push_bind(now);
        }
        if let Some((at, id)) = after {
            b.push(" AND (r.due_at, r.id) > (")
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        b.push(" ORDER BY r.due_at, r.id LIMIT ").push_bind(chunk);
        let rows = b.build().fetch_all(&state.pool).await?;
        let fetched = rows.len() as i64;
        for row in &rows {
            let t: TaskRow = sqlx::FromRow::from_row(row)?;
            let customer: Value = row.get("customer");
            after = Some((t.due_at, t.id));
            let it = item(&state, &actor, &t, &customer, now);
            if only_callable && !it.callable_now {
                continue;
            }
            if items.len() as i64 == limit {
                has_more = true;
                break;
            }
            items.push(it);
            last_kept = Some(t);
        }
        if has_more || fetched < chunk {
            break;
        }
    }
    let next_cursor = if has_more {
        last_kept.as_ref().map(cursor_of)
    } else {
        None
    };
    Ok(Json(RevisitPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRevisit {
    /// The case id (or its reference).
    pub case_id: Option<String>,
    pub reference: Option<String>,
    /// Default: now.
    pub due_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Create a revisit task by hand.
#[utoipa::path(post, path = "/api/v1/revisits", request_body = NewRevisit,
    responses((status = 201, body = RevisitDetail), (status = 403), (status = 404), (status = 409, description = "the customer declined revisits"),
               (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    staff: auth::Staff,
    server::ApiJson(body): server::ApiJson<NewRevisit>,
) -> Result<(StatusCode, Json<RevisitDetail>), ApiError> {
    let actor = Actor::from(&staff.0);
    let settings = &state.settings.revisit;
    revisit::may_record(settings, &actor, None, "").map_err(forbidden)?;
    let key = body
        .case_id
        .as_deref()
        .or(body.reference.as_deref())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::invalid("case_id", "name the case by `case_id` or `reference`"))?;
    let mut tx = state.pool.begin().await?;
    let case = revisits::case_facts(&mut tx, key, true)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {key}")))?;
    may_see_site(&actor, &case.site)?;
    if case.is_anonymous() {
        return Err(ApiError::invalid(
            "case_id",
            "anonymous feedback gets no revisit (003 篇6 §1.13)",
        ));
    }
    if revisits::is_do_not_call(&mut tx, case.contact_key.as_deref()).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "do_not_call",
            "the customer declined revisits",
        ));
    }
    let sequence = revisits::next_sequence(&mut tx, case.id).await?;
    let id = revisits::insert_task(
        &mut tx,
        settings,
        NewTask {
            case: &case,
            reason: RevisitReason::Manual,
            sequence,
            due_at: body.due_at.unwrap_or_else(Utc::now),
            note: body.note.as_deref().map(str::trim).filter(|n| !n.is_empty()),
            previous_id: None,
            created_by: &actor.id,
        },
    )
    .await?
    .ok_or_else(|| ApiError::conflict("a revisit with this sequence was just created; try again"))?;
    tx.commit().await?;
    tracing::info!(revisit = %id, case = %case.reference, actor = %actor.id, "manual revisit created");
    Ok((StatusCode::CREATED, Json(load_detail(&state, &actor, id).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub call_back_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A task with its attempts, outcome, the questionnaire and its case.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisitDetail {
    #[serde(flatten)]
    pub item: RevisitItem,
    pub note: Option<String>,
    pub method: Option<String>,
    pub score: Option<i32>,
    pub satisfied: Option<bool>,
    /// answers, comments, signature
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<Value>,
    pub closed_reason: Option<String>,
    pub previous_id: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub attempt_log: Vec<AttemptView>,
    #[schema(value_type = Vec<Object>)]
    pub questionnaire: Vec<Question>,
    /// reference, status, class, category, severity, department, subject
    #[schema(value_type = Object)]
    pub case: Value,
}

async fn load_detail(state: &AppState, actor: &Actor, id: Uuid) -> Result<RevisitDetail, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let t = revisits::task(&mut conn, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("revisit {id}")))?;
    may_see_site(actor, &t.site)?;
    let case = revisits::case_facts(&mut conn, &t.case_id.to_string(), false)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {}", t.case_id)))?;
    if let Some(department) = revisit::queue_department(&state.settings.revisit, actor) {
        if department != case.department {
            return Err(forbidden(format!(
                "{} reads the revisits of department {department} only",
                actor.id
            )));
        }
    }
    let attempts = sqlx::query(
        "SELECT at, actor, kind, call_back_at, note FROM revisit_attempts WHERE revisit_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| AttemptView {
        at: r.get("at"),
        actor: r.get("actor"),
        kind: r.get("kind"),
        call_back_at: r.get("call_back_at"),
        note: r.get("note"),
    })
    .collect();
    Ok(RevisitDetail {
        item: item(state, actor, &t, &case.customer, Utc::now()),
        note: t.note.clone(),
        method: t.method.clone(),
        score: t.score,
        satisfied: t.satisfied,
        outcome: t.outcome.clone(),
        closed_reason: t.closed_reason.clone(),
        previous_id: t.previous_id,
        created_by: t.created_by.clone(),
        created_at: t.created_at,
        completed_at: t.completed_at,
        attempt_log: attempts,
        questionnaire: state.settings.revisit.questionnaire.clone(),
        case: json!({
            "id": case.id, "reference": case.reference, "status": case.status, "class": case.class,
            "category": case.category, "severity": case.severity, "department": case.department,
            "subject": case.subject,
        }),
    })
}

/// One revisit task with its attempts, outcome, questionnaire and case summary.
#[utoipa::path(get, path = "/api/v1/revisits/{id}", params(("id" = Uuid, Path)),
    responses((status = 200, body = RevisitDetail), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<RevisitDetail>, ApiError> {
    let actor = Actor::from(&staff.0);
    revisit::may_read(&state.settings.revisit, &actor).map_err(forbidden)?;
    Ok(Json(load_detail(&state, &actor, parse_id(&id)?).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionnaireView {
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<Question>,
    pub score_question: String,
    pub dissatisfied_threshold: u8,
}

/// The configured questionnaire (id, labels zh/en, kind score0to5 | text | yesno).
#[utoipa::path(get, path = "/api/v1/revisits/questionnaire",
    responses((status = 200, body = QuestionnaireView), (status = 403)), security(("bearer" = [])))]
pub async fn questionnaire(
    State(state): State<AppState>,
    staff: auth::Staff,
) -> Result<Json<QuestionnaireView>, ApiError> {
    let actor = Actor::from(&staff.0);
    let s = &state.settings.revisit;
    revisit::may_read(s, &actor).map_err(forbidden)?;
    Ok(Json(QuestionnaireView {
        questions: s.questionnaire.clone(),
        score_question: s.score_question.clone(),
        dissatisfied_threshold: s.dissatisfied_threshold,
    }))
}

/// Locks an open task the actor may record on.
async fn lock_for_recording(
    state: &AppState,
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<TaskRow, ApiError> {
    let t = revisits::task(conn, id, true)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("revisit {id}")))?;
    may_see_site(actor, &t.site)?;
    let department: Option<String> = sqlx::query_scalar("SELECT department FROM cases WHERE id = $1")
        .bind(t.case_id)
        .fetch_optional(&mut *conn)
        .await?;
    revisit::may_record(
        &state.settings.revisit,
        actor,
        t.required_role(),
        department.as_deref().unwrap_or_default(),
    )
    .map_err(forbidden)?;
    if !t.is(TaskStatus::Open) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "revisit_not_open",
            format!("the revisit is {}", t.status),
        ));
    }
    Ok(t)
}

async fn correlation_of(conn: &mut PgConnection, case_id: Uuid) -> sqlx::Result<Uuid> {
    sqlx::query_scalar("SELECT feedback_id FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAttempt {
    /// no_answer, busy, wrong_number, call_back, declined
    pub kind: String,
    /// Required for call_back; moved into the next call window when outside one.
    pub call_back_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Record a call attempt that reached no outcome.
#[utoipa::path(post, path = "/api/v1/revisits/{id}/attempts", params(("id" = Uuid, Path)), request_body = NewAttempt,
    responses((status = 200, body = RevisitDetail), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn attempt(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    server::ApiJson(body): server::ApiJson<NewAttempt>,
) -> Result<Json<RevisitDetail>, ApiError> {
    let actor = Actor::from(&staff.0);
    let settings = &state.settings.revisit;
    revisit::may_read(settings, &actor).map_err(forbidden)?;
    let id = parse_id(&id)?;
    let kind: AttemptKind = serde_json::from_value(Value::String(body.kind.clone()))
        .map_err(|_| ApiError::invalid("kind", "must be no_answer, busy, wrong_number, call_back or declined"))?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let t = lock_for_recording(&state, &mut tx, &actor, id).await?;
    let windows = settings.windows(&t.time_zone).map_err(ApiError::internal)?;
    let decision = revisit::decide_attempt(settings, &windows, kind, body.call_back_at, now).map_err(revisit_error)?;
    let note = body.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    sqlx::query(
        "INSERT INTO revisit_attempts (revisit_id, at, actor, kind, call_back_at, note) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(id)
    .bind(now)
    .bind(&actor.id)
    .bind(kind.as_str())
    .bind(body.call_back_at)
    .bind(note)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE revisits SET attempts = attempts + 1, status = $2, due_at = coalesce($3, due_at), updated_at = $4,
                completed_at = CASE WHEN $2 = 'open' THEN NULL ELSE $4 END
          WHERE id = $1",
    )
    .bind(id)
    .bind(decision.status.as_str())
    .bind(decision.next_due)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if decision.do_not_call {
        if let Some(key) = &t.contact_key {
            // Remembered: no more calls to this customer (003 篇4 §5.2), on any of their cases.
            sqlx::query(
                "INSERT INTO revisit_do_not_call (contact_key, since, actor, revisit_id) VALUES ($1,$2,$3,$4)
                 ON CONFLICT (contact_key) DO NOTHING",
            )
            .bind(key)
            .bind(now)
            .bind(&actor.id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE revisits SET status = 'cancelled', updated_at = $2, completed_at = $2
                  WHERE contact_key = $1 AND status = 'open'",
            )
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    let correlation = correlation_of(&mut tx, t.case_id).await?;
    let event = RevisitAttemptedV1 {
        revisit_id: id,
        case_id: t.case_id,
        reference: t.case_reference.clone(),
        site: t.site.clone(),
        kind: kind.as_str().into(),
        attempt: (t.attempts + 1) as u32,
        next_due_at: decision.next_due,
        actor: actor.id.clone(),
        at: now,
    };
    messaging::enqueue(&mut tx, &Envelope::new(t.site.clone(), correlation, event)).await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(revisit = %id, kind = kind.as_str(), actor = %actor.id, "revisit attempt recorded");
    Ok(Json(load_detail(&state, &actor, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOutcome {
    /// phone, sms, online, email, on_site
    pub method: String,
    /// Answers by question id (see GET /api/v1/revisits/questionnaire).
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// The customer's signature (a data URL or the signer's name); required on site.
    pub signature: Option<String>,
    pub comments: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeResult {
    pub id: Uuid,
    pub satisfied: bool,
    pub score: Option<u8>,
    /// The dissatisfied outcome reopened the case (or opened a linked one).
    pub case_reopened: bool,
    /// The case opened for the problem, with `on_dissatisfied = "linked_case"`.
    pub linked_case_reference: Option<String>,
    /// The next revisit, scheduled after a dissatisfied one.
    pub next_revisit_id: Option<Uuid>,
}

/// Record the outcome of a revisit: satisfied closes the loop; dissatisfied reopens the case (its department
/// is told through `case.changed`) and schedules the next revisit.
#[utoipa::path(post, path = "/api/v1/revisits/{id}/outcome", params(("id" = Uuid, Path)), request_body = NewOutcome,
    responses((status = 200, body = OutcomeResult), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn outcome(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    server::ApiJson(body): server::ApiJson<NewOutcome>,
) -> Result<Json<OutcomeResult>, ApiError> {
    let actor = Actor::from(&staff.0);
    let settings = &state.settings.revisit;
    revisit::may_read(settings, &actor).map_err(forbidden)?;
    let id = parse_id(&id)?;
    let method: Method = serde_json::from_value(Value::String(body.method.clone()))
        .map_err(|_| ApiError::invalid("method", "must be phone, sms, online, email or on_site"))?;
    let assessed =
        revisit::assess(settings, method, &body.answers, body.signature.as_deref()).map_err(revisit_error)?;
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let t = lock_for_recording(&state, &mut tx, &actor, id).await?;
    let comments = body.comments.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let record = json!({
        "method": method.as_str(),
        "answers": assessed.answers,
        "problem_reported": assessed.problem_reported,
        "comments": comments,
        "signature": body.signature.as_deref().map(str::trim).filter(|s| !s.is_empty()),
        // Phone revisits are marked as such (篇6 §1.7).
        "phone_revisit": method == Method::Phone,
        "recorded_by": actor.id,
    });
    sqlx::query(
        "UPDATE revisits SET status = 'done', method = $2, score = $3, satisfied = $4, outcome = $5,
                updated_at = $6, completed_at = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(method.as_str())
    .bind(assessed.score.map(i32::from))
    .bind(assessed.satisfied)
    .bind(&record)
    .bind(now)
    .execute(&mut *tx)
    .await?;

    let mut effect = CaseEffect::None;
    let mut next_revisit_id = None;
    if !assessed.satisfied {
        effect = tell_the_case(&state, &mut tx, &actor, &t, &assessed, comments, now).await?;
        let case = revisits::case_facts(&mut tx, &t.case_id.to_string(), false)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("case {}", t.case_id)))?;
        let windows = settings.windows(&t.time_zone).map_err(ApiError::internal)?;
        let after = now + Duration::hours(settings.next_revisit_after_hours.into());
        let due_at = revisit::next_window_start(&windows, after).unwrap_or(after);
        let sequence = revisits::next_sequence(&mut tx, t.case_id).await?;
        next_revisit_id = revisits::insert_task(
            &mut tx,
            settings,
            NewTask {
                case: &case,
                reason: RevisitReason::FollowUp,
                sequence,
                due_at,
                note: None,
                previous_id: Some(id),
                created_by: &actor.id,
            },
        )
        .await?;
    }
    let case_reopened = matches!(effect, CaseEffect::Reopened | CaseEffect::Linked(_));
    let correlation = correlation_of(&mut tx, t.case_id).await?;
    let event = RevisitCompletedV1 {
        revisit_id: id,
        case_id: t.case_id,
        reference: t.case_reference.clone(),
        site: t.site.clone(),
        reason: t.reason(),
        sequence: t.sequence as u32,
        method: method.as_str().into(),
        score: assessed.score,
        satisfied: assessed.satisfied,
        answers: Value::Object(assessed.answers.clone()),
        attempts: t.attempts as u32,
        case_reopened,
        actor: actor.id.clone(),
        completed_at: now,
    };
    messaging::enqueue(&mut tx, &Envelope::new(t.site.clone(), correlation, event)).await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(revisit = %id, satisfied = assessed.satisfied, case_reopened, actor = %actor.id, "revisit outcome recorded");
    metrics::counter!("revisits_completed_total", "satisfied" => assessed.satisfied.to_string()).increment(1);
    Ok(Json(OutcomeResult {
        id,
        satisfied: assessed.satisfied,
        score: assessed.score,
        case_reopened,
        linked_case_reference: match effect {
            CaseEffect::Linked(reference) => Some(reference),
            _ => None,
        },
        next_revisit_id,
    }))
}

/// What a dissatisfied revisit did to its case.
enum CaseEffect {
    None,
    Noted,
    Reopened,
    /// A linked case was opened, with this reference.
    Linked(String),
}

/// A dissatisfied revisit reaches the case's department: a finished case is reopened through the workflow
/// (history + `case.changed`) or gets a linked case (`case.opened`), an open one gets a note.
async fn tell_the_case(
    state: &AppState,
    conn: &mut PgConnection,
    actor: &Actor,
    t: &TaskRow,
    assessed: &revisit::Outcome,
    comments: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CaseEffect, ApiError> {
    let Some(case) = store::lock(conn, &t.case_id.to_string()).await? else {
        return Ok(CaseEffect::None);
    };
    let score = assessed.score.map(|s| format!("{s}/5")).unwrap_or_else(|| "-".into());
    let why = format!(
        "回访不满意 revisit dissatisfied (score {score}{}){}",
        if assessed.problem_reported {
            ", problem reported"
        } else {
            ""
        },
        comments.map(|c| format!(": {c}")).unwrap_or_default()
    );
    let finished = matches!(case.state.status, Status::Resolved | Status::Closed | Status::Rejected);
    if finished && state.settings.revisit.on_dissatisfied == OnDissatisfied::LinkedCase {
        let original = revisits::case_facts(conn, &case.id.to_string(), false)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("case {}", case.id)))?;
        let (_, reference) =
            revisits::open_linked_case(conn, &original, assessed.method.channel(), &why, t.id, &actor.id, now).await?;
        return Ok(CaseEffect::Linked(reference));
    }
    let reopen = finished && state.settings.revisit.on_dissatisfied == OnDissatisfied::Reopen;
    let action = if reopen {
        Action::Reopen { reason: why }
    } else {
        Action::Note { text: why }
    };
    let transition = match workflow::apply(&case.state, &action, actor, now) {
        Ok(tr) => tr,
        Err(e) => {
            // The revisit is recorded anyway; the case simply cannot take this action in its status.
            tracing::warn!(case = %case.reference, error = %e, "dissatisfied revisit not applied to the case");
            return Ok(CaseEffect::None);
        }
    };
    let mut detail = transition.entry.detail.clone();
    detail["revisit_id"] = json!(t.id);
    store::save(
        conn,
        &case,
        &transition.state,
        case.claim.as_ref(),
        Change {
            action: action.kind().name(),
            actor: &actor.id,
            at: now,
            from_status: case.state.status.as_str(),
            department: &case.department,
            detail,
            changes: transition.entry.changes.clone(),
        },
    )
    .await?;
    Ok(if reopen {
        CaseEffect::Reopened
    } else {
        CaseEffect::Noted
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseLoop {
    pub reason: String,
}

/// A manager closes an unsatisfied revisit loop with a reason (this task and the case's open follow-ups).
#[utoipa::path(post, path = "/api/v1/revisits/{id}/close", params(("id" = Uuid, Path)), request_body = CloseLoop,
    responses((status = 200, body = RevisitDetail), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn close(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    server::ApiJson(body): server::ApiJson<CloseLoop>,
) -> Result<Json<RevisitDetail>, ApiError> {
    let actor = Actor::from(&staff.0);
    revisit::may_close(&state.settings.revisit, &actor).map_err(forbidden)?;
    let id = parse_id(&id)?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid(
            "reason",
            "a manager closes a revisit loop with a reason",
        ));
    }
    let now = Utc::now();
    let mut tx = state.pool.begin().await?;
    let t = revisits::task(&mut tx, id, true)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("revisit {id}")))?;
    may_see_site(&actor, &t.site)?;
    let unsatisfied = t.is(TaskStatus::Open) || (t.is(TaskStatus::Done) && t.satisfied == Some(false));
    if !unsatisfied {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "revisit_not_open",
            format!(
                "only an open or dissatisfied revisit loop can be closed; this one is {}",
                t.status
            ),
        ));
    }
    sqlx::query(
        "UPDATE revisits SET status = 'closed', closed_reason = $3, updated_at = $2, completed_at = $2
          WHERE id = $1 OR (case_id = $4 AND reason = 'follow_up' AND status = 'open')",
    )
    .bind(id)
    .bind(now)
    .bind(reason)
    .bind(t.case_id)
    .execute(&mut *tx)
    .await?;
    let correlation = correlation_of(&mut tx, t.case_id).await?;
    let event = RevisitClosedV1 {
        revisit_id: id,
        case_id: t.case_id,
        reference: t.case_reference.clone(),
        site: t.site.clone(),
        reason: reason.to_owned(),
        actor: actor.id.clone(),
        closed_at: now,
    };
    messaging::enqueue(&mut tx, &Envelope::new(t.site.clone(), correlation, event)).await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(revisit = %id, actor = %actor.id, "revisit loop closed by a manager");
    Ok(Json(load_detail(&state, &actor, id).await?))
}
