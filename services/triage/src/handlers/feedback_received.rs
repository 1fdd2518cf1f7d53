//! `feedback.received` → a classified, routed case and `case.opened`.
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1, ClaimOpenedV1},
    feedback::FeedbackReceivedV1,
    Envelope,
};
use messaging::HandlerError;
use serde_json::{json, Value};
use sqlx::PgConnection;
use sqlx::Row;
use uuid::Uuid;

use crate::{
    domain::{
        assignment::{choose, Candidate},
        claims::Claim,
        classify::classify,
        dedup::{same_problem, Report},
        routing::department_for,
        workflow::{self, role_name, CaseState, Classification},
    },
    settings::Settings,
};

pub async fn handle(
    settings: &Settings,
    conn: &mut PgConnection,
    event: &Envelope<FeedbackReceivedV1>,
) -> Result<(), HandlerError> {
    let f = &event.data;
    // The same feedback under another event id (a replay) is recorded already, as a case's first report or as
    // a linked one — even once that case is finished or the report was merged or split elsewhere.
    let recorded: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM case_reports WHERE feedback_id = $1)")
        .bind(f.feedback_id)
        .fetch_one(&mut *conn)
        .await?;
    if recorded {
        return Ok(());
    }
    if let Some(case) = open_case_for_same_problem(settings, conn, f).await? {
        return link_duplicate(conn, event, case).await;
    }
    let opening = Opening {
        actor: "system",
        detail: json!({}),
    };
    let Some(case_id) = open_case(settings, conn, &event.site, event.correlation_id, f, opening).await? else {
        // The same feedback under another event id (a replay): the case exists already.
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO case_reports (feedback_id, reference, case_id, channel, received_at, linked_by, reason,
            feedback, site)
         VALUES ($1, $2, $3, $4, $5, 'system', 'first report', $6, $7)",
    )
    .bind(f.feedback_id)
    .bind(&f.reference)
    .bind(case_id)
    .bind(f.channel.as_str())
    .bind(f.received_at)
    .bind(serde_json::to_value(f).map_err(anyhow::Error::from)?)
    .bind(&event.site)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Who opens a case, for its `opened` history entry.
pub struct Opening<'a> {
    /// `system` for new feedback; the staff member who split a linked report out of another case.
    pub actor: &'a str,
    /// Merged into the entry's detail (e.g. the case the report was split from, and why).
    pub detail: Value,
}

