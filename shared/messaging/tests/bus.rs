//! The bus against a real RabbitMQ and PostgreSQL (`make test` starts them).
use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use async_trait::async_trait;
use contracts::{Envelope, Event, RawEnvelope};
use futures::StreamExt;
use lapin::{
    options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, QueueDeclareOptions},
    types::FieldTable,
    BasicProperties, Confirmation,
};
use messaging::{
    topology::{declare_queue, QueueSpec},
    Bus, BusSettings, ConfirmedPublisher, ConsumerGroup, Handler, HandlerError, OutboxRelay, OutboxSignal,
    OutgoingMessage, PublishOutcome, Topology,
};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use testkit::{eventually, Infra};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Happened {
    n: u32,
    #[serde(default)]
    fail: bool,
}

impl Event for Happened {
    const TYPE: &'static str = "test.happened";
    const VERSION: u32 = 1;
}

const SITE: &str = "s1";

fn settings(amqp_url: &str) -> BusSettings {
    BusSettings {
        url: amqp_url.into(),
        exchange: "feedback.events".into(),
        name_prefix: format!("t{}.", testkit::unique()),
        prefetch: 32,
        handler_concurrency: 4,
        batch_max: 16,
        max_attempts: 3,
        delivery_limit: 10,
        retry_base_ms: 20,
        retry_max_ms: 200,
        relay_batch: 100,
        relay_poll_ms: 50,
        reconnect_max_ms: 500,
    }
}

struct Fixture {
    pool: PgPool,
    bus: Arc<Bus>,
    infra: Infra,
    url: String,
}

async fn fixture() -> Fixture {
    fixture_with(|_| {}).await
}

async fn fixture_with(adjust: impl FnOnce(&mut BusSettings)) -> Fixture {
    let infra = Infra::from_env();
    let url = infra.create_database("bus").await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    messaging::schema::ensure(&pool).await.unwrap();
    sqlx::query("CREATE TABLE seen (id UUID PRIMARY KEY, n INT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let mut settings = settings(&infra.amqp_url);
    adjust(&mut settings);
    let bus = Bus::new(settings, "bus-test");
    Fixture { pool, bus, infra, url }
}

impl Fixture {
    async fn cleanup(self) {
        if let Ok(ch) = self.bus.channel().await {
            let queue = self.queue();
            for q in [self.bus.settings().dead_letter_queue(&queue), queue] {
                let _ = ch.queue_delete(q.into(), Default::default()).await;
            }
        }
        self.bus.close().await;
        self.pool.close().await;
        self.infra.drop_database(&self.url).await;
    }

    fn topology(&self) -> Topology {
        Topology {
            service: "svc".into(),
            sites: vec![SITE.into()],
            event_types: vec![Happened::TYPE.into()],
        }
    }

    fn queue(&self) -> String {
        self.bus.settings().queue_name("svc", SITE)
    }

    async fn seen(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM seen")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn enqueue(&self, events: &[Envelope<Happened>]) {
        let mut tx = self.pool.begin().await.unwrap();
        for e in events {
            messaging::enqueue(&mut tx, e).await.unwrap();
        }
        tx.commit().await.unwrap();
    }

    async fn message_count(&self, queue: &str) -> u32 {
        let ch = self.bus.channel().await.unwrap();
        let q = ch
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        q.message_count()
    }
}

/// Records each event once in `seen`; fails (transiently) when asked to.
struct Recorder {
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, conn: &mut PgConnection, event: &RawEnvelope) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let e = event.decode::<Happened>()?;
        if e.data.fail {
            return Err(HandlerError::Transient(anyhow::anyhow!("this handler always fails")));
        }
        sqlx::query("INSERT INTO seen (id, n) VALUES ($1, $2)")
            .bind(e.id)
            .bind(e.data.n as i32)
            .execute(conn)
            .await?;
        Ok(())
    }
}

fn start_consumers(f: &Fixture, stop: &CancellationToken) -> (Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let group = ConsumerGroup {
        bus: f.bus.clone(),
        pool: f.pool.clone(),
        topology: f.topology(),
        handler: Arc::new(Recorder { calls: calls.clone() }),
        outbox: OutboxSignal::default(),
    };
    let stop = stop.clone();
    let handle = tokio::spawn(async move {
        group.declare().await.unwrap();
        group.run(stop).await
    });
    (calls, handle)
}

fn event(n: u32, fail: bool) -> Envelope<Happened> {
    Envelope::new(SITE, Uuid::now_v7(), Happened { n, fail })
}

fn raw(e: &Envelope<Happened>) -> OutgoingMessage {
    OutgoingMessage {
        message_id: e.id,
        event_type: e.event_type.clone(),
        routing_key: e.routing_key(),
        correlation_id: Some(e.correlation_id),
        payload: serde_json::to_vec(e).unwrap(),
    }
}

