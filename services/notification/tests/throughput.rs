//! A quick look at the email sender's throughput into the local SMTP catcher, outside `make bench`
//! (which measures the release service in the full stack): `cargo test -p notification --test
//! throughput -- --ignored --nocapture`.
mod common;

use std::time::Instant;

use common::fixture;

#[tokio::test]
#[ignore = "a measurement, not a check; run explicitly"]
async fn emails_per_second_into_the_local_smtp_server() {
    let n: i64 = std::env::var("EMAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let f = fixture(&[], |_| {}).await;
    let text =
        "张三，您好：\n\n感谢您的反馈，我们已经收到并登记，编号为 SH01-20261123-0001。\n\n客户服务中心".repeat(4);
    sqlx::query(
        "INSERT INTO deliveries (id, event_id, event_type, site, case_reference, recipient, recipient_masked, channel,
            template, language, subject, body_text, body_html, message_id, dedup_key, recipient_kind)
         SELECT gen_random_uuid(), gen_random_uuid(), 'bench', 'sh01', 'R-' || i, 'c' || i || '@example.com',
                'c***@example.com', 'email', 'feedback_received', 'zh-CN', '[R] 我们已收到您的反馈', $1,
                '<p>' || $1 || '</p>', '<R.' || i || '@feedback.example>', 'bench:' || i, 'customer'
           FROM generate_series(1, $2) AS i",
    )
    .bind(&text)
    .bind(n)
    .execute(&f.pool)
    .await
    .unwrap();
    let start = Instant::now();
    f.start_senders();
    testkit::eventually(std::time::Duration::from_secs(600), "every email sent", || async {
        let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE status = 'sent'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
        (sent == n).then_some(())
    })
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    eprintln!("{n} emails in {elapsed:.2} s = {:.0}/s", n as f64 / elapsed);
    assert_eq!(f.mail.messages().len() as i64, n);
    f.finish().await;
}
