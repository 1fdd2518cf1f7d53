//! Triage's event handler against a real database, with events delivered straight to it (no broker, so no inbox
//! dedup by event id): what it must stand by itself is that a replayed event under a new event id changes
//! nothing, and that clock snapshots applied in any order leave the newest.
use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use contracts::{
    deadline::{ClockSnapshotV1, DeadlineChangedV1},
    feedback::{Channel, CustomerV1, FeedbackReceivedV1, ProductV1},
    followup::FeedbackFollowupV1,
    Envelope, Event, RawEnvelope,
};
use messaging::Handler;
use serde_json::Value;
use sqlx::PgPool;
use triage::{
    domain::workflow::{self, Action, Actor, CaseState, Classification, HistoryEntry},
    handlers::TriageHandler,
    settings::Settings,
    store::{self, Change},
};
use uuid::Uuid;

struct Fixture {
    infra: testkit::Infra,
    url: String,
    pool: PgPool,
    handler: TriageHandler,
}

async fn fixture() -> Fixture {
    fixture_with(Settings::load().unwrap()).await
}

async fn fixture_with(settings: Settings) -> Fixture {
    let infra = testkit::Infra::from_env();
    let url = infra.create_database("triage_events").await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    messaging::schema::ensure(&pool).await.unwrap();
    Fixture {
        infra,
        url,
        pool,
        handler: TriageHandler {
            settings: Arc::new(settings),
        },
    }
}

impl Fixture {
    /// Delivers the envelope as the consumer would, in a transaction of its own.
    async fn deliver<T: Event>(&self, e: &Envelope<T>) {
        let raw: RawEnvelope = serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap();
        let mut tx = self.pool.begin().await.unwrap();
        self.handler
            .handle(&mut tx, &raw)
            .await
            .unwrap_or_else(|err| panic!("{} failed: {err}", e.event_type));
        tx.commit().await.unwrap();
    }

