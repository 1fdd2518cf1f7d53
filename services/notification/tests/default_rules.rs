//! The default rules beyond the first message: a reassignment tells the new assignee and the department, a
//! deadline of a case nobody has is the department's, a case reclassified to important information gets
//! its concern letter once, a reopened case without an assignee reaches the department; and a change
//! replayed under a new event id tells nobody twice.
mod common;

use common::{case_changed, case_opened, customer, envelope, feedback_received, fixture, Fixture};
use serde_json::{json, Value};
use uuid::Uuid;

/// (template, recipient, recipient kind) of a reference's deliveries, in order.
async fn told(f: &Fixture, reference: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT template, recipient, recipient_kind FROM deliveries WHERE case_reference = $1
          ORDER BY created_at, template, recipient",
    )
    .bind(reference)
    .fetch_all(&f.pool)
    .await
    .unwrap()
}

fn row(t: &str, r: &str, k: &str) -> (String, String, String) {
    (t.into(), r.into(), k.into())
}

/// A `case.changed` with the case after the change and its history row.
fn change(case_id: Uuid, reference: &str, action: &str, history_id: i64, after: Value) -> Value {
    let mut e = case_changed(case_id, reference, action, json!({"action": action}));
    for (k, v) in after.as_object().unwrap() {
        e["data"][k] = v.clone();
    }
    e["data"]["history_id"] = json!(history_id);
    e
}

async fn opened_case(f: &Fixture, reference: &str, class: &str, assignee: Option<&str>) -> Uuid {
    let case_id = Uuid::now_v7();
    let who = customer("Alice", Some("alice@example.com"), None, "en");
    f.deliver(feedback_received(reference, who.clone())).await;
    f.deliver(case_opened(case_id, reference, class, assignee, who, None))
        .await;
    case_id
}

#[tokio::test]
async fn a_reassignment_tells_the_new_assignee_and_the_department() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0401";
    let case_id = opened_case(&f, reference, "complaint", Some("u.quality.head")).await;
    f.deliver(change(
        case_id,
        reference,
        "reassign",
        5,
        json!({"assignee": "u.technical.head", "department": "technical",
               "detail": {"action": "reassign", "reason": "根本原因在设计"}}),
    ))
    .await;
    let after: Vec<_> = told(&f, reference).await.into_iter().skip(3).collect();
    assert_eq!(
        after,
        [
            row("case_assigned", "technical-head@feedback.example", "assignee"),
            row("case_reassigned", "technical@feedback.example", "department"),
        ]
    );
    let body: String = sqlx::query_scalar("SELECT body_text FROM deliveries WHERE template = 'case_reassigned'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(body.contains("技术部经理") && body.contains("根本原因在设计"), "{body}");
    f.finish().await;
}

#[tokio::test]
async fn deadlines_of_a_case_without_an_assignee_go_to_the_department() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0402";
    let case_id = opened_case(&f, reference, "complaint", None).await;
    let deadline = |t: &str, extra: Value| {
        let mut data = json!({"case_id": case_id, "case_reference": reference, "clock": "reply",
            "due_at": "2026-11-25T10:00:00Z", "department": "quality", "late": false});
        for (k, v) in extra.as_object().unwrap() {
            data[k] = v.clone();
        }
        envelope(t, data)
    };
    f.deliver(deadline("deadline.warning", json!({}))).await;
    f.deliver(deadline("deadline.breached", json!({"level": 1}))).await;
    let deadlines: Vec<_> = told(&f, reference)
        .await
        .into_iter()
        .filter(|(t, ..)| t.starts_with("deadline_"))
        .collect();
    assert_eq!(
        deadlines,
        [
            row("deadline_warning", "quality@feedback.example", "department"),
            row("deadline_breached", "quality@feedback.example", "department"),
        ]
    );
    // Once assigned, the handler is told, not the mailbox.
    f.deliver(change(
        case_id,
        reference,
        "assign",
        2,
        json!({"assignee": "u.quality.head"}),
    ))
    .await;
    f.deliver(deadline("deadline.breached", json!({"level": 2}))).await;
    let last = told(&f, reference).await.pop().unwrap();
    assert_eq!(
        last,
        row("deadline_breached", "quality-head@feedback.example", "assignee")
    );
    f.finish().await;
}

