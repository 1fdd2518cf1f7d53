//! Case events → SLA clocks: started when a case opens (or is resolved, for tracking), stopped,
//! paused, resumed, extended and recomputed as the case moves (domain.md §3).
pub mod revisit;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    deadline::DeadlineStoppedV1,
    Envelope, Event, RawEnvelope,
};
use messaging::{Handler, HandlerError};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::{
    calendars::Calendars,
    clock_changes::{ClockChanges, ClockRow},
    domain::clock::{ClockState, ClockStatus},
    settings::Settings,
};

pub const EVENT_TYPES: &[&str] = &[CaseOpenedV1::TYPE, CaseChangedV1::TYPE];

pub struct SchedulerHandler {
    pub settings: Arc<Settings>,
    pub calendars: Arc<Calendars>,
}

#[async_trait]
impl Handler for SchedulerHandler {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            CaseOpenedV1::TYPE => self.case_opened(conn, &event.decode()?).await,
            CaseChangedV1::TYPE => self.case_changed(conn, &event.decode()?).await,
            other => Err(HandlerError::Malformed(format!("scheduler does not handle {other}"))),
        }
    }
}

/// The case facts a clock needs.
pub struct CaseInfo<'a> {
    pub case_id: Uuid,
    pub reference: &'a str,
    pub site: &'a str,
    pub department: &'a str,
    pub class: &'a str,
    pub category: &'a str,
    pub severity: &'a str,
}

/// The clock-stopping event a workflow action stands for (policy `stop`/`start` names).
fn lifecycle_event(action: &str) -> Option<&'static str> {
    Some(match action {
        "acknowledge" => "case.acknowledged",
        "reply" => "case.replied",
        "record_containment" => "case.contained",
        "propose_plan" => "case.plan_proposed",
        "resolve" => "case.resolved",
        // The 8D report sent to the customer is the formal reply with root cause and actions (001 §5.2).
        "send_8d" => "case.eight_d_replied",
        _ => return None,
    })
}

impl SchedulerHandler {
    /// Starts every clock that applies to the case, counted from when the feedback arrived.
    async fn case_opened(&self, conn: &mut PgConnection, event: &Envelope<CaseOpenedV1>) -> Result<(), HandlerError> {
        let c = &event.data;
        let info = CaseInfo {
            case_id: c.case_id,
            reference: &c.reference,
            site: &event.site,
            department: &c.department,
            class: &c.class,
            category: &c.category,
            severity: &c.severity,
        };
        revisit::remember_key_account(conn, &self.settings.revisit, event).await?;
        let mut changes = ClockChanges::default();
        self.start_clocks(conn, &info, "case.opened", c.received_at, &mut changes)
            .await?;
        Ok(changes.publish(conn).await?)
    }

    async fn start_clocks(
        &self,
        conn: &mut PgConnection,
        case: &CaseInfo<'_>,
        start_event: &str,
        at: DateTime<Utc>,
        changes: &mut ClockChanges,
    ) -> Result<(), HandlerError> {
        let cal = self.calendars.for_site(case.site);
        for policy in self.settings.sla.clocks_for(case.class, case.category, case.severity) {
            if policy.start_event != start_event {
                continue;
            }
            let state = ClockState::start(policy, at, cal).map_err(|e| HandlerError::Malformed(e.to_string()))?;
            insert_clock(conn, case, &state, changes).await?;
        }
        Ok(())
    }

    async fn case_changed(&self, conn: &mut PgConnection, event: &Envelope<CaseChangedV1>) -> Result<(), HandlerError> {
        let c = &event.data;
        let cal = self.calendars.for_site(&event.site);
        let rows = sqlx::query("SELECT id, clock, state FROM clocks WHERE case_id = $1 FOR UPDATE")
            .bind(c.case_id)
            .fetch_all(&mut *conn)
            .await?;
        let mut changes = ClockChanges::default();
        for row in rows {
            let id: Uuid = row.get("id");
            let name: String = row.get("clock");
            let mut state: ClockState =
                serde_json::from_value(row.get("state")).map_err(|e| HandlerError::Malformed(e.to_string()))?;
            let before = state.clone();
            let outcome = match c.action.as_str() {
                "wait_for_customer" if state.policy().pauses_on("waiting_for_customer") => {
                    state.pause(c.at).map(|_| ())
                }
                "customer_responded" if state.policy().pauses_on("waiting_for_customer") => {
                    state.resume(cal, c.at).map(|_| ())
                }
                "extend_deadline" if c.detail["clock"].as_str() == Some(name.as_str()) => {
                    match (
                        c.detail["new_due"].as_str().and_then(|d| d.parse().ok()),
                        c.detail["reason"].as_str(),
                    ) {
                        (Some(new_due), Some(reason)) => state.extend(cal, c.at, new_due, reason, &c.actor),
                        _ => Ok(()),
                    }
                }
                "reclassify" => match self.settings.sla.clock_for(&name, &c.class, &c.category, &c.severity) {
                    Some(policy) => state.recompute(cal, c.at, policy),
                    None => state.stop(cal, c.at).map(|_| ()),
                },
                "close" | "reject" | "merge" => state.stop(cal, c.at).map(|_| ()),
                action => match lifecycle_event(action) {
                    Some(e) if state.policy().stop_event == e => state.stop(cal, c.at).map(|_| ()),
                    _ => Ok(()),
                },
            };
            if let Err(e) = outcome {
                // Not an error of the message: e.g. a clock already stopped. Keep the clock as it was.
                tracing::debug!(case = %c.reference, clock = %name, error = %e, "clock operation skipped");
                continue;
            }
            if state != before {
                update_clock(conn, id, &state, &mut changes).await?;
                stopped_event(conn, event, &state, &before, cal).await?;
            }
        }
        // Clocks that start later in the case's life (e.g. tracking after resolution).
        if let Some(e) = lifecycle_event(&c.action) {
            let info = CaseInfo {
                case_id: c.case_id,
                reference: &c.reference,
                site: &event.site,
                department: &c.department,
                class: &c.class,
                category: &c.category,
                severity: &c.severity,
            };
            self.start_clocks(conn, &info, e, c.at, &mut changes).await?;
        }
        changes.publish(conn).await?;
        revisit::schedule(conn, &self.settings.revisit, event).await?;
        Ok(())
    }
}

