//! Events → delivery rows (committed with the inbox row); the sender does the sending.
use std::sync::Arc;

use async_trait::async_trait;
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    feedback::FeedbackReceivedV1,
    Envelope, Event, RawEnvelope,
};
use messaging::{Handler, HandlerError};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{
        rules::{self, Context},
        templates::Templates,
    },
    settings::Settings,
};

pub const EVENT_TYPES: &[&str] = &[FeedbackReceivedV1::TYPE, CaseOpenedV1::TYPE, CaseChangedV1::TYPE];

pub struct NotificationHandler {
    pub settings: Arc<Settings>,
    pub templates: Arc<Templates>,
}

/// One event to tell people about.
struct Notice<'a> {
    event: &'a RawEnvelope,
    action: Option<&'a str>,
    /// Natural identity of what happened, so a replay under a new event id notifies nobody twice.
    dedup_key: String,
    case_id: Option<Uuid>,
    reference: &'a str,
    ctx: Context<'a>,
    vars: Value,
}

#[async_trait]
impl Handler for NotificationHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            FeedbackReceivedV1::TYPE => self.feedback_received(conn, event, &event.decode()?).await,
            CaseOpenedV1::TYPE => self.case_opened(conn, event, &event.decode()?).await,
            CaseChangedV1::TYPE => self.case_changed(conn, event, &event.decode()?).await,
            other => Err(HandlerError::Malformed(format!("notification does not handle {other}"))),
        }
    }
}

impl NotificationHandler {
    async fn feedback_received(
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
        self.notify(
            conn,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("feedback.received:{}", f.feedback_id),
                case_id: None,
                reference: &f.reference,
                ctx: Context {
                    department: "",
                    customer_name: c.name.as_deref(),
                    customer_email: c.email.as_deref(),
                    customer_language: &c.language,
                    customer_anonymous: c.anonymous,
                },
                vars: json!({ "reference": f.reference, "name": c.name, "status_url": f.status_url }),
            },
        )
        .await
    }

    async fn case_opened(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<CaseOpenedV1>,
    ) -> Result<(), HandlerError> {
        let case = &event.data;
        let department_name = self
            .settings
            .directory
            .departments
            .get(&case.department)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| case.department.clone());
        self.notify(
            conn,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("case.opened:{}", case.case_id),
                case_id: Some(case.case_id),
                reference: &case.reference,
                ctx: Context {
                    department: &case.department,
                    customer_name: case.customer.name.as_deref(),
                    customer_email: case.customer.email.as_deref(),
                    customer_language: &case.customer.language,
                    customer_anonymous: case.customer.anonymous,
                },
                vars: json!({
                    "reference": case.reference, "subject": case.subject.clone().unwrap_or_default(),
                    "department_name": department_name, "class": case.class, "category": case.category,
                    "severity": case.severity, "channel": case.channel.as_str(), "received_at": case.received_at,
                    "assignee": case.assignee, "summary": case.summary,
                }),
            },
        )
        .await
    }

    async fn case_changed(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<CaseChangedV1>,
    ) -> Result<(), HandlerError> {
        let c = &event.data;
        let contact: Option<(Option<String>, Option<String>, String, bool)> =
            sqlx::query_as("SELECT name, email, language, anonymous FROM case_contacts WHERE reference = $1")
                .bind(&c.reference)
                .fetch_optional(&mut *conn)
                .await?;
        let (name, email, language, anonymous) = contact.unwrap_or((None, None, "zh-CN".into(), true));
        self.notify(
            conn,
            Notice {
                event: raw,
                action: Some(&c.action),
                dedup_key: format!("case.changed:{}", raw.id),
                case_id: Some(c.case_id),
                reference: &c.reference,
                ctx: Context {
                    department: &c.department,
                    customer_name: name.as_deref(),
                    customer_email: email.as_deref(),
                    customer_language: &language,
                    customer_anonymous: anonymous,
                },
                vars: json!({ "reference": c.reference, "name": name, "text": c.detail["text"], "action": c.action }),
            },
        )
        .await
    }

    async fn notify(&self, conn: &mut PgConnection, n: Notice<'_>) -> Result<(), HandlerError> {
        let s = &self.settings;
        for (rule, recipient) in rules::recipients(&s.rules, &s.directory, &n.event.event_type, n.action, &n.ctx) {
            let rendered = self
                .templates
                .render(&rule.template, &recipient.language, &n.vars)
                .map_err(|e| HandlerError::Malformed(e.to_string()))?;
            // Customers' mail threads under the first message we sent them about this reference.
            let in_reply_to: Option<String> = if rule.recipient == "customer" {
                sqlx::query_scalar(
                    "SELECT message_id FROM deliveries WHERE case_reference = $1 AND recipient = $2
                      ORDER BY created_at LIMIT 1",
                )
                .bind(n.reference)
                .bind(&recipient.address)
                .fetch_optional(&mut *conn)
                .await?
            } else {
                None
            };
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, event_type, site, case_id, case_reference, recipient,
                    recipient_masked, channel, template, language, subject, body_text, message_id, dedup_key,
                    in_reply_to)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
                 ON CONFLICT (dedup_key, recipient, channel) DO NOTHING",
            )
            .bind(id)
            .bind(n.event.id)
            .bind(&n.event.event_type)
            .bind(&n.event.site)
            .bind(n.case_id)
            .bind(n.reference)
            .bind(&recipient.address)
            .bind(telemetry::pii::mask_email(&recipient.address))
            .bind(&rule.channel)
            .bind(&rule.template)
            .bind(&recipient.language)
            .bind(&rendered.subject)
            .bind(&rendered.body)
            .bind(format!("<{id}@{}>", s.smtp.message_id_domain))
            .bind(&n.dedup_key)
            .bind(in_reply_to)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
