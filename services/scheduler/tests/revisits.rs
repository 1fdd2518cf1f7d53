//! Revisit timers against a real database, with time driven by the test (`fire_due(now)`).
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    feedback::{Channel, CustomerV1},
    Envelope, RawEnvelope,
};
use messaging::{Handler, OutboxSignal};
use scheduler::{calendars::Calendars, handlers::SchedulerHandler, revisit_firing::RevisitFiring, settings::Settings};
use serde_json::{json, Value};
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
    fixture_with(Settings::load().unwrap()).await
}

async fn fixture_with(settings: Settings) -> Fixture {
    let infra = testkit::Infra::from_env();
    let url = infra.create_database("sched_revisit").await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    messaging::schema::ensure(&pool).await.unwrap();
    let settings = Arc::new(settings);
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

    fn firing(&self) -> RevisitFiring {
        RevisitFiring {
            pool: self.pool.clone(),
            settings: self.settings.firing.clone(),
            outbox: OutboxSignal::default(),
        }
    }

    async fn revisits_due(&self) -> Vec<(String, Value)> {
        sqlx::query_as("SELECT routing_key, payload->'data' FROM outbox WHERE event_type = 'revisit.due' ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

fn closed(case_id: Uuid, class: &str, outcome: &str, at: DateTime<Utc>) -> Envelope<CaseChangedV1> {
    Envelope::new(
        "sh01",
        case_id,
        CaseChangedV1 {
            case_id,
            reference: "SH01-20261120-0001".into(),
            action: "close".into(),
            from_status: "resolved".into(),
            status: "closed".into(),
            actor: "q-head".into(),
            department: "quality".into(),
            assignee: Some("h1".into()),
            class: class.into(),
            category: "product_quality".into(),
            severity: "important".into(),
            changes: json!({}),
            detail: json!({ "action": "close", "outcome": outcome }),
            at,
            history_id: None,
        },
    )
}

#[tokio::test]
async fn a_closed_complaint_announces_one_revisit_three_days_later_exactly_once() {
    let f = fixture().await;
    let case = Uuid::now_v7();
    let at = t("2026-11-20T02:00:00Z");
    let event = closed(case, "complaint", "resolved", at);
    f.deliver(&event).await;
    // The same close again (a redelivery under another id, or a close after a reopen) plans nothing new.
    f.deliver(&closed(case, "complaint", "resolved", at + Duration::days(1)))
        .await;

    assert_eq!(
        f.firing()
            .fire_due(at + Duration::days(3) - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(f.firing().fire_due(at + Duration::days(3)).await.unwrap(), 1);
    assert_eq!(
        f.firing().fire_due(at + Duration::days(30)).await.unwrap(),
        0,
        "fired once"
    );
    let due = f.revisits_due().await;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].0, "revisit.due.sh01");
    assert_eq!(due[0].1["case_id"], case.to_string());
    assert_eq!(due[0].1["reason"], "after_close");
    assert_eq!(due[0].1["sequence"], 1);
    assert_eq!(due[0].1["due_at"], "2026-11-23T02:00:00Z");
}

#[tokio::test]
async fn a_repair_gets_the_after_service_revisit_and_the_warranty_cadence() {
    let f = fixture().await;
    let case = Uuid::now_v7();
    let at = t("2026-01-05T02:00:00Z");
    f.deliver(&closed(case, "complaint", "repaired", at)).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM revisit_timers WHERE case_id = $1")
        .bind(case)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(n, 8, "after service + 7 warranty revisits over 3 years");
    assert_eq!(f.firing().fire_due(at + Duration::days(100)).await.unwrap(), 2);
    let due = f.revisits_due().await;
    let reasons: Vec<_> = due
        .iter()
        .map(|(_, d)| (d["reason"].clone(), d["sequence"].clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (json!("after_service"), json!(1)),
            (json!("warranty_cadence"), json!(2))
        ]
    );
}

#[tokio::test]
async fn a_reopen_drops_the_revisits_not_yet_announced_and_the_next_close_plans_them_again() {
    let f = fixture().await;
    let case = Uuid::now_v7();
    let at = t("2026-11-20T02:00:00Z");
    f.deliver(&closed(case, "complaint", "resolved", at)).await;
    let mut reopened = closed(case, "complaint", "resolved", at + Duration::days(1));
    reopened.data.action = "reopen".into();
    reopened.data.status = "reopened".into();
    f.deliver(&reopened).await;
    assert_eq!(f.firing().fire_due(at + Duration::days(5)).await.unwrap(), 0, "dropped");
    let again = at + Duration::days(6);
    f.deliver(&closed(case, "complaint", "resolved", again)).await;
    assert_eq!(f.firing().fire_due(again + Duration::days(3)).await.unwrap(), 1);
    // Announced revisits stay: a reopen after it (e.g. by the dissatisfied revisit) and a new close plan
    // nothing for the same sequence.
    f.deliver(&reopened).await;
    f.deliver(&closed(case, "complaint", "resolved", again + Duration::days(10)))
        .await;
    assert_eq!(f.firing().fire_due(again + Duration::days(30)).await.unwrap(), 0);
    assert_eq!(f.revisits_due().await.len(), 1);
}

#[tokio::test]
async fn other_actions_and_unrevisited_classes_schedule_nothing() {
    let f = fixture().await;
    let case = Uuid::now_v7();
    let at = t("2026-11-20T02:00:00Z");
    f.deliver(&closed(case, "general", "resolved", at)).await;
    let mut note = closed(Uuid::now_v7(), "complaint", "resolved", at);
    note.data.action = "note".into();
    note.data.status = "in_progress".into();
    f.deliver(&note).await;
    assert_eq!(f.firing().fire_due(at + Duration::days(400)).await.unwrap(), 0);
}

fn opened(case_id: Uuid, contact_key: &str, at: DateTime<Utc>) -> Envelope<CaseOpenedV1> {
    Envelope::new(
        "sh01",
        case_id,
        CaseOpenedV1 {
            case_id,
            reference: "SH01-20261120-0002".into(),
            feedback_id: case_id,
            channel: Channel::Phone,
            received_at: at,
            opened_at: at,
            class: "complaint".into(),
            category: "product_quality".into(),
            severity: "important".into(),
            department: "quality".into(),
            assignee: None,
            customer: CustomerV1 {
                contact_key: Some(contact_key.into()),
                ..CustomerV1::default()
            },
            subject: None,
            summary: "包装破损".into(),
            claim: None,
            involved_roles: Vec::new(),
        },
    )
}

#[tokio::test]
async fn a_key_accounts_closed_case_also_gets_the_key_account_cadence() {
    let mut settings = Settings::load().unwrap();
    settings.revisit.key_accounts.contacts = vec!["tel:+8613800000001".into()];
    let f = fixture_with(settings).await;
    let (key, other) = (Uuid::now_v7(), Uuid::now_v7());
    let at = t("2026-01-05T02:00:00Z");
    f.deliver(&opened(key, "tel:+8613800000001", at)).await;
    f.deliver(&opened(other, "tel:+8613800000009", at)).await;
    f.deliver(&closed(key, "complaint", "resolved", at)).await;
    f.deliver(&closed(other, "complaint", "resolved", at)).await;
    while f.firing().fire_due(at + Duration::days(400)).await.unwrap() > 0 {}
    let due = f.revisits_due().await;
    let of = |case: Uuid| -> Vec<(Value, Value)> {
        due.iter()
            .filter(|(_, d)| d["case_id"] == case.to_string())
            .map(|(_, d)| (d["reason"].clone(), d["sequence"].clone()))
            .collect()
    };
    assert_eq!(
        of(key),
        vec![
            (json!("after_close"), json!(1)),
            (json!("key_account"), json!(2)),
            (json!("key_account"), json!(3))
        ]
    );
    assert_eq!(of(other), vec![(json!("after_close"), json!(1))]);
}
