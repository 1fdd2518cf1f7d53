//! Nothing is lost and nothing is done twice: broker restarts, crashed services, redelivered events.
mod common;

use std::{collections::HashSet, sync::Arc, time::Duration};

use common::{complaint, world, World};
use contracts::{
    feedback::{Channel, CustomerV1, FeedbackReceivedV1},
    Envelope,
};
use messaging::{Bus, BusSettings, ConfirmedPublisher, OutgoingMessage, PublishOutcome};
use testkit::{eventually, rabbit::RabbitNode, Infra};
use tokio_util_free::Flag;

/// A stop flag without pulling tokio-util into the test crate.
mod tokio_util_free {
    use std::sync::atomic::{AtomicBool, Ordering};
    #[derive(Default)]
    pub struct Flag(AtomicBool);
    impl Flag {
        pub fn set(&self) {
            self.0.store(true, Ordering::SeqCst)
        }
        pub fn is_set(&self) -> bool {
            self.0.load(Ordering::SeqCst)
        }
    }
}

/// Posts feedback from `clients` concurrent clients until stopped; returns the references that got 201.
fn load(w: &World, clients: usize, stop: Arc<Flag>) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    let url = format!("{}/api/v1/feedback", w.stack.url("intake"));
    (0..clients)
        .map(|c| {
            let http = w.http.clone();
            let url = url.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut accepted = Vec::new();
                let mut n = c * 100_000;
                while !stop.is_set() {
                    n += 1;
                    match http.post(&url).json(&complaint(n)).send().await {
                        Ok(r) if r.status() == 201 => {
                            let v: serde_json::Value = r.json().await.unwrap();
                            accepted.push(v["reference"].as_str().unwrap().to_owned());
                        }
                        // Intake down or the request cut: the client was not told "accepted".
                        _ => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                accepted
            })
        })
        .collect()
}

async fn references(w: &World, svc: &str, sql: &str) -> Vec<String> {
    let pool = w.stack.pool(svc).await.unwrap();
    let v = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
    pool.close().await;
    v
}

