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

use crate::{
    report::sections::{CLOCK_STATE, REVISIT_COUNTED},
    settings::ReportingSettings,
};

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
        CaseChangedV1::TYPE => case_changed(conn, &s.timezone, &event.decode()?).await,
        DeadlineBreachedV1::TYPE => deadline_breached(conn, &s.timezone, &event.decode()?).await,
        DeadlineStoppedV1::TYPE => deadline_stopped(conn, &s.timezone, &event.decode()?).await,
        RevisitDueV1::TYPE => revisit_due(conn, &s.timezone, &event.decode()?).await,
        RevisitCompletedV1::TYPE => revisit_completed(conn, &s.timezone, &event.decode()?).await,
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
    sqlx::query(
        "INSERT INTO case_channel_days (site, day, channel, n) VALUES ($1, ($2 AT TIME ZONE $3)::date, $4, 1)
         ON CONFLICT (day, site, channel) DO UPDATE SET n = case_channel_days.n + 1",
    )
    .bind(&event.site)
    .bind(c.received_at)
    .bind(tz)
    .bind(c.channel.as_str())
    .execute(&mut *conn)
    .await?;
    // Clock events that came first get the case's arrival (and now count in their day); the case counts its
    // breached and overdue clocks.
    let early: Vec<ClockBucket> = sqlx::query_as(&format!(
        "UPDATE clock_facts k SET received_at = $2 WHERE k.case_id = $1 AND k.received_at IS NULL
         RETURNING {}",
        bucket_columns(3)
    ))
    .bind(c.case_id)
    .bind(c.received_at)
    .bind(tz)
    .fetch_all(&mut *conn)
    .await?;
    for clock in &early {
        shift_clock(conn, c.case_id, None, clock).await?;
    }
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

/// A case's place in `closure_days`: its site, the local day it was closed and whether it was revisited, when it
/// is closed and counts in the revisit rate.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Closure {
    site: String,
    day: Option<chrono::NaiveDate>,
    revisited: bool,
    counted: bool,
}

impl Closure {
    fn key(&self) -> Option<(chrono::NaiveDate, &str, bool)> {
        self.day
            .filter(|_| self.counted)
            .map(|d| (d, self.site.as_str(), self.revisited))
    }
}

/// The `Closure` of case `c`, with the time zone bound as `$tz`.
fn closure_columns(tz: usize) -> String {
    format!(
        "c.site, (c.closed_at AT TIME ZONE ${tz})::date AS day, c.revisited,
         (c.closed_at IS NOT NULL AND {REVISIT_COUNTED}) AS counted"
    )
}

/// Moves a case between buckets of `closure_days`, rows locked in key order.
async fn shift_closure(
    conn: &mut PgConnection,
    before: Option<&Closure>,
    after: Option<&Closure>,
) -> Result<(), sqlx::Error> {
    let (from, to) = (before.and_then(Closure::key), after.and_then(Closure::key));
    if from == to {
        return Ok(());
    }
    let mut deltas: Vec<_> = from.map(|k| (k, -1)).into_iter().chain(to.map(|k| (k, 1))).collect();
    deltas.sort();
    for ((day, site, revisited), n) in deltas {
        sqlx::query(
            "INSERT INTO closure_days (site, day, revisited, n) VALUES ($1, $2, $3, $4)
             ON CONFLICT (day, site, revisited) DO UPDATE SET n = closure_days.n + excluded.n",
        )
        .bind(site)
        .bind(day)
        .bind(revisited)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Actions that may close a case, reopen it or change whether its closure counts.
const CLOSURE_ACTIONS: [&str; 5] = ["close", "merge", "reopen", "set_validity", "reject"];

async fn case_changed(conn: &mut PgConnection, tz: &str, event: &Envelope<CaseChangedV1>) -> Result<(), HandlerError> {
    if !CLOSURE_ACTIONS.contains(&event.data.action.as_str()) {
        return change_case(conn, event).await;
    }
    let before = closure_of(conn, tz, event.data.case_id).await?;
    change_case(conn, event).await?;
    let after = closure_of(conn, tz, event.data.case_id).await?;
    shift_closure(conn, before.as_ref(), after.as_ref()).await?;
    Ok(())
}

/// The case's `Closure`, its row locked (which orders concurrent changes of the case).
async fn closure_of(conn: &mut PgConnection, tz: &str, case_id: uuid::Uuid) -> Result<Option<Closure>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {} FROM case_facts c WHERE c.case_id = $1 FOR UPDATE",
        closure_columns(2)
    ))
    .bind(case_id)
    .bind(tz)
    .fetch_optional(conn)
    .await
}

