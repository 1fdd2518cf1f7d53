//! `case.opened` and `case.changed`: notification's record of each case (for deadline events, which name
//! only the case) and the messages of each.
use chrono::{DateTime, Utc};
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    Envelope, RawEnvelope,
};
use messaging::HandlerError;
use serde_json::{json, Value};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::{deliveries::Notice, NotificationHandler};
use crate::domain::rules::{Context, Customer};

/// How to reach a case's customer (from `feedback.received`).
pub(super) struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub anonymous: bool,
}

impl Contact {
    pub fn customer(&self) -> Customer<'_> {
        Customer {
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            language: &self.language,
            anonymous: self.anonymous,
        }
    }
}

/// What notification last heard of a case (`case.opened`, then every `case.changed`).
pub(super) struct KnownCase {
    pub case_id: Uuid,
    pub reference: String,
    pub department: String,
    pub assignee: Option<String>,
    pub class: String,
    pub category: String,
    pub severity: String,
    pub subject: Option<String>,
    pub summary: String,
}

pub(super) async fn contact(conn: &mut PgConnection, reference: &str) -> Result<Contact, sqlx::Error> {
    let row = sqlx::query("SELECT name, email, phone, language, anonymous FROM case_contacts WHERE reference = $1")
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
        },
        None => Contact {
            name: None,
            email: None,
            phone: None,
            language: "zh-CN".into(),
            anonymous: true,
        },
    })
}

pub(super) async fn known_case(
    conn: &mut PgConnection,
    case_id: Option<Uuid>,
    reference: Option<&str>,
) -> Result<Option<KnownCase>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT case_id, reference, department, assignee, class, category, severity, subject, summary FROM cases
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
        category: r.get("category"),
        severity: r.get("severity"),
        subject: r.get("subject"),
        summary: r.get("summary"),
    }))
}

/// The fields a change changed: those its `changes` name (triage nests class, category and severity under
/// `classification`), and those that differ from what notification last knew of the case.
pub fn changed_fields(before: Option<&KnownCaseFields<'_>>, c: &CaseChangedV1) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |f: &str| {
        if !out.iter().any(|o| o == f) {
            out.push(f.to_owned());
        }
    };
    if let Some(changes) = c.changes.as_object() {
        for (field, pair) in changes {
            push(field);
            if let Some([old, new]) = pair.as_array().map(Vec::as_slice) {
                for sub in ["class", "category", "severity"] {
                    if old.is_object() && old.get(sub) != new.get(sub) {
                        push(sub);
                    }
                }
            }
        }
    }
    if let Some(b) = before {
        let now = [
            ("department", Some(c.department.as_str())),
            ("assignee", c.assignee.as_deref()),
            ("class", Some(c.class.as_str())),
            ("category", Some(c.category.as_str())),
            ("severity", Some(c.severity.as_str())),
        ];
        let then = [b.department, b.assignee, b.class, b.category, b.severity];
        for ((field, new), old) in now.into_iter().zip(then) {
            if new != old {
                push(field);
            }
        }
    }
    out
}

/// The fields of a known case a change is compared with.
pub struct KnownCaseFields<'a> {
    pub department: Option<&'a str>,
    pub assignee: Option<&'a str>,
    pub class: Option<&'a str>,
    pub category: Option<&'a str>,
    pub severity: Option<&'a str>,
}

impl KnownCase {
    fn fields(&self) -> KnownCaseFields<'_> {
        KnownCaseFields {
            department: Some(&self.department),
            assignee: self.assignee.as_deref(),
            class: Some(&self.class),
            category: Some(&self.category),
            severity: Some(&self.severity),
        }
    }
}

