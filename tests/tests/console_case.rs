//! The console's case page end to end, in headless Chromium against the real services: a quality
//! engineer writes an 8D report (a stale save keeps their text and says someone else saved first),
//! adds an action, is refused D8 with what is missing in words, completes and verifies it, closes,
//! previews and sends the report (the customer's email arrives); an agent without 8D rights sees it
//! read-only; deadlines are explained in Chinese on a Chinese page; a wrongly linked report is split
//! out into a case of its own from the page; an unknown reference says there is no such case.
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
    fill(b, "#close-note", "Customer informed; claim settled").await;
    click(b, "#close-eight-d").await;
    wait_text(b, "#done", "The 8D report is closed (D8).").await;
    wait_text(b, "#closure", "claim settled").await;
    assert!(!exists(b, "#sections-form").await, "a closed report is not edited");
    shot(&browser, "07-8d-closed.png").await;

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

    // Sent to the customer, who gets it by email in their language.
    b.goto(&format!("{console}/cases/{reference}/8d")).await.unwrap();
    click(b, "#send-eight-d").await;
    wait_text(b, "#done", "The 8D report was sent to the customer.").await;
    shot(&browser, "10-8d-sent.png").await;
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
    wait_text(b, "#timeline", "并入重复案件").await;
    wait_text(b, "#reports", &second).await;
    shot(&browser, "24-merged-duplicate.png").await;
    let merged = w.wait_for_case(new_case["id"].as_str().unwrap()).await;
    assert_eq!(merged["status"], "closed");
    let reason = format!("合并到 {first} 的原因：顾客确认两次反映的是同一问题。");
    assert!(
        merged["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["detail"]["text"] == reason.as_str()),
        "the reason is kept with the merged case: {merged}"
    );

    // A reference that is nowhere: said plainly, not "wait for triage".
    for nowhere in ["NOPE-123", "SH01-20200101-9999"] {
        b.goto(&format!("{console}/cases/{nowhere}")).await.unwrap();
        wait_text(b, "#no-such-case", nowhere).await;
        assert!(!exists(b, "#pending").await);
    }
    shot(&browser, "25-no-such-case.png").await;
    browser.close().await;
}
