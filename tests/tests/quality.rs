//! The quality documents of a case through triage's API against the real services: the 8D report of a
//! product-quality complaint (written, verified, closed, sent to the customer by mail), the regulator report of
//! an adverse event (approved by the general manager only), and CAPA records linked to cases.
mod common;

use std::time::Duration;

use auth::Role;
use common::world;
use reqwest::Method;
use serde_json::{json, Value};
use testkit::{eventually, mail::header, Infra};

/// A due date a few months ahead, so the CAPA and 8D checks against the past never trip.
fn due_date() -> String {
    (chrono::Utc::now() + chrono::Duration::days(90))
        .date_naive()
        .to_string()
}

fn token(sub: &str, roles: Vec<Role>, department: Option<&str>) -> String {
    auth::AuthKeys::new(auth::DEV_SECRET)
        .issue(
            sub,
            sub,
            roles,
            department.map(Into::into),
            vec![],
            chrono::Duration::hours(1),
        )
        .unwrap()
}

async fn call(w: &common::World, method: Method, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
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

async fn open_case(w: &common::World, body: Value) -> Value {
    let r = w.post_feedback(&body).await;
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    w.wait_for_case(&reference).await
}

fn history_actions(case: &Value) -> Vec<String> {
    case["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_8d_report_is_written_verified_closed_and_sent_to_the_customer_and_capa_records_follow_the_case() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let qe = token("qe1", vec![Role::QualityEngineer], Some("quality"));
    let mr = token("mr", vec![Role::ManagementRepresentative], None);
    let sales = token("s1", vec![Role::Handler], Some("sales"));
    let agent = token("a1", vec![Role::Agent], Some("quality"));

    let case = open_case(
        &w,
        json!({ "channel": "api", "site": "sh01",
                "customer": { "name": "李雷", "email": "lilei@example.com", "language": "en" },
                "subject": "Cracked housings", "content": "The housings of batch B7 arrived cracked, a quality defect.",
                "product": { "code": "P-100", "batch": "B7" } }),
    )
    .await;
    assert_eq!(case["category"], "product_quality", "{case}");
    let id = case["reference"].as_str().unwrap().to_owned();
    let eight_d = format!("/api/v1/cases/{id}/8d");

    let (status, empty) = call(&w, Method::GET, &qe, &eight_d, None).await;
    assert_eq!(status, 200);
    assert_eq!(empty["version"], 0);
    assert_eq!(empty["missing"].as_array().unwrap().len(), 9);

    // Another department's handler may not write it; bad input names the field and changes nothing.
    let sections = json!({ "version": 0, "team": [{"name": "Zhang Wei", "role": "QE"}],
        "problem": "Cracked housings in B7 <b>", "containment": "B7 quarantined",
        "root_cause": "Mould temperature too low", "cause_category": "process", "corrective": "Heater replaced",
        "verification": "Three batches inspected", "prevention": "Temperature alarm" });
    assert_eq!(
        call(&w, Method::PUT, &sales, &eight_d, Some(sections.clone())).await.0,
        403
    );
    let (status, bad) = call(
        &w,
        Method::PUT,
        &qe,
        &eight_d,
        Some(json!({"version": 0, "problem": "a\u{0}b"})),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (422, Some("problem")),
        "{bad}"
    );
    let (status, bad) = call(
        &w,
        Method::PUT,
        &qe,
        &eight_d,
        Some(json!({"version": 0, "colour": "red"})),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    let (status, bad) = call(
        &w,
        Method::PUT,
        &qe,
        &eight_d,
        Some(json!({"version": 0, "cause_category": "bad luck"})),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (422, Some("cause_category")),
        "{bad}"
    );

    let (status, saved) = call(&w, Method::PUT, &qe, &eight_d, Some(sections.clone())).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 1);
    // The view says who may edit it and what D8 waits for, as data.
    assert_eq!(saved["can_edit"], true);
    assert!(saved["cause_categories"]
        .as_array()
        .unwrap()
        .contains(&json!("process")));
    let codes: Vec<&str> = saved["missing_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"no_corrective_action"), "{codes:?}");
    let (_, read_only) = call(&w, Method::GET, &agent, &eight_d, None).await;
    assert_eq!(read_only["can_edit"], false, "an agent reads it only");
    assert_eq!(
        (saved["can_send"].as_bool(), read_only["can_send"].as_bool()),
        (Some(true), Some(false))
    );
    // A second editor starting from version 0 is told, not silently overwritten.
    let (status, stale) = call(&w, Method::PUT, &qe, &eight_d, Some(sections)).await;
    assert_eq!((status, stale["error"]["code"].as_str()), (409, Some("stale_version")));

    let (status, with_action) = call(
        &w,
        Method::POST,
        &qe,
        &format!("{eight_d}/actions"),
        Some(
            json!({"discipline": "D5", "description": "Replace the mould heater", "owner": "zhang.wei",
                    "due_date": due_date()}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{with_action}");
    let action = with_action["report"]["actions"][0]["id"].as_str().unwrap().to_owned();
    let (status, refused) = call(
        &w,
        Method::POST,
        &qe,
        &format!("{eight_d}/close"),
        Some(json!({"note": "done"})),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("eight_d_incomplete"))
    );
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Replace the mould heater"));
    let (status, _) = call(
        &w,
        Method::POST,
        &qe,
        &format!("{eight_d}/actions/{action}/verify"),
        Some(json!({"effective": true, "note": "no cracks"})),
    )
    .await;
    assert_eq!(status, 409, "an action is done before it is verified");
    for (step, body) in [
        ("done", json!({"note": "installed"})),
        ("verify", json!({"effective": true, "note": "no cracks in 3 batches"})),
    ] {
        let (status, r) = call(
            &w,
            Method::POST,
            &qe,
            &format!("{eight_d}/actions/{action}/{step}"),
            Some(body),
        )
        .await;
        assert_eq!(status, 200, "{step}: {r}");
    }
    let (status, closed) = call(
        &w,
        Method::POST,
        &qe,
        &format!("{eight_d}/close"),
        Some(json!({"note": "Customer informed"})),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["closed"], true);
    assert_eq!(
        call(
            &w,
            Method::PUT,
            &qe,
            &eight_d,
            Some(json!({"version": closed["version"], "problem": "x"}))
        )
        .await
        .0,
        409
    );

    // The printable document escapes what staff typed.
    let html = w
        .http
        .get(format!("{}{eight_d}/document?lang=en", w.stack.url("triage")))
        .bearer_auth(&qe)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<h2>D4 Root cause</h2>") && html.contains("Cracked housings in B7 &lt;b&gt;"),
        "{html}"
    );

    // Sent to the customer in their language, threaded under the acknowledgement.
    assert_eq!(
        call(&w, Method::POST, &qe, &format!("{eight_d}/send"), None).await.0,
        200
    );
    let mail = eventually(Duration::from_secs(20), "the 8D mail", || async {
        w.mail
            .messages()
            .into_iter()
            .find(|m| header(m, "Subject").is_some_and(|s| s.contains("8D report")))
    })
    .await;
    assert_eq!(header(&mail, "To").as_deref(), Some("lilei@example.com"));
    assert!(
        header(&mail, "In-Reply-To").is_some(),
        "threaded under the acknowledgement"
    );
    let body = testkit::mail::body_text(&mail);
    assert!(
        body.contains("D5 Corrective actions") && body.contains("Replace the mould heater"),
        "{body}"
    );

    // CAPA: opened from the case, verified by someone other than who implemented it, closed.
    let (status, bad) = call(
        &w,
        Method::POST,
        &qe,
        "/api/v1/capa",
        Some(json!({"kind": "corrective", "title": "Mould",
        "problem": "cracks", "action_plan": "alarm", "owner": "qe1", "due_date": due_date(), "cases": []})),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("cases")));
    assert_eq!(
        call(
            &w,
            Method::POST,
            &agent,
            "/api/v1/capa",
            Some(json!({"kind": "corrective", "title": "Mould",
            "problem": "cracks", "action_plan": "alarm", "owner": "qe1", "due_date": due_date(), "cases": [id]}))
        )
        .await
        .0,
        403
    );
    let (status, capa) = call(&w, Method::POST, &qe, "/api/v1/capa", Some(json!({"kind": "corrective",
        "title": "Mould temperature control", "problem": "Cracks from cold moulds", "action_plan": "Alarm on every press",
        "owner": "qe1", "due_date": due_date(), "cases": [id]}))).await;
    assert_eq!(status, 201, "{capa}");
    assert!(capa["number"].as_str().unwrap().starts_with("CAPA-"));
    let capa_id = capa["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &w,
            Method::POST,
            &qe,
            &format!("/api/v1/capa/{capa_id}/close"),
            Some(json!({"note": "x"}))
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            &w,
            Method::POST,
            &qe,
            &format!("/api/v1/capa/{capa_id}/implement"),
            Some(json!({"note": "alarms fitted"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &w,
            Method::POST,
            &qe,
            &format!("/api/v1/capa/{capa_id}/verify"),
            Some(json!({"effective": true, "note": "mine"}))
        )
        .await
        .0,
        403,
        "the implementer does not verify their own work"
    );
    assert_eq!(
        call(
            &w,
            Method::POST,
            &mr,
            &format!("/api/v1/capa/{capa_id}/verify"),
            Some(json!({"effective": true, "note": "no cracks for a month"}))
        )
        .await
        .0,
        200
    );
    let (status, done) = call(
        &w,
        Method::POST,
        &mr,
        &format!("/api/v1/capa/{capa_id}/close"),
        Some(json!({"note": "effective"})),
    )
    .await;
    assert_eq!((status, done["status"].as_str()), (200, Some("closed")), "{done}");
    // A handler of another department can't list all records, nor those of a case they can't read.
    assert_eq!(call(&w, Method::GET, &sales, "/api/v1/capa", None).await.0, 403);
    assert_eq!(
        call(&w, Method::GET, &sales, &format!("/api/v1/capa?case={id}"), None)
            .await
            .0,
        403
    );
    let (_, of_case) = call(&w, Method::GET, &agent, &format!("/api/v1/capa?case={id}"), None).await;
    assert_eq!(of_case["items"].as_array().unwrap().len(), 1);

    let (_, detail) = call(&w, Method::GET, &mr, &format!("/api/v1/cases/{id}"), None).await;
    assert_eq!(detail["quality"]["eight_d"]["closed"], true);
    assert_eq!(detail["quality"]["capa"][0]["status"], "closed");
    let actions = history_actions(&detail);
    for expected in [
        "eight_d_edited",
        "eight_d_action_added",
        "eight_d_action_done",
        "eight_d_action_verified",
        "eight_d_closed",
        "send_8d",
        "capa_opened",
        "capa_closed",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
    // Refused and invalid requests left nothing behind: one history row per successful change.
    assert_eq!(actions.iter().filter(|a| *a == "eight_d_edited").count(), 1);

    // Reporting counts the root cause, and the 8D clock stopped in time when the report was sent.
    eventually(
        Duration::from_secs(20),
        "the 8D's cause and clock in the monthly report",
        || async {
            let r: Value = w.get("reporting", "/api/v1/reports/monthly").await.json().await.ok()?;
            let clock = r["timeliness"]
                .as_array()?
                .iter()
                .find(|c| c["clock"] == "eight_d_reply")?
                .clone();
            (r["breakdown"]["cause"]["process"] == 1 && clock["met"] == 1 && clock["on_time_pct"] == 100.0)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn an_adverse_event_report_is_approved_by_the_general_manager_before_it_is_submitted() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let gm = token("gm", vec![Role::GeneralManager], None);
    let mr = token("mr", vec![Role::ManagementRepresentative], None);
    let qe = token("qe1", vec![Role::QualityEngineer], Some("quality"));

    let case = open_case(
        &w,
        json!({ "channel": "phone", "site": "sh01",
                "customer": { "name": "王芳", "phone": "13900001111" },
                "subject": "服药后过敏", "content": "服用后出现皮疹和头晕，疑似不良反应。",
                "product": { "code": "VC-500", "batch": "B2026-10" },
                "adverse_reaction": { "onset": "首次服用后2小时", "dose": "每次2片", "other_medicines": "无" } }),
    )
    .await;
    assert_eq!(case["category"], "adverse_event", "{case}");
    let path = format!("/api/v1/cases/{}/regulator-report", case["reference"].as_str().unwrap());

    let (status, draft) = call(&w, Method::GET, &mr, &path, None).await;
    assert_eq!(status, 200, "{draft}");
    assert_eq!(draft["version"], 0);
    assert_eq!(draft["report"]["batch"], "B2026-10");
    assert_eq!(draft["report"]["onset"], "首次服用后2小时");
    assert_eq!(draft["missing"], json!(["patient_outcome"]));
    assert_eq!(
        (draft["can_edit"].as_bool(), draft["can_approve"].as_bool()),
        (Some(true), Some(false))
    );
    let (_, seen_by_gm) = call(&w, Method::GET, &gm, &path, None).await;
    assert_eq!(
        (seen_by_gm["can_edit"].as_bool(), seen_by_gm["can_approve"].as_bool()),
        (Some(false), Some(false)),
        "incomplete: nothing to approve yet"
    );

    let (status, incomplete) = call(&w, Method::POST, &gm, &format!("{path}/approve"), None).await;
    assert_eq!(status, 409, "{incomplete}");
    assert!(incomplete["error"]["message"]
        .as_str()
        .unwrap()
        .contains("patient_outcome"));
    let (status, saved) = call(
        &w,
        Method::PUT,
        &mr,
        &path,
        Some(json!({"version": 0, "patient_outcome": "已痊愈"})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        call(
            &w,
            Method::POST,
            &mr,
            &format!("{path}/submit"),
            Some(json!({"submission_reference": "X"}))
        )
        .await
        .0,
        409
    );
    for who in [&mr, &qe] {
        assert_eq!(
            call(&w, Method::POST, who, &format!("{path}/approve"), None).await.0,
            403
        );
    }
    let (status, approved) = call(&w, Method::POST, &gm, &format!("{path}/approve"), None).await;
    assert_eq!(
        (status, approved["report"]["status"].as_str()),
        (200, Some("approved")),
        "{approved}"
    );
    assert_eq!(approved["report"]["approved"]["by"], "gm");
    let (status, submitted) = call(
        &w,
        Method::POST,
        &mr,
        &format!("{path}/submit"),
        Some(json!({"submission_reference": "NMPA-2026-0042"})),
    )
    .await;
    assert_eq!(
        (status, submitted["report"]["status"].as_str()),
        (200, Some("submitted")),
        "{submitted}"
    );
    let version = submitted["version"].clone();
    assert_eq!(
        call(
            &w,
            Method::PUT,
            &mr,
            &path,
            Some(json!({"version": version, "dose": "3"}))
        )
        .await
        .0,
        409
    );

    // A product-quality case has no regulator report, and an adverse event no 8D.
    let other = open_case(&w, common::complaint(7)).await;
    let other_ref = other["reference"].as_str().unwrap();
    assert_eq!(
        call(
            &w,
            Method::GET,
            &mr,
            &format!("/api/v1/cases/{other_ref}/regulator-report"),
            None
        )
        .await
        .0,
        409
    );
    let (_, detail) = call(
        &w,
        Method::GET,
        &gm,
        &format!("/api/v1/cases/{}", case["reference"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(detail["quality"]["regulator_report"]["status"], "submitted");
    let actions = history_actions(&detail);
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("regulator_report_"))
            .collect::<Vec<_>>(),
        [
            "regulator_report_edited",
            "regulator_report_approved",
            "regulator_report_submitted"
        ]
    );
}

#[tokio::test]
async fn a_supervisor_names_the_staff_a_complaint_is_about_and_the_monthly_report_counts_them() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let head = token("q-head", vec![Role::DepartmentHead], Some("quality"));
    let handler = token("h1", vec![Role::Handler], Some("quality"));
    let mut references = vec![];
    for n in 0..2 {
        let case = open_case(&w, common::complaint(40 + n)).await;
        references.push(case["reference"].as_str().unwrap().to_owned());
    }
    let path = |r: &str| format!("/api/v1/cases/{r}/complained-about");
    let body = json!({"staff": ["s.wang", "s.wang", "s.li"], "reason": "客户点名投诉"});
    assert_eq!(
        call(&w, Method::PUT, &handler, &path(&references[0]), Some(body.clone()))
            .await
            .0,
        403
    );
    let (status, bad) = call(
        &w,
        Method::PUT,
        &head,
        &path(&references[0]),
        Some(json!({"staff": ["x"]})),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("reason")), "{bad}");
    let (status, case) = call(&w, Method::PUT, &head, &path(&references[0]), Some(body)).await;
    assert_eq!(status, 200, "{case}");
    assert_eq!(case["complained_about"], json!(["s.wang", "s.li"]));
    assert!(history_actions(&case).contains(&"staff_named".to_owned()));
    let (status, _) = call(
        &w,
        Method::PUT,
        &head,
        &path(&references[1]),
        Some(json!({"staff": ["s.wang"], "reason": "同一员工"})),
    )
    .await;
    assert_eq!(status, 200);

    eventually(Duration::from_secs(20), "complaints per staff member in the monthly report", || async {
        let r: Value = w.get("reporting", "/api/v1/reports/monthly").await.json().await.ok()?;
        let named = r["staff_complaints"]["named"].clone();
        (named == json!([{"staff": "s.wang", "complaints": 2, "band": 2}, {"staff": "s.li", "complaints": 1, "band": null}]))
            .then_some(())
    })
    .await;
}
