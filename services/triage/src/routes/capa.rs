//! CAPA records (`/api/v1/capa`): opened from one or more cases, worked through implement → verify → close.
//! Opening and closing a record are written into each linked case's history (and published as `case.changed`),
//! so the case shows what was done about its cause.
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use server::{ApiError, ApiJson};
use sqlx::{FromRow, PgConnection};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        access,
        capa::{self, CapaAction, CapaError, CapaEvent, CapaStatus, NewCapa},
        workflow::Actor,
    },
    startup::AppState,
    store::{self, LockedCase},
};

fn capa_error(e: CapaError) -> ApiError {
    match e {
        CapaError::Invalid { field, message } => ApiError::invalid(field, message),
        CapaError::IllegalTransition { .. } => ApiError::new(StatusCode::CONFLICT, "illegal_transition", e.to_string()),
    }
}

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct CapaView {
    pub id: Uuid,
    /// Human-readable number, e.g. CAPA-2026-0007.
    pub number: String,
    pub kind: String,
    pub title: String,
    pub problem: String,
    pub action_plan: String,
    pub owner: String,
    pub due_date: NaiveDate,
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(value_type = Vec<Object>)]
    pub history: Value,
    /// References of the linked cases.
    pub cases: Vec<String>,
}

const COLUMNS: &str = "r.id, r.number, r.kind, r.title, r.problem, r.action_plan, r.owner, r.due_date, r.status,
    r.created_by, r.created_at, r.updated_at, r.history,
    ARRAY(SELECT c.reference FROM capa_cases l JOIN cases c ON c.id = l.case_id
           WHERE l.capa_id = r.id ORDER BY c.reference) AS cases";

async fn load(conn: &mut PgConnection, id: &str) -> Result<Option<CapaView>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM capa_records r WHERE r.id = $1 OR r.number = $2"
    ))
    .bind(Uuid::parse_str(id).ok())
    .bind(id)
    .fetch_optional(conn)
    .await
}

fn require(actor: &Actor, roles: &[auth::Role], what: &str) -> Result<(), ApiError> {
    if actor.has_any(roles) {
        Ok(())
    } else {
        Err(auth::AuthError::Forbidden(format!("{} may not {what} CAPA records", actor.id)).into())
    }
}

/// Readers: those who work CAPA records, and anyone who may read one of the linked cases.
async fn may_read(conn: &mut PgConnection, state: &AppState, actor: &Actor, capa_id: Uuid) -> Result<(), ApiError> {
    let s = &state.settings.quality.capa;
    if actor.has_any(&s.editor_roles) || actor.has_any(&s.verifier_roles) {
        return Ok(());
    }
    let cases: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.department, c.site FROM capa_cases l JOIN cases c ON c.id = l.case_id WHERE l.capa_id = $1",
    )
    .bind(capa_id)
    .fetch_all(conn)
    .await?;
    if cases.iter().any(|(d, s)| access::can_read(actor, d, s).is_ok()) {
        Ok(())
    } else {
        Err(auth::AuthError::Forbidden(format!("{} may read none of this record's cases", actor.id)).into())
    }
}

