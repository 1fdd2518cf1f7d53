//! `feedback.followup` → the customer's new message joins the case's history; a resolved or closed
//! case is reopened (the customer is not satisfied yet), a case waiting for the customer resumes.
//! Other statuses only record it. `case.changed` is published for each step, as the workflow does.
use contracts::{followup::FeedbackFollowupV1, Envelope};
use messaging::HandlerError;
use serde_json::json;
use sqlx::PgConnection;

use crate::{
    domain::workflow::{self, Action, Actor, Status},
    store::{self, Change},
};

/// The actor the history names for what the customer did.
pub const CUSTOMER: &str = "customer";

/// The workflow step a follow-up causes in `status`, if any.
pub fn step_for(status: Status, merged: bool, reference: &str) -> Option<Action> {
    match status {
        // A merged duplicate stays merged: its follow-up is recorded, the open case carries on.
        Status::Resolved | Status::Closed if !merged => Some(Action::Reopen {
            reason: format!("the customer wrote again about {reference}"),
        }),
        Status::WaitingForCustomer => Some(Action::CustomerResponded),
        _ => None,
    }
}

pub async fn handle(conn: &mut PgConnection, event: &Envelope<FeedbackFollowupV1>) -> Result<(), HandlerError> {
    let f = &event.data;
    let Some(case) = store::lock(&mut *conn, &f.reference).await? else {
        // Its feedback.received may still be on the way: retried with back-off, then dead-lettered.
        return Err(HandlerError::Transient(anyhow::anyhow!(
            "no case for {} (yet)",
            f.reference
        )));
    };
    // The same follow-up under another event id (a replay from intake's outbox) is recorded once.
    let seen: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM case_history WHERE case_id = $1 AND action = 'customer_followup'
                          AND detail->>'followup_id' = $2)",
    )
    .bind(case.id)
    .bind(f.followup_id.to_string())
    .fetch_one(&mut *conn)
    .await?;
    if seen {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let from_status = case.state.status.as_str();
    let detail = json!({
        "followup_id": f.followup_id, "reference": f.reference, "channel": f.channel,
        "from": f.from.as_deref().map(telemetry::pii::mask_email), "subject": f.subject, "text": f.text,
        "attachments": f.attachments, "received_at": f.received_at, "message_id": f.message_id,
    });
    store::save(
        &mut *conn,
        &case,
        &case.state,
        case.claim.as_ref(),
        Change {
            action: "customer_followup",
            actor: CUSTOMER,
            at: now,
            from_status,
            department: &case.department,
            detail,
            changes: json!({}),
        },
    )
    .await?;
    customer_step(conn, &case, &f.reference, now).await
}

/// What the customer's writing again does to the case (see [`step_for`]): reopens it, resumes it, or nothing.
/// Also used when the customer reports the same problem again as new feedback (a linked duplicate).
pub async fn customer_step(
    conn: &mut PgConnection,
    case: &store::LockedCase,
    reference: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), HandlerError> {
    let Some(action) = step_for(case.state.status, case.state.merged_into.is_some(), reference) else {
        return Ok(());
    };
    let actor = Actor {
        id: CUSTOMER.into(),
        name: CUSTOMER.into(),
        roles: vec![],
        department: None,
        sites: vec![],
    };
    match workflow::apply(&case.state, &action, &actor, now) {
        Ok(t) => {
            store::save(
                &mut *conn,
                case,
                &t.state,
                case.claim.as_ref(),
                Change {
                    action: action.kind().name(),
                    actor: CUSTOMER,
                    at: now,
                    from_status: case.state.status.as_str(),
                    department: &case.department,
                    detail: t.entry.detail,
                    changes: t.entry.changes,
                },
            )
            .await?;
            tracing::info!(case = %case.reference, action = action.kind().name(), "case changed by the customer writing again");
        }
        // Recorded above; the workflow does not allow more from here.
        Err(e) => {
            tracing::info!(case = %case.reference, error = %e, "the customer's message recorded without a status change")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followups_reopen_finished_cases_and_resume_waiting_ones() {
        assert!(matches!(
            step_for(Status::Closed, false, "R"),
            Some(Action::Reopen { .. })
        ));
        assert!(matches!(
            step_for(Status::Resolved, false, "R"),
            Some(Action::Reopen { .. })
        ));
        assert_eq!(
            step_for(Status::WaitingForCustomer, false, "R"),
            Some(Action::CustomerResponded)
        );
        assert_eq!(
            step_for(Status::Closed, true, "R"),
            None,
            "a merged duplicate stays merged"
        );
        for s in [
            Status::New,
            Status::InProgress,
            Status::Replied,
            Status::Rejected,
            Status::Reopened,
        ] {
            assert_eq!(step_for(s, false, "R"), None, "{s}");
        }
    }
}
