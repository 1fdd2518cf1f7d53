//! `feedback.received` (the customer's acknowledgement) and `feedback.followup` (the customer wrote again).
use contracts::{feedback::FeedbackReceivedV1, followup::FeedbackFollowupV1, Envelope, RawEnvelope};
use messaging::HandlerError;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{cases::known_case, deliveries::Notice, NotificationHandler};
use crate::domain::rules::{Context, Customer};

impl NotificationHandler {
    pub(super) async fn feedback_received(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<FeedbackReceivedV1>,
    ) -> Result<(), HandlerError> {
        let f = &event.data;
        let c = &f.customer;
        sqlx::query(
            "INSERT INTO case_contacts (reference, name, email, phone, language, anonymous)
             VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (reference) DO NOTHING",
        )
        .bind(&f.reference)
        .bind(&c.name)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(&c.language)
        .bind(c.anonymous)
        .execute(&mut *conn)
        .await?;
        // Usually the case does not exist yet; when case.opened came first, the acknowledgement joins it.
        let case_id: Option<Uuid> = sqlx::query_scalar("SELECT case_id FROM cases WHERE reference = $1 LIMIT 1")
            .bind(&f.reference)
            .fetch_optional(&mut *conn)
            .await?;
        let directory = self.directory(conn).await?;
        let customer = Customer {
            name: c.name.as_deref(),
            email: c.email.as_deref(),
            phone: c.phone.as_deref(),
            language: &c.language,
            anonymous: c.anonymous,
        };
        self.notify(
            conn,
            &directory,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("feedback.received:{}", f.feedback_id),
                case_id,
                reference: &f.reference,
                ctx: Context {
                    site: Some(&raw.site),
                    customer,
                    ..Default::default()
                },
                vars: json!({ "reference": f.reference, "name": c.name, "status_url": f.status_url }),
            },
        )
        .await
    }

    pub(super) async fn followup(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<FeedbackFollowupV1>,
    ) -> Result<(), HandlerError> {
        let f = &event.data;
        let Some(case) = known_case(conn, None, Some(&f.reference)).await? else {
            // A follow-up of feedback that never became a case here (e.g. merged into another case's
            // reference): triage still records it; nobody to tell from this side.
            tracing::info!(reference = %f.reference, "follow-up of a case notification does not know; nobody told");
            return Ok(());
        };
        let directory = self.directory(conn).await?;
        self.notify(
            conn,
            &directory,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("feedback.followup:{}", f.followup_id),
                case_id: Some(case.case_id),
                reference: &case.reference,
                ctx: Context {
                    department: &case.department,
                    site: Some(&raw.site),
                    class: Some(&case.class),
                    assignee: case.assignee.as_deref(),
                    ..Default::default()
                },
                vars: json!({
                    "reference": case.reference, "text": f.text, "subject": f.subject, "channel": f.channel,
                    "received_at": self.local(&raw.site, f.received_at),
                    "department_name": self.department_name(&case.department),
                    "assignee_name": case.assignee.as_deref().map(|a| directory.name_of(a)),
                }),
            },
        )
        .await
    }
}
