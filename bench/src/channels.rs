//! The other ways feedback arrives: the public web form (multipart, as a browser posts it) and email
//! from an IMAP mailbox (dovecot, loaded with N messages that arrive at once).
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::json;
use testkit::imap::Dovecot;

use crate::{Figures, Sample, SharedStack};

static SEQ: AtomicUsize = AtomicUsize::new(1);

/// What a browser sends for a filled-in form (no file chosen). A distinct phone per submission, so
/// triage opens a case for each (the same customer and problem would be linked as a duplicate).
fn form(n: usize) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("lang", "zh-CN")
        .text("site", if n.is_multiple_of(2) { "sh01" } else { "bj01" })
        .text("website", "")
        .text("name", "赵六")
        .text("phone", format!("137{:08}", n % 100_000_000))
        .text("email", "")
        .text("feedback_type", "")
        .text(
            "description",
            format!("网页表单第{n}条：收到的产品包装破损，请尽快处理。"),
        )
        .text("product_code", "P-300")
        .text("batch", format!("W{n}"))
        .text("order_number", "")
        .text("claim_amount", "")
        .text("return_quantity", "")
}

/// `concurrency` browsers posting the form back to back; accepted (201) per second.
pub async fn web_form(stack: &SharedStack, concurrency: usize, total: usize) -> anyhow::Result<Sample> {
    let url = format!("{}/feedback", stack.url("intake"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
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
                    let t = Instant::now();
                    let form = form(SEQ.fetch_add(1, Ordering::Relaxed));
                    match http.post(&url).multipart(form).send().await {
                        Ok(r) if r.status() == 201 => {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        _ => errors += 1,
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

fn email(n: usize) -> String {
    format!(
        "From: Customer {n} <customer{n}@bench.example>\r\nTo: care@feedback.example\r\nSubject: Damaged delivery {n}\r\n\
         Message-ID: <bench-{n}@bench.example>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0800\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nOrder {n} arrived with a crushed carton; two bottles leaked.\r\n"
    )
}

/// The settings intake needs to poll `imap` (`APP__EMAIL__…`).
pub fn email_env(imap: &Dovecot) -> Vec<(String, String)> {
    vec![
        ("APP__EMAIL__ENABLED".into(), "true".into()),
        (
            "APP__EMAIL__MAILBOXES_JSON".into(),
            imap.mailbox_json("bench", "sh01", 5),
        ),
    ]
}

/// `n` messages are loaded into a staging folder, then moved into the watched INBOX in one command;
/// ingested per second = n ÷ time from the move until intake has recorded all n (each one committed
/// with its feedback and event, and marked `\Seen`).
pub async fn email_ingest(stack: &SharedStack, imap: &Dovecot, n: usize, f: &mut Figures) -> anyhow::Result<()> {
    let messages: Vec<String> = (0..n).map(email).collect();
    imap.append_all_to("Staging", &messages).await?;
    let pool = stack.pool("intake").await?;
    let start = Instant::now();
    imap.move_all("Staging", "INBOX").await?;
    let deadline = start + Duration::from_secs(600);
    loop {
        let done: i64 = sqlx::query_scalar("SELECT count(*) FROM email_messages WHERE mailbox = 'bench'")
            .fetch_one(&pool)
            .await?;
        if done as usize >= n {
            break;
        }
        if Instant::now() > deadline {
            anyhow::bail!("only {done} of {n} emails ingested in 600 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = start.elapsed();
    let registered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM email_messages WHERE mailbox = 'bench' AND outcome = 'registered'")
            .fetch_one(&pool)
            .await?;
    pool.close().await;
    let rate = n as f64 / elapsed.as_secs_f64();
    eprintln!(
        "  email: {n} messages ingested in {:.2} s = {rate:.0}/s ({registered} registered)",
        elapsed.as_secs_f64()
    );
    f.insert("email_ingested_per_s".into(), json!(rate.round()));
    f.insert("email_messages".into(), json!(n));
    f.insert("email_registered".into(), json!(registered));
    Ok(())
}
