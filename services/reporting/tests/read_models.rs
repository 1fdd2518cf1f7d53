//! Known event sequences into the real read models (PostgreSQL) give exact report figures: a case that crosses
//! a month boundary, a reopened case, a duplicate, claims, clocks met and breached, causes; the rebuild from the
//! event log gives the same report; an issued report does not move when a late event arrives.
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use contracts::{
    case::{CaseChangedV1, CaseOpenedV1},
    deadline::{DeadlineBreachedV1, DeadlineStoppedV1},
    feedback::{Channel, ClaimV1, CustomerV1, FeedbackReceivedV1, ProductV1},
    report::ReportDueV1,
    revisit::{RevisitCompletedV1, RevisitDueV1, RevisitReason},
    Envelope, Event, RawEnvelope,
};
use messaging::Handler;
use reporting::{
    handlers::ReportingHandler,
    period::{Kind, Period},
    report,
    settings::{ReportingSettings, Settings},
};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct Fixture {
    pool: PgPool,
    handler: ReportingHandler,
    settings: Arc<ReportingSettings>,
    tz: Tz,
}

async fn fixture() -> Fixture {
    let infra = testkit::Infra::from_env();
    let url = infra.create_database("reporting").await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    messaging::schema::ensure(&pool).await.unwrap();
    let settings = Arc::new(Settings::load().unwrap().reporting);
    let tz: Tz = settings.timezone.parse().unwrap();
    Fixture {
        handler: ReportingHandler {
            settings: settings.clone(),
            tz,
        },
        pool,
        settings,
        tz,
    }
}

