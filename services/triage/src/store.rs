//! Loading and saving cases for the workflow: a case is locked, changed by a pure transition, and
//! written back with its history row and its `case.changed` event in one transaction.
use chrono::{DateTime, Utc};
use contracts::{case::CaseChangedV1, Envelope};
use serde_json::Value;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::domain::{claims::Claim, workflow::CaseState};

pub struct LockedCase {
    pub id: Uuid,
    pub reference: String,
    pub site: String,
    pub department: String,
    pub state: CaseState,
    pub claim: Option<Claim>,
    pub correlation_id: Uuid,
}

/// Locks the case (by id or reference) for the rest of the transaction.
pub async fn lock(conn: &mut PgConnection, id_or_reference: &str) -> Result<Option<LockedCase>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, reference, site, department, workflow, claim, feedback_id FROM cases
          WHERE id = $1 OR reference = $2
             OR id = (SELECT case_id FROM case_reports WHERE reference = $2)
          -- A merged case's own reference is also a report of the case it was merged into: its own wins.
          ORDER BY (id = $1 OR reference = $2) IS TRUE DESC LIMIT 1 FOR UPDATE",
    )
    .bind(Uuid::parse_str(id_or_reference).ok())
    .bind(id_or_reference)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let state: Value = r.get("workflow");
        let claim: Option<Value> = r.get("claim");
        Ok(LockedCase {
            id: r.get("id"),
            reference: r.get("reference"),
            site: r.get("site"),
            department: r.get("department"),
            state: serde_json::from_value(state).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            claim: claim
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            correlation_id: r.get("feedback_id"),
        })
    })
    .transpose()
}

pub struct Change<'a> {
    pub action: &'a str,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
    pub from_status: &'a str,
    pub department: &'a str,
    pub detail: Value,
    pub changes: Value,
}

/// Writes the new state, the history row and the `case.changed` event.
pub async fn save(
    conn: &mut PgConnection,
    case: &LockedCase,
    state: &CaseState,
    claim: Option<&Claim>,
    change: Change<'_>,
) -> Result<(), sqlx::Error> {
    let c = &state.classification;
    sqlx::query(
        "UPDATE cases SET status = $2, assignee = $3, class = $4, category = $5, severity = $6, department = $7,
                workflow = $8, claim = $9, updated_at = $10
          WHERE id = $1",
    )
    .bind(case.id)
    .bind(state.status.as_str())
    .bind(&state.assignee)
    .bind(&c.class)
    .bind(&c.category)
    .bind(&c.severity)
    .bind(change.department)
    .bind(serde_json::to_value(state).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(
        claim
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
    )
    .bind(change.at)
    .execute(&mut *conn)
    .await?;
    let history_id: i64 = sqlx::query_scalar(
        "INSERT INTO case_history (case_id, at, actor, action, detail, changes) VALUES ($1,$2,$3,$4,$5,$6)
         RETURNING id",
    )
    .bind(case.id)
    .bind(change.at)
    .bind(change.actor)
    .bind(change.action)
    .bind(&change.detail)
    .bind(&change.changes)
    .fetch_one(&mut *conn)
    .await?;
    let event = Envelope::new(
        case.site.clone(),
        case.correlation_id,
        CaseChangedV1 {
            case_id: case.id,
            reference: case.reference.clone(),
            action: change.action.to_owned(),
            from_status: change.from_status.to_owned(),
            status: state.status.as_str().to_owned(),
            actor: change.actor.to_owned(),
            department: change.department.to_owned(),
            assignee: state.assignee.clone(),
            class: c.class.clone(),
            category: c.category.clone(),
            severity: c.severity.clone(),
            changes: change.changes,
            detail: change.detail,
            at: change.at,
            history_id: Some(history_id),
        },
    );
    messaging::enqueue(conn, &event).await
}

/// Records a change of a case's documents or records (8D, regulator report, CAPA, staff named) that leaves its
/// workflow state as it is: a history row and a `case.changed` event, like every other change.
pub async fn record_unchanged(
    conn: &mut PgConnection,
    case: &LockedCase,
    action: &str,
    actor: &str,
    detail: Value,
    changes: Value,
) -> Result<(), sqlx::Error> {
    record_unchanged_at(conn, case, action, actor, chrono::Utc::now(), detail, changes).await
}

/// [`record_unchanged`] at a given time (the time of the change that caused it, e.g. a merge into this case).
pub async fn record_unchanged_at(
    conn: &mut PgConnection,
    case: &LockedCase,
    action: &str,
    actor: &str,
    at: DateTime<Utc>,
    detail: Value,
    changes: Value,
) -> Result<(), sqlx::Error> {
    save(
        conn,
        case,
        &case.state,
        case.claim.as_ref(),
        Change {
            action,
            actor,
            at,
            from_status: case.state.status.as_str(),
            department: &case.department,
            detail,
            changes,
        },
    )
    .await
}
