//! Revisits (回访) across the real services: the scheduler announces `revisit.due` after a case closes
//! (days shortened to seconds), triage keeps the call queue, attempts, outcomes and the loop.
mod common;

use std::time::Duration;

use auth::Role;
use chrono::Utc;
use common::{world, World};
use contracts::{
    revisit::{RevisitDueV1, RevisitReason},
    Envelope,
};
use serde_json::{json, Value};
use testkit::{eventually, Infra};
use uuid::Uuid;

fn token(sub: &str, roles: Vec<Role>, department: Option<&str>, sites: Vec<&str>) -> String {
    auth::AuthKeys::new(auth::DEV_SECRET)
        .issue(
            sub,
            sub,
            roles,
            department.map(Into::into),
            sites.into_iter().map(Into::into).collect(),
            chrono::Duration::hours(1),
        )
        .unwrap()
}

struct Staff {
    agent: String,
    head: String,
    general_manager: String,
    handler: String,
    auditor: String,
}

fn staff() -> Staff {
    Staff {
        agent: token("cs1", vec![Role::Agent], Some("sales"), vec!["sh01"]),
        head: token("q-head", vec![Role::DepartmentHead], Some("quality"), vec![]),
        general_manager: token("gm", vec![Role::GeneralManager], None, vec![]),
        handler: token("h1", vec![Role::Handler], Some("quality"), vec!["sh01"]),
        auditor: token("aud", vec![Role::Auditor], None, vec![]),
    }
}

