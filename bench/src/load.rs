//! Load against the running services.
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::{percentile_ms, round2, Figures, Sample, SharedStack};

fn body(n: usize) -> Value {
    json!({
        "channel": "api", "site": if n.is_multiple_of(2) { "sh01" } else { "bj01" },
        "customer": { "name": "王五", "phone": format!("139{:08}", n % 100_000_000), "language": "zh-CN" },
        "subject": "包装破损",
        "content": format!("第{n}箱产品包装破损，部分有质量缺陷，请尽快处理。"),
        "product": { "code": "P-200", "batch": "B2026-11-23" }
    })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn post(http: &reqwest::Client, url: &str, n: usize) -> Option<(Duration, Value)> {
    let start = Instant::now();
    let r = http.post(url).json(&body(n)).send().await.ok()?;
    if r.status() != 201 {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    Some((start.elapsed(), v))
}

static SEQ: AtomicUsize = AtomicUsize::new(1);

/// `concurrency` clients, each sending its next request when the last is answered.
pub async fn closed_loop(stack: &SharedStack, concurrency: usize, total: usize) -> anyhow::Result<Sample> {
    let url = format!("{}/api/v1/feedback", stack.url("intake"));
    let http = client();
    let left = Arc::new(AtomicUsize::new(total));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url, left) = (http.clone(), url.clone(), left.clone());
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0);
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    match post(&http, &url, SEQ.fetch_add(1, Ordering::Relaxed)).await {
                        Some((d, _)) => lat.push(d),
                        None => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut sample = Sample {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: vec![],
    };
    for t in tasks {
        let (lat, errors) = t.await?;
        sample.ok += lat.len();
        sample.errors += errors;
        sample.latencies.extend(lat);
    }
    sample.elapsed = start.elapsed();
    Ok(sample)
}

/// Requests started at a fixed `rate` whatever the answers do (no coordinated omission).
/// Returns the sample and, per accepted request, (reference, time the 201 arrived).
async fn paced(
    stack: &SharedStack,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<(Sample, Vec<(String, DateTime<Utc>)>)> {
    let url = format!("{}/api/v1/feedback", stack.url("intake"));
    let http = client();
    let total = (rate * duration.as_secs_f64()) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let r = post(&http, &url, SEQ.fetch_add(1, Ordering::Relaxed)).await;
            // Latency from when the request was due, so a stall counts against us.
            r.map(|(_, v)| (due.elapsed(), v, Utc::now()))
        }));
    }
    let mut sample = Sample {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: vec![],
    };
    let mut accepted = vec![];
    for t in tasks {
        match t.await? {
            Some((d, v, at)) => {
                sample.ok += 1;
                sample.latencies.push(d);
                accepted.push((v["reference"].as_str().unwrap_or_default().to_owned(), at));
            }
            None => sample.errors += 1,
        }
    }
    sample.elapsed = start.elapsed();
    Ok((sample, accepted))
}

pub async fn open_loop(stack: &SharedStack, rate: f64, duration: Duration) -> anyhow::Result<Sample> {
    Ok(paced(stack, rate, duration).await?.0)
}

async fn counts(stack: &SharedStack) -> anyhow::Result<(i64, i64, i64)> {
    let count = |svc: &'static str, sql: &'static str| async move {
        let pool = stack.pool(svc).await?;
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await?;
        pool.close().await;
        Ok::<_, anyhow::Error>(n)
    };
    Ok((
        count("intake", "SELECT count(*) FROM feedback").await?,
        count("triage", "SELECT count(*) FROM cases").await?,
        // The department's "new case" mail, one per case (report mail and other rules come and go beside it).
        count(
            "notification",
            "SELECT count(*) FROM deliveries WHERE event_type = 'case.opened' AND recipient_kind = 'department'",
        )
        .await?,
    ))
}

/// Waits until every registered feedback is a case with its notification recorded.
pub async fn wait_drained(stack: &SharedStack, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let (registered, cases, deliveries) = counts(stack).await?;
        if cases == registered && deliveries == registered {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("pipeline not drained: {registered} registered, {cases} cases, {deliveries} deliveries");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// N feedback posted as fast as 32 clients can; time from the first POST until the last case exists
/// in triage with its notification recorded.
pub async fn pipeline_throughput(stack: &SharedStack, n: usize, f: &mut Figures) -> anyhow::Result<()> {
    let start = Instant::now();
    let sample = closed_loop(stack, 32, n).await?;
    wait_drained(stack, Duration::from_secs(600)).await?;
    let elapsed = start.elapsed();
    let rate = sample.ok as f64 / elapsed.as_secs_f64();
    eprintln!(
        "  pipeline: {} cases in {:.2} s = {rate:.0} cases/s end to end",
        sample.ok,
        elapsed.as_secs_f64()
    );
    f.insert("pipeline_cases_per_s".into(), json!(rate.round()));
    f.insert("pipeline_cases".into(), json!(sample.ok));
    Ok(())
}

/// At a steady `rate`, the time from intake's 201 to the case existing in triage.
pub async fn pipeline_latency(
    stack: &SharedStack,
    rate: f64,
    duration: Duration,
    f: &mut Figures,
) -> anyhow::Result<()> {
    let (_, accepted) = paced(stack, rate, duration).await?;
    wait_drained(stack, Duration::from_secs(300)).await?;
    let pool = stack.pool("triage").await?;
    let refs: Vec<String> = accepted.iter().map(|(r, _)| r.clone()).collect();
    let opened: Vec<(String, DateTime<Utc>)> =
        sqlx::query_as("SELECT reference, opened_at FROM cases WHERE reference = ANY($1)")
            .bind(&refs)
            .fetch_all(&pool)
            .await?;
    pool.close().await;
    let opened: std::collections::HashMap<_, _> = opened.into_iter().collect();
    let latencies: Vec<Duration> = accepted
        .iter()
        .filter_map(|(r, at)| opened.get(r).map(|o| (*o - *at).to_std().unwrap_or(Duration::ZERO)))
        .collect();
    let p50 = percentile_ms(&latencies, 50.0);
    let p99 = percentile_ms(&latencies, 99.0);
    eprintln!(
        "  201 → case in triage at {rate}/s: p50 {p50:.1} ms, p99 {p99:.1} ms ({} cases)",
        latencies.len()
    );
    f.insert("pipeline_p50_ms".into(), json!(round2(p50)));
    f.insert("pipeline_p99_ms".into(), json!(round2(p99)));
    f.insert("pipeline_latency_rate_per_s".into(), json!(rate));
    Ok(())
}
