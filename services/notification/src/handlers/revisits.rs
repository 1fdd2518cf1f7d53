//! `revisit.due`: the revisit call announced to the customer, where a rule is configured (none by default).
use contracts::{revisit::RevisitDueV1, Envelope, RawEnvelope};
use messaging::HandlerError;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    cases::{contact, known_case},
    deliveries::Notice,
    NotificationHandler,
};
use crate::domain::rules::Context;

impl NotificationHandler {
    pub(super) async fn revisit_due(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<RevisitDueV1>,
    ) -> Result<(), HandlerError> {
        let r = &event.data;
        let contact = contact(conn, &r.reference).await?;
        let known = known_case(conn, Some(r.case_id), None).await?;
        let directory = self.directory(conn).await?;
        self.notify(
            conn,
            &directory,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("revisit.due:{}:{}", r.case_id, r.sequence),
                case_id: Some(r.case_id),
                reference: &r.reference,
                ctx: Context {
                    department: known.as_ref().map(|k| k.department.as_str()).unwrap_or_default(),
                    site: Some(&r.site),
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
}
