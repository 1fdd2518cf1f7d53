//! `make bench`: throughput and latency of the real services on this machine, next to baselines
//! (PostgreSQL commits, RabbitMQ confirmed publishes) measured in the same run, so figures can be
//! quoted as ratios. Writes one flat JSON object (`--out`, default bench/results/latest.json).
//! `--quick` runs a quarter of the sizes; the `--…-only` flags run one part next to the baselines
//! (read models and timers, the case list, notification email, intake alone).
use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use serde_json::{json, Value};
use testkit::{
    mail::MailCatcher,
    services::{Stack, StackOptions},
    Infra,
};

mod baseline;
mod case_list;
mod channels;
mod console_pages;
mod load;
mod notifications;
mod read_models;
mod timers;

type Figures = BTreeMap<String, Value>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "bench/results/latest.json".into());
    let quick = args.iter().any(|a| a == "--quick");
    let scale = if quick { 1 } else { 4 };
    let infra = Infra::from_env();
    let mut figures = Figures::new();
    figures.insert("when".into(), json!(chrono::Utc::now().to_rfc3339()));
    figures.insert("machine".into(), machine());

    eprintln!("baselines…");
    baseline::postgres(&infra, 32, 5_000 * scale, &mut figures).await?;
    baseline::rabbitmq(&infra, 5_000 * scale, &mut figures).await?;
    // The diagnostic `--…-only` modes (other than read models) skip the two large seeded figures.
    let diagnostic = [
        "--case-list-only",
        "--intake-alone",
        "--notifications-only",
        "--console-only",
    ];
    if !args.iter().any(|a| diagnostic.contains(&a.as_str())) {
        eprintln!("reporting read models ({} cases)…", 250_000 * scale);
        read_models::figures(&infra, 250_000 * scale as i64, 1_000 * scale as u128, &mut figures).await?;
        eprintln!("scheduler timers ({} pending)…", 250_000 * scale);
        timers::figures(
            &infra,
            250_000 * scale as i64,
            10_000,
            200 * scale as usize,
            &mut figures,
        )
        .await?;
    }
    if args.iter().any(|a| a == "--read-models-only") {
        add_ratios(&mut figures);
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }

    eprintln!("starting the five services (release build)…");
    let mail = MailCatcher::start(&[]).context("mail catcher")?;
    baseline::smtp(mail.port, 8, 500 * scale, &mut figures).await?;
    // The email channel polls its own IMAP server (dovecot) from the start; it stays idle until the
    // email figure moves mail into its inbox.
    let imap = testkit::imap::Dovecot::start()
        .await
        .context("dovecot (dovecot-imapd)")?;
    let mut env = vec![
        ("RUST_LOG".into(), "warn".into()),
        // Every web-form submission comes from the same address: lift the per-address limit.
        ("APP__WEB__RATE_LIMIT_BURST".into(), "1000000000".into()),
        // Reports from snapshots as shipped (the test stack turns them off for tests).
        ("APP__REPORTING__SNAPSHOTS__FRESH_FOR_SECONDS".into(), "120".into()),
    ];
    env.extend(channels::email_env(&imap));
    let stack = Stack::start(
        &infra,
        StackOptions {
            amqp_url: infra.amqp_url.clone(),
            rabbit_node: infra.rabbit_node.clone(),
            smtp_port: mail.port,
            sites: vec!["sh01".into(), "bj01".into()],
            env,
        },
    )
    .await?;
    let mut stack = stack;
    if args.iter().any(|a| a == "--case-list-only") {
        // Diagnostic: only triage's list over a large table.
        case_list::figures(&stack, &admin_token()?, 250_000 * scale as i64, &mut figures).await?;
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    if args.iter().any(|a| a == "--console-only") {
        // Diagnostic: the staff console's pages over a million cases (bench/src/console_pages.rs).
        eprintln!("the console's pages over {} cases…", 250_000 * scale);
        console_pages::figures(&mut stack, &admin_token()?, 250_000 * scale as i64, &mut figures).await?;
        let json = serde_json::to_string_pretty(&figures)?;
        println!("{json}");
        let out = if args.iter().any(|a| a == "--out") {
            out
        } else {
            "bench/results/console.json".into()
        };
        if let Some(dir) = std::path::Path::new(&out).parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&out, json + "\n").with_context(|| format!("writing {out}"))?;
        eprintln!("written to {out}");
        return Ok(());
    }
    if args.iter().any(|a| a == "--intake-alone") {
        // Diagnostic: intake and its relay only (events queue up in triage's queue).
        for svc in ["triage", "notification", "reporting", "scheduler"] {
            stack.kill(svc);
        }
        let stack = Arc::new(stack);
        let c1 = load::closed_loop(&stack, 1, 500 * scale).await?;
        c1.record("intake_alone_c1", &mut figures);
        let c32 = load::closed_loop(&stack, 32, 2_500 * scale).await?;
        c32.record("intake_alone_c32", &mut figures);
        return Ok(());
    }
    let stack = Arc::new(stack);
    if args.iter().any(|a| a == "--notifications-only") {
        // Diagnostic: emails into SMTP, and the pipeline with and without a mail backlog (same run).
        eprintln!("pipeline, then emails into SMTP and the pipeline while they drain…");
        load::pipeline_throughput(&stack, 2_500 * scale, &mut figures).await?;
        load::wait_drained(&stack, Duration::from_secs(300)).await?;
        notifications::email_throughput(&stack, 2_000 * scale, &mut figures).await?;
        notifications::pipeline_with_mail_backlog(&stack, 1_000 * scale, 2_000 * scale, &mut figures).await?;
        add_ratios(&mut figures);
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }

    eprintln!("intake at concurrency 1 and 32…");
    let c1 = load::closed_loop(&stack, 1, 500 * scale).await?;
    c1.record("intake_c1", &mut figures);
    let c32 = load::closed_loop(&stack, 32, 2_500 * scale).await?;
    c32.record("intake_c32", &mut figures);
    let paced = load::open_loop(&stack, 1_000.0, Duration::from_secs(3 + scale as u64)).await?;
    paced.record("intake_r1000", &mut figures);
    eprintln!("web form at concurrency 32…");
    let form = channels::web_form(&stack, 32, 500 * scale).await?;
    form.record("web_form_c32", &mut figures);

    eprintln!("pipeline…");
    load::wait_drained(&stack, Duration::from_secs(300)).await?;
    load::pipeline_throughput(&stack, 2_500 * scale, &mut figures).await?;
    load::wait_drained(&stack, Duration::from_secs(300)).await?;
    load::pipeline_latency(&stack, 200.0, Duration::from_secs(5 + 2 * scale as u64), &mut figures).await?;
    eprintln!("notification: emails into SMTP, and the pipeline while they drain…");
    notifications::email_throughput(&stack, 2_000 * scale, &mut figures).await?;
    notifications::pipeline_with_mail_backlog(&stack, 1_000 * scale, 2_000 * scale, &mut figures).await?;

    // Last: each email's sender gets an acknowledgement, which the drain checks above do not expect.
    eprintln!("email from IMAP…");
    channels::email_ingest(&stack, &imap, 250 * scale, &mut figures).await?;

    eprintln!("triage's case list over {} cases…", 250_000 * scale);
    case_list::figures(&stack, &admin_token()?, 250_000 * scale as i64, &mut figures).await?;

    add_ratios(&mut figures);
    let json = serde_json::to_string_pretty(&figures)?;
    println!("{json}");
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, json + "\n").with_context(|| format!("writing {out}"))?;
    eprintln!("written to {out}");
    drop(mail);
    Ok(())
}

