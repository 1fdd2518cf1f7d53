//! Who is told what, from the directory: the assignee of a new case, the customer's concern letter
//! for important information, approvers of a claim, the handler of a deadline warning and breach, the
//! escalation ladder level by level, the assignee and department of a customer's follow-up, the
//! customer of an extension and a resolution (email and SMS, quiet hours permitting).
mod common;

use chrono::Utc;
use common::{case_changed, case_opened, customer, envelope, feedback_received, fixture};
use notification::settings::SmsProviderKind;
use serde_json::{json, Value};
use uuid::Uuid;

async fn told(f: &common::Fixture, reference: &str) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT template, channel, recipient, recipient_kind FROM deliveries WHERE case_reference = $1
          ORDER BY template, channel, recipient",
    )
    .bind(reference)
    .fetch_all(&f.pool)
    .await
    .unwrap()
}

fn row(t: &str, c: &str, r: &str, k: &str) -> (String, String, String, String) {
    (t.into(), c.into(), r.into(), k.into())
}

#[tokio::test]
async fn every_kind_of_recipient_is_resolved_from_the_directory() {
    let f = fixture(&[], |s| {
        s.sms.provider = SmsProviderKind::Webhook;
    })
    .await;
    let reference = "SH01-20261123-0201";
    let case_id = Uuid::now_v7();
    let who = customer("张三", Some("zhang@example.com"), Some("13800000000"), "zh-CN");
    f.deliver(feedback_received(reference, who.clone())).await;
    f.deliver(case_opened(
        case_id,
        reference,
        "important",
        Some("u.quality.head"),
        who,
        Some(("2500.00", &["marketing_manager", "general_manager"])),
    ))
    .await;
    assert_eq!(
        told(&f, reference).await,
        [
            row("case_assigned", "email", "quality-head@feedback.example", "assignee"),
            row("case_opened", "email", "quality@feedback.example", "department"),
            // Over 2,000 CNY: the marketing manager and the general manager both approve.
            row("claim_approval", "email", "gm@feedback.example", "approvers"),
            row(
                "claim_approval",
                "email",
                "marketing-director@feedback.example",
                "approvers"
            ),
            row("concern_letter", "email", "zhang@example.com", "customer"),
            row("feedback_received", "email", "zhang@example.com", "customer"),
            row("feedback_received", "sms", "13800000000", "customer"),
        ]
    );
    let approval: String = sqlx::query_scalar(
        "SELECT subject FROM deliveries WHERE template = 'claim_approval' AND recipient = 'gm@feedback.example'",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert!(approval.contains("2500.00 CNY"), "{approval}");

    // Deadlines: the handler is warned and told of the breach; the ladder's roles at level 2.
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
    f.deliver(deadline(
        "deadline.escalated",
        json!({"level": 2, "notify": ["marketing_director"]}),
    ))
    .await;
    f.deliver(deadline(
        "deadline.escalated",
        json!({"level": 3, "notify": ["general_manager"]}),
    ))
    .await;
    // The same level again (a replay under a new id): nobody is told twice.
    f.deliver(deadline(
        "deadline.escalated",
        json!({"level": 3, "notify": ["general_manager"]}),
    ))
    .await;
    let deadlines: Vec<_> = told(&f, reference)
        .await
        .into_iter()
        .filter(|(t, ..)| t.starts_with("deadline_"))
        .collect();
    assert_eq!(
        deadlines,
        [
            row(
                "deadline_breached",
                "email",
                "quality-head@feedback.example",
                "assignee"
            ),
            row("deadline_escalated", "email", "gm@feedback.example", "escalation"),
            row(
                "deadline_escalated",
                "email",
                "marketing-director@feedback.example",
                "escalation"
            ),
            // The general manager has a phone in the directory; the marketing director does not.
            row("deadline_escalated", "sms", "13900000009", "escalation"),
            row("deadline_warning", "email", "quality-head@feedback.example", "assignee"),
        ]
    );
    let escalated: String = sqlx::query_scalar(
        "SELECT body_text FROM deliveries WHERE template = 'deadline_escalated' AND recipient = 'gm@feedback.example'",
    )
    .fetch_one(&f.pool)
    .await
    .unwrap();
    // 10:00 UTC is 18:00 at the Shanghai site; level and department named.
    assert!(
        escalated.contains("2026-11-25 18:00") && escalated.contains("第 3 级") && escalated.contains("质量部"),
        "{escalated}"
    );

    // The customer writes again: the assignee and the department's mailbox.
    f.deliver(envelope(
        "feedback.followup",
        json!({"followup_id": Uuid::now_v7(), "reference": reference, "feedback_id": Uuid::now_v7(),
               "channel": "email", "from": "zhang@example.com", "subject": "Re: 包装破损", "text": "还没有收到换货",
               "attachments": [], "received_at": Utc::now(), "message_id": "<x@example.com>"}),
    ))
    .await;
    let followups: Vec<_> = told(&f, reference)
        .await
        .into_iter()
        .filter(|(t, ..)| t == "customer_followup")
        .collect();
    assert_eq!(
        followups,
        [
            row(
                "customer_followup",
                "email",
                "quality-head@feedback.example",
                "assignee"
            ),
            row("customer_followup", "email", "quality@feedback.example", "department"),
        ]
    );

    // Extension and resolution: the customer, by email and SMS; the extension carries reason and date.
    f.deliver(case_changed(
        case_id,
        reference,
        "extend_deadline",
        json!({"action": "extend_deadline", "clock": "reply", "new_due": "2026-12-01T10:00:00Z", "reason": "等待检测报告"}),
    ))
    .await;
    f.deliver(case_changed(
        case_id,
        reference,
        "resolve",
        json!({"action": "resolve", "summary": "已换货"}),
    ))
    .await;
    let sms: Vec<String> = sqlx::query_scalar(
        "SELECT body_text FROM deliveries WHERE channel = 'sms' AND recipient_kind = 'customer'
           AND template IN ('deadline_extended', 'case_resolved') ORDER BY template DESC",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(sms.len(), 2);
    assert!(
        sms[0].contains("等待检测报告") && sms[0].contains("2026-12-01 18:00"),
        "{sms:?}"
    );
    let resolved: String =
        sqlx::query_scalar("SELECT body_text FROM deliveries WHERE template = 'case_resolved' AND channel = 'email'")
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert!(resolved.contains("已换货"), "{resolved}");
    f.finish().await;
}

#[tokio::test]
async fn nobody_is_told_what_no_rule_names_and_anonymous_customers_get_nothing() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261123-0202";
    let anonymous = json!({"name": null, "email": "anon@example.com", "phone": null, "anonymous": true,
        "language": "zh-CN", "contact_key": null});
    f.deliver(feedback_received(reference, anonymous.clone())).await;
    f.deliver(case_opened(Uuid::now_v7(), reference, "general", None, anonymous, None))
        .await;
    // Only the department; no approver (no claim), no assignee, no concern letter (general), no SMS
    // (no provider configured).
    assert_eq!(
        told(&f, reference).await,
        [row("case_opened", "email", "quality@feedback.example", "department")]
    );
    f.finish().await;
}

#[tokio::test]
async fn an_issued_report_goes_to_the_report_recipients_once_per_version() {
    let f = fixture(&[], |_| {}).await;
    let issued = |version: i32| {
        envelope(
            "report.issued",
            json!({"kind": "monthly", "period": "2026-11", "site": "", "version": version,
                   "issued_at": Utc::now(), "issued_by": "scheduler",
                   "path": "/api/v1/reports/monthly?period=2026-11&version=1", "total": 42, "previous_total": 37}),
        )
    };
    f.deliver(issued(1)).await;
    f.deliver(issued(1)).await;
    assert_eq!(
        told(&f, "monthly-2026-11").await,
        [
            row("report_issued", "email", "gm@feedback.example", "report_recipients"),
            row(
                "report_issued",
                "email",
                "management-rep@feedback.example",
                "report_recipients"
            ),
        ]
    );
    let body: String = sqlx::query_scalar("SELECT body_text FROM deliveries LIMIT 1")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert!(
        body.contains("http://127.0.0.1:8084/api/v1/reports/monthly?period=2026-11&version=1") && body.contains("42"),
        "{body}"
    );
    f.finish().await;
}

#[tokio::test]
async fn the_revisit_call_is_announced_where_a_rule_says_so() {
    let f = fixture(&[], |s| {
        s.sms.provider = SmsProviderKind::Webhook;
        s.rules.push(notification::domain::rules::Rule {
            event: "revisit.due".into(),
            recipient: "customer".into(),
            channel: "sms".into(),
            template: "revisit_announcement".into(),
            action: None,
            class: None,
            changed: None,
            fallback: None,
        });
    })
    .await;
    let reference = "SH01-20261123-0203";
    let case_id = Uuid::now_v7();
    f.deliver(feedback_received(
        reference,
        customer("张三", None, Some("13800000000"), "zh-CN"),
    ))
    .await;
    let due = envelope(
        "revisit.due",
        json!({"case_id": case_id, "reference": reference, "site": "sh01", "reason": "after_close",
               "due_at": "2026-11-26T01:00:00Z", "sequence": 1}),
    );
    f.deliver(due.clone()).await;
    f.deliver(due).await;
    let text: Vec<String> = sqlx::query_scalar(
        "SELECT body_text FROM deliveries WHERE template = 'revisit_announcement' AND channel = 'sms'",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(
        text,
        ["【客服中心】您的反馈SH01-20261123-0203已处理完毕，我们将于2026-11-26 09:00起致电回访，感谢您的支持。"]
    );
    f.finish().await;
}

#[tokio::test]
async fn a_deadline_of_a_case_opened_before_notification_knew_it_still_escalates() {
    let f = fixture(&[], |_| {}).await;
    let reference = "SH01-20261101-0009";
    f.deliver(envelope(
        "deadline.escalated",
        json!({"case_id": Uuid::now_v7(), "case_reference": reference, "clock": "reply",
               "due_at": "2026-11-20T10:00:00Z", "department": "quality", "level": 3,
               "notify": ["handler", "general_manager"], "late": true}),
    ))
    .await;
    // No assignee known (no case.opened seen): the handler rung is skipped, the rest is told.
    assert_eq!(
        told(&f, reference).await,
        [row("deadline_escalated", "email", "gm@feedback.example", "escalation")]
    );
    f.finish().await;
}
