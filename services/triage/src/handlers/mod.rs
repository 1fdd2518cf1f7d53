pub mod deadline_breached;
pub mod deadline_changed;
pub mod feedback_followup;
pub mod feedback_received;
pub mod notification_failed;
pub mod revisit_due;

use async_trait::async_trait;
use contracts::{
    deadline::{DeadlineBreachedV1, DeadlineChangedV1, DeadlineEscalatedV1},
    feedback::FeedbackReceivedV1,
    followup::FeedbackFollowupV1,
    notification::NotificationFailedV1,
    revisit::RevisitDueV1,
    Event, RawEnvelope,
};
use messaging::{Handler, HandlerError};
use sqlx::PgConnection;
use std::sync::Arc;

use crate::settings::Settings;

/// Dispatches triage's events to their handlers.
pub struct TriageHandler {
    pub settings: Arc<Settings>,
}

pub const EVENT_TYPES: &[&str] = &[
    FeedbackReceivedV1::TYPE,
    FeedbackFollowupV1::TYPE,
    DeadlineBreachedV1::TYPE,
    DeadlineEscalatedV1::TYPE,
    DeadlineChangedV1::TYPE,
    RevisitDueV1::TYPE,
    NotificationFailedV1::TYPE,
];

#[async_trait]
impl Handler for TriageHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            FeedbackReceivedV1::TYPE => feedback_received::handle(&self.settings, conn, &event.decode()?).await,
            FeedbackFollowupV1::TYPE => feedback_followup::handle(conn, &event.decode()?).await,
            DeadlineBreachedV1::TYPE => {
                let e = event.decode::<DeadlineBreachedV1>()?;
                let d = &e.data;
                deadline_breached::record(conn, d.case_id, "deadline_breached", serde_json::to_value(d)).await
            }
            DeadlineEscalatedV1::TYPE => {
                let e = event.decode::<DeadlineEscalatedV1>()?;
                let d = &e.data;
                deadline_breached::record(conn, d.case_id, "deadline_escalated", serde_json::to_value(d)).await
            }
            DeadlineChangedV1::TYPE => deadline_changed::handle(conn, &event.decode()?).await,
            RevisitDueV1::TYPE => revisit_due::handle(&self.settings, conn, &event.decode()?).await,
            NotificationFailedV1::TYPE => notification_failed::handle(conn, &event.decode()?).await,
            other => Err(HandlerError::Malformed(format!("triage does not handle {other}"))),
        }
    }
}