/// Open a CAPA record linked to one or more cases.
#[utoipa::path(post, path = "/api/v1/capa", request_body = NewCapa,
    responses((status = 201, body = CapaView), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    staff: auth::Staff,
    ApiJson(body): ApiJson<NewCapa>,
) -> Result<(StatusCode, Json<CapaView>), ApiError> {
    let actor = Actor::from(&staff.0);
    require(&actor, &state.settings.quality.capa.editor_roles, "open")?;
    let now = Utc::now();
    capa::validate_new(&body, now.date_naive()).map_err(capa_error)?;
    let mut tx = state.pool.begin().await?;
    let mut cases = Vec::new();
    for reference in &body.cases {
        let case = store::lock(&mut tx, reference)
            .await?
            .ok_or_else(|| ApiError::invalid("cases", format!("no case {reference}")))?;
        access::can_read(&actor, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
        if !cases.iter().any(|c: &LockedCase| c.id == case.id) {
            cases.push(case);
        }
    }
    let id = Uuid::now_v7();
    let seq: i64 = sqlx::query_scalar("SELECT nextval('capa_number_seq')")
        .fetch_one(&mut *tx)
        .await?;
    let number = format!("CAPA-{}-{seq:04}", now.format("%Y"));
    let kind = serde_json::to_value(body.kind).map_err(ApiError::internal)?;
    let history = json!([CapaEvent {
        at: now,
        actor: actor.id.clone(),
        action: "open".into(),
        note: String::new()
    }]);
    sqlx::query(
        "INSERT INTO capa_records (id, number, kind, title, problem, action_plan, owner, due_date, status,
                                   created_by, created_at, updated_at, history)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'open',$9,$10,$10,$11)",
    )
    .bind(id)
    .bind(&number)
    .bind(kind.as_str())
    .bind(body.title.trim())
    .bind(body.problem.trim())
    .bind(body.action_plan.trim())
    .bind(body.owner.trim())
    .bind(body.due_date)
    .bind(&actor.id)
    .bind(now)
    .bind(&history)
    .execute(&mut *tx)
    .await?;
    for case in &cases {
        sqlx::query("INSERT INTO capa_cases (capa_id, case_id) VALUES ($1, $2)")
            .bind(id)
            .bind(case.id)
            .execute(&mut *tx)
            .await?;
        store::record_unchanged(
            &mut tx,
            case,
            "capa_opened",
            &actor.id,
            json!({ "capa_id": id, "number": number, "title": body.title.trim() }),
            json!({}),
        )
        .await?;
    }
    let view = load(&mut tx, &id.to_string()).await?.expect("just inserted");
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(capa = %number, actor = %actor.id, "CAPA record opened");
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// A case id or reference: only the records linked to it.
    pub case: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapaList {
    pub items: Vec<CapaView>,
}

/// CAPA records: those of one case (for whoever may read the case), or all (for those who work CAPA).
#[utoipa::path(get, path = "/api/v1/capa", params(("case" = Option<String>, Query), ("status" = Option<String>, Query)),
    responses((status = 200, body = CapaList), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    staff: auth::Staff,
    server::ApiQuery(q): server::ApiQuery<ListQuery>,
) -> Result<Json<CapaList>, ApiError> {
    let actor = Actor::from(&staff.0);
    if let Some(status) = &q.status {
        if !["open", "implemented", "verified", "closed"].contains(&status.as_str()) {
            return Err(ApiError::invalid(
                "status",
                "one of open, implemented, verified, closed",
            ));
        }
    }
    let mut conn = state.pool.acquire().await?;
    let case_id = match &q.case {
        Some(c) => {
            let row: Option<(Uuid, String, String)> =
                sqlx::query_as("SELECT id, department, site FROM cases WHERE id = $1 OR reference = $2")
                    .bind(Uuid::parse_str(c).ok())
                    .bind(c)
                    .fetch_optional(&mut *conn)
                    .await?;
            let (id, department, site) = row.ok_or_else(|| ApiError::not_found(format!("case {c}")))?;
            access::can_read(&actor, &department, &site).map_err(auth::AuthError::Forbidden)?;
            Some(id)
        }
        None => {
            let s = &state.settings.quality.capa;
            if !(actor.has_any(&s.editor_roles) || actor.has_any(&s.verifier_roles)) {
                return Err(auth::AuthError::Forbidden(format!(
                    "{} may list only the CAPA records of a case (?case=)",
                    actor.id
                ))
                .into());
            }
            None
        }
    };
    let items: Vec<CapaView> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM capa_records r
          WHERE ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM capa_cases l WHERE l.capa_id = r.id AND l.case_id = $1))
            AND ($2::text IS NULL OR r.status = $2)
          ORDER BY r.due_date, r.number LIMIT 500"
    ))
    .bind(case_id)
    .bind(&q.status)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Json(CapaList { items }))
}