async fn call(w: &World, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = w
        .http
        .request(method, format!("{}{path}", w.stack.url("triage")))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(w: &World, token: &str, path: &str) -> (u16, Value) {
    call(w, token, reqwest::Method::GET, path, None).await
}

async fn post(w: &World, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(w, token, reqwest::Method::POST, path, Some(body)).await
}

/// A quality complaint (class complaint, severity important) from a distinct customer per `n`.
fn complaint(n: u32) -> Value {
    json!({
        "channel": "phone", "site": "sh01",
        "customer": { "name": "李四", "phone": format!("1371234{:04}", n), "language": "zh-CN" },
        "subject": "产品质量缺陷", "content": format!("第{n}次收到的产品有质量缺陷。"),
        "product": { "code": "P-7", "batch": format!("B-{n}") }
    })
}

async fn open_case(w: &World, body: Value) -> Value {
    let r = w.post_feedback(&body).await;
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    w.wait_for_case(&reference).await
}

async fn drive_to_closed(w: &World, reference: &str) {
    w.ensure_staff("h1", &["handler"], Some("quality"), &["sh01"]).await;
    for (action, body) in [
        ("acknowledge", json!({})),
        ("assign", json!({"assignee": "h1"})),
        ("reply", json!({"text": "已安排换货"})),
        ("resolve", json!({"summary": "换货完成"})),
        ("close", json!({"outcome": "resolved"})),
    ] {
        let (status, body) = post(w, &w.token, &format!("/api/v1/cases/{reference}/{action}"), body).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
}

/// The case's open revisits, whether callable now or not.
async fn open_revisits(w: &World, case_id: &str) -> Vec<Value> {
    let (status, page) = get(
        w,
        &w.token,
        "/api/v1/revisits?status=all&include_outside_window=true&limit=200",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["case_id"] == case_id)
        .cloned()
        .collect()
}

/// Publishes an event through `svc`'s outbox, as that service would (the relay picks it up).
async fn inject<T: contracts::Event>(w: &World, svc: &str, event: &Envelope<T>) {
    let pool = w.stack.pool(svc).await.unwrap();
    sqlx::query("INSERT INTO outbox (id, event_type, routing_key, correlation_id, payload) VALUES ($1,$2,$3,$4,$5)")
        .bind(event.id)
        .bind(&event.event_type)
        .bind(event.routing_key())
        .bind(event.correlation_id)
        .bind(serde_json::to_value(event).unwrap())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Waits until triage has handled the message `id`.
async fn handled_by_triage(w: &World, id: Uuid) {
    eventually(Duration::from_secs(20), "triage handled the event", || async {
        let n = w
            .count(
                "triage",
                &format!("SELECT count(*) FROM inbox WHERE message_id = '{id}'"),
            )
            .await;
        (n == 1).then_some(())
    })
    .await
}

async fn count_outbox(w: &World, event_type: &str, case_id: &str, extra: &str) -> i64 {
    w.count(
        "triage",
        &format!(
            "SELECT count(*) FROM outbox WHERE event_type = '{event_type}'
               AND payload->'data'->>'case_id' = '{case_id}' {extra}"
        ),
    )
    .await
}

#[tokio::test]
async fn a_closed_complaint_is_revisited_once_and_a_dissatisfied_answer_reopens_it_until_satisfied() {
    let infra = Infra::from_env();
    // A revisit "day" of one second: the after-close revisit (3 days) is due 3 s after the close.
    let w = world(
        &infra.amqp_url,
        infra.rabbit_node.clone(),
        vec![("APP__REVISIT__DAY_SECONDS".into(), "1".into())],
    )
    .await;
    let s = staff();
    let case = open_case(&w, complaint(1)).await;
    let reference = case["reference"].as_str().unwrap().to_owned();
    let case_id = case["id"].as_str().unwrap().to_owned();
    assert_eq!(case["severity"], "important");
    drive_to_closed(&w, &reference).await;

    // The scheduler announces the revisit; triage creates the task.
    let task = eventually(Duration::from_secs(30), "the revisit task", || async {
        open_revisits(&w, &case_id).await.into_iter().next()
    })
    .await;
    assert_eq!(task["reason"], "after_close");
    assert_eq!(task["sequence"], 1);
    assert_eq!(task["status"], "open");
    assert_eq!(
        task["required_role"], "department_head",
        "important complaints: the department head"
    );
    assert_eq!(task["case_reference"], reference.as_str());
    let id = task["id"].as_str().unwrap().to_owned();
    // Queues per role and site.
    let in_queue = |page: &Value| page["items"].as_array().unwrap().iter().any(|i| i["id"] == id.as_str());
    for (query, expected) in [
        ("role=department_head", true),
        ("role=agent", false),
        ("site=sh01", true),
        ("site=bj01", false),
    ] {
        let (status, page) = get(
            &w,
            &w.token,
            &format!("/api/v1/revisits?include_outside_window=true&{query}"),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(in_queue(&page), expected, "{query}");
    }
    let (status, bad) = get(&w, &w.token, "/api/v1/revisits?role=janitor").await;
    assert_eq!((status, bad["error"]["field"].clone()), (422, json!("role")));

    // The same announcement again (a new event id: not caught by the inbox) creates nothing.
    let again = Envelope::new(
        "sh01",
        Uuid::now_v7(),
        RevisitDueV1 {
            case_id: case_id.parse().unwrap(),
            reference: reference.clone(),
            site: "sh01".into(),
            reason: RevisitReason::AfterClose,
            due_at: Utc::now(),
            sequence: 1,
        },
    );
    inject(&w, "scheduler", &again).await;
    handled_by_triage(&w, again.id).await;
    assert_eq!(
        open_revisits(&w, &case_id).await.len(),
        1,
        "one task per case and sequence"
    );
    assert_eq!(
        w.count(
            "scheduler",
            &format!("SELECT count(*) FROM outbox WHERE event_type = 'revisit.due' AND payload->'data'->>'case_id' = '{case_id}'")
        )
        .await,
        2,
        "the scheduler fired its timer once (plus the injected copy)"
    );

    // Confidential records: handlers may not read them; auditors read but do not record; agents do not
    // make the department head's calls; customers are masked for roles without personal data.
    assert_eq!(get(&w, &s.handler, "/api/v1/revisits").await.0, 403);
    assert_eq!(get(&w, &s.handler, &format!("/api/v1/revisits/{id}")).await.0, 403);
    let (status, seen) = get(&w, &s.auditor, &format!("/api/v1/revisits/{id}")).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["customer"]["phone"], "137****0001");
    assert_eq!(seen["case"]["reference"], reference.as_str());
    assert_eq!(seen["questionnaire"].as_array().unwrap().len(), 7);
    let attempt = |kind: &str| json!({ "kind": kind });
    assert_eq!(
        post(
            &w,
            &s.auditor,
            &format!("/api/v1/revisits/{id}/attempts"),
            attempt("busy")
        )
        .await
        .0,
        403
    );
    assert_eq!(
        post(
            &w,
            &s.agent,
            &format!("/api/v1/revisits/{id}/attempts"),
            attempt("busy")
        )
        .await
        .0,
        403
    );
    // Another department's head neither sees nor makes this call.
    let sales_head = token("s-head", vec![Role::DepartmentHead], Some("sales"), vec![]);
    let (_, sales_queue) = get(&w, &sales_head, "/api/v1/revisits?include_outside_window=true").await;
    assert!(!in_queue(&sales_queue), "{sales_queue}");
    let (_, head_queue) = get(&w, &s.head, "/api/v1/revisits?include_outside_window=true").await;
    assert!(in_queue(&head_queue));
    assert_eq!(get(&w, &sales_head, &format!("/api/v1/revisits/{id}")).await.0, 403);
    assert_eq!(
        post(
            &w,
            &sales_head,
            &format!("/api/v1/revisits/{id}/attempts"),
            attempt("busy")
        )
        .await
        .0,
        403
    );
    let (_, head_view) = get(&w, &s.head, &format!("/api/v1/revisits/{id}")).await;
    assert_eq!(head_view["customer"]["phone"], "13712340001");

    // Attempts: no answer and busy retry later; call back needs its time and moves the task there.
    let (status, after) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/attempts"),
        attempt("no_answer"),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["status"], "open");
    assert_eq!(after["attempts"], 1);
    let at = |v: &Value| v.as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
    assert!(at(&after["due_at"]) > at(&task["due_at"]), "retried later");
    assert_eq!(
        post(&w, &s.head, &format!("/api/v1/revisits/{id}/attempts"), attempt("busy"))
            .await
            .0,
        200
    );
    let (status, bad) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/attempts"),
        attempt("call_back"),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "call_back_at");
    let (status, bad) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/attempts"),
        attempt("hung_up"),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].clone()), (422, json!("kind")));
    let later = Utc::now() + chrono::Duration::days(2);
    let (status, after) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/attempts"),
        json!({ "kind": "call_back", "call_back_at": later, "note": "客户开会，后天再打" }),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["attempts"], 3, "refused attempts changed nothing");
    let due = at(&after["due_at"]);
    assert!(due >= later - chrono::Duration::seconds(1), "{due} vs {later}");
    assert_eq!(
        after["next_window_start"], after["due_at"],
        "rescheduled into a call window"
    );
    assert_eq!(after["attempt_log"].as_array().unwrap().len(), 3);
    assert_eq!(count_outbox(&w, "revisit.attempted", &case_id, "").await, 3);

    // Bad outcomes change nothing.
    let outcome = |method: &str, answers: Value| json!({ "method": method, "answers": answers });
    let (status, bad) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/outcome"),
        outcome("on_site", json!({"overall": 4})),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].clone()), (422, json!("signature")));
    let (status, bad) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/outcome"),
        outcome("phone", json!({"overall": 7})),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].clone()), (422, json!("answers.overall")));

    // Dissatisfied: the case is reopened (case.changed once), the next revisit scheduled.
    let (status, result) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/outcome"),
        json!({ "method": "phone", "comments": "还是有破损",
                "answers": { "design": 3, "quality": 1, "attitude": 4, "timeliness": 2, "overall": 2,
                             "suggestions": "加强包装", "problem_reported": true } }),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["satisfied"], false);
    assert_eq!(result["case_reopened"], true);
    let next = result["next_revisit_id"].as_str().expect("next revisit").to_owned();
    let (_, reopened) = get(&w, &w.token, &format!("/api/v1/cases/{reference}")).await;
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(
        reopened["history"].as_array().unwrap().last().unwrap()["action"],
        "reopen"
    );
    assert_eq!(
        count_outbox(
            &w,
            "case.changed",
            &case_id,
            "AND payload->'data'->>'action' = 'reopen'"
        )
        .await,
        1
    );
    // Recording it twice is refused and publishes nothing more.
    let (status, _) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/outcome"),
        outcome("phone", json!({"overall": 1})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(count_outbox(&w, "revisit.completed", &case_id, "").await, 1);
    let (_, done) = get(&w, &s.head, &format!("/api/v1/revisits/{id}")).await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["method"], "phone");
    assert_eq!(done["outcome"]["phone_revisit"], true);
    assert_eq!(done["score"], 2);

    let (_, follow) = get(&w, &s.head, &format!("/api/v1/revisits/{next}")).await;
    assert_eq!(follow["reason"], "follow_up");
    assert_eq!(follow["sequence"], 2);
    assert_eq!(follow["previous_id"], id.as_str());
    assert_eq!(follow["status"], "open");

    // Satisfied closes the loop: nothing reopened, no further revisit.
    let (status, result) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{next}/outcome"),
        json!({ "method": "on_site", "signature": "李四", "answers": { "overall": 5 } }),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["satisfied"], true);
    assert_eq!(result["case_reopened"], false);
    assert!(result["next_revisit_id"].is_null());
    assert_eq!(count_outbox(&w, "revisit.completed", &case_id, "").await, 2);
    assert_eq!(
        count_outbox(
            &w,
            "case.changed",
            &case_id,
            "AND payload->'data'->>'action' = 'reopen'"
        )
        .await,
        1
    );
    assert!(open_revisits(&w, &case_id).await.iter().all(|r| r["status"] != "open"));
    // A satisfied loop is not closed by a manager.
    let (status, _) = post(
        &w,
        &s.general_manager,
        &format!("/api/v1/revisits/{next}/close"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(status, 409);

    // Reporting counts both outcomes this month: one dissatisfied (2), one satisfied (5); 50 % is a poor band.
    let revisits = eventually(Duration::from_secs(20), "revisits in the monthly report", || async {
        let r: Value = w.get("reporting", "/api/v1/reports/monthly").await.json().await.ok()?;
        (r["revisits"]["done"] == 2).then(|| r["revisits"].clone())
    })
    .await;
    assert_eq!(revisits["scores"]["2"], 1, "{revisits}");
    assert_eq!(revisits["by_person"][0]["band"], "poor", "{revisits}");
    assert_eq!(revisits["scores"]["5"], 1, "{revisits}");
    assert_eq!(revisits["satisfied"], 1, "{revisits}");
    assert_eq!(revisits["satisfied_pct"], 50.0, "{revisits}");
}

#[tokio::test]
async fn manual_revisits_declined_customers_and_the_managers_close() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let s = staff();

    let (status, q) = get(&w, &s.agent, "/api/v1/revisits/questionnaire").await;
    assert_eq!(status, 200, "{q}");
    assert_eq!(q["questions"][4]["id"], "overall");
    assert_eq!(q["questions"][4]["kind"], "score0to5");
    assert_eq!(q["dissatisfied_threshold"], 2);
    assert_eq!(get(&w, &s.handler, "/api/v1/revisits/questionnaire").await.0, 403);

    // By hand, on an open case.
    let first = open_case(&w, complaint(2)).await;
    let reference = first["reference"].as_str().unwrap();
    let (status, bad) = post(&w, &s.head, "/api/v1/revisits", json!({})).await;
    assert_eq!((status, bad["error"]["field"].clone()), (422, json!("case_id")));
    assert_eq!(
        post(
            &w,
            &s.head,
            "/api/v1/revisits",
            json!({"reference": "SH01-19990101-0001"})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post(&w, &s.handler, "/api/v1/revisits", json!({"reference": reference}))
            .await
            .0,
        403
    );
    let (status, manual) = post(
        &w,
        &s.head,
        "/api/v1/revisits",
        json!({"reference": reference, "note": "客户要求回访"}),
    )
    .await;
    assert_eq!(status, 201, "{manual}");
    assert_eq!(manual["reason"], "manual");
    assert_eq!(manual["sequence"], 1);
    assert_eq!(manual["note"], "客户要求回访");
    let id = manual["id"].as_str().unwrap();

    // Wrong number: nobody to call on this task.
    let (_, second) = post(&w, &s.head, "/api/v1/revisits", json!({"case_id": first["id"]})).await;
    assert_eq!(second["sequence"], 2);
    let (status, wrong) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{}/attempts", second["id"].as_str().unwrap()),
        json!({"kind": "wrong_number"}),
    )
    .await;
    assert_eq!(status, 200, "{wrong}");
    assert_eq!(wrong["status"], "unreachable");
    assert!(!wrong["callable_now"].as_bool().unwrap());

    // Every item of the default queue is callable now (due, inside a window on a working day).
    let (status, queue) = get(&w, &s.head, "/api/v1/revisits").await;
    assert_eq!(status, 200);
    assert!(queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["callable_now"] == true && i["status"] == "open"));

    // Keyset pages by due time.
    let (_, page1) = get(
        &w,
        &s.head,
        "/api/v1/revisits?status=all&include_outside_window=true&limit=1",
    )
    .await;
    let cursor = page1["next_cursor"].as_str().expect("a second page").to_owned();
    let (_, page2) = get(
        &w,
        &s.head,
        &format!("/api/v1/revisits?status=all&include_outside_window=true&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_ne!(page1["items"][0]["id"], page2["items"][0]["id"]);

    // The customer declines revisits: remembered, no more tasks for them, by hand or from the scheduler.
    let (_, pending) = post(&w, &s.head, "/api/v1/revisits", json!({"case_id": first["id"]})).await;
    let (status, declined) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{id}/attempts"),
        json!({"kind": "declined", "note": "客户表示不需要回访"}),
    )
    .await;
    assert_eq!(status, 200, "{declined}");
    assert_eq!(declined["status"], "declined");
    let (_, pending) = get(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{}", pending["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        pending["status"], "cancelled",
        "their other open revisits are not called either"
    );
    let (_, open_queue) = get(&w, &s.head, "/api/v1/revisits?include_outside_window=true").await;
    assert!(open_queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["case_id"] != first["id"]));
    let (status, refused) = post(&w, &s.head, "/api/v1/revisits", json!({"reference": reference})).await;
    assert_eq!((status, refused["error"]["code"].clone()), (409, json!("do_not_call")));
    let mut same_customer = complaint(2);
    same_customer["product"]["batch"] = json!("B-other");
    same_customer["content"] = json!("另一批货物运输中丢失。");
    same_customer["subject"] = json!("运输丢失");
    let other_case = open_case(&w, same_customer).await;
    assert_ne!(
        other_case["id"], first["id"],
        "a different problem of the same customer"
    );
    let due = Envelope::new(
        "sh01",
        Uuid::now_v7(),
        RevisitDueV1 {
            case_id: other_case["id"].as_str().unwrap().parse().unwrap(),
            reference: other_case["reference"].as_str().unwrap().into(),
            site: "sh01".into(),
            reason: RevisitReason::AfterClose,
            due_at: Utc::now(),
            sequence: 1,
        },
    );
    inject(&w, "scheduler", &due).await;
    handled_by_triage(&w, due.id).await;
    assert!(open_revisits(&w, other_case["id"].as_str().unwrap()).await.is_empty());

    // A manager closes an unsatisfied loop with a reason; others may not.
    let third = open_case(&w, complaint(3)).await;
    let (_, task) = post(&w, &s.head, "/api/v1/revisits", json!({"case_id": third["id"]})).await;
    let tid = task["id"].as_str().unwrap();
    let (_, result) = post(
        &w,
        &s.head,
        &format!("/api/v1/revisits/{tid}/outcome"),
        json!({"method": "email", "answers": {"overall": 0}}),
    )
    .await;
    assert_eq!(result["satisfied"], false);
    assert_eq!(
        result["case_reopened"], false,
        "an open case is not reopened, its department gets a note"
    );
    let (_, third_now) = get(
        &w,
        &w.token,
        &format!("/api/v1/cases/{}", third["reference"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        third_now["history"].as_array().unwrap().last().unwrap()["action"],
        "note"
    );
    let path = format!("/api/v1/revisits/{tid}/close");
    assert_eq!(post(&w, &s.head, &path, json!({"reason": "客户失联"})).await.0, 403);
    let (status, bad) = post(&w, &s.general_manager, &path, json!({"reason": " "})).await;
    assert_eq!((status, bad["error"]["field"].clone()), (422, json!("reason")));
    let (status, closed) = post(
        &w,
        &s.general_manager,
        &path,
        json!({"reason": "客户失联，经理批准结案"}),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_reason"], "客户失联，经理批准结案");
    let third_id = third["id"].as_str().unwrap();
    let follow_ups = open_revisits(&w, third_id).await;
    assert!(follow_ups.iter().all(|r| r["status"] == "closed"), "{follow_ups:?}");
    assert_eq!(count_outbox(&w, "revisit.closed", third_id, "").await, 1);
    assert_eq!(
        post(&w, &s.general_manager, &path, json!({"reason": "again"})).await.0,
        409
    );
}

#[tokio::test]
async fn with_linked_case_configured_a_dissatisfied_revisit_opens_a_case_linked_to_the_closed_one() {
    let infra = Infra::from_env();
    let w = world(
        &infra.amqp_url,
        infra.rabbit_node.clone(),
        vec![
            ("APP__REVISIT__DAY_SECONDS".into(), "1".into()),
            ("APP__REVISIT__ON_DISSATISFIED".into(), "linked_case".into()),
        ],
    )
    .await;
    let s = staff();
    let case = open_case(&w, complaint(4)).await;
    let reference = case["reference"].as_str().unwrap().to_owned();
    let case_id = case["id"].as_str().unwrap().to_owned();
    drive_to_closed(&w, &reference).await;
    let task = eventually(Duration::from_secs(30), "the revisit task", || async {
        open_revisits(&w, &case_id).await.into_iter().next()
    })
    .await;
    let (status, result) = post(
        &w,
        &s.general_manager,
        &format!("/api/v1/revisits/{}/outcome", task["id"].as_str().unwrap()),
        json!({"method": "phone", "answers": {"overall": 1, "suggestions": "又坏了"}}),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["satisfied"], false);
    let linked = format!("{reference}-R1");
    assert_eq!(result["linked_case_reference"], linked.as_str());
    assert!(result["next_revisit_id"].is_string());

    let (_, original) = get(&w, &w.token, &format!("/api/v1/cases/{reference}")).await;
    assert_eq!(original["status"], "closed", "the original stays closed");
    assert_eq!(
        original["history"].as_array().unwrap().last().unwrap()["action"],
        "revisit_linked_case"
    );
    let (status, new_case) = get(&w, &w.token, &format!("/api/v1/cases/{linked}")).await;
    assert_eq!(status, 200, "{new_case}");
    assert_eq!(new_case["status"], "new");
    assert_eq!(new_case["department"], original["department"]);
    assert_eq!(new_case["severity"], original["severity"]);
    let new_id = new_case["id"].as_str().unwrap();
    assert_eq!(count_outbox(&w, "case.opened", new_id, "").await, 1);
    assert_eq!(
        count_outbox(
            &w,
            "case.changed",
            &case_id,
            "AND payload->'data'->>'action' = 'reopen'"
        )
        .await,
        0
    );
    // The department's clocks start for the linked case like for any new case.
    eventually(Duration::from_secs(20), "the linked case's clocks", || async {
        let n = w
            .count(
                "scheduler",
                &format!("SELECT count(*) FROM clocks WHERE case_id = '{new_id}'"),
            )
            .await;
        (n > 0).then_some(())
    })
    .await;
}
