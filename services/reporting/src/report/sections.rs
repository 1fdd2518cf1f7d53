//! The sections of a report, each one query over the read models for `[from, to)` and a site (or all).
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, Row};
use utoipa::ToSchema;

use crate::settings::RevisitTargets;

/// `[from, to)` in UTC (and the same as local days), and the site filter, shared by every section.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub first_day: NaiveDate,
    /// Exclusive.
    pub end_day: NaiveDate,
    pub site: Option<&'a str>,
}

/// Cases received in scope, from the per-day counts.
pub async fn total(conn: &mut PgConnection, s: Scope<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(sum(n), 0)::int8 FROM case_days WHERE day >= $1 AND day < $2 AND ($3::text IS NULL OR site = $3)",
    )
    .bind(s.first_day)
    .bind(s.end_day)
    .bind(s.site)
    .fetch_one(&mut *conn)
    .await
}

/// Cases per local day in scope (for trends).
pub async fn per_day(conn: &mut PgConnection, s: Scope<'_>) -> Result<Vec<(NaiveDate, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT day, sum(n)::int8 FROM case_days WHERE day >= $1 AND day < $2 AND ($3::text IS NULL OR site = $3)
          GROUP BY day ORDER BY day",
    )
    .bind(s.first_day)
    .bind(s.end_day)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await
}

const DIMENSIONS: [&str; 8] = [
    "channel",
    "class",
    "category",
    "severity",
    "department",
    "validity",
    "product",
    "cause",
];

/// dimension → value → count: channel, class, category, severity, department, validity, product (top n, then
/// "other"), cause. One scan of the period's cases.
pub async fn breakdown(
    conn: &mut PgConnection,
    s: Scope<'_>,
    top_n: usize,
) -> Result<BTreeMap<String, BTreeMap<String, i64>>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT channel, class, category, severity, department, coalesce(validity, 'undecided') AS validity,
                coalesce(product_code, '—') AS product, cause, count(*) AS n,
                GROUPING(channel, class, category, severity, department, coalesce(validity, 'undecided'),
                         coalesce(product_code, '—'), cause) AS g
           FROM case_facts
          WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR site = $3)
          GROUP BY GROUPING SETS ((channel), (class), (category), (severity), (department),
                                  (coalesce(validity, 'undecided')), (coalesce(product_code, '—')), (cause))",
    )
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: BTreeMap<String, BTreeMap<String, i64>> =
        DIMENSIONS.iter().map(|d| (d.to_string(), BTreeMap::new())).collect();
    let mut products = Vec::new();
    for r in rows {
        // GROUPING's bit for a column is 0 in the grouping set that groups by it (first column = highest bit).
        let g: i32 = r.get("g");
        let n: i64 = r.get("n");
        for (i, d) in DIMENSIONS.iter().enumerate() {
            if g & (1 << (DIMENSIONS.len() - 1 - i)) != 0 {
                continue;
            }
            let Some(v) = r.get::<Option<String>, _>(*d) else {
                continue;
            };
            if *d == "product" {
                products.push((v, n));
            } else {
                out.get_mut(*d).expect("known dimension").insert(v, n);
            }
        }
    }
    products.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.insert("product".into(), top_and_other(products, top_n).into_iter().collect());
    Ok(out)
}

