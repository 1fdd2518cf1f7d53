//! `GET /api/v1/stats/overview?site=&date=`: the staff dashboard's figures for a day and its calendar month, per
//! site or for all sites — intake by channel and site, on-time rates per clock, revisit rate and satisfaction —
//! and the cases open and overdue by department now. Seven small queries, run side by side, over per-day counts
//! (`case_channel_days`, `clock_days`, `closure_days`, `revisit_due_days`, `revisit_days`) and partial indexes
//! over the unfinished cases: about the same cost at a thousand cases or a million. The definitions are the report's
//! (`report::sections`): the dashboard's month is the monthly report's.
use std::collections::BTreeMap;

use axum::{extract::State, Json};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::{FromRow, PgPool};
use utoipa::{IntoParams, ToSchema};

use crate::{
    period::{Kind, Period},
    report::{
        scope,
        sections::{on_time_pct, pct_of, satisfied_sql, OPEN_CASE, OVERDUE_CASE},
    },
    settings::ReportingSettings,
    startup::AppState,
};

#[derive(Deserialize, IntoParams)]
pub struct OverviewQuery {
    /// One site; absent or empty: all sites.
    pub site: Option<String>,
    /// The day (local, `reporting.timezone`); default: today.
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Overview {
    pub site: Option<String>,
    pub date: NaiveDate,
    /// The calendar month of `date`, e.g. `2026-11`.
    pub month: String,
    pub generated_at: DateTime<Utc>,
    pub today: Figures,
    pub this_month: Figures,
    /// Open cases (every status but closed and rejected) by department, now.
    pub open_by_department: BTreeMap<String, i64>,
    pub open: i64,
    /// Cases with a clock past its deadline and still running, not closed, by department, now (the report's
    /// overdue list, counted by case).
    pub overdue_by_department: BTreeMap<String, i64>,
    pub overdue: i64,
}

/// A day's or a month's figures.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Default)]
pub struct Figures {
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    /// Cases received.
    pub intake: i64,
    pub by_channel: BTreeMap<String, i64>,
    pub by_site: BTreeMap<String, i64>,
    /// Per clock, over the cases received in the period (the report's timeliness, without working times).
    pub on_time: Vec<OnTime>,
    pub revisits: RevisitFigures,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Default)]
pub struct OnTime {
    pub clock: String,
    pub met: i64,
    /// Stopped late, or running past the deadline.
    pub breached: i64,
    /// Running, within the deadline.
    pub running: i64,
    pub on_time_pct: Option<f64>,
}

/// The report's revisit section in brief.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Default)]
pub struct RevisitFigures {
    /// Revisits that fell due in the period.
    pub due: i64,
    /// Revisits that reached an outcome in the period.
    pub done: i64,
    /// Cases closed in the period (not merged, not invalid), and how many of them were revisited.
    pub closed_cases: i64,
    pub closed_cases_revisited: i64,
    pub rate_pct: Option<f64>,
    pub rate_target_pct: f64,
    /// Revisits done in the period that found the customer satisfied.
    pub satisfied: i64,
    pub satisfied_pct: Option<f64>,
    /// The mean overall score (0–5) of the revisits done that have one.
    pub average_score: Option<f64>,
}

/// A count for the day and for the month, by key.
#[derive(FromRow)]
struct Pair {
    a: String,
    b: String,
    today: i64,
    month: i64,
}

#[derive(FromRow)]
struct Count {
    key: String,
    n: i64,
}

#[derive(FromRow, Default)]
struct RevisitCounts {
    due_today: i64,
    due_month: i64,
}

#[derive(FromRow, Default)]
struct ClosedCounts {
    closed_today: i64,
    revisited_today: i64,
    closed_month: i64,
    revisited_month: i64,
}

#[derive(FromRow, Default)]
struct DoneCounts {
    done_today: i64,
    satisfied_today: i64,
    score_today: Option<f64>,
    done_month: i64,
    satisfied_month: i64,
    score_month: Option<f64>,
}