impl Fixture {
    async fn deliver<T: Event>(&self, e: &Envelope<T>) {
        let raw: RawEnvelope = serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap();
        let mut tx = self.pool.begin().await.unwrap();
        self.handler.handle(&mut tx, &raw).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn report(&self, kind: Kind, period: &str, site: Option<&str>) -> Value {
        let p = Period::parse(kind, period).unwrap();
        let mut conn = self.pool.acquire().await.unwrap();
        let r = report::build(&mut conn, &self.settings, self.tz, &p, site)
            .await
            .unwrap();
        let mut v = serde_json::to_value(r).unwrap();
        v.as_object_mut().unwrap().remove("generated_at");
        v
    }
}

struct Case {
    id: Uuid,
    feedback: Uuid,
    reference: String,
}

fn case(n: u128) -> Case {
    Case {
        id: Uuid::from_u128(1000 + n),
        feedback: Uuid::from_u128(2000 + n),
        reference: format!("SH01-2026-{n:04}"),
    }
}

fn received(c: &Case, at: &str, phone: &str, claim: Option<&str>, product: &str) -> Envelope<FeedbackReceivedV1> {
    Envelope::new(
        "sh01",
        c.feedback,
        FeedbackReceivedV1 {
            feedback_id: c.feedback,
            reference: c.reference.clone(),
            channel: Channel::Phone,
            received_at: t(at),
            customer: CustomerV1 {
                phone: Some(phone.into()),
                language: "zh-CN".into(),
                contact_key: Some(format!("tel:{phone}")),
                ..Default::default()
            },
            subject: None,
            content: "x".into(),
            product: Some(ProductV1 {
                code: Some(product.into()),
                ..Default::default()
            }),
            order: None,
            claim: claim.map(|a| ClaimV1 {
                amount: Some(a.parse().unwrap()),
                currency: Some("CNY".into()),
                return_quantity: Some(10),
                reason: None,
            }),
            adverse_reaction: None,
            status_url: None,
            attachments: vec![],
        },
    )
}

fn opened(c: &Case, at: &str, category: &str, department: &str) -> Envelope<CaseOpenedV1> {
    Envelope::new(
        "sh01",
        c.feedback,
        CaseOpenedV1 {
            case_id: c.id,
            reference: c.reference.clone(),
            feedback_id: c.feedback,
            channel: Channel::Phone,
            received_at: t(at),
            opened_at: t(at),
            class: "complaint".into(),
            category: category.into(),
            severity: "important".into(),
            department: department.into(),
            assignee: Some("h1".into()),
            customer: CustomerV1::default(),
            subject: None,
            summary: String::new(),
            claim: None,
            involved_roles: Vec::new(),
        },
    )
}

fn changed(c: &Case, at: &str, action: &str, status: &str, detail: Value, changes: Value) -> Envelope<CaseChangedV1> {
    // Case 3 is a logistics complaint of the sales department; the others quality's.
    let (category, department) = if c.id == case(3).id {
        ("logistics", "sales")
    } else {
        ("product_quality", "quality")
    };
    Envelope::new(
        "sh01",
        c.feedback,
        CaseChangedV1 {
            case_id: c.id,
            reference: c.reference.clone(),
            action: action.into(),
            from_status: String::new(),
            status: status.into(),
            actor: "h1".into(),
            department: department.into(),
            assignee: Some("h1".into()),
            class: "complaint".into(),
            category: category.into(),
            severity: "important".into(),
            changes,
            detail,
            at: t(at),
            history_id: None,
        },
    )
}

fn stopped(c: &Case, clock: &str, met: bool, hours: i64) -> Envelope<DeadlineStoppedV1> {
    Envelope::new(
        "sh01",
        c.id,
        DeadlineStoppedV1 {
            case_id: c.id,
            case_reference: c.reference.clone(),
            clock: clock.into(),
            department: "quality".into(),
            started_at: t("2026-10-01T00:00:00Z"),
            due_at: t("2026-10-02T00:00:00Z"),
            stopped_at: t("2026-10-03T00:00:00Z"),
            met,
            working_seconds: hours * 3600,
            level: 0,
        },
    )
}

/// October 2026 in Asia/Shanghai: three complaints and a fourth that arrived at 23:30 local on 31 October
/// (15:30 UTC) — October's, although it was handled in November.
async fn october(f: &Fixture) {
    let (a, b, c, d) = (case(1), case(2), case(3), case(4));
    f.deliver(&received(
        &a,
        "2026-10-05T02:00:00Z",
        "13900000001",
        Some("1500.00"),
        "P-100",
    ))
    .await;
    f.deliver(&opened(&a, "2026-10-05T02:00:00Z", "product_quality", "quality"))
        .await;
    f.deliver(&received(
        &b,
        "2026-10-06T02:00:00Z",
        "13900000002",
        Some("800.00"),
        "P-100",
    ))
    .await;
    f.deliver(&opened(&b, "2026-10-06T02:00:00Z", "product_quality", "quality"))
        .await;
    f.deliver(&received(&c, "2026-10-07T02:00:00Z", "13900000003", None, "P-200"))
        .await;
    f.deliver(&opened(&c, "2026-10-07T02:00:00Z", "logistics", "sales"))
        .await;
    f.deliver(&received(&d, "2026-10-31T15:30:00Z", "13900000001", None, "P-100"))
        .await;
    f.deliver(&opened(&d, "2026-10-31T15:30:00Z", "product_quality", "quality"))
        .await;

    // a: the claim approved, an 8D cause, closed in November, then reopened (a dissatisfied revisit).
    let claim = |approvals: Value, rejection: Value| {
        json!({"claim": [null, {"amount": "1500.00", "currency": "CNY", "required": ["marketing_manager"],
                                 "approvals": approvals, "rejection": rejection}]})
    };
    f.deliver(&changed(
        &a,
        "2026-10-06T00:00:00Z",
        "claim_approved",
        "in_progress",
        json!({}),
        claim(json!([{"role": "marketing_manager"}]), Value::Null),
    ))
    .await;
    f.deliver(&changed(
        &a,
        "2026-10-07T00:00:00Z",
        "eight_d_edited",
        "in_progress",
        json!({"cause_category": "process"}),
        json!({}),
    ))
    .await;
    f.deliver(&changed(
        &a,
        "2026-11-02T00:00:00Z",
        "close",
        "closed",
        json!({"outcome": "resolved"}),
        json!({}),
    ))
    .await;
    f.deliver(&changed(
        &a,
        "2026-11-03T00:00:00Z",
        "reopen",
        "reopened",
        json!({"reason": "r"}),
        json!({}),
    ))
    .await;
    // b: the claim rejected (past shelf life), invalid.
    f.deliver(&changed(
        &b,
        "2026-10-07T00:00:00Z",
        "claim_rejected",
        "in_progress",
        json!({}),
        json!({"claim": [null, {"required": [], "approvals": [], "rejection": "past_shelf_life"}]}),
    ))
    .await;
    f.deliver(&changed(
        &b,
        "2026-10-08T00:00:00Z",
        "set_validity",
        "rejected",
        json!({"valid": false, "reason": "x"}),
        json!({}),
    ))
    .await;
    f.deliver(&changed(
        &b,
        "2026-10-08T00:00:00Z",
        "eight_d_edited",
        "rejected",
        json!({"cause_category": "process"}),
        json!({}),
    ))
    .await;
    // c: a duplicate report linked to it; its cause is transport.
    f.deliver(&changed(
        &c,
        "2026-10-08T00:00:00Z",
        "duplicate_linked",
        "new",
        json!({}),
        json!({}),
    ))
    .await;
    f.deliver(&changed(
        &c,
        "2026-10-09T00:00:00Z",
        "eight_d_edited",
        "new",
        json!({"cause_category": "logistics"}),
        json!({}),
    ))
    .await;
    // c: closed in October, revisited three days later: satisfied (4 of 5).
    f.deliver(&changed(
        &c,
        "2026-10-20T00:00:00Z",
        "close",
        "closed",
        json!({"outcome": "resolved"}),
        json!({}),
    ))
    .await;
    f.deliver(&Envelope::new(
        "sh01",
        c.id,
        RevisitDueV1 {
            case_id: c.id,
            reference: c.reference.clone(),
            site: "sh01".into(),
            reason: RevisitReason::AfterClose,
            due_at: t("2026-10-23T00:00:00Z"),
            sequence: 1,
        },
    ))
    .await;
    f.deliver(&Envelope::new(
        "sh01",
        c.id,
        RevisitCompletedV1 {
            revisit_id: Uuid::from_u128(77),
            case_id: c.id,
            reference: c.reference.clone(),
            site: "sh01".into(),
            reason: RevisitReason::AfterClose,
            sequence: 1,
            method: "phone".into(),
            score: Some(4),
            satisfied: true,
            answers: json!({"overall": 4}),
            attempts: 2,
            case_reopened: false,
            actor: "agent1".into(),
            completed_at: t("2026-10-23T03:00:00Z"),
        },
    ))
    .await;
    // Staff named in complaints: h7 in a, c and d (and in b, which is invalid and does not count), h8 in c.
    for (case, staff) in [
        (&a, json!(["h7"])),
        (&b, json!(["h7"])),
        (&c, json!(["h7", "h8"])),
        (&d, json!(["h7"])),
    ] {
        f.deliver(&changed(
            case,
            "2026-10-25T00:00:00Z",
            "staff_named",
            "in_progress",
            json!({"staff": staff, "reason": "named by the customer"}),
            json!({}),
        ))
        .await;
    }
    // Clocks: acknowledgement met twice (2 h, 4 h), breached once (30 h); a reply overdue and still running.
    f.deliver(&stopped(&a, "acknowledgement", true, 2)).await;
    f.deliver(&stopped(&b, "acknowledgement", true, 4)).await;
    f.deliver(&stopped(&c, "acknowledgement", false, 30)).await;
    f.deliver(&Envelope::new(
        "sh01",
        d.id,
        DeadlineBreachedV1 {
            case_id: d.id,
            case_reference: d.reference.clone(),
            clock: "first_reply".into(),
            due_at: t("2026-11-05T00:00:00Z"),
            level: 1,
            late: false,
        },
    ))
    .await;
}

#[tokio::test]
async fn known_event_sequences_give_exact_figures_and_a_rebuild_gives_the_same_report() {
    let f = fixture().await;
    october(&f).await;

    let r = f.report(Kind::Monthly, "2026-10", None).await;
    assert_eq!(
        r["total"], 4,
        "the case received at 23:30 on 31 October counts for October"
    );
    assert_eq!(f.report(Kind::Monthly, "2026-11", None).await["total"], 0);
    assert_eq!(
        r["breakdown"]["category"],
        json!({"logistics": 1, "product_quality": 3})
    );
    assert_eq!(r["breakdown"]["department"], json!({"quality": 3, "sales": 1}));
    assert_eq!(r["breakdown"]["validity"], json!({"invalid": 1, "undecided": 3}));
    assert_eq!(r["breakdown"]["product"], json!({"P-100": 3, "P-200": 1}));
    assert_eq!(r["breakdown"]["cause"], json!({"logistics": 1, "process": 2}));
    assert_eq!(
        r["pareto"][0],
        json!({"cause": "process", "count": 2, "pct": 66.7, "cumulative_pct": 66.7})
    );
    assert_eq!(r["pareto"][1]["cumulative_pct"], 100.0);
    assert_eq!(r["claims"]["count"], 2);
    assert_eq!(r["claims"]["claimed"], json!({"CNY": "2300.00"}));
    assert_eq!(r["claims"]["approved"], 1);
    assert_eq!(r["claims"]["approved_amount"], json!({"CNY": "1500.00"}));
    assert_eq!(r["claims"]["rejected_by_reason"], json!({"past_shelf_life": 1}));
    assert_eq!(r["claims"]["return_quantity"], 20);
    assert_eq!(
        r["repeats"],
        json!({"repeat_complaints": 1, "duplicates_linked": 1, "reopened_cases": 1}),
        "d repeats a's customer and problem"
    );
    let ack = r["timeliness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clock"] == "acknowledgement")
        .unwrap();
    assert_eq!((ack["met"].as_i64(), ack["breached"].as_i64()), (Some(2), Some(1)));
    assert_eq!(ack["on_time_pct"], 66.7);
    assert_eq!(ack["median_working_hours"], 4.0);
    assert_eq!(ack["p90_working_hours"], 24.8);
    let reply = r["timeliness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clock"] == "first_reply")
        .unwrap();
    assert_eq!(reply["breached"], 1);
    assert_eq!(r["overdue"].as_array().unwrap().len(), 1);
    assert_eq!(r["overdue"][0]["reference"], "SH01-2026-0004");
    assert_eq!(r["trend"].as_array().unwrap().len(), 12);
    assert_eq!(r["trend"][11], json!({"month": "2026-10", "count": 4}));

    let v = &r["revisits"];
    assert_eq!((v["due"].as_i64(), v["done"].as_i64()), (Some(1), Some(1)));
    assert_eq!(
        (v["closed_cases"].as_i64(), v["closed_cases_revisited"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (v["rate_pct"].as_f64(), v["rate_target_pct"].as_f64()),
        (Some(100.0), Some(80.0))
    );
    assert_eq!(v["scores"]["4"], 1);
    assert_eq!(v["scores"]["0"], 0);
    assert_eq!(
        v["by_department"],
        json!([{"name": "sales", "revisits": 1, "satisfied": 1, "satisfied_pct": 100.0, "band": "good"}])
    );
    assert_eq!(f.report(Kind::Monthly, "2026-11", None).await["revisits"]["done"], 0);

    assert_eq!(
        r["staff_complaints"],
        json!({"named": [{"staff": "h7", "complaints": 3, "band": 3}, {"staff": "h8", "complaints": 1, "band": null}],
               "without_complaints": ["h1"]})
    );

    // Rebuilding from the event log gives exactly the same report.
    let summary = reporting::rebuild::rebuild(&f.pool, &f.settings).await.unwrap();
    assert_eq!((summary.events, summary.skipped, summary.cases), (28, 0, 4));
    assert_eq!(f.report(Kind::Monthly, "2026-10", None).await, r);

    // All formats render it.
    let p = Period::parse(Kind::Monthly, "2026-10").unwrap();
    let mut conn = f.pool.acquire().await.unwrap();
    let built = report::build(&mut conn, &f.settings, f.tz, &p, None).await.unwrap();
    let csv = report::csv::render(&built);
    assert!(csv.contains("claims_rejected_by_reason,past_shelf_life,1\n"), "{csv}");
    let html = report::html::render(&built, "en", None);
    assert!(
        html.contains("Pareto of causes") && html.matches("<svg").count() >= 9,
        "{html}"
    );
    assert!(report::html::render(&built, "zh-CN", None).contains("原因柏拉图"));
    let xlsx = report::xlsx::render(&built, "zh-CN").unwrap();
    assert_eq!(&xlsx[..2], b"PK", "an xlsx file is a zip archive");
}

#[tokio::test]
async fn an_issued_report_stays_as_issued_when_late_events_arrive_and_a_reissue_is_a_new_version() {
    let f = fixture().await;
    october(&f).await;
    let due = Envelope::new(
        "sh01",
        Uuid::now_v7(),
        ReportDueV1 {
            kind: "monthly".into(),
            period: "2026-10".into(),
            site: String::new(),
            due_at: t("2026-11-01T00:00:00Z"),
        },
    );
    f.deliver(&due).await;
    // The same order again (a replayed timer, a new event id) issues nothing new.
    let mut again = due.clone();
    again.id = Uuid::now_v7();
    f.deliver(&again).await;
    let versions: Vec<(i32, Value)> =
        sqlx::query_as("SELECT version, body FROM issued_reports WHERE kind = 'monthly' AND period = '2026-10'")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].1["total"], 4);
    let issued_events: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type = 'report.issued'")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(issued_events, 1);

    // A letter registered late, received in October.
    let late = case(5);
    f.deliver(&received(&late, "2026-10-20T02:00:00Z", "13900000005", None, "P-300"))
        .await;
    f.deliver(&opened(&late, "2026-10-20T02:00:00Z", "product_quality", "quality"))
        .await;
    assert_eq!(
        f.report(Kind::Monthly, "2026-10", None).await["total"],
        5,
        "the live report is current"
    );
    let body: Value = sqlx::query_scalar("SELECT body FROM issued_reports WHERE version = 1")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(body["total"], 4, "the issued version does not change");

    let mut tx = f.pool.begin().await.unwrap();
    let p = Period::parse(Kind::Monthly, "2026-10").unwrap();
    let v2 = reporting::issue::issue(&mut tx, &f.settings, f.tz, &p, "", "qe1")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(v2.version, 2);
    let body: Value = sqlx::query_scalar("SELECT body FROM issued_reports WHERE version = 2")
        .fetch_one(&f.pool)
        .await
        .unwrap();
    assert_eq!(body["total"], 5);
}

