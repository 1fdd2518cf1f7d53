//! SMS adapters against a local HTTP stand-in for the gateway that checks each provider's request
//! format and signature; 429 (with Retry-After) then success; a permanent refusal; quiet hours (with the
//! clock driven by the test); a stalled SMTP server does not hold SMS up.
mod common;

use std::{sync::Arc, time::Duration};

use axum::http::StatusCode;
use chrono::{NaiveTime, Utc};
use common::{customer, feedback_received, fixture, fixture_with_clock, Captured, Gateway, ManualClock};
use notification::{
    quiet_hours::QuietHours,
    settings::{AliyunTemplate, Settings, SmsProviderKind},
    sms::{aliyun, webhook},
};
use serde_json::{json, Value};

const PHONE: &str = "13800000000";

/// Quiet hours that never apply (start = end).
fn never() -> QuietHours {
    let t = NaiveTime::from_hms_opt(0, 0, 0).unwrap();
    QuietHours { start: t, end: t }
}

fn form(c: &Captured) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(&c.body).unwrap()
}

fn param(c: &Captured, name: &str) -> Option<String> {
    form(c).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn header(c: &Captured, name: &str) -> String {
    c.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn twilio_style_requests_are_authenticated_form_posts_and_a_429_waits_for_retry_after() {
    let check = Arc::new(|c: &Captured| {
        (c.method == "POST"
            && c.uri.path() == "/2010-04-01/Accounts/ACtest/Messages.json"
            && header(c, "authorization") == "Basic QUN0ZXN0OnNlY3JldA=="
            && header(c, "content-type") == "application/x-www-form-urlencoded"
            && param(c, "To").as_deref() == Some("+8613800000000")
            && param(c, "From").as_deref() == Some("+15005550006")
            && param(c, "Body").is_some_and(|b| b.contains("SH01-20261123-0101")))
        .then_some(())
        .ok_or_else(|| format!("unexpected request {c:?}"))
    });
    let gw = Gateway::start(
        vec![
            (
                StatusCode::TOO_MANY_REQUESTS,
                vec![("retry-after", "1".into())],
                r#"{"code":20429}"#.into(),
            ),
            (
                StatusCode::CREATED,
                vec![],
                r#"{"sid":"SM42","status":"queued"}"#.into(),
            ),
        ],
        check,
    )
    .await;
    let url = gw.url.clone();
    let f = fixture(&[], move |s: &mut Settings| {
        s.sms.provider = SmsProviderKind::Twilio;
        s.sms.quiet_hours = never();
        s.sms.twilio.base_url = url;
        s.sms.twilio.account_sid = "ACtest".into();
        s.sms.twilio.auth_token = "secret".into();
        s.sms.twilio.from = "+15005550006".into();
    })
    .await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0101",
        customer("张三", None, Some(PHONE), "zh-CN"),
    ))
    .await;
    let d = f.wait_status("feedback_received", "sms", "sent").await;
    assert_eq!(d["provider_message_id"], "SM42");
    assert_eq!(d["attempts"], 2);
    assert_eq!(d["recipient_masked"], telemetry::pii::mask_phone(PHONE));
    let seen = gw.requests();
    assert_eq!(seen.len(), 2, "one 429, one success");
    assert_eq!(
        param(&seen[1], "Body").unwrap(),
        "【客服中心】您的反馈已受理，编号SH01-20261123-0101，我们将尽快与您联系。"
    );
    // Retry-After: 1 s, above the configured back-off (≤ 400 ms here).
    let created = d["created_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let sent = d["sent_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    assert!(
        sent - created >= chrono::Duration::milliseconds(1000),
        "{created} → {sent}"
    );
    f.finish().await;
}

#[tokio::test]
async fn aliyun_style_requests_carry_the_template_code_and_a_valid_signature() {
    let check = Arc::new(|c: &Captured| {
        let params = form(c);
        let signature = params.iter().find(|(k, _)| k == "Signature").map(|(_, v)| v.clone());
        let unsigned: Vec<_> = params.iter().filter(|(k, _)| k != "Signature").cloned().collect();
        // The stub recomputes the signature from what it received, as the gateway does.
        if signature != Some(aliyun::signature("POST", &unsigned, "testSecret")) {
            return Err(r#"{"Code":"SignatureDoesNotMatch"}"#.to_owned());
        }
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let ok = get("Action") == Some("SendSms")
            && get("AccessKeyId") == Some("testId")
            && get("PhoneNumbers") == Some(PHONE)
            && get("SignName") == Some("客服中心")
            && get("TemplateCode") == Some("SMS_100")
            && get("SignatureMethod") == Some("HMAC-SHA1")
            // Only the variables the registered template declares: not the customer's name, not the
            // status link with its token, though both are among the acknowledgement's variables.
            && get("TemplateParam")
                .is_some_and(|p| serde_json::from_str::<Value>(p).unwrap() == json!({"reference": "SH01-20261123-0102"}));
        ok.then_some(())
            .ok_or_else(|| format!("unexpected parameters {params:?}"))
    });
    let gw = Gateway::start(
        vec![(
            StatusCode::OK,
            vec![],
            r#"{"Code":"OK","BizId":"900^1","RequestId":"r"}"#.into(),
        )],
        check,
    )
    .await;
    let url = gw.url.clone();
    let f = fixture(&[], move |s: &mut Settings| {
        s.sms.provider = SmsProviderKind::Aliyun;
        s.sms.quiet_hours = never();
        s.sms.aliyun.endpoint = url;
        s.sms.aliyun.access_key_id = "testId".into();
        s.sms.aliyun.access_key_secret = "testSecret".into();
        s.sms.aliyun.sign_name = "客服中心".into();
        s.sms.aliyun.templates = [(
            "feedback_received".to_owned(),
            AliyunTemplate {
                code: "SMS_100".into(),
                params: vec!["reference".into()],
            },
        )]
        .into();
    })
    .await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0102",
        customer("张三", None, Some(PHONE), "zh-CN"),
    ))
    .await;
    let d = f.wait_status("feedback_received", "sms", "sent").await;
    assert_eq!(d["provider_message_id"], "900^1");
    assert_eq!(gw.requests().len(), 1);
    f.finish().await;
}

