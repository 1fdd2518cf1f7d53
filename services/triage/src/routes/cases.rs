//! Reading cases: one case with everything about it, and the filtered, paginated list.
use axum::{
    extract::{Path, State},
    Json,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use server::ApiError;
use sqlx::{FromRow, Postgres, QueryBuilder};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::{
        access, claims, revisit, split,
        workflow::{self, Actor, CaseState},
    },
    startup::AppState,
};

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    pub reference: String,
    pub site: String,
    pub channel: String,
    pub status: String,
    pub class: String,
    pub category: String,
    pub severity: String,
    pub department: String,
    pub assignee: Option<String>,
    /// The highest escalation level of a clock running late now (0 = none late).
    pub overdue_level: i32,
    pub report_count: i32,
    pub subject: Option<String>,
    pub received_at: DateTime<Utc>,
    pub opened_at: DateTime<Utc>,
    /// The earliest due time among the case's counting clocks (none while all are paused or stopped).
    pub next_due_at: Option<DateTime<Utc>>,
    /// The clock of `next_due_at`, e.g. `first_reply`.
    pub next_due_clock: Option<String>,
    /// A clock is past its due time now (even before the scheduler fired the breach).
    pub overdue: bool,
}

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct HistoryView {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: Value,
    #[schema(value_type = Object)]
    pub changes: Value,
}

/// A case with its customer (masked unless the user's role needs it), classification decision,
/// claim, history and the actions this user may take now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub content: String,
    #[schema(value_type = Object)]
    pub customer: Value,
    #[schema(value_type = Object)]
    pub details: Value,
    #[schema(value_type = Object)]
    pub decided_by: Value,
    #[schema(value_type = Object)]
    pub workflow: Value,
    #[schema(value_type = Option<Object>)]
    pub claim: Option<Value>,
    pub allowed_actions: Vec<String>,
    /// Every report of this problem: the first and the duplicates linked to it, with their channels.
    pub reports: Vec<ReportView>,
    /// The case's SLA clocks as the scheduler last reported them (`deadline.changed`), nearest due first; the
    /// scheduler's `GET /api/v1/cases/{id}/deadlines` explains each.
    pub deadlines: Vec<DeadlineView>,
    pub history: Vec<HistoryView>,
    /// The case's quality documents at a glance: 8D (version, closed, what is missing), regulator report
    /// status, linked CAPA records, and whether the case's category takes an 8D report (`eight_d_applies`) or a
    /// regulator report (`regulator_report_applies`).
    #[schema(value_type = Object)]
    pub quality: Value,
    /// Staff members this complaint is about (named by a supervisor; counted per month in the reports).
    pub complained_about: Vec<String>,
    /// Roles the case's category involves besides its department (e.g. the management representative for an
    /// adverse event).
    #[schema(value_type = Vec<String>)]
    pub involved_roles: Value,
    /// What this user may do besides `allowed_actions`, so that a user interface offers nothing it would refuse.
    pub may: Permissions,
    /// The configured grounds for rejecting the case's claim (code and labels), when it has one.
    #[schema(value_type = Vec<Object>)]
    pub claim_rejection_reasons: Vec<crate::domain::claims::RejectionReason>,
}

/// What the user may do with the case's claim and revisits now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Permissions {
    pub approve_claim: bool,
    pub reject_claim: bool,
    pub schedule_revisit: bool,
    /// Why a revisit cannot be scheduled, in words, when it cannot.
    pub schedule_revisit_refused: Option<String>,
    /// The same as a code: `no_role`, `other_site`, `anonymous` or `do_not_call`.
    pub schedule_revisit_refused_code: Option<String>,
}

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct DeadlineView {
    /// e.g. `first_reply`, `eight_d_reply`.
    pub clock: String,
    /// `running` | `warned` | `paused` | `breached` | `met` | `breached_stopped`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Escalation levels reached.
    pub level: i32,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Counting and past its due time now.
    pub overdue: bool,
}

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct ReportView {
    pub reference: String,
    pub channel: String,
    pub received_at: DateTime<Utc>,
    /// Why the report belongs to this case: `first report`, or why dedup linked it.
    pub reason: String,
    /// The report that opened the case.
    pub first: bool,
    /// Whether this user may split it out into a case of its own now (`POST /api/v1/cases/{id}/split`): a
    /// linked report with its feedback stored, on an open case, and the user may split (like merge).
    pub can_split: bool,
    /// The reference of the case this report came from when that case was merged into this one (the latest
    /// merge that moved it; reopening that case takes it back).
    pub merged_from: Option<String>,
}

