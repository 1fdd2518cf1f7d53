//! Email against a real SMTP server (aiosmtpd): content in both languages, multipart text + HTML,
//! threading and Auto-Submitted headers, one email for a duplicated event, a retried 451, a permanent
//! 550 recorded as failed and announced as `notification.failed`.
mod common;

use common::{case_changed, customer, feedback_received, fixture};
use serde_json::json;
use testkit::mail::{body_html, body_text, header};
use uuid::Uuid;

#[tokio::test]
async fn customers_get_multipart_mail_in_their_language_threaded_and_marked_automatic() {
    let f = fixture(&[], |_| {}).await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0001",
        customer("Alice Smith", Some("alice@example.com"), None, "en"),
    ))
    .await;
    f.deliver(feedback_received(
        "SH01-20261123-0002",
        customer("张三", Some("zhang@example.com"), None, "zh-CN"),
    ))
    .await;
    f.wait_status("feedback_received", "email", "sent").await;
    let mail = testkit::eventually(std::time::Duration::from_secs(20), "two acknowledgements", || async {
        let m = f.mail.messages();
        (m.len() == 2).then_some(m)
    })
    .await;
    let to = |addr: &str| {
        mail.iter()
            .find(|m| header(m, "To").as_deref() == Some(addr))
            .unwrap()
            .clone()
    };

    let en = to("alice@example.com");
    assert!(header(&en, "Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    assert_eq!(header(&en, "Auto-Submitted").as_deref(), Some("auto-generated"));
    let ack_id = header(&en, "Message-ID").unwrap();
    assert!(ack_id.starts_with("<SH01-20261123-0001.") && ack_id.ends_with("@feedback.example>"));
    let (text, html) = (body_text(&en), body_html(&en).expect("an HTML part"));
    assert!(
        text.starts_with("Dear Alice Smith,") && text.contains("SH01-20261123-0001"),
        "{text}"
    );
    assert!(text.contains("https://feedback.example/s/SH01-20261123-0001?t=secret"));
    assert!(
        html.contains("<!DOCTYPE html>") && html.contains("Dear Alice Smith,") && html.contains("Follow its progress")
    );
    assert!(
        !html.contains("Dear Alice Smith,\n\nThank"),
        "HTML, not the text in disguise"
    );

    let zh = to("zhang@example.com");
    let text = body_text(&zh);
    assert!(
        text.starts_with("张三，您好：") && text.contains("编号为 SH01-20261123-0002"),
        "{text}"
    );
    assert!(body_html(&zh).unwrap().contains("查看处理进度"));
    assert!(header(&zh, "In-Reply-To").is_none());

    // A staff reply (converted <script> stays text) threads under the acknowledgement.
    f.deliver(case_changed(
        Uuid::now_v7(),
        "SH01-20261123-0001",
        "reply",
        json!({"action": "reply", "text": "We are sending a replacement <today>."}),
    ))
    .await;
    f.wait_status("case_reply", "email", "sent").await;
    let reply = f
        .mail
        .messages()
        .into_iter()
        .find(|m| body_text(m).contains("sending a replacement"))
        .unwrap();
    assert_eq!(header(&reply, "In-Reply-To"), Some(ack_id.clone()));
    assert_eq!(header(&reply, "References"), Some(ack_id));
    assert!(body_text(&reply).contains("<today>"));
    assert!(body_html(&reply).unwrap().contains("&lt;today&gt;"));
    f.finish().await;
}

#[tokio::test]
async fn a_duplicated_event_sends_one_email() {
    let f = fixture(&[], |_| {}).await;
    let event = feedback_received(
        "SH01-20261123-0003",
        customer("Bob", Some("bob@example.com"), None, "en"),
    );
    f.deliver(event.clone()).await;
    // The same event again (redelivery), and replayed under a new event id: still one delivery.
    f.deliver(event.clone()).await;
    let mut replay = event.clone();
    replay["id"] = json!(Uuid::now_v7());
    f.deliver(replay).await;
    f.start_senders();
    f.wait_status("feedback_received", "email", "sent").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(f.mail.messages().len(), 1);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM deliveries")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    f.finish().await;
}

#[tokio::test]
async fn a_451_is_retried_and_the_mail_then_goes_once() {
    let f = fixture(&["--fail-first", "1", "--fail-code", "451"], |_| {}).await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0004",
        customer("Carol", Some("carol@example.com"), None, "en"),
    ))
    .await;
    let d = f.wait_status("feedback_received", "email", "sent").await;
    assert_eq!(d["attempts"], 2, "{d}");
    assert_eq!(f.mail.messages().len(), 1);
    assert!(f.failed_events().await.is_empty());
    f.finish().await;
}

