//! Clocks and firing against a real database, with time driven by the test (`fire_due(now)`).
use std::sync::Arc;

use chrono::{DateTime, Utc};
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    feedback::{Channel, CustomerV1},
    Envelope, RawEnvelope,
};
use messaging::{Handler, OutboxSignal};
use scheduler::{calendars::Calendars, firing::Firing, handlers::SchedulerHandler, settings::Settings};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Fixture {
    pool: PgPool,
    handler: SchedulerHandler,
    settings: Arc<Settings>,
}

async fn fixture() -> Fixture {
    let infra = testkit::Infra::from_env();
    let url = infra.create_database("sched").await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    messaging::schema::ensure(&pool).await.unwrap();
    let settings = Arc::new(Settings::load().unwrap());
    let calendars = Arc::new(Calendars::build(&settings.calendar, &settings.sites.known).unwrap());
    Fixture {
        handler: SchedulerHandler {
            settings: settings.clone(),
            calendars,
        },
        pool,
        settings,
    }
}

impl Fixture {
    async fn deliver<T: contracts::Event>(&self, e: &Envelope<T>) {
        let raw: RawEnvelope = serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap();
        let mut tx = self.pool.begin().await.unwrap();
        self.handler.handle(&mut tx, &raw).await.unwrap();
        tx.commit().await.unwrap();
    }

    fn firing(&self) -> Firing {
        Firing {
            pool: self.pool.clone(),
            settings: self.settings.firing.clone(),
            outbox: OutboxSignal::default(),
        }
    }