/// The first `n` rows, the rest summed up as "other".
fn top_and_other(rows: Vec<(String, i64)>, n: usize) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = rows.iter().take(n).cloned().collect();
    let rest: i64 = rows.iter().skip(n).map(|(_, c)| c).sum();
    if rest > 0 {
        out.push(("other".into(), rest));
    }
    out
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ParetoRow {
    pub cause: String,
    pub count: i64,
    pub pct: f64,
    pub cumulative_pct: f64,
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Causes by frequency with their cumulative share: the "vital few" are those up to about 80 %.
pub fn pareto(causes: &BTreeMap<String, i64>) -> Vec<ParetoRow> {
    let mut rows: Vec<(&String, &i64)> = causes.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let total: i64 = rows.iter().map(|(_, n)| **n).sum();
    let mut running = 0;
    rows.into_iter()
        .map(|(cause, n)| {
            running += n;
            ParetoRow {
                cause: cause.clone(),
                count: *n,
                pct: round1(*n as f64 * 100.0 / total as f64),
                cumulative_pct: round1(running as f64 * 100.0 / total as f64),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, FromRow)]
pub struct ClockRow {
    pub clock: String,
    pub met: i64,
    pub breached: i64,
    /// Still running (no verdict yet).
    pub open: i64,
    pub on_time_pct: Option<f64>,
    pub median_working_hours: Option<f64>,
    pub p90_working_hours: Option<f64>,
}

/// The state of an SLA clock `k` (a `clock_facts` row): `met` (stopped in time), `late` (stopped after its
/// deadline), `overdue` (running past its deadline), `running`. Late and overdue clocks are breached; the on-time
/// share is met / (met + breached) — in the report's timeliness and the dashboard's on-time rates (`clock_days`).
pub const CLOCK_STATE: &str = "CASE WHEN k.met THEN 'met' WHEN NOT k.met THEN 'late'
     WHEN k.stopped_at IS NULL AND k.breached_at IS NOT NULL THEN 'overdue' ELSE 'running' END";

/// A clock `k` past its deadline and still running (the predicate of the `clock_facts_overdue` index).
pub const OVERDUE_CLOCK: &str = "k.breached_at IS NOT NULL AND k.stopped_at IS NULL";

/// A case `c` not closed (an overdue clock of a closed case no longer counts).
pub const NOT_CLOSED: &str = "c.closed_at IS NULL";

/// A case `c` overdue now: a clock past its deadline and still running (`OVERDUE_CLOCK`, counted in the case's
/// `clocks_overdue`), the case not closed (the predicate of the `case_facts_overdue` index).
pub const OVERDUE_CASE: &str = "c.clocks_overdue > 0 AND c.closed_at IS NULL";

/// A case `c` open: triage's open statuses, everything but closed and rejected (the predicate of the
/// `case_facts_open` index).
pub const OPEN_CASE: &str = "c.status NOT IN ('closed', 'rejected')";

/// The share of decided clocks met in time, when any was decided.
pub fn on_time_pct(met: i64, breached: i64) -> Option<f64> {
    let decided = met + breached;
    (decided > 0).then(|| round1(met as f64 * 100.0 / decided as f64))
}

/// Per clock, over the cases received in scope: met, breached (stopped late or overdue now), on-time share and
/// the working time taken.
pub async fn timeliness(conn: &mut PgConnection, s: Scope<'_>) -> Result<Vec<ClockRow>, sqlx::Error> {
    let mut rows: Vec<ClockRow> = sqlx::query_as(&format!(
        "SELECT k.clock,
                count(*) FILTER (WHERE {CLOCK_STATE} = 'met') AS met,
                count(*) FILTER (WHERE {CLOCK_STATE} IN ('late', 'overdue')) AS breached,
                count(*) FILTER (WHERE {CLOCK_STATE} = 'running') AS open,
                NULL::float8 AS on_time_pct,
                round((percentile_cont(0.5) WITHIN GROUP (ORDER BY k.working_seconds) / 3600.0)::numeric, 1)::float8
                    AS median_working_hours,
                round((percentile_cont(0.9) WITHIN GROUP (ORDER BY k.working_seconds) / 3600.0)::numeric, 1)::float8
                    AS p90_working_hours
           FROM clock_facts k
          WHERE k.received_at >= $1 AND k.received_at < $2 AND ($3::text IS NULL OR k.site = $3)
          GROUP BY k.clock ORDER BY k.clock"
    ))
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await?;
    for r in &mut rows {
        r.on_time_pct = on_time_pct(r.met, r.breached);
    }
    Ok(rows)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, FromRow)]
pub struct OverdueRow {
    pub reference: String,
    pub clock: String,
    pub department: String,
    pub due_at: DateTime<Utc>,
    pub level: i32,
    pub status: String,
}

/// Cases received up to the end of scope whose clock is past due and still running now.
pub async fn overdue(conn: &mut PgConnection, s: Scope<'_>) -> Result<Vec<OverdueRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT c.reference, k.clock, c.department, k.due_at, k.level, c.status
           FROM clock_facts k JOIN case_facts c ON c.case_id = k.case_id
          WHERE {OVERDUE_CLOCK} AND {NOT_CLOSED}
            AND k.received_at < $1 AND ($2::text IS NULL OR k.site = $2)
          ORDER BY k.due_at LIMIT 500"
    ))
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default, PartialEq)]
pub struct Claims {
    pub count: i64,
    pub return_quantity: i64,
    /// currency → total claimed (decimal string).
    pub claimed: BTreeMap<String, String>,
    pub approved: i64,
    /// currency → total approved.
    pub approved_amount: BTreeMap<String, String>,
    pub rejected: i64,
    /// rejection reason → count.
    pub rejected_by_reason: BTreeMap<String, i64>,
    pub pending: i64,
}

