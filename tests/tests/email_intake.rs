//! The email channel against a real IMAP server (dovecot, one per test): new mail becomes feedback
//! with its attachment; a reply threads onto the case (and reopens it); auto-replies and bounces open
//! nothing; a crash after the commit and before `\Seen` registers nothing twice; raw MIME posted to
//! the signed webhook goes through the same pipeline and dedup.
mod common;

use std::time::Duration;

use common::{world, World};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use testkit::{eventually, imap::Dovecot, mail::header, Infra};

const WEBHOOK_SECRET: &str = "dev-email-webhook-secret-change-me";
/// A PNG as far as anyone judging by the first bytes can tell.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn plain(from: &str, subject: &str, id: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: care@feedback.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0800\r\nMIME-Version: 1.0\r\n{extra_headers}\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

fn with_attachment(from: &str, subject: &str, id: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: care@feedback.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n--XYZ\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><p>{body}</p></body></html>\r\n--XYZ\r\nContent-Type: image/png; name=\"box.png\"\r\n\
         Content-Disposition: attachment; filename=\"box.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--XYZ--\r\n",
        b64(PNG)
    )
}

async fn email_world(imap: &Dovecot, extra: &[(&str, &str)]) -> World {
    let infra = Infra::from_env();
    let mut env = vec![
        ("APP__EMAIL__ENABLED".to_owned(), "true".to_owned()),
        (
            "APP__EMAIL__MAILBOXES_JSON".to_owned(),
            imap.mailbox_json("care", "sh01", 2),
        ),
        ("APP__EMAIL__RETRY_BASE_MS".to_owned(), "200".to_owned()),
        (
            "APP__ATTACHMENTS__DIR".to_owned(),
            std::env::temp_dir()
                .join(format!("email-att-{}", testkit::unique()))
                .display()
                .to_string(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    world(&infra.amqp_url, infra.rabbit_node.clone(), env).await
}

async fn feedback_ref(w: &World, message_id: &str) -> String {
    eventually(Duration::from_secs(30), "the email in the register", || async {
        let pool = w.stack.pool("intake").await.unwrap();
        let r: Option<Option<String>> =
            sqlx::query_scalar("SELECT reference FROM email_messages WHERE mailbox = 'care' AND message_key = $1")
                .bind(message_id)
                .fetch_optional(&pool)
                .await
                .unwrap();
        pool.close().await;
        r.flatten()
    })
    .await
}

async fn outcome_of(w: &World, message_id: &str) -> (String, Option<String>) {
    eventually(Duration::from_secs(30), "the email's outcome", || async {
        let pool = w.stack.pool("intake").await.unwrap();
        let r: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT outcome, reason FROM email_messages WHERE message_key = $1")
                .bind(message_id)
                .fetch_optional(&pool)
                .await
                .unwrap();
        pool.close().await;
        r
    })
    .await
}

#[tokio::test]
async fn new_mail_becomes_feedback_replies_thread_onto_the_case_and_automatic_mail_opens_nothing() {
    let imap = Dovecot::start().await.expect("dovecot starts");
    // Small enough that one test message is too large to take.
    let w = email_world(&imap, &[("APP__EMAIL__MAX_MESSAGE_BYTES", "20000")]).await;

    // New mail, HTML with a photo: feedback with its attachment, a case, an acknowledgement.
    let customer = "Wang Wu <Wang.Wu@Example.com>";
    imap.append(
        with_attachment(
            customer,
            "Crushed carton",
            "new-1@example.com",
            "The carton arrived <b>crushed</b>.",
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let reference = feedback_ref(&w, "new-1@example.com").await;
    let (channel, email, content): (String, String, String) = {
        let pool = w.stack.pool("intake").await.unwrap();
        let r = sqlx::query_as("SELECT channel, customer_email, content FROM feedback WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        r
    };
    assert_eq!((channel.as_str(), email.as_str()), ("email", "wang.wu@example.com"));
    assert!(
        content.contains("The carton arrived crushed.") && !content.contains("<b>"),
        "{content}"
    );
    let attachments = w
        .count(
            "intake",
            &format!(
                "SELECT count(*) FROM attachments a JOIN feedback f ON f.id = a.feedback_id
                  WHERE f.reference = '{reference}' AND a.content_type = 'image/png' AND a.file_name = 'box.png'"
            ),
        )
        .await;
    assert_eq!(attachments, 1, "the photo is registered with the feedback");
    let case = w.wait_for_case(&reference).await;
    assert_eq!(case["channel"], "email");
    // Marked only after it was committed.
    eventually(Duration::from_secs(10), "the message marked seen", || async {
        (imap.seen_of_total().await.unwrap() == (1, 1)).then_some(())
    })
    .await;

    // The acknowledgement carries our Message-ID; the customer answers it. Meanwhile staff resolved the case.
    let ack = eventually(Duration::from_secs(20), "the acknowledgement", || async {
        w.mail
            .messages()
            .into_iter()
            .find(|m| header(m, "To").as_deref() == Some("wang.wu@example.com"))
    })
    .await;
    let ack_id = header(&ack, "Message-ID").unwrap();
    assert!(ack_id.starts_with(&format!("<{reference}.")), "{ack_id}");
    let triage = w.stack.url("triage");
    for (action, body) in [
        ("assign", json!({"assignee": "admin"})),
        ("acknowledge", json!({})),
        ("resolve", json!({"summary": "Replacement sent."})),
    ] {
        let r = w
            .http
            .post(format!("{triage}/api/v1/cases/{reference}/{action}"))
            .bearer_auth(&w.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{action}: {}", r.text().await.unwrap_or_default());
    }
    let reply = plain(
        customer,
        "Re: your feedback",
        "reply-1@example.com",
        &format!("In-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\n"),
        "The replacement is broken too.",
    );
    // Automatic mail around it: an out-of-office naming the case, a bounce, and our own notification.
    let auto_reply = plain(
        customer,
        &format!("Automatic reply: {reference}"),
        "ooo-1@example.com",
        "Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n",
        "I am out of the office.",
    );
    let bounce = String::from(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nTo: care@feedback.example\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@mx.example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n--R\r\n\
         Content-Type: text/plain\r\n\r\nThe mail to x@nowhere.example could not be delivered.\r\n--R--\r\n",
    );
    let ours = plain(
        "Customer Care <care@feedback.example>",
        &format!("[{reference}] received"),
        &format!("{reference}.0193-loop@feedback.example"),
        "Auto-Submitted: auto-generated\r\n",
        "Looped back.",
    );
    let by_subject = plain(
        customer,
        &format!("About {reference}: one more photo"),
        "subject-1@example.com",
        "",
        "See the second box.",
    );
    let huge = plain(
        customer,
        "Huge",
        "huge-1@example.com",
        "",
        &format!("{}\r\n", "x".repeat(70)).repeat(430),
    );
    imap.append_all(&[&reply, &auto_reply, &bounce, &ours, &by_subject, &huge])
        .await
        .unwrap();

    assert_eq!(outcome_of(&w, "reply-1@example.com").await, ("followup".into(), None));
    assert_eq!(outcome_of(&w, "subject-1@example.com").await, ("followup".into(), None));
    assert_eq!(
        outcome_of(&w, "ooo-1@example.com").await,
        ("ignored".into(), Some("auto_reply".into()))
    );
    assert_eq!(
        outcome_of(&w, "bounce-1@mx.example.com").await,
        ("ignored".into(), Some("bounce".into()))
    );
    assert_eq!(
        outcome_of(&w, &format!("{reference}.0193-loop@feedback.example")).await,
        ("ignored".into(), Some("own_message".into()))
    );
    // Too large: never fetched whole, recorded by its place on the server, marked all the same.
    eventually(Duration::from_secs(30), "the huge message rejected", || async {
        let n = w
            .count(
                "intake",
                "SELECT count(*) FROM email_messages WHERE outcome = 'rejected' AND reason = 'too_large'
                   AND message_key LIKE 'imap:%'",
            )
            .await;
        (n == 1).then_some(())
    })
    .await;
    eventually(Duration::from_secs(10), "every message marked seen", || async {
        (imap.seen_of_total().await.unwrap() == (7, 7)).then_some(())
    })
    .await;
    // One feedback, two follow-ups, nothing opened by the automatic mail.
    assert_eq!(w.count("intake", "SELECT count(*) FROM feedback").await, 1);
    assert_eq!(w.count("intake", "SELECT count(*) FROM followups").await, 2);

    // Triage put the follow-ups on the case and reopened it.
    let case: Value = eventually(Duration::from_secs(20), "the case reopened by the reply", || async {
        let case: Value = w
            .get("triage", &format!("/api/v1/cases/{reference}"))
            .await
            .json()
            .await
            .ok()?;
        (case["status"] == "reopened").then_some(case)
    })
    .await;
    let history = case["history"].as_array().cloned().unwrap_or_default();
    let followups: Vec<&Value> = history.iter().filter(|h| h["action"] == "customer_followup").collect();
    assert!(!followups.is_empty(), "history: {history:?}");
    assert!(
        followups
            .iter()
            .any(|h| h["detail"]["text"].as_str().unwrap_or("").contains("broken too")),
        "{followups:?}"
    );
    assert_eq!(
        w.count("triage", "SELECT count(*) FROM cases").await,
        1,
        "automatic mail and replies opened no case"
    );
    assert_eq!(
        w.count(
            "triage",
            "SELECT count(*) FROM case_history WHERE action = 'customer_followup'"
        )
        .await,
        2
    );
    // The poller, waiting in IDLE, lets intake stop promptly and cleanly.
    let mut w = w;
    let started = std::time::Instant::now();
    w.stack.terminate("intake").expect("intake stops on SIGTERM");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_crash_after_commit_but_before_marking_seen_registers_nothing_twice() {
    let imap = Dovecot::start().await.expect("dovecot starts");
    let marker = std::env::temp_dir().join(format!("email-crash-{}", testkit::unique()));
    let marker_s = marker.display().to_string();
    let mut w = email_world(&imap, &[("APP__EMAIL__FAIL_AFTER_COMMIT_MARKER", &marker_s)]).await;
    let messages = [
        plain(
            "a@customer.example",
            "First",
            "crash-1@customer.example",
            "",
            "The lid is cracked.",
        ),
        plain(
            "b@customer.example",
            "Second",
            "crash-2@customer.example",
            "",
            "The label is missing.",
        ),
    ];
    imap.append_all(&messages).await.unwrap();

    // Intake committed and died before setting \Seen.
    eventually(Duration::from_secs(30), "the injected crash", || async {
        marker.exists().then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let registered = w.count("intake", "SELECT count(*) FROM feedback").await;
    assert!(registered >= 1, "committed before the crash");
    assert_eq!(
        imap.seen_of_total().await.unwrap().0,
        0,
        "nothing marked before the crash"
    );

    // Restarted, it finds the committed messages, marks them, and registers each exactly once.
    w.stack.kill("intake");
    w.stack.restart("intake").await.unwrap();
    eventually(Duration::from_secs(30), "both messages marked seen", || async {
        (imap.seen_of_total().await.unwrap() == (2, 2)).then_some(())
    })
    .await;
    assert_eq!(w.count("intake", "SELECT count(*) FROM feedback").await, 2);
    assert_eq!(w.count("intake", "SELECT count(*) FROM email_messages").await, 2);
    eventually(Duration::from_secs(30), "two cases", || async {
        let n = w.count("triage", "SELECT count(*) FROM cases").await;
        (n == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        w.count("triage", "SELECT count(*) FROM cases").await,
        2,
        "one case per email"
    );
    let _ = std::fs::remove_file(marker);
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!(
        "sha256={}",
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

#[tokio::test]
async fn raw_mime_posted_to_the_signed_webhook_is_registered_once() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let url = format!("{}/api/v1/email/inbound", w.stack.url("intake"));
    let raw = plain(
        "李雷 <li.lei@example.com>",
        "包装破损",
        "hook-1@example.com",
        "",
        "收到的产品包装破损，请处理。",
    );
    let post = |body: Vec<u8>, content_type: &'static str, signature: String| {
        w.http
            .post(&url)
            .header("content-type", content_type)
            .header("x-signature", signature)
            .body(body)
            .send()
    };
    let r = post(raw.clone().into_bytes(), "message/rfc822", "sha256=00".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let r = post(raw.clone().into_bytes(), "message/rfc822", sign(raw.as_bytes()))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["outcome"], "registered");
    let reference = first["reference"].as_str().unwrap().to_owned();
    let case = w.wait_for_case(&reference).await;
    assert_eq!(case["channel"], "email");

    // The same message again, as JSON: recognised by its Message-ID.
    let json_body = serde_json::to_vec(&json!({"mailbox": "webhook", "raw_base64": b64(raw.as_bytes())})).unwrap();
    let r = post(json_body.clone(), "application/json", sign(&json_body))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["outcome"], "already_processed");

    // An auto-reply opens nothing; garbage is recorded as rejected.
    let ooo = plain(
        "li.lei@example.com",
        "Out of office",
        "hook-2@example.com",
        "Precedence: auto_reply\r\n",
        "Away.",
    );
    let r = post(ooo.clone().into_bytes(), "message/rfc822", sign(ooo.as_bytes()))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["reason"], "auto_reply");
    let garbage = b"\x00\x01\x02 not mail".to_vec();
    let r = post(garbage.clone(), "message/rfc822", sign(&garbage)).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["outcome"], "rejected");
    assert_eq!(w.count("intake", "SELECT count(*) FROM feedback").await, 1);
}