/// A case of the dashboard's November (site, channel and department of its own).
fn opened_in(c: &Case, site: &str, channel: Channel, at: &str, department: &str) -> Envelope<CaseOpenedV1> {
    let mut e = opened(c, at, "product_quality", department);
    e.site = site.into();
    e.data.channel = channel;
    e
}

fn change_in(c: &Case, site: &str, at: &str, action: &str, status: &str, department: &str) -> Envelope<CaseChangedV1> {
    let mut e = changed(c, at, action, status, json!({"outcome": "resolved"}), json!({}));
    e.site = site.into();
    e.data.department = department.into();
    e
}

fn breached(c: &Case, site: &str, clock: &str) -> Envelope<DeadlineBreachedV1> {
    Envelope::new(
        site,
        c.id,
        DeadlineBreachedV1 {
            case_id: c.id,
            case_reference: c.reference.clone(),
            clock: clock.into(),
            due_at: t("2026-11-18T00:00:00Z"),
            level: 1,
            late: false,
        },
    )
}

fn stopped_in(c: &Case, site: &str, clock: &str, met: bool) -> Envelope<DeadlineStoppedV1> {
    let mut e = stopped(c, clock, met, if met { 2 } else { 30 });
    e.site = site.into();
    e
}

fn revisit(c: &Case, site: &str, due: &str, done: &str, score: u8, satisfied: bool) -> [RawEnvelope; 2] {
    let raw = |v: Value| serde_json::from_value::<RawEnvelope>(v).unwrap();
    [
        raw(serde_json::to_value(Envelope::new(
            site,
            c.id,
            RevisitDueV1 {
                case_id: c.id,
                reference: c.reference.clone(),
                site: site.into(),
                reason: RevisitReason::AfterClose,
                due_at: t(due),
                sequence: 1,
            },
        ))
        .unwrap()),
        raw(serde_json::to_value(Envelope::new(
            site,
            c.id,
            RevisitCompletedV1 {
                revisit_id: c.id,
                case_id: c.id,
                reference: c.reference.clone(),
                site: site.into(),
                reason: RevisitReason::AfterClose,
                sequence: 1,
                method: "phone".into(),
                score: Some(score),
                satisfied,
                answers: json!({"overall": score}),
                attempts: 1,
                case_reopened: false,
                actor: "agent1".into(),
                completed_at: t(done),
            },
        ))
        .unwrap()),
    ]
}