pub async fn claims(conn: &mut PgConnection, s: Scope<'_>) -> Result<Claims, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT coalesce(claim_currency, 'CNY') AS currency,
                coalesce(claim_status, 'pending') AS status, claim_rejection AS reason,
                count(*) AS n, sum(claim_amount)::text AS amount, coalesce(sum(return_quantity), 0)::int8 AS qty
           FROM case_facts
          WHERE claim_amount IS NOT NULL
            AND received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR site = $3)
          GROUP BY 1, 2, 3",
    )
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Claims::default();
    let add = |map: &mut BTreeMap<String, String>, currency: &str, amount: &str| {
        let sum = map
            .get(currency)
            .and_then(|v| v.parse::<rust_decimal::Decimal>().ok())
            .unwrap_or_default()
            + amount.parse::<rust_decimal::Decimal>().unwrap_or_default();
        map.insert(currency.to_owned(), sum.round_dp(2).to_string());
    };
    for r in rows {
        let n: i64 = r.get("n");
        let currency: String = r.get("currency");
        let amount: String = r.get::<Option<String>, _>("amount").unwrap_or_default();
        out.count += n;
        out.return_quantity += r.get::<i64, _>("qty");
        add(&mut out.claimed, &currency, &amount);
        match r.get::<String, _>("status").as_str() {
            "approved" => {
                out.approved += n;
                add(&mut out.approved_amount, &currency, &amount);
            }
            "rejected" => {
                out.rejected += n;
                let reason: Option<String> = r.get("reason");
                *out.rejected_by_reason.entry(reason.unwrap_or_default()).or_default() += n;
            }
            _ => out.pending += n,
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default, PartialEq)]
pub struct Repeats {
    /// Complaints whose customer complained about the same category within the repeat window before.
    pub repeat_complaints: i64,
    /// Further reports linked to the period's cases as duplicates.
    pub duplicates_linked: i64,
    /// The period's cases reopened at least once.
    pub reopened_cases: i64,
}

pub async fn repeats(conn: &mut PgConnection, s: Scope<'_>) -> Result<Repeats, sqlx::Error> {
    let r = sqlx::query(
        "SELECT count(*) FILTER (WHERE repeat)::int8 AS repeats, coalesce(sum(duplicates), 0)::int8 AS duplicates,
                count(*) FILTER (WHERE reopened > 0)::int8 AS reopened
           FROM case_facts
          WHERE received_at >= $1 AND received_at < $2 AND ($3::text IS NULL OR site = $3)",
    )
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Repeats {
        repeat_complaints: r.get("repeats"),
        duplicates_linked: r.get("duplicates"),
        reopened_cases: r.get("reopened"),
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, FromRow)]
pub struct StaffRow {
    pub assignee: String,
    pub cases: i64,
    pub closed: i64,
    pub reopened: i64,
    pub breached_clocks: i64,
}

/// Per responsible person: cases of the period assigned to them, closed, reopened, clocks breached.
pub async fn staff(conn: &mut PgConnection, s: Scope<'_>) -> Result<Vec<StaffRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.assignee, count(*) AS cases, count(*) FILTER (WHERE c.closed_at IS NOT NULL) AS closed,
                count(*) FILTER (WHERE c.reopened > 0) AS reopened,
                coalesce(sum(c.clocks_breached), 0)::int8 AS breached_clocks
           FROM case_facts c
          WHERE c.assignee IS NOT NULL AND c.received_at >= $1 AND c.received_at < $2 AND ($3::text IS NULL OR c.site = $3)
          GROUP BY c.assignee ORDER BY cases DESC, c.assignee",
    )
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await
}

/// A share of satisfied revisits in its band (domain.md §5).
pub fn band(t: &RevisitTargets, satisfied_pct: f64) -> &'static str {
    if satisfied_pct > t.good_above_pct {
        "good"
    } else if satisfied_pct < t.very_poor_below_pct {
        "very_poor"
    } else if satisfied_pct < t.poor_below_pct {
        "poor"
    } else {
        "fair"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SatisfactionRow {
    pub name: String,
    pub revisits: i64,
    pub satisfied: i64,
    pub satisfied_pct: f64,
    pub band: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default, PartialEq)]
