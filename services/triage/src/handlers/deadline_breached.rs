//! `deadline.breached` → the case shows it is overdue, and its history says which clock slipped.
use contracts::{deadline::DeadlineBreachedV1, Envelope};
use messaging::HandlerError;
use sqlx::PgConnection;

pub async fn handle(conn: &mut PgConnection, event: &Envelope<DeadlineBreachedV1>) -> Result<(), HandlerError> {
    let d = &event.data;
    let updated = sqlx::query("UPDATE cases SET overdue_level = GREATEST(overdue_level, $2) WHERE id = $1")
        .bind(d.case_id)
        .bind(d.level as i32)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if updated == 1 {
        sqlx::query(
            "INSERT INTO case_history (case_id, actor, action, detail) VALUES ($1, 'scheduler', 'deadline_breached', $2)",
        )
        .bind(d.case_id)
        .bind(serde_json::to_value(d).map_err(anyhow::Error::from)?)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
