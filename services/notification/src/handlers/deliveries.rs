//! One event → one delivery row per rule and recipient (the log and the send queue), or a `no_recipient`
//! row where a rule names somebody the directory cannot reach, so staff see in the log who was not told.
use contracts::RawEnvelope;
use messaging::HandlerError;
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::NotificationHandler;
use crate::{
    domain::{
        directory::Directory,
        recipients::{self, Recipient, Resolved},
        rules::{Context, Rule},
    },
    settings::SmsProviderKind,
    sms::segments,
};

/// One event to tell people about.
pub(super) struct Notice<'a> {
    pub event: &'a RawEnvelope,
    pub action: Option<&'a str>,
    /// Natural identity of what happened, so a replay under a new event id notifies nobody twice.
    pub dedup_key: String,
    pub case_id: Option<Uuid>,
    pub reference: &'a str,
    pub ctx: Context<'a>,
    pub vars: Value,
}

/// The status of a row for a rule that reached nobody; the sender never picks it up.
pub const NO_RECIPIENT: &str = "no_recipient";

impl NotificationHandler {
    pub(super) async fn notify(
        &self,
        conn: &mut PgConnection,
        directory: &Directory,
        n: Notice<'_>,
    ) -> Result<(), HandlerError> {
        let s = &self.settings;
        let found = recipients::resolve(&s.rules, directory, &n.event.event_type, n.action, &n.ctx);
        for resolved in found {
            let rule = match &resolved {
                Resolved::To { rule, .. } | Resolved::Nobody { rule, .. } => *rule,
            };
            if rule.channel == "sms" && s.sms.provider == SmsProviderKind::None {
                continue;
            }
            match resolved {
                Resolved::To { kind, recipient, .. } => self.queue(conn, &n, rule, kind, &recipient).await?,
                Resolved::Nobody {
                    kind, target, reason, ..
                } => self.no_recipient(conn, &n, rule, kind, &target, &reason).await?,
            }
        }
        Ok(())
    }

    async fn queue(
        &self,
        conn: &mut PgConnection,
        n: &Notice<'_>,
        rule: &Rule,
        kind: &str,
        recipient: &Recipient,
    ) -> Result<(), HandlerError> {
        let s = &self.settings;
        let sms = rule.channel == "sms";
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
        // No SMS to customers at night: the row waits until the site's quiet hours end.
        let quiet_zone = (sms && kind == "customer").then(|| s.local_time.zone_for(&n.event.site));
        let now = self.clock.now();
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
                body_html, template_vars, recipient_kind, correlation_id, quiet_hours_tz, next_attempt_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)
             ON CONFLICT (dedup_key, recipient, channel, template) DO NOTHING",
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
        .bind(html)
        .bind(&vars)
        .bind(kind)
        .bind(n.event.correlation_id)
        .bind(quiet_zone.map(|z| z.to_string()))
        .bind(due)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The rule named `target` (a staff id, role or department — never a customer's data) and nobody can
    /// be reached: a row in the log that the sender skips, with the reason.
    async fn no_recipient(
        &self,
        conn: &mut PgConnection,
        n: &Notice<'_>,
        rule: &Rule,
        kind: &str,
        target: &str,
        reason: &str,
    ) -> Result<(), HandlerError> {
        let id = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO deliveries (id, event_id, event_type, site, case_id, case_reference, recipient,
                recipient_masked, channel, template, language, subject, body_text, message_id, dedup_key,
                recipient_kind, correlation_id, status, last_error)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$7,$8,$9,'','','',$10,$11,$12,$13,$14,$15)
             ON CONFLICT (dedup_key, recipient, channel, template) DO NOTHING",
        )
        .bind(id)
        .bind(n.event.id)
        .bind(&n.event.event_type)
        .bind(&n.event.site)
        .bind(n.case_id)
        .bind(n.reference)
        .bind(target)
        .bind(&rule.channel)
        .bind(&rule.template)
        .bind(format!(
            "<{}.{id}@{}>",
            n.reference, self.settings.smtp.message_id_domain
        ))
        .bind(&n.dedup_key)
        .bind(kind)
        .bind(n.event.correlation_id)
        .bind(NO_RECIPIENT)
        .bind(format!("nobody to tell: {reason}"))
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted > 0 {
            metrics::counter!("notifications_unreached_total", "channel" => rule.channel.clone()).increment(1);
            tracing::warn!(
                event_type = %n.event.event_type, reference = %n.reference, template = %rule.template,
                recipient_kind = %kind, %target, %reason, "a rule reached nobody"
            );
        }
        Ok(())
    }
}
