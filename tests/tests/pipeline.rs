//! The walking skeleton, end to end: HTTP → intake's database and outbox → RabbitMQ → triage →
//! notification (SMTP), reporting and scheduler.
mod common;

use std::time::Duration;

use common::{complaint, world};
use serde_json::{json, Value};
use testkit::{eventually, mail::header, Infra};

#[tokio::test]
async fn feedback_becomes_a_routed_case_an_email_a_count_and_a_deadline() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;

    let response = w.post_feedback(&complaint(1)).await;
    assert_eq!(response.status(), 201);
    let registered: Value = response.json().await.unwrap();
    let reference = registered["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("SH01-"), "{reference}");
    for key in ["id", "status", "received_at", "status_url"] {
        assert!(registered.get(key).is_some(), "201 body lacks {key}");
    }

    // Staff can tell a registered reference from a mistyped one (no content, no personal data).
    let entry: Value = w
        .get("intake", &format!("/api/v1/feedback/{reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (entry["reference"].as_str(), entry["channel"].as_str()),
        (Some(reference.as_str()), Some("api"))
    );
    assert!(
        entry.get("content").is_none() && entry.get("customer").is_none(),
        "{entry}"
    );
    assert_eq!(
        w.get("intake", "/api/v1/feedback/SH01-20000101-0000").await.status(),
        404
    );

    // Triage opened a case, classified and routed it, and explains why.
    let case: Value = w.wait_for_case(&reference).await;
    assert_eq!(case["category"], "product_quality");
    assert_eq!(case["department"], "quality");
    assert_eq!(case["decided_by"]["rule"], "product-defect");

    // The quality department was emailed through SMTP, threaded and marked automatic.
    let email = eventually(Duration::from_secs(20), "the department's email", || async {
        w.mail.messages().into_iter().find(|m| m.contains(&reference))
    })
    .await;
    assert_eq!(header(&email, "To").as_deref(), Some("quality@feedback.example"));
    assert_eq!(header(&email, "Auto-Submitted").as_deref(), Some("auto-generated"));
    // `<reference>.<uuid>@domain`: intake threads the customer's reply onto the case by it.
    assert!(header(&email, "Message-ID")
        .is_some_and(|id| id.starts_with(&format!("<{reference}.")) && id.ends_with("@feedback.example>")));

    // Notification recorded the delivery; reporting counted the case; the scheduler holds its deadline.
    let log: Value = eventually(Duration::from_secs(10), "a sent delivery in the log", || async {
        let v: Value = w
            .get("notification", &format!("/api/v1/notifications?reference={reference}"))
            .await
            .json()
            .await
            .ok()?;
        (v[0]["status"] == "sent").then_some(v)
    })
    .await;
    assert_eq!(log[0]["recipient_masked"], "q***@feedback.example");
    let daily: Value = eventually(Duration::from_secs(10), "the daily count", || async {
        let v: Value = w
            .get("reporting", "/api/v1/stats/daily?site=sh01")
            .await
            .json()
            .await
            .ok()?;
        (v.as_array()?.len() == 1).then_some(v)
    })
    .await;
    assert_eq!(daily[0]["cases"], 1);
    let deadlines: Value = eventually(Duration::from_secs(10), "the registration deadline", || async {
        let r = w
            .get("scheduler", &format!("/api/v1/cases/{reference}/deadlines"))
            .await;
        if r.status() == 200 {
            r.json().await.ok()
        } else {
            None
        }
    })
    .await;
    let received = chrono::DateTime::parse_from_rfc3339(registered["received_at"].as_str().unwrap()).unwrap();
    let registration = deadlines
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clock"] == "registration")
        .expect("a registration clock");
    let due = chrono::DateTime::parse_from_rfc3339(registration["due"].as_str().unwrap()).unwrap();
    assert_eq!(due - received, chrono::Duration::hours(24));
    assert_eq!(registration["state"]["kind"], "running");
    // A product-quality complaint also runs the containment and 8D clocks (domain.md §3).
    let names: Vec<&str> = deadlines
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clock"].as_str().unwrap())
        .collect();
    for clock in ["containment", "eight_d_reply", "handling_result"] {
        assert!(names.contains(&clock), "{clock} in {names:?}");
    }

    // Personal data never reaches the logs in clear.
    for svc in testkit::services::SERVICES {
        let logs = w.stack.logs(svc);
        assert!(
            logs.contains(&reference) || svc != "intake",
            "intake logs the registration by reference"
        );
        for secret in ["13900000001", "张三"] {
            assert!(!logs.contains(secret), "{svc} logged personal data in clear");
        }
    }
}

#[tokio::test]
async fn every_service_has_health_metrics_openapi_and_refuses_anonymous_staff_calls() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    for svc in testkit::services::SERVICES {
        for path in ["/health/live", "/health/ready", "/metrics"] {
            let r = w
                .http
                .get(format!("{}{}", w.stack.url(svc), path))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{svc}{path}");
        }
        let doc: Value = w
            .http
            .get(format!("{}/api/v1/openapi.json", w.stack.url(svc)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            doc["paths"].as_object().is_some_and(|p| !p.is_empty()),
            "{svc} documents its API"
        );
    }
    let metrics = w
        .http
        .get(format!("{}/metrics", w.stack.url("intake")))
        .send()
        .await
        .unwrap();
    assert!(metrics.text().await.unwrap().contains("http_request_duration_seconds"));
    for (svc, path) in [
        ("intake", "/api/v1/feedback/SH01-20260101-0001"),
        ("triage", "/api/v1/cases/SH01-20260101-0001"),
        ("reporting", "/api/v1/stats/daily"),
        ("scheduler", "/api/v1/cases/SH01-20260101-0001/deadlines"),
        ("notification", "/api/v1/notifications?reference=x"),
    ] {
        let r = w
            .http
            .get(format!("{}{}", w.stack.url(svc), path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{svc}{path} without a token");
        let r = w
            .http
            .get(format!("{}{}", w.stack.url(svc), path))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{svc}{path} with a forged token");
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_naming_the_field_and_registers_nothing() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let url = format!("{}/api/v1/feedback", w.stack.url("intake"));
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, Option<&str>)> = vec![
        ("missing content", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","customer":{"anonymous":true}})), 422, Some("content")),
        ("unknown channel", w.http.post(&url).json(&json!({"channel":"fax-pigeon","site":"sh01","content":"x","customer":{"anonymous":true}})), 422, Some("channel")),
        ("unknown site", w.http.post(&url).json(&json!({"channel":"api","site":"zz99","content":"x","customer":{"anonymous":true}})), 422, Some("site")),
        ("malformed JSON", w.http.post(&url).header("content-type", "application/json").body("{\"channel\":"), 400, None),
        ("wrong content type", w.http.post(&url).header("content-type", "text/plain").body("hello"), 415, None),
        ("oversized body", w.http.post(&url).header("content-type", "application/json").body(format!("{{\"content\":\"{}\"}}", "x".repeat((1 << 20) + 10_000))), 413, None),
        ("invalid email", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","content":"x","customer":{"email":"no-at-sign"}})), 422, Some("customer.email")),
        ("invalid phone", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","content":"x","customer":{"phone":"call me maybe"}})), 422, Some("customer.phone")),
        ("invalid date", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","content":"x","customer":{"anonymous":true},"product":{"production_date":"2026-13-45"}})), 422, Some("product.production_date")),
        ("negative quantity", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","content":"x","customer":{"anonymous":true},"order":{"quantity_shipped":-3}})), 422, Some("order.quantity_shipped")),
        ("negative amount", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","content":"x","customer":{"anonymous":true},"claim":{"amount":"-1.00"}})), 422, Some("claim.amount")),
        ("8 KB name", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","content":"x","customer":{"name":"名".repeat(8192),"phone":"13812345678"}})), 422, Some("customer.name")),
        ("control characters", w.http.post(&url).json(&json!({"channel":"api","site":"sh01","content":"x","customer":{"name":"a\u{0001}b","phone":"13812345678"}})), 422, Some("customer.name")),
    ];
    for (what, request, status, field) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{what}");
        let body: Value = r.json().await.unwrap_or_else(|_| panic!("{what}: a JSON error body"));
        assert!(
            body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {body}"
        );
        if let Some(f) = field {
            assert_eq!(body["error"]["field"], f, "{what}: {body}");
        }
    }
    assert_eq!(w.count("intake", "SELECT count(*) FROM feedback").await, 0);

    // Injection strings are stored as text, unchanged.
    let nasty = "Robert'); DROP TABLE feedback;-- <script>alert(1)</script>";
    let mut body = complaint(2);
    body["content"] = json!(nasty);
    assert_eq!(w.post_feedback(&body).await.status(), 201);
    let pool = w.stack.pool("intake").await.unwrap();
    let stored: String = sqlx::query_scalar("SELECT content FROM feedback")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, nasty);
}

#[tokio::test]
async fn the_same_idempotency_key_registers_once_and_another_body_conflicts() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let url = format!("{}/api/v1/feedback", w.stack.url("intake"));
    let send = |body: Value| {
        w.http
            .post(&url)
            .header("Idempotency-Key", "call-7781")
            .json(&body)
            .send()
    };
    let first = send(complaint(3)).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(complaint(3)).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = send(complaint(4)).await.unwrap();
    assert_eq!(other.status(), 409);
    assert_eq!(w.count("intake", "SELECT count(*) FROM feedback").await, 1);
    eventually(Duration::from_secs(20), "one case", || async {
        (w.count("triage", "SELECT count(*) FROM cases").await == 1).then_some(())
    })
    .await;
}
