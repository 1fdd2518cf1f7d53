//! Events → delivery rows (committed with the inbox row); the senders do the sending.
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
    Envelope, Event, RawEnvelope,
};
use messaging::{Handler, HandlerError};
use serde_json::{json, Value};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::{
    domain::{
        rules::{self, Context, Customer},
        templates::Templates,
    },
    settings::{Settings, SmsProviderKind},
    sms::segments,
};

pub const EVENT_TYPES: &[&str] = &[
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

/// How to reach a case's customer (from `feedback.received`).
struct Contact {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    language: String,
    anonymous: bool,
    claim_amount: Option<f64>,
}

impl Contact {
    fn customer(&self) -> Customer<'_> {
        Customer {
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            language: &self.language,
            anonymous: self.anonymous,
        }
    }
}

/// A clock event, whichever of the three.
struct Deadline<'a> {
    case_id: Uuid,
    reference: &'a str,
    department: Option<&'a str>,
    clock: &'a str,
    due_at: DateTime<Utc>,
    level: Option<u32>,
    roles: &'a [String],
    late: bool,
}

/// What notification last heard of a case (`case.opened`, then every `case.changed`).
struct KnownCase {
    case_id: Uuid,
    reference: String,
    department: String,
    assignee: Option<String>,
    class: String,
    subject: Option<String>,
    summary: String,
}

#[async_trait]
impl Handler for NotificationHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            FeedbackReceivedV1::TYPE => self.feedback_received(conn, event, &event.decode()?).await,
            CaseOpenedV1::TYPE => self.case_opened(conn, event, &event.decode()?).await,
            CaseChangedV1::TYPE => self.case_changed(conn, event, &event.decode()?).await,
            DeadlineWarningV1::TYPE => {
                let e = event.decode::<DeadlineWarningV1>()?;
                let d = &e.data;
                let key = format!("deadline.warning:{}:{}:{}", d.case_id, d.clock, d.due_at.timestamp());
                let deadline = Deadline {
                    case_id: d.case_id,
                    reference: &d.case_reference,
                    department: Some(&d.department),
                    clock: &d.clock,
                    due_at: d.due_at,
                    level: None,
                    roles: &[],
                    late: d.late,
                };
                self.deadline(conn, event, deadline, key).await
            }
            DeadlineBreachedV1::TYPE => {
                let e = event.decode::<DeadlineBreachedV1>()?;
                let d = &e.data;
                let key = format!(
                    "deadline.breached:{}:{}:{}:{}",
                    d.case_id,
                    d.clock,
                    d.due_at.timestamp(),
                    d.level
                );
                let deadline = Deadline {
                    case_id: d.case_id,
                    reference: &d.case_reference,
                    department: None,
                    clock: &d.clock,
                    due_at: d.due_at,
                    level: Some(d.level),
                    roles: &[],
                    late: d.late,
                };
                self.deadline(conn, event, deadline, key).await
            }
            DeadlineEscalatedV1::TYPE => {
                let e = event.decode::<DeadlineEscalatedV1>()?;
                let d = &e.data;
                let key = format!(
                    "deadline.escalated:{}:{}:{}:{}",
                    d.case_id,
                    d.clock,
                    d.due_at.timestamp(),
                    d.level
                );
                let deadline = Deadline {
                    case_id: d.case_id,
                    reference: &d.case_reference,
                    department: Some(&d.department),
                    clock: &d.clock,
                    due_at: d.due_at,
                    level: Some(d.level),
                    roles: &d.notify,
                    late: d.late,
                };
                self.deadline(conn, event, deadline, key).await
            }
            FeedbackFollowupV1::TYPE => self.followup(conn, event, &event.decode()?).await,
            ReportIssuedV1::TYPE => self.report_issued(conn, event, &event.decode()?).await,
            RevisitDueV1::TYPE => self.revisit_due(conn, event, &event.decode()?).await,
            other => Err(HandlerError::Malformed(format!("notification does not handle {other}"))),
        }
    }
}