/// November 2026, the dashboard's day the 20th (Asia/Shanghai): k1 (sh01, web) and k2 (sh01, phone, 23:30 local)
/// arrive that day, and k3 (bj01, email) at 00:30 local — 16:30 UTC the day before; k4 (sh01, phone) on the
/// 5th with its first reply overdue; k5 (bj01, phone, technical) on the 10th, late on its handling result,
/// closed, revisited satisfied; k6 (sh01, web, sales) at 23:59 on 31 October, its overdue clock reported before
/// the case; k7 (sh01, api) at 00:00 on the 21st, rejected. k3 is closed on the 20th and revisited dissatisfied;
/// k4 is closed on the 15th and reopened the next day.
async fn november(f: &Fixture) {
    let k: Vec<Case> = (21..=27).map(case).collect();
    f.deliver(&breached(&k[5], "sh01", "first_reply")).await;
    for (c, site, channel, at, department) in [
        (&k[0], "sh01", Channel::Web, "2026-11-20T02:00:00Z", "quality"),
        (&k[1], "sh01", Channel::Phone, "2026-11-20T15:30:00Z", "sales"),
        (&k[2], "bj01", Channel::Email, "2026-11-19T16:30:00Z", "quality"),
        (&k[3], "sh01", Channel::Phone, "2026-11-05T02:00:00Z", "quality"),
        (&k[4], "bj01", Channel::Phone, "2026-11-10T02:00:00Z", "technical"),
        (&k[5], "sh01", Channel::Web, "2026-10-31T15:59:00Z", "sales"),
        (&k[6], "sh01", Channel::Api, "2026-11-20T16:00:00Z", "quality"),
    ] {
        f.deliver(&opened_in(c, site, channel, at, department)).await;
    }
    f.deliver(&stopped_in(&k[0], "sh01", "acknowledgement", true)).await;
    f.deliver(&stopped_in(&k[2], "bj01", "acknowledgement", false)).await;
    f.deliver(&stopped_in(&k[3], "sh01", "acknowledgement", true)).await;
    f.deliver(&breached(&k[3], "sh01", "first_reply")).await;
    // k5's handling result: overdue, then stopped late.
    f.deliver(&breached(&k[4], "bj01", "handling_result")).await;
    f.deliver(&stopped_in(&k[4], "bj01", "handling_result", false)).await;
    f.deliver(&change_in(
        &k[4],
        "bj01",
        "2026-11-12T02:00:00Z",
        "close",
        "closed",
        "technical",
    ))
    .await;
    f.deliver(&change_in(
        &k[2],
        "bj01",
        "2026-11-20T05:00:00Z",
        "close",
        "closed",
        "quality",
    ))
    .await;
    f.deliver(&change_in(
        &k[6],
        "sh01",
        "2026-11-20T17:00:00Z",
        "reject",
        "rejected",
        "quality",
    ))
    .await;
    // k4 closed and reopened: neither a closure nor off the overdue list.
    for (at, action, status) in [
        ("2026-11-15T02:00:00Z", "close", "closed"),
        ("2026-11-16T02:00:00Z", "reopen", "reopened"),
    ] {
        f.deliver(&change_in(&k[3], "sh01", at, action, status, "quality"))
            .await;
    }
    for e in revisit(&k[4], "bj01", "2026-11-15T00:00:00Z", "2026-11-15T03:00:00Z", 5, true)
        .into_iter()
        .chain(revisit(
            &k[2],
            "bj01",
            "2026-11-20T06:00:00Z",
            "2026-11-20T07:00:00Z",
            2,
            false,
        ))
    {
        let mut tx = f.pool.begin().await.unwrap();
        f.handler.handle(&mut tx, &e).await.unwrap();
        tx.commit().await.unwrap();
    }
}