/// One CAPA record, by id or number.
#[utoipa::path(get, path = "/api/v1/capa/{id}", params(("id" = String, Path, description = "id or number")),
    responses((status = 200, body = CapaView), (status = 403), (status = 404)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<CapaView>, ApiError> {
    let actor = Actor::from(&staff.0);
    let mut conn = state.pool.acquire().await?;
    let view = load(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("CAPA record {id}")))?;
    may_read(&mut conn, &state, &actor, view.id).await?;
    Ok(Json(view))
}

/// Implement, verify (`{"effective": bool, "note"}`) or close a CAPA record.
#[utoipa::path(post, path = "/api/v1/capa/{id}/{action}",
    params(("id" = String, Path), ("action" = String, Path, description = "implement, verify or close")),
    request_body(content = Object, description = "{\"note\": \"…\"}, for verify also \"effective\""),
    responses((status = 200, body = CapaView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn act(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<CapaView>, ApiError> {
    if !["implement", "verify", "close"].contains(&action.as_str()) {
        return Err(ApiError::not_found(format!("action `{action}`")));
    }
    let mut fields: Value = server::json::parse(&body)?;
    let obj = fields
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    obj.insert("action".into(), Value::String(action));
    let action: CapaAction = server::json::parse(&serde_json::to_vec(&fields).expect("serialisable"))?;
    let actor = Actor::from(&staff.0);
    let s = &state.settings.quality.capa;
    match action {
        CapaAction::Implement { .. } => require(&actor, &s.editor_roles, "implement")?,
        CapaAction::Verify { .. } | CapaAction::Close { .. } => require(&actor, &s.verifier_roles, "verify or close")?,
    }

    let mut tx = state.pool.begin().await?;
    let row: Option<(Uuid, String, String, Value)> =
        sqlx::query_as("SELECT id, number, status, history FROM capa_records WHERE id = $1 OR number = $2 FOR UPDATE")
            .bind(Uuid::parse_str(&id).ok())
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
    let (capa_id, number, status, history) = row.ok_or_else(|| ApiError::not_found(format!("CAPA record {id}")))?;
    let status: CapaStatus = serde_json::from_value(Value::String(status)).map_err(ApiError::internal)?;
    let next = capa::transition(status, &action).map_err(capa_error)?;
    let mut history: Vec<CapaEvent> = serde_json::from_value(history).map_err(ApiError::internal)?;
    if let CapaAction::Verify { .. } = action {
        // Whoever implemented the action does not certify its effect.
        if history.iter().rev().find(|e| e.action == "implement").map(|e| &e.actor) == Some(&actor.id) {
            return Err(auth::AuthError::Forbidden(format!(
                "{} implemented this record; another person verifies its effect",
                actor.id
            ))
            .into());
        }
    }
    let (note, effective) = match &action {
        CapaAction::Implement { note } | CapaAction::Close { note } => (note.trim(), None),
        CapaAction::Verify { note, effective } => (note.trim(), Some(*effective)),
    };
    let now = Utc::now();
    history.push(CapaEvent {
        at: now,
        actor: actor.id.clone(),
        action: match effective {
            Some(false) => "verify_ineffective".into(),
            _ => action.name().into(),
        },
        note: note.to_owned(),
    });
    sqlx::query("UPDATE capa_records SET status = $2, history = $3, updated_at = $4 WHERE id = $1")
        .bind(capa_id)
        .bind(next.as_str())
        .bind(serde_json::to_value(&history).map_err(ApiError::internal)?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if next == CapaStatus::Closed {
        let case_ids: Vec<Uuid> = sqlx::query_scalar("SELECT case_id FROM capa_cases WHERE capa_id = $1")
            .bind(capa_id)
            .fetch_all(&mut *tx)
            .await?;
        for case_id in case_ids {
            if let Some(case) = store::lock(&mut tx, &case_id.to_string()).await? {
                store::record_unchanged(
                    &mut tx,
                    &case,
                    "capa_closed",
                    &actor.id,
                    json!({ "capa_id": capa_id, "number": number }),
                    json!({}),
                )
                .await?;
            }
        }
    }
    let view = load(&mut tx, &capa_id.to_string()).await?.expect("locked row");
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(capa = %number, status = next.as_str(), actor = %actor.id, "CAPA record changed");
    Ok(Json(view))
}
