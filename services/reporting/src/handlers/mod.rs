//! Events → read models. Idempotent through the inbox; each event touches its rows once.
use async_trait::async_trait;
use contracts::{case::CaseOpenedV1, Envelope, Event, RawEnvelope};
use messaging::{Handler, HandlerError};
use sqlx::PgConnection;

pub const EVENT_TYPES: &[&str] = &[CaseOpenedV1::TYPE];

pub struct ReportingHandler;

#[async_trait]
impl Handler for ReportingHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            CaseOpenedV1::TYPE => self.case_opened(conn, &event.decode()?).await,
            other => Err(HandlerError::Malformed(format!("reporting does not handle {other}"))),
        }
    }
}

impl ReportingHandler {
    async fn case_opened(&self, conn: &mut PgConnection, event: &Envelope<CaseOpenedV1>) -> Result<(), HandlerError> {
        let c = &event.data;
        sqlx::query(
            "INSERT INTO case_facts (case_id, reference, site, channel, class, category, severity, department,
                received_at, opened_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (case_id) DO NOTHING",
        )
        .bind(c.case_id)
        .bind(&c.reference)
        .bind(&event.site)
        .bind(c.channel.as_str())
        .bind(&c.class)
        .bind(&c.category)
        .bind(&c.severity)
        .bind(&c.department)
        .bind(c.received_at)
        .bind(c.opened_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
