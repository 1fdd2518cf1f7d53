//! What the hardware gives without our code: PostgreSQL commits, RabbitMQ confirmed publishes, and what the SMTP
//! server accepts.
use std::{sync::Arc, time::Instant};

use futures::StreamExt;

use messaging::{Bus, BusSettings, ConfirmedPublisher, OutgoingMessage};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use testkit::Infra;
use uuid::Uuid;

use crate::Figures;

/// Single-row insert commits per second at `concurrency` clients.
pub async fn postgres(infra: &Infra, concurrency: usize, total: usize, f: &mut Figures) -> anyhow::Result<()> {
    let url = infra.create_database("bench_pg").await?;
    let pool = PgPoolOptions::new()
        .max_connections(concurrency as u32)
        .connect(&url)
        .await?;
    sqlx::query("CREATE TABLE t (id UUID PRIMARY KEY, body TEXT NOT NULL, at TIMESTAMPTZ DEFAULT now())")
        .execute(&pool)
        .await?;
    let per_client = total / concurrency;
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for _ in 0..per_client {
                    sqlx::query("INSERT INTO t (id, body) VALUES ($1, $2)")
                        .bind(Uuid::now_v7())
                        .bind("a feedback-sized row of text, about a hundred bytes long, like a short complaint")
                        .execute(&pool)
                        .await?;
                }
                Ok::<_, sqlx::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let rate = (per_client * concurrency) as f64 / start.elapsed().as_secs_f64();
    eprintln!("  postgres: {rate:.0} single-row commits/s at concurrency {concurrency}");
    f.insert("baseline_pg_commits_per_s".into(), json!(rate.round()));
    f.insert("baseline_pg_concurrency".into(), json!(concurrency));
    pool.close().await;
    infra.drop_database(&url).await;
    Ok(())
}

/// Persistent publishes with confirms: in windows of 500 (as the relay does) and one at a time.
pub async fn rabbitmq(infra: &Infra, total: usize, f: &mut Figures) -> anyhow::Result<()> {
    let settings = BusSettings {
        url: infra.amqp_url.clone(),
        exchange: "feedback.events".into(),
        name_prefix: format!("bench{}.", testkit::unique()),
        prefetch: 1,
        handler_concurrency: 1,
        batch_max: 1,
        max_attempts: 1,
        delivery_limit: 5,
        retry_base_ms: 10,
        retry_max_ms: 10,
        relay_batch: 500,
        relay_poll_ms: 100,
        reconnect_max_ms: 1000,
    };
    let bus = Bus::new(settings.clone(), "bench");
    let spec = messaging::topology::QueueSpec {
        name: settings.queue_name("bench", "s1"),
        dead_letter_queue: settings.dead_letter_queue(&settings.queue_name("bench", "s1")),
        routing_keys: vec!["bench.event.s1".into()],
    };
    let ch = bus.channel().await?;
    messaging::topology::declare_queue(&ch, &settings, &spec).await?;
    let publisher = Arc::new(ConfirmedPublisher::open(&bus).await?);
    let message = |_: usize| OutgoingMessage {
        message_id: Uuid::now_v7(),
        event_type: "bench.event".into(),
        routing_key: "bench.event.s1".into(),
        correlation_id: None,
        payload: vec![b'x'; 600],
    };
    let start = Instant::now();
    let batch: Vec<_> = (0..500).map(message).collect();
    for _ in 0..(total / 500).max(1) {
        let fresh: Vec<_> = batch
            .iter()
            .map(|m| OutgoingMessage {
                message_id: Uuid::now_v7(),
                ..m.clone()
            })
            .collect();
        publisher.publish_batch(&fresh).await?;
    }
    let windowed = ((total / 500).max(1) * 500) as f64 / start.elapsed().as_secs_f64();
    let singles = total / 5;
    let start = Instant::now();
    for i in 0..singles {
        publisher.publish_batch(&[message(i)]).await?;
    }
    let single = singles as f64 / start.elapsed().as_secs_f64();
    eprintln!("  rabbitmq: {windowed:.0} confirmed publishes/s (window 500), {single:.0}/s one at a time");
    f.insert("baseline_rmq_confirms_per_s".into(), json!(windowed.round()));
    f.insert("baseline_rmq_confirms_single_per_s".into(), json!(single.round()));
    let _ = ch.queue_delete(spec.name.clone().into(), Default::default()).await;
    let _ = ch
        .queue_delete(spec.dead_letter_queue.clone().into(), Default::default())
        .await;
    bus.close().await;
    Ok(())
}

/// `baseline_smtp_messages_per_s`: what the SMTP server itself accepts — `total` multipart messages of the size
/// notification sends, over `concurrency` pooled connections straight from lettre (no database, no service), so
/// that `notification_emails_per_s` can be read as a ratio of it.
pub async fn smtp(port: u16, concurrency: usize, total: usize, f: &mut Figures) -> anyhow::Result<()> {
    use lettre::{
        message::{MultiPart, SinglePart},
        transport::smtp::PoolConfig,
        AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .pool_config(PoolConfig::new().max_size(concurrency as u32))
        .build();
    let text =
        "张三，您好：\n\n感谢您的反馈，我们已经收到并登记，编号为 SH01-20261123-0001。\n\n客户服务中心".repeat(4);
    let start = std::time::Instant::now();
    let sent = futures::stream::iter(0..total)
        .map(|i| {
            let transport = transport.clone();
            let text = text.clone();
            async move {
                let m = Message::builder()
                    .from("service@feedback.example".parse()?)
                    .to(format!("baseline{i}@example.com").parse()?)
                    .subject("[SH01-20261123-0001] 我们已收到您的反馈")
                    .multipart(
                        MultiPart::alternative()
                            .singlepart(SinglePart::plain(text.clone()))
                            .singlepart(SinglePart::html(format!("<p>{text}</p>"))),
                    )?;
                transport.send(m).await?;
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let failed = sent.iter().filter(|r| r.is_err()).count();
    anyhow::ensure!(failed == 0, "{failed} baseline messages refused");
    let rate = total as f64 / start.elapsed().as_secs_f64();
    eprintln!("  baseline: the SMTP server accepts {rate:.0} messages/s at concurrency {concurrency}");
    f.insert("baseline_smtp_messages_per_s".into(), serde_json::json!(rate.round()));
    Ok(())
}
