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
        classify,
        routing::department_for,
        workflow::{self, Action, ActionKind, Actor, WorkflowError},
    },
    handlers::feedback_received::choose_assignee,
    merges,
    routes::cases::{load_detail, CaseDetail, Viewer},
    staff,
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
    let action = trimmed(action);
    let actor = Actor::from(&staff.0);

    let mut tx = state.pool.begin().await?;
    let case = store::lock(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    workflow::authorize(&actor, kind, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
    // What the pure workflow cannot know: the other case of a merge, the people, the clocks, the claim.
    let merge_target = match &action {
        Action::Merge { into_case, .. } if workflow::is_legal(case.state.status, kind) => {
            Some(merge_target(&mut tx, &actor, &case, *into_case).await?)
        }
        _ => None,
    };
    match &action {
        Action::Assign { assignee } | Action::Reassign { assignee } if workflow::is_legal(case.state.status, kind) => {
            staff::assignable(&mut tx, assignee.trim(), &case.department, &case.site)
                .await?
                .map_err(|why| ApiError::invalid("assignee", why))?;
        }
        Action::Reclassify {
            class,
            category,
            severity,
            ..
        } if workflow::is_legal(case.state.status, kind) => {
            valid_classification(&state, class, category, severity)?;
        }
        Action::ExtendDeadline { clock, new_due, .. } if workflow::is_legal(case.state.status, kind) => {
            running_clock(&mut tx, &case, clock, *new_due).await?;
        }
        Action::Close { outcome } if workflow::is_legal(case.state.status, kind) => {
            if let Some(claim) = &case.claim {
                claims::may_close(claim, outcome).map_err(claim_error)?;
            }
        }
        // Merging closes the case too (as merged): not while its claim is undecided.
        Action::Merge { .. } if workflow::is_legal(case.state.status, kind) => {
            if let Some(claim) = &case.claim {
                claims::may_close(claim, workflow::MERGED_OUTCOME).map_err(claim_error)?;
            }
        }
        _ => {}
    }
    let now = chrono::Utc::now();
    let mut transition = workflow::apply(&case.state, &action, &actor, now).map_err(workflow_error)?;
    let mut detail = transition.entry.detail.clone();
    // Reclassification re-routes: the department follows the category (domain.md §2), and the case goes to
    // someone of the new department by its rule (or stays with its assignee when it has nobody to take it).
    let department = if matches!(action, Action::Reclassify { .. }) {
        let d = department_for(
            &state.settings.routing,
            &case.site,
            &transition.state.classification.category,
        );
        if d != case.department && transition.state.assignee.is_some() {
            let chosen = choose_assignee(&state.settings, &mut tx, &case.site, &d)
                .await
                .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
            match chosen {
                Some((user, why)) => {
                    transition.state.assignee = Some(user);
                    transition.state.assigned_at = Some(now);
                    detail["assigned_by"] = json!(why);
                }
                None => detail["assignee_kept"] = json!(format!("{d} has no handler to take the case")),
            }
        }
        d
    } else {
        case.department.clone()
    };
    let mut changes = workflow::diff(&case.state, &transition.state);
    if department != case.department {
        changes["department"] = json!([case.department, department]);
    }
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
            detail,
            changes,
        },
    )
    .await?;
    if let (Some(target), Action::Merge { reason, .. }) = (merge_target, &action) {
        merges::merge(&mut tx, &actor, &case, &target, reason.as_deref(), now).await?;
    }
    if let (Action::Reopen { .. }, Some(_)) = (&action, case.state.merged_into) {
        merges::unmerge(&mut tx, &actor, &case, now).await?;
    }
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(case = %case.reference, action = kind.name(), actor = %actor.id, "case changed");
    Ok(Json(
        load_detail(&state, &staff, &case.id.to_string(), Viewer::AuthorOfChange).await?,
    ))
}

