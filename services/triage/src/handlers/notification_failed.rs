//! `notification.failed` → the case's history shows that a notification could not be delivered (who,
//! by which channel, why), so staff can reach the customer another way. No workflow change.
use contracts::{notification::NotificationFailedV1, Envelope};
use messaging::HandlerError;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

/// The actor the history names.
pub const NOTIFICATION: &str = "notification";

pub async fn handle(conn: &mut PgConnection, event: &Envelope<NotificationFailedV1>) -> Result<(), HandlerError> {
    let n = &event.data;
    let case_id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM cases WHERE id = $1 OR reference = $2
             OR id = (SELECT case_id FROM case_reports WHERE reference = $2)
          ORDER BY (id = $1 OR reference = $2) IS TRUE DESC LIMIT 1",
    )
    .bind(n.case_id)
    .bind(n.case_reference.as_deref())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(case_id) = case_id else {
        // An acknowledgement can fail before its case is opened: try again shortly (then dead-letter).
        return Err(HandlerError::Transient(anyhow::anyhow!(
            "no case (yet) for the failed notification {}",
            n.delivery_id
        )));
    };
    // The address is already masked by notification; the delivery id makes a replay harmless.
    let detail = json!({
        "delivery_id": n.delivery_id, "event_type": n.event_type, "channel": n.channel, "template": n.template,
        "recipient_kind": n.recipient_kind, "recipient": n.recipient_masked, "error": n.error,
        "attempts": n.attempts, "failed_at": n.failed_at,
    });
    sqlx::query(
        "INSERT INTO case_history (case_id, actor, action, detail)
         SELECT $1, $2, 'notification_failed', $3
          WHERE NOT EXISTS (SELECT 1 FROM case_history WHERE case_id = $1 AND action = 'notification_failed'
                              AND detail->>'delivery_id' = $4)",
    )
    .bind(case_id)
    .bind(NOTIFICATION)
    .bind(detail)
    .bind(n.delivery_id.to_string())
    .execute(&mut *conn)
    .await?;
    tracing::info!(case = %case_id, channel = %n.channel, "a notification of the case failed");
    Ok(())
}
