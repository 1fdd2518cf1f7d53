//! `report.issued`: the report recipients get the link to the issued version.
use contracts::{report::ReportIssuedV1, Envelope, RawEnvelope};
use messaging::HandlerError;
use serde_json::json;
use sqlx::PgConnection;

use super::{deliveries::Notice, NotificationHandler};
use crate::domain::rules::Context;

impl NotificationHandler {
    pub(super) async fn report_issued(
        &self,
        conn: &mut PgConnection,
        raw: &RawEnvelope,
        event: &Envelope<ReportIssuedV1>,
    ) -> Result<(), HandlerError> {
        let r = &event.data;
        // Not a case: the log and Message-IDs name the report instead (`monthly-2026-11`).
        let reference = format!("{}-{}", r.kind, r.period);
        let url = format!("{}{}", self.settings.links.reporting_url.trim_end_matches('/'), r.path);
        let directory = self.directory(conn).await?;
        self.notify(
            conn,
            &directory,
            Notice {
                event: raw,
                action: None,
                dedup_key: format!("report.issued:{}:{}:{}:{}", r.kind, r.period, r.site, r.version),
                case_id: None,
                reference: &reference,
                ctx: Context {
                    // A site's report goes to those serving it; the all-sites report to everyone named.
                    site: (!r.site.is_empty()).then_some(r.site.as_str()),
                    ..Default::default()
                },
                vars: json!({
                    "kind": r.kind, "period": r.period, "site": r.site, "version": r.version, "total": r.total,
                    "previous_total": r.previous_total, "url": url,
                }),
            },
        )
        .await
    }
}
