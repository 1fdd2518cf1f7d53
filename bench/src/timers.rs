//! The scheduler's timers on a database of their own: clocks started per second through the real handler
//! (`case.opened` → one row per applicable clock, one transaction per case), and the time to fire 10,000 due
//! timers while a million more are pending (the firing query reads only what is due).
use std::{sync::Arc, time::Instant};

use anyhow::Context;
use chrono::{Duration, Utc};
use contracts::{
    case::CaseOpenedV1,
    feedback::{Channel, CustomerV1},
    Envelope, RawEnvelope,
};
use messaging::{Handler, OutboxSignal};
use scheduler::{calendars::Calendars, firing::Firing, handlers::SchedulerHandler, settings::Settings};
use serde_json::json;
use sqlx::PgPool;
use testkit::Infra;
use uuid::Uuid;

use crate::Figures;

fn opened(case_id: Uuid, received: chrono::DateTime<Utc>) -> RawEnvelope {
    let now = received;
    let e = Envelope::new(
        "sh01",
        case_id,
        CaseOpenedV1 {
            case_id,
            reference: format!("B-{case_id}"),
            feedback_id: case_id,
            channel: Channel::Phone,
            received_at: now,
            opened_at: now,
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
    serde_json::from_value(serde_json::to_value(e).expect("json")).expect("envelope")
}

pub async fn figures(infra: &Infra, pending: i64, due: i64, cases: usize, figures: &mut Figures) -> anyhow::Result<()> {
    let url = infra.create_database("bench_timers").await?;
    let pool = PgPool::connect(&url).await?;
    sqlx::migrate!("../services/scheduler/migrations").run(&pool).await?;
    messaging::schema::ensure(&pool).await?;
    let settings = Arc::new(Settings::load().context("scheduler settings")?);
    let calendars = Arc::new(Calendars::build(&settings.calendar, &settings.sites.known)?);
    let handler = SchedulerHandler {
        settings: settings.clone(),
        calendars,
    };

    // Insert rate through the handler.
    let started = Instant::now();
    for _ in 0..cases {
        let mut tx = pool.begin().await?;
        handler
            .handle(&mut tx, &opened(Uuid::now_v7(), Utc::now()))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let clocks: i64 = sqlx::query_scalar("SELECT count(*) FROM clocks")
        .fetch_one(&pool)
        .await?;
    figures.insert("timers_cases_opened_per_s".into(), json!((cases as f64 / secs).round()));
    figures.insert(
        "timers_clocks_started_per_s".into(),
        json!((clocks as f64 / secs).round()),
    );

    // A million pending clocks and `due` ones that are due now: copies of a real registration clock of a case
    // that arrived three days ago (its warning and breach lie in the past, so firing emits real events).
    let template_case = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    handler
        .handle(&mut tx, &opened(template_case, Utc::now() - Duration::days(3)))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    let template: serde_json::Value =
        sqlx::query_scalar("SELECT state FROM clocks WHERE case_id = $1 AND clock = 'registration'")
            .bind(template_case)
            .fetch_one(&pool)
            .await?;
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO clocks (id, case_id, case_reference, site, clock, department, class, category, severity, state,
            status, due_at, next_fire_at)
         SELECT gen_random_uuid(), gen_random_uuid(), 'P-' || i, 'sh01', 'registration', 'quality', 'complaint',
                'product_quality', 'important', $1, 'running', now() + interval '30 days',
                CASE WHEN i <= $3 THEN now() - interval '1 minute' ELSE now() + interval '30 days' + make_interval(secs => i) END
           FROM generate_series(1, $2 + $3) i",
    )
    .bind(&template)
    .bind(pending)
    .bind(due)
    .execute(&pool)
    .await?;
    sqlx::query("ANALYZE clocks").execute(&pool).await?;
    figures.insert(
        "timers_bulk_seed_seconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );

    let firing = Firing {
        pool: pool.clone(),
        settings: settings.firing.clone(),
        outbox: OutboxSignal::default(),
    };
    let now = Utc::now();
    let started = Instant::now();
    let mut fired = 0usize;
    loop {
        let n = firing.fire_due(now).await?;
        if n == 0 {
            break;
        }
        fired += n;
    }
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(fired as i64 >= due, "fired {fired} of {due} due clocks");
    figures.insert("timers_pending".into(), json!(pending));
    figures.insert("timers_due_fired".into(), json!(fired));
    figures.insert("timers_fire_due_seconds".into(), json!((secs * 100.0).round() / 100.0));
    figures.insert("timers_fired_per_s".into(), json!((fired as f64 / secs).round()));
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type LIKE 'deadline.%'")
        .fetch_one(&pool)
        .await?;
    figures.insert("timers_events_emitted".into(), json!(events));
    pool.close().await;
    infra.drop_database(&url).await;
    Ok(())
}