impl NotificationHandler {
    fn department_name(&self, code: &str) -> String {
        self.settings
            .directory
            .departments
            .get(code)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| code.to_owned())
    }

    fn person_name(&self, id: Option<&str>) -> Option<String> {
        let id = id?;
        Some(
            self.settings
                .directory
                .people
                .get(id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| id.to_owned()),
        )
    }

    /// `2026-11-30 18:00` in the site's time zone.
    fn local(&self, site: &str, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.settings.local_time.zone_for(site).0)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    async fn contact(&self, conn: &mut PgConnection, reference: &str) -> Result<Contact, sqlx::Error> {
        let row = sqlx::query(
            "SELECT name, email, phone, language, anonymous, claim_amount::float8 AS claim_amount
               FROM case_contacts WHERE reference = $1",
        )
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match row {
            Some(r) => Contact {
                name: r.get("name"),
                email: r.get("email"),
                phone: r.get("phone"),
                language: r.get("language"),
                anonymous: r.get("anonymous"),
                claim_amount: r.get("claim_amount"),
            },
            None => Contact {
                name: None,
                email: None,
                phone: None,
                language: "zh-CN".into(),
                anonymous: true,
                claim_amount: None,
            },
        })
    }

    async fn known_case(
        &self,
        conn: &mut PgConnection,
        case_id: Option<Uuid>,
        reference: Option<&str>,
    ) -> Result<Option<KnownCase>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT case_id, reference, department, assignee, class, subject, summary FROM cases
              WHERE case_id = $1 OR reference = $2 ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(case_id)
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(|r| KnownCase {
            case_id: r.get("case_id"),
            reference: r.get("reference"),
            department: r.get("department"),
            assignee: r.get("assignee"),
            class: r.get("class"),
            subject: r.get("subject"),
            summary: r.get("summary"),
        }))
    }

    async fn feedback_received(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<FeedbackReceivedV1>,
    ) -> Result<(), HandlerError> {
        let f = &event.data;
        let c = &f.customer;
        let claim_amount = f.claim.as_ref().and_then(|c| c.amount).map(|a| a.to_string());
        sqlx::query(
            "INSERT INTO case_contacts (reference, name, email, phone, language, anonymous, claim_amount)
             VALUES ($1,$2,$3,$4,$5,$6,$7::numeric) ON CONFLICT (reference) DO NOTHING",
        )
        .bind(&f.reference)
        .bind(&c.name)
        .bind(&c.email)
        .bind(&c.phone)
        .bind(&c.language)
        .bind(c.anonymous)
        .bind(claim_amount)
        .execute(&mut *conn)
        .await?;
        let customer = Customer {
            name: c.name.as_deref(),
            email: c.email.as_deref(),
            phone: c.phone.as_deref(),
            language: &c.language,
            anonymous: c.anonymous,
        };
        self.notify(
            conn,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("feedback.received:{}", f.feedback_id),
                case_id: None,
                reference: &f.reference,
                ctx: Context {
                    customer,
                    ..Default::default()
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
        sqlx::query(
            "INSERT INTO cases (case_id, reference, department, assignee, class, category, severity, subject, summary)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (case_id) DO NOTHING",
        )
        .bind(case.case_id)
        .bind(&case.reference)
        .bind(&case.department)
        .bind(&case.assignee)
        .bind(&case.class)
        .bind(&case.category)
        .bind(&case.severity)
        .bind(&case.subject)
        .bind(&case.summary)
        .execute(&mut *conn)
        .await?;
        let contact = self.contact(conn, &case.reference).await?;
        let customer = Customer {
            name: case.customer.name.as_deref(),
            email: case.customer.email.as_deref(),
            phone: case.customer.phone.as_deref(),
            language: &case.customer.language,
            anonymous: case.customer.anonymous,
        };
        let claim = contact.claim_amount;
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
                    class: Some(&case.class),
                    assignee: case.assignee.as_deref(),
                    customer,
                    claim_amount: claim,
                    ..Default::default()
                },
                vars: json!({
                    "reference": case.reference, "subject": case.subject.clone().unwrap_or_default(),
                    "department_name": self.department_name(&case.department), "class": case.class,
                    "category": case.category, "severity": case.severity, "channel": case.channel.as_str(),
                    "received_at": self.local(&raw.site, case.received_at), "assignee": case.assignee,
                    "assignee_name": self.person_name(case.assignee.as_deref()), "summary": case.summary,
                    "name": case.customer.name, "amount": claim.map(|a| format!("{a:.2}")), "currency": "CNY",
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
        sqlx::query(
            "INSERT INTO cases (case_id, reference, department, assignee, class, category, severity)
             VALUES ($1,$2,$3,$4,$5,$6,$7)
             ON CONFLICT (case_id) DO UPDATE SET department = $3, assignee = $4, class = $5, category = $6,
                severity = $7, updated_at = now()",
        )
        .bind(c.case_id)
        .bind(&c.reference)
        .bind(&c.department)
        .bind(&c.assignee)
        .bind(&c.class)
        .bind(&c.category)
        .bind(&c.severity)
        .execute(&mut *conn)
        .await?;
        let known = self.known_case(conn, Some(c.case_id), None).await?;
        let contact = self.contact(conn, &c.reference).await?;
        let new_due = c.detail["new_due"]
            .as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|t| self.local(&raw.site, t));
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
                    class: Some(&c.class),
                    assignee: c.assignee.as_deref(),
                    customer: contact.customer(),
                    claim_amount: contact.claim_amount,
                    ..Default::default()
                },
                vars: json!({
                    "reference": c.reference, "name": contact.name, "text": c.detail["text"], "action": c.action,
                    "reason": c.detail["reason"], "new_due": new_due, "clock": c.detail["clock"],
                    "summary": c.detail["summary"].as_str().map(str::to_owned)
                        .or_else(|| known.as_ref().map(|k| k.summary.clone())),
                    "subject": known.as_ref().and_then(|k| k.subject.clone()).unwrap_or_default(),
                    "department_name": self.department_name(&c.department), "class": c.class,
                    "category": c.category, "severity": c.severity, "actor": c.actor, "assignee": c.assignee,
                    "assignee_name": self.person_name(c.assignee.as_deref()),
                }),
            },
        )
        .await
    }

    async fn deadline(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        d: Deadline<'_>,
        dedup_key: String,
    ) -> Result<(), HandlerError> {
        // A case opened before notification kept its own record of cases is known only by what the
        // event says: its department (not on `deadline.breached`) and no assignee.
        let known = self.known_case(conn, Some(d.case_id), None).await?;
        let department = known
            .as_ref()
            .map(|k| k.department.as_str())
            .or(d.department)
            .unwrap_or_default();
        let assignee = known.as_ref().and_then(|k| k.assignee.as_deref());
        self.notify(
            conn,
            Notice {
                event: raw,
                action: None,
                dedup_key,
                case_id: Some(d.case_id),
                reference: d.reference,
                ctx: Context {
                    department,
                    class: known.as_ref().map(|k| k.class.as_str()),
                    assignee,
                    level: d.level,
                    roles: d.roles,
                    ..Default::default()
                },
                vars: json!({
                    "reference": d.reference, "clock": d.clock, "due_at": self.local(&raw.site, d.due_at),
                    "level": d.level, "late": d.late, "department_name": self.department_name(department),
                    "assignee": assignee, "assignee_name": self.person_name(assignee),
                    "subject": known.as_ref().and_then(|k| k.subject.clone()),
                    "summary": known.as_ref().map(|k| k.summary.clone()),
                }),
            },
        )
        .await
    }

    async fn followup(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<FeedbackFollowupV1>,
    ) -> Result<(), HandlerError> {
        let f = &event.data;
        let Some(case) = self.known_case(conn, None, Some(&f.reference)).await? else {
            // A follow-up of feedback that never became a case here (e.g. merged into another case's
            // reference): triage still records it; nobody to tell from this side.
            tracing::info!(reference = %f.reference, "follow-up of a case notification does not know; nobody told");
            return Ok(());
        };
        self.notify(
            conn,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("feedback.followup:{}", f.followup_id),
                case_id: Some(case.case_id),
                reference: &case.reference,
                ctx: Context {
                    department: &case.department,
                    class: Some(&case.class),
                    assignee: case.assignee.as_deref(),
                    ..Default::default()
                },
                vars: json!({
                    "reference": case.reference, "text": f.text, "subject": f.subject, "channel": f.channel,
                    "received_at": self.local(&raw.site, f.received_at),
                    "department_name": self.department_name(&case.department),
                    "assignee_name": self.person_name(case.assignee.as_deref()),
                }),
            },
        )
        .await
    }

    /// The revisit call announced to the customer, where a rule is configured (none by default).
    async fn revisit_due(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<RevisitDueV1>,
    ) -> Result<(), HandlerError> {
        let r = &event.data;
        let contact = self.contact(conn, &r.reference).await?;
        let known = self.known_case(conn, Some(r.case_id), None).await?;
        self.notify(
            conn,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("revisit.due:{}:{}", r.case_id, r.sequence),
                case_id: Some(r.case_id),
                reference: &r.reference,
                ctx: Context {
                    department: known.as_ref().map(|k| k.department.as_str()).unwrap_or_default(),
                    assignee: known.as_ref().and_then(|k| k.assignee.as_deref()),
                    customer: contact.customer(),
                    ..Default::default()
                },
                vars: json!({
                    "reference": r.reference, "name": contact.name, "reason": r.reason.as_str(),
                    "due_at": self.local(&r.site, r.due_at), "sequence": r.sequence,
                }),
            },
        )
        .await
    }

    async fn report_issued(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<ReportIssuedV1>,
    ) -> Result<(), HandlerError> {
        let r = &event.data;
        // Not a case: the log and Message-IDs name the report instead (`monthly-2026-11`).
        let reference = format!("{}-{}", r.kind, r.period);
        let url = format!("{}{}", self.settings.links.reporting_url.trim_end_matches('/'), r.path);
        self.notify(
            conn,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("report.issued:{}:{}:{}:{}", r.kind, r.period, r.site, r.version),
                case_id: None,
                reference: &reference,
                ctx: Context::default(),
                vars: json!({
                    "kind": r.kind, "period": r.period, "site": r.site, "version": r.version, "total": r.total,
                    "previous_total": r.previous_total, "url": url,
                }),
            },
        )
        .await
    }

    async fn notify(&self, conn: &mut PgConnection, n: Notice<'_>) -> Result<(), HandlerError> {
        let s = &self.settings;
        let now = Utc::now();
        for (rule, recipient) in rules::recipients(&s.rules, &s.directory, &n.event.event_type, n.action, &n.ctx) {
            let sms = rule.channel == "sms";
            if sms && s.sms.provider == SmsProviderKind::None {
                continue;
            }
            let mut vars = n.vars.clone();
            vars["recipient_name"] = json!(recipient.name);
            let (subject, body, html) = if sms {
                let text = self
                    .templates
                    .render_sms(&rule.template, &recipient.language, &vars)
                    .map_err(|e| HandlerError::Malformed(e.to_string()))?;
                (String::new(), segments::truncate(&text, s.sms.max_parts), None)
            } else {
                let r = self
                    .templates
                    .render(&rule.template, &recipient.language, &vars)
                    .map_err(|e| HandlerError::Malformed(e.to_string()))?;
                (r.subject, r.body, Some(r.html))
            };
            // Customers' mail threads under the first message we sent them about this reference.
            let in_reply_to: Option<String> = if rule.recipient == "customer" && !sms {
                sqlx::query_scalar(
                    "SELECT message_id FROM deliveries WHERE case_reference = $1 AND recipient = $2 AND channel = 'email'
                      ORDER BY created_at LIMIT 1",
                )
                .bind(n.reference)
                .bind(&recipient.address)
                .fetch_optional(&mut *conn)
                .await?
            } else {
                None
            };
            // No SMS to customers at night: the row waits until the site's quiet hours end.
            let quiet_zone = (sms && rule.recipient == "customer").then(|| s.local_time.zone_for(&n.event.site));
            let due = quiet_zone
                .and_then(|z| s.sms.quiet_hours.hold_until(now, z.0))
                .unwrap_or(now);
            let masked = if sms {
                telemetry::pii::mask_phone(&recipient.address)
            } else {
                telemetry::pii::mask_email(&recipient.address)
            };
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO deliveries (id, event_id, event_type, site, case_id, case_reference, recipient,
                    recipient_masked, channel, template, language, subject, body_text, message_id, dedup_key,
                    in_reply_to, body_html, template_vars, recipient_kind, correlation_id, quiet_hours_tz,
                    next_attempt_at)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)
                 ON CONFLICT (dedup_key, recipient, channel) DO NOTHING",
            )
            .bind(id)
            .bind(n.event.id)
            .bind(&n.event.event_type)
            .bind(&n.event.site)
            .bind(n.case_id)
            .bind(n.reference)
            .bind(&recipient.address)
            .bind(masked)
            .bind(&rule.channel)
            .bind(&rule.template)
            .bind(&recipient.language)
            .bind(&subject)
            .bind(&body)
            // `<reference>.<uuid>@domain`: intake threads a customer's reply onto the case by it.
            .bind(format!("<{}.{id}@{}>", n.reference, s.smtp.message_id_domain))
            .bind(&n.dedup_key)
            .bind(in_reply_to)
            .bind(html)
            .bind(&vars)
            .bind(&rule.recipient)
            .bind(n.event.correlation_id)
            .bind(quiet_zone.map(|z| z.to_string()))
            .bind(due)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}
