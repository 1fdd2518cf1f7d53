//! Reporting's figures: events applied to the read models per second (through the real handler, one
//! transaction each, as the consumer does when no batch forms), the time to build a monthly report over a
//! million cases (target < 500 ms), and the dashboard's overview (`GET /api/v1/stats/overview`) over the same
//! cases once some are open, overdue, closed and revisited (target < 50 ms: the console page has 200 ms), on a
//! database of its own.
use std::{sync::Arc, time::Instant};

use anyhow::Context;
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    feedback::{Channel, CustomerV1},
    Envelope, RawEnvelope,
};
use messaging::Handler;
use reporting::{
    handlers::ReportingHandler,
    overview,
    period::{Kind, Period},
    report,
    settings::Settings,
};
use serde_json::json;
use sqlx::PgPool;
use testkit::Infra;
use uuid::Uuid;

use crate::Figures;

/// A year of cases spread over the twelve months before `end`, with their feedback and two clocks each.
pub async fn seed(pool: &PgPool, cases: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO feedback_facts (feedback_id, reference, site, channel, received_at, product_code, claim_amount,
            claim_currency, customer_hash)
         SELECT md5('f' || i)::uuid, 'B-' || i, (ARRAY['sh01','bj01','gz01'])[1 + i % 3],
                (ARRAY['web','email','phone','api'])[1 + i % 4],
                timestamptz '2026-11-01 00:00+08' - make_interval(secs => (i * 31557600.0 / $1)),
                'P-' || (i % 50), CASE WHEN i % 10 = 0 THEN 500 + i % 3000 END, 'CNY', md5('c' || (i % 200000))
           FROM generate_series(1, $1) i",
    )
    .bind(cases)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO case_facts (case_id, reference, site, channel, class, category, severity, department,
            received_at, opened_at, feedback_id, status, validity, assignee, cause, claim_status, duplicates, reopened,
            product_code, customer_hash, claim_amount, claim_currency, repeat, clocks_breached)
         SELECT md5('k' || i)::uuid, 'B-' || i, f.site, f.channel,
                (ARRAY['complaint','important','general'])[1 + i % 3],
                (ARRAY['product_quality','logistics','commercial','staff_service','suggestion'])[1 + i % 5],
                (ARRAY['general','important','major'])[1 + i % 3],
                (ARRAY['quality','sales','technical','general_affairs'])[1 + i % 4],
                f.received_at, f.received_at, f.feedback_id, 'closed',
                CASE WHEN i % 7 = 0 THEN 'invalid' ELSE 'valid' END, 'h' || (i % 40),
                (ARRAY['process','material','design','logistics', NULL])[1 + i % 5],
                CASE WHEN i % 10 = 0 THEN (ARRAY['approved','rejected','pending'])[1 + i % 3] END,
                i % 11 / 10, i % 13 / 12,
                f.product_code, f.customer_hash, f.claim_amount, f.claim_currency, i % 17 = 0, i % 3 / 2
           FROM generate_series(1, $1) i JOIN feedback_facts f ON f.feedback_id = md5('f' || i)::uuid",
    )
    .bind(cases)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO clock_facts (case_id, clock, reference, site, department, started_at, due_at, stopped_at, met,
            working_seconds, received_at)
         SELECT c.case_id, k.clock, c.reference, c.site, c.department, c.received_at, c.received_at + interval '1 day',
                c.received_at + make_interval(hours => (hashtext(c.reference) & 63)),
                (hashtext(c.reference) & 63) <= 24, (hashtext(c.reference) & 63) * 1800, c.received_at
           FROM case_facts c CROSS JOIN (VALUES ('registration'), ('handling_result')) k(clock)",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO case_days (site, day, n)
         SELECT site, (received_at AT TIME ZONE 'Asia/Shanghai')::date, count(*) FROM case_facts GROUP BY 1, 2
         ON CONFLICT (day, site) DO UPDATE SET n = case_days.n + excluded.n",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO case_channel_days (site, day, channel, n)
         SELECT site, (received_at AT TIME ZONE 'Asia/Shanghai')::date, channel, count(*) FROM case_facts GROUP BY 1, 2, 3
         ON CONFLICT (day, site, channel) DO UPDATE SET n = case_channel_days.n + excluded.n",
    )
    .execute(pool)
    .await?;
    count_days(pool).await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