#[tokio::test]
async fn broker_restart_and_crashed_services_under_load_lose_nothing_and_duplicate_nothing() {
    let broker = RabbitNode::start().expect("a private RabbitMQ node");
    let mut w = world(
        &broker.amqp_url(),
        Some(broker.node.clone()),
        vec![("APP__BUS__RECONNECT_MAX_MS".into(), "1000".into())],
    )
    .await;
    let stop = Arc::new(Flag::default());
    let clients = load(&w, 4, stop.clone());
    let accepted_so_far = || async { w.count("intake", "SELECT count(*) FROM feedback").await };

    eventually(Duration::from_secs(30), "load running", || async {
        (accepted_so_far().await >= 50).then_some(())
    })
    .await;
    // 1. The broker goes away while customers keep submitting; intake keeps accepting (outbox).
    broker.stop().unwrap();
    let during_outage = accepted_so_far().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        accepted_so_far().await > during_outage,
        "intake keeps registering while the broker is down"
    );
    broker.restart().unwrap();
    // 2. Triage crashes mid-stream (SIGKILL) and comes back.
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.stack.kill("triage");
    tokio::time::sleep(Duration::from_secs(1)).await;
    w.stack.restart("triage").await.unwrap();
    // 3. Intake crashes too, with requests in flight.
    tokio::time::sleep(Duration::from_secs(1)).await;
    w.stack.kill("intake");
    w.stack.restart("intake").await.unwrap();
    // 4. Notification is stopped gracefully (SIGTERM) mid-stream: it finishes what it started and exits.
    tokio::time::sleep(Duration::from_secs(1)).await;
    w.stack.terminate("notification").expect("a graceful stop within 30 s");
    assert!(
        w.stack.logs("notification").contains("stopped"),
        "notification drained and said so"
    );
    w.stack.restart("notification").await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.set();
    let mut accepted = HashSet::new();
    for c in clients {
        accepted.extend(c.await.unwrap());
    }
    assert!(accepted.len() >= 100, "enough load: {}", accepted.len());

    let registered: HashSet<String> = references(&w, "intake", "SELECT reference FROM feedback")
        .await
        .into_iter()
        .collect();
    assert!(accepted.is_subset(&registered), "every 201 is in the register");
    // Everything registered becomes exactly one case, one email and one count.
    let expected = registered.len();
    eventually(Duration::from_secs(120), "every registered feedback a case", || async {
        (w.count("triage", "SELECT count(*) FROM cases").await as usize == expected).then_some(())
    })
    .await;
    assert_eq!(
        w.count("triage", "SELECT count(*) FROM case_reports").await as usize,
        expected,
        "every report recorded once"
    );
    let cases: Vec<String> = references(&w, "triage", "SELECT reference FROM cases").await;
    assert_eq!(cases.len(), expected);
    assert_eq!(
        cases.into_iter().collect::<HashSet<_>>(),
        registered,
        "one case per feedback, no more"
    );
    eventually(Duration::from_secs(120), "one email per case", || async {
        (w.mail.messages().len() >= expected).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let emails = w.mail.messages();
    assert_eq!(emails.len(), expected, "exactly one email per case");
    for r in &registered {
        assert_eq!(
            emails.iter().filter(|m| m.contains(r.as_str())).count(),
            1,
            "email for {r}"
        );
    }
    eventually(Duration::from_secs(30), "reporting counted every case", || async {
        (w.count("reporting", "SELECT count(*) FROM case_facts").await as usize == expected).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "a deadline per case", || async {
        (w.count("scheduler", "SELECT count(DISTINCT case_id) FROM clocks").await as usize == expected).then_some(())
    })
    .await;
}

fn feedback_event(reference: &str) -> Envelope<FeedbackReceivedV1> {
    let feedback_id = uuid::Uuid::now_v7();
    Envelope::new(
        "sh01",
        feedback_id,
        FeedbackReceivedV1 {
            feedback_id,
            reference: reference.into(),
            channel: Channel::Letter,
            received_at: chrono::Utc::now(),
            customer: CustomerV1 {
                name: Some("李四".into()),
                email: Some("li.si@example.com".into()),
                language: "zh-CN".into(),
                ..Default::default()
            },
            subject: None,
            content: "快递丢失".into(),
            product: None,
            order: None,
            claim: None,
            adverse_reaction: None,
            status_url: None,
            attachments: vec![],
        },
    )
}

fn outgoing<T: serde::Serialize>(e: &Envelope<T>) -> OutgoingMessage {
    OutgoingMessage {
        message_id: e.id,
        event_type: e.event_type.clone(),
        routing_key: e.routing_key(),
        correlation_id: Some(e.correlation_id),
        payload: serde_json::to_vec(e).unwrap(),
    }
}

#[tokio::test]
async fn a_redelivered_or_replayed_event_changes_nothing_the_second_time() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let settings: BusSettings = BusSettings {
        url: w.stack.amqp_url().to_owned(),
        exchange: "feedback.events".into(),
        name_prefix: w.stack.prefix.clone(),
        prefetch: 1,
        handler_concurrency: 1,
        batch_max: 1,
        max_attempts: 1,
        delivery_limit: 5,
        retry_base_ms: 10,
        retry_max_ms: 10,
        relay_batch: 10,
        relay_poll_ms: 100,
        reconnect_max_ms: 100,
    };
    let bus = Bus::new(settings, "test-publisher");
    let publisher = ConfirmedPublisher::open(&bus).await.unwrap();
    let event = feedback_event("SH01-20261123-9001");
    // The same message twice (a redelivery), then the same feedback under a new event id (a replay).
    let mut replay = event.clone();
    replay.id = uuid::Uuid::now_v7();
    let outcomes = publisher
        .publish_batch(&[outgoing(&event), outgoing(&event), outgoing(&replay)])
        .await
        .unwrap();
    assert_eq!(outcomes, vec![PublishOutcome::Confirmed; 3]);
    eventually(Duration::from_secs(20), "the case and its email", || async {
        (w.mail.messages().iter().any(|m| m.contains("SH01-20261123-9001"))).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(w.count("triage", "SELECT count(*) FROM cases").await, 1);
    assert_eq!(w.count("triage", "SELECT count(*) FROM case_history").await, 1);
    // One email to the department and one acknowledgement to the customer, however often it arrived.
    eventually(Duration::from_secs(20), "both emails", || async {
        (w.mail.messages().len() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.count("notification", "SELECT count(*) FROM deliveries").await, 2);
    assert_eq!(w.mail.messages().len(), 2);
    assert_eq!(w.count("reporting", "SELECT count(*) FROM case_facts").await, 1);
    publisher.close().await;
    bus.close().await;
}
