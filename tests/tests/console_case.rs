//! The console's case page end to end, in headless Chromium against the real services: a quality
//! engineer writes an 8D report (D4's categories are triage's; a stale save keeps their text and says
//! someone else saved first), adds an action, is refused D8 with what is missing in words, completes and
//! verifies it, closes and sends the report at once (the customer's email arrives) and previews it; an
//! agent whom triage does not let edit sees it read-only; deadlines are explained in Chinese on a Chinese
//! page; a wrongly linked report is split out into a case of its own and merged back with a reason kept
//! in both cases; a mistyped reference says there is no such case while registered feedback not triaged
//! yet says its case will appear; the claim reject form lists triage's configured reasons and the timeline
//! says who could not be told of it; an adverse event names the roles it involves, and its regulator
//! report is filled in by the management representative, approved only by the general manager, then
//! marked submitted.
//! Screenshots of every screen go to `target/test-output/console_case/`.
mod common;

use std::{path::PathBuf, time::Duration};

use common::{admin_token, world, World};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use testkit::{browser::Browser, mail::header, services::CONSOLE, Infra};

const PASSWORD: &str = "console-pass-123";

fn shots() -> PathBuf {
    let dir = testkit::services::bin_dir()
        .parent()
        .map(|target| target.join("test-output").join("console_case"))
        .unwrap_or_else(|| PathBuf::from("target/test-output/console_case"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn create_staff(w: &World, id: &str, roles: &[&str], department: Option<&str>, sites: &[&str]) {
    let r = w
        .http
        .post(format!("{}/api/v1/staff", w.stack.url("triage")))
        .bearer_auth(admin_token())
        .json(
            &json!({ "id": id, "name": format!("Staff {id}"), "password": PASSWORD, "roles": roles,
                       "department": department, "sites": sites }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{id}: {}", r.text().await.unwrap());
}

/// A token of `id` as triage issues it at sign-in (for the second editor working through the API).
async fn login_token(w: &World, id: &str) -> String {
    let r: Value = w
        .http
        .post(format!("{}/api/v1/auth/login", w.stack.url("triage")))
        .json(&json!({ "user": id, "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap_or_else(|| panic!("a token: {r}")).to_owned()
}

/// Waits until the element's text contains `needle`; returns the text.
async fn wait_text(b: &Client, css: &str, needle: &str) -> String {
    testkit::eventually(Duration::from_secs(10), &format!("{needle:?} in {css}"), || async {
        let t = b.find(Locator::Css(css)).await.ok()?.text().await.ok()?;
        t.contains(needle).then_some(t)
    })
    .await
}

/// The element's text once it is there.
async fn text(b: &Client, css: &str) -> String {
    testkit::eventually(Duration::from_secs(10), css, || async {
        b.find(Locator::Css(css)).await.ok()?.text().await.ok()
    })
    .await
}

/// A screenshot of the whole page (the window stretched to its height for the shot).
async fn shot(browser: &Browser, name: &str) {
    let b = &browser.client;
    let height = b
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(1600)
        .clamp(800, 7000) as u32;
    b.set_window_size(1280, height + 140).await.unwrap();
    browser.screenshot(shots().join(name)).await.unwrap();
    b.set_window_size(1280, 1600).await.unwrap();
}

/// Types `value` into the field (retried while the page that has it is still loading).
async fn fill(b: &Client, css: &str, value: &str) {
    testkit::eventually(Duration::from_secs(10), &format!("typing into {css}"), || async {
        let e = b.find(Locator::Css(css)).await.ok()?;
        e.clear().await.ok()?;
        e.send_keys(value).await.ok()
    })
    .await;
}

async fn value(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn exists(b: &Client, css: &str) -> bool {
    b.find(Locator::Css(css)).await.is_ok()
}

/// Opens every `<details>` inside `css` (the forms folded away on the page).
async fn unfold(b: &Client, css: &str) {
    b.execute(
        "document.querySelectorAll(arguments[0] + ' details').forEach(d => d.open = true);",
        vec![json!(css)],
    )
    .await
    .unwrap();
}

/// The visible text of the whole page.
async fn page_text(b: &Client) -> String {
    text(b, "body").await
}

async fn sign_in(b: &Client, console: &str, user: &str) {
    b.goto(&format!("{console}/login")).await.unwrap();
    fill(b, "#user", user).await;
    fill(b, "#password", PASSWORD).await;
    click(b, "#sign-in").await;
    wait_text(b, ".who span", &format!("({user})")).await;
}

async fn sign_out(b: &Client) {
    click(b, ".who form button").await;
    b.wait().for_element(Locator::Css("#sign-in")).await.unwrap();
}

/// Registers feedback and waits for its case; returns the reference.
async fn register(w: &World, body: Value) -> String {
    let r = w.post_feedback(&body).await;
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    w.wait_for_case(&reference).await;
    reference
}

#[tokio::test]
async fn a_quality_engineer_writes_closes_and_sends_an_8d_report_in_the_browser() {
    let infra = Infra::from_env();
    let mut w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.stack.start_console().await.expect("the console starts");
    let console = w.stack.url(CONSOLE);
    create_staff(&w, "qe1", &["quality_engineer"], Some("quality"), &["sh01"]).await;
    create_staff(&w, "qe2", &["quality_engineer"], Some("quality"), &[]).await;
    create_staff(&w, "agent-q", &["agent"], Some("quality"), &["sh01"]).await;
    let reference = register(
        &w,
        json!({ "channel": "api", "site": "sh01",
                "customer": { "name": "Li Lei", "email": "lilei@example.com", "language": "en" },
                "subject": "Cracked housings", "content": "The housings of batch B7 arrived cracked, a quality defect.",
                "product": { "code": "P-100", "batch": "B7" } }),
    )
    .await;

    let browser = Browser::start(1280, 1600).await.expect("headless Chromium starts");
    let b = &browser.client;
    sign_in(b, &console, "qe1").await;

    // The case page points to the 8D report of this product-quality complaint.
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    wait_text(b, "#eight-d-state", "Not written yet").await;
    shot(&browser, "01-case-quality-documents.png").await;
    click(b, "#eight-d-link").await;
    b.wait().for_element(Locator::Css("#sections-form")).await.unwrap();
    shot(&browser, "02-8d-empty.png").await;
    // D4's categories are the ones triage's view lists (its configuration), in its order.
    let qe1 = login_token(&w, "qe1").await;
    let view: Value = w
        .http
        .get(format!("{}/api/v1/cases/{reference}/8d", w.stack.url("triage")))
        .bearer_auth(&qe1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let offered = b
        .execute(
            "return Array.from(document.querySelectorAll('#sec-cause_category option')).map(o => o.value).filter(v => v);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered, view["cause_categories"], "{view}");

    // D1–D7 written and saved.
    fill(b, "#sec-team", "Zhang Wei, QE\nLi Na").await;
    fill(b, "#sec-problem", "Cracked housings in batch B7").await;
    fill(b, "#sec-containment", "Stock of B7 quarantined; shipments stopped").await;
    fill(b, "#sec-root_cause", "Mould temperature too low").await;
    b.find(Locator::Css("#sec-cause_category"))
        .await
        .unwrap()
        .select_by_value("process")
        .await
        .unwrap();
    fill(b, "#sec-corrective", "Mould heater replaced").await;
    fill(b, "#sec-verification", "Three batches inspected, no cracks").await;
    fill(b, "#sec-prevention", "Temperature alarm on every mould").await;
    click(b, "#save-sections").await;
    wait_text(b, "#done", "The 8D report is saved.").await;
    assert_eq!(value(b, "input[name=version]").await, "1");

    // Meanwhile a colleague saves from version 1 too; this editor's next save is stale.
    let qe2 = login_token(&w, "qe2").await;
    let r = w
        .http
        .put(format!("{}/api/v1/cases/{reference}/8d", w.stack.url("triage")))
        .bearer_auth(&qe2)
        .json(&json!({ "version": 1, "problem": "Cracked housings in B7, seen by qe2 at the warehouse" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    fill(b, "#sec-root_cause", "Mould temperature too low; the heater had failed").await;
    click(b, "#save-sections").await;
    let conflict = wait_text(b, "#problem", "Someone else saved this report").await;
    assert!(conflict.contains("Your text is kept"), "{conflict}");
    assert_eq!(
        value(b, "#sec-root_cause").await,
        "Mould temperature too low; the heater had failed",
        "the editor's text is kept"
    );
    wait_text(b, "#theirs-problem", "seen by qe2 at the warehouse").await;
    for same in ["#theirs-team", "#theirs-containment", "#theirs-cause_category"] {
        assert!(!exists(b, same).await, "{same}: only what differs is shown");
    }
    assert_eq!(
        value(b, "input[name=version]").await,
        "2",
        "the next save starts from theirs"
    );
    shot(&browser, "03-8d-stale-edit.png").await;
    // Having seen theirs, the editor takes the colleague's wording of D2 and saves.
    fill(
        b,
        "#sec-problem",
        "Cracked housings in B7, seen by qe2 at the warehouse",
    )
    .await;
    click(b, "#save-sections").await;
    wait_text(b, "#done", "The 8D report is saved.").await;
    assert_eq!(
        value(b, "#sec-root_cause").await,
        "Mould temperature too low; the heater had failed"
    );

    // A D5 action with owner and due date.
    b.find(Locator::Css("#new-action-discipline"))
        .await
        .unwrap()
        .select_by_value("D5")
        .await
        .unwrap();
    fill(b, "#new-action-description", "Replace the mould heater").await;
    fill(b, "#new-action-owner", "qe1").await;
    let due = (chrono::Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    b.execute(
        "document.getElementById('new-action-due').value = arguments[0];",
        vec![json!(due)],
    )
    .await
    .unwrap();
    click(b, "#add-action").await;
    wait_text(b, "#done", "The action is added.").await;
    wait_text(b, "#ed-action-state-1", "Open").await;
    shot(&browser, "04-8d-action-added.png").await;

    // D8 refused: what is missing, in words.
    fill(b, "#close-note", "Customer informed").await;
    click(b, "#close-eight-d").await;
    wait_text(b, "#problem", "cannot be closed (D8) yet").await;
    let missing = text(b, "#refused-missing").await;
    assert!(
        missing.contains("D5 action “Replace the mould heater” is not done"),
        "{missing}"
    );
    shot(&browser, "05-8d-close-refused.png").await;
    sign_out(b).await;

    // An agent of the department reads the report but is offered no change.
    sign_in(b, &console, "agent-q").await;
    b.goto(&format!("{console}/cases/{reference}/8d")).await.unwrap();
    wait_text(b, "#read-only", "may not edit it").await;
    wait_text(b, "#sections", "the heater had failed").await;
    for form in [
        "#sections-form",
        "#add-action",
        "#close-eight-d",
        "#send-eight-d",
        "#do-done-1",
    ] {
        assert!(!exists(b, form).await, "{form} is not offered to an agent");
    }
    shot(&browser, "06-8d-read-only-agent.png").await;
    sign_out(b).await;

    // Done, verified effective, closed.
    sign_in(b, &console, "qe1").await;
    b.goto(&format!("{console}/cases/{reference}/8d")).await.unwrap();
    unfold(b, "#ed-action-1").await;
    fill(b, "#done-note-1", "Heater installed on line 3").await;
    click(b, "#do-done-1").await;
    wait_text(b, "#done", "The action is marked as done.").await;
    unfold(b, "#ed-action-1").await;
    click(b, "#effective-yes-1").await;
    fill(b, "#verify-note-1", "No cracks in three batches").await;
    click(b, "#do-verify-1").await;
    wait_text(b, "#done", "The verification is recorded.").await;
    wait_text(b, "#ed-action-state-1", "Verified effective").await;
    wait_text(b, "#nothing-missing", "can be closed").await;
    // Closed and sent to the customer in one step (triage lets nobody edit a closed report).
    fill(b, "#close-note", "Customer informed; claim settled").await;
    click(b, "#close-send").await;
    click(b, "#close-eight-d").await;
    wait_text(b, "#done", "The 8D report is closed (D8) and was sent to the customer.").await;
    wait_text(b, "#closure", "claim settled").await;
    for form in ["#sections-form", "#close-eight-d"] {
        assert!(!exists(b, form).await, "{form}: a closed report is not edited");
    }
    // It may still be sent again (triage's can_send), e.g. when the customer asks for it once more.
    assert!(exists(b, "#send-eight-d").await, "a closed report can be sent again");
    shot(&browser, "07-8d-closed-and-sent.png").await;

    // The printable document, in English and in Chinese.
    click(b, "#preview-en").await;
    let document = wait_text(b, "#document", "D4 Root cause").await;
    assert!(document.contains("the heater had failed"), "{document}");
    shot(&browser, "08-8d-preview-en.png").await;
    b.goto(&format!("{console}/cases/{reference}/8d/document?lang=zh-CN"))
        .await
        .unwrap();
    wait_text(b, "#document", "D4 根本原因").await;
    shot(&browser, "09-8d-preview-zh-CN.png").await;

    // The customer gets it by email in their language.
    let mail = testkit::eventually(Duration::from_secs(30), "the 8D report by email", || async {
        w.mail
            .messages()
            .into_iter()
            .find(|m| header(m, "Subject").is_some_and(|s| s.contains("8D report")))
    })
    .await;
    assert_eq!(header(&mail, "To").as_deref(), Some("lilei@example.com"));
    assert!(testkit::mail::body_text(&mail).contains("Replace the mould heater"));

    // The case's timeline tells it in words.
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    let timeline = wait_text(b, "#timeline", "8D report sent to the customer").await;
    for words in [
        "8D report edited",
        "8D action added",
        "8D action verified",
        "8D report closed",
    ] {
        assert!(timeline.contains(words), "{words}: {timeline}");
    }
    wait_text(b, "#eight-d-state", "Closed (D8)").await;
    assert!(!page_text(b).await.contains("action_"), "no raw keys on the page");
    shot(&browser, "11-case-after-8d.png").await;
    browser.close().await;
}

#[tokio::test]
async fn the_case_page_explains_deadlines_in_chinese_and_splits_a_linked_report_into_a_new_case() {
    let infra = Infra::from_env();
    let mut w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.stack.start_console().await.expect("the console starts");
    let console = w.stack.url(CONSOLE);
    create_staff(&w, "hq", &["handler"], Some("quality"), &["sh01"]).await;
    // The same customer reports the same batch twice: the second report is linked to the first case.
    let customer = json!({ "name": "王芳", "phone": "13900001111", "language": "zh-CN" });
    let first = register(
        &w,
        json!({ "channel": "api", "site": "sh01", "customer": customer, "subject": "外壳破裂",
                "content": "收到的外壳有裂纹，质量缺陷。", "product": { "code": "P-200", "batch": "B9" } }),
    )
    .await;
    let r = w
        .post_feedback(
            &json!({ "channel": "letter", "site": "sh01", "customer": customer, "subject": "再次反映",
                                 "content": "另一个订单的外壳也有质量问题，颜色不对。",
                                 "product": { "code": "P-200", "batch": "B9" } }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let second = r.json::<Value>().await.unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    testkit::eventually(
        Duration::from_secs(20),
        "the second report linked to the first case",
        || async {
            let case = w.wait_for_case(&first).await;
            (case["report_count"] == 2).then_some(())
        },
    )
    .await;
    testkit::eventually(Duration::from_secs(20), "the scheduler's clocks", || async {
        let r = w.get("scheduler", &format!("/api/v1/cases/{first}/deadlines")).await;
        (r.status() == 200).then_some(())
    })
    .await;

    let browser = Browser::start(1280, 1600).await.expect("headless Chromium starts");
    let b = &browser.client;
    sign_in(b, &console, "hq").await;
    b.goto(&format!("{console}/cases/{first}")).await.unwrap();
    click(b, "a[hreflang=zh-CN]").await;
    wait_text(b, "#deadlines-h", "截止时间").await;

    // Every clock named and explained in Chinese, not the scheduler's English paragraph.
    let deadlines = text(b, "#deadlines").await;
    for words in [
        "首次答复",
        "处理结果",
        "8D 报告答复",
        "自“案件开立”",
        "24小时",
        "7个工作日",
        "当前截止时间",
    ] {
        assert!(deadlines.contains(words), "{words}: {deadlines}");
    }
    for english in ["Now due", "working day", "clock hour", "first_reply", "handling_result"] {
        assert!(!deadlines.contains(english), "{english}: {deadlines}");
    }
    // The linked report with its channel and why it was linked; the timeline in words.
    let reports = text(b, "#reports").await;
    assert!(
        reports.contains(&second) && reports.contains("信函") && reports.contains("同一顾客，同一产品 P-200、批号 B9"),
        "{reports}"
    );
    let timeline = text(b, "#timeline").await;
    assert!(timeline.contains("关联重复报告"), "{timeline}");
    let page = page_text(b).await;
    assert!(
        !page.contains("action_") && !page.contains("duplicate_linked"),
        "{page}"
    );
    shot(&browser, "21-case-deadlines-zh-CN.png").await;

    // The link was wrong: the report is split out, and its new case opens.
    unfold(b, "#reports").await;
    fill(b, "#split-reason-2", "不是同一问题：颜色不对，不是裂纹。").await;
    click(b, "#do-split-2").await;
    wait_text(b, "#case-reference", &second).await;
    wait_text(b, "#done", "拆分为独立案件").await;
    shot(&browser, "22-split-new-case.png").await;
    let new_case = w.wait_for_case(&second).await;
    assert_eq!(new_case["reference"], second.as_str(), "a case of its own");
    b.goto(&format!("{console}/cases/{first}")).await.unwrap();
    let timeline = wait_text(b, "#timeline", "拆分报告为新案件").await;
    assert!(timeline.contains(&second), "{timeline}");
    assert!(!exists(b, "#reports").await, "one report left");
    shot(&browser, "23-split-old-case.png").await;

    // Later the customer confirms it is the same problem after all: the new case is merged back, with a
    // reason; the page goes on with the case that now holds both reports.
    b.goto(&format!("{console}/cases/{second}")).await.unwrap();
    b.execute("document.getElementById('action-merge').open = true;", vec![])
        .await
        .unwrap();
    fill(b, "#merge-into_case", &first).await;
    fill(b, "#merge-reason", "顾客确认两次反映的是同一问题。").await;
    click(b, "#do-merge").await;
    wait_text(b, "#done", "合并为重复").await;
    wait_text(b, "#case-reference", &first).await;
    // The target tells what was merged in and why, and which report came with it.
    let timeline = wait_text(b, "#timeline", "并入重复案件").await;
    assert!(timeline.contains("顾客确认两次反映的是同一问题。"), "{timeline}");
    wait_text(b, "#reports", &format!("随案件 {second} 合并而来")).await;
    shot(&browser, "24-merged-duplicate.png").await;
    let merged = w.wait_for_case(new_case["id"].as_str().unwrap()).await;
    assert_eq!(merged["status"], "closed");
    assert!(
        merged["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["action"] == "merge" && h["detail"]["reason"] == "顾客确认两次反映的是同一问题。"),
        "the reason goes with the merge, not as a note: {merged}"
    );
    // The merged case's own reference opens the merged case (closed), not its target.
    b.goto(&format!("{console}/cases/{second}")).await.unwrap();
    wait_text(b, "#case-reference", &second).await;
    wait_text(b, "#timeline", "顾客确认两次反映的是同一问题。").await;

    // A reference that is nowhere (one mistyped digit of a real one too): said plainly, not "wait for triage".
    let (day, number) = first.rsplit_once('-').unwrap();
    let mistyped = format!("{day}-7{}", &number[1..]);
    for nowhere in ["NOPE-123", "SH01-20200101-9999", mistyped.as_str()] {
        b.goto(&format!("{console}/cases/{nowhere}")).await.unwrap();
        wait_text(b, "#no-such-case", nowhere).await;
        assert!(!exists(b, "#pending").await, "{nowhere}");
    }
    shot(&browser, "25-no-such-case.png").await;

    // Feedback in intake's register whose case triage has not opened yet (its event still on the way):
    // the page says the case will appear, not that there is none.
    let registered = format!("SH01-{}-9990", chrono::Utc::now().format("%Y%m%d"));
    let intake = w.stack.pool("intake").await.unwrap();
    sqlx::query(
        "INSERT INTO feedback (id, reference, site, channel, received_at, language, content, status_token_sha256)
         VALUES ($1, $2, 'sh01', 'letter', now(), 'zh-CN', '来信', 'x')",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&registered)
    .execute(&intake)
    .await
    .unwrap();
    intake.close().await;
    b.goto(&format!("{console}/cases/{}", registered.to_lowercase()))
        .await
        .unwrap();
    wait_text(b, "#pending", "分诊完成后案件会显示在这里").await;
    assert!(page_text(b).await.contains("渠道：信函"));
    assert!(!exists(b, "#no-such-case").await);
    shot(&browser, "26-registered-not-triaged.png").await;
    browser.close().await;
}

/// The texts of the options of a `<select>`, as (value, label).
async fn options(b: &Client, css: &str) -> Vec<(String, String)> {
    let found = b
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0] + ' option')).map(o => [o.value, o.textContent]);",
            vec![json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

#[tokio::test]
async fn claims_and_regulator_reports_are_offered_as_triage_says_and_nobody_told_is_said() {
    let infra = Infra::from_env();
    let mut w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.stack.start_console().await.expect("the console starts");
    let console = w.stack.url(CONSOLE);
    // Staff accounts carry no email address here: a rule naming one of them reaches nobody.
    create_staff(&w, "mm", &["marketing_manager"], None, &[]).await;
    create_staff(&w, "gm", &["general_manager"], None, &[]).await;
    create_staff(&w, "mr", &["management_representative"], None, &[]).await;
    create_staff(&w, "au", &["auditor"], None, &[]).await;
    testkit::eventually(Duration::from_secs(20), "notification knows the staff", || async {
        (w.count("notification", "SELECT count(*) FROM staff WHERE user_id = 'mm'")
            .await
            == 1)
            .then_some(())
    })
    .await;

    // A claim of 1,500 CNY: the marketing manager decides it (and is told of it, but has no email address).
    let claimed = register(
        &w,
        json!({ "channel": "api", "site": "sh01",
                "customer": { "name": "Li Lei", "email": "lilei@example.com", "language": "en" },
                "subject": "Broken housings", "content": "The housings arrived broken, a quality defect; we claim a refund.",
                "product": { "code": "P-300", "batch": "B3" },
                "claim": { "amount": "1500.00", "currency": "CNY", "return_quantity": 5 } }),
    )
    .await;
    testkit::eventually(
        Duration::from_secs(20),
        "notification logs that mm could not be told",
        || async {
            let log: Vec<Value> = w
                .get("notification", &format!("/api/v1/notifications?case={claimed}"))
                .await
                .json()
                .await
                .ok()?;
            log.iter()
                .any(|d| d["status"] == "no_recipient" && d["recipient_masked"] == "person:mm")
                .then_some(())
        },
    )
    .await;
    // An adverse event: the quality department's, involving the management representative.
    let adverse = register(
        &w,
        json!({ "channel": "phone", "site": "sh01", "customer": { "name": "王芳", "phone": "13900002222" },
                "subject": "服药后过敏", "content": "服用后出现皮疹和头晕，疑似不良反应。",
                "product": { "code": "VC-500", "batch": "B2026-10" },
                "adverse_reaction": { "onset": "首次服用后2小时", "dose": "每次2片", "other_medicines": "无" } }),
    )
    .await;

    let browser = Browser::start(1280, 1600).await.expect("headless Chromium starts");
    let b = &browser.client;

    // An auditor reads the claim and is offered no decision; the timeline says who could not be told.
    sign_in(b, &console, "au").await;
    b.goto(&format!("{console}/cases/{claimed}")).await.unwrap();
    wait_text(b, "#claim", "1500.00").await;
    for form in ["#approve-claim", "#reject-claim"] {
        assert!(!exists(b, form).await, "{form} offered to an auditor");
    }
    let timeline = text(b, "#timeline").await;
    assert!(
        timeline.contains("Email · Claim awaiting approval")
            && timeline.contains("Nobody could be told: mm has no email address"),
        "{timeline}"
    );
    shot(&browser, "30-claim-nobody-told.png").await;
    sign_out(b).await;

    // The marketing manager: approve or reject, for the reasons triage is configured with, in the page's
    // language (triage's Chinese labels, not a copy in the console).
    sign_in(b, &console, "mm").await;
    b.goto(&format!("{console}/cases/{claimed}")).await.unwrap();
    wait_text(b, "#claim", "1500.00").await;
    assert!(exists(b, "#approve-claim").await);
    assert_eq!(
        options(b, "#claim-reason").await,
        [
            ("past_shelf_life".to_owned(), "Past its shelf life".to_owned()),
            ("not_our_product".to_owned(), "Not our product".to_owned()),
            ("met_contract".to_owned(), "The product met the contract".to_owned()),
        ]
    );
    click(b, "a[hreflang=zh-CN]").await;
    wait_text(b, "#claim-h", "索赔").await;
    let reasons = options(b, "#claim-reason").await;
    assert_eq!(reasons[2].1, "产品符合合同要求", "{reasons:?}");
    shot(&browser, "31-claim-reject-reasons.png").await;
    b.find(Locator::Css("#claim-reason"))
        .await
        .unwrap()
        .select_by_value("not_our_product")
        .await
        .unwrap();
    click(b, "#reject-claim").await;
    wait_text(b, "#claim-rejection", "非本公司产品").await;
    for form in ["#approve-claim", "#reject-claim"] {
        assert!(!exists(b, form).await, "{form}: the claim is decided");
    }
    shot(&browser, "32-claim-rejected.png").await;
    click(b, "a[hreflang=en]").await;
    sign_out(b).await;

    // The management representative, whom the adverse event involves, fills in the regulator report but
    // does not approve it.
    sign_in(b, &console, "mr").await;
    b.goto(&format!("{console}/cases/{adverse}")).await.unwrap();
    wait_text(b, "#involved-roles", "Management representative").await;
    wait_text(b, "#regulator-missing", "Patient outcome").await;
    assert!(!exists(b, "#approve-regulator").await && !exists(b, "#submit-regulator").await);
    shot(&browser, "33-adverse-event-regulator-draft.png").await;
    fill(b, "#reg-patient_outcome", "Recovered after three days").await;
    click(b, "#save-regulator").await;
    wait_text(b, "#done", "Regulator report edited").await;
    assert!(!exists(b, "#regulator-missing").await, "complete now");
    assert!(!exists(b, "#approve-regulator").await, "not the approver");
    shot(&browser, "34-regulator-filled.png").await;
    sign_out(b).await;

    // The general manager approves it (and is offered nothing else of it).
    sign_in(b, &console, "gm").await;
    b.goto(&format!("{console}/cases/{adverse}")).await.unwrap();
    wait_text(b, "#regulator-status", "Draft").await;
    assert!(!exists(b, "#save-regulator").await && !exists(b, "#submit-regulator").await);
    shot(&browser, "35-regulator-approve-gm.png").await;
    click(b, "#approve-regulator").await;
    wait_text(b, "#regulator-status", "Approved, not yet submitted").await;
    assert!(!exists(b, "#approve-regulator").await);
    sign_out(b).await;

    // The management representative marks it submitted with the authority's number.
    sign_in(b, &console, "mr").await;
    b.goto(&format!("{console}/cases/{adverse}")).await.unwrap();
    assert!(!exists(b, "#approve-regulator").await);
    fill(b, "#submission-reference", "NMPA-2026-0042").await;
    click(b, "#submit-regulator").await;
    wait_text(b, "#regulator-status", "Submitted").await;
    wait_text(b, "#regulator", "NMPA-2026-0042").await;
    assert!(!exists(b, "#submit-regulator").await && !exists(b, "#save-regulator").await);
    shot(&browser, "36-regulator-submitted.png").await;
    browser.close().await;
}
