//! Events → delivery rows (committed with the inbox row); the senders do the sending. One module per
//! family of events; [`deliveries`] turns the rules' recipients into rows.
mod cases;
mod deadlines;
mod deliveries;
mod feedback;
mod reports;
mod revisits;
pub mod staff;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    deadline::{DeadlineBreachedV1, DeadlineEscalatedV1, DeadlineWarningV1},
    feedback::FeedbackReceivedV1,
    followup::FeedbackFollowupV1,
    report::ReportIssuedV1,
    revisit::RevisitDueV1,
    staff::{StaffChangedV1, StaffTokenRevokedV1},
    Event, RawEnvelope,
};
use messaging::{Handler, HandlerError};
use sqlx::PgConnection;

use crate::{
    clock::{Clock, SystemClock},
    domain::{directory::Directory, templates::Templates},
    settings::Settings,
};

/// The events `[[rules]]` can name: what notification consumes per served site.
pub const RULE_EVENTS: &[&str] = &[
    FeedbackReceivedV1::TYPE,
    CaseOpenedV1::TYPE,
    CaseChangedV1::TYPE,
    DeadlineWarningV1::TYPE,
    DeadlineBreachedV1::TYPE,
    DeadlineEscalatedV1::TYPE,
    FeedbackFollowupV1::TYPE,
    ReportIssuedV1::TYPE,
    RevisitDueV1::TYPE,
];

/// The queues of the served sites.
pub const EVENT_TYPES: &[&str] = RULE_EVENTS;

/// Staff accounts come under triage's head-office site only (`staff.events_site`), on a queue of their own.
pub const STAFF_EVENT_TYPES: &[&str] = &[StaffChangedV1::TYPE, StaffTokenRevokedV1::TYPE];

pub struct NotificationHandler {
    settings: Arc<Settings>,
    templates: Arc<Templates>,
    clock: Arc<dyn Clock>,
}

impl NotificationHandler {
    pub fn new(settings: Arc<Settings>, templates: Arc<Templates>) -> Self {
        Self {
            settings,
            templates,
            clock: Arc::new(SystemClock),
        }
    }

    /// Decides quiet hours by `clock` (tests drive time with it).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    fn department_name(&self, code: &str) -> String {
        self.settings
            .directory
            .departments
            .get(code)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| code.to_owned())
    }

    /// `2026-11-30 18:00` in the site's time zone.
    fn local(&self, site: &str, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.settings.local_time.zone_for(site).0)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// The configured directory with the staff accounts triage announced.
    async fn directory(&self, conn: &mut PgConnection) -> Result<Directory, sqlx::Error> {
        staff::directory(conn, &self.settings.directory).await
    }
}

#[async_trait]
impl Handler for NotificationHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            FeedbackReceivedV1::TYPE => self.feedback_received(conn, event, &event.decode()?).await,
            FeedbackFollowupV1::TYPE => self.followup(conn, event, &event.decode()?).await,
            CaseOpenedV1::TYPE => self.case_opened(conn, event, &event.decode()?).await,
            CaseChangedV1::TYPE => self.case_changed(conn, event, &event.decode()?).await,
            DeadlineWarningV1::TYPE | DeadlineBreachedV1::TYPE | DeadlineEscalatedV1::TYPE => {
                self.deadline_event(conn, event).await
            }
            ReportIssuedV1::TYPE => self.report_issued(conn, event, &event.decode()?).await,
            RevisitDueV1::TYPE => self.revisit_due(conn, event, &event.decode()?).await,
            StaffChangedV1::TYPE => {
                staff::record(conn, &event.decode::<StaffChangedV1>()?.data).await?;
                revocation::handle(conn, event).await
            }
            StaffTokenRevokedV1::TYPE => revocation::handle(conn, event).await,
            other => Err(HandlerError::Malformed(format!("notification does not handle {other}"))),
        }
    }
}
