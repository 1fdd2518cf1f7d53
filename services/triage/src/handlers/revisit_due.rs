//! `revisit.due` → a revisit task in the call queue, once per (case, reason, sequence) however often
//! the event is delivered. Anonymous customers and customers who declined revisits get none.
use contracts::{revisit::RevisitDueV1, Envelope};
use messaging::HandlerError;
use sqlx::PgConnection;

use crate::{
    revisits::{self, NewTask},
    settings::Settings,
};

/// Who creates tasks from the scheduler's announcements (in the task's `created_by`).
pub const SCHEDULER: &str = "scheduler";

pub async fn handle(
    settings: &Settings,
    conn: &mut PgConnection,
    event: &Envelope<RevisitDueV1>,
) -> Result<(), HandlerError> {
    let d = &event.data;
    let Some(case) = revisits::case_facts(conn, &d.case_id.to_string(), false).await? else {
        // Not a message defect worth a dead letter: the case is unknown here (e.g. another deployment).
        tracing::warn!(case = %d.case_id, reference = %d.reference, "revisit due for an unknown case; ignored");
        return Ok(());
    };
    if case.is_anonymous() {
        tracing::info!(reference = %case.reference, "anonymous feedback gets no revisit");
        return Ok(());
    }
    if revisits::is_do_not_call(conn, case.contact_key.as_deref()).await? {
        tracing::info!(reference = %case.reference, "customer declined revisits; none created");
        return Ok(());
    }
    let created = revisits::insert_task(
        conn,
        &settings.revisit,
        NewTask {
            case: &case,
            reason: d.reason,
            sequence: d.sequence as i32,
            due_at: d.due_at,
            note: None,
            previous_id: None,
            created_by: SCHEDULER,
        },
    )
    .await?;
    if let Some(id) = created {
        tracing::info!(revisit = %id, reference = %case.reference, reason = d.reason.as_str(), "revisit task created");
        metrics::counter!("revisit_tasks_created_total").increment(1);
    }
    Ok(())
}