#[tokio::test]
async fn a_550_is_recorded_as_failed_and_announced_once() {
    let f = fixture(&["--reject-rcpt", "^bounce@", "--reject-code", "550"], |_| {}).await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0005",
        customer("Dan", Some("bounce@example.com"), None, "en"),
    ))
    .await;
    let d = f.wait_status("feedback_received", "email", "failed").await;
    assert_eq!(d["attempts"], 1, "a permanent failure is not retried: {d}");
    assert!(d["last_error"].as_str().unwrap().contains("550"), "{d}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let events = f.failed_events().await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e["type"].as_str(), e["version"].as_u64(), e["site"].as_str()),
        (Some("notification.failed"), Some(1), Some("sh01"))
    );
    let data = &e["data"];
    assert_eq!(data["delivery_id"], d["id"]);
    assert_eq!(data["case_reference"], "SH01-20261123-0005");
    assert_eq!(data["channel"], "email");
    assert_eq!(data["recipient_kind"], "customer");
    assert_eq!(data["event_type"], "feedback.received");
    assert!(data["error"].as_str().unwrap().contains("550"));
    let masked = data["recipient_masked"].as_str().unwrap();
    assert!(!e.to_string().contains("bounce@"), "no address in clear: {e}");
    assert!(!d["last_error"].as_str().unwrap().contains("bounce@"), "{d}");
    assert_eq!(masked, d["recipient_masked"]);
    assert!(f.mail.messages().is_empty());
    f.finish().await;
}

#[tokio::test]
async fn transient_failures_past_the_last_attempt_fail_and_are_announced() {
    let f = fixture(&["--fail-first", "10"], |s| s.sender.max_attempts = 2).await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0006",
        customer("Eve", Some("eve@example.com"), None, "en"),
    ))
    .await;
    let d = f.wait_status("feedback_received", "email", "failed").await;
    assert_eq!(d["attempts"], 2);
    assert!(d["last_error"].as_str().unwrap().contains("451"), "{d}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(f.failed_events().await.len(), 1);
    f.finish().await;
}

#[tokio::test]
async fn replies_thread_only_under_a_message_that_was_actually_sent() {
    // The first message (the acknowledgement) is refused for good; later ones are accepted.
    let f = fixture(&["--fail-first", "1", "--fail-code", "550"], |_| {}).await;
    f.start_senders();
    let reference = "SH01-20261123-0007";
    f.deliver(feedback_received(
        reference,
        customer("Frank", Some("frank@example.com"), None, "en"),
    ))
    .await;
    f.wait_status("feedback_received", "email", "failed").await;
    let reply = |text: &str, history_id: i64| {
        let mut e = case_changed(
            Uuid::now_v7(),
            reference,
            "reply",
            json!({"action": "reply", "text": text}),
        );
        e["data"]["history_id"] = json!(history_id);
        e
    };
    f.deliver(reply("First answer.", 1)).await;
    let find = |text: &'static str| {
        let f = &f;
        async move {
            testkit::eventually(std::time::Duration::from_secs(20), text, || async {
                f.mail.messages().into_iter().find(|m| body_text(m).contains(text))
            })
            .await
        }
    };
    let first = find("First answer.").await;
    // The failed acknowledgement was never seen by the customer: nothing to thread under.
    assert_eq!(header(&first, "In-Reply-To"), None);
    assert_eq!(header(&first, "References"), None);
    f.deliver(reply("Second answer.", 2)).await;
    let second = find("Second answer.").await;
    let first_id = header(&first, "Message-ID").unwrap();
    assert_eq!(header(&second, "In-Reply-To"), Some(first_id.clone()));
    assert_eq!(header(&second, "References"), Some(first_id));
    f.finish().await;
}

#[tokio::test]
async fn a_reply_queued_behind_the_acknowledgement_waits_for_it_and_threads_under_it() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0008";
    // Both queued before anything is sent (a quick reply while the acknowledgement is still waiting).
    f.deliver(feedback_received(
        reference,
        customer("Grace", Some("grace@example.com"), None, "en"),
    ))
    .await;
    f.deliver(case_changed(
        Uuid::now_v7(),
        reference,
        "reply",
        json!({"action": "reply", "text": "Answer while the acknowledgement waits."}),
    ))
    .await;
    f.start_senders();
    f.wait_status("case_reply", "email", "sent").await;
    let mail = f.mail.messages();
    assert_eq!(mail.len(), 2);
    // In order: the acknowledgement first, the reply threaded under it.
    assert!(body_text(&mail[0]).contains("SH01-20261123-0008") && !body_text(&mail[0]).contains("Answer"));
    assert_eq!(header(&mail[1], "In-Reply-To"), header(&mail[0], "Message-ID"));
    f.finish().await;
}
