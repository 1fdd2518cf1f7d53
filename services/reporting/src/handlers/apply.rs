//! How each event changes the read models. Used by the consumer and by `rebuild`, which replays `event_log`.
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    deadline::{DeadlineBreachedV1, DeadlineStoppedV1},
    feedback::FeedbackReceivedV1,
    revisit::{RevisitCompletedV1, RevisitDueV1},
    Envelope, Event, RawEnvelope,
};
use messaging::HandlerError;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::settings::ReportingSettings;

pub const EVENT_TYPES: &[&str] = &[
    FeedbackReceivedV1::TYPE,
    CaseOpenedV1::TYPE,
    CaseChangedV1::TYPE,
    DeadlineBreachedV1::TYPE,
    DeadlineStoppedV1::TYPE,
    RevisitDueV1::TYPE,
    RevisitCompletedV1::TYPE,
];

pub async fn apply(conn: &mut PgConnection, s: &ReportingSettings, event: &RawEnvelope) -> Result<(), HandlerError> {
    match event.event_type.as_str() {
        FeedbackReceivedV1::TYPE => feedback_received(conn, s, &event.decode()?).await,
        CaseOpenedV1::TYPE => case_opened(conn, s, &s.timezone, &event.decode()?).await,
        CaseChangedV1::TYPE => case_changed(conn, &event.decode()?).await,
        DeadlineBreachedV1::TYPE => deadline_breached(conn, &event.decode()?).await,
        DeadlineStoppedV1::TYPE => deadline_stopped(conn, &event.decode()?).await,
        RevisitDueV1::TYPE => revisit_due(conn, &event.decode()?).await,
        RevisitCompletedV1::TYPE => revisit_completed(conn, &event.decode()?).await,
        other => Err(HandlerError::Malformed(format!("reporting does not handle {other}"))),
    }
}

/// The customer as a keyed hash: enough to count repeat complaints, useless to identify anyone.
pub fn customer_hash(salt: &str, contact_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(contact_key.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn feedback_received(
    conn: &mut PgConnection,
    s: &ReportingSettings,
    event: &Envelope<FeedbackReceivedV1>,
) -> Result<(), HandlerError> {
    let f = &event.data;
    let product = f.product.clone().unwrap_or_default();
    let claim = f.claim.clone().unwrap_or_default();
    let hash = f
        .customer
        .contact_key
        .as_deref()
        .filter(|_| !f.customer.anonymous)
        .map(|k| customer_hash(&s.pseudonym_salt, k));
    sqlx::query(
        "INSERT INTO feedback_facts (feedback_id, reference, site, channel, received_at, product_code, batch,
            claim_amount, claim_currency, return_quantity, customer_hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8::numeric,$9,$10,$11) ON CONFLICT (feedback_id) DO NOTHING",
    )
    .bind(f.feedback_id)
    .bind(&f.reference)
    .bind(&event.site)
    .bind(f.channel.as_str())
    .bind(f.received_at)
    .bind(product.code)
    .bind(product.batch)
    .bind(claim.amount.map(|a| a.to_string()))
    .bind(claim.currency)
    .bind(claim.return_quantity)
    .bind(hash)
    .execute(&mut *conn)
    .await?;
    // The case may have been opened already (events of two services): give it what the feedback says.
    let case: Option<uuid::Uuid> = sqlx::query_scalar(
        "UPDATE case_facts c SET product_code = f.product_code, customer_hash = f.customer_hash,
                claim_amount = f.claim_amount, claim_currency = f.claim_currency, return_quantity = f.return_quantity
           FROM feedback_facts f WHERE f.feedback_id = $1 AND c.feedback_id = f.feedback_id RETURNING c.case_id",
    )
    .bind(f.feedback_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(case_id) = case {
        judge_repeat(conn, s, case_id).await?;
    }
    Ok(())
}

/// Marks the case a repeat complaint when the same customer complained about the same category within the
/// window before it.
async fn judge_repeat(conn: &mut PgConnection, s: &ReportingSettings, case_id: uuid::Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE case_facts c SET repeat = EXISTS (
                SELECT 1 FROM case_facts p
                 WHERE p.customer_hash = c.customer_hash AND p.category = c.category AND p.class = 'complaint'
                   AND p.case_id <> c.case_id AND p.received_at < c.received_at
                   AND p.received_at >= c.received_at - make_interval(days => $2))
          WHERE c.case_id = $1 AND c.class = 'complaint' AND c.customer_hash IS NOT NULL",
    )
    .bind(case_id)
    .bind(s.repeat_window_days as i32)
    .execute(conn)
    .await?;
    Ok(())
}

/// Recounts the case's clocks that ran out.
async fn count_breached(conn: &mut PgConnection, case_id: uuid::Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE case_facts SET clocks_breached = (SELECT count(*) FROM clock_facts k WHERE k.case_id = $1
                  AND (k.met = false OR (k.stopped_at IS NULL AND k.breached_at IS NOT NULL)))
          WHERE case_id = $1",
    )
    .bind(case_id)
    .execute(conn)
    .await?;
    Ok(())
}