/// Classifies, routes and assigns `f` and opens its case at `site`, with the `opened` history entry and
/// `case.opened` (correlated by `correlation_id`); `None` if a case of this feedback exists already. The
/// caller records the report itself in `case_reports`. New feedback and a report split out of a case
/// (`routes::split`) both open cases here.
pub async fn open_case(
    settings: &Settings,
    conn: &mut PgConnection,
    site: &str,
    correlation_id: Uuid,
    f: &FeedbackReceivedV1,
    opening: Opening<'_>,
) -> Result<Option<Uuid>, HandlerError> {
    let decision = classify(&settings.classification, f);
    let department = department_for(&settings.routing, site, &decision.category);
    let case_id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let details = json!({
        "product": f.product, "order": f.order, "claim": f.claim, "adverse_reaction": f.adverse_reaction,
    });
    let assignment = choose_assignee(settings, conn, site, &department).await?;
    let blank = CaseState::new(
        case_id,
        Classification {
            class: decision.class.clone(),
            category: decision.category.clone(),
            severity: decision.severity.clone(),
            rule: decision.rule.clone(),
            reason: decision.reason.clone(),
        },
    );
    let mut workflow = blank.clone();
    if let Some((user, _)) = &assignment {
        workflow.assignee = Some(user.clone());
        workflow.assigned_at = Some(now);
    }
    let involved: Vec<String> = settings
        .routing
        .involve
        .get(&decision.category)
        .map(|roles| roles.iter().map(|r| role_name(r).to_owned()).collect())
        .unwrap_or_default();
    // A claim amount or a return opens a claim that needs the approvals its amount requires (001 §5.5–5.7).
    let claim = f
        .claim
        .as_ref()
        .and_then(|c| Claim::from_feedback(&settings.claims, c.amount, c.currency.as_deref(), c.return_quantity));
    let inserted = sqlx::query(
        "INSERT INTO cases (id, reference, feedback_id, site, channel, status, class, category, severity,
            department, decided_by, customer, contact_key, subject, content, details, received_at, opened_at,
            workflow, claim, assignee, involved_roles)
         VALUES ($1,$2,$3,$4,$5,'new',$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)
         ON CONFLICT (feedback_id) DO NOTHING",
    )
    .bind(case_id)
    .bind(&f.reference)
    .bind(f.feedback_id)
    .bind(site)
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
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(anyhow::Error::from)?,
    )
    .bind(&workflow.assignee)
    .bind(json!(involved))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    let mut detail = json!({
        "classification": decision, "department": department, "involved_roles": involved,
        "assignee": assignment.as_ref().map(|(u, _)| u), "assigned_by": assignment.as_ref().map(|(_, why)| why),
    });
    if let (Some(d), Value::Object(extra)) = (detail.as_object_mut(), opening.detail) {
        d.extend(extra);
    }
    // The entry's changes lead from a blank case of this classification to the case as opened, so that the
    // history alone replays to the current state (workflow::replay).
    sqlx::query("INSERT INTO case_history (case_id, actor, action, detail, changes) VALUES ($1, $2, 'opened', $3, $4)")
        .bind(case_id)
        .bind(opening.actor)
        .bind(detail)
        .bind(workflow::diff(&blank, &workflow))
        .execute(&mut *conn)
        .await?;
    let summary: String = f.content.chars().take(200).collect();
    let opened = Envelope::new(
        site.to_owned(),
        correlation_id,
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
            assignee: workflow.assignee.clone(),
            customer: f.customer.clone(),
            subject: f.subject.clone(),
            summary,
            claim: claim.as_ref().map(|c| ClaimOpenedV1 {
                amount: c.amount.to_string(),
                currency: c.currency.clone(),
                approvals_required: c.required.iter().map(|r| role_name(r).to_owned()).collect(),
            }),
            involved_roles: involved,
        },
    );
    messaging::enqueue(conn, &opened).await?;
    Ok(Some(case_id))
}

struct OpenCase {
    id: Uuid,
    reference: String,
    site: String,
    status: String,
    department: String,
    assignee: Option<String>,
    class: String,
    category: String,
    severity: String,
    feedback_id: Uuid,
    reason: String,
}

fn report_of<'a>(details: &'a Value, text: &'a str) -> Report<'a> {
    let s = |v: &'a Value| v.as_str();
    Report {
        product_batch: s(&details["product"]["code"]).zip(s(&details["product"]["batch"])),
        order_number: s(&details["order"]["number"]),
        text,
    }
}

/// The open case of the same customer about the same problem, within the window (locked).
async fn open_case_for_same_problem(
    settings: &Settings,
    conn: &mut PgConnection,
    f: &FeedbackReceivedV1,
) -> Result<Option<OpenCase>, HandlerError> {
    let Some(key) = &f.customer.contact_key else {
        return Ok(None);
    };
    let since = f.received_at - chrono::Duration::days(settings.dedup.window_days);
    let candidates = sqlx::query(
        "SELECT id, reference, site, status, department, assignee, class, category, severity, feedback_id,
                content, details
           FROM cases
          WHERE contact_key = $1 AND status NOT IN ('closed', 'rejected') AND received_at >= $2
          ORDER BY opened_at DESC LIMIT 20 FOR UPDATE",
    )
    .bind(key)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let new_details = json!({ "product": f.product, "order": f.order });
    let new = report_of(&new_details, &f.content);
    for r in candidates {
        let details: Value = r.get("details");
        let content: String = r.get("content");
        if let Some(reason) = same_problem(&settings.dedup, &new, &report_of(&details, &content)) {
            return Ok(Some(OpenCase {
                id: r.get("id"),
                reference: r.get("reference"),
                site: r.get("site"),
                status: r.get("status"),
                department: r.get("department"),
                assignee: r.get("assignee"),
                class: r.get("class"),
                category: r.get("category"),
                severity: r.get("severity"),
                feedback_id: r.get("feedback_id"),
                reason,
            }));
        }
    }
    Ok(None)
}