/// A token for the configured development administrator (the stack runs with the development secret).
fn admin_token() -> anyhow::Result<String> {
    Ok(auth::AuthKeys::new(auth::DEV_SECRET).issue(
        "admin",
        "Admin",
        vec![auth::Role::Administrator],
        None,
        vec![],
        chrono::Duration::hours(2),
    )?)
}

fn add_ratios(f: &mut Figures) {
    let get = |k: &str| f.get(k).and_then(Value::as_f64);
    let mut ratios = vec![];
    if let (Some(i), Some(pg)) = (get("intake_c32_per_s"), get("baseline_pg_commits_per_s")) {
        ratios.push(("ratio_intake_c32_to_pg_commits", i / pg));
    }
    if let (Some(p), Some(pg)) = (get("pipeline_cases_per_s"), get("baseline_pg_commits_per_s")) {
        ratios.push(("ratio_pipeline_to_pg_commits", p / pg));
    }
    if let (Some(e), Some(pg)) = (get("reporting_ingest_events_per_s"), get("baseline_pg_commits_per_s")) {
        ratios.push(("ratio_reporting_ingest_to_pg_commits", e / pg));
    }
    if let (Some(p), Some(r)) = (get("pipeline_cases_per_s"), get("baseline_rmq_confirms_per_s")) {
        ratios.push(("ratio_pipeline_to_rmq_confirms", p / r));
    }
    if let (Some(e), Some(s)) = (get("notification_emails_per_s"), get("baseline_smtp_messages_per_s")) {
        ratios.push(("ratio_emails_to_smtp_baseline", e / s));
    }
    for (k, v) in ratios {
        f.insert(k.into(), json!((v * 1000.0).round() / 1000.0));
    }
}

fn machine() -> Value {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let memory_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    json!({ "cores": cores, "memory_gib": (memory_kib as f64 / 1_048_576.0 * 10.0).round() / 10.0 })
}

/// Latency samples → per-second rate and percentiles.
pub struct Sample {
    pub ok: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Sample {
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies, p)
    }

    fn record(&self, name: &str, f: &mut Figures) {
        let per_s = self.ok as f64 / self.elapsed.as_secs_f64();
        f.insert(format!("{name}_per_s"), json!(per_s.round()));
        f.insert(format!("{name}_p50_ms"), json!(round2(self.percentile_ms(50.0))));
        f.insert(format!("{name}_p99_ms"), json!(round2(self.percentile_ms(99.0))));
        f.insert(format!("{name}_errors"), json!(self.errors));
        eprintln!(
            "  {name}: {per_s:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
            self.percentile_ms(50.0),
            self.percentile_ms(99.0),
            self.errors
        );
    }
}

pub fn percentile_ms(latencies: &[Duration], p: f64) -> f64 {
    if latencies.is_empty() {
        return 0.0;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn elapsed_since(start: Instant) -> Duration {
    start.elapsed()
}

pub type SharedStack = Arc<Stack>;
