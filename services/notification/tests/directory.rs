//! The directory of people: staff accounts synced from triage (`staff.changed`, newest revision wins) over
//! the configured ones; approvers named by case.opened; rules that reach nobody on the delivery log.
mod common;

use common::{case_changed, case_opened, customer, envelope, feedback_received, fixture, staff_changed, Fixture};
use serde_json::{json, Value};
use uuid::Uuid;

/// (template, channel, recipient, status) of a reference's deliveries.
async fn log(f: &Fixture, reference: &str) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT template, channel, recipient, status FROM deliveries WHERE case_reference = $1
          ORDER BY template, channel, recipient",
    )
    .bind(reference)
    .fetch_all(&f.pool)
    .await
    .unwrap()
}

fn row(t: &str, c: &str, r: &str, s: &str) -> (String, String, String, String) {
    (t.into(), c.into(), r.into(), s.into())
}

async fn delivery(f: &Fixture, reference: &str, template: &str, recipient: &str) -> Value {
    sqlx::query_scalar(
        "SELECT to_jsonb(d) FROM deliveries d WHERE case_reference = $1 AND template = $2 AND recipient = $3",
    )
    .bind(reference)
    .bind(template)
    .bind(recipient)
    .fetch_one(&f.pool)
    .await
    .unwrap()
}

fn assign(case_id: Uuid, reference: &str, assignee: &str, history_id: i64) -> Value {
    let mut e = case_changed(case_id, reference, "assign", json!({"action": "assign"}));
    e["data"]["assignee"] = json!(assignee);
    e["data"]["history_id"] = json!(history_id);
    e
}