pub struct Revisits {
    /// Revisits that fell due in the period.
    pub due: i64,
    /// Revisits that reached an outcome in the period.
    pub done: i64,
    /// Cases closed in the period, and how many of them were revisited.
    pub closed_cases: i64,
    pub closed_cases_revisited: i64,
    pub rate_pct: Option<f64>,
    pub rate_target_pct: f64,
    pub closed_complaints: i64,
    pub closed_complaints_revisited: i64,
    pub complaint_rate_pct: Option<f64>,
    pub complaint_rate_target_pct: f64,
    /// Score (0–5) → revisits with that overall score.
    pub scores: BTreeMap<String, i64>,
    pub satisfied: i64,
    pub satisfied_pct: Option<f64>,
    pub by_department: Vec<SatisfactionRow>,
    /// By the case's responsible person.
    pub by_person: Vec<SatisfactionRow>,
}

/// Closed cases `c` that count in the revisit rate: not merged into another, not invalid.
pub const REVISIT_COUNTED: &str = "coalesce(c.outcome, '') <> 'merged' AND coalesce(c.validity, '') <> 'invalid'";

/// A revisit `r` that found the customer satisfied: so recorded, and its overall score (if any) at or above
/// `satisfied_from_score`.
pub fn satisfied_sql(t: &RevisitTargets) -> String {
    format!(
        "(r.satisfied AND (r.score IS NULL OR r.score >= {}))",
        t.satisfied_from_score
    )
}

pub fn pct_of(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| round1(part as f64 * 100.0 / whole as f64))
}

pub async fn revisits(conn: &mut PgConnection, s: Scope<'_>, t: &RevisitTargets) -> Result<Revisits, sqlx::Error> {
    let mut out = Revisits {
        rate_target_pct: t.rate_target_pct,
        complaint_rate_target_pct: t.complaint_rate_target_pct,
        ..Default::default()
    };
    out.due = sqlx::query_scalar(
        "SELECT count(*) FROM revisit_due_facts WHERE due_at >= $1 AND due_at < $2 AND ($3::text IS NULL OR site = $3)",
    )
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_one(&mut *conn)
    .await?;
    let closed = sqlx::query(&format!(
        "SELECT count(*) AS closed, count(*) FILTER (WHERE c.revisited) AS revisited,
                count(*) FILTER (WHERE c.class = 'complaint') AS complaints,
                count(*) FILTER (WHERE c.class = 'complaint' AND c.revisited) AS complaints_revisited
           FROM case_facts c
          WHERE c.closed_at >= $1 AND c.closed_at < $2 AND ($3::text IS NULL OR c.site = $3) AND {REVISIT_COUNTED}"
    ))
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_one(&mut *conn)
    .await?;
    out.closed_cases = closed.get("closed");
    out.closed_cases_revisited = closed.get("revisited");
    out.closed_complaints = closed.get("complaints");
    out.closed_complaints_revisited = closed.get("complaints_revisited");
    out.rate_pct = pct_of(out.closed_cases_revisited, out.closed_cases);
    out.complaint_rate_pct = pct_of(out.closed_complaints_revisited, out.closed_complaints);
    let rows = sqlx::query(&format!(
        "SELECT r.score, {} AS satisfied, coalesce(c.department, '—') AS department,
                coalesce(c.assignee, '—') AS person
           FROM revisit_facts r LEFT JOIN case_facts c ON c.case_id = r.case_id
          WHERE r.completed_at >= $1 AND r.completed_at < $2 AND ($3::text IS NULL OR r.site = $3)",
        satisfied_sql(t)
    ))
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await?;
    let mut departments: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut people: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for score in 0..=5 {
        out.scores.insert(score.to_string(), 0);
    }
    for r in &rows {
        let score: Option<i16> = r.get("score");
        let satisfied: bool = r.get("satisfied");
        if let Some(sc) = score {
            *out.scores.entry(sc.to_string()).or_default() += 1;
        }
        out.done += 1;
        out.satisfied += i64::from(satisfied);
        for (map, key) in [(&mut departments, "department"), (&mut people, "person")] {
            let e = map.entry(r.get(key)).or_default();
            e.0 += 1;
            e.1 += i64::from(satisfied);
        }
    }
    out.satisfied_pct = pct_of(out.satisfied, out.done);
    let rows = |m: BTreeMap<String, (i64, i64)>| {
        m.into_iter()
            .map(|(name, (n, ok))| {
                let p = pct_of(ok, n).unwrap_or(0.0);
                SatisfactionRow {
                    name,
                    revisits: n,
                    satisfied: ok,
                    satisfied_pct: p,
                    band: band(t, p).to_owned(),
                }
            })
            .collect()
    };
    out.by_department = rows(departments);
    out.by_person = rows(people);
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, FromRow, PartialEq)]
pub struct StaffComplaintRow {
    pub staff: String,
    pub complaints: i64,
    /// The highest band threshold reached (e.g. 2, 3, 4, 5), if any.
    pub band: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Default, PartialEq)]
