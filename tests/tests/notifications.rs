//! Notification across services: a bounced email reaches the case history through
//! `notification.failed`; a deadline extension reaches the customer with its reason and new date, as
//! text and HTML; the template preview answers staff only.
mod common;

use std::time::Duration;

use common::{admin_token, World};
use serde_json::{json, Value};
use testkit::{
    eventually,
    mail::{body_html, body_text, header, MailCatcher},
    services::{Stack, StackOptions},
    Infra,
};

/// The world of `common::world`, with a mail server that refuses some recipients.
async fn world_with_mail(flags: &[&str]) -> World {
    let infra = Infra::from_env();
    let mail = MailCatcher::start(flags).expect("mail catcher");
    let stack = Stack::start(
        &infra,
        StackOptions {
            amqp_url: infra.amqp_url.clone(),
            rabbit_node: infra.rabbit_node.clone(),
            smtp_port: mail.port,
            sites: vec!["sh01".into(), "bj01".into()],
            env: vec![
                ("APP__SENDER__RETRY_BASE_MS".into(), "100".into()),
                ("APP__SENDER__RETRY_MAX_MS".into(), "500".into()),
            ],
        },
    )
    .await
    .expect("the five services start");
    World {
        stack,
        mail,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        token: admin_token(),
    }
}

#[tokio::test]
async fn a_bounced_acknowledgement_is_recorded_and_shows_in_the_case_history() {
    let w = world_with_mail(&["--reject-rcpt", "^bounce@", "--reject-code", "550"]).await;
    let r = w
        .post_feedback(
            &json!({"channel": "api", "site": "sh01", "content": "The carton arrived crushed.",
            "customer": {"name": "Dan", "email": "bounce@example.com", "language": "en"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let log: Value = eventually(Duration::from_secs(20), "the failed delivery in the log", || async {
        let v: Value = w
            .get("notification", &format!("/api/v1/notifications?reference={reference}"))
            .await
            .json()
            .await
            .ok()?;
        v.as_array()?.iter().find(|d| d["status"] == "failed").cloned()
    })
    .await;
    assert!(log["last_error"].as_str().unwrap().contains("550"), "{log}");
    let entry: Value = eventually(
        Duration::from_secs(20),
        "notification_failed in the history",
        || async {
            let case: Value = w
                .get("triage", &format!("/api/v1/cases/{reference}"))
                .await
                .json()
                .await
                .ok()?;
            case["history"]
                .as_array()?
                .iter()
                .find(|h| h["action"] == "notification_failed")
                .cloned()
        },
    )
    .await;
    assert_eq!(entry["actor"], "notification");
    assert_eq!(entry["detail"]["channel"], "email");
    assert_eq!(entry["detail"]["recipient_kind"], "customer");
    assert_eq!(entry["detail"]["delivery_id"], log["id"]);
    assert!(entry["detail"]["error"].as_str().unwrap().contains("550"));
    assert!(!entry.to_string().contains("bounce@"), "no address in clear: {entry}");
    // The status did not change because of it.
    let case: Value = w
        .get("triage", &format!("/api/v1/cases/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["status"], "new");
}

#[tokio::test]
async fn a_deadline_extension_reaches_the_customer_with_its_reason_and_new_date() {
    let w = world_with_mail(&[]).await;
    let r = w
        .post_feedback(
            &json!({"channel": "api", "site": "sh01", "content": "包装破损，产品有缺陷",
            "customer": {"name": "张三", "email": "zhang@example.com", "language": "zh-CN"}}),
        )
        .await;
    let reference = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    w.wait_for_clock(&reference, "first_reply").await;
    // A new due date a month ahead (10:00 UTC is 18:00 in Shanghai, the site's zone).
    let new_due = (chrono::Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc();
    let shown = format!("{} 18:00", new_due.date_naive());
    let r = w
        .http
        .post(format!(
            "{}/api/v1/cases/{reference}/extend_deadline",
            w.stack.url("triage")
        ))
        .bearer_auth(&w.token)
        .json(&json!({"clock": "first_reply", "new_due": new_due, "reason": "等待供应商检测报告"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let mail = eventually(Duration::from_secs(20), "the extension email", || async {
        w.mail
            .messages()
            .into_iter()
            .find(|m| body_text(m).contains("等待供应商检测报告"))
    })
    .await;
    assert_eq!(header(&mail, "To").as_deref(), Some("zhang@example.com"));
    let text = body_text(&mail);
    assert!(text.contains(&format!("新的答复日期：{shown}")), "{text}");
    let html = body_html(&mail).expect("an HTML part");
    assert!(html.contains("等待供应商检测报告") && html.contains(&shown), "{html}");
    assert!(
        header(&mail, "In-Reply-To").is_some(),
        "threaded under the acknowledgement"
    );
}

#[tokio::test]
async fn staff_preview_templates_in_both_languages_and_channels() {
    let infra = Infra::from_env();
    let w = common::world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let url = w.stack.url("notification");
    assert_eq!(
        w.http
            .get(format!("{url}/api/v1/templates"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let list: Value = w.get("notification", "/api/v1/templates").await.json().await.unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in [
        "feedback_received",
        "case_reply",
        "deadline_extended",
        "deadline_escalated",
        "claim_approval",
    ] {
        assert!(names.contains(&t), "{t} in {names:?}");
    }
    let preview = |name: &str, body: Value| {
        w.http
            .post(format!("{url}/api/v1/templates/{name}/preview"))
            .bearer_auth(&w.token)
            .json(&body)
            .send()
    };
    let en: Value = preview(
        "feedback_received",
        json!({"language": "en", "data": {"name": "Alice <b>"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(en["subject"]
        .as_str()
        .unwrap()
        .contains("We have received your feedback"));
    assert!(en["text"].as_str().unwrap().starts_with("Dear Alice <b>,"));
    assert!(en["html"].as_str().unwrap().contains("Dear Alice &lt;b&gt;,"));
    let sms: Value = preview("feedback_received", json!({"language": "zh-CN", "channel": "sms"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (sms["sms_encoding"].as_str(), sms["sms_parts"].as_u64()),
        (Some("ucs2"), Some(1))
    );
    assert_eq!(preview("nope", json!({})).await.unwrap().status(), 404);
    assert_eq!(
        preview("case_reply", json!({"channel": "fax"})).await.unwrap().status(),
        422
    );
}