async fn change_case(conn: &mut PgConnection, event: &Envelope<CaseChangedV1>) -> Result<(), HandlerError> {
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

/// A clock's state and where it counts in `clock_days` (no day while its case has not arrived).
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct ClockBucket {
    site: String,
    clock: String,
    day: Option<chrono::NaiveDate>,
    state: String,
}

/// The `ClockBucket` of clock `k`, with the time zone bound as `$tz`.
fn bucket_columns(tz: usize) -> String {
    format!("k.site, k.clock, (k.received_at AT TIME ZONE ${tz})::date AS day, {CLOCK_STATE} AS state")
}

/// Moves a clock from its bucket `before` (none: new) to `after` in `clock_days`, and keeps its case's count of
/// overdue clocks. Rows are locked in key order, so concurrent moves do not deadlock.
async fn shift_clock(
    conn: &mut PgConnection,
    case_id: uuid::Uuid,
    before: Option<&ClockBucket>,
    after: &ClockBucket,
) -> Result<(), sqlx::Error> {
    if before == Some(after) {
        return Ok(());
    }
    let mut deltas = vec![];
    if let Some(b) = before.filter(|b| b.day.is_some()) {
        deltas.push((b.day, &b.site, &b.clock, &b.state, -1));
    }
    if after.day.is_some() {
        deltas.push((after.day, &after.site, &after.clock, &after.state, 1));
    }
    deltas.sort();
    for (day, site, clock, state, n) in deltas {
        sqlx::query(
            "INSERT INTO clock_days (site, day, clock, state, n) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (day, site, clock, state) DO UPDATE SET n = clock_days.n + excluded.n",
        )
        .bind(site)
        .bind(day)
        .bind(clock)
        .bind(state)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    }
    let overdue = |b: &ClockBucket| i32::from(b.state == "overdue");
    let delta = overdue(after) - before.map_or(0, overdue);
    if delta != 0 {
        sqlx::query("UPDATE case_facts SET clocks_overdue = clocks_overdue + $2 WHERE case_id = $1")
            .bind(case_id)
            .bind(delta)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Applies a clock event: inserts the clock (`insert`, `ON CONFLICT DO NOTHING`) or, when it exists, locks it,
/// reads its bucket and updates it (`update`); then moves it between buckets. Both statements bind the time zone
/// as `$tz`.
async fn upsert_clock<'q>(
    conn: &mut PgConnection,
    case_id: uuid::Uuid,
    clock: &str,
    insert: sqlx::query::QueryAs<'q, sqlx::Postgres, ClockBucket, sqlx::postgres::PgArguments>,
    update: sqlx::query::QueryAs<'q, sqlx::Postgres, ClockBucket, sqlx::postgres::PgArguments>,
    tz: &str,
) -> Result<(), sqlx::Error> {
    if let Some(new) = insert.fetch_optional(&mut *conn).await? {
        return shift_clock(conn, case_id, None, &new).await;
    }
    // It exists (perhaps just committed by a concurrent event): the row lock orders the two.
    let before: ClockBucket = sqlx::query_as(&format!(
        "SELECT {} FROM clock_facts k WHERE k.case_id = $1 AND k.clock = $2 FOR UPDATE",
        bucket_columns(3)
    ))
    .bind(case_id)
    .bind(clock)
    .bind(tz)
    .fetch_one(&mut *conn)
    .await?;
    let after = update.fetch_one(&mut *conn).await?;
    shift_clock(conn, case_id, Some(&before), &after).await
}

async fn deadline_breached(
    conn: &mut PgConnection,
    tz: &str,
    event: &Envelope<DeadlineBreachedV1>,
) -> Result<(), HandlerError> {
    let d = &event.data;
    let insert = format!(
        "INSERT INTO clock_facts AS k (case_id, clock, reference, site, due_at, breached_at, level, received_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,(SELECT received_at FROM case_facts WHERE case_id = $1))
         ON CONFLICT (case_id, clock) DO NOTHING RETURNING {}",
        bucket_columns(8)
    );
    let update = format!(
        "UPDATE clock_facts k SET breached_at = coalesce(k.breached_at, $3), level = greatest(k.level, $4)
          WHERE k.case_id = $1 AND k.clock = $2 RETURNING {}",
        bucket_columns(5)
    );
    upsert_clock(
        conn,
        d.case_id,
        &d.clock,
        sqlx::query_as(&insert)
            .bind(d.case_id)
            .bind(&d.clock)
            .bind(&d.case_reference)
            .bind(&event.site)
            .bind(d.due_at)
            .bind(event.occurred_at)
            .bind(d.level as i32)
            .bind(tz),
        sqlx::query_as(&update)
            .bind(d.case_id)
            .bind(&d.clock)
            .bind(event.occurred_at)
            .bind(d.level as i32)
            .bind(tz),
        tz,
    )
    .await?;
    count_breached(conn, d.case_id).await?;
    Ok(())
}

async fn deadline_stopped(
    conn: &mut PgConnection,
    tz: &str,
    event: &Envelope<DeadlineStoppedV1>,
) -> Result<(), HandlerError> {
    let d = &event.data;
    let insert = format!(
        "INSERT INTO clock_facts AS k (case_id, clock, reference, site, department, started_at, due_at, stopped_at,
            met, working_seconds, level, received_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,(SELECT received_at FROM case_facts WHERE case_id = $1))
         ON CONFLICT (case_id, clock) DO NOTHING RETURNING {}",
        bucket_columns(12)
    );
    let update = format!(
        "UPDATE clock_facts k SET department = $3, started_at = $4, due_at = $5, stopped_at = $6, met = $7,
                working_seconds = $8, level = greatest(k.level, $9)
          WHERE k.case_id = $1 AND k.clock = $2 RETURNING {}",
        bucket_columns(10)
    );
    upsert_clock(
        conn,
        d.case_id,
        &d.clock,
        sqlx::query_as(&insert)
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
            .bind(tz),
        sqlx::query_as(&update)
            .bind(d.case_id)
            .bind(&d.clock)
            .bind(&d.department)
            .bind(d.started_at)
            .bind(d.due_at)
            .bind(d.stopped_at)
            .bind(d.met)
            .bind(d.working_seconds)
            .bind(d.level as i32)
            .bind(tz),
        tz,
    )
    .await?;
    count_breached(conn, d.case_id).await?;
    Ok(())
}

async fn revisit_due(conn: &mut PgConnection, tz: &str, event: &Envelope<RevisitDueV1>) -> Result<(), HandlerError> {
    let d = &event.data;
    let inserted = sqlx::query(
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
    if inserted.rows_affected() == 1 {
        sqlx::query(
            "INSERT INTO revisit_due_days (site, day, n) VALUES ($1, ($2 AT TIME ZONE $3)::date, 1)
             ON CONFLICT (day, site) DO UPDATE SET n = revisit_due_days.n + 1",
        )
        .bind(&event.site)
        .bind(d.due_at)
        .bind(tz)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn revisit_completed(
    conn: &mut PgConnection,
    tz: &str,
    event: &Envelope<RevisitCompletedV1>,
) -> Result<(), HandlerError> {
    let r = &event.data;
    let inserted = sqlx::query(
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
    if inserted.rows_affected() == 1 {
        sqlx::query(
            "INSERT INTO revisit_days (site, day, score, satisfied, n) VALUES ($1, ($2 AT TIME ZONE $3)::date, $4, $5, 1)
             ON CONFLICT (day, site, score, satisfied) DO UPDATE SET n = revisit_days.n + 1",
        )
        .bind(&event.site)
        .bind(r.completed_at)
        .bind(tz)
        .bind(r.score.map_or(-1, i16::from))
        .bind(r.satisfied)
        .execute(&mut *conn)
        .await?;
    }
    // Revisited now: a closure that counts moves to its revisited bucket.
    let after: Option<Closure> = sqlx::query_as(&format!(
        "UPDATE case_facts c SET revisited = true WHERE c.case_id = $1 AND NOT c.revisited RETURNING {}",
        closure_columns(2)
    ))
    .bind(r.case_id)
    .bind(tz)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(after) = after {
        let before = Closure {
            revisited: false,
            ..after.clone()
        };
        shift_closure(conn, Some(&before), Some(&after)).await?;
    }
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