    /// The same event again under a new event id (a replay from the publisher's outbox).
    async fn deliver_again<T: Event + Clone>(&self, e: &Envelope<T>) {
        let mut again = e.clone();
        again.id = Uuid::now_v7();
        self.deliver(&again).await;
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    async fn case_id(&self, reference: &str) -> Uuid {
        sqlx::query_scalar(
            "SELECT id FROM cases WHERE reference = $1
                OR id = (SELECT case_id FROM case_reports WHERE reference = $1) LIMIT 1",
        )
        .bind(reference)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    async fn status(&self, case: Uuid) -> String {
        sqlx::query_scalar("SELECT status FROM cases WHERE id = $1")
            .bind(case)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// A workflow action by a supervisor, the way the HTTP layer takes it (lock, decide, save).
    async fn act(&self, case: Uuid, action: Action) {
        let supervisor = Actor {
            id: "q-head".into(),
            name: "Q Head".into(),
            roles: vec![auth::Role::DepartmentHead],
            department: Some("quality".into()),
            sites: vec![],
        };
        let mut tx = self.pool.begin().await.unwrap();
        let locked = store::lock(&mut tx, &case.to_string()).await.unwrap().unwrap();
        let now = Utc::now();
        let t = workflow::apply(&locked.state, &action, &supervisor, now).unwrap();
        store::save(
            &mut tx,
            &locked,
            &t.state,
            locked.claim.as_ref(),
            Change {
                action: action.kind().name(),
                actor: &supervisor.id,
                at: now,
                from_status: locked.state.status.as_str(),
                department: &locked.department,
                detail: t.entry.detail,
                changes: t.entry.changes,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    /// Actions recorded in the case's history, in order.
    async fn actions(&self, case: Uuid) -> Vec<String> {
        sqlx::query_scalar("SELECT action FROM case_history WHERE case_id = $1 ORDER BY id")
            .bind(case)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    /// The stored history replays to the stored workflow state.
    async fn assert_replays(&self, case: Uuid) {
        let history: Vec<HistoryEntry> = sqlx::query_as::<_, (DateTime<Utc>, String, String, Value, Value)>(
            "SELECT at, actor, action, detail, changes FROM case_history WHERE case_id = $1 ORDER BY id",
        )
        .bind(case)
        .fetch_all(&self.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(at, actor, action, detail, changes)| HistoryEntry {
            at,
            actor,
            action,
            detail,
            changes,
        })
        .collect();
        let stored: Value = sqlx::query_scalar("SELECT workflow FROM cases WHERE id = $1")
            .bind(case)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let stored: CaseState = serde_json::from_value(stored).unwrap();
        assert_eq!(history[0].action, "opened");
        let classification: Classification =
            serde_json::from_value(history[0].detail["classification"].clone()).unwrap();
        assert_eq!(
            workflow::replay(&CaseState::new(case, classification), &history),
            stored
        );
    }

    async fn finish(self) {
        self.pool.close().await;
        self.infra.drop_database(&self.url).await;
    }
}

fn feedback(reference: &str, phone: &str, batch: Option<&str>, content: &str) -> Envelope<FeedbackReceivedV1> {
    let feedback_id = Uuid::now_v7();
    Envelope::new(
        "sh01",
        feedback_id,
        FeedbackReceivedV1 {
            feedback_id,
            reference: reference.into(),
            channel: Channel::Phone,
            received_at: Utc::now().trunc_subsecs(6),
            customer: CustomerV1 {
                name: Some("张三".into()),
                phone: Some(phone.into()),
                email: None,
                anonymous: false,
                language: "zh-CN".into(),
                contact_key: Some(format!("tel:+86{phone}")),
            },
            subject: None,
            content: content.into(),
            product: batch.map(|b| ProductV1 {
                code: Some("P-1".into()),
                batch: Some(b.into()),
                ..Default::default()
            }),
            order: None,
            claim: None,
            adverse_reaction: None,
            status_url: None,
            attachments: vec![],
        },
    )
}

#[tokio::test]
async fn the_same_feedback_delivered_again_opens_one_case_and_links_one_report() {
    let f = fixture().await;
    let first = feedback("SH01-20261202-0001", "13800000001", Some("B-1"), "包装破损，有质量缺陷");
    f.deliver(&first).await;
    f.deliver(&first).await; // the same event id again
    f.deliver_again(&first).await; // the same feedback under another event id
    assert_eq!(f.count("SELECT count(*) FROM cases").await, 1);
    assert_eq!(f.count("SELECT count(*) FROM case_reports").await, 1);
    let case = f.case_id("SH01-20261202-0001").await;
    assert_eq!(f.actions(case).await, ["opened"]);
    assert_eq!(
        f.count("SELECT count(*) FROM outbox WHERE event_type = 'case.opened'")
            .await,
        1
    );
    let report_count: i32 = sqlx::query_scalar("SELECT report_count FROM cases")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(report_count, 1);

    // A second report of the same problem is linked once, however often it arrives.
    let second = feedback("SH01-20261202-0002", "13800000001", Some("B-1"), "还是那个批次的问题");
    for _ in 0..2 {
        f.deliver(&second).await;
        f.deliver_again(&second).await;
    }
    assert_eq!(f.count("SELECT count(*) FROM cases").await, 1);
    assert_eq!(f.count("SELECT count(*) FROM case_reports").await, 2);
    assert_eq!(f.actions(case).await, ["opened", "duplicate_linked"]);

    // Replayed after the case was finished, neither report opens a case of its own nor fails.
    f.act(
        case,
        Action::Reject {
            reason: "误解".into()
        },
    )
    .await;
    f.deliver_again(&first).await;
    f.deliver_again(&second).await;
    assert_eq!(f.count("SELECT count(*) FROM cases").await, 1);
    assert_eq!(f.count("SELECT count(*) FROM case_reports").await, 2);
    assert_eq!(f.status(case).await, "rejected");
    assert_eq!(
        f.count("SELECT count(*) FROM outbox WHERE event_type = 'case.opened'")
            .await,
        1
    );
    f.assert_replays(case).await;
    f.finish().await;
}

#[tokio::test]
async fn a_followup_under_two_event_ids_is_recorded_once_and_reopens_once() {
    let f = fixture().await;
    let opened = feedback("SH01-20261202-0011", "13800000011", Some("B-2"), "产品漏液");
    f.deliver(&opened).await;
    let case = f.case_id("SH01-20261202-0011").await;
    f.act(case, Action::Acknowledge).await;
    f.act(case, Action::Assign { assignee: "h1".into() }).await;
    f.act(
        case,
        Action::Reply {
            text: "请提供照片".into(),
        },
    )
    .await;
    f.act(
        case,
        Action::Resolve {
            summary: "已换货".into(),
        },
    )
    .await;
    assert_eq!(f.status(case).await, "resolved");

    let followup = |text: &str| {
        Envelope::new(
            "sh01",
            opened.data.feedback_id,
            FeedbackFollowupV1 {
                followup_id: Uuid::now_v7(),
                reference: "SH01-20261202-0011".into(),
                feedback_id: opened.data.feedback_id,
                channel: Channel::Email,
                from: Some("zhang@example.com".into()),
                subject: Some("Re: 您的反馈".into()),
                text: text.into(),
                attachments: vec![],
                received_at: Utc::now(),
                message_id: Some("<m1@example.com>".into()),
            },
        )
    };
    let unhappy = followup("还是漏液");
    f.deliver(&unhappy).await;
    f.deliver_again(&unhappy).await;
    f.deliver_again(&unhappy).await;
    assert_eq!(f.status(case).await, "reopened");
    let history = f.actions(case).await;
    assert_eq!(
        history[history.len() - 2..],
        ["customer_followup".to_owned(), "reopen".to_owned()]
    );
    assert_eq!(
        history.iter().filter(|a| *a == "customer_followup").count(),
        1,
        "{history:?}"
    );
    assert_eq!(history.iter().filter(|a| *a == "reopen").count(), 1, "{history:?}");
    let reopen_count: i64 = sqlx::query_scalar("SELECT (workflow->>'reopen_count')::bigint FROM cases WHERE id = $1")
        .bind(case)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(reopen_count, 1);

    // Another follow-up (a new id) is recorded too, without a status change in `reopened`.
    f.deliver(&followup("补充照片")).await;
    let history = f.actions(case).await;
    assert_eq!(history.iter().filter(|a| *a == "customer_followup").count(), 2);
    assert_eq!(f.status(case).await, "reopened");
    f.assert_replays(case).await;
    f.finish().await;
}

fn clock(
    case: Uuid,
    name: &str,
    status: &str,
    due_at: DateTime<Utc>,
    level: u32,
    stopped: bool,
    revision: i64,
) -> Envelope<DeadlineChangedV1> {
    let t0 = due_at - Duration::hours(24);
    Envelope::new(
        "sh01",
        case,
        DeadlineChangedV1 {
            case_id: case,
            case_reference: "SH01-20261202-0021".into(),
            department: "quality".into(),
            clocks: vec![ClockSnapshotV1 {
                clock: name.into(),
                status: status.into(),
                started_at: t0,
                due_at,
                level,
                stopped_at: stopped.then_some(t0 + Duration::hours(1)),
                revision,
            }],
        },
    )
}

#[tokio::test]
async fn clock_snapshots_in_any_order_keep_the_newest_and_the_nearest_due_time() {
    let f = fixture().await;
    f.deliver(&feedback("SH01-20261202-0021", "13800000021", Some("B-3"), "包装破损"))
        .await;
    let case = f.case_id("SH01-20261202-0021").await;
    let now = Utc::now().trunc_subsecs(0);
    let summary = || async {
        sqlx::query_as::<_, (Option<DateTime<Utc>>, Option<String>, i32)>(
            "SELECT next_due_at, next_due_clock, overdue_level FROM cases WHERE id = $1",
        )
        .bind(case)
        .fetch_one(&f.pool)
        .await
        .unwrap()
    };
    let stored = |name: &'static str| {
        let pool = f.pool.clone();
        async move {
            sqlx::query_as::<_, (String, DateTime<Utc>, i64)>(
                "SELECT status, due_at, revision FROM case_clocks WHERE case_id = $1 AND clock = $2",
            )
            .bind(case)
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };

    // handling_result: revision 2 (extended to +9 days) arrives before revision 1 (+7 days).
    let (d7, d9) = (now + Duration::days(7), now + Duration::days(9));
    f.deliver(&clock(case, "handling_result", "running", d9, 0, false, 2))
        .await;
    f.deliver(&clock(case, "handling_result", "running", d7, 0, false, 1))
        .await;
    assert_eq!(stored("handling_result").await, ("running".into(), d9, 2));
    assert_eq!(summary().await, (Some(d9), Some("handling_result".into()), 0));

    // first_reply breached an hour ago: the nearest due time, and overdue at its level.
    let late = now - Duration::hours(1);
    f.deliver(&clock(case, "first_reply", "running", late, 0, false, 1))
        .await;
    f.deliver(&clock(case, "first_reply", "breached", late, 2, false, 3))
        .await;
    f.deliver(&clock(case, "first_reply", "breached", late, 1, false, 2))
        .await; // older, late
    assert_eq!(stored("first_reply").await, ("breached".into(), late, 3));
    assert_eq!(summary().await, (Some(late), Some("first_reply".into()), 2));

    // A paused clock does not count towards the nearest due time.
    let soon = now + Duration::hours(2);
    f.deliver(&clock(case, "containment", "paused", soon, 0, false, 1))
        .await;
    assert_eq!(summary().await, (Some(late), Some("first_reply".into()), 2));

    // The reply stops first_reply: no longer overdue; a late copy of an older snapshot changes nothing.
    f.deliver(&clock(case, "first_reply", "breached_stopped", late, 2, true, 4))
        .await;
    assert_eq!(summary().await, (Some(d9), Some("handling_result".into()), 0));
    f.deliver(&clock(case, "first_reply", "breached", late, 2, false, 3))
        .await;
    assert_eq!(stored("first_reply").await.2, 4);
    assert_eq!(summary().await, (Some(d9), Some("handling_result".into()), 0));

    // Resumed, containment is the nearest; once every clock stopped there is no due time and nothing overdue.
    f.deliver(&clock(case, "containment", "running", soon, 0, false, 2))
        .await;
    assert_eq!(summary().await, (Some(soon), Some("containment".into()), 0));
    f.deliver(&clock(case, "containment", "met", soon, 0, true, 3)).await;
    f.deliver(&clock(case, "handling_result", "met", d9, 0, true, 3)).await;
    assert_eq!(summary().await, (None, None, 0));
    assert_eq!(
        f.count("SELECT count(*) FROM case_clocks").await,
        3,
        "one row per clock"
    );
    f.finish().await;
}

#[tokio::test]
async fn clocks_stopped_together_by_concurrent_deliveries_leave_no_due_time() {
    let f = fixture().await;
    f.deliver(&feedback("SH01-20261202-0051", "13800000051", Some("B-5"), "包装破损"))
        .await;
    let case = f.case_id("SH01-20261202-0051").await;
    let due = Utc::now().trunc_subsecs(0) + Duration::days(1);
    for name in ["registration", "first_reply"] {
        f.deliver(&clock(case, name, "running", due, 0, false, 1)).await;
    }
    // A rejection stops every clock at once: the snapshots arrive together and are handled concurrently.
    let raw = |e: Envelope<DeadlineChangedV1>| -> RawEnvelope {
        serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap()
    };
    let first = raw(clock(case, "registration", "met", due, 0, true, 2));
    let second = raw(clock(case, "first_reply", "met", due, 0, true, 2));
    let mut tx = f.pool.begin().await.unwrap();
    f.handler.handle(&mut tx, &first).await.unwrap();
    let (pool, settings) = (f.pool.clone(), f.handler.settings.clone());
    let other = tokio::spawn(async move {
        let handler = TriageHandler { settings };
        let mut tx = pool.begin().await.unwrap();
        handler.handle(&mut tx, &second).await.unwrap();
        tx.commit().await.unwrap();
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    tx.commit().await.unwrap();
    other.await.unwrap();
    let (next_due, stopped): (Option<DateTime<Utc>>, i64) = sqlx::query_as(
        "SELECT next_due_at, (SELECT count(*) FROM case_clocks WHERE stopped_at IS NOT NULL) FROM cases WHERE id = $1",
    )
    .bind(case)
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(stopped, 2);
    assert_eq!(next_due, None, "every clock stopped: nothing is due");
    f.finish().await;
}

#[tokio::test]
async fn a_new_report_of_the_same_problem_reopens_a_resolved_case_once() {
    let f = fixture().await;
    f.deliver(&feedback("SH01-20261202-0031", "13800000031", Some("B-4"), "包装破损"))
        .await;
    let case = f.case_id("SH01-20261202-0031").await;
    for action in [
        Action::Acknowledge,
        Action::Assign { assignee: "h1".into() },
        Action::RecordContainment {
            text: "停止发货".into(),
        },
        Action::Resolve {
            summary: "已换货".into(),
        },
    ] {
        f.act(case, action).await;
    }
    assert_eq!(f.status(case).await, "resolved");

    // The same customer about the same batch, by another channel: linked, and the case is reopened.
    let mut again = feedback("SH01-20261203-0007", "13800000031", Some("B-4"), "换的货还是坏的");
    again.data.channel = Channel::Email;
    f.deliver(&again).await;
    f.deliver_again(&again).await;
    assert_eq!(f.count("SELECT count(*) FROM cases").await, 1);
    assert_eq!(f.status(case).await, "reopened");
    let (report_count, reopen_count): (i32, i64) =
        sqlx::query_as("SELECT report_count, (workflow->>'reopen_count')::bigint FROM cases WHERE id = $1")
            .bind(case)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!((report_count, reopen_count), (2, 1));
    let history = f.actions(case).await;
    assert_eq!(
        history[history.len() - 2..],
        ["duplicate_linked".to_owned(), "reopen".to_owned()]
    );
    let reopened_by: String =
        sqlx::query_scalar("SELECT actor FROM case_history WHERE case_id = $1 AND action = 'reopen'")
            .bind(case)
            .fetch_one(&f.pool)
            .await
            .unwrap();
    assert_eq!(reopened_by, "customer");
    let published: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'data'->>'action' FROM outbox WHERE event_type = 'case.changed' ORDER BY seq",
    )
    .fetch_all(&f.pool)
    .await
    .unwrap();
    assert_eq!(published[published.len() - 2..], ["duplicate_linked", "reopen"]);

    // A different batch from the same customer is another problem: a case of its own.
    f.deliver(&feedback("SH01-20261203-0008", "13800000031", Some("B-5"), "包装破损"))
        .await;
    assert_eq!(f.count("SELECT count(*) FROM cases").await, 2);
    assert_eq!(f.status(case).await, "reopened");
    f.assert_replays(case).await;
    f.finish().await;
}

#[tokio::test]
async fn a_case_opened_for_a_dissatisfied_revisit_replays_from_its_history() {
    let f = fixture().await;
    f.deliver(&feedback("SH01-20261202-0041", "13800000041", Some("B-6"), "包装破损"))
        .await;
    let case = f.case_id("SH01-20261202-0041").await;
    for action in [
        Action::Acknowledge,
        Action::Assign { assignee: "h1".into() },
        Action::Reply {
            text: "已换货".into()
        },
        Action::Close {
            outcome: "resolved".into(),
        },
    ] {
        f.act(case, action).await;
    }
    // `on_dissatisfied = "linked_case"`: the problem found on the revisit opens a case of its own.
    let mut tx = f.pool.begin().await.unwrap();
    let original = triage::revisits::case_facts(&mut tx, &case.to_string(), true)
        .await
        .unwrap()
        .unwrap();
    let (linked, reference) = triage::revisits::open_linked_case(
        &mut tx,
        &original,
        Channel::Phone,
        "回访不满意：仍有破损",
        Uuid::now_v7(),
        "gm",
        Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(reference, "SH01-20261202-0041-R1");
    let assignee: Option<String> = sqlx::query_scalar("SELECT assignee FROM cases WHERE id = $1")
        .bind(linked)
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(assignee.as_deref(), Some("h1"), "the same responsible person");
    f.assert_replays(linked).await;
    f.assert_replays(case).await;
    f.finish().await;
}

#[tokio::test]
async fn a_rule_limited_to_the_phone_decides_phone_feedback_only() {
    let mut settings = Settings::load().unwrap();
    // Put first: an agent's call about staff attitude is escalated as important; the same words by email are not.
    settings.classification.rules.insert(
        0,
        triage::domain::classify::Rule {
            name: "phone-attitude".into(),
            class: "complaint".into(),
            category: "staff_service".into(),
            severity: "important".into(),
            when: vec![],
            keywords: vec!["态度".into()],
            channels: vec!["phone".into()],
        },
    );
    let f = fixture_with(settings).await;
    let by_phone = feedback("SH01-20261203-0001", "13800000011", None, "客服态度很差");
    let mut by_email = feedback("SH01-20261203-0002", "13800000012", None, "客服态度很差");
    by_email.data.channel = Channel::Email;
    f.deliver(&by_phone).await;
    f.deliver(&by_email).await;
    let decided = |reference: &'static str| {
        let pool = f.pool.clone();
        async move {
            let (severity, decided_by): (String, Value) =
                sqlx::query_as("SELECT severity, decided_by FROM cases WHERE reference = $1")
                    .bind(reference)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            (severity, decided_by["rule"].as_str().unwrap().to_owned())
        }
    };
    assert_eq!(
        decided("SH01-20261203-0001").await,
        ("important".to_owned(), "phone-attitude".to_owned())
    );
    assert_eq!(
        decided("SH01-20261203-0002").await,
        ("general".to_owned(), "staff-service".to_owned())
    );
    f.finish().await;
}