/// The per-day counts of clocks, closures and revisits recounted from the facts (what the handlers keep as
/// events arrive).
async fn count_days(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("TRUNCATE clock_days, closure_days, revisit_due_days, revisit_days")
        .execute(pool)
        .await?;
    for insert in [
        format!(
            "INSERT INTO clock_days (site, day, clock, state, n)
             SELECT k.site, (k.received_at AT TIME ZONE 'Asia/Shanghai')::date, k.clock, {} AS state, count(*)
               FROM clock_facts k WHERE k.received_at IS NOT NULL GROUP BY 1, 2, 3, 4",
            report::sections::CLOCK_STATE
        ),
        format!(
            "INSERT INTO closure_days (site, day, revisited, n)
             SELECT c.site, (c.closed_at AT TIME ZONE 'Asia/Shanghai')::date, c.revisited, count(*)
               FROM case_facts c WHERE c.closed_at IS NOT NULL AND {} GROUP BY 1, 2, 3",
            report::sections::REVISIT_COUNTED
        ),
        "INSERT INTO revisit_due_days (site, day, n)
         SELECT site, (due_at AT TIME ZONE 'Asia/Shanghai')::date, count(*) FROM revisit_due_facts GROUP BY 1, 2"
            .to_owned(),
        "INSERT INTO revisit_days (site, day, score, satisfied, n)
         SELECT site, (completed_at AT TIME ZONE 'Asia/Shanghai')::date, coalesce(score, -1), satisfied, count(*)
           FROM revisit_facts GROUP BY 1, 2, 3, 4"
            .to_owned(),
    ] {
        sqlx::query(&insert).execute(pool).await?;
    }
    Ok(())
}

/// What a live system has and the seed leaves out, for October 2026 (the overview's month): a fifth of the
/// month's cases still open, their handling-result clock running and half of those past due; the cases of
/// September and October closed three days after arrival, four in five of them revisited two days later.
pub async fn unfinished_and_revisited(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE case_facts SET closed_at = received_at + interval '3 days', outcome = 'resolved',
                revisited = hashtext(reference) % 5 <> 0
          WHERE received_at >= timestamptz '2026-09-01 00:00+08'",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "UPDATE case_facts SET status = 'in_progress', closed_at = NULL, outcome = NULL, revisited = false,
                clocks_overdue = (hashtext(reference) & 1)
          WHERE received_at >= timestamptz '2026-10-01 00:00+08' AND hashtext(reference) % 5 = 0",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "UPDATE clock_facts k SET stopped_at = NULL, met = NULL, working_seconds = NULL,
                breached_at = CASE WHEN c.clocks_overdue > 0 THEN k.due_at END
           FROM case_facts c
          WHERE c.case_id = k.case_id AND c.status = 'in_progress' AND k.clock = 'handling_result'",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO revisit_due_facts (case_id, reason, sequence, site, due_at)
         SELECT case_id, 'after_close', 1, site, closed_at + interval '2 days' FROM case_facts
          WHERE closed_at IS NOT NULL",
    )
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO revisit_facts (revisit_id, case_id, site, reason, sequence, method, score, satisfied, attempts,
            actor, completed_at)
         SELECT md5('r' || case_id)::uuid, case_id, site, 'after_close', 1, 'phone', (hashtext(reference) & 7) % 6,
                (hashtext(reference) & 7) % 6 >= 3, 1, 'a1', closed_at + interval '2 days'
           FROM case_facts WHERE revisited",
    )
    .execute(pool)
    .await?;
    count_days(pool).await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

fn opened(i: u128) -> RawEnvelope {
    let id = Uuid::from_u128(i);
    let e = Envelope::new(
        "sh01",
        id,
        CaseOpenedV1 {
            case_id: id,
            reference: format!("E-{i}"),
            feedback_id: id,
            channel: Channel::Api,
            received_at: chrono::Utc::now(),
            opened_at: chrono::Utc::now(),
            class: "complaint".into(),
            category: "product_quality".into(),
            severity: "important".into(),
            department: "quality".into(),
            assignee: None,
            customer: CustomerV1::default(),
            subject: None,
            summary: String::new(),
            claim: None,
            involved_roles: Vec::new(),
        },
    );
    serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap()
}

fn changed(i: u128) -> RawEnvelope {
    let id = Uuid::from_u128(i);
    let e = Envelope::new(
        "sh01",
        id,
        CaseChangedV1 {
            case_id: id,
            reference: format!("E-{i}"),
            action: "set_validity".into(),
            from_status: "new".into(),
            status: "in_progress".into(),
            actor: "h1".into(),
            department: "quality".into(),
            assignee: Some("h1".into()),
            class: "complaint".into(),
            category: "product_quality".into(),
            severity: "important".into(),
            changes: json!({}),
            detail: json!({"valid": true}),
            at: chrono::Utc::now(),
            history_id: None,
        },
    );
    serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap()
}

