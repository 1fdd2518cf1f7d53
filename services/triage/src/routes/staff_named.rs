//! `PUT /api/v1/cases/{id}/complained-about`: the staff members a complaint is about (004 §4.5), named by a
//! supervisor of the case's department, kept on the case and in its history, and published (`case.changed`
//! `staff_named`) so reporting counts complaints per staff member per month.
use axum::{
    extract::{Path, State},
    Json,
};
use serde::Deserialize;
use serde_json::json;
use server::{ApiError, ApiJson};
use utoipa::ToSchema;

use crate::{
    domain::workflow::{self, ActionKind, Actor},
    routes::cases::{load_detail, CaseDetail, Viewer},
    startup::AppState,
    store,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplainedAbout {
    /// Staff user ids (empty: nobody — e.g. the complaint turned out not to be about a person).
    pub staff: Vec<String>,
    pub reason: String,
}

/// Name the staff members a complaint is about (supervisors: those who may assign the case).
#[utoipa::path(put, path = "/api/v1/cases/{id}/complained-about", params(("id" = String, Path)),
    request_body = ComplainedAbout,
    responses((status = 200, body = CaseDetail), (status = 403), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn name_staff(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ComplainedAbout>,
) -> Result<Json<CaseDetail>, ApiError> {
    let actor = Actor::from(&staff.0);
    if body.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "is required"));
    }
    let mut named: Vec<String> = Vec::new();
    for s in &body.staff {
        let s = s.trim();
        if s.is_empty() || s.len() > 100 || s.chars().any(char::is_control) {
            return Err(ApiError::invalid("staff", "staff ids are 1–100 printable characters"));
        }
        if !named.iter().any(|n| n == s) {
            named.push(s.to_owned());
        }
    }
    let mut tx = state.pool.begin().await?;
    let case = store::lock(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    // The same people who decide who handles a case decide whom it is about.
    workflow::authorize(&actor, ActionKind::Assign, &case.department, &case.site)
        .map_err(auth::AuthError::Forbidden)?;
    let before: Vec<String> = sqlx::query_scalar("SELECT complained_about FROM cases WHERE id = $1")
        .bind(case.id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("UPDATE cases SET complained_about = $2 WHERE id = $1")
        .bind(case.id)
        .bind(&named)
        .execute(&mut *tx)
        .await?;
    store::record_unchanged(
        &mut tx,
        &case,
        "staff_named",
        &actor.id,
        json!({ "staff": named, "reason": body.reason.trim() }),
        json!({ "complained_about": [before, named] }),
    )
    .await?;
    tx.commit().await?;
    state.outbox.notify();
    Ok(Json(
        load_detail(&state, &staff, &case.id.to_string(), Viewer::AuthorOfChange).await?,
    ))
}