impl Fixture {
    async fn overview(&self, date: &str, site: Option<&str>) -> Value {
        let o = reporting::overview::build(&self.pool, &self.settings, self.tz, date.parse().unwrap(), site)
            .await
            .unwrap();
        let mut v = serde_json::to_value(o).unwrap();
        v.as_object_mut().unwrap().remove("generated_at");
        v
    }
}

#[tokio::test]
async fn the_dashboard_overview_gives_exact_figures_for_a_day_and_its_month_per_site_and_after_a_rebuild() {
    let f = fixture().await;
    november(&f).await;

    let all = f.overview("2026-11-20", None).await;
    let today = &all["today"];
    assert_eq!(
        (&today["from"], &today["to"]),
        (&json!("2026-11-20"), &json!("2026-11-21"))
    );
    assert_eq!(
        today["intake"], 3,
        "k3 at 00:30 local counts, k7 at 00:00 the next day does not"
    );
    assert_eq!(today["by_channel"], json!({"email": 1, "phone": 1, "web": 1}));
    assert_eq!(today["by_site"], json!({"bj01": 1, "sh01": 2}));
    assert_eq!(
        today["on_time"],
        json!([{"clock": "acknowledgement", "met": 1, "breached": 1, "running": 0, "on_time_pct": 50.0}])
    );
    assert_eq!(
        today["revisits"],
        json!({"due": 1, "done": 1, "closed_cases": 1, "closed_cases_revisited": 1, "rate_pct": 100.0,
               "rate_target_pct": 80.0, "satisfied": 0, "satisfied_pct": 0.0, "average_score": 2.0})
    );
    let month = &all["this_month"];
    assert_eq!(all["month"], "2026-11");
    assert_eq!(
        (&month["from"], &month["to"]),
        (&json!("2026-11-01"), &json!("2026-12-01"))
    );
    assert_eq!(month["intake"], 6, "k6 arrived on 31 October");
    assert_eq!(month["by_channel"], json!({"api": 1, "email": 1, "phone": 3, "web": 1}));
    assert_eq!(month["by_site"], json!({"bj01": 2, "sh01": 4}));
    assert_eq!(
        month["on_time"],
        json!([
            {"clock": "acknowledgement", "met": 2, "breached": 1, "running": 0, "on_time_pct": 66.7},
            {"clock": "first_reply", "met": 0, "breached": 1, "running": 0, "on_time_pct": 0.0},
            {"clock": "handling_result", "met": 0, "breached": 1, "running": 0, "on_time_pct": 0.0},
        ])
    );
    assert_eq!(
        month["revisits"],
        json!({"due": 2, "done": 2, "closed_cases": 2, "closed_cases_revisited": 2, "rate_pct": 100.0,
               "rate_target_pct": 80.0, "satisfied": 1, "satisfied_pct": 50.0, "average_score": 3.5})
    );
    // Open: everything but closed (k3, k5) and rejected (k7); overdue: a running clock past due, not closed
    // (k4, and k6 whose clock came first; not k5, stopped late and closed).
    assert_eq!(all["open_by_department"], json!({"quality": 2, "sales": 2}));
    assert_eq!(all["open"], 4);
    assert_eq!(all["overdue_by_department"], json!({"quality": 1, "sales": 1}));
    assert_eq!(all["overdue"], 2);

    // The same definitions as the monthly report.
    let report = f.report(Kind::Monthly, "2026-11", None).await;
    assert_eq!(report["total"], month["intake"]);
    assert_eq!(report["breakdown"]["channel"], month["by_channel"]);
    for (r, o) in report["timeliness"]
        .as_array()
        .unwrap()
        .iter()
        .zip(month["on_time"].as_array().unwrap())
    {
        assert_eq!(
            (&r["clock"], &r["met"], &r["breached"], &r["on_time_pct"]),
            (&o["clock"], &o["met"], &o["breached"], &o["on_time_pct"])
        );
    }
    let overdue_refs: Vec<&str> = report["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        overdue_refs.len() as i64,
        all["overdue"].as_i64().unwrap(),
        "{overdue_refs:?}"
    );
    for k in ["rate_pct", "satisfied_pct", "due", "done"] {
        assert_eq!(report["revisits"][k], month["revisits"][k], "{k}");
    }
    assert_eq!(
        f.overview("2026-10-31", None).await["today"]["by_channel"],
        json!({"web": 1}),
        "k6 in October"
    );

    let bj01 = f.overview("2026-11-20", Some("bj01")).await;
    assert_eq!(bj01["site"], "bj01");
    assert_eq!(bj01["today"]["by_channel"], json!({"email": 1}));
    assert_eq!(bj01["this_month"]["intake"], 2);
    assert_eq!(
        bj01["this_month"]["on_time"][0],
        json!({"clock": "acknowledgement", "met": 0, "breached": 1, "running": 0, "on_time_pct": 0.0})
    );
    assert_eq!(bj01["this_month"]["revisits"]["satisfied"], 1);
    assert_eq!((&bj01["open"], &bj01["overdue"]), (&json!(0), &json!(0)));
    let sh01 = f.overview("2026-11-20", Some("sh01")).await;
    assert_eq!(
        sh01["this_month"]["by_channel"],
        json!({"api": 1, "phone": 2, "web": 1})
    );
    assert_eq!(sh01["overdue_by_department"], json!({"quality": 1, "sales": 1}));
    assert_eq!(sh01["this_month"]["revisits"]["done"], 0);

    // The per-day counts agree with the facts they count, and a rebuild gives the same figures.
    let drift: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM (SELECT site, (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, clock,
                                      {} AS state, count(*)::int AS n
                                 FROM clock_facts k WHERE received_at IS NOT NULL GROUP BY 1, 2, 3, 4) facts
           FULL JOIN (SELECT * FROM clock_days WHERE n <> 0) days USING (site, day, clock, state)
          WHERE facts.n IS DISTINCT FROM days.n",
        reporting::report::sections::CLOCK_STATE
    ))
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(drift, 0);
    for (facts, days) in [
        (
            "SELECT site, (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, channel AS k, count(*)::int AS n
               FROM case_facts GROUP BY 1, 2, 3"
                .to_owned(),
            "SELECT site, day, channel AS k, n FROM case_channel_days",
        ),
        (
            format!(
                "SELECT site, (closed_at AT TIME ZONE 'Asia/Shanghai')::date AS day, revisited::text AS k,
                        count(*)::int AS n
                   FROM case_facts c WHERE closed_at IS NOT NULL AND {} GROUP BY 1, 2, 3",
                reporting::report::sections::REVISIT_COUNTED
            ),
            "SELECT site, day, revisited::text AS k, n FROM closure_days",
        ),
        (
            "SELECT site, (completed_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
                    coalesce(score, -1) || '/' || satisfied AS k, count(*)::int AS n FROM revisit_facts GROUP BY 1, 2, 3"
                .to_owned(),
            "SELECT site, day, score || '/' || satisfied AS k, n FROM revisit_days",
        ),
        (
            "SELECT site, (due_at AT TIME ZONE 'Asia/Shanghai')::date AS day, '' AS k, count(*)::int AS n
               FROM revisit_due_facts GROUP BY 1, 2, 3"
                .to_owned(),
            "SELECT site, day, '' AS k, n FROM revisit_due_days",
        ),
    ] {
        let drift: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM ({facts}) facts FULL JOIN (SELECT * FROM ({days}) d WHERE n <> 0) days
                 USING (site, day, k) WHERE facts.n IS DISTINCT FROM days.n"
        ))
        .fetch_one(&f.pool)
        .await
        .unwrap();
        assert_eq!(drift, 0, "{days}");
    }
    let overdue: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM case_facts c
          WHERE c.clocks_overdue <> (SELECT count(*) FROM clock_facts k WHERE k.case_id = c.case_id AND {})",
        reporting::report::sections::OVERDUE_CLOCK
    ))
    .fetch_one(&f.pool)
    .await
    .unwrap();
    assert_eq!(overdue, 0, "every case counts its overdue clocks");
    reporting::rebuild::rebuild(&f.pool, &f.settings).await.unwrap();
    assert_eq!(f.overview("2026-11-20", None).await, all);
}

