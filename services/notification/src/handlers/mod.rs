//! Events → delivery rows (committed with the inbox row); the sender does the sending.
use std::sync::Arc;

use async_trait::async_trait;
use contracts::{case::CaseOpenedV1, Envelope, Event, RawEnvelope};
use messaging::{Handler, HandlerError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{rules, templates},
    settings::Settings,
};

pub const EVENT_TYPES: &[&str] = &[CaseOpenedV1::TYPE];

pub struct NotificationHandler {
    pub settings: Arc<Settings>,
}

#[async_trait]
impl Handler for NotificationHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            CaseOpenedV1::TYPE => self.case_opened(conn, &event.decode()?).await,
            other => Err(HandlerError::Malformed(format!("notification does not handle {other}"))),
        }
    }
}

impl NotificationHandler {
    async fn case_opened(&self, conn: &mut PgConnection, event: &Envelope<CaseOpenedV1>) -> Result<(), HandlerError> {
        let case = &event.data;
        let ctx = rules::Context {
            department: &case.department,
            customer_email: case.customer.email.as_deref(),
            customer_language: &case.customer.language,
            customer_anonymous: case.customer.anonymous,
        };
        let s = &self.settings;
        for (rule, recipient) in rules::recipients(&s.rules, &s.directory, CaseOpenedV1::TYPE, &ctx) {
            let department_name = s
                .directory
                .departments
                .get(&case.department)
                .map(|d| d.name.as_str())
                .unwrap_or(&case.department);
            let rendered = templates::case_opened(case, department_name, &recipient.language);
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, event_type, site, case_id, case_reference, recipient,
                    recipient_masked, channel, template, language, subject, body_text, message_id)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
                 ON CONFLICT (event_id, recipient, channel) DO NOTHING",
            )
            .bind(id)
            .bind(event.id)
            .bind(&event.event_type)
            .bind(&event.site)
            .bind(case.case_id)
            .bind(&case.reference)
            .bind(&recipient.address)
            .bind(telemetry::pii::mask_email(&recipient.address))
            .bind(&rule.channel)
            .bind(&rule.template)
            .bind(&recipient.language)
            .bind(&rendered.subject)
            .bind(&rendered.body)
            .bind(format!("<{id}@{}>", s.smtp.message_id_domain))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
