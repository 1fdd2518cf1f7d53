//! `deadline.breached` / `deadline.escalated` → the case shows it is overdue (highest level reached),
//! and its history says which clock slipped.
use messaging::HandlerError;
use sqlx::PgConnection;
use uuid::Uuid;

pub async fn record(
    conn: &mut PgConnection,
    case_id: Uuid,
    level: u32,
    action: &str,
    detail: Result<serde_json::Value, serde_json::Error>,
) -> Result<(), HandlerError> {
    let updated = sqlx::query("UPDATE cases SET overdue_level = GREATEST(overdue_level, $2) WHERE id = $1")
        .bind(case_id)
        .bind(level as i32)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if updated == 1 {
        sqlx::query("INSERT INTO case_history (case_id, actor, action, detail) VALUES ($1, 'scheduler', $2, $3)")
            .bind(case_id)
            .bind(action)
            .bind(detail.map_err(anyhow::Error::from)?)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