/// The figures of `date` and its month for `site` (or all sites), as of now.
pub async fn build(
    pool: &PgPool,
    settings: &ReportingSettings,
    tz: Tz,
    date: NaiveDate,
    site: Option<&str>,
) -> Result<Overview, sqlx::Error> {
    let month = Period::containing(Kind::Monthly, date);
    let m = scope(tz, &month, site);
    let next = date.succ_opt().expect("a day after");
    let intake = sqlx::query_as::<_, Pair>(
        "SELECT site AS a, channel AS b, coalesce(sum(n) FILTER (WHERE day = $3), 0)::int8 AS today,
                sum(n)::int8 AS month
           FROM case_channel_days WHERE day >= $1 AND day < $2 AND ($4::text IS NULL OR site = $4)
          GROUP BY site, channel",
    )
    .bind(m.first_day)
    .bind(m.end_day)
    .bind(date)
    .bind(site)
    .fetch_all(pool);
    let clocks = sqlx::query_as::<_, Pair>(
        "SELECT clock AS a, state AS b, coalesce(sum(n) FILTER (WHERE day = $3), 0)::int8 AS today,
                sum(n)::int8 AS month
           FROM clock_days WHERE day >= $1 AND day < $2 AND ($4::text IS NULL OR site = $4)
          GROUP BY clock, state",
    )
    .bind(m.first_day)
    .bind(m.end_day)
    .bind(date)
    .bind(site)
    .fetch_all(pool);
    let open_sql = format!(
        "SELECT c.department AS key, count(*) AS n FROM case_facts c
          WHERE {OPEN_CASE} AND ($1::text IS NULL OR c.site = $1) GROUP BY c.department"
    );
    let open = sqlx::query_as::<_, Count>(&open_sql).bind(site).fetch_all(pool);
    let overdue_sql = format!(
        "SELECT c.department AS key, count(*) AS n FROM case_facts c
          WHERE {OVERDUE_CASE} AND ($1::text IS NULL OR c.site = $1) GROUP BY c.department"
    );
    let overdue = sqlx::query_as::<_, Count>(&overdue_sql).bind(site).fetch_all(pool);
    let due = sqlx::query_as::<_, RevisitCounts>(
        "SELECT coalesce(sum(n) FILTER (WHERE day = $3), 0)::int8 AS due_today, coalesce(sum(n), 0)::int8 AS due_month
           FROM revisit_due_days WHERE day >= $1 AND day < $2 AND ($4::text IS NULL OR site = $4)",
    )
    .bind(m.first_day)
    .bind(m.end_day)
    .bind(date)
    .bind(site)
    .fetch_one(pool);
    let closed = sqlx::query_as::<_, ClosedCounts>(
        "SELECT coalesce(sum(n) FILTER (WHERE day = $3), 0)::int8 AS closed_today,
                coalesce(sum(n) FILTER (WHERE day = $3 AND revisited), 0)::int8 AS revisited_today,
                coalesce(sum(n), 0)::int8 AS closed_month,
                coalesce(sum(n) FILTER (WHERE revisited), 0)::int8 AS revisited_month
           FROM closure_days WHERE day >= $1 AND day < $2 AND ($4::text IS NULL OR site = $4)",
    )
    .bind(m.first_day)
    .bind(m.end_day)
    .bind(date)
    .bind(site)
    .fetch_one(pool);
    let satisfied = satisfied_sql(&settings.revisits);
    let done_sql = format!(
        "SELECT coalesce(sum(n) FILTER (WHERE r.day = $3), 0)::int8 AS done_today,
                coalesce(sum(n) FILTER (WHERE r.day = $3 AND {satisfied}), 0)::int8 AS satisfied_today,
                round(sum(n * r.score) FILTER (WHERE r.day = $3)::numeric
                      / nullif(sum(n) FILTER (WHERE r.day = $3 AND r.score IS NOT NULL), 0), 1)::float8 AS score_today,
                coalesce(sum(n), 0)::int8 AS done_month,
                coalesce(sum(n) FILTER (WHERE {satisfied}), 0)::int8 AS satisfied_month,
                round(sum(n * r.score)::numeric / nullif(sum(n) FILTER (WHERE r.score IS NOT NULL), 0), 1)::float8
                    AS score_month
           FROM (SELECT day, nullif(score, -1) AS score, satisfied, n FROM revisit_days
                  WHERE day >= $1 AND day < $2 AND ($4::text IS NULL OR site = $4)) r"
    );
    let done = sqlx::query_as::<_, DoneCounts>(&done_sql)
        .bind(m.first_day)
        .bind(m.end_day)
        .bind(date)
        .bind(site)
        .fetch_one(pool);
    let (intake, clocks, open, overdue, due, closed, done) =
        tokio::try_join!(intake, clocks, open, overdue, due, closed, done)?;

    let mut today = Figures {
        from: date,
        to: next,
        ..Default::default()
    };
    let mut this_month = Figures {
        from: m.first_day,
        to: m.end_day,
        ..Default::default()
    };
    for p in &intake {
        for (f, n) in [(&mut today, p.today), (&mut this_month, p.month)] {
            if n > 0 {
                f.intake += n;
                *f.by_channel.entry(p.b.clone()).or_default() += n;
                *f.by_site.entry(p.a.clone()).or_default() += n;
            }
        }
    }
    for (f, pick) in [
        (&mut today, (|p: &Pair| p.today) as fn(&Pair) -> i64),
        (&mut this_month, |p: &Pair| p.month),
    ] {
        let mut per_clock: BTreeMap<&str, OnTime> = BTreeMap::new();
        for p in &clocks {
            let n = pick(p);
            if n == 0 {
                continue;
            }
            let row = per_clock.entry(&p.a).or_insert_with(|| OnTime {
                clock: p.a.clone(),
                ..Default::default()
            });
            match p.b.as_str() {
                "met" => row.met += n,
                "late" | "overdue" => row.breached += n,
                _ => row.running += n,
            }
        }
        f.on_time = per_clock
            .into_values()
            .map(|mut r| {
                r.on_time_pct = on_time_pct(r.met, r.breached);
                r
            })
            .collect();
    }
    let t = &settings.revisits;
    let revisits =
        |due: i64, closed: i64, revisited: i64, done: i64, satisfied: i64, score: Option<f64>| RevisitFigures {
            due,
            done,
            closed_cases: closed,
            closed_cases_revisited: revisited,
            rate_pct: pct_of(revisited, closed),
            rate_target_pct: t.rate_target_pct,
            satisfied,
            satisfied_pct: pct_of(satisfied, done),
            average_score: score,
        };
    today.revisits = revisits(
        due.due_today,
        closed.closed_today,
        closed.revisited_today,
        done.done_today,
        done.satisfied_today,
        done.score_today,
    );
    this_month.revisits = revisits(
        due.due_month,
        closed.closed_month,
        closed.revisited_month,
        done.done_month,
        done.satisfied_month,
        done.score_month,
    );
    let by_department =
        |rows: Vec<Count>| -> BTreeMap<String, i64> { rows.into_iter().map(|c| (c.key, c.n)).collect() };
    let open = by_department(open);
    let overdue = by_department(overdue);
    Ok(Overview {
        site: site.map(str::to_owned),
        date,
        month: month.label(),
        generated_at: Utc::now(),
        today,
        this_month,
        open: open.values().sum(),
        open_by_department: open,
        overdue: overdue.values().sum(),
        overdue_by_department: overdue,
    })
}

/// The dashboard's figures: a day (default today) and its month, per site or for all sites.
#[utoipa::path(get, path = "/api/v1/stats/overview", params(OverviewQuery),
    responses((status = 200, body = Overview), (status = 401)), security(("bearer" = [])))]
pub async fn overview(
    State(state): State<AppState>,
    _staff: auth::Staff,
    server::ApiQuery(q): server::ApiQuery<OverviewQuery>,
) -> Result<Json<Overview>, ApiError> {
    let date = q
        .date
        .unwrap_or_else(|| Utc::now().with_timezone(&state.tz).date_naive());
    let site = q.site.as_deref().map(str::trim).filter(|s| !s.is_empty());
    Ok(Json(build(&state.pool, &state.settings, state.tz, date, site).await?))
}