pub struct StaffComplaints {
    /// Staff members named in the period's valid complaints, most complained about first.
    pub named: Vec<StaffComplaintRow>,
    /// Staff responsible for cases in the period whom no complaint named (recognition, 004 §4.5.5).
    pub without_complaints: Vec<String>,
}

/// The band of `n` complaints: the highest threshold reached.
pub fn complaint_band(bands: &[i64], n: i64) -> Option<i64> {
    bands.iter().copied().filter(|b| n >= *b).max()
}

pub async fn staff_complaints(
    conn: &mut PgConnection,
    s: Scope<'_>,
    bands: &[i64],
) -> Result<StaffComplaints, sqlx::Error> {
    let mut named: Vec<StaffComplaintRow> = sqlx::query_as(
        "SELECT k.staff, count(*) AS complaints, NULL::int8 AS band
           FROM staff_complaints k JOIN case_facts c ON c.case_id = k.case_id
          WHERE c.class = 'complaint' AND coalesce(c.validity, '') <> 'invalid'
            AND c.received_at >= $1 AND c.received_at < $2 AND ($3::text IS NULL OR c.site = $3)
          GROUP BY k.staff ORDER BY complaints DESC, k.staff",
    )
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await?;
    for r in &mut named {
        r.band = complaint_band(bands, r.complaints);
    }
    let without_complaints: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.assignee FROM case_facts c
          WHERE c.assignee IS NOT NULL AND c.received_at >= $1 AND c.received_at < $2
            AND ($3::text IS NULL OR c.site = $3)
            AND NOT EXISTS (SELECT 1 FROM staff_complaints k JOIN case_facts c2 ON c2.case_id = k.case_id
                             WHERE k.staff = c.assignee AND c2.class = 'complaint'
                               AND coalesce(c2.validity, '') <> 'invalid'
                               AND c2.received_at >= $1 AND c2.received_at < $2)
          ORDER BY 1",
    )
    .bind(s.from)
    .bind(s.to)
    .bind(s.site)
    .fetch_all(&mut *conn)
    .await?;
    Ok(StaffComplaints {
        named,
        without_complaints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pareto_sorts_causes_and_accumulates_their_share() {
        let causes: BTreeMap<String, i64> = [("material", 2), ("process", 5), ("transport", 1), ("design", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let p = pareto(&causes);
        let order: Vec<&str> = p.iter().map(|r| r.cause.as_str()).collect();
        assert_eq!(order, ["process", "design", "material", "transport"]);
        assert_eq!(p[0].pct, 50.0);
        assert_eq!(p[1].cumulative_pct, 70.0);
        assert_eq!(p.last().unwrap().cumulative_pct, 100.0);
        assert!(pareto(&BTreeMap::new()).is_empty());
    }

    #[test]
    fn satisfaction_bands_follow_the_procedure() {
        let t = RevisitTargets {
            rate_target_pct: 80.0,
            complaint_rate_target_pct: 100.0,
            satisfied_from_score: 3,
            good_above_pct: 90.0,
            poor_below_pct: 70.0,
            very_poor_below_pct: 50.0,
        };
        let bands: Vec<&str> = [95.0, 90.0, 70.0, 69.9, 50.0, 49.9]
            .iter()
            .map(|p| band(&t, *p))
            .collect();
        assert_eq!(bands, ["good", "fair", "fair", "poor", "poor", "very_poor"]);
    }

    #[test]
    fn a_staff_members_band_is_the_highest_threshold_reached() {
        let bands = [2, 3, 4, 5];
        let got: Vec<Option<i64>> = [0, 1, 2, 3, 4, 5, 9]
            .iter()
            .map(|n| complaint_band(&bands, *n))
            .collect();
        assert_eq!(got, [None, None, Some(2), Some(3), Some(4), Some(5), Some(5)]);
    }

    #[test]
    fn beyond_the_top_rows_the_rest_is_other() {
        let rows = vec![("a".into(), 5), ("b".into(), 3), ("c".into(), 2), ("d".into(), 1)];
        assert_eq!(
            top_and_other(rows.clone(), 2),
            vec![("a".into(), 5), ("b".into(), 3), ("other".into(), 3)]
        );
        assert_eq!(top_and_other(rows.clone(), 10), rows);
    }
}
