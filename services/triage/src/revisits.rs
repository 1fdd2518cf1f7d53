//! Revisit tasks in triage's database: creating them idempotently (one per case, reason and
//! sequence), the do-not-call list, and reading tasks with their case.
use auth::Role;
use chrono::{DateTime, Utc};
use contracts::revisit::RevisitReason;
use serde_json::Value;
use sqlx::{FromRow, PgConnection, Row};
use uuid::Uuid;

use crate::domain::revisit::{role_name, RevisitSettings, TaskStatus};

/// What a revisit needs to know of its case.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    pub id: Uuid,
    pub reference: String,
    pub site: String,
    pub status: String,
    pub class: String,
    pub category: String,
    pub severity: String,
    pub department: String,
    pub subject: Option<String>,
    pub customer: Value,
    pub contact_key: Option<String>,
    /// The feedback id: the correlation id of every event of the case.
    pub correlation_id: Uuid,
}

impl CaseFacts {
    /// Anonymous feedback gets no revisit (003 篇6 §1.13); nor does a customer we cannot contact.
    pub fn is_anonymous(&self) -> bool {
        self.customer["anonymous"].as_bool().unwrap_or(false)
            || (self.contact_key.is_none()
                && self.customer["phone"].as_str().is_none_or(str::is_empty)
                && self.customer["email"].as_str().is_none_or(str::is_empty))
    }

    /// The customer's own time zone, when the customer record carries one.
    pub fn customer_time_zone(&self) -> Option<&str> {
        self.customer["time_zone"].as_str()
    }
}

/// The case by id or reference; `lock` holds it for the rest of the transaction.
pub async fn case_facts(conn: &mut PgConnection, id_or_reference: &str, lock: bool) -> sqlx::Result<Option<CaseFacts>> {
    let sql = format!(
        "SELECT id, reference, site, status, class, category, severity, department, subject, customer, contact_key,
                feedback_id
           FROM cases WHERE id = $1 OR reference = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = sqlx::query(&sql)
        .bind(Uuid::parse_str(id_or_reference).ok())
        .bind(id_or_reference)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| CaseFacts {
        id: r.get("id"),
        reference: r.get("reference"),
        site: r.get("site"),
        status: r.get("status"),
        class: r.get("class"),
        category: r.get("category"),
        severity: r.get("severity"),
        department: r.get("department"),
        subject: r.get("subject"),
        customer: r.get("customer"),
        contact_key: r.get("contact_key"),
        correlation_id: r.get("feedback_id"),
    }))
}

pub async fn is_do_not_call(conn: &mut PgConnection, contact_key: Option<&str>) -> sqlx::Result<bool> {
    let Some(key) = contact_key else {
        return Ok(false);
    };
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revisit_do_not_call WHERE contact_key = $1)")
        .bind(key)
        .fetch_one(conn)
        .await
}

/// The next sequence number of a case's revisits (for manual and follow-up tasks).
pub async fn next_sequence(conn: &mut PgConnection, case_id: Uuid) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT coalesce(max(sequence), 0) + 1 FROM revisits WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(conn)
        .await
}

pub struct NewTask<'a> {
    pub case: &'a CaseFacts,
    pub reason: RevisitReason,
    pub sequence: i32,
    pub due_at: DateTime<Utc>,
    pub note: Option<&'a str>,
    pub previous_id: Option<Uuid>,
    pub created_by: &'a str,
}

/// Inserts the task unless one with the same case, reason and sequence exists; returns its id if new.
pub async fn insert_task(
    conn: &mut PgConnection,
    settings: &RevisitSettings,
    task: NewTask<'_>,
) -> sqlx::Result<Option<Uuid>> {
    let case = task.case;
    let role: Role = settings.required_role(&case.severity);
    let zone = settings.time_zone_for(case.customer_time_zone(), &case.site);
    sqlx::query_scalar(
        "INSERT INTO revisits (id, case_id, case_reference, site, reason, sequence, due_at, required_role,
                contact_key, time_zone, note, previous_id, created_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
         ON CONFLICT (case_id, reason, sequence) DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(case.id)
    .bind(&case.reference)
    .bind(&case.site)
    .bind(task.reason.as_str())
    .bind(task.sequence)
    .bind(task.due_at)
    .bind(role_name(role))
    .bind(&case.contact_key)
    .bind(zone)
    .bind(task.note)
    .bind(task.previous_id)
    .bind(task.created_by)
    .fetch_optional(conn)
    .await
}

/// A revisit task row.
#[derive(Debug, Clone, FromRow)]
pub struct TaskRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_reference: String,
    pub site: String,
    pub reason: String,
    pub sequence: i32,
    pub due_at: DateTime<Utc>,
    pub status: String,
    pub required_role: String,
    pub contact_key: Option<String>,
    pub time_zone: String,
    pub attempts: i32,
    pub method: Option<String>,
    pub score: Option<i32>,
    pub satisfied: Option<bool>,
    pub outcome: Option<Value>,
    pub note: Option<String>,
    pub closed_reason: Option<String>,
    pub previous_id: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

pub const TASK_COLUMNS: &str = "r.id, r.case_id, r.case_reference, r.site, r.reason, r.sequence, r.due_at, r.status,
    r.required_role, r.contact_key, r.time_zone, r.attempts, r.method, r.score, r.satisfied, r.outcome, r.note,
    r.closed_reason, r.previous_id, r.created_by, r.created_at, r.completed_at";

/// The task; `lock` holds it for the rest of the transaction.
pub async fn task(conn: &mut PgConnection, id: Uuid, lock: bool) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} FROM revisits r WHERE r.id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

