//! Case events → timers.
use std::sync::Arc;

use async_trait::async_trait;
use contracts::{case::CaseOpenedV1, Envelope, Event, RawEnvelope};
use messaging::{Handler, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::settings::Settings;

pub const EVENT_TYPES: &[&str] = &[CaseOpenedV1::TYPE];

pub struct SchedulerHandler {
    pub settings: Arc<Settings>,
}

#[async_trait]
impl Handler for SchedulerHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            CaseOpenedV1::TYPE => self.case_opened(conn, &event.decode()?).await,
            other => Err(HandlerError::Malformed(format!("scheduler does not handle {other}"))),
        }
    }
}

impl SchedulerHandler {
    /// Starts the registration clock from the moment the feedback really arrived.
    async fn case_opened(&self, conn: &mut PgConnection, event: &Envelope<CaseOpenedV1>) -> Result<(), HandlerError> {
        let c = &event.data;
        let Some(clock) = self.settings.clocks.get("registration") else {
            return Ok(());
        };
        let due = c.received_at + chrono::Duration::hours(clock.hours);
        sqlx::query(
            "INSERT INTO timers (id, case_id, case_reference, site, clock, started_at, due_at)
             VALUES ($1, $2, $3, $4, 'registration', $5, $6) ON CONFLICT (case_id, clock, level) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(c.case_id)
        .bind(&c.reference)
        .bind(&event.site)
        .bind(c.received_at)
        .bind(due)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
