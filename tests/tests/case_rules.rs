//! Triage's case rules through its HTTP API, against the five services as processes: duplicates linked and
//! merged, claims decided before closing, reclassification and assignment, deadline extensions, the case list's
//! filters, order, pages and scopes, personal data by role, and histories that replay to the case's state.
mod common;

use std::{collections::BTreeSet, time::Duration};

use auth::Role;
use chrono::{DateTime, Utc};
use common::{world, World};
use serde_json::{json, Value};
use testkit::{eventually, Infra};
use triage::domain::workflow::{replay, CaseState, Classification, HistoryEntry};

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

fn handler(sub: &str, department: &str, site: &str) -> String {
    token(sub, vec![Role::Handler], Some(department), vec![site])
}

fn head(department: &str) -> String {
    token(
        &format!("{department}-head"),
        vec![Role::DepartmentHead],
        Some(department),
        vec!["sh01"],
    )
}

fn auditor() -> String {
    token("aud", vec![Role::Auditor], None, vec![])
}

fn marketing_manager() -> String {
    token("mm", vec![Role::MarketingManager], Some("sales"), vec![])
}

fn general_manager() -> String {
    token("gm", vec![Role::GeneralManager], None, vec![])
}

async fn act(w: &World, token: &str, case: &str, action: &str, body: Value) -> (u16, Value) {
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

/// An action that must succeed; the case afterwards.
async fn ok(w: &World, token: &str, case: &str, action: &str, body: Value) -> Value {
    let (status, out) = act(w, token, case, action, body).await;
    assert_eq!(status, 200, "{action} on {case}: {out}");
    out
}

async fn get(w: &World, token: &str, path: &str) -> (u16, Value) {
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

/// The case as the administrator sees it.
async fn case(w: &World, id: &str) -> Value {
    let (status, c) = get(w, &w.token, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(status, 200, "{id}: {c}");
    c
}

/// The case once `ready` holds for it.
async fn case_when(w: &World, id: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    eventually(Duration::from_secs(20), what, || async {
        let (_, c) = get(w, &w.token, &format!("/api/v1/cases/{id}")).await;
        ready(&c).then_some(c)
    })
    .await
}

/// Registers feedback (as staff when `staff`, so that `received_at` is honoured); its reference.
async fn submit_as(w: &World, staff: bool, body: Value) -> String {
    let mut r = w
        .http
        .post(format!("{}/api/v1/feedback", w.stack.url("intake")))
        .json(&body);
    if staff {
        r = r.bearer_auth(&w.token);
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn submit(w: &World, body: Value) -> String {
    submit_as(w, false, body).await
}

/// Registers feedback that opens a case of its own; the case.
async fn open_case(w: &World, body: Value) -> Value {
    let reference = submit(w, body).await;
    let c = w.wait_for_case(&reference).await;
    assert_eq!(c["reference"], json!(reference), "a case of its own");
    c
}

/// A product-quality complaint (defect, damaged packaging) from the customer with this phone.
fn quality(site: &str, phone: &str, batch: &str) -> Value {
    json!({
        "channel": "phone", "site": site, "customer": { "name": "张三丰", "phone": phone },
        "subject": "产品质量缺陷", "content": "收到的产品有质量缺陷，包装破损。",
        "product": { "code": "P-1", "batch": batch }
    })
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn actions(case: &Value) -> Vec<&str> {
    case["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| s(&h["action"]))
        .collect()
}

fn last_entry(case: &Value) -> &Value {
    case["history"].as_array().unwrap().last().unwrap()
}

fn references(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|c| s(&c["reference"]).to_owned())
        .collect()
}

/// The case's stored history, replayed from a blank case of the classification it opened with, gives exactly
/// its current workflow state.
fn assert_replays(case: &Value) {
    let history: Vec<HistoryEntry> = serde_json::from_value(case["history"].clone()).unwrap();
    assert_eq!(history[0].action, "opened", "{}", case["reference"]);
    let classification: Classification = serde_json::from_value(history[0].detail["classification"].clone()).unwrap();
    let id = s(&case["id"]).parse().unwrap();
    let current: CaseState = serde_json::from_value(case["workflow"].clone()).unwrap();
    assert_eq!(
        replay(&CaseState::new(id, classification), &history),
        current,
        "{} does not replay from its history {:?}",
        case["reference"],
        actions(case)
    );
}

fn time(v: &Value) -> DateTime<Utc> {
    s(v).parse().unwrap()
}

#[tokio::test]
async fn reports_of_one_problem_share_a_case_rules_read_words_and_parts_and_health_data_is_masked() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;

    // By phone: a defect of batch B-50.
    let first = open_case(
        &w,
        json!({
            "channel": "phone", "site": "sh01", "customer": { "name": "李雷", "phone": "13911112222" },
            "content": "收到的产品有质量缺陷，包装破损。", "product": { "code": "P-5", "batch": "B-50" }
        }),
    )
    .await;
    let id = s(&first["id"]).to_owned();
    assert_eq!(first["report_count"], 1);
    // By email a day later: the same phone written differently, the same product and batch, other words.
    let by_email = submit(
        &w,
        json!({
            "channel": "email", "site": "sh01",
            "customer": { "phone": "+86 139-1111-2222", "email": "li@example.com" },
            "content": "上周反映的那批货，到现在还没有人联系我。", "product": { "code": "p-5", "batch": "B-50" }
        }),
    )
    .await;
    let linked = case_when(&w, &id, "the email linked", |c| c["report_count"] == 2).await;
    let channels: Vec<&str> = linked["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(&r["channel"]))
        .collect();
    assert_eq!(channels, ["phone", "email"]);
    assert_eq!(linked["reports"][1]["reference"], json!(by_email));
    assert!(s(&linked["reports"][1]["reason"]).contains("batch B-50"), "{linked}");
    // Through the web form, without a product: nearly the same words from the same customer.
    let by_web = submit(
        &w,
        json!({
            "channel": "web", "site": "sh01", "customer": { "name": "李雷", "phone": "13911112222" },
            "content": "收到的产品有质量缺陷,包装破损!"
        }),
    )
    .await;
    let linked = case_when(&w, &id, "the web report linked", |c| c["report_count"] == 3).await;
    let channels: Vec<&str> = linked["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(&r["channel"]))
        .collect();
    assert_eq!(channels, ["phone", "email", "web"]);
    assert!(s(&linked["reports"][2]["reason"]).contains("text"), "{linked}");
    assert_eq!(actions(&linked), ["opened", "duplicate_linked", "duplicate_linked"]);
    for reference in [&by_email, &by_web] {
        assert_eq!(case(&w, reference).await["id"], json!(id), "{reference}");
    }
    // The very same words about another batch are another problem: a case of its own.
    let other_batch = open_case(
        &w,
        json!({
            "channel": "phone", "site": "sh01", "customer": { "name": "李雷", "phone": "13911112222" },
            "content": "收到的产品有质量缺陷，包装破损。", "product": { "code": "P-5", "batch": "B-51" }
        }),
    )
    .await;
    assert_ne!(other_batch["id"], json!(id));
    assert_eq!(other_batch["report_count"], 1);
    assert_eq!(case(&w, &id).await["report_count"], 3);

    // Latin keywords are words: "chocolate" does not say "late"; "late" does.
    let chocolate = open_case(
        &w,
        json!({"channel": "email", "site": "sh01", "customer": {"email": "a@example.com"},
               "content": "I love the chocolate you sent, thank you."}),
    )
    .await;
    assert_eq!(
        (&chocolate["category"], &chocolate["decided_by"]["rule"]),
        (&json!("consultation"), &json!("default"))
    );
    let late = open_case(
        &w,
        json!({"channel": "email", "site": "sh01", "customer": {"email": "b@example.com"},
               "content": "The parcel arrived late again."}),
    )
    .await;
    assert_eq!(
        (&late["category"], &late["department"], &late["decided_by"]["rule"]),
        (&json!("logistics"), &json!("sales"), &json!("logistics"))
    );
    // A claim decides by itself, without any keyword.
    let claim = open_case(
        &w,
        json!({"channel": "phone", "site": "sh01", "customer": {"phone": "13911113333"},
               "content": "请尽快处理退款", "claim": {"amount": "300.00", "currency": "CNY"}}),
    )
    .await;
    assert_eq!(
        (&claim["category"], &claim["decided_by"]["rule"]),
        (&json!("commercial"), &json!("claim"))
    );
    assert!(s(&claim["decided_by"]["reason"]).contains("claim"));

    // Adverse-reaction details make an adverse event: major, the quality department, and the management
    // representative involved.
    let adverse = open_case(
        &w,
        json!({
            "channel": "phone", "site": "sh01", "customer": { "name": "王小明", "phone": "13722220003" },
            "content": "服药后身体不适，头晕。", "product": { "code": "M-9", "batch": "L-90" },
            "adverse_reaction": { "onset": "服药后2小时", "dose": "每次10mg", "other_medicines": "阿司匹林" }
        }),
    )
    .await;
    let reference = s(&adverse["reference"]).to_owned();
    assert_eq!(adverse["category"], "adverse_event");
    assert_eq!(adverse["severity"], "major");
    assert_eq!(adverse["department"], "quality");
    assert_eq!(adverse["involved_roles"], json!(["management_representative"]));
    assert_eq!(
        adverse["history"][0]["detail"]["involved_roles"],
        json!(["management_representative"])
    );

    // Auditors and administrators see the customer masked and the health details withheld; a handler of the
    // case sees them in clear.
    let withheld = json!({ "onset": "***", "dose": "***", "other_medicines": "***" });
    for (who, t) in [("auditor", auditor()), ("administrator", w.token.clone())] {
        let (status, c) = get(&w, &t, &format!("/api/v1/cases/{reference}")).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(c["customer"]["name"], "王**", "{who}");
        assert_eq!(c["customer"]["phone"], "137****0003", "{who}");
        assert!(c["customer"].get("contact_key").is_none(), "{who}");
        assert_eq!(c["details"]["adverse_reaction"], withheld, "{who}");
        assert_eq!(c["details"]["product"]["batch"], "L-90", "{who}: the rest is kept");
    }
    // Also in the answer to the administrator's own action.
    let noted = ok(&w, &w.token, &reference, "note", json!({"text": "已通知管理者代表"})).await;
    assert_eq!(noted["details"]["adverse_reaction"], withheld);
    assert_eq!(noted["customer"]["phone"], "137****0003");
    let (status, clear) = get(
        &w,
        &handler("h1", "quality", "sh01"),
        &format!("/api/v1/cases/{reference}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(clear["customer"]["name"], "王小明");
    assert_eq!(clear["customer"]["phone"], "13722220003");
    assert_eq!(
        clear["details"]["adverse_reaction"],
        json!({ "onset": "服药后2小时", "dose": "每次10mg", "other_medicines": "阿司匹林" })
    );
}

#[tokio::test]
async fn merging_takes_the_reports_along_reopening_unmerges_and_every_history_replays() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.ensure_staff("h1", &["handler"], Some("quality"), &["sh01"]).await;
    w.ensure_staff("s1", &["handler"], Some("sales"), &["sh01"]).await;
    let h1 = handler("h1", "quality", "sh01");
    let s1 = handler("s1", "sales", "sh01");
    let (quality_head, mm) = (head("quality"), marketing_manager());

    // T, the target: a complaint with a claim of 1,500 CNY. S: another customer about the same batch, who
    // wrote twice (linked to S). C is closed, R rejected, L another department's, B another site's.
    let mut t_body = quality("sh01", "13700000001", "B-1");
    t_body["claim"] = json!({ "amount": "1500.00", "currency": "CNY", "return_quantity": 5 });
    let t = open_case(&w, t_body).await;
    assert_eq!(t["assignee"], "h1");
    let (t_id, t_ref) = (s(&t["id"]).to_owned(), s(&t["reference"]).to_owned());
    let s_case = open_case(&w, quality("sh01", "13700000002", "B-1")).await;
    let (s_id, s_ref) = (s(&s_case["id"]).to_owned(), s(&s_case["reference"]).to_owned());
    let s2 = submit(
        &w,
        json!({"channel": "email", "site": "sh01", "customer": {"phone": "13700000002", "email": "s@example.com"},
               "content": "同一批次，再次反馈", "product": {"code": "P-1", "batch": "B-1"}}),
    )
    .await;
    case_when(&w, &s_id, "S's second report", |c| c["report_count"] == 2).await;
    let c = open_case(&w, quality("sh01", "13700000003", "B-3")).await;
    let c_id = s(&c["id"]).to_owned();
    for (who, action, body) in [
        (&h1, "acknowledge", json!({})),
        (&h1, "reply", json!({"text": "已安排换货"})),
        (&h1, "resolve", json!({"summary": "换货完成"})),
        (&quality_head, "close", json!({"outcome": "resolved"})),
    ] {
        ok(&w, who, &c_id, action, body).await;
    }
    let r = open_case(&w, quality("sh01", "13700000004", "B-4")).await;
    let r_id = s(&r["id"]).to_owned();
    ok(&w, &h1, &r_id, "reject", json!({"reason": "非本公司产品"})).await;
    let l = open_case(
        &w,
        json!({"channel": "email", "site": "sh01", "customer": {"email": "l@example.com"},
               "content": "物流运输延迟，发票丢失"}),
    )
    .await;
    let b = open_case(&w, quality("bj01", "13700000006", "B-6")).await;

    // Refused, changing nothing.
    let s_before = case(&w, &s_id).await;
    for (into, status, why) in [
        (c_id.as_str(), 422, "closed"),
        (r_id.as_str(), 422, "rejected"),
        (s_id.as_str(), 422, "itself"),
        ("5f0c3a52-1d7e-4c1e-9a53-3b0f4c2b9d11", 422, "no such case"),
        (s(&l["id"]), 403, "department sales"),
        (s(&b["id"]), 403, "site bj01"),
    ] {
        let (got, e) = act(&w, &h1, &s_id, "merge", json!({ "into_case": into })).await;
        assert_eq!(got, status, "merge into {why}: {e}");
        if status == 422 {
            assert_eq!(e["error"]["field"], "into_case", "{why}: {e}");
        }
        assert!(s(&e["error"]["message"]).contains(why), "{why}: {e}");
    }
    let s_after = case(&w, &s_id).await;
    assert_eq!(s_after["history"], s_before["history"]);
    assert_eq!(
        (&s_after["status"], &s_after["report_count"]),
        (&json!("new"), &json!(2))
    );
    assert_eq!(case(&w, &t_id).await["report_count"], 1);

    // Merged: S is closed as merged, its two reports now count for T.
    let merged = ok(&w, &h1, &s_id, "merge", json!({ "into_case": t_id })).await;
    assert_eq!(merged["status"], "closed");
    assert_eq!(merged["workflow"]["merged_into"], json!(t_id));
    assert_eq!(merged["workflow"]["outcome"], "merged");
    assert_eq!(merged["report_count"], 0);
    let target = case(&w, &t_id).await;
    assert_eq!(target["report_count"], 3);
    let entry = last_entry(&target);
    assert_eq!(
        (&entry["action"], &entry["actor"]),
        (&json!("duplicate_merged"), &json!("h1"))
    );
    assert_eq!(entry["detail"]["reference"], json!(s_ref));
    assert_eq!(entry["changes"]["report_count"], json!([1, 3]));
    let merged_from: Vec<(&str, &Value)> = target["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (s(&r["reference"]), &r["merged_from"]))
        .collect();
    assert_eq!(
        merged_from,
        [
            (t_ref.as_str(), &Value::Null),
            (s_ref.as_str(), &json!(s_ref)),
            (s2.as_str(), &json!(s_ref))
        ]
    );
    // S's own reference still finds S (its report now belongs to T, whose reference the second report gives),
    // also after the scheduler stopped S's clocks.
    case_when(&w, &s_id, "S's clocks stopped", |c| {
        c["deadlines"]
            .as_array()
            .is_some_and(|d| !d.is_empty() && d.iter().all(|d| !d["stopped_at"].is_null()))
    })
    .await;
    let by_reference = case(&w, &s_ref).await;
    assert_eq!(by_reference["id"], json!(s_id));
    assert_eq!(case(&w, &s2).await["id"], json!(t_id));
    assert_eq!(
        act(&w, &h1, &s_id, "merge", json!({ "into_case": t_id })).await.0,
        409,
        "a merged case is closed"
    );

    // Reopening S (by its reference) un-merges it: the reports go back.
    let reopened = ok(&w, &h1, &s_ref, "reopen", json!({"reason": "不是同一问题"})).await;
    assert_eq!(reopened["id"], json!(s_id));
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(reopened["workflow"]["merged_into"], Value::Null);
    assert_eq!(reopened["report_count"], 2);
    assert!(reopened["reports"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["merged_from"].is_null()));
    let target = case(&w, &t_id).await;
    assert_eq!(target["report_count"], 1);
    assert_eq!(target["reports"].as_array().unwrap().len(), 1);
    let entry = last_entry(&target);
    assert_eq!(entry["action"], "duplicate_unmerged");
    assert_eq!(entry["changes"]["report_count"], json!([3, 1]));

    // T goes a long way: containment, an extension, the claim approved, a reply, a duplicate linked and split
    // out again, reclassified into another department, waiting for the customer, resolved, closed, reopened.
    ok(&w, &h1, &t_id, "acknowledge", json!({})).await;
    ok(&w, &h1, &t_id, "record_containment", json!({"text": "批次B-1停止发货"})).await;
    let clocked = w.wait_for_clock(&t_ref, "eight_d_reply").await;
    let due = clocked["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["clock"] == "eight_d_reply")
        .map(|d| time(&d["due_at"]))
        .unwrap();
    ok(
        &w,
        &h1,
        &t_id,
        "extend_deadline",
        json!({"clock": "eight_d_reply", "new_due": due + chrono::Duration::days(2), "reason": "等待实验室结果"}),
    )
    .await;
    let r = w
        .http
        .post(format!("{}/api/v1/cases/{t_id}/claim/approve", w.stack.url("triage")))
        .bearer_auth(&mm)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ok(&w, &h1, &t_id, "reply", json!({"text": "同意退货，已安排"})).await;
    let again = submit(
        &w,
        json!({"channel": "email", "site": "sh01", "customer": {"phone": "13700000001", "email": "t@example.com"},
               "content": "运输途中又丢了一箱", "product": {"code": "P-1", "batch": "B-1"}}),
    )
    .await;
    case_when(&w, &t_id, "T's second report", |c| c["report_count"] == 2).await;
    let r = w
        .http
        .post(format!("{}/api/v1/cases/{t_id}/split", w.stack.url("triage")))
        .bearer_auth(&h1)
        .json(&json!({"report": again, "reason": "运输问题，不是批次缺陷"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reclassified = ok(
        &w,
        &quality_head,
        &t_id,
        "reclassify",
        json!({"class": "complaint", "category": "logistics", "severity": "general", "reason": "实为运输损坏"}),
    )
    .await;
    assert_eq!(
        (&reclassified["department"], &reclassified["assignee"]),
        (&json!("sales"), &json!("s1"))
    );
    ok(&w, &s1, &t_id, "wait_for_customer", json!({})).await;
    ok(&w, &s1, &t_id, "customer_responded", json!({})).await;
    ok(&w, &s1, &t_id, "resolve", json!({"summary": "已退货退款"})).await;
    ok(&w, &mm, &t_id, "close", json!({"outcome": "同意退货"})).await;
    ok(&w, &mm, &t_id, "reopen", json!({"reason": "客户回访不满意"})).await;

    let t = case(&w, &t_id).await;
    assert_eq!(
        actions(&t),
        [
            "opened",
            "duplicate_merged",
            "duplicate_unmerged",
            "acknowledge",
            "record_containment",
            "extend_deadline",
            "claim_approved",
            "reply",
            "duplicate_linked",
            "report_split",
            "reclassify",
            "wait_for_customer",
            "customer_responded",
            "resolve",
            "close",
            "reopen"
        ]
    );
    assert_replays(&t);
    for id in [s_id.as_str(), &again, &c_id, &r_id] {
        assert_replays(&case(&w, id).await);
    }
}

#[tokio::test]
async fn claims_are_decided_by_those_who_may_and_before_the_case_closes() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.ensure_staff("h1", &["handler"], Some("quality"), &["sh01"]).await;
    let h1 = handler("h1", "quality", "sh01");
    let quality_head = head("quality");
    let (mm, gm) = (marketing_manager(), general_manager());
    let agent = token("ag", vec![Role::Agent], Some("quality"), vec!["sh01"]);
    let with_claim = |phone: &str, claim: Value| {
        let mut v = quality("sh01", phone, "B-8");
        v["claim"] = claim;
        v
    };
    let claim_call = |who: &str, case: &str, decision: &str, body: Value| {
        let (w, who, case, decision) = (&w, who.to_owned(), case.to_owned(), decision.to_owned());
        async move {
            let r = w
                .http
                .post(format!(
                    "{}/api/v1/cases/{case}/claim/{decision}",
                    w.stack.url("triage")
                ))
                .bearer_auth(who)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let shelf_life = json!({"reason": "past_shelf_life"});

    // 1,500 CNY: the marketing manager must approve, or somebody who may must reject it.
    let k1 = open_case(
        &w,
        with_claim("13500000001", json!({"amount": "1500.00", "currency": "CNY"})),
    )
    .await;
    let k1 = s(&k1["id"]).to_owned();
    // Merging closes a case too: not while its claim is undecided.
    let other = open_case(&w, quality("sh01", "13500000009", "B-9")).await;
    let (status, e) = act(&w, &h1, &k1, "merge", json!({ "into_case": other["id"] })).await;
    assert_eq!((status, &e["error"]["code"]), (409, &json!("claim_state")), "{e}");
    assert!(s(&e["error"]["message"]).contains("marketing_manager"), "{e}");
    for (who, t) in [
        ("auditor", auditor()),
        ("agent", agent.clone()),
        ("another department's handler", handler("s1", "sales", "sh01")),
    ] {
        let (status, e) = claim_call(&t, &k1, "reject", shelf_life.clone()).await;
        assert_eq!(status, 403, "{who} rejects: {e}");
        assert!(e["error"]["message"].is_string(), "{who}: a reason");
    }
    for (who, t) in [("handler", h1.clone()), ("general manager (not required)", gm.clone())] {
        assert_eq!(claim_call(&t, &k1, "approve", json!({})).await.0, 403, "{who} approves");
    }
    for (action, body) in [
        ("acknowledge", json!({})),
        ("reply", json!({"text": "正在核实"})),
        ("resolve", json!({"summary": "已核实"})),
    ] {
        ok(&w, &h1, &k1, action, body).await;
    }
    // Undecided: no outcome at all closes it.
    for outcome in ["resolved", "explained", "同意退货"] {
        let (status, e) = act(&w, &quality_head, &k1, "close", json!({ "outcome": outcome })).await;
        assert_eq!(status, 409, "closing an undecided claim as {outcome}: {e}");
        assert!(s(&e["error"]["message"]).contains("marketing_manager"), "{e}");
    }
    let (status, e) = claim_call(&h1, &k1, "reject", json!({"reason": "because"})).await;
    assert_eq!((status, &e["error"]["field"]), (422, &json!("reason")), "{e}");
    // The case's handler rejects it for a configured reason.
    let (status, rejected) = claim_call(&h1, &k1, "reject", shelf_life.clone()).await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(rejected["claim"]["rejection"], "past_shelf_life");
    assert_eq!(last_entry(&rejected)["action"], "claim_rejected");
    assert_eq!(claim_call(&mm, &k1, "approve", json!({})).await.0, 409, "rejected");
    assert_eq!(claim_call(&h1, &k1, "reject", shelf_life.clone()).await.0, 409, "twice");
    for outcome in ["accepted", "Claim accepted", "同意退货"] {
        let (status, e) = act(&w, &quality_head, &k1, "close", json!({ "outcome": outcome })).await;
        assert_eq!(status, 409, "a rejected claim closed as {outcome}: {e}");
    }
    let closed = ok(&w, &quality_head, &k1, "close", json!({"outcome": "explained"})).await;
    assert_eq!(closed["status"], "closed");
    // Closed: nothing more to decide.
    assert_eq!(claim_call(&mm, &k1, "approve", json!({})).await.0, 409);
    assert_eq!(claim_call(&h1, &k1, "reject", shelf_life.clone()).await.0, 409);

    // 2,500 CNY: approved by the marketing manager, still undecided without the general manager, who, being a
    // required approver, may reject it instead.
    let k2 = open_case(
        &w,
        with_claim("13500000002", json!({"amount": "2500.00", "currency": "CNY"})),
    )
    .await;
    let k2 = s(&k2["id"]).to_owned();
    for (action, body) in [
        ("acknowledge", json!({})),
        ("reply", json!({"text": "正在核实"})),
        ("resolve", json!({"summary": "已核实"})),
    ] {
        ok(&w, &h1, &k2, action, body).await;
    }
    assert_eq!(claim_call(&mm, &k2, "approve", json!({})).await.0, 200);
    let (status, e) = act(&w, &quality_head, &k2, "close", json!({"outcome": "resolved"})).await;
    assert_eq!(status, 409, "{e}");
    assert!(s(&e["error"]["message"]).contains("general_manager"), "{e}");
    let (status, rejected) = claim_call(&gm, &k2, "reject", json!({"reason": "met_contract"})).await;
    assert_eq!(status, 200, "{rejected}");
    assert_eq!(
        act(&w, &quality_head, &k2, "close", json!({"outcome": "同意赔偿"}))
            .await
            .0,
        409
    );
    ok(&w, &quality_head, &k2, "close", json!({"outcome": "resolved"})).await;

    // What cannot be valued in CNY is not waved through.
    let usd = open_case(
        &w,
        with_claim("13500000003", json!({"amount": "100.00", "currency": "USD"})),
    )
    .await;
    assert_eq!(
        usd["claim"]["required"],
        json!(["marketing_manager", "general_manager"])
    );
    assert!(s(&usd["claim"]["note"]).contains("USD"));
    let ret = open_case(&w, with_claim("13500000004", json!({"return_quantity": 10}))).await;
    assert_eq!(ret["claim"]["required"], json!(["marketing_manager"]));
    assert_eq!(ret["claim"]["currency"], "CNY");
    let small = open_case(
        &w,
        with_claim("13500000005", json!({"amount": "999.99", "currency": "CNY"})),
    )
    .await;
    assert_eq!(small["claim"]["required"], json!([]));
    let small = s(&small["id"]).to_owned();
    for (action, body) in [("acknowledge", json!({})), ("reply", json!({"text": "同意退货"}))] {
        ok(&w, &h1, &small, action, body).await;
    }
    ok(&w, &quality_head, &small, "close", json!({"outcome": "accepted"})).await;
}

#[tokio::test]
async fn assignees_must_handle_the_case_reclassifying_moves_it_and_only_running_clocks_extend() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let quality_head = head("quality");

    // Nobody handles quality yet: the case opens without an assignee, and acknowledged it is triaged.
    let n = open_case(&w, quality("sh01", "13600000001", "B-1")).await;
    assert_eq!(n["assignee"], Value::Null);
    let n_id = s(&n["id"]).to_owned();
    assert_eq!(
        ok(&w, &quality_head, &n_id, "acknowledge", json!({})).await["status"],
        "triaged"
    );

    for (id, roles, department, sites) in [
        ("q-li", &["handler"][..], "quality", &["sh01"][..]),
        ("q-wang", &["handler"], "quality", &["sh01"]),
        ("q-gone", &["handler"], "quality", &["sh01"]),
        ("q-agent", &["agent"], "quality", &["sh01"]),
        ("q-bj", &["handler"], "quality", &["bj01"]),
        ("s-zhao", &["handler"], "sales", &["sh01"]),
    ] {
        w.ensure_staff(id, roles, Some(department), sites).await;
    }
    let r = w
        .http
        .patch(format!("{}/api/v1/staff/q-gone", w.stack.url("triage")))
        .bearer_auth(&w.token)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Now the department's rule names the responsible person when the case opens (fewest open cases, ties by
    // name; not the deactivated account, not the other site's handler), and acknowledging hands it over.
    let a = open_case(&w, quality("sh01", "13600000002", "B-2")).await;
    let a_id = s(&a["id"]).to_owned();
    assert_eq!((&a["assignee"], &a["status"]), (&json!("q-li"), &json!("new")));
    assert!(s(&a["history"][0]["detail"]["assigned_by"]).contains("fewest open"));
    let acknowledged = ok(&w, &handler("q-li", "quality", "sh01"), &a_id, "acknowledge", json!({})).await;
    assert_eq!(acknowledged["status"], "assigned");

    // Only active staff who handle cases of this department at this site can be made responsible.
    let (n_before, a_before) = (case(&w, &n_id).await, case(&w, &a_id).await);
    for (who, why) in [
        ("nobody", "no staff account"),
        ("q-gone", "deactivated"),
        ("q-agent", "does not handle cases"),
        ("s-zhao", "department"),
        ("q-bj", "site sh01"),
    ] {
        for (id, action) in [(&n_id, "assign"), (&a_id, "reassign")] {
            let (status, e) = act(&w, &quality_head, id, action, json!({ "assignee": who })).await;
            assert_eq!(status, 422, "{action} to {who}: {e}");
            assert_eq!(e["error"]["field"], "assignee", "{action} to {who}");
            assert!(s(&e["error"]["message"]).contains(why), "{action} to {who}: {e}");
        }
    }
    assert_eq!(case(&w, &n_id).await["history"], n_before["history"]);
    assert_eq!(case(&w, &a_id).await["history"], a_before["history"]);
    let assigned = ok(&w, &quality_head, &n_id, "assign", json!({"assignee": "q-wang"})).await;
    assert_eq!(
        (&assigned["status"], &assigned["assignee"]),
        (&json!("assigned"), &json!("q-wang"))
    );
    // The id is stored as it was checked (not with the spaces of a careless client).
    let reassigned = ok(&w, &quality_head, &a_id, "reassign", json!({"assignee": " q-wang "})).await;
    assert_eq!(reassigned["assignee"], "q-wang");
    assert_eq!(
        last_entry(&reassigned)["changes"]["assignee"],
        json!(["q-li", "q-wang"])
    );

    // Reclassifying: an unknown class, category or severity is refused naming it, and nothing changes.
    for (field, class, category, severity) in [
        ("class", "grumble", "logistics", "general"),
        ("category", "complaint", "weather", "general"),
        ("severity", "complaint", "logistics", "urgent"),
    ] {
        let body = json!({"class": class, "category": category, "severity": severity, "reason": "x"});
        let (status, e) = act(&w, &quality_head, &a_id, "reclassify", body).await;
        assert_eq!((status, &e["error"]["field"]), (422, &json!(field)), "{e}");
    }
    let unchanged = case(&w, &a_id).await;
    assert_eq!(unchanged["history"], reassigned["history"]);
    assert_eq!(
        (&unchanged["category"], &unchanged["department"]),
        (&json!("product_quality"), &json!("quality"))
    );
    // Into logistics: the sales department's, and its rule gives it to a sales handler.
    let moved = ok(
        &w,
        &quality_head,
        &a_id,
        "reclassify",
        json!({"class": "complaint", "category": " logistics ", "severity": "general", "reason": "运输途中损坏"}),
    )
    .await;
    assert_eq!(
        (&moved["category"], &moved["department"], &moved["assignee"]),
        (&json!("logistics"), &json!("sales"), &json!("s-zhao"))
    );
    let entry = last_entry(&moved);
    assert_eq!(entry["changes"]["department"], json!(["quality", "sales"]));
    assert_eq!(entry["changes"]["assignee"], json!(["q-wang", "s-zhao"]));
    assert!(s(&entry["detail"]["assigned_by"]).contains("round robin"));
    // It is the sales department's case now.
    assert_eq!(act(&w, &quality_head, &a_id, "note", json!({"text": "x"})).await.0, 403);
    ok(
        &w,
        &handler("s-zhao", "sales", "sh01"),
        &a_id,
        "note",
        json!({"text": "已接手"}),
    )
    .await;

    // Deadlines: only a running clock of the case, to a later time.
    let q_wang = handler("q-wang", "quality", "sh01");
    let n_ref = s(&n["reference"]).to_owned();
    let extend =
        |clock: &str, new_due: DateTime<Utc>| json!({"clock": clock, "new_due": new_due, "reason": "等待检测报告"});
    let in_ten_days = Utc::now() + chrono::Duration::days(10);
    let (status, e) = act(&w, &q_wang, &n_id, "extend_deadline", extend("tea_break", in_ten_days)).await;
    assert_eq!((status, &e["error"]["field"]), (422, &json!("clock")), "{e}");
    // The acknowledgement stopped the registration clock.
    case_when(&w, &n_id, "the registration clock stopped", |c| {
        c["deadlines"].as_array().is_some_and(|d| {
            d.iter()
                .any(|d| d["clock"] == "registration" && !d["stopped_at"].is_null())
        })
    })
    .await;
    let (status, e) = act(
        &w,
        &q_wang,
        &n_id,
        "extend_deadline",
        extend("registration", in_ten_days),
    )
    .await;
    assert_eq!((status, &e["error"]["field"]), (422, &json!("clock")), "{e}");
    let clocked = w.wait_for_clock(&n_ref, "eight_d_reply").await;
    let due = clocked["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["clock"] == "eight_d_reply")
        .map(|d| time(&d["due_at"]))
        .unwrap();
    // Earlier than the clock's due time is no extension (the scheduler would keep the old date).
    let (status, e) = act(
        &w,
        &q_wang,
        &n_id,
        "extend_deadline",
        extend("eight_d_reply", due - chrono::Duration::hours(1)),
    )
    .await;
    assert_eq!((status, &e["error"]["field"]), (422, &json!("new_due")), "{e}");
    let new_due = due + chrono::Duration::days(3);
    let extended = ok(&w, &q_wang, &n_id, "extend_deadline", extend("eight_d_reply", new_due)).await;
    assert_eq!(
        time(&extended["workflow"]["extended_deadlines"]["eight_d_reply"]),
        new_due
    );
    case_when(&w, &n_id, "the clock's new due time", |c| {
        c["deadlines"].as_array().is_some_and(|d| {
            d.iter()
                .any(|d| d["clock"] == "eight_d_reply" && time(&d["due_at"]) == new_due)
        })
    })
    .await;

    // A clock already past its due time cannot be extended any more: registered three days late.
    let mut late = quality("sh01", "13600000003", "B-3");
    late["received_at"] = json!(Utc::now() - chrono::Duration::days(3));
    let late = submit_as(&w, true, late).await;
    let breached = case_when(&w, &late, "the registration clock breached", |c| {
        c["deadlines"].as_array().is_some_and(|d| {
            d.iter()
                .any(|d| d["clock"] == "registration" && d["status"] == "breached")
        })
    })
    .await;
    assert_eq!(breached["overdue"], true);
    let (status, e) = act(
        &w,
        &w.token,
        &late,
        "extend_deadline",
        extend("registration", in_ten_days),
    )
    .await;
    assert_eq!((status, &e["error"]["field"]), (422, &json!("clock")), "{e}");
}

#[tokio::test]
async fn the_case_list_filters_orders_pages_and_scopes_exactly() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let gm = general_manager();
    let now = Utc::now();
    let (three_days_ago, two_days_ago) = (now - chrono::Duration::days(3), now - chrono::Duration::days(2));

    // The seeded cases: name → reference.
    let mut q1 = quality("sh01", "13300000001", "B-1");
    q1["received_at"] = json!(three_days_ago);
    let q1 = submit_as(&w, true, q1).await;
    let mut q2 = quality("sh01", "13300000002", "B-2");
    q2["content"] = json!("充电时电池起火，差点受伤");
    let q2 = submit(&w, q2).await;
    let q3 = submit(&w, quality("bj01", "13300000003", "B-3")).await;
    let l1 = submit_as(
        &w,
        true,
        json!({"channel": "email", "site": "sh01", "customer": {"email": "l1@example.com"},
               "content": "物流运输延迟，发票丢失", "received_at": two_days_ago}),
    )
    .await;
    let s1 = submit(
        &w,
        json!({"channel": "web", "site": "sh01", "customer": {"email": "s1@example.com"},
               "content": "建议增加小包装规格"}),
    )
    .await;
    let c1 = submit(
        &w,
        json!({"channel": "phone", "site": "bj01", "customer": {"phone": "13300000006"},
               "content": "请问保修期多久？"}),
    )
    .await;
    let r1 = submit(&w, quality("sh01", "13300000007", "B-7")).await;
    let all = [&q1, &q2, &q3, &l1, &s1, &c1, &r1];
    for reference in all {
        w.wait_for_case(reference).await;
    }
    w.ensure_staff("h1", &["handler"], Some("quality"), &["sh01"]).await;
    let quality_head = head("quality");
    ok(&w, &quality_head, &q1, "assign", json!({"assignee": "h1"})).await;
    ok(&w, &quality_head, &q3, "acknowledge", json!({})).await;
    ok(&w, &quality_head, &r1, "reject", json!({"reason": "误解了使用说明"})).await;

    // Once the scheduler's clocks are known: every case has a nearest due time but the rejected one, whose clocks
    // stopped; the two that arrived days ago are overdue.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, page) = get(&w, &gm, "/api/v1/cases?limit=200").await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        let ready = items.len() == all.len()
            && items.iter().all(|c| {
                let reference = s(&c["reference"]);
                if reference == r1 {
                    c["next_due_at"].is_null()
                } else if reference == q1 || reference == l1 {
                    c["overdue"] == true
                } else {
                    !c["next_due_at"].is_null() && c["overdue"] == false
                }
            });
        if ready {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the seeded cases' clocks: {:#?}",
            items
                .iter()
                .map(|c| (&c["reference"], &c["status"], &c["next_due_at"], &c["overdue"]))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let list = |who: String, query: String| {
        let w = &w;
        async move {
            let (status, page) = get(w, &who, &format!("/api/v1/cases?limit=200&{query}")).await;
            assert_eq!(status, 200, "{query}: {page}");
            assert!(page["next_cursor"].is_null(), "{query}: one page");
            let mut refs = references(&page["items"]);
            refs.sort();
            refs
        }
    };
    let set = |refs: &[&String]| {
        let mut v: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
        v.sort();
        v
    };
    let (d3, d2) = (three_days_ago.date_naive(), two_days_ago.date_naive());
    for (query, expected) in [
        ("status=new".to_owned(), set(&[&q2, &l1, &s1, &c1])),
        ("status=triaged,assigned".to_owned(), set(&[&q1, &q3])),
        ("status=open".to_owned(), set(&[&q1, &q2, &q3, &l1, &s1, &c1])),
        ("status=rejected".to_owned(), set(&[&r1])),
        ("site=bj01".to_owned(), set(&[&q3, &c1])),
        ("department=quality".to_owned(), set(&[&q1, &q2, &q3, &r1])),
        ("department=technical".to_owned(), set(&[&s1])),
        ("class=important".to_owned(), set(&[&s1])),
        ("class=general".to_owned(), set(&[&c1])),
        ("category=logistics".to_owned(), set(&[&l1])),
        ("category=product_quality".to_owned(), set(&[&q1, &q2, &q3, &r1])),
        ("severity=major".to_owned(), set(&[&q2])),
        ("severity=general".to_owned(), set(&[&l1, &s1, &c1])),
        ("assignee=h1".to_owned(), set(&[&q1])),
        ("overdue=true".to_owned(), set(&[&q1, &l1])),
        ("overdue=false".to_owned(), set(&[&q2, &q3, &s1, &c1, &r1])),
        ("text=%E8%B5%B7%E7%81%AB".to_owned(), set(&[&q2])), // 起火
        ("text=%E5%8F%91%E7%A5%A8".to_owned(), set(&[&l1])), // 发票
        (format!("text={q3}"), set(&[&q3])),
        (format!("from={d3}&to={d3}"), set(&[&q1])),
        (format!("from={d2}&to={d2}"), set(&[&l1])),
        (format!("to={d2}"), set(&[&q1, &l1])),
        (format!("from={d2}"), set(&[&q2, &q3, &l1, &s1, &c1, &r1])),
        ("department=quality&site=sh01&status=open".to_owned(), set(&[&q1, &q2])),
    ] {
        assert_eq!(list(gm.clone(), query.clone()).await, expected, "{query}");
    }

    // By role: a handler sees their department at their site, a department head their department everywhere,
    // a manager and an auditor everything.
    for (who, t, expected) in [
        ("handler", handler("h1", "quality", "sh01"), set(&[&q1, &q2, &r1])),
        ("department head", quality_head.clone(), set(&[&q1, &q2, &q3, &r1])),
        ("bj01 sales handler", handler("s9", "sales", "bj01"), set(&[&c1])),
        ("general manager", gm.clone(), set(&all)),
        ("auditor", auditor(), set(&all)),
    ] {
        assert_eq!(list(t, String::new()).await, expected, "{who}");
    }

    // Nearest deadline first: the overdue ones, then by due time, cases without a counting clock last.
    let (_, due) = get(&w, &gm, "/api/v1/cases?sort=due&limit=200").await;
    let items = due["items"].as_array().unwrap();
    let order = references(&due["items"]);
    assert_eq!(set(&[&order[0], &order[1]]), set(&[&q1, &l1]), "{order:?}");
    assert_eq!(order.last(), Some(&r1), "{order:?}");
    let dues: Vec<DateTime<Utc>> = items[..items.len() - 1]
        .iter()
        .map(|c| time(&c["next_due_at"]))
        .collect();
    assert!(dues.windows(2).all(|p| p[0] <= p[1]), "{dues:?}");
    // Pages of two through either order give every case once, in the same order.
    for sort in ["due", "newest"] {
        let (_, whole) = get(&w, &gm, &format!("/api/v1/cases?sort={sort}&limit=200")).await;
        let whole = references(&whole["items"]);
        let mut paged = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/cases?sort={sort}&limit=2");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, page) = get(&w, &gm, &path).await;
            assert_eq!(status, 200, "{page}");
            assert!(page["items"].as_array().unwrap().len() <= 2);
            paged.extend(references(&page["items"]));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(paged, whole, "sort={sort}");
        assert_eq!(paged.iter().collect::<BTreeSet<_>>().len(), all.len(), "sort={sort}");
    }
    assert_newest_first(&w, &gm).await;

    // Bad parameters: a JSON 422 naming the parameter.
    let (_, first_page) = get(&w, &gm, "/api/v1/cases?limit=2").await;
    let newest_cursor = s(&first_page["next_cursor"]).to_owned();
    for (query, field) in [
        ("sort=oldest".to_owned(), "sort"),
        ("limit=0".to_owned(), "limit"),
        ("limit=201".to_owned(), "limit"),
        ("limit=ten".to_owned(), "limit"),
        ("status=sleeping".to_owned(), "status"),
        ("status=open,bogus".to_owned(), "status"),
        ("status=".to_owned(), "status"),
        ("cursor=nonsense".to_owned(), "cursor"),
        (format!("sort=due&cursor={newest_cursor}"), "cursor"),
        ("from=2026-13-01".to_owned(), "from"),
        (format!("from={d2}&to={d3}"), "to"),
    ] {
        let r = w
            .http
            .get(format!("{}/api/v1/cases?{query}", w.stack.url("triage")))
            .bearer_auth(&gm)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{query}");
        assert!(r
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("application/json")));
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], field, "{query}: {e}");
    }

    // Acting outside one's scope is a 403 that says why; auditors read but never act.
    let (status, e) = act(&w, &handler("h1", "quality", "sh01"), &q3, "note", json!({"text": "x"})).await;
    assert_eq!(status, 403);
    assert!(s(&e["error"]["message"]).contains("site bj01"), "{e}");
    assert_eq!(
        get(&w, &handler("h1", "quality", "sh01"), &format!("/api/v1/cases/{q3}"))
            .await
            .0,
        403
    );
    assert_eq!(get(&w, &quality_head, &format!("/api/v1/cases/{q3}")).await.0, 200);
    ok(&w, &quality_head, &q3, "note", json!({"text": "北京的同事请跟进"})).await;
    let (status, e) = act(&w, &quality_head, &l1, "note", json!({"text": "x"})).await;
    assert_eq!(status, 403);
    assert!(s(&e["error"]["message"]).contains("department sales"), "{e}");
    let aud = auditor();
    let (status, read) = get(&w, &aud, &format!("/api/v1/cases/{q1}")).await;
    assert_eq!(status, 200);
    assert_eq!(read["allowed_actions"], json!([]));
    for (action, body) in [
        ("note", json!({"text": "x"})),
        ("reply", json!({"text": "x"})),
        ("reassign", json!({"assignee": "h1"})),
        (
            "reclassify",
            json!({"class": "general", "category": "consultation", "severity": "general", "reason": "x"}),
        ),
        ("reject", json!({"reason": "x"})),
    ] {
        let (status, e) = act(&w, &aud, &q1, action, body).await;
        assert_eq!(status, 403, "auditor {action}: {e}");
        assert!(!s(&e["error"]["message"]).is_empty());
    }
    let after = case(&w, &q1).await;
    assert!(
        after["history"].as_array().unwrap().iter().all(|h| h["actor"] != "aud"),
        "{}",
        after["history"]
    );
    assert_eq!(after["status"], "assigned");
}

/// The default order is by opening time, latest first.
async fn assert_newest_first(w: &World, token: &str) {
    let (_, newest) = get(w, token, "/api/v1/cases?limit=200").await;
    let opened: Vec<DateTime<Utc>> = newest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| time(&c["opened_at"]))
        .collect();
    assert!(opened.windows(2).all(|p| p[0] >= p[1]), "{opened:?}");
}

#[tokio::test]
async fn unmerging_takes_back_what_a_merge_brought_even_after_a_later_merge_moved_it_on() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let h1 = handler("h1", "quality", "sh01");
    // A (two reports: its own and a duplicate), B and C: three cases about batch B-7 from three customers.
    let a = open_case(&w, quality("sh01", "13600000001", "B-7")).await;
    let a_id = s(&a["id"]).to_owned();
    submit(
        &w,
        json!({"channel": "email", "site": "sh01", "customer": {"phone": "13600000001", "email": "a@example.com"},
               "content": "同一批次，再次反馈", "product": {"code": "P-1", "batch": "B-7"}}),
    )
    .await;
    case_when(&w, &a_id, "A's second report", |c| c["report_count"] == 2).await;
    let b = open_case(&w, quality("sh01", "13600000002", "B-7")).await;
    let c = open_case(&w, quality("sh01", "13600000003", "B-7")).await;
    let (b_id, c_id) = (s(&b["id"]).to_owned(), s(&c["id"]).to_owned());
    let count = |v: &Value| v["report_count"].as_i64().unwrap();

    // A into B, then B (with A's reports) into C: C holds all four.
    ok(
        &w,
        &h1,
        &a_id,
        "merge",
        json!({"into_case": b_id, "reason": "同一批次"}),
    )
    .await;
    assert_eq!(count(&case(&w, &b_id).await), 3);
    ok(&w, &h1, &b_id, "merge", json!({"into_case": c_id})).await;
    let c_now = case(&w, &c_id).await;
    assert_eq!((count(&c_now), count(&case(&w, &b_id).await)), (4, 0));
    assert_eq!(last_entry(&c_now)["action"], "duplicate_merged");

    // Reopening A takes its two reports back from C, where B's merge carried them; B's own stays in C.
    let reopened = ok(&w, &h1, &a_id, "reopen", json!({"reason": "另一个问题"})).await;
    assert_eq!(count(&reopened), 2);
    assert!(reopened["reports"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["merged_from"].is_null()));
    let c_after = case(&w, &c_id).await;
    assert_eq!(count(&c_after), 2);
    let entry = last_entry(&c_after);
    assert_eq!(
        (s(&entry["action"]), &entry["detail"]["case_id"]),
        ("duplicate_unmerged", &json!(a_id))
    );
    assert_eq!(entry["changes"]["report_count"], json!([4, 2]));
    // Reopening B takes back its own report; C keeps only its own.
    let b_back = ok(&w, &h1, &b_id, "reopen", json!({"reason": "另一个问题"})).await;
    assert_eq!(count(&b_back), 1);
    assert_eq!(count(&case(&w, &c_id).await), 1);
    for id in [&a_id, &b_id, &c_id] {
        assert_replays(&case(&w, id).await);
    }
}