async fn declared(f: &Fixture) {
    let group = ConsumerGroup {
        bus: f.bus.clone(),
        pool: f.pool.clone(),
        topology: f.topology(),
        handler: Arc::new(Recorder {
            calls: Arc::new(AtomicUsize::new(0)),
        }),
        outbox: OutboxSignal::default(),
    };
    group.declare().await.unwrap();
}

#[tokio::test]
async fn outbox_events_reach_the_consumer_exactly_once() {
    let f = fixture().await;
    let stop = CancellationToken::new();
    let (_calls, consumers) = start_consumers(&f, &stop);
    let relay =
        tokio::spawn(OutboxRelay::new(f.pool.clone(), f.bus.clone(), OutboxSignal::default()).run(stop.clone()));
    let events: Vec<_> = (0..300).map(|n| event(n, false)).collect();
    f.enqueue(&events).await;
    eventually(Duration::from_secs(30), "300 events handled", || async {
        (f.seen().await == 300).then_some(())
    })
    .await;
    assert_eq!(messaging::outbox::pending_count(&f.pool).await.unwrap(), 0);
    stop.cancel();
    relay.await.unwrap();
    consumers.await.unwrap();
    f.cleanup().await;
}

#[tokio::test]
async fn malformed_and_always_failing_messages_are_dead_lettered_and_the_consumer_goes_on() {
    // One delivery per transaction, so the handler-call count below is exact.
    let f = fixture_with(|s| s.batch_max = 1).await;
    declared(&f).await;
    let publisher = ConfirmedPublisher::open(&f.bus).await.unwrap();
    let garbage = OutgoingMessage {
        message_id: Uuid::now_v7(),
        event_type: Happened::TYPE.into(),
        routing_key: format!("{}.{SITE}", Happened::TYPE),
        correlation_id: None,
        payload: b"{ this is not json".to_vec(),
    };
    let wrong_shape = OutgoingMessage {
        payload: serde_json::to_vec(&serde_json::json!({
            "id": Uuid::now_v7(), "type": Happened::TYPE, "version": 1, "occurred_at": chrono::Utc::now(),
            "site": SITE, "correlation_id": Uuid::nil(), "data": { "n": "not a number" }
        }))
        .unwrap(),
        ..garbage.clone()
    };
    let failing = event(1, true);
    let good = event(2, false);
    let outcomes = publisher
        .publish_batch(&[garbage, wrong_shape, raw(&failing), raw(&good)])
        .await
        .unwrap();
    assert!(outcomes.iter().all(|o| *o == PublishOutcome::Confirmed));

    let stop = CancellationToken::new();
    let (calls, consumers) = start_consumers(&f, &stop);
    let dlq = f.bus.settings().dead_letter_queue(&f.queue());
    eventually(
        Duration::from_secs(30),
        "three messages in the dead-letter queue",
        || async { (f.message_count(&dlq).await == 3).then_some(()) },
    )
    .await;
    eventually(Duration::from_secs(10), "the good event handled", || async {
        (f.seen().await == 1).then_some(())
    })
    .await;
    // The failing handler ran exactly max_attempts times; the good one once; the wrong shape was
    // refused by decoding inside the handler (one call) — nothing was retried forever.
    assert_eq!(calls.load(Ordering::SeqCst), 3 + 1 + 1);
    assert_eq!(f.message_count(&f.queue()).await, 0);
    stop.cancel();
    consumers.await.unwrap();
    publisher.close().await;
    f.cleanup().await;
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing_the_second_time() {
    let f = fixture().await;
    declared(&f).await;
    let publisher = ConfirmedPublisher::open(&f.bus).await.unwrap();
    let e = event(7, false);
    publisher.publish_batch(&[raw(&e), raw(&e)]).await.unwrap();
    let stop = CancellationToken::new();
    let (calls, consumers) = start_consumers(&f, &stop);
    eventually(Duration::from_secs(10), "the queue drained", || async {
        (f.message_count(&f.queue()).await == 0 && calls.load(Ordering::SeqCst) >= 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.seen().await, 1);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the duplicate never reached the handler"
    );
    stop.cancel();
    consumers.await.unwrap();
    publisher.close().await;
    f.cleanup().await;
}

#[tokio::test]
async fn a_channel_without_confirms_gets_not_requested_which_the_publisher_refuses() {
    let f = fixture().await;
    declared(&f).await;
    // What lapin does on a plain channel: the "confirmation" resolves at once, meaning nothing.
    let plain = f.bus.channel().await.unwrap();
    let confirmation = plain
        .basic_publish(
            f.bus.settings().exchange_name().into(),
            "nowhere.s1".into(),
            BasicPublishOptions::default(),
            b"{}",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(confirmation, Confirmation::NotRequested);
    assert!(messaging::publisher::interpret(confirmation).is_err());
    // ConfirmedPublisher can only be opened with confirms on: the broker really answers.
    let publisher = ConfirmedPublisher::open(&f.bus).await.unwrap();
    let outcomes = publisher.publish_batch(&[raw(&event(1, false))]).await.unwrap();
    assert_eq!(outcomes, vec![PublishOutcome::Confirmed]);
    publisher.close().await;
    f.cleanup().await;
}

#[tokio::test]
async fn an_unroutable_event_stays_in_the_outbox_until_a_queue_takes_it() {
    let f = fixture().await;
    let stop = CancellationToken::new();
    let relay =
        tokio::spawn(OutboxRelay::new(f.pool.clone(), f.bus.clone(), OutboxSignal::default()).run(stop.clone()));
    let e = event(1, false);
    f.enqueue(std::slice::from_ref(&e)).await;
    let error: String = eventually(Duration::from_secs(10), "a failed publish attempt", || async {
        sqlx::query_scalar::<_, Option<String>>("SELECT last_error FROM outbox WHERE id = $1")
            .bind(e.id)
            .fetch_one(&f.pool)
            .await
            .unwrap()
    })
    .await;
    assert!(error.contains("Unroutable"), "{error}");
    assert_eq!(messaging::outbox::pending_count(&f.pool).await.unwrap(), 1);
    // A consumer's queue appears: the retried event is delivered.
    let (_calls, consumers) = start_consumers(&f, &stop);
    eventually(
        Duration::from_secs(30),
        "the event delivered after the retry",
        || async { (f.seen().await == 1).then_some(()) },
    )
    .await;
    assert_eq!(messaging::outbox::pending_count(&f.pool).await.unwrap(), 0);
    stop.cancel();
    relay.await.unwrap();
    consumers.await.unwrap();
    f.cleanup().await;
}

#[tokio::test]
async fn two_relay_replicas_publish_every_row_once() {
    let f = fixture().await;
    let spec = QueueSpec {
        name: f.queue(),
        dead_letter_queue: f.bus.settings().dead_letter_queue(&f.queue()),
        routing_keys: vec![format!("{}.{SITE}", Happened::TYPE)],
    };
    let ch = f.bus.channel().await.unwrap();
    declare_queue(&ch, f.bus.settings(), &spec).await.unwrap();
    let events: Vec<_> = (0..2000).map(|n| event(n, false)).collect();
    for chunk in events.chunks(250) {
        f.enqueue(chunk).await;
    }
    let stop = CancellationToken::new();
    let relays: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(OutboxRelay::new(f.pool.clone(), f.bus.clone(), OutboxSignal::default()).run(stop.clone()))
        })
        .collect();
    // Count every delivery, duplicates included, straight off the queue.
    let mut consumer = ch
        .basic_consume(
            spec.name.clone().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut ids = HashSet::new();
    let mut deliveries = 0;
    while deliveries < 2000 {
        let d = tokio::time::timeout(Duration::from_secs(30), consumer.next())
            .await
            .expect("deliveries keep coming")
            .unwrap()
            .unwrap();
        ids.insert(d.properties.message_id().clone().unwrap().to_string());
        deliveries += 1;
        d.acker.ack(BasicAckOptions::default()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ids.len(), 2000);
    assert_eq!(f.message_count(&spec.name).await, 0, "no row was published twice");
    stop.cancel();
    for r in relays {
        r.await.unwrap();
    }
    f.cleanup().await;
}

#[tokio::test]
async fn a_failing_event_in_a_batch_does_not_hold_back_or_duplicate_the_others() {
    let f = fixture().await;
    declared(&f).await;
    let publisher = ConfirmedPublisher::open(&f.bus).await.unwrap();
    let mut events: Vec<_> = (0..40).map(|n| event(n, false)).collect();
    events.insert(20, event(999, true));
    let raws: Vec<_> = events.iter().map(raw).collect();
    publisher.publish_batch(&raws).await.unwrap();
    // Everything is waiting before the consumer starts, so it arrives in batches.
    let stop = CancellationToken::new();
    let (_calls, consumers) = start_consumers(&f, &stop);
    let dlq = f.bus.settings().dead_letter_queue(&f.queue());
    eventually(Duration::from_secs(30), "the failing event dead-lettered", || async {
        (f.message_count(&dlq).await == 1).then_some(())
    })
    .await;
    eventually(Duration::from_secs(10), "the other 40 handled", || async {
        (f.seen().await == 40).then_some(())
    })
    .await;
    let distinct: i64 = sqlx::query_scalar("SELECT count(DISTINCT n) FROM seen")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(distinct, 40);
    stop.cancel();
    consumers.await.unwrap();
    publisher.close().await;
    f.cleanup().await;
}
