//! `deadline.warning`, `deadline.breached`, `deadline.escalated`: the handler (or, with no assignee known,
//! whom the rule falls back to) and the escalation ladder.
use chrono::{DateTime, Utc};
use contracts::{
    deadline::{DeadlineBreachedV1, DeadlineEscalatedV1, DeadlineWarningV1},
    Event, RawEnvelope,
};
use messaging::HandlerError;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{cases::known_case, deliveries::Notice, NotificationHandler};
use crate::domain::rules::Context;

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

impl NotificationHandler {
    pub(super) async fn deadline_event(&self, conn: &mut PgConnection, raw: &RawEnvelope) -> Result<(), HandlerError> {
        match raw.event_type.as_str() {
            DeadlineWarningV1::TYPE => {
                let d = raw.decode::<DeadlineWarningV1>()?.data;
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
                self.deadline(conn, raw, deadline, key).await
            }
            DeadlineBreachedV1::TYPE => {
                let d = raw.decode::<DeadlineBreachedV1>()?.data;
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
                self.deadline(conn, raw, deadline, key).await
            }
            _ => {
                let d = raw.decode::<DeadlineEscalatedV1>()?.data;
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
                self.deadline(conn, raw, deadline, key).await
            }
        }
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
        let known = known_case(conn, Some(d.case_id), None).await?;
        let department = known
            .as_ref()
            .map(|k| k.department.as_str())
            .or(d.department)
            .unwrap_or_default();
        let assignee = known.as_ref().and_then(|k| k.assignee.as_deref());
        let directory = self.directory(conn).await?;
        self.notify(
            conn,
            &directory,
            Notice {
                event: raw,
                action: None,
                dedup_key,
                case_id: Some(d.case_id),
                reference: d.reference,
                ctx: Context {
                    department,
                    site: Some(&raw.site),
                    class: known.as_ref().map(|k| k.class.as_str()),
                    assignee,
                    level: d.level,
                    roles: d.roles,
                    ..Default::default()
                },
                vars: json!({
                    "reference": d.reference, "clock": d.clock, "due_at": self.local(&raw.site, d.due_at),
                    "level": d.level, "late": d.late, "department_name": self.department_name(department),
                    "assignee": assignee, "assignee_name": assignee.map(|a| directory.name_of(a)),
                    "subject": known.as_ref().and_then(|k| k.subject.clone()),
                    "summary": known.as_ref().map(|k| k.summary.clone()),
                }),
            },
        )
        .await
    }
}