    /// (event type, clock, level, late) of every timer event fired, in order.
    async fn emitted(&self) -> Vec<(String, String, i64, bool)> {
        sqlx::query_as(
            "SELECT event_type, payload->'data'->>'clock', coalesce((payload->'data'->>'level')::bigint, 0),
                    (payload->'data'->>'late')::bool
               FROM outbox WHERE event_type NOT IN ('deadline.stopped', 'deadline.changed') ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}

fn opened(case_id: Uuid, received_at: DateTime<Utc>) -> Envelope<CaseOpenedV1> {
    Envelope::new(
        "sh01",
        case_id,
        CaseOpenedV1 {
            case_id,
            reference: "SH01-20260924-0001".into(),
            feedback_id: case_id,
            channel: Channel::Phone,
            received_at,
            opened_at: received_at,
            class: "complaint".into(),
            category: "product_quality".into(),
            severity: "important".into(),
            department: "quality".into(),
            assignee: None,
            customer: CustomerV1::default(),
            subject: None,
            summary: "包装破损".into(),
            claim: None,
            involved_roles: Vec::new(),
        },
    )
}

fn changed(case_id: Uuid, action: &str, at: DateTime<Utc>, detail: serde_json::Value) -> Envelope<CaseChangedV1> {
    Envelope::new(
        "sh01",
        case_id,
        CaseChangedV1 {
            case_id,
            reference: "SH01-20260924-0001".into(),
            action: action.into(),
            from_status: "x".into(),
            status: "y".into(),
            actor: "h1".into(),
            department: "quality".into(),
            assignee: Some("h1".into()),
            class: "complaint".into(),
            category: "product_quality".into(),
            severity: "important".into(),
            changes: json!({}),
            detail,
            at,
            history_id: None,
        },
    )
}

async fn due_of(f: &Fixture, clock: &str) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT due_at FROM clocks WHERE clock = $1")
        .bind(clock)
        .fetch_one(&f.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn clocks_follow_the_2026_calendar_fire_in_order_once_and_stop_when_met() {
    let f = fixture().await;
    let case = Uuid::now_v7();
    // Thursday before Mid-Autumn and National Day, 10:00 in Shanghai.
    f.deliver(&opened(case, t("2026-09-24T10:00:00+08:00"))).await;
    let delivered_twice = opened(case, t("2026-09-24T10:00:00+08:00"));
    f.deliver(&delivered_twice).await; // a second case.opened for the case starts nothing new
    assert_eq!(due_of(&f, "registration").await, t("2026-09-25T10:00:00+08:00"));
    assert_eq!(
        due_of(&f, "eight_d_reply").await,
        t("2026-10-12T10:00:00+08:00"),
        "7 working days skip Mid-Autumn and National Day and count the make-up Saturday 10-10"
    );
    let clocks: i64 = sqlx::query_scalar("SELECT count(*) FROM clocks")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(clocks >= 5, "quality complaint clocks: {clocks}");

    // The handler acknowledges in time: the registration clock is met and never breaches.
    f.deliver(&changed(case, "acknowledge", t("2026-09-24T15:00:00+08:00"), json!({})))
        .await;
    let firing = f.firing();
    firing.fire_due(t("2026-09-25T06:00:00+08:00")).await.unwrap();
    let warnings = f.emitted().await;
    assert!(warnings
        .iter()
        .any(|e| e.0 == "deadline.warning" && e.1 == "first_reply"));
    assert!(
        !warnings.iter().any(|e| e.1 == "registration"),
        "a met clock fires nothing"
    );
    // Stopping it was announced once for reporting: met, with the working time it took.
    let stopped: Vec<(String, bool, i64)> = sqlx::query_as(
        "SELECT payload->'data'->>'clock', (payload->'data'->>'met')::bool,
                (payload->'data'->>'working_seconds')::bigint
           FROM outbox WHERE event_type = 'deadline.stopped'",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!((stopped[0].0.as_str(), stopped[0].1), ("registration", true));
    assert!(stopped[0].2 > 0 && stopped[0].2 <= 24 * 3600, "{stopped:?}");
    // Firing again at the same instant fires nothing more.
    firing.fire_due(t("2026-09-25T06:00:00+08:00")).await.unwrap();
    assert_eq!(f.emitted().await.len(), warnings.len());

    // Two replicas after a long outage: everything overdue fires once, in order, marked late.
    let (a, b) = (f.firing(), f.firing());
    let now = t("2026-11-20T10:00:00+08:00");
    let (x, y) = tokio::join!(a.fire_due(now), b.fire_due(now));
    x.unwrap();
    y.unwrap();
    while f.firing().fire_due(now).await.unwrap() > 0 {}
    let all = f.emitted().await;
    let first_reply: Vec<_> = all.iter().filter(|e| e.1 == "first_reply").collect();
    let kinds: Vec<(&str, i64)> = first_reply.iter().map(|e| (e.0.as_str(), e.2)).collect();
    assert_eq!(kinds[0], ("deadline.warning", 0));
    assert_eq!(kinds[1], ("deadline.breached", 1));
    assert!(kinds[2..].iter().all(|k| k.0 == "deadline.escalated"));
    let levels: Vec<i64> = kinds[2..].iter().map(|k| k.1).collect();
    assert_eq!(levels, [1, 2, 3], "each escalation level once, in order");
    assert!(first_reply[1..].iter().all(|e| e.3), "fired after the outage: late");
    let mut seen = std::collections::HashSet::new();
    for e in &all {
        assert!(seen.insert((e.0.clone(), e.1.clone(), e.2)), "fired twice: {e:?}");
    }

    // Every change of a clock was published as a snapshot, revisions counting up from 1: the registration
    // clock started and was met; first_reply started, warned, breached and climbed to level 3.
    let snapshots = |clock: &'static str| {
        let pool = f.pool.clone();
        async move {
            sqlx::query_as::<_, (String, i64, i64, Option<String>)>(
                "SELECT c->>'status', (c->>'level')::bigint, (c->>'revision')::bigint, c->>'stopped_at'
                   FROM outbox, jsonb_array_elements(payload->'data'->'clocks') c
                  WHERE event_type = 'deadline.changed' AND c->>'clock' = $1 ORDER BY seq",
            )
            .bind(clock)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let registration = snapshots("registration").await;
    let states: Vec<(&str, i64)> = registration.iter().map(|s| (s.0.as_str(), s.2)).collect();
    assert_eq!(states, [("running", 1), ("met", 2)]);
    assert!(registration[1].3.is_some(), "a met clock says when it stopped");
    let first_reply = snapshots("first_reply").await;
    let revisions: Vec<i64> = first_reply.iter().map(|s| s.2).collect();
    assert_eq!(revisions, (1..=first_reply.len() as i64).collect::<Vec<_>>());
    assert_eq!(first_reply[0].0, "running");
    let last = first_reply.last().unwrap();
    assert_eq!((last.0.as_str(), last.1), ("breached", 3), "{first_reply:?}");
    // A new case's clocks travel together: one deadline.changed for all of them.
    let at_opening: i64 = sqlx::query_scalar(
        "SELECT jsonb_array_length(payload->'data'->'clocks')::bigint FROM outbox
          WHERE event_type = 'deadline.changed' ORDER BY seq LIMIT 1",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(at_opening, clocks, "every clock the case opened with, in one event");
}

#[tokio::test]
async fn waiting_for_the_customer_pauses_working_day_clocks_and_an_extension_is_honoured() {
    let f = fixture().await;
    let case = Uuid::now_v7();
    f.deliver(&opened(case, t("2026-11-02T09:00:00+08:00"))).await; // a Monday
    let before = due_of(&f, "handling_result").await;
    // Waiting from Tuesday 09:00 to Wednesday 09:00: one working day (7.5 working hours) paused.
    f.deliver(&changed(
        case,
        "wait_for_customer",
        t("2026-11-03T09:00:00+08:00"),
        json!({}),
    ))
    .await;
    f.deliver(&changed(
        case,
        "customer_responded",
        t("2026-11-04T09:00:00+08:00"),
        json!({}),
    ))
    .await;
    let after = due_of(&f, "handling_result").await;
    assert_eq!(after, t("2026-11-12T09:00:00+08:00"));
    assert!(after > before, "{before} → {after}");
    // Staff move the 8D deadline with a reason (the customer was told): recorded and honoured.
    let new_due = t("2026-11-20T17:00:00+08:00");
    f.deliver(&changed(
        case,
        "extend_deadline",
        t("2026-11-05T10:00:00+08:00"),
        json!({"action": "extend_deadline", "clock": "eight_d_reply", "new_due": new_due, "reason": "等待第三方检测报告"}),
    ))
    .await;
    assert_eq!(due_of(&f, "eight_d_reply").await, new_due);
    // Closing stops every clock: nothing left to fire.
    f.deliver(&changed(case, "close", t("2026-11-06T10:00:00+08:00"), json!({})))
        .await;
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM clocks WHERE next_fire_at IS NOT NULL")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);
}
