//! `POST /api/v1/cases/{id}/split`: a report that dedup linked to this case wrongly becomes a case of its own,
//! opened from the feedback triage stored with it, exactly as new feedback opens one (classification,
//! routing, assignment, `case.opened`), and leaves this case (`case.changed` action `report_split`).
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use contracts::feedback::FeedbackReceivedV1;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use server::ApiError;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        split::{self, LinkedReport, SplitError},
        workflow::Actor,
    },
    handlers::feedback_received::{self, Opening},
    routes::cases::{load_detail, CaseDetail, Viewer},
    startup::AppState,
    store,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SplitRequest {
    /// Reference of the linked report (the feedback's register number, e.g. `SH01-20261122-0042`).
    pub report: String,
    /// Why the link was wrong; recorded in both cases' history.
    pub reason: String,
}

/// The new case, and the case the report left.
#[derive(Debug, Serialize, ToSchema)]
pub struct SplitOutcome {
    pub case: CaseDetail,
    pub split_from: CaseDetail,
}

#[derive(FromRow)]
struct ReportRow {
    feedback_id: Uuid,
    reference: String,
    channel: String,
    reason: String,
    site: Option<String>,
    feedback: Option<Value>,
}

fn split_error(e: SplitError) -> ApiError {
    match e.field() {
        Some(field) => ApiError::invalid(field, e.to_string()),
        None => ApiError::new(StatusCode::CONFLICT, "illegal_transition", e.to_string()),
    }
}

/// Split a linked report out of the case into a new case of its own.
#[utoipa::path(
    post, path = "/api/v1/cases/{id}/split", params(("id" = String, Path, description = "case id or reference")),
    request_body = SplitRequest,
    responses((status = 201, body = SplitOutcome, description = "the new case, and the case the report left"),
               (status = 403, description = "not allowed for this user (the roles that may merge)"),
               (status = 404), (status = 409, description = "the case is closed or rejected; nothing changed"),
               (status = 422, description = "`error.field` is `report` (not a report linked to this case, the \
                 case's first report, or linked before report content was kept) or `reason` (blank)")),
    security(("bearer" = []))
)]
pub async fn split(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    server::ApiJson(body): server::ApiJson<SplitRequest>,
) -> Result<(StatusCode, Json<SplitOutcome>), ApiError> {
    let actor = Actor::from(&staff.0);
    let mut tx = state.pool.begin().await?;
    let case = store::lock(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    split::authorize(&actor, &case.department, &case.site).map_err(auth::AuthError::Forbidden)?;
    let reference = body.report.trim();
    let report: Option<ReportRow> = sqlx::query_as(
        "SELECT feedback_id, reference, channel, reason, site, feedback FROM case_reports
          WHERE reference = $1 AND case_id = $2 FOR UPDATE",
    )
    .bind(reference)
    .bind(case.id)
    .fetch_optional(&mut *tx)
    .await?;
    let linked = report.as_ref().map(|r| LinkedReport {
        first: r.feedback_id == case.correlation_id,
        has_content: r.feedback.is_some(),
    });
    split::check(case.state.status, &body.reason, reference, linked.as_ref()).map_err(split_error)?;
    let report = report.expect("checked: a report of this case");
    let feedback: FeedbackReceivedV1 =
        serde_json::from_value(report.feedback.clone().expect("checked: with content")).map_err(ApiError::internal)?;
    let reason = body.reason.trim();
    let now = chrono::Utc::now();

    // The new case, through the same path as new feedback (no dedup: that is what put it here).
    let site = report.site.clone().unwrap_or_else(|| case.site.clone());
    let new_case = feedback_received::open_case(
        &state.settings,
        &mut tx,
        &site,
        report.feedback_id,
        &feedback,
        Opening {
            actor: &actor.id,
            detail: json!({
                "split_from": { "case_id": case.id, "reference": case.reference },
                "reason": reason,
                "linked_because": report.reason,
            }),
        },
    )
    .await
    .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "already_a_case",
            format!("{} is already a case of its own", report.reference),
        )
    })?;
    sqlx::query("UPDATE case_reports SET case_id = $2, linked_by = $3, reason = $4 WHERE feedback_id = $1")
        .bind(report.feedback_id)
        .bind(new_case)
        .bind(&actor.id)
        .bind(format!("first report (split from {})", case.reference))
        .execute(&mut *tx)
        .await?;

    // The case it leaves: one report fewer, with history and `case.changed`.
    let (before, after): (i32, i32) = sqlx::query_as(
        "UPDATE cases SET report_count = report_count - 1 WHERE id = $1 RETURNING report_count + 1, report_count",
    )
    .bind(case.id)
    .fetch_one(&mut *tx)
    .await?;
    store::save(
        &mut tx,
        &case,
        &case.state,
        case.claim.as_ref(),
        store::Change {
            action: split::ACTION,
            actor: &actor.id,
            at: now,
            from_status: case.state.status.as_str(),
            department: &case.department,
            detail: json!({
                "report": report.reference, "channel": report.channel, "reason": reason,
                "linked_because": report.reason,
                "new_case": { "case_id": new_case, "reference": feedback.reference },
            }),
            changes: json!({ "report_count": [before, after] }),
        },
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(case = %case.reference, report = %report.reference, new_case = %new_case, actor = %actor.id,
        "report split into a case of its own");
    let outcome = SplitOutcome {
        case: load_detail(&state, &staff, &new_case.to_string(), Viewer::AuthorOfChange).await?,
        split_from: load_detail(&state, &staff, &case.id.to_string(), Viewer::AuthorOfChange).await?,
    };
    Ok((StatusCode::CREATED, Json(outcome)))
}