#[derive(FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    summary: CaseSummary,
    content: String,
    customer: Value,
    details: Value,
    decided_by: Value,
    workflow: Value,
    claim: Option<Value>,
    complained_about: Vec<String>,
    involved_roles: Value,
}

const SUMMARY_COLUMNS: &str = "id, reference, site, channel, status, class, category, severity, department, assignee,
    overdue_level, report_count, subject, received_at, opened_at, next_due_at, next_due_clock,
    (overdue_level > 0 OR coalesce(next_due_at < now(), false)) AS overdue";

/// Who is asking: a reader must be allowed to see the case; the author of a change that just moved
/// it elsewhere (e.g. reclassified into another department) still gets to see the result.
#[derive(Clone, Copy, PartialEq)]
pub enum Viewer {
    Reader,
    AuthorOfChange,
}

pub async fn load_detail(
    state: &AppState,
    staff: &auth::Staff,
    id: &str,
    viewer: Viewer,
) -> Result<CaseDetail, ApiError> {
    let row: Option<DetailRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS}, content, customer, details, decided_by, workflow, claim, complained_about,
                involved_roles
           FROM cases WHERE id = $1 OR reference = $2
             OR id = (SELECT case_id FROM case_reports WHERE reference = $2)
          ORDER BY (id = $1 OR reference = $2) IS TRUE DESC LIMIT 1"
    ))
    .bind(Uuid::parse_str(id).ok())
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("case {id}")))?;
    let actor = Actor::from(&staff.0);
    if viewer == Viewer::Reader {
        access::can_read(&actor, &row.summary.department, &row.summary.site).map_err(auth::AuthError::Forbidden)?;
    }
    let history: Vec<HistoryView> =
        sqlx::query_as("SELECT at, actor, action, detail, changes FROM case_history WHERE case_id = $1 ORDER BY id")
            .bind(row.summary.id)
            .fetch_all(&state.pool)
            .await?;
    let current: Option<CaseState> = serde_json::from_value(row.workflow.clone()).ok();
    let may_split = current.as_ref().is_some_and(|s| s.status.is_open())
        && split::authorize(&actor, &row.summary.department, &row.summary.site).is_ok();
    let reports: Vec<ReportView> = sqlx::query_as(
        "SELECT r.reference, r.channel, r.received_at, r.reason, r.feedback_id = c.feedback_id AS first,
                $2 AND r.feedback_id <> c.feedback_id AND r.feedback IS NOT NULL
                   AND cardinality(r.merged_path) = 0
                   AS can_split,
                (SELECT m.reference FROM cases m WHERE m.id = r.merged_path[cardinality(r.merged_path)])
                   AS merged_from
           FROM case_reports r JOIN cases c ON c.id = r.case_id
          WHERE r.case_id = $1 ORDER BY r.received_at, r.reference",
    )
    .bind(row.summary.id)
    .bind(may_split)
    .fetch_all(&state.pool)
    .await?;
    let mut quality = quality_summary(&state.pool, row.summary.id).await?;
    // Whether the case's category takes these documents at all (so a user interface need not copy the rule).
    let q = &state.settings.quality;
    quality["eight_d_applies"] = serde_json::json!(q.eight_d.categories.contains(&row.summary.category));
    quality["regulator_report_applies"] = serde_json::json!(q.regulator.categories.contains(&row.summary.category));
    let deadlines: Vec<DeadlineView> = sqlx::query_as(
        "SELECT clock, status, started_at, due_at, level, stopped_at,
                (status = ANY($2) AND due_at < now()) AS overdue
           FROM case_clocks WHERE case_id = $1 ORDER BY stopped_at IS NOT NULL, due_at, clock",
    )
    .bind(row.summary.id)
    .bind(crate::handlers::deadline_changed::COUNTING)
    .fetch_all(&state.pool)
    .await?;
    let allowed_actions = current
        .as_ref()
        .map(|s| {
            workflow::legal_actions(s.status)
                .into_iter()
                .filter(|k| workflow::authorize(&actor, *k, &row.summary.department, &row.summary.site).is_ok())
                .map(|k| k.name().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let claim: Option<claims::Claim> = row.claim.clone().and_then(|c| serde_json::from_value(c).ok());
    let open = current.as_ref().is_some_and(|s| s.status.is_open());
    let (department, site) = (&row.summary.department, &row.summary.site);
    let undecided = claim.as_ref().filter(|c| c.rejection.is_none() && open);
    let may = Permissions {
        approve_claim: undecided.is_some_and(|c| c.missing_approvals().iter().any(|r| actor.has(*r))),
        reject_claim: undecided
            .is_some_and(|c| claims::authorize(&actor, c, "claim_rejected", department, site).is_ok()),
        schedule_revisit: false,
        schedule_revisit_refused: None,
        schedule_revisit_refused_code: None,
    };
    let may = revisit_permission(state, &actor, &row, may).await?;
    let claim_rejection_reasons = if claim.is_some() {
        state.settings.claims.rejection_reasons.clone()
    } else {
        vec![]
    };
    let (customer, details) = if access::sees_personal_data(&actor, &state.settings.privacy.unmasked_roles) {
        (row.customer, row.details)
    } else {
        (access::mask_customer(&row.customer), access::mask_details(&row.details))
    };
    Ok(CaseDetail {
        summary: row.summary,
        content: row.content,
        customer,
        details,
        decided_by: row.decided_by,
        workflow: row.workflow,
        claim: row.claim,
        allowed_actions,
        reports,
        deadlines,
        history,
        quality,
        complained_about: row.complained_about,
        involved_roles: row.involved_roles,
        may,
        claim_rejection_reasons,
    })
}

/// Whether the user may schedule a revisit of the case by hand (`POST /api/v1/revisits`), and why not.
async fn revisit_permission(
    state: &AppState,
    actor: &Actor,
    row: &DetailRow,
    mut may: Permissions,
) -> Result<Permissions, ApiError> {
    let site = &row.summary.site;
    let refused = if let Err(why) = revisit::may_record(&state.settings.revisit, actor, None, "") {
        Some(("no_role", why))
    } else if !(actor.sites.is_empty() || actor.sites.iter().any(|s| s == site)) {
        Some(("other_site", format!("{} does not work for site {site}", actor.id)))
    } else if row.customer["anonymous"].as_bool().unwrap_or(false)
        || (row.customer["phone"].as_str().is_none_or(str::is_empty)
            && row.customer["email"].as_str().is_none_or(str::is_empty))
    {
        Some((
            "anonymous",
            "anonymous feedback gets no revisit (003 篇6 §1.13)".to_owned(),
        ))
    } else if crate::revisits::is_do_not_call(&mut *state.pool.acquire().await?, row.customer["contact_key"].as_str())
        .await?
    {
        Some(("do_not_call", "the customer declined revisits".to_owned()))
    } else {
        None
    };
    may.schedule_revisit = refused.is_none();
    may.schedule_revisit_refused_code = refused.as_ref().map(|(code, _)| (*code).to_owned());
    may.schedule_revisit_refused = refused.map(|(_, why)| why);
    Ok(may)
}

async fn quality_summary(pool: &sqlx::PgPool, case_id: Uuid) -> Result<Value, sqlx::Error> {
    let eight_d: Option<(Value, i32, bool)> =
        sqlx::query_as("SELECT report, version, closed FROM eight_d_reports WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(pool)
            .await?;
    let eight_d = eight_d.map(|(report, version, closed)| {
        let missing = serde_json::from_value::<crate::domain::eight_d::EightD>(report)
            .map(|r| r.missing())
            .unwrap_or_default();
        serde_json::json!({ "version": version, "closed": closed, "missing": missing })
    });
    let regulator: Option<(String, i32)> =
        sqlx::query_as("SELECT status, version FROM regulator_reports WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(pool)
            .await?;
    let capa: Vec<(Uuid, String, String, String)> = sqlx::query_as(
        "SELECT r.id, r.number, r.status, r.title FROM capa_cases l JOIN capa_records r ON r.id = l.capa_id
          WHERE l.case_id = $1 ORDER BY r.number",
    )
    .bind(case_id)
    .fetch_all(pool)
    .await?;
    Ok(serde_json::json!({
        "eight_d": eight_d,
        "regulator_report": regulator.map(|(status, version)| serde_json::json!({ "status": status, "version": version })),
        "capa": capa.into_iter().map(|(id, number, status, title)|
            serde_json::json!({ "id": id, "number": number, "status": status, "title": title })).collect::<Vec<_>>(),
    }))
}

/// One case, by id or by reference.
#[utoipa::path(
    get, path = "/api/v1/cases/{id}", params(("id" = String, Path, description = "case id or reference")),
    responses((status = 200, body = CaseDetail), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []))
)]
pub async fn get_case(
    State(state): State<AppState>,
    staff: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    Ok(Json(load_detail(&state, &staff, &id, Viewer::Reader).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// A status, several separated by commas, or `open` (all but closed and rejected).
    pub status: Option<String>,
    pub site: Option<String>,
    pub department: Option<String>,
    pub class: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    /// true: only cases with a breached clock; false: only cases on time.
    pub overdue: Option<bool>,
    pub assignee: Option<String>,
    /// Words in the reference, subject or content.
    pub text: Option<String>,
    /// Received on or after this date (UTC).
    pub from: Option<NaiveDate>,
    /// Received on or before this date (UTC).
    pub to: Option<NaiveDate>,
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (of the same sort).
    pub cursor: Option<String>,
    /// `newest` (default) or `due`.
    #[param(value_type = Option<String>)]
    pub sort: Option<Sort>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A CJK character as `cjk_bigrams` (migration 9) counts them: kana, bopomofo, compatibility jamo, ideographs
/// (unified, extensions A–G, compatibility) and Hangul syllables.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Whether a search needs the bigram index: pg_trgm finds words of 3 characters and more, but extracts nothing
/// from a 2-character one, which is a whole word in Chinese (发霉, 漏液). One character stays a plain ILIKE.
pub fn needs_bigrams(text: &str) -> bool {
    text.chars().count() == 2 && text.chars().any(is_cjk)
}

/// `text` anywhere in the reference, subject or content, ignoring case (ILIKE, so `%`, `_` and `\` are plain
/// characters): the exact condition, plus the bigram index condition when the trigram index cannot help.
pub fn push_text_search(b: &mut QueryBuilder<'_, Postgres>, text: &str) {
    let pattern = format!(
        "%{}%",
        text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    // The same expression as the trigram index `cases_search` (migration 7); it is also the exact check.
    b.push(" AND (reference || ' ' || coalesce(subject, '') || ' ' || content) ILIKE ")
        .push_bind(pattern);
    if needs_bigrams(text) {
        // No trigram in a 2-character word: its CJK bigrams find the candidates (migration 9). Necessary for a
        // match, since both sides are lower-cased and cut into bigrams by the same function.
        b.push(" AND search_bigrams @> cjk_bigrams(")
            .push_bind(text.to_owned())
            .push(")");
    }
}

/// The order of a case list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Newest first (by when the case opened).
    #[default]
    Newest,
    /// The nearest deadline first (`next_due_at`, overdue ones first of all); cases with no counting clock after
    /// them, oldest first.
    Due,
}

/// Where a page ended, for the next one (keyset pagination; opaque to clients).
#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    Newest {
        opened_at: DateTime<Utc>,
        id: Uuid,
    },
    Due {
        next_due_at: Option<DateTime<Utc>>,
        id: Uuid,
    },
}

impl Cursor {
    fn after(sort: Sort, c: &CaseSummary) -> Cursor {
        match sort {
            Sort::Newest => Cursor::Newest {
                opened_at: c.opened_at,
                id: c.id,
            },
            Sort::Due => Cursor::Due {
                next_due_at: c.next_due_at,
                id: c.id,
            },
        }
    }

    fn encode(&self) -> String {
        let at = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        match self {
            Cursor::Newest { opened_at, id } => format!("{}_{id}", at(opened_at)),
            Cursor::Due { next_due_at, id } => {
                format!(
                    "due:{}_{id}",
                    next_due_at.as_ref().map(at).unwrap_or_else(|| "none".into())
                )
            }
        }
    }

    fn parse(sort: Sort, cursor: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::invalid("cursor", "is not a cursor this API gave out for this sort");
        let time = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| bad())
        };
        let (rest, due) = match cursor.strip_prefix("due:") {
            Some(rest) => (rest, true),
            None => (cursor, false),
        };
        let (at, id) = rest.split_once('_').ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        match (sort, due) {
            (Sort::Newest, false) => Ok(Cursor::Newest {
                opened_at: time(at)?,
                id,
            }),
            (Sort::Due, true) => Ok(Cursor::Due {
                next_due_at: if at == "none" { None } else { Some(time(at)?) },
                id,
            }),
            _ => Err(bad()),
        }
    }

    /// The condition "after this cursor" in `sort` order.
    fn push_after(&self, b: &mut QueryBuilder<'_, Postgres>) {
        match self {
            Cursor::Newest { opened_at, id } => {
                b.push(" AND (opened_at, id) < (")
                    .push_bind(*opened_at)
                    .push(", ")
                    .push_bind(*id)
                    .push(")");
            }
            Cursor::Due {
                next_due_at: Some(due),
                id,
            } => {
                b.push(" AND ((next_due_at, id) > (")
                    .push_bind(*due)
                    .push(", ")
                    .push_bind(*id)
                    .push(") OR next_due_at IS NULL)");
            }
            Cursor::Due { next_due_at: None, id } => {
                b.push(" AND next_due_at IS NULL AND id > ").push_bind(*id);
            }
        }
    }
}

