//! `case.changed` with action `close` → the case's revisit timers (domain.md §5). One timer per
//! (case, sequence): a redelivered close schedules nothing twice. A reopened case drops the revisits not yet
//! announced (they follow the next close instead); announced ones stay, so a case reopened by a dissatisfied
//! revisit is not revisited twice for the same sequence.
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    Envelope,
};
use messaging::HandlerError;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::revisit_policy::{KeyTier, RevisitPolicy};

/// The workflow action after which revisits are planned.
pub const CLOSE_ACTION: &str = "close";
/// The workflow action that takes a finished case back into work.
pub const REOPEN_ACTION: &str = "reopen";

pub async fn schedule(
    conn: &mut PgConnection,
    policy: &RevisitPolicy,
    event: &Envelope<CaseChangedV1>,
) -> Result<(), HandlerError> {
    let c = &event.data;
    if c.action == REOPEN_ACTION {
        sqlx::query("DELETE FROM revisit_timers WHERE case_id = $1 AND state = 'pending'")
            .bind(c.case_id)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    if c.action != CLOSE_ACTION || c.status != "closed" {
        return Ok(());
    }
    let outcome = c.detail["outcome"].as_str().unwrap_or_default();
    let tier: Option<String> = sqlx::query_scalar("SELECT tier FROM revisit_key_cases WHERE case_id = $1")
        .bind(c.case_id)
        .fetch_optional(&mut *conn)
        .await?;
    let key = tier.as_deref().and_then(KeyTier::parse);
    for planned in policy.plan(c.at, &c.class, &c.severity, outcome, key) {
        sqlx::query(
            "INSERT INTO revisit_timers (id, case_id, case_reference, site, correlation_id, reason, sequence, due_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (case_id, sequence) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(c.case_id)
        .bind(&c.reference)
        .bind(&event.site)
        .bind(event.correlation_id)
        .bind(planned.reason.as_str())
        .bind(planned.sequence as i32)
        .bind(planned.due_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// `case.opened` of a key account's case: remembered (by tier only) for the revisits after its close.
pub async fn remember_key_account(
    conn: &mut PgConnection,
    policy: &RevisitPolicy,
    event: &Envelope<CaseOpenedV1>,
) -> Result<(), HandlerError> {
    let c = &event.data;
    if let Some(tier) = policy.key_accounts.tier(c.customer.contact_key.as_deref()) {
        sqlx::query("INSERT INTO revisit_key_cases (case_id, tier) VALUES ($1, $2) ON CONFLICT (case_id) DO NOTHING")
            .bind(c.case_id)
            .bind(tier.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
