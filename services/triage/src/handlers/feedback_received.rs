//! `feedback.received` → a classified, routed case and `case.opened`.
use contracts::{case::CaseOpenedV1, feedback::FeedbackReceivedV1, Envelope};
use messaging::HandlerError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{
        claims::Claim,
        classify::classify,
        routing::department_for,
        workflow::{CaseState, Classification},
    },
    settings::Settings,
};

pub async fn handle(
    settings: &Settings,
    conn: &mut PgConnection,
    event: &Envelope<FeedbackReceivedV1>,
) -> Result<(), HandlerError> {
    let f = &event.data;
    let decision = classify(&settings.classification, f);
    let department = department_for(&settings.routing, &event.site, &decision.category);
    let case_id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let details = serde_json::json!({
        "product": f.product, "order": f.order, "claim": f.claim, "adverse_reaction": f.adverse_reaction,
    });
    let workflow = CaseState::new(
        case_id,
        Classification {
            class: decision.class.clone(),
            category: decision.category.clone(),
            severity: decision.severity.clone(),
            rule: decision.rule.clone(),
            reason: decision.reason.clone(),
        },
    );
    // A claim amount opens a claim that needs the approvals its amount requires (001 §5.5–5.7).
    let claim = f.claim.as_ref().and_then(|c| {
        let amount = c.amount?;
        let currency = c.currency.as_deref().unwrap_or(&settings.claims.currency);
        Claim::open(&settings.claims, amount, currency, c.return_quantity).ok()
    });
    let inserted = sqlx::query(
        "INSERT INTO cases (id, reference, feedback_id, site, channel, status, class, category, severity,
            department, decided_by, customer, contact_key, subject, content, details, received_at, opened_at,
            workflow, claim)
         VALUES ($1,$2,$3,$4,$5,'new',$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
         ON CONFLICT (feedback_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(&f.reference)
    .bind(f.feedback_id)
    .bind(&event.site)
    .bind(f.channel.as_str())
    .bind(&decision.class)
    .bind(&decision.category)
    .bind(&decision.severity)
    .bind(&department)
    .bind(serde_json::to_value(&decision).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_value(&f.customer).map_err(anyhow::Error::from)?)
    .bind(&f.customer.contact_key)
    .bind(&f.subject)
    .bind(&f.content)
    .bind(details)
    .bind(f.received_at)
    .bind(now)
    .bind(serde_json::to_value(&workflow).map_err(anyhow::Error::from)?)
    .bind(
        claim
            .map(serde_json::to_value)
            .transpose()
            .map_err(anyhow::Error::from)?,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        // The same feedback under another event id (a replay): the case exists already.
        return Ok(());
    }
    sqlx::query("INSERT INTO case_history (case_id, actor, action, detail) VALUES ($1, 'system', 'opened', $2)")
        .bind(case_id)
        .bind(serde_json::json!({ "classification": decision, "department": department }))
        .execute(&mut *conn)
        .await?;
    let summary: String = f.content.chars().take(200).collect();
    let opened = Envelope::new(
        event.site.clone(),
        event.correlation_id,
        CaseOpenedV1 {
            case_id,
            reference: f.reference.clone(),
            feedback_id: f.feedback_id,
            channel: f.channel,
            received_at: f.received_at,
            opened_at: now,
            class: decision.class,
            category: decision.category,
            severity: decision.severity,
            department,
            assignee: None,
            customer: f.customer.clone(),
            subject: f.subject.clone(),
            summary,
        },
    );
    messaging::enqueue(conn, &opened).await?;
    Ok(())
}
