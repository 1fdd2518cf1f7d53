//! `deadline.breached` / `deadline.escalated` → the case's history says which clock slipped and how far up it
//! went. (Whether the case is overdue now follows `deadline.changed`.)
use messaging::HandlerError;
use sqlx::PgConnection;
use uuid::Uuid;

pub async fn record(
    conn: &mut PgConnection,
    case_id: Uuid,
    action: &str,
    detail: Result<serde_json::Value, serde_json::Error>,
) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO case_history (case_id, actor, action, detail)
         SELECT id, 'scheduler', $2, $3 FROM cases WHERE id = $1",
    )
    .bind(case_id)
    .bind(action)
    .bind(detail.map_err(anyhow::Error::from)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
