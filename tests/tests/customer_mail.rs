//! What the customer receives: the acknowledgement at once, in their language, with the status link;
//! a staff reply threaded under it.
mod common;

use std::time::Duration;

use common::world;
use serde_json::{json, Value};
use testkit::{eventually, mail::header, Infra};

#[tokio::test]
async fn the_customer_is_acknowledged_in_their_language_and_replies_thread_under_it() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let r = w
        .post_feedback(
            &json!({"channel": "api", "site": "sh01", "content": "The carton arrived crushed.",
            "customer": {"name": "Alice Smith", "email": "alice@example.com", "language": "en"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let registered: Value = r.json().await.unwrap();
    let reference = registered["reference"].as_str().unwrap().to_owned();
    let ack = eventually(Duration::from_secs(20), "the acknowledgement", || async {
        w.mail
            .messages()
            .into_iter()
            .find(|m| header(m, "To").as_deref() == Some("alice@example.com"))
    })
    .await;
    let subject = header(&ack, "Subject").unwrap();
    assert!(
        subject.contains(&reference) && subject.contains("received"),
        "{subject}"
    );
    let text = testkit::mail::body_text(&ack);
    assert!(text.contains("Dear Alice Smith"), "{text}");
    assert!(
        text.contains(registered["status_url"].as_str().unwrap()),
        "the status link: {text}"
    );
    assert_eq!(header(&ack, "Auto-Submitted").as_deref(), Some("auto-generated"));
    let ack_id = header(&ack, "Message-ID").unwrap();

    // Staff answer the customer from the case; the answer goes out threaded under the acknowledgement.
    w.wait_for_case(&reference).await;
    let r = w
        .http
        .post(format!("{}/api/v1/cases/{reference}/reply", w.stack.url("triage")))
        .bearer_auth(&w.token)
        .json(&json!({"text": "We are sending a replacement today."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let reply = eventually(Duration::from_secs(20), "the reply", || async {
        w.mail
            .messages()
            .into_iter()
            .find(|m| m.contains("sending a replacement"))
    })
    .await;
    assert_eq!(header(&reply, "To").as_deref(), Some("alice@example.com"));
    assert_eq!(header(&reply, "In-Reply-To"), Some(ack_id.clone()));
    assert_eq!(header(&reply, "References"), Some(ack_id));
    assert!(header(&reply, "Subject").unwrap().contains(&reference));
}