async fn case_opened(
    conn: &mut PgConnection,
    s: &ReportingSettings,
    tz: &str,
    event: &Envelope<CaseOpenedV1>,
) -> Result<(), HandlerError> {
    let c = &event.data;
    let inserted = sqlx::query(
        "INSERT INTO case_facts (case_id, reference, site, channel, class, category, severity, department,
            received_at, opened_at, feedback_id, assignee, status, last_change_at,
            product_code, customer_hash, claim_amount, claim_currency, return_quantity)
         SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'new',$10,
                f.product_code, f.customer_hash, f.claim_amount, f.claim_currency, f.return_quantity
           FROM (SELECT 1) one LEFT JOIN feedback_facts f ON f.feedback_id = $11
         ON CONFLICT (case_id) DO NOTHING",
    )
    .bind(c.case_id)
    .bind(&c.reference)
    .bind(&event.site)
    .bind(c.channel.as_str())
    .bind(&c.class)
    .bind(&c.category)
    .bind(&c.severity)
    .bind(&c.department)
    .bind(c.received_at)
    .bind(c.opened_at)
    .bind(c.feedback_id)
    .bind(&c.assignee)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO case_days (site, day, n) VALUES ($1, ($2 AT TIME ZONE $3)::date, 1)
         ON CONFLICT (day, site) DO UPDATE SET n = case_days.n + 1",
    )
    .bind(&event.site)
    .bind(c.received_at)
    .bind(tz)
    .execute(&mut *conn)
    .await?;
    // Clock events that came first get the case's arrival; the case counts its breached clocks.
    sqlx::query("UPDATE clock_facts SET received_at = $2 WHERE case_id = $1")
        .bind(c.case_id)
        .bind(c.received_at)
        .execute(&mut *conn)
        .await?;
    count_breached(conn, c.case_id).await?;
    judge_repeat(conn, s, c.case_id).await?;
    sqlx::query(
        "UPDATE case_facts SET revisited = EXISTS (SELECT 1 FROM revisit_facts r WHERE r.case_id = $1)
          WHERE case_id = $1",
    )
    .bind(c.case_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The claim's state after a claim decision (`changes.claim = [before, after]` in triage's event).
fn claim_status(claim: &Value) -> Option<(&'static str, Option<String>)> {
    if claim.is_null() {
        return None;
    }
    if let Some(reason) = claim["rejection"].as_str() {
        return Some(("rejected", Some(reason.to_owned())));
    }
    let required = claim["required"].as_array().map(Vec::len).unwrap_or(0);
    let approved = claim["approvals"].as_array().map(Vec::len).unwrap_or(0);
    Some((if approved >= required { "approved" } else { "pending" }, None))
}