impl TaskRow {
    pub fn is(&self, status: TaskStatus) -> bool {
        self.status == status.as_str()
    }

    pub fn required_role(&self) -> Option<Role> {
        serde_json::from_value(Value::String(self.required_role.clone())).ok()
    }

    pub fn reason(&self) -> RevisitReason {
        serde_json::from_value(Value::String(self.reason.clone())).unwrap_or(RevisitReason::Manual)
    }
}

/// Opens a new case linked to `original` for a problem found during a revisit (`on_dissatisfied =
/// "linked_case"`): same customer, classification, department and responsible person; reference
/// `<original>-R<n>`; recorded as a report of its own and announced with `case.opened` (which tells the
/// department). Returns the new case's id and reference.
pub async fn open_linked_case(
    conn: &mut PgConnection,
    original: &CaseFacts,
    channel: contracts::feedback::Channel,
    why: &str,
    revisit_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<(Uuid, String)> {
    use contracts::{case::CaseOpenedV1, feedback::CustomerV1, Envelope};

    use crate::domain::workflow::{CaseState, Classification};

    let row = sqlx::query("SELECT decided_by, details, content, assignee, workflow FROM cases WHERE id = $1")
        .bind(original.id)
        .fetch_one(&mut *conn)
        .await?;
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    let original_state: CaseState = serde_json::from_value(row.get("workflow")).map_err(decode)?;
    let assignee: Option<String> = row.get("assignee");
    let linked: i64 = sqlx::query_scalar("SELECT count(*) FROM cases WHERE reference LIKE $1 || '-R%'")
        .bind(&original.reference)
        .fetch_one(&mut *conn)
        .await?;
    let reference = format!("{}-R{}", original.reference, linked + 1);
    let id = Uuid::now_v7();
    // The linked case is its own report; it has no intake register row, so it gets its own id.
    let feedback_id = Uuid::now_v7();
    let classification = Classification {
        rule: "revisit".into(),
        reason: format!("dissatisfied revisit of {}", original.reference),
        ..original_state.classification.clone()
    };
    let blank = CaseState::new(id, classification.clone());
    let mut state = blank.clone();
    state.assignee = assignee.clone();
    let content = format!("{why}\n\n(回访 revisit of {})", original.reference);
    sqlx::query(
        "INSERT INTO cases (id, reference, feedback_id, site, channel, status, class, category, severity,
            department, decided_by, customer, contact_key, subject, content, details, received_at, opened_at,
            workflow, assignee)
         VALUES ($1,$2,$3,$4,$5,'new',$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16,$17,$18)",
    )
    .bind(id)
    .bind(&reference)
    .bind(feedback_id)
    .bind(&original.site)
    .bind(channel.as_str())
    .bind(&classification.class)
    .bind(&classification.category)
    .bind(&classification.severity)
    .bind(&original.department)
    .bind(row.get::<Value, _>("decided_by"))
    .bind(&original.customer)
    .bind(&original.contact_key)
    .bind(&original.subject)
    .bind(&content)
    .bind(row.get::<Value, _>("details"))
    .bind(now)
    .bind(serde_json::to_value(&state).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
    .bind(&assignee)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO case_reports (feedback_id, reference, case_id, channel, received_at, linked_by, reason)
         VALUES ($1, $2, $3, $4, $5, 'revisit', $6)",
    )
    .bind(feedback_id)
    .bind(&reference)
    .bind(id)
    .bind(channel.as_str())
    .bind(now)
    .bind(format!("dissatisfied revisit of {}", original.reference))
    .execute(&mut *conn)
    .await?;
    // Like every opened entry: the classification it opened with, and the changes from a blank case of it to the
    // case as opened, so that the history alone replays to the current state (workflow::replay).
    let link = serde_json::json!({ "linked_to": original.reference, "revisit_id": revisit_id, "reason": why,
                                   "classification": classification, "assignee": assignee });
    sqlx::query(
        "INSERT INTO case_history (case_id, at, actor, action, detail, changes) VALUES ($1, $2, $3, 'opened', $4, $5)",
    )
    .bind(id)
    .bind(now)
    .bind(actor)
    .bind(&link)
    .bind(crate::domain::workflow::diff(&blank, &state))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO case_history (case_id, at, actor, action, detail) VALUES ($1, $2, $3, 'revisit_linked_case', $4)",
    )
    .bind(original.id)
    .bind(now)
    .bind(actor)
    .bind(serde_json::json!({ "linked_case": reference, "revisit_id": revisit_id, "reason": why }))
    .execute(&mut *conn)
    .await?;
    let customer: CustomerV1 = serde_json::from_value(original.customer.clone()).unwrap_or_default();
    let opened = Envelope::new(
        original.site.clone(),
        original.correlation_id,
        CaseOpenedV1 {
            case_id: id,
            reference: reference.clone(),
            feedback_id,
            channel,
            received_at: now,
            opened_at: now,
            class: classification.class,
            category: classification.category,
            severity: classification.severity,
            department: original.department.clone(),
            assignee,
            customer,
            subject: original.subject.clone(),
            summary: content.chars().take(200).collect(),
            claim: None,
            involved_roles: Vec::new(),
        },
    );
    messaging::enqueue(conn, &opened).await?;
    Ok((id, reference))
}