/// Records the report under the open case instead of opening new work.
async fn link_duplicate(
    conn: &mut PgConnection,
    event: &Envelope<FeedbackReceivedV1>,
    case: OpenCase,
) -> Result<(), HandlerError> {
    let f = &event.data;
    let linked = sqlx::query(
        "INSERT INTO case_reports (feedback_id, reference, case_id, channel, received_at, linked_by, reason,
            feedback, site)
         VALUES ($1, $2, $3, $4, $5, 'system', $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(f.feedback_id)
    .bind(&f.reference)
    .bind(case.id)
    .bind(f.channel.as_str())
    .bind(f.received_at)
    .bind(&case.reason)
    .bind(serde_json::to_value(f).map_err(anyhow::Error::from)?)
    .bind(&event.site)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if linked == 0 {
        return Ok(()); // a replay of a report already linked
    }
    let case_id = case.id;
    sqlx::query("UPDATE cases SET report_count = report_count + 1, updated_at = now() WHERE id = $1")
        .bind(case.id)
        .execute(&mut *conn)
        .await?;
    let detail = json!({ "reference": f.reference, "channel": f.channel, "reason": case.reason });
    let history_id: i64 = sqlx::query_scalar(
        "INSERT INTO case_history (case_id, actor, action, detail) VALUES ($1, 'system', 'duplicate_linked', $2)
         RETURNING id",
    )
    .bind(case.id)
    .bind(&detail)
    .fetch_one(&mut *conn)
    .await?;
    let changed = Envelope::new(
        case.site.clone(),
        case.feedback_id,
        CaseChangedV1 {
            case_id: case.id,
            reference: case.reference,
            action: "duplicate_linked".into(),
            from_status: case.status.clone(),
            status: case.status,
            actor: "system".into(),
            department: case.department,
            assignee: case.assignee,
            class: case.class,
            category: case.category,
            severity: case.severity,
            changes: json!({}),
            detail,
            at: chrono::Utc::now(),
            history_id: Some(history_id),
        },
    );
    messaging::enqueue(conn, &changed).await?;
    // The customer reporting the problem again reopens a resolved case (and resumes one waiting for them), as a
    // reply to our mail would.
    if let Some(locked) = crate::store::lock(&mut *conn, &case_id.to_string()).await? {
        super::feedback_followup::customer_step(conn, &locked, &f.reference, chrono::Utc::now()).await?;
    }
    Ok(())
}

/// The responsible person by the department's rule among its active handlers serving the site.
pub async fn choose_assignee(
    settings: &Settings,
    conn: &mut PgConnection,
    site: &str,
    department: &str,
) -> Result<Option<(String, String)>, HandlerError> {
    let Some(rule) = settings.assignment.departments.get(department) else {
        return Ok(None);
    };
    let candidates: Vec<Candidate> = sqlx::query(
        "SELECT u.id,
                (SELECT count(*) FROM cases c WHERE c.assignee = u.id AND c.status NOT IN ('closed', 'rejected'))
                    AS open_cases
           FROM staff_users u
          WHERE u.active AND u.department = $1 AND u.roles ? 'handler'
            AND (u.sites = '[]'::jsonb OR u.sites ? $2)",
    )
    .bind(department)
    .bind(site)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| Candidate {
        user: r.get("id"),
        open_cases: r.get("open_cases"),
    })
    .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let last: Option<String> =
        sqlx::query_scalar("SELECT last_user FROM assignment_cursor WHERE department = $1 FOR UPDATE")
            .bind(department)
            .fetch_optional(&mut *conn)
            .await?;
    let chosen = choose(rule, &candidates, last.as_deref());
    if let Some((user, _)) = &chosen {
        sqlx::query(
            "INSERT INTO assignment_cursor (department, last_user) VALUES ($1, $2)
             ON CONFLICT (department) DO UPDATE SET last_user = EXCLUDED.last_user",
        )
        .bind(department)
        .bind(user)
        .execute(&mut *conn)
        .await?;
    }
    Ok(chosen)
}
