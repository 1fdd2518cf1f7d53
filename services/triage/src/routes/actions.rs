//! `POST /api/v1/cases/{id}/{action}` and the claim approvals: parse, authorise, lock, decide (pure),
//! store with history and event, respond.
use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::Deserialize;
use serde_json::{json, Value};
use server::ApiError;
use utoipa::ToSchema;

use crate::{
    domain::{
        claims::{self, ClaimError},
        routing::department_for,
        workflow::{self, Action, ActionKind, Actor, WorkflowError},
    },
    routes::cases::{load_detail, CaseDetail, Viewer},
    startup::AppState,
    store::{self, Change},
};

fn workflow_error(e: WorkflowError) -> ApiError {
    match e {
        WorkflowError::IllegalTransition { .. } => {
            ApiError::new(StatusCode::CONFLICT, "illegal_transition", e.to_string())
        }
        WorkflowError::Invalid(m) => ApiError::invalid("body", m),
    }
}

fn claim_error(e: ClaimError) -> ApiError {
    match e {
        ClaimError::RoleNotRequired { .. } => auth::AuthError::Forbidden(e.to_string()).into(),
        ClaimError::UnknownReason(_) => ApiError::invalid("reason", e.to_string()),
        _ => ApiError::new(StatusCode::CONFLICT, "claim_state", e.to_string()),
    }
}

/// Carry out a workflow action on a case.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/{action}",
    params(("id" = String, Path, description = "case id or reference"),
           ("action" = String, Path, description = "acknowledge, assign, reassign, reclassify, note, record_containment, reply, wait_for_customer, customer_responded, set_validity, propose_plan, extend_deadline, resolve, close, reject, reopen, merge")),
    request_body(content = Object, description = "the action's fields, e.g. {\"assignee\": \"u42\"} or {\"text\": \"…\"}"),
    responses((status = 200, body = CaseDetail), (status = 403, description = "not allowed for this user"),
               (status = 404), (status = 409, description = "illegal in the case's status; nothing changed"),
               (status = 422, description = "invalid data; `error.field` names it")),
    security(("bearer" = []))
)]
pub async fn act(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<CaseDetail>, ApiError> {
    let kind = ActionKind::ALL
        .into_iter()
        .find(|k| k.name() == action)
        .ok_or_else(|| ApiError::not_found(format!("action `{action}`")))?;
    let mut fields: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        server::json::parse(&body)?
    };
    let obj = fields
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    obj.insert("action".into(), Value::String(kind.name().into()));
    let action: Action = server::json::parse(&serde_json::to_vec(&fields).expect("serialisable"))?;
    let actor = Actor::from(&staff.0);

    let mut tx = state.pool.begin().await?;
    let case = store::lock(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    workflow::authorize(&actor, kind, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
    if let Action::Merge { into_case } = &action {
        let exists: Option<(uuid::Uuid,)> = sqlx::query_as("SELECT id FROM cases WHERE id = $1")
            .bind(into_case)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(ApiError::invalid("into_case", "no such case"));
        }
    }
    if let (Action::Close { outcome }, Some(claim)) = (&action, &case.claim) {
        if outcome == "accepted" {
            claims::can_close_as_accepted(claim).map_err(claim_error)?;
        }
    }
    let now = chrono::Utc::now();
    let transition = workflow::apply(&case.state, &action, &actor, now).map_err(workflow_error)?;
    // Reclassification re-routes: the department follows the category (domain.md §2).
    let mut changes = transition.entry.changes.clone();
    let department = if matches!(action, Action::Reclassify { .. }) {
        let d = department_for(
            &state.settings.routing,
            &case.site,
            &transition.state.classification.category,
        );
        if d != case.department {
            changes["department"] = json!([case.department, d]);
        }
        d
    } else {
        case.department.clone()
    };
    let from_status = case.state.status.as_str();
    store::save(
        &mut tx,
        &case,
        &transition.state,
        case.claim.as_ref(),
        Change {
            action: kind.name(),
            actor: &actor.id,
            at: now,
            from_status,
            department: &department,
            detail: transition.entry.detail.clone(),
            changes,
        },
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(case = %case.reference, action = kind.name(), actor = %actor.id, "case changed");
    Ok(Json(
        load_detail(&state, &staff, &case.id.to_string(), Viewer::AuthorOfChange).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RejectClaim {
    /// A configured reason code: past_shelf_life, not_our_product, met_contract.
    pub reason: String,
}

/// Approve the case's claim in the caller's role (marketing manager over 1,000 CNY; general manager over 2,000).
#[utoipa::path(post, path = "/api/v1/cases/{id}/claim/approve", params(("id" = String, Path)),
    responses((status = 200, body = CaseDetail), (status = 403), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn approve_claim(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    change_claim(
        &state,
        &staff,
        &id,
        "claim_approved",
        |claim, actor, _| claims::record_approval(claim, actor),
        json!({}),
    )
    .await
}

/// Reject the case's claim with a configured reason.
#[utoipa::path(post, path = "/api/v1/cases/{id}/claim/reject", params(("id" = String, Path)), request_body = RejectClaim,
    responses((status = 200, body = CaseDetail), (status = 403), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn reject_claim(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    server::ApiJson(body): server::ApiJson<RejectClaim>,
) -> Result<Json<CaseDetail>, ApiError> {
    let reason = body.reason.clone();
    change_claim(
        &state,
        &staff,
        &id,
        "claim_rejected",
        move |claim, _, settings| claims::reject(settings, claim, &reason),
        json!({ "reason": body.reason }),
    )
    .await
}

async fn change_claim(
    state: &AppState,
    staff: &auth::Staff,
    id: &str,
    action: &str,
    decide: impl FnOnce(&claims::Claim, &Actor, &claims::ClaimSettings) -> Result<claims::Claim, ClaimError>,
    detail: Value,
) -> Result<Json<CaseDetail>, ApiError> {
    let actor = Actor::from(&staff.0);
    let mut tx = state.pool.begin().await?;
    let case = store::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    crate::domain::access::can_read(&actor, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
    let claim = case
        .claim
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "no_claim", "this case has no claim"))?;
    let updated = decide(claim, &actor, &state.settings.claims).map_err(claim_error)?;
    let now = chrono::Utc::now();
    store::save(
        &mut tx,
        &case,
        &case.state,
        Some(&updated),
        Change {
            action,
            actor: &actor.id,
            at: now,
            from_status: case.state.status.as_str(),
            department: &case.department,
            detail,
            changes: json!({ "claim": [claim, updated] }),
        },
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify();
    Ok(Json(
        load_detail(state, staff, &case.id.to_string(), Viewer::AuthorOfChange).await?,
    ))
}