#[tokio::test]
async fn a_case_reclassified_to_important_gets_the_concern_letter_once() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0403";
    let case_id = opened_case(&f, reference, "general", Some("u.quality.head")).await;
    let letters = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deliveries WHERE template = 'concern_letter'")
            .fetch_one(&f.pool)
            .await
            .unwrap()
    };
    assert_eq!(letters().await, 0, "general information: no letter when opened");
    // Triage's shape: the whole classification, old and new.
    let classification =
        |class: &str, severity: &str| json!({"class": class, "category": "product_quality", "severity": severity});
    f.deliver(change(
        case_id,
        reference,
        "reclassify",
        3,
        json!({"class": "important", "severity": "general", "assignee": "u.quality.head",
               "changes": {"classification": [classification("general", "general"), classification("important", "general")]}}),
    ))
    .await;
    assert_eq!(letters().await, 1);
    let letter: Value = sqlx::query_scalar("SELECT to_jsonb(d) FROM deliveries d WHERE template = 'concern_letter'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(letter["recipient"], "alice@example.com");
    assert!(letter["body_text"].as_str().unwrap().contains("质量部经理"), "{letter}");
    // Reclassified again, still important (only the severity changes): no second letter.
    f.deliver(change(
        case_id,
        reference,
        "reclassify",
        4,
        json!({"class": "important", "severity": "important", "assignee": "u.quality.head",
               "changes": {"classification": [classification("important", "general"), classification("important", "important")]}}),
    ))
    .await;
    assert_eq!(letters().await, 1);
    f.finish().await;
}

#[tokio::test]
async fn a_reopened_case_without_an_assignee_reaches_the_department() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0404";
    let case_id = opened_case(&f, reference, "complaint", None).await;
    f.deliver(change(
        case_id,
        reference,
        "reopen",
        9,
        json!({"detail": {"action": "reopen", "reason": "customer wrote again"}}),
    ))
    .await;
    let last = told(&f, reference).await.pop().unwrap();
    assert_eq!(last, row("case_reopened", "quality@feedback.example", "department"));
    f.finish().await;
}

#[tokio::test]
async fn a_change_replayed_under_a_new_event_id_tells_nobody_twice() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0405";
    let case_id = opened_case(&f, reference, "complaint", Some("u.quality.head")).await;
    let reply = change(
        case_id,
        reference,
        "reply",
        21,
        json!({"detail": {"action": "reply", "text": "A replacement is on its way."}}),
    );
    f.deliver(reply.clone()).await;
    // Triage republished the same history row (e.g. an outbox replay) under a new event id.
    let mut replay = reply.clone();
    replay["id"] = json!(Uuid::now_v7());
    f.deliver(replay).await;
    let replies = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deliveries WHERE template = 'case_reply'")
            .fetch_one(&f.pool)
            .await
            .unwrap()
    };
    assert_eq!(replies().await, 1);
    // A second reply is another history row: told again.
    let mut second = reply;
    second["id"] = json!(Uuid::now_v7());
    second["data"]["history_id"] = json!(22);
    f.deliver(second).await;
    assert_eq!(replies().await, 2);
    f.finish().await;
}

#[tokio::test]
async fn an_adverse_event_also_reaches_the_roles_its_category_involves() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0409";
    let who = customer("Alice", Some("alice@example.com"), None, "en");
    f.deliver(feedback_received(reference, who.clone())).await;
    let mut opened = case_opened(Uuid::now_v7(), reference, "complaint", None, who, None);
    opened["data"]["category"] = json!("adverse_event");
    opened["data"]["involved_roles"] = json!(["management_representative"]);
    f.deliver(opened).await;
    let staff: Vec<_> = told(&f, reference)
        .await
        .into_iter()
        .filter(|(t, ..)| t == "case_opened")
        .collect();
    assert_eq!(
        staff,
        [
            row("case_opened", "management-rep@feedback.example", "involved"),
            row("case_opened", "quality@feedback.example", "department"),
        ]
    );
    // A case of a category that involves nobody else tells the department only.
    let other = "SH01-20261123-0410";
    opened_case(&f, other, "complaint", None).await;
    let kinds: Vec<String> = told(&f, other)
        .await
        .into_iter()
        .filter(|(t, ..)| t == "case_opened")
        .map(|(.., k)| k)
        .collect();
    assert_eq!(kinds, ["department"]);
    f.finish().await;
}