async fn case_changed(conn: &mut PgConnection, event: &Envelope<CaseChangedV1>) -> Result<(), HandlerError> {
    let c = &event.data;
    // Current-state columns follow the newest change only (a retried older event must not roll them back).
    let updated = sqlx::query(
        "UPDATE case_facts SET
            status = CASE WHEN $2 >= coalesce(last_change_at, '-infinity') THEN $3 ELSE status END,
            department = CASE WHEN $2 >= coalesce(last_change_at, '-infinity') THEN $4 ELSE department END,
            class = CASE WHEN $2 >= coalesce(last_change_at, '-infinity') THEN $5 ELSE class END,
            category = CASE WHEN $2 >= coalesce(last_change_at, '-infinity') THEN $6 ELSE category END,
            severity = CASE WHEN $2 >= coalesce(last_change_at, '-infinity') THEN $7 ELSE severity END,
            assignee = CASE WHEN $2 >= coalesce(last_change_at, '-infinity') THEN $8 ELSE assignee END,
            last_change_at = greatest(coalesce(last_change_at, '-infinity'), $2)
          WHERE case_id = $1",
    )
    .bind(c.case_id)
    .bind(c.at)
    .bind(&c.status)
    .bind(&c.department)
    .bind(&c.class)
    .bind(&c.category)
    .bind(&c.severity)
    .bind(&c.assignee)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 0 {
        // case.opened has not arrived yet (another queue, a retry): try again later; the inbox keeps it once.
        return Err(HandlerError::Transient(anyhow::anyhow!(
            "case {} not known yet",
            c.reference
        )));
    }
    let d = &c.detail;
    let id = c.case_id;
    let q = match c.action.as_str() {
        "set_validity" => sqlx::query("UPDATE case_facts SET validity = $2 WHERE case_id = $1")
            .bind(id)
            .bind(d["valid"].as_bool().map(|v| if v { "valid" } else { "invalid" })),
        "reject" => sqlx::query("UPDATE case_facts SET validity = 'invalid' WHERE case_id = $1").bind(id),
        "resolve" => sqlx::query("UPDATE case_facts SET resolved_at = coalesce(resolved_at, $2) WHERE case_id = $1")
            .bind(id)
            .bind(c.at),
        "close" | "merge" => sqlx::query("UPDATE case_facts SET closed_at = $2, outcome = $3 WHERE case_id = $1")
            .bind(id)
            .bind(c.at)
            .bind(
                d["outcome"]
                    .as_str()
                    .unwrap_or(if c.action == "merge" { "merged" } else { "closed" })
                    .to_owned(),
            ),
        "reopen" => sqlx::query(
            "UPDATE case_facts SET reopened = reopened + 1, closed_at = NULL, resolved_at = NULL, outcome = NULL
              WHERE case_id = $1",
        )
        .bind(id),
        "duplicate_linked" => {
            sqlx::query("UPDATE case_facts SET duplicates = duplicates + 1 WHERE case_id = $1").bind(id)
        }
        "eight_d_edited" if d["cause_category"].is_string() => {
            sqlx::query("UPDATE case_facts SET cause = $2 WHERE case_id = $1")
                .bind(id)
                .bind(d["cause_category"].as_str().map(str::to_owned))
        }
        "staff_named" => {
            // The latest naming replaces the earlier one.
            sqlx::query("DELETE FROM staff_complaints WHERE case_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let staff: Vec<String> = d["staff"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            sqlx::query(
                "INSERT INTO staff_complaints (case_id, staff) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(staff)
        }
        "claim_approved" | "claim_rejected" => match claim_status(&c.changes["claim"][1]) {
            Some((status, rejection)) => {
                sqlx::query("UPDATE case_facts SET claim_status = $2, claim_rejection = $3 WHERE case_id = $1")
                    .bind(id)
                    .bind(status)
                    .bind(rejection)
            }
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    q.execute(&mut *conn).await?;
    Ok(())
}

async fn deadline_breached(conn: &mut PgConnection, event: &Envelope<DeadlineBreachedV1>) -> Result<(), HandlerError> {
    let d = &event.data;
    sqlx::query(
        "INSERT INTO clock_facts (case_id, clock, reference, site, due_at, breached_at, level, received_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,(SELECT received_at FROM case_facts WHERE case_id = $1))
         ON CONFLICT (case_id, clock) DO UPDATE SET breached_at = coalesce(clock_facts.breached_at, $6),
                level = greatest(clock_facts.level, $7)",
    )
    .bind(d.case_id)
    .bind(&d.clock)
    .bind(&d.case_reference)
    .bind(&event.site)
    .bind(d.due_at)
    .bind(event.occurred_at)
    .bind(d.level as i32)
    .execute(&mut *conn)
    .await?;
    count_breached(conn, d.case_id).await?;
    Ok(())
}

async fn deadline_stopped(conn: &mut PgConnection, event: &Envelope<DeadlineStoppedV1>) -> Result<(), HandlerError> {
    let d = &event.data;
    sqlx::query(
        "INSERT INTO clock_facts (case_id, clock, reference, site, department, started_at, due_at, stopped_at, met,
            working_seconds, level, received_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,(SELECT received_at FROM case_facts WHERE case_id = $1))
         ON CONFLICT (case_id, clock) DO UPDATE SET department = $5, started_at = $6, due_at = $7, stopped_at = $8,
                met = $9, working_seconds = $10, level = greatest(clock_facts.level, $11)",
    )
    .bind(d.case_id)
    .bind(&d.clock)
    .bind(&d.case_reference)
    .bind(&event.site)
    .bind(&d.department)
    .bind(d.started_at)
    .bind(d.due_at)
    .bind(d.stopped_at)
    .bind(d.met)
    .bind(d.working_seconds)
    .bind(d.level as i32)
    .execute(&mut *conn)
    .await?;
    count_breached(conn, d.case_id).await?;
    Ok(())
}

async fn revisit_due(conn: &mut PgConnection, event: &Envelope<RevisitDueV1>) -> Result<(), HandlerError> {
    let d = &event.data;
    sqlx::query(
        "INSERT INTO revisit_due_facts (case_id, reason, sequence, site, due_at) VALUES ($1,$2,$3,$4,$5)
         ON CONFLICT DO NOTHING",
    )
    .bind(d.case_id)
    .bind(d.reason.as_str())
    .bind(d.sequence as i32)
    .bind(&event.site)
    .bind(d.due_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn revisit_completed(conn: &mut PgConnection, event: &Envelope<RevisitCompletedV1>) -> Result<(), HandlerError> {
    let r = &event.data;
    sqlx::query(
        "INSERT INTO revisit_facts (revisit_id, case_id, site, reason, sequence, method, score, satisfied, attempts,
            actor, completed_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (revisit_id) DO NOTHING",
    )
    .bind(r.revisit_id)
    .bind(r.case_id)
    .bind(&event.site)
    .bind(r.reason.as_str())
    .bind(r.sequence as i32)
    .bind(&r.method)
    .bind(r.score.map(i16::from))
    .bind(r.satisfied)
    .bind(r.attempts as i32)
    .bind(&r.actor)
    .bind(r.completed_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE case_facts SET revisited = true WHERE case_id = $1")
        .bind(r.case_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_claim_is_approved_when_every_required_approval_is_in_and_rejected_with_its_reason() {
        let pending = json!({"required": ["marketing_manager", "general_manager"], "approvals": [{"role": "marketing_manager"}], "rejection": null});
        assert_eq!(claim_status(&pending), Some(("pending", None)));
        let approved =
            json!({"required": ["marketing_manager"], "approvals": [{"role": "marketing_manager"}], "rejection": null});
        assert_eq!(claim_status(&approved), Some(("approved", None)));
        let rejected = json!({"required": [], "approvals": [], "rejection": "past_shelf_life"});
        assert_eq!(
            claim_status(&rejected),
            Some(("rejected", Some("past_shelf_life".into())))
        );
        assert_eq!(claim_status(&Value::Null), None);
    }

    #[test]
    fn the_customer_hash_depends_on_the_salt_and_hides_the_contact() {
        let a = customer_hash("s1", "tel:+8613900001111");
        assert_eq!(a.len(), 64);
        assert!(!a.contains("1390000"));
        assert_ne!(a, customer_hash("s2", "tel:+8613900001111"));
        assert_eq!(a, customer_hash("s1", "tel:+8613900001111"));
    }
}