#[tokio::test]
async fn webhook_requests_are_signed_and_a_permanent_refusal_fails_and_is_announced() {
    let check = Arc::new(|c: &Captured| {
        let ts: i64 = header(c, "x-timestamp")
            .parse()
            .map_err(|_| "no timestamp".to_owned())?;
        if header(c, "x-signature") != webhook::signature("hook-secret", ts, &c.body) {
            return Err("bad signature".to_owned());
        }
        let body: Value = serde_json::from_slice(&c.body).map_err(|e| e.to_string())?;
        (body["to"].as_str().is_some_and(|t| t.starts_with("13"))
            && body["encoding"] == "ucs2"
            && body["parts"] == 1
            && body["id"] == header(c, "idempotency-key"))
        .then_some(())
        .ok_or_else(|| format!("unexpected body {body}"))
    });
    let gw = Gateway::start(
        vec![
            (StatusCode::OK, vec![], r#"{"id":"w-1"}"#.into()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![],
                r#"{"error":"number not reachable"}"#.into(),
            ),
        ],
        check,
    )
    .await;
    let url = format!("{}/sms", gw.url);
    let f = fixture(&[], move |s: &mut Settings| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.sms.quiet_hours = never();
        s.sms.webhook.url = url;
        s.sms.webhook.secret = "hook-secret".into();
    })
    .await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0103",
        customer("张三", None, Some(PHONE), "zh-CN"),
    ))
    .await;
    let d = f.wait_status("feedback_received", "sms", "sent").await;
    assert_eq!(d["provider_message_id"], "w-1");
    // The second message is refused for good (422): failed after one attempt, and announced.
    f.deliver(feedback_received(
        "SH01-20261123-0104",
        customer("李四", None, Some("13900000000"), "zh-CN"),
    ))
    .await;
    testkit::eventually(Duration::from_secs(20), "the refused SMS failed", || async {
        let failed: Option<Value> = sqlx::query_scalar(
            "SELECT to_jsonb(d) FROM deliveries d WHERE case_reference = 'SH01-20261123-0104' AND status = 'failed'",
        )
        .fetch_optional(&f.pool)
        .await
        .unwrap();
        failed.filter(|d| d["attempts"] == 1 && d["last_error"].as_str().unwrap().contains("422"))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = f.failed_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"]["channel"], "sms");
    assert_eq!(events[0]["data"]["case_reference"], "SH01-20261123-0104");
    assert_eq!(gw.requests().len(), 2);
    f.finish().await;
}

#[tokio::test]
async fn an_sms_inside_quiet_hours_waits_for_the_window_to_close_and_email_does_not() {
    let gw = Gateway::start(
        vec![(StatusCode::OK, vec![], "{}".into())],
        Arc::new(|_: &Captured| Ok(())),
    )
    .await;
    let url = gw.url.clone();
    // A quiet window around the present moment in the site's zone (Asia/Shanghai).
    let now = Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).time();
    let quiet = QuietHours {
        start: now - chrono::Duration::hours(1),
        end: now + chrono::Duration::hours(1),
    };
    let f = fixture(&[], move |s: &mut Settings| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.sms.quiet_hours = quiet;
        s.sms.webhook.url = url;
    })
    .await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0105",
        customer("张三", Some("zhang@example.com"), Some(PHONE), "zh-CN"),
    ))
    .await;
    // The email goes at once ...
    f.wait_status("feedback_received", "email", "sent").await;
    // ... the SMS waits, scheduled for the end of the window, without spending an attempt.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let d = f.delivery("feedback_received", "sms").await.unwrap();
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64()),
        (Some("pending"), Some(0)),
        "{d}"
    );
    assert_eq!(d["quiet_hours_tz"], "Asia/Shanghai");
    let due = d["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    assert!(due > Utc::now() + chrono::Duration::minutes(55), "{due}");
    // Made due by hand (as if queued before the window began), the sender holds it again.
    sqlx::query("UPDATE deliveries SET next_attempt_at = now() WHERE channel = 'sms'")
        .execute(&f.pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let d = f.delivery("feedback_received", "sms").await.unwrap();
    let due = d["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_i64()),
        (Some("pending"), Some(0)),
        "{d}"
    );
    assert!(due > Utc::now() + chrono::Duration::minutes(55), "{due}");
    assert!(gw.requests().is_empty(), "nothing reached the gateway");
    f.finish().await;
}

#[tokio::test]
async fn an_sms_held_at_night_is_sent_when_the_clock_reaches_the_morning() {
    let gw = Gateway::start(
        vec![(StatusCode::OK, vec![], r#"{"id":"w-9"}"#.into())],
        Arc::new(|_: &Captured| Ok(())),
    )
    .await;
    let url = gw.url.clone();
    // 22:30 in Shanghai (default quiet hours 21:00–08:00 at the site).
    let clock = ManualClock::at("2026-11-23T14:30:00Z");
    let f = fixture_with_clock(
        &[],
        move |s: &mut Settings| {
            s.sms.provider = SmsProviderKind::Webhook;
            s.sms.webhook.url = url;
        },
        clock.clone(),
    )
    .await;
    f.start_senders();
    f.deliver(feedback_received(
        "SH01-20261123-0106",
        customer("张三", Some("zhang@example.com"), Some(PHONE), "zh-CN"),
    ))
    .await;
    // The email goes at once; the SMS is queued for 08:00 local (00:00 UTC) and nothing reaches the gateway.
    f.wait_status("feedback_received", "email", "sent").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let d = f.delivery("feedback_received", "sms").await.unwrap();
    assert_eq!(d["status"], "pending", "{d}");
    assert_eq!(
        d["next_attempt_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<Utc>>()
            .unwrap(),
        "2026-11-24T00:00:00Z".parse::<chrono::DateTime<Utc>>().unwrap()
    );
    // 07:59: still night.
    clock.set("2026-11-23T23:59:00Z");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(gw.requests().is_empty(), "nothing sent during quiet hours");
    // 08:00:05: the window has closed; the sender takes it on its next poll.
    clock.set("2026-11-24T00:00:05Z");
    let d = f.wait_status("feedback_received", "sms", "sent").await;
    assert_eq!(
        (d["provider_message_id"].as_str(), d["attempts"].as_i64()),
        (Some("w-9"), Some(1))
    );
    assert_eq!(gw.requests().len(), 1);
    f.finish().await;
}

#[tokio::test]
async fn a_stalled_smtp_server_does_not_hold_up_sms() {
    let gw = Gateway::start(
        vec![(StatusCode::OK, vec![], r#"{"id":"w-10"}"#.into())],
        Arc::new(|_: &Captured| Ok(())),
    )
    .await;
    let url = gw.url.clone();
    // The SMTP server sits on every message for 6 s before answering (below the 10 s SMTP timeout).
    let f = fixture(&["--delay-ms", "6000"], move |s: &mut Settings| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.sms.quiet_hours = never();
        s.sms.webhook.url = url;
    })
    .await;
    f.start_senders();
    let started = std::time::Instant::now();
    f.deliver(feedback_received(
        "SH01-20261123-0107",
        customer("张三", Some("zhang@example.com"), Some(PHONE), "zh-CN"),
    ))
    .await;
    f.wait_status("feedback_received", "sms", "sent").await;
    let sms_after = started.elapsed();
    // The email is still in the SMTP conversation when the SMS has gone.
    let email = f.delivery("feedback_received", "email").await.unwrap();
    assert_eq!(email["status"], "sending", "{email}");
    assert!(sms_after < Duration::from_secs(4), "SMS waited {sms_after:?}");
    f.wait_status("feedback_received", "email", "sent").await;
    assert!(started.elapsed() >= Duration::from_secs(6));
    f.finish().await;
}