/// Publishes `deadline.stopped` when this change stopped the clock (reporting's timeliness figures).
async fn stopped_event(
    conn: &mut PgConnection,
    event: &Envelope<CaseChangedV1>,
    state: &ClockState,
    before: &ClockState,
    cal: &calendar::Calendar,
) -> Result<(), HandlerError> {
    let was_stopped = matches!(
        before.status(),
        ClockStatus::Met { .. } | ClockStatus::BreachedStopped { .. }
    );
    let (stopped_at, met, level) = match state.status() {
        ClockStatus::Met { at } => (at, true, 0),
        ClockStatus::BreachedStopped { at, level } => (at, false, level),
        _ => return Ok(()),
    };
    if was_stopped {
        return Ok(());
    }
    let paused: i64 = state.pauses().iter().map(|p| p.working_seconds).sum();
    let working = cal.working_time_between(state.started_at(), stopped_at).num_seconds() - paused;
    let c = &event.data;
    let data = DeadlineStoppedV1 {
        case_id: c.case_id,
        case_reference: c.reference.clone(),
        clock: state.policy().name.clone(),
        department: c.department.clone(),
        started_at: state.started_at(),
        due_at: state.due(),
        stopped_at,
        met,
        working_seconds: working.max(0),
        level: level.into(),
    };
    messaging::enqueue(conn, &Envelope::new(event.site.clone(), c.case_id, data)).await?;
    Ok(())
}

fn status_name(state: &ClockState) -> String {
    serde_json::to_value(state.status())
        .ok()
        .and_then(|v| v.get("kind").and_then(|s| s.as_str().map(str::to_owned)))
        .unwrap_or_else(|| format!("{:?}", state.status()))
}

async fn insert_clock(
    conn: &mut PgConnection,
    case: &CaseInfo<'_>,
    state: &ClockState,
    changes: &mut ClockChanges,
) -> Result<(), HandlerError> {
    let inserted = sqlx::query(
        "INSERT INTO clocks (id, case_id, case_reference, site, clock, department, class, category, severity,
            state, status, due_at, next_fire_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (case_id, clock) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(case.case_id)
    .bind(case.reference)
    .bind(case.site)
    .bind(&state.policy().name)
    .bind(case.department)
    .bind(case.class)
    .bind(case.category)
    .bind(case.severity)
    .bind(serde_json::to_value(state).map_err(anyhow::Error::from)?)
    .bind(status_name(state))
    .bind(state.due())
    .bind(state.next_timer().map(|t| t.at))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        let row = ClockRow {
            case_id: case.case_id,
            case_reference: case.reference.to_owned(),
            site: case.site.to_owned(),
            department: case.department.to_owned(),
            revision: 1,
        };
        changes.add(row, state);
    }
    Ok(())
}

/// Stores a clock's new state; its snapshot joins `changes` (published as `deadline.changed` with the others of
/// the same case before the transaction commits).
pub async fn update_clock(
    conn: &mut PgConnection,
    id: Uuid,
    state: &ClockState,
    changes: &mut ClockChanges,
) -> Result<(), sqlx::Error> {
    let row: ClockRow = sqlx::query_as(
        "UPDATE clocks SET state = $2, status = $3, due_at = $4, next_fire_at = $5, updated_at = now(),
                revision = revision + 1
          WHERE id = $1
         RETURNING case_id, case_reference, site, department, revision",
    )
    .bind(id)
    .bind(serde_json::to_value(state).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(status_name(state))
    .bind(state.due())
    .bind(state.next_timer().map(|t| t.at))
    .fetch_one(&mut *conn)
    .await?;
    changes.add(row, state);
    Ok(())
}