#[tokio::test]
async fn a_synced_staff_account_is_told_and_only_a_newer_revision_replaces_it() {
    let f = fixture(&[], |_| {}).await;
    // A handler triage created, not in the configured directory; revision 1 arrives after revision 2.
    let li = json!({"name": "Li Lei", "email": "li@staff.example", "phone": "13911110000", "language": "en",
                    "roles": ["handler"], "department": "quality"});
    f.deliver(staff_changed("u.li", 2, li.clone())).await;
    f.deliver(staff_changed(
        "u.li",
        1,
        json!({"name": "Li", "email": "old@staff.example"}),
    ))
    .await;
    let (email, revision): (String, i64) = sqlx::query_as("SELECT email, revision FROM staff WHERE user_id = 'u.li'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!((email.as_str(), revision), ("li@staff.example", 2));

    let reference = "SH01-20261123-0301";
    let case_id = Uuid::now_v7();
    f.deliver(case_opened(
        case_id,
        reference,
        "complaint",
        Some("u.li"),
        customer("张三", None, None, "zh-CN"),
        None,
    ))
    .await;
    let assigned = delivery(&f, reference, "case_assigned", "li@staff.example").await;
    assert_eq!(assigned["status"], "pending");
    assert_eq!(assigned["language"], "en", "written in the account's language");
    assert!(
        assigned["subject"]
            .as_str()
            .unwrap()
            .starts_with("[SH01-20261123-0301] Case assigned to you"),
        "{assigned}"
    );
    assert!(
        assigned["body_text"].as_str().unwrap().starts_with("Li Lei,"),
        "{assigned}"
    );

    // A synced account replaces the configured person of the same id: the escalation goes to its address.
    f.deliver(staff_changed(
        "u.quality.head",
        1,
        json!({"name": "质量部新经理", "email": "new-head@staff.example", "roles": ["department_head"],
               "department": "quality"}),
    ))
    .await;
    f.deliver(envelope(
        "deadline.escalated",
        json!({"case_id": case_id, "case_reference": reference, "clock": "reply", "due_at": "2026-11-25T10:00:00Z",
               "department": "quality", "level": 2, "notify": ["department_head"], "late": false}),
    ))
    .await;
    let escalated: Vec<String> = sqlx::query_scalar(
        "SELECT recipient FROM deliveries WHERE template = 'deadline_escalated' AND channel = 'email'",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(escalated, ["new-head@staff.example"]);

    // Deactivated: told nothing more, and the log says why.
    f.deliver(staff_changed(
        "u.li",
        3,
        json!({"active": false, "email": "li@staff.example"}),
    ))
    .await;
    f.deliver(assign(case_id, reference, "u.li", 11)).await;
    let nobody = delivery(&f, reference, "case_assigned", "person:u.li").await;
    assert_eq!(nobody["status"], "no_recipient");
    assert_eq!(nobody["recipient_masked"], "person:u.li");
    assert_eq!(nobody["last_error"], "nobody to tell: staff account `u.li` is inactive");

    // An account without an email address gets no email; the log says so.
    f.deliver(staff_changed(
        "u.nomail",
        1,
        json!({"roles": ["handler"], "department": "quality"}),
    ))
    .await;
    f.deliver(assign(case_id, reference, "u.nomail", 12)).await;
    let nobody = delivery(&f, reference, "case_assigned", "person:u.nomail").await;
    assert_eq!(nobody["last_error"], "nobody to tell: `u.nomail` has no email address");
    f.finish().await;
}

#[tokio::test]
async fn an_assignee_nobody_knows_is_on_the_log_and_never_sent() {
    let f = fixture(&[], |_| {}).await;
    f.start_senders();
    let reference = "SH01-20261123-0302";
    f.deliver(case_opened(
        Uuid::now_v7(),
        reference,
        "complaint",
        Some("u.ghost"),
        customer("张三", None, None, "zh-CN"),
        None,
    ))
    .await;
    f.wait_status("case_opened", "email", "sent").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        log(&f, reference).await,
        [
            row("case_assigned", "email", "person:u.ghost", "no_recipient"),
            row("case_opened", "email", "quality@feedback.example", "sent"),
        ]
    );
    let nobody = delivery(&f, reference, "case_assigned", "person:u.ghost").await;
    assert_eq!(nobody["attempts"], 0);
    assert_eq!(nobody["recipient_kind"], "assignee");
    assert_eq!(
        nobody["last_error"],
        "nobody to tell: `u.ghost` is not in the directory"
    );
    assert_eq!(f.mail.messages().len(), 1, "only the department's mail went out");
    f.finish().await;
}

#[tokio::test]
async fn approvers_are_the_roles_case_opened_names_with_its_amount_even_before_the_feedback() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0303";
    let case_id = Uuid::now_v7();
    // case.opened overtakes feedback.received; triage says the general manager approves (notification's
    // own idea of thresholds would have said the marketing manager for 1,500 CNY): triage decides. The
    // general manager is also the assignee: both messages, same recipient, same event.
    let opened = case_opened(
        case_id,
        reference,
        "complaint",
        Some("u.gm"),
        customer("张三", Some("zhang@example.com"), None, "zh-CN"),
        Some(("1500.00", &["general_manager"])),
    );
    f.deliver(opened.clone()).await;
    let mut replay = opened;
    replay["id"] = json!(Uuid::now_v7());
    f.deliver(replay).await;
    f.deliver(feedback_received(
        reference,
        customer("张三", Some("zhang@example.com"), None, "zh-CN"),
    ))
    .await;
    assert_eq!(
        log(&f, reference).await,
        [
            row("case_assigned", "email", "gm@feedback.example", "pending"),
            row("case_opened", "email", "quality@feedback.example", "pending"),
            row("claim_approval", "email", "gm@feedback.example", "pending"),
            row("feedback_received", "email", "zhang@example.com", "pending"),
        ]
    );
    let approval = delivery(&f, reference, "claim_approval", "gm@feedback.example").await;
    assert!(
        approval["subject"].as_str().unwrap().contains("1500.00 CNY"),
        "{approval}"
    );
    // The acknowledgement, handled after the case, belongs to it.
    let ack = delivery(&f, reference, "feedback_received", "zhang@example.com").await;
    assert_eq!(ack["case_id"], json!(case_id));
    f.finish().await;
}
