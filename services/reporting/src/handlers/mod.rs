//! Events → read models. Each event is kept in `event_log` (for rebuilds) and applied once: the inbox dedups
//! by event id, and `apply` only makes changes that are idempotent or ordered by the case's change time.
//! `report.due` is not a fact but an order: it issues the report and is not replayed by rebuilds.
pub mod apply;

use std::sync::Arc;

use async_trait::async_trait;
use chrono_tz::Tz;
use contracts::{report::ReportDueV1, Envelope, Event, RawEnvelope};
use messaging::{Handler, HandlerError};
use sqlx::PgConnection;

use crate::{
    period::{Kind, Period},
    settings::ReportingSettings,
};

/// What reporting consumes: the facts `apply` knows, and `report.due`.
pub fn event_types() -> Vec<String> {
    apply::EVENT_TYPES
        .iter()
        .chain([&ReportDueV1::TYPE])
        .map(|s| s.to_string())
        .collect()
}

pub struct ReportingHandler {
    pub settings: Arc<ReportingSettings>,
    pub tz: Tz,
}

#[async_trait]
impl Handler for ReportingHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        if event.event_type == ReportDueV1::TYPE {
            return self.report_due(conn, &event.decode()?).await;
        }
        apply::apply(conn, &self.settings, event).await?;
        sqlx::query(
            "INSERT INTO event_log (event_id, event_type, envelope) VALUES ($1, $2, $3)
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event.id)
        .bind(&event.event_type)
        .bind(serde_json::to_value(event).map_err(|e| HandlerError::Malformed(e.to_string()))?)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// Who issues reports that fall due.
pub const SCHEDULER: &str = "scheduler";

impl ReportingHandler {
    async fn report_due(&self, conn: &mut PgConnection, event: &Envelope<ReportDueV1>) -> Result<(), HandlerError> {
        let d = &event.data;
        let period = Kind::parse(&d.kind)
            .and_then(|k| Period::parse(k, &d.period))
            .ok_or_else(|| HandlerError::Malformed(format!("no {} report period {}", d.kind, d.period)))?;
        // Due once: a second `report.due` for the same report (a replayed timer) issues nothing new.
        let issued: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM issued_reports WHERE kind = $1 AND period = $2 AND site = $3 AND issued_by = $4",
        )
        .bind(&d.kind)
        .bind(period.label())
        .bind(&d.site)
        .bind(SCHEDULER)
        .fetch_optional(&mut *conn)
        .await?;
        if issued.is_some() {
            return Ok(());
        }
        crate::issue::issue(conn, &self.settings, self.tz, &period, &d.site, SCHEDULER)
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!("issuing the report: {}", e.message)))?;
        Ok(())
    }
}