impl NotificationHandler {
    pub(super) async fn case_opened(
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
        // The acknowledgement went out before the case existed: it belongs to the case from now on.
        sqlx::query("UPDATE deliveries SET case_id = $1 WHERE case_reference = $2 AND case_id IS NULL")
            .bind(case.case_id)
            .bind(&case.reference)
            .execute(&mut *conn)
            .await?;
        let directory = self.directory(conn).await?;
        let customer = Customer {
            name: case.customer.name.as_deref(),
            email: case.customer.email.as_deref(),
            phone: case.customer.phone.as_deref(),
            language: &case.customer.language,
            anonymous: case.customer.anonymous,
        };
        // Who approves is triage's rule (its thresholds); the amount is the event's, so neither depends on
        // feedback.received having arrived first.
        let claim = case.claim.as_ref();
        let approvals = claim.map(|c| c.approvals_required.as_slice()).unwrap_or_default();
        let assignee_name = case.assignee.as_deref().map(|a| directory.name_of(a));
        self.notify(
            conn,
            &directory,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("case.opened:{}", case.case_id),
                case_id: Some(case.case_id),
                reference: &case.reference,
                ctx: Context {
                    department: &case.department,
                    site: Some(&raw.site),
                    class: Some(&case.class),
                    assignee: case.assignee.as_deref(),
                    customer,
                    approvals,
                    involved: &case.involved_roles,
                    ..Default::default()
                },
                vars: json!({
                    "reference": case.reference, "subject": case.subject.clone().unwrap_or_default(),
                    "department_name": self.department_name(&case.department), "class": case.class,
                    "category": case.category, "severity": case.severity, "channel": case.channel.as_str(),
                    "received_at": self.local(&raw.site, case.received_at), "assignee": case.assignee,
                    "assignee_name": assignee_name, "summary": case.summary, "name": case.customer.name,
                    "amount": claim.map(|c| c.amount.clone()), "currency": claim.map(|c| c.currency.clone()),
                }),
            },
        )
        .await
    }

    pub(super) async fn case_changed(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<CaseChangedV1>,
    ) -> Result<(), HandlerError> {
        let c = &event.data;
        let before = known_case(conn, Some(c.case_id), None).await?;
        let changed = changed_fields(before.as_ref().map(KnownCase::fields).as_ref(), c);
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
        let contact = contact(conn, &c.reference).await?;
        let directory = self.directory(conn).await?;
        let new_due = c.detail["new_due"]
            .as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|t| self.local(&raw.site, t));
        // The history row is the change's natural identity: a replay under a new event id tells nobody twice.
        let dedup_key = match c.history_id {
            Some(h) => format!("case.changed:{}:{h}", c.case_id),
            None => format!("case.changed:{}", raw.id),
        };
        let summary: Value = c.detail["summary"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| before.as_ref().map(|k| k.summary.clone()))
            .into();
        self.notify(
            conn,
            &directory,
            Notice {
                event: raw,
                action: Some(&c.action),
                dedup_key,
                case_id: Some(c.case_id),
                reference: &c.reference,
                ctx: Context {
                    department: &c.department,
                    site: Some(&raw.site),
                    class: Some(&c.class),
                    assignee: c.assignee.as_deref(),
                    customer: contact.customer(),
                    changed: &changed,
                    ..Default::default()
                },
                vars: json!({
                    "reference": c.reference, "name": contact.name, "text": c.detail["text"], "action": c.action,
                    "reason": c.detail["reason"], "new_due": new_due, "clock": c.detail["clock"],
                    "summary": summary,
                    "subject": before.as_ref().and_then(|k| k.subject.clone()).unwrap_or_default(),
                    "department_name": self.department_name(&c.department), "class": c.class,
                    "category": c.category, "severity": c.severity, "actor": c.actor, "assignee": c.assignee,
                    "assignee_name": c.assignee.as_deref().map(|a| directory.name_of(a)),
                }),
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(changes: Value) -> CaseChangedV1 {
        serde_json::from_value(json!({
            "case_id": Uuid::nil(), "reference": "R", "action": "reclassify", "from_status": "assigned",
            "status": "assigned", "actor": "a", "department": "quality", "assignee": "u1", "class": "important",
            "category": "product_quality", "severity": "important", "changes": changes, "detail": {},
            "at": "2026-11-23T08:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn changed_fields_come_from_the_changes_and_from_what_was_known() {
        // Triage's shape: the classification as a whole, old and new.
        let c = change(json!({"classification": [
            {"class": "general", "category": "product_quality", "severity": "important", "rule": "r"},
            {"class": "important", "category": "product_quality", "severity": "important", "rule": "staff"}]}));
        assert_eq!(changed_fields(None, &c), ["classification", "class"]);
        // Nothing in `changes`, but notification knew the case as general.
        let before = KnownCaseFields {
            department: Some("quality"),
            assignee: Some("u1"),
            class: Some("general"),
            category: Some("product_quality"),
            severity: Some("important"),
        };
        assert_eq!(changed_fields(Some(&before), &change(json!({}))), ["class"]);
        // Only the severity changed: the class did not.
        let c = change(json!({"classification": [
            {"class": "important", "category": "product_quality", "severity": "general"},
            {"class": "important", "category": "product_quality", "severity": "important"}]}));
        let known_important = KnownCaseFields {
            class: Some("important"),
            severity: Some("general"),
            ..before
        };
        assert_eq!(
            changed_fields(Some(&known_important), &c),
            ["classification", "severity"]
        );
    }
}