/// The action with the names it gives (a person, a class, category and severity, a clock) trimmed: they are
/// checked trimmed, and must be stored as checked (an assignee ` u7` would be nobody's case).
fn trimmed(action: Action) -> Action {
    let t = |s: String| s.trim().to_owned();
    match action {
        Action::Assign { assignee } => Action::Assign { assignee: t(assignee) },
        Action::Reassign { assignee } => Action::Reassign { assignee: t(assignee) },
        Action::Reclassify {
            class,
            category,
            severity,
            reason,
        } => Action::Reclassify {
            class: t(class),
            category: t(category),
            severity: t(severity),
            reason,
        },
        Action::ExtendDeadline { clock, new_due, reason } => Action::ExtendDeadline {
            clock: t(clock),
            new_due,
            reason,
        },
        other => other,
    }
}

/// Class, severity and category among the configured ones; a 422 naming the field otherwise.
fn valid_classification(state: &AppState, class: &str, category: &str, severity: &str) -> Result<(), ApiError> {
    let one_of = |field: &str, value: &str, known: Vec<&str>| {
        if known.contains(&value.trim()) {
            Ok(())
        } else {
            Err(ApiError::invalid(
                field,
                format!("`{value}` is not one of {}", known.join(", ")),
            ))
        }
    };
    one_of("class", class, classify::CLASSES.to_vec())?;
    one_of("severity", severity, classify::SEVERITIES.to_vec())?;
    let mut categories: Vec<&str> = state.settings.routing.departments.keys().map(String::as_str).collect();
    categories.sort();
    one_of("category", category, categories)
}

/// The case a duplicate is merged into, locked: another open case the actor may also act on.
async fn merge_target(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    case: &store::LockedCase,
    into_case: uuid::Uuid,
) -> Result<store::LockedCase, ApiError> {
    if into_case == case.id {
        return Err(ApiError::invalid("into_case", "a case cannot be merged into itself"));
    }
    let target = store::lock(conn, &into_case.to_string())
        .await?
        .ok_or_else(|| ApiError::invalid("into_case", "no such case"))?;
    if !target.state.status.is_open() {
        return Err(ApiError::invalid(
            "into_case",
            format!(
                "{} is {}: merge into an open case",
                target.reference, target.state.status
            ),
        ));
    }
    workflow::authorize(actor, ActionKind::Merge, &target.department, &target.site)
        .map_err(|why| auth::AuthError::Forbidden(format!("merging into {}: {why}", target.reference)))?;
    Ok(target)
}

/// The clock an extension names must be one of the case's clocks still counting (triage's copy of the
/// scheduler's, `deadline.changed`), not yet past its due time (a deadline is extended before it passes, 001
/// §5.3), and the new due time must be later than the clock's: the scheduler extends nothing else, and the
/// customer would be told a date nothing keeps.
async fn running_clock(
    conn: &mut sqlx::PgConnection,
    case: &store::LockedCase,
    clock: &str,
    new_due: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let counting: Vec<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT clock, due_at FROM case_clocks WHERE case_id = $1 AND stopped_at IS NULL ORDER BY due_at",
    )
    .bind(case.id)
    .fetch_all(&mut *conn)
    .await?;
    let now = chrono::Utc::now();
    match counting.iter().find(|(c, _)| c == clock.trim()) {
        Some((_, due)) if *due <= now => Err(ApiError::invalid(
            "clock",
            format!("`{clock}` was due {due} and cannot be extended any more"),
        )),
        Some((_, due)) if new_due <= *due => Err(ApiError::invalid(
            "new_due",
            format!("`{clock}` is due {due}; an extension must be later"),
        )),
        Some(_) => Ok(()),
        None => {
            let running: Vec<&str> = counting
                .iter()
                .filter(|(_, due)| *due > now)
                .map(|(c, _)| c.as_str())
                .collect();
            let known = if running.is_empty() {
                "none is running".to_owned()
            } else {
                format!("running: {}", running.join(", "))
            };
            Err(ApiError::invalid(
                "clock",
                format!("`{clock}` is not a running deadline of this case ({known})"),
            ))
        }
    }
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
    let claim = case
        .claim
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "no_claim", "this case has no claim"))?;
    claims::authorize(&actor, claim, action, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
    if !case.state.status.is_open() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "claim_state",
            format!(
                "the case is {}: its claim can no longer be decided (reopen it first)",
                case.state.status
            ),
        ));
    }
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