/// `status`: one status, several separated by commas, or `open` (every status but closed and rejected).
fn parse_statuses(value: &str) -> Result<Vec<String>, ApiError> {
    let mut statuses = Vec::new();
    for s in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if s == "open" {
            statuses.extend(
                workflow::Status::ALL
                    .iter()
                    .filter(|st| st.is_open())
                    .map(|st| st.as_str().to_owned()),
            );
        } else if workflow::Status::ALL.iter().any(|st| st.as_str() == s) {
            statuses.push(s.to_owned());
        } else {
            return Err(ApiError::invalid(
                "status",
                format!("unknown status `{s}` (a status, several separated by commas, or `open`)"),
            ));
        }
    }
    if statuses.is_empty() {
        return Err(ApiError::invalid("status", "is empty"));
    }
    statuses.sort();
    statuses.dedup();
    Ok(statuses)
}

/// Cases the user may see, newest first or nearest deadline first, with the filters of contract.md;
/// keyset-paginated.
#[utoipa::path(get, path = "/api/v1/cases", params(ListQuery),
    responses((status = 200, body = CasePage), (status = 401), (status = 422)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    staff: auth::Staff,
    server::ApiQuery(q): server::ApiQuery<ListQuery>,
) -> Result<Json<CasePage>, ApiError> {
    let limits = &state.settings.lists;
    let limit = q.limit.unwrap_or(limits.page_size);
    if !(1..=limits.max_page_size).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {}", limits.max_page_size),
        ));
    }
    let statuses = q.status.as_deref().map(parse_statuses).transpose()?;
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if t < f {
            return Err(ApiError::invalid("to", "is before `from`"));
        }
    }
    let sort = q.sort.unwrap_or_default();
    let cursor = q.cursor.as_deref().map(|c| Cursor::parse(sort, c)).transpose()?;
    let actor = Actor::from(&staff.0);
    let scope = access::read_scope(&actor);
    let mut b: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS} FROM cases WHERE true"));
    if let Some(d) = &scope.department {
        b.push(" AND department = ").push_bind(d.clone());
    }
    if let Some(sites) = &scope.sites {
        b.push(" AND site = ANY(").push_bind(sites.clone()).push(")");
    }
    if let Some(statuses) = statuses {
        b.push(" AND status = ANY(").push_bind(statuses).push(")");
    }
    for (column, value) in [
        ("site", &q.site),
        ("department", &q.department),
        ("class", &q.class),
        ("category", &q.category),
        ("severity", &q.severity),
        ("assignee", &q.assignee),
    ] {
        if let Some(v) = value {
            b.push(format!(" AND {column} = ")).push_bind(v.clone());
        }
    }
    match q.overdue {
        Some(true) => {
            b.push(" AND (overdue_level > 0 OR next_due_at < now())");
        }
        Some(false) => {
            b.push(" AND overdue_level = 0 AND (next_due_at IS NULL OR next_due_at >= now())");
        }
        None => {}
    }
    if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        push_text_search(&mut b, text);
    }
    if let Some(f) = q.from {
        b.push(" AND received_at >= ")
            .push_bind(f.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    if let Some(t) = q.to {
        let end = (t + chrono::Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        b.push(" AND received_at < ").push_bind(end);
    }
    if let Some(c) = &cursor {
        c.push_after(&mut b);
    }
    b.push(match sort {
        Sort::Newest => " ORDER BY opened_at DESC, id DESC LIMIT ",
        Sort::Due => " ORDER BY next_due_at ASC NULLS LAST, id ASC LIMIT ",
    })
    .push_bind(limit + 1);
    // Planned for the actual search text, never as a generic plan: how selective a word is decides between
    // the text indexes and walking `opened_at`.
    let mut items: Vec<CaseSummary> = b
        .build_query_as()
        .persistent(q.text.is_none())
        .fetch_all(&state.pool)
        .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|c| Cursor::after(sort, c).encode())
    } else {
        None
    };
    Ok(Json(CasePage { items, next_cursor }))
}
