//! The case workflow through triage's HTTP API, with real staff tokens, against the real services.
mod common;

use std::time::Duration;

use auth::Role;
use common::world;
use serde_json::{json, Value};
use testkit::{eventually, Infra};

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
    handler: String,
    head: String,
    marketing: String,
    general_manager: String,
    auditor: String,
    sales_handler: String,
}

fn staff() -> Staff {
    Staff {
        handler: token("h1", vec![Role::Handler], Some("quality"), vec!["sh01"]),
        head: token("q-head", vec![Role::DepartmentHead], Some("quality"), vec![]),
        marketing: token("mm", vec![Role::MarketingManager], Some("sales"), vec![]),
        general_manager: token("gm", vec![Role::GeneralManager], None, vec![]),
        auditor: token("aud", vec![Role::Auditor], None, vec![]),
        sales_handler: token("s1", vec![Role::Handler], Some("sales"), vec!["sh01"]),
    }
}

async fn act(w: &common::World, token: &str, case: &str, action: &str, body: Value) -> (u16, Value) {
    let r = w
        .http
        .post(format!("{}/api/v1/cases/{case}/{action}", w.stack.url("triage")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(w: &common::World, token: &str, path: &str) -> (u16, Value) {
    let r = w
        .http
        .get(format!("{}{path}", w.stack.url("triage")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn open_case(w: &common::World, body: Value) -> String {
    let r = w.post_feedback(&body).await;
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    w.wait_for_case(&reference).await;
    reference
}

/// A quality complaint from a distinct customer per `n` (the same customer and batch would be a duplicate).
fn quality_complaint(site: &str, claim: Option<&str>, n: u32) -> Value {
    let mut v = json!({
        "channel": "phone", "site": site,
        "customer": { "name": "张三丰", "phone": format!("1381234{:04}", 5678 + n) },
        "subject": "产品质量缺陷", "content": "收到的产品有质量缺陷，包装破损。",
        "product": { "code": "P-1", "batch": "B-9" }
    });
    if let Some(amount) = claim {
        v["claim"] = json!({ "amount": amount, "currency": "CNY", "return_quantity": 5 });
    }
    v
}

#[tokio::test]
async fn a_complaint_is_handled_from_new_to_closed_with_every_step_in_its_history() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let s = staff();
    let case = open_case(&w, quality_complaint("sh01", None, 0)).await;
    // The handler's account exists once the case is open (so it was not assigned automatically).
    w.ensure_staff("h1", &["handler"], Some("quality"), &["sh01"]).await;

    let (status, detail) = get(&w, &s.handler, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["status"], "new");
    assert!(detail["allowed_actions"]
        .as_array()
        .unwrap()
        .contains(&json!("acknowledge")));
    assert!(
        !detail["allowed_actions"].as_array().unwrap().contains(&json!("assign")),
        "a handler may not assign"
    );

    assert_eq!(act(&w, &s.handler, &case, "acknowledge", json!({})).await.0, 200);
    let (status, refused) = act(&w, &s.handler, &case, "assign", json!({"assignee": "h1"})).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("assign"));
    // Another department's handler may not touch it either.
    assert_eq!(
        act(&w, &s.sales_handler, &case, "note", json!({"text": "x"})).await.0,
        403
    );
    assert_eq!(
        act(&w, &s.head, &case, "assign", json!({"assignee": "h1"})).await.0,
        200
    );
    assert_eq!(
        act(
            &w,
            &s.handler,
            &case,
            "record_containment",
            json!({"text": "批次B-9停止发货"})
        )
        .await
        .0,
        200
    );
    let (status, invalid) = act(&w, &s.handler, &case, "reply", json!({})).await;
    assert_eq!(status, 422, "a reply needs its text: {invalid}");
    assert_eq!(invalid["error"]["field"], "text");
    assert_eq!(
        act(&w, &s.handler, &case, "reply", json!({"text": "已安排换货"}))
            .await
            .0,
        200
    );
    assert_eq!(
        act(&w, &s.handler, &case, "resolve", json!({"summary": "换货完成"}))
            .await
            .0,
        200
    );
    let (status, closed) = act(&w, &s.head, &case, "close", json!({"outcome": "resolved"})).await;
    assert_eq!(status, 200);
    assert_eq!(closed["status"], "closed");

    // An illegal transition is a 409 that changes nothing.
    let before = closed["history"].as_array().unwrap().len();
    let (status, conflict) = act(&w, &s.handler, &case, "resolve", json!({"summary": "again"})).await;
    assert_eq!(status, 409, "{conflict}");
    let (_, after) = get(&w, &s.head, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(after["history"].as_array().unwrap().len(), before);
    assert_eq!(after["status"], "closed");
    let actions: Vec<&str> = after["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "opened",
            "acknowledge",
            "assign",
            "record_containment",
            "reply",
            "resolve",
            "close"
        ]
    );
    assert_eq!(after["history"][2]["actor"], "q-head");
    assert_eq!(after["history"][2]["changes"]["assignee"], json!([null, "h1"]));
    // Every change left as an event through triage's outbox.
    assert_eq!(
        w.count(
            "triage",
            "SELECT count(*) FROM outbox WHERE event_type = 'case.changed'"
        )
        .await,
        6
    );
    // Reopening is allowed from closed.
    assert_eq!(
        act(&w, &s.head, &case, "reopen", json!({"reason": "客户回访不满意"}))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn claims_need_the_approvals_their_amount_requires_before_closing_as_accepted() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let s = staff();
    for (n, (amount, required)) in [
        ("999.99", vec![]),
        ("1000.00", vec![]),
        ("1000.01", vec!["marketing_manager"]),
        ("2000.00", vec!["marketing_manager"]),
        ("2000.01", vec!["marketing_manager", "general_manager"]),
    ]
    .into_iter()
    .enumerate()
    {
        let case = open_case(&w, quality_complaint("sh01", Some(amount), n as u32)).await;
        let (_, d) = get(&w, &w.token, &format!("/api/v1/cases/{case}")).await;
        assert_eq!(d["claim"]["required"], json!(required), "{amount}");
    }
    let case = open_case(&w, quality_complaint("sh01", Some("2500.00"), 9)).await;
    w.ensure_staff("h1", &["handler"], Some("quality"), &["sh01"]).await;
    for (t, action, body) in [
        (&s.handler, "acknowledge", json!({})),
        (&s.head, "assign", json!({"assignee": "h1"})),
        (&s.handler, "reply", json!({"text": "同意退货"})),
    ] {
        assert_eq!(act(&w, t, &case, action, body).await.0, 200, "{action}");
    }
    let (status, e) = act(&w, &s.head, &case, "close", json!({"outcome": "accepted"})).await;
    assert_eq!(status, 409, "unapproved claim cannot close as accepted: {e}");
    // The case says who may decide the claim, and on what grounds it may be rejected.
    let (_, for_mm) = get(&w, &s.marketing, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(
        (
            for_mm["may"]["approve_claim"].as_bool(),
            for_mm["may"]["reject_claim"].as_bool()
        ),
        (Some(true), Some(true))
    );
    let (_, for_handler) = get(&w, &s.handler, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(
        (
            for_handler["may"]["approve_claim"].as_bool(),
            for_handler["may"]["reject_claim"].as_bool()
        ),
        (Some(false), Some(true)),
        "a handler of the case may reject it for a configured reason, not approve it"
    );
    let reasons: Vec<&str> = for_handler["claim_rejection_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["past_shelf_life", "not_our_product", "met_contract"]);
    let (_, for_auditor) = get(&w, &s.auditor, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(for_auditor["may"]["reject_claim"], false);
    assert_eq!(
        (
            for_auditor["may"]["schedule_revisit"].as_bool(),
            for_auditor["may"]["schedule_revisit_refused_code"].as_str()
        ),
        (Some(false), Some("no_role"))
    );
    assert_eq!(
        for_handler["quality"]["eight_d_applies"], true,
        "a product-quality complaint takes an 8D report"
    );
    assert_eq!(for_handler["quality"]["regulator_report_applies"], false);
    let approve = |t: String| {
        let w = &w;
        let case = case.clone();
        async move {
            w.http
                .post(format!("{}/api/v1/cases/{case}/claim/approve", w.stack.url("triage")))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(approve(s.handler.clone()).await, 403, "a handler cannot approve");
    assert_eq!(approve(s.marketing.clone()).await, 200);
    assert_eq!(
        approve(s.marketing.clone()).await,
        409,
        "no second approval by the same role"
    );
    assert_eq!(
        act(&w, &s.head, &case, "close", json!({"outcome": "accepted"})).await.0,
        409,
        "GM still missing"
    );
    assert_eq!(approve(s.general_manager.clone()).await, 200);
    let (status, closed) = act(&w, &s.head, &case, "close", json!({"outcome": "accepted"})).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["claim"]["approvals"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn lists_are_filtered_scoped_paginated_and_customers_masked_by_role() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let s = staff();
    let mut quality_sh01 = vec![];
    for n in 0..5 {
        quality_sh01.push(open_case(&w, quality_complaint("sh01", None, n)).await);
    }
    open_case(&w, quality_complaint("bj01", None, 5)).await;
    let logistics = open_case(
        &w,
        json!({"channel":"email","site":"sh01","customer":{"email":"li@example.com"},"content":"物流运输延迟，发票丢失"}),
    )
    .await;

    // A quality handler at sh01 sees exactly the five quality cases of sh01, in pages of two.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/cases?limit=2&cursor={c}"),
            None => "/api/v1/cases?limit=2".into(),
        };
        let (status, page) = get(&w, &s.handler, &path).await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["department"], "quality");
            assert_eq!(item["site"], "sh01");
            seen.push(item["reference"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    quality_sh01.sort();
    assert_eq!(seen, quality_sh01, "every case once, no duplicates across pages");
    assert_eq!(get(&w, &s.handler, &format!("/api/v1/cases/{logistics}")).await.0, 403);

    // Managers see everything; filters narrow it.
    let (_, all) = get(&w, &s.general_manager, "/api/v1/cases?limit=200").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
    let (_, bj) = get(&w, &s.general_manager, "/api/v1/cases?site=bj01").await;
    assert_eq!(bj["items"].as_array().unwrap().len(), 1);
    let (_, by_text) = get(&w, &s.general_manager, "/api/v1/cases?text=%E5%8F%91%E7%A5%A8").await; // 发票
    assert_eq!(by_text["items"][0]["reference"], json!(logistics));
    let (_, logi) = get(&w, &s.general_manager, "/api/v1/cases?category=logistics&overdue=false").await;
    assert_eq!(logi["items"].as_array().unwrap().len(), 1);
    let (status, bad) = get(&w, &s.general_manager, "/api/v1/cases?status=sleeping").await;
    assert_eq!((status, bad["error"]["field"].clone()), (422, json!("status")));

    // The auditor reads, masked; the handler sees the customer in clear; the auditor may not act.
    let (_, masked) = get(&w, &s.auditor, &format!("/api/v1/cases/{}", quality_sh01[0])).await;
    assert_eq!(masked["customer"]["phone"], "138****5678");
    assert!(masked["allowed_actions"].as_array().unwrap().is_empty());
    let (_, clear) = get(&w, &s.handler, &format!("/api/v1/cases/{}", quality_sh01[0])).await;
    assert_eq!(clear["customer"]["phone"], "13812345678");
    assert_eq!(
        act(&w, &s.auditor, &quality_sh01[0], "note", json!({"text": "x"}))
            .await
            .0,
        403
    );

    // Reclassifying re-routes to the department that owns the new category.
    let (status, moved) = act(
        &w,
        &s.head,
        &quality_sh01[0],
        "reclassify",
        json!({"class":"complaint","category":"logistics","severity":"general","reason":"实为运输损坏"}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["department"], "sales");
    assert_eq!(
        moved["history"].as_array().unwrap().last().unwrap()["changes"]["department"],
        json!(["quality", "sales"])
    );
}

#[tokio::test]
async fn the_same_problem_reported_again_through_another_channel_is_linked_not_reopened() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let first = open_case(&w, quality_complaint("sh01", None, 0)).await;
    // Same customer (the phone written differently), same product batch, by email a day later.
    let again = w
        .post_feedback(&json!({
            "channel": "email", "site": "sh01",
            "customer": { "phone": "+86 138-1234-5678", "email": "zhang@example.com" },
            "content": "上次反馈的批次问题还没有处理。", "product": { "code": "P-1", "batch": "B-9" }
        }))
        .await;
    assert_eq!(again.status(), 201);
    let second = again.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = w.token.clone();
    let detail: Value = eventually(Duration::from_secs(20), "the second report linked", || async {
        let (_, d) = get(&w, &admin, &format!("/api/v1/cases/{first}")).await;
        (d["report_count"] == 2).then_some(d)
    })
    .await;
    let channels: Vec<&str> = detail["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["phone", "email"]);
    assert!(detail["reports"][1]["reason"].as_str().unwrap().contains("batch B-9"));
    // The second reference finds the same case; no second case, no second email to the department.
    let (_, by_second) = get(&w, &admin, &format!("/api/v1/cases/{second}")).await;
    assert_eq!(by_second["reference"], json!(first));
    assert_eq!(w.count("triage", "SELECT count(*) FROM cases").await, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let to_department = w
        .mail
        .messages()
        .iter()
        .filter(|m| testkit::mail::header(m, "To").as_deref() == Some("quality@feedback.example"))
        .count();
    assert_eq!(to_department, 1, "the department is told about the problem once");
    // A different batch from the same customer is a new problem.
    open_case(&w, {
        let mut v = quality_complaint("sh01", None, 0);
        v["product"]["batch"] = json!("B-10");
        v["content"] = json!("另一批次的包装也有问题");
        v
    })
    .await;
    assert_eq!(w.count("triage", "SELECT count(*) FROM cases").await, 2);
}

#[tokio::test]
async fn staff_sign_in_and_new_complaints_are_assigned_to_the_least_loaded_handler() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let triage = w.stack.url("triage");
    let login = |user: &str, password: &str| {
        w.http
            .post(format!("{triage}/api/v1/auth/login"))
            .json(&json!({"user": user, "password": password}))
            .send()
    };
    assert_eq!(login("admin", "wrong password").await.unwrap().status(), 401);
    let admin: Value = login("admin", "change-me-admin").await.unwrap().json().await.unwrap();
    assert!(admin["token"].is_string(), "admin sign-in: {admin}");
    let admin_token = admin["token"].as_str().unwrap().to_owned();
    assert_eq!(admin["user"]["roles"], json!(["administrator"]));

    let create = |token: String, body: Value| {
        w.http
            .post(format!("{triage}/api/v1/staff"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    for id in ["qa-li", "qa-wang"] {
        let r = create(
            admin_token.clone(),
            json!({"id": id, "name": id, "password": "long-enough-pw", "roles": ["handler"], "department": "quality"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
    }
    let dup = create(
        admin_token.clone(),
        json!({"id": "qa-li", "name": "x", "password": "long-enough-pw", "roles": ["handler"]}),
    )
    .await
    .unwrap();
    assert_eq!(dup.status(), 409);
    let short = create(
        admin_token.clone(),
        json!({"id": "x1", "name": "x", "password": "short", "roles": ["handler"]}),
    )
    .await
    .unwrap();
    assert_eq!(short.json::<Value>().await.unwrap()["error"]["field"], "password");
    let li: Value = login("qa-li", "long-enough-pw").await.unwrap().json().await.unwrap();
    let li_token = li["token"].as_str().unwrap().to_owned();
    let refused = create(
        li_token.clone(),
        json!({"id": "x2", "name": "x", "password": "long-enough-pw", "roles": ["administrator"]}),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 403, "only administrators manage staff");
    // The token works at the other services too (signed for all of them).
    let r = w
        .http
        .get(format!("{}/api/v1/stats/daily", w.stack.url("reporting")))
        .bearer_auth(&li_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let mut assignees = vec![];
    for n in 0..3 {
        let case = open_case(&w, quality_complaint("sh01", None, 20 + n)).await;
        let (_, d) = get(&w, &li_token, &format!("/api/v1/cases/{case}")).await;
        assignees.push(d["assignee"].as_str().unwrap_or("nobody").to_owned());
    }
    assert_eq!(assignees, ["qa-li", "qa-wang", "qa-li"]);
    let (_, mine) = get(&w, &li_token, "/api/v1/cases?assignee=qa-li").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_wrongly_linked_report_is_split_out_into_a_case_of_its_own() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let triage = w.stack.url("triage");
    // A handler in each department, so that both cases get a named responsible person.
    for (id, department) in [("qa-li", "quality"), ("s-zhao", "sales")] {
        let r = w
            .http
            .post(format!("{triage}/api/v1/staff"))
            .bearer_auth(&w.token)
            .json(
                &json!({"id": id, "name": id, "password": "long-enough-pw", "roles": ["handler"],
                          "department": department}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let login = |user: &'static str| {
        let http = w.http.clone();
        let triage = triage.clone();
        async move {
            let r: Value = http
                .post(format!("{triage}/api/v1/auth/login"))
                .json(&json!({"user": user, "password": "long-enough-pw"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["token"].as_str().unwrap().to_owned()
        }
    };
    let (li, zhao) = (login("qa-li").await, login("s-zhao").await);

    // The first report: a quality defect, by phone.
    let first = open_case(
        &w,
        json!({
            "channel": "phone", "site": "sh01",
            "customer": { "name": "王五", "phone": "13912340001" },
            "content": "收到的产品有质量缺陷，包装破损。", "product": { "code": "P-7", "batch": "B-77" }
        }),
    )
    .await;
    // The same customer about the same batch, by email: dedup links it, though it is about transport.
    let second_content = "物流运输途中丢失了一箱，发票也没有收到。";
    let r = w
        .post_feedback(&json!({
            "channel": "email", "site": "sh01",
            "customer": { "name": "王五", "phone": "13912340001", "email": "wang@example.com" },
            "content": second_content, "product": { "code": "P-7", "batch": "B-77" }
        }))
        .await;
    assert_eq!(r.status(), 201);
    let second = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let linked: Value = eventually(Duration::from_secs(20), "the second report linked", || async {
        let (_, d) = get(&w, &li, &format!("/api/v1/cases/{first}")).await;
        (d["report_count"] == 2).then_some(d)
    })
    .await;
    assert_eq!(linked["department"], "quality");
    assert_eq!(linked["assignee"], "qa-li");
    assert_eq!(linked["reports"][0]["first"], true);
    assert_eq!(linked["reports"][0]["can_split"], false);
    assert_eq!(linked["reports"][1]["reference"], json!(second));
    assert_eq!(linked["reports"][1]["can_split"], true);
    assert_eq!(w.count("triage", "SELECT count(*) FROM cases").await, 1);
    let history_len = linked["history"].as_array().unwrap().len();

    // Refused, changing nothing: another department's handler, the first report, no reason, no such case.
    let body = json!({"report": second, "reason": "a transport problem, not the batch defect"});
    let (status, e) = act(&w, &zhao, &first, "split", body.clone()).await;
    assert_eq!(status, 403, "{e}");
    let (status, e) = act(&w, &li, &first, "split", json!({"report": first, "reason": "x"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("report")), "{e}");
    let (status, e) = act(&w, &li, &first, "split", json!({"report": second})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("reason")), "{e}");
    let (status, e) = act(&w, &li, &first, "split", json!({"report": second, "reason": "  "})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("reason")), "{e}");
    let (status, _) = act(&w, &li, "SH01-20000101-9999", "split", body.clone()).await;
    assert_eq!(status, 404);
    let (_, unchanged) = get(&w, &li, &format!("/api/v1/cases/{first}")).await;
    assert_eq!(unchanged["report_count"], 2);
    assert_eq!(unchanged["history"].as_array().unwrap().len(), history_len);

    // The quality handler splits it: a new case from the second report, classified, routed and assigned.
    let (status, out) = act(&w, &li, &first, "split", body.clone()).await;
    assert_eq!(status, 201, "{out}");
    let new = &out["case"];
    assert_eq!(new["reference"], json!(second));
    assert_eq!(new["channel"], "email");
    assert_eq!(new["content"], second_content);
    assert_eq!(new["category"], "logistics");
    assert_eq!(new["department"], "sales");
    assert_eq!(new["assignee"], "s-zhao");
    assert_eq!(new["report_count"], 1);
    assert_eq!(new["reports"].as_array().unwrap().len(), 1);
    assert_eq!(new["reports"][0]["first"], true);
    let opened = &new["history"][0];
    assert_eq!(
        (opened["action"].as_str(), opened["actor"].as_str()),
        (Some("opened"), Some("qa-li"))
    );
    assert_eq!(opened["detail"]["split_from"]["reference"], json!(first));
    assert_eq!(opened["detail"]["reason"], body["reason"]);
    let old = &out["split_from"];
    assert_eq!(old["reference"], json!(first));
    assert_eq!(old["report_count"], 1);
    assert_eq!(old["reports"].as_array().unwrap().len(), 1);
    let last = old["history"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("report_split"), Some("qa-li"))
    );
    assert_eq!(last["detail"]["reason"], body["reason"]);
    assert_eq!(last["detail"]["new_case"]["reference"], json!(second));
    assert_eq!(last["changes"]["report_count"], json!([2, 1]));
    assert!(last["at"].is_string());
    // Both are cases now; the second reference finds its own case, which the sales handler may read.
    assert_eq!(w.count("triage", "SELECT count(*) FROM cases").await, 2);
    let (status, by_ref) = get(&w, &zhao, &format!("/api/v1/cases/{second}")).await;
    assert_eq!((status, by_ref["id"].clone()), (200, new["id"].clone()));
    // `case.opened` went out through the outbox: the scheduler runs the new case's clocks.
    eventually(Duration::from_secs(20), "the new case's clocks", || async {
        let r = w.get("scheduler", &format!("/api/v1/cases/{second}/deadlines")).await;
        (r.status() == 200).then_some(())
    })
    .await;

    // Splitting the same report again is refused and changes nothing.
    let (status, e) = act(&w, &li, &first, "split", body).await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("report")), "{e}");
    let (_, after) = get(&w, &li, &format!("/api/v1/cases/{first}")).await;
    assert_eq!(after["report_count"], 1);
    assert_eq!(after["history"], old["history"]);
    assert_eq!(w.count("triage", "SELECT count(*) FROM cases").await, 2);
}
