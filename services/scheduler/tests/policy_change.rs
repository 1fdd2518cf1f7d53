//! A changed SLA policy reaches the clocks already running at the next start-up: recounted, with both policies
//! and due times in the clock's history; unchanged clocks are left alone. (Its own test binary: it changes the
//! process environment to change the configuration.)
use std::sync::Arc;

use chrono::{DateTime, Utc};
use contracts::{
    case::CaseOpenedV1,
    feedback::{Channel, CustomerV1},
    Envelope, RawEnvelope,
};
use messaging::Handler;
use scheduler::{
    calendars::Calendars,
    domain::clock::ClockState,
    handlers::SchedulerHandler,
    policy_sync::{PolicySync, SyncSummary},
    settings::Settings,
};
use sqlx::PgPool;
use uuid::Uuid;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn clock(pool: &PgPool, name: &str) -> (DateTime<Utc>, ClockState) {
    let (due, state): (DateTime<Utc>, serde_json::Value) =
        sqlx::query_as("SELECT due_at, state FROM clocks WHERE clock = $1")
            .bind(name)
            .fetch_one(pool)
            .await
            .unwrap();
    (due, serde_json::from_value(state).unwrap())
}

#[tokio::test]
async fn a_longer_registration_clock_recounts_running_clocks_once_and_keeps_the_history() {
    let infra = testkit::Infra::from_env();
    let pool = PgPool::connect(&infra.create_database("sched_policy").await.unwrap())
        .await
        .unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    messaging::schema::ensure(&pool).await.unwrap();
    let before = Arc::new(Settings::load().unwrap());
    let calendars = Arc::new(Calendars::build(&before.calendar, &before.sites.known).unwrap());
    let handler = SchedulerHandler {
        settings: before.clone(),
        calendars: calendars.clone(),
    };
    let case_id = Uuid::now_v7();
    let opened = Envelope::new(
        "sh01",
        case_id,
        CaseOpenedV1 {
            case_id,
            reference: "SH01-20261102-0001".into(),
            feedback_id: case_id,
            channel: Channel::Phone,
            received_at: t("2026-11-02T09:00:00+08:00"),
            opened_at: t("2026-11-02T09:00:00+08:00"),
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
    let raw: RawEnvelope = serde_json::from_value(serde_json::to_value(&opened).unwrap()).unwrap();
    let mut tx = pool.begin().await.unwrap();
    handler.handle(&mut tx, &raw).await.unwrap();
    tx.commit().await.unwrap();
    let (due, _) = clock(&pool, "registration").await;
    assert_eq!(due, t("2026-11-03T09:00:00+08:00"), "24 clock hours");
    let (reply_due, _) = clock(&pool, "first_reply").await;

    // Unchanged configuration: nothing to do.
    let same = PolicySync {
        pool: pool.clone(),
        settings: before.clone(),
        calendars: calendars.clone(),
    };
    let s = same.sync(t("2026-11-02T10:00:00+08:00")).await.unwrap();
    assert_eq!((s.recomputed, s.stopped), (0, 0));
    assert!(s.checked >= 5);

    // The registration clock becomes 48 hours long.
    std::env::set_var("APP__SLA__CLOCKS__REGISTRATION__LENGTH__CLOCK_HOURS", "48");
    let after = Arc::new(Settings::load().unwrap());
    let sync = PolicySync {
        pool: pool.clone(),
        settings: after,
        calendars,
    };
    let s = sync.sync(t("2026-11-02T10:00:00+08:00")).await.unwrap();
    assert_eq!(
        (s.recomputed, s.stopped),
        (1, 0),
        "only the registration clock changed: {s:?}"
    );
    let (due, state) = clock(&pool, "registration").await;
    assert_eq!(due, t("2026-11-04T09:00:00+08:00"));
    let history = serde_json::to_value(state.history()).unwrap();
    assert_eq!(history[0]["kind"], "recomputed", "{history}");
    assert_eq!(history[0]["previous_due"], json_time("2026-11-03T01:00:00Z"));
    assert_eq!(clock(&pool, "first_reply").await.0, reply_due, "other clocks untouched");
    // Running it again (the next start) changes nothing more.
    let s: SyncSummary = sync.sync(t("2026-11-02T11:00:00+08:00")).await.unwrap();
    assert_eq!((s.recomputed, s.stopped), (0, 0));
}

fn json_time(s: &str) -> serde_json::Value {
    serde_json::to_value(t(s)).unwrap()
}
