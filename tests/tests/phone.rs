//! The phone channel: the CTI webhook (signed, idempotent per call, caller pre-filled) and an agent
//! registering the call as feedback received when the call came in.
mod common;

use common::world;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use testkit::Infra;

const SECRET: &str = "dev-cti-secret-change-me";

fn sign(body: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

#[tokio::test]
async fn a_signed_call_is_recorded_once_prefilled_and_registered_by_an_agent() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let intake = w.stack.url("intake");
    // The caller wrote to us before, by email, with a differently written number.
    let earlier = w
        .post_feedback(&json!({"channel": "email", "site": "sh01", "content": "咨询保修期",
            "customer": {"name": "李雷", "phone": "138-1234-5678", "email": "li.lei@example.com", "language": "zh-CN"}}))
        .await;
    assert_eq!(earlier.status(), 201);
    let earlier: Value = earlier.json().await.unwrap();

    let started = chrono::Utc::now() - chrono::Duration::minutes(3);
    let form = |status: &str, transcription: Option<&str>| {
        let mut pairs = vec![
            ("call_id", "CALL-7781".to_owned()),
            ("caller", "+86 13812345678".to_owned()),
            ("callee", "400-800-1234".to_owned()),
            ("status", status.to_owned()),
            ("timestamp", started.to_rfc3339()),
            ("recording_url", "https://pbx.example/rec/7781.mp3".to_owned()),
        ];
        if let Some(t) = transcription {
            pairs.push(("transcription", t.to_owned()));
        }
        serde_urlencoded::to_string(pairs).unwrap()
    };
    let post = |body: String, signature: String| {
        w.http
            .post(format!("{intake}/api/v1/cti/calls"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-signature", signature)
            .body(body)
            .send()
    };
    // A wrong signature (or a signature with another secret) is refused and records nothing.
    let body = form("ringing", None);
    assert_eq!(
        post(body.clone(), sign(&body, "not-the-secret"))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(post(body.clone(), "sha256=00".into()).await.unwrap().status(), 401);
    assert_eq!(w.count("intake", "SELECT count(*) FROM calls").await, 0);
    // Signed: recorded, and the caller is recognised from the register.
    let r = post(body.clone(), sign(&body, SECRET)).await.unwrap();
    assert_eq!(r.status(), 201);
    let call: Value = r.json().await.unwrap();
    assert_eq!(call["customer"]["name"], "李雷");
    assert_eq!(call["customer"]["last_reference"], earlier["reference"]);
    // The provider's later events for the same call update it; a stale "ringing" cannot undo "completed".
    let done = form("completed", Some("客户反映热水器漏水，要求上门维修"));
    assert_eq!(post(done.clone(), sign(&done, SECRET)).await.unwrap().status(), 200);
    assert_eq!(post(body.clone(), sign(&body, SECRET)).await.unwrap().status(), 200);
    assert_eq!(w.count("intake", "SELECT count(*) FROM calls").await, 1);
    let (status, seen): (String, String) = {
        let pool = w.stack.pool("intake").await.unwrap();
        sqlx::query_as("SELECT status, transcription FROM calls")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(
        (status.as_str(), seen.as_str()),
        ("completed", "客户反映热水器漏水，要求上门维修")
    );
    // A call from the future is refused as a replay.
    let future = form("ringing", None).replace(
        &serde_urlencoded::to_string([("timestamp", started.to_rfc3339())]).unwrap()[10..],
        &serde_urlencoded::to_string([(
            "timestamp",
            (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339(),
        )])
        .unwrap()[10..],
    );
    assert_eq!(post(future.clone(), sign(&future, SECRET)).await.unwrap().status(), 401);

    // The agent registers it; anonymous callers cannot.
    let register = w.http.post(format!("{intake}/api/v1/calls/CALL-7781/register"));
    assert_eq!(register.json(&json!({})).send().await.unwrap().status(), 401);
    let r = w
        .http
        .post(format!("{intake}/api/v1/calls/CALL-7781/register"))
        .bearer_auth(&w.token)
        .json(&json!({"subject": "热水器漏水"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let registered: Value = r.json().await.unwrap();
    let received = chrono::DateTime::parse_from_rfc3339(registered["received_at"].as_str().unwrap()).unwrap();
    assert!(
        (received.with_timezone(&chrono::Utc) - started).num_seconds().abs() <= 1,
        "received when the call came in"
    );
    // Registering again with the same notes answers the same; nothing is registered twice.
    let again = w
        .http
        .post(format!("{intake}/api/v1/calls/CALL-7781/register"))
        .bearer_auth(&w.token)
        .json(&json!({"subject": "热水器漏水"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.json::<Value>().await.unwrap()["reference"],
        registered["reference"]
    );
    let reference = registered["reference"].as_str().unwrap().to_owned();
    let case: Value = w.wait_for_case(&reference).await;
    assert_eq!(case["channel"], "phone");
    assert_eq!(case["content"], "客户反映热水器漏水，要求上门维修");
    // The pre-filled name reached the case; an administrator sees it masked (only roles that need it see it clear).
    assert_eq!(case["customer"]["name"], "李*");
}
