//! Notification figures: emails per second sustained into the local SMTP server (the aiosmtpd catcher,
//! which writes and fsyncs every message), and the pipeline's throughput while a mail backlog drains
//! (the senders share notification's database with its event handler).
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{load, Figures, SharedStack};

/// Queues `n` emails as notification's handler would (rendered text + HTML, one row each) under
/// `tag`, in one statement, and returns when they are committed.
async fn queue_emails(stack: &SharedStack, tag: &str, n: usize) -> anyhow::Result<()> {
    let pool = stack.pool("notification").await?;
    // A realistic acknowledgement: ~600 bytes of text, ~2 KB of HTML, Chinese text (base64/QP encoded).
    let text = "张三，您好：\n\n感谢您的反馈，我们已经收到并登记，编号为 SH01-20261123-0001。相关部门将尽快处理并与您联系。\n\n\
                您可以随时查看处理进度：https://feedback.example/s/SH01-20261123-0001?t=0123456789abcdef\n\n客户服务中心"
        .repeat(2);
    let html = format!(
        "<!DOCTYPE html><html><body><div>{}</div></body></html>",
        text.replace('\n', "<br>\n")
    )
    .repeat(3);
    sqlx::query(
        "INSERT INTO deliveries (id, event_id, event_type, site, case_reference, recipient, recipient_masked, channel,
            template, language, subject, body_text, body_html, message_id, dedup_key, recipient_kind)
         SELECT gen_random_uuid(), gen_random_uuid(), 'bench', 'sh01', $1 || '-' || i, 'bench' || i || '@example.com',
                'b***@example.com', 'email', 'feedback_received', 'zh-CN', '[SH01-20261123-0001] 我们已收到您的反馈',
                $2, $3, '<' || $1 || '.' || i || '@feedback.example>', $1 || ':' || i, 'customer'
           FROM generate_series(1, $4) AS i",
    )
    .bind(tag)
    .bind(&text)
    .bind(&html)
    .bind(n as i64)
    .execute(&pool)
    .await?;
    pool.close().await;
    Ok(())
}

async fn sent(stack: &SharedStack, tag: &str) -> anyhow::Result<i64> {
    let pool = stack.pool("notification").await?;
    let n = sqlx::query_scalar(
        "SELECT count(*) FROM deliveries WHERE event_type = 'bench' AND case_reference LIKE $1 || '-%' AND status = 'sent'",
    )
    .bind(tag)
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(n)
}

/// The bench rows leave the delivery log, so the pipeline's drain checks (one delivery per case) hold.
async fn forget(stack: &SharedStack) -> anyhow::Result<()> {
    let pool = stack.pool("notification").await?;
    sqlx::query("DELETE FROM deliveries WHERE event_type = 'bench'")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(())
}

async fn wait_sent(stack: &SharedStack, tag: &str, n: usize, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while (sent(stack, tag).await? as usize) < n {
        if Instant::now() > deadline {
            anyhow::bail!("only {} of {n} bench emails sent", sent(stack, tag).await?);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Waits until notification has no email left to send (the pipeline's own mail, queued but not sent yet,
/// would otherwise be measured as part of the bench's).
async fn wait_mail_idle(stack: &SharedStack, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let pool = stack.pool("notification").await?;
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM deliveries WHERE channel = 'email' AND status IN ('pending', 'sending')",
        )
        .fetch_one(&pool)
        .await?;
        pool.close().await;
        if waiting == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("{waiting} emails still waiting to be sent");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `notification_emails_per_s`: `n` emails queued at once into an idle sender; n ÷ time until the service's
/// email sender has had every one accepted by the SMTP server (`sender.concurrency` connections).
pub async fn email_throughput(stack: &SharedStack, n: usize, f: &mut Figures) -> anyhow::Result<()> {
    wait_mail_idle(stack, Duration::from_secs(1200)).await?;
    let start = Instant::now();
    queue_emails(stack, "bench-mail", n).await?;
    wait_sent(stack, "bench-mail", n, Duration::from_secs(600)).await?;
    let elapsed = start.elapsed();
    let rate = n as f64 / elapsed.as_secs_f64();
    eprintln!(
        "  notification: {n} emails sent in {:.2} s = {rate:.0}/s",
        elapsed.as_secs_f64()
    );
    f.insert("notification_emails_per_s".into(), json!(rate.round()));
    f.insert("notification_emails".into(), json!(n));
    forget(stack).await
}

/// `pipeline_with_mail_backlog_cases_per_s`: as `pipeline_cases_per_s`, while a backlog of `backlog` emails
/// is being sent; `ratio_pipeline_with_mail_backlog` compares it with the run's figure without one.
pub async fn pipeline_with_mail_backlog(
    stack: &SharedStack,
    cases: usize,
    backlog: usize,
    f: &mut Figures,
) -> anyhow::Result<()> {
    load::wait_drained(stack, Duration::from_secs(300)).await?;
    queue_emails(stack, "bench-backlog", backlog).await?;
    let start = Instant::now();
    let sample = load::closed_loop(stack, 32, cases).await?;
    // Drained: every registered feedback has its case and its (queued) department email.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let pool_i = stack.pool("intake").await?;
        let pool_t = stack.pool("triage").await?;
        let pool_n = stack.pool("notification").await?;
        let registered: i64 = sqlx::query_scalar("SELECT count(*) FROM feedback")
            .fetch_one(&pool_i)
            .await?;
        let opened: i64 = sqlx::query_scalar("SELECT count(*) FROM cases")
            .fetch_one(&pool_t)
            .await?;
        let told: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM deliveries WHERE event_type = 'case.opened' AND recipient_kind = 'department'",
        )
        .fetch_one(&pool_n)
        .await?;
        for p in [pool_i, pool_t, pool_n] {
            p.close().await;
        }
        if opened == registered && told == registered {
            break;
        }
        if Instant::now() > deadline {
            anyhow::bail!("pipeline not drained under mail load: {registered} registered, {opened} cases, {told} told");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = start.elapsed();
    let rate = sample.ok as f64 / elapsed.as_secs_f64();
    let mail_sent = sent(stack, "bench-backlog").await?;
    eprintln!(
        "  pipeline with a mail backlog: {} cases in {:.2} s = {rate:.0} cases/s ({mail_sent} of {backlog} emails sent meanwhile)",
        sample.ok,
        elapsed.as_secs_f64()
    );
    f.insert("pipeline_with_mail_backlog_cases_per_s".into(), json!(rate.round()));
    f.insert("pipeline_with_mail_backlog_emails_sent".into(), json!(mail_sent));
    if let Some(without) = f
        .get("pipeline_cases_per_s")
        .and_then(|v| v.as_f64())
        .filter(|v| *v > 0.0)
    {
        f.insert(
            "ratio_pipeline_with_mail_backlog".into(),
            json!((rate / without * 100.0).round() / 100.0),
        );
    }
    wait_sent(stack, "bench-backlog", backlog, Duration::from_secs(600)).await?;
    forget(stack).await
}