pub async fn figures(infra: &Infra, cases: i64, events: u128, figures: &mut Figures) -> anyhow::Result<()> {
    let url = infra.create_database("bench_reporting").await?;
    let pool = PgPool::connect(&url).await?;
    sqlx::migrate!("../services/reporting/migrations").run(&pool).await?;
    messaging::schema::ensure(&pool).await?;
    let settings = Arc::new(Settings::load().context("reporting settings")?.reporting);
    let tz = settings.timezone.parse().map_err(|e| anyhow::anyhow!("{e}"))?;

    // Ingestion: half case.opened, half case.changed on those cases, each in its own transaction.
    let handler = ReportingHandler {
        settings: settings.clone(),
        tz,
    };
    let started = Instant::now();
    for i in 0..events / 2 {
        for e in [opened(i + 1), changed(i + 1)] {
            let mut tx = pool.begin().await?;
            handler.handle(&mut tx, &e).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            tx.commit().await?;
        }
    }
    let per_s = (events / 2 * 2) as f64 / started.elapsed().as_secs_f64();
    figures.insert("reporting_ingest_events_per_s".into(), json!(per_s.round()));

    let started = Instant::now();
    seed(&pool, cases).await?;
    figures.insert(
        "reporting_seed_seconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    let month = Period::parse(Kind::Monthly, "2026-10").expect("a month");
    let mut times = vec![];
    for _ in 0..5 {
        let mut conn = pool.acquire().await?;
        let t = Instant::now();
        let r = report::build(&mut conn, &settings, tz, &month, None).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(r.total > 0, "the seeded month is empty");
    }
    times.sort_by(f64::total_cmp);
    figures.insert("reporting_cases".into(), json!(cases));
    figures.insert("reporting_monthly_report_ms_median".into(), json!(times[2].round()));
    figures.insert("reporting_monthly_report_ms_max".into(), json!(times[4].round()));
    let mut conn = pool.acquire().await?;
    let t = Instant::now();
    report::build(
        &mut conn,
        &settings,
        tz,
        &Period::parse(Kind::Annual, "2026").expect("a year"),
        None,
    )
    .await?;
    figures.insert(
        "reporting_annual_report_ms".into(),
        json!((t.elapsed().as_secs_f64() * 1000.0).round()),
    );

    // What a reader gets between rebuilds: the report from its snapshot (report::snapshot), the first call
    // building and keeping it. Compared with building the same report in this run.
    anyhow::ensure!(
        settings.snapshots.fresh_for_seconds > 0,
        "reporting.snapshots.fresh_for_seconds is 0: no snapshots to measure"
    );
    let annual = Period::parse(Kind::Annual, "2026").expect("a year");
    for (name, period, built_ms) in [("monthly", &month, times[2]), ("annual", &annual, 0.0)] {
        report::snapshot::live(&pool, &settings, tz, period, None, true).await?;
        let mut served = vec![];
        for _ in 0..7 {
            let t = Instant::now();
            let r = report::snapshot::live(&pool, &settings, tz, period, None, false).await?;
            served.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(r.total > 0, "the snapshot is empty");
        }
        served.sort_by(f64::total_cmp);
        let ms = |x: f64| (x * 10.0).round() / 10.0;
        figures.insert(format!("reporting_{name}_snapshot_ms_median"), json!(ms(served[3])));
        figures.insert(format!("reporting_{name}_snapshot_ms_max"), json!(ms(served[6])));
        if built_ms > 0.0 {
            figures.insert(
                format!("ratio_{name}_snapshot_to_build"),
                json!((served[3] / built_ms * 1000.0).round() / 1000.0),
            );
        }
    }

    // The dashboard's overview of a day in October and its month, for all sites and for one.
    unfinished_and_revisited(&pool).await?;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 10, 20).expect("a day");
    for (name, site) in [("all_sites", None), ("site", Some("sh01"))] {
        let mut times = vec![];
        for _ in 0..7 {
            let t = Instant::now();
            let o = overview::build(&pool, &settings, tz, day, site).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(
                o.this_month.intake > 0 && o.open > 0 && o.overdue > 0 && o.this_month.revisits.done > 0,
                "the overview's month is empty"
            );
        }
        times.sort_by(f64::total_cmp);
        let ms = |x: f64| (x * 10.0).round() / 10.0;
        figures.insert(format!("reporting_overview_{name}_ms_median"), json!(ms(times[3])));
        figures.insert(format!("reporting_overview_{name}_ms_max"), json!(ms(times[6])));
    }
    pool.close().await;
    infra.drop_database(&url).await;
    Ok(())
}