#[tokio::test]
async fn a_report_is_served_from_its_snapshot_while_fresh_and_rebuilt_when_asked_or_kept_warm() {
    use reporting::report::snapshot::{live, Warmer};
    let f = fixture().await;
    october(&f).await;
    let mut settings = (*f.settings).clone();
    settings.snapshots.fresh_for_seconds = 3600;
    settings.snapshots.keep_warm_minutes = 60;
    let settings = Arc::new(settings);
    let oct = Period::parse(Kind::Monthly, "2026-10").unwrap();
    let late = |n: u128, day: u32| opened(&case(n), &format!("2026-10-{day:02}T02:00:00Z"), "logistics", "sales");
    let total = |pool: PgPool| async move {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT report->>'total' FROM report_snapshots WHERE kind = 'monthly' AND period = '2026-10' AND site = ''",
        )
        .fetch_optional(&pool)
        .await
        .unwrap()
        .flatten()
        .map(|t| t.parse::<i64>().unwrap())
    };

    let first = live(&f.pool, &settings, f.tz, &oct, None, false).await.unwrap();
    assert_eq!(total(f.pool.clone()).await, Some(first.total), "kept");
    // A late October case: the fresh snapshot is served as it was, until someone asks for a fresh build.
    f.deliver(&late(900, 20)).await;
    let again = live(&f.pool, &settings, f.tz, &oct, None, false).await.unwrap();
    assert_eq!((again.total, again.generated_at), (first.total, first.generated_at));
    let forced = live(&f.pool, &settings, f.tz, &oct, None, true).await.unwrap();
    assert_eq!(forced.total, first.total + 1);
    assert!(forced.generated_at > first.generated_at);
    let served = live(&f.pool, &settings, f.tz, &oct, None, false).await.unwrap();
    assert_eq!((served.total, served.generated_at), (forced.total, forced.generated_at));

    // The warmer rebuilds a snapshot that people read once it is past half its freshness ...
    f.deliver(&late(901, 21)).await;
    let warmer = Warmer {
        pool: f.pool.clone(),
        settings: settings.clone(),
        tz: f.tz,
        sites: vec!["sh01".into()],
    };
    // This month's reports (all sites, sh01) are built for the console's first pages; October is still fresh.
    assert_eq!(warmer.warm_once().await.unwrap(), 2);
    assert_eq!(
        total(f.pool.clone()).await,
        Some(forced.total),
        "still fresh: not rebuilt"
    );
    let this_month: Vec<String> =
        sqlx::query_scalar("SELECT site FROM report_snapshots WHERE period <> '2026-10' ORDER BY site")
            .fetch_all(&f.pool)
            .await
            .unwrap();
    assert_eq!(this_month, ["", "sh01"]);
    assert_eq!(warmer.warm_once().await.unwrap(), 0, "nothing due a moment later");
    sqlx::query("UPDATE report_snapshots SET built_at = built_at - interval '31 minutes'")
        .execute(&f.pool)
        .await
        .unwrap();
    assert_eq!(
        warmer.warm_once().await.unwrap(),
        3,
        "October and this month's two, all aged"
    );
    assert_eq!(total(f.pool.clone()).await, Some(forced.total + 1));
    let warmed = live(&f.pool, &settings, f.tz, &oct, None, false).await.unwrap();
    assert_eq!(warmed.total, forced.total + 1);

    // ... but not one nobody read for longer than `keep_warm_minutes`: that is rebuilt when read.
    f.deliver(&late(902, 22)).await;
    sqlx::query(
        "UPDATE report_snapshots SET built_at = now() - interval '40 minutes', last_read_at = now() - interval '2 hours'
          WHERE period = '2026-10'",
    )
    .execute(&f.pool)
    .await
    .unwrap();
    warmer.warm_once().await.unwrap();
    assert_eq!(total(f.pool.clone()).await, Some(forced.total + 1), "not kept warm");
    sqlx::query("UPDATE report_snapshots SET built_at = now() - interval '2 hours' WHERE period = '2026-10'")
        .execute(&f.pool)
        .await
        .unwrap();
    let expired = live(&f.pool, &settings, f.tz, &oct, None, false).await.unwrap();
    assert_eq!(
        expired.total,
        forced.total + 2,
        "an expired snapshot is rebuilt when read"
    );

    // A rebuild of the read models forgets every snapshot.
    reporting::rebuild::rebuild(&f.pool, &settings).await.unwrap();
    assert_eq!(total(f.pool.clone()).await, None);

    // Snapshots off: built every time, nothing kept.
    let mut off = (*settings).clone();
    off.snapshots.fresh_for_seconds = 0;
    let built = live(&f.pool, &off, f.tz, &oct, None, false).await.unwrap();
    assert_eq!(built.total, forced.total + 2);
    assert_eq!(total(f.pool.clone()).await, None);
}
