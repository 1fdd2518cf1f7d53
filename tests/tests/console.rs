//! The staff console end to end: the real services and the console binary, driven in headless
//! Chromium (WebDriver) — sign in, administration, phone intake, "My work", the case workflow to
//! closure, claim approval and refusal, a dissatisfied revisit reopening the case, dashboard,
//! reports, language switch — plus its CSRF
//! protection and plain-HTML (no JavaScript) form posts over HTTP. Screenshots of every screen go
//! to `target/test-output/console/`.
mod common;

use std::{path::PathBuf, time::Duration};

use common::{admin_token, world, World};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use testkit::{browser::Browser, services::CONSOLE, Infra};

const PASSWORD: &str = "console-pass-123";

fn shots() -> PathBuf {
    let dir = testkit::services::bin_dir()
        .parent()
        .map(|target| target.join("test-output").join("console"))
        .unwrap_or_else(|| PathBuf::from("target/test-output/console"));
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

/// The element's text once it is there (retried while a submitted form's page is still loading).
async fn text(b: &Client, css: &str) -> String {
    testkit::eventually(Duration::from_secs(10), css, || async {
        match b.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.ok(),
            Err(_) => None,
        }
    })
    .await
}

/// Waits until the element's text contains `needle` (the page after a submitted form may still be
/// loading, and the page before it may have the same element); returns the text.
async fn wait_text(b: &Client, css: &str, needle: &str) -> String {
    testkit::eventually(Duration::from_secs(10), &format!("{needle:?} in {css}"), || async {
        let t = b.find(Locator::Css(css)).await.ok()?.text().await.ok()?;
        t.contains(needle).then_some(t)
    })
    .await
}

/// Waits until the case's status is one of `any`; returns it.
async fn wait_status(b: &Client, any: &[&str]) -> String {
    testkit::eventually(Duration::from_secs(10), &format!("the case {any:?}"), || async {
        let t = b.find(Locator::Css("#case-status")).await.ok()?.text().await.ok()?;
        any.contains(&t.as_str()).then_some(t)
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
        .clamp(800, 6000) as u32;
    b.set_window_size(1280, height + 140).await.unwrap();
    browser.screenshot(shots().join(name)).await.unwrap();
    b.set_window_size(1280, 1600).await.unwrap();
}

async fn fill(b: &Client, css: &str, value: &str) {
    let e = b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
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

async fn sign_in(b: &Client, console: &str, user: &str, password: &str) {
    b.goto(&format!("{console}/login")).await.unwrap();
    fill(b, "#user", user).await;
    fill(b, "#password", password).await;
    click(b, "#sign-in").await;
    text(b, "#current-user").await;
    let who = text(b, ".who span").await;
    assert!(who.contains(&format!("({user})")), "signed in as {user}: {who}");
}

async fn sign_out(b: &Client) {
    click(b, ".who form button").await;
    b.wait().for_element(Locator::Css("#sign-in")).await.unwrap();
}

/// Opens the action's form on the case page, fills it and submits it.
async fn act(b: &Client, action: &str, fields: &[(&str, &str)]) {
    b.execute(
        &format!("document.getElementById('action-{action}').open = true;"),
        vec![],
    )
    .await
    .unwrap_or_else(|e| panic!("the {action} form is offered: {e}"));
    for (field, value) in fields {
        let css = format!("#{action}-{field}");
        let e = b.find(Locator::Css(&css)).await.unwrap();
        if e.prop("tagName").await.unwrap().as_deref() == Some("SELECT") {
            e.select_by_value(value).await.unwrap();
        } else {
            e.send_keys(value).await.unwrap();
        }
    }
    click(b, &format!("#do-{action}")).await;
    testkit::eventually(Duration::from_secs(10), "the action's answer", || async {
        let url = b.current_url().await.ok()?;
        url.as_str().contains(&format!("done={action}")).then_some(())
    })
    .await;
    assert!(!text(b, "#done").await.is_empty(), "{action} done");
}

async fn offered_actions(b: &Client) -> Vec<String> {
    let v = b
        .execute(
            "return Array.from(document.querySelectorAll('details[id^=action-]')).map(d => d.id.slice(7));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// The session cookie of the browser, for plain HTTP requests as the same user.
async fn session_cookie(b: &Client) -> String {
    let cookie = b.get_named_cookie("console_session").await.unwrap();
    format!("console_session={}", cookie.value())
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[start..start + 64].to_owned()
}

#[tokio::test]
async fn staff_work_a_phone_complaint_through_the_console_to_closure() {
    let infra = Infra::from_env();
    // Reports from snapshots, as shipped: the page says as of when, and "recalculate now" builds anew.
    let snapshots = (
        "APP__REPORTING__SNAPSHOTS__FRESH_FOR_SECONDS".to_owned(),
        "120".to_owned(),
    );
    let mut w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![snapshots]).await;
    w.stack.start_console().await.expect("the console starts");
    let console = w.stack.url(CONSOLE);
    create_staff(&w, "agent1", &["agent"], Some("sales"), &["sh01"]).await;
    create_staff(&w, "q-head", &["department_head"], Some("quality"), &[]).await;
    create_staff(&w, "mm", &["marketing_manager"], Some("sales"), &[]).await;

    let browser = Browser::start(1280, 1600).await.expect("headless Chromium starts");
    let b = &browser.client;

    // Signed out: every page leads to the sign-in form, in the browser's language (English);
    // the switch turns it to Chinese and remembers it.
    b.goto(&format!("{console}/work")).await.unwrap();
    b.wait().for_element(Locator::Css("#sign-in")).await.unwrap();
    assert!(b.current_url().await.unwrap().as_str().contains("/login?next="));
    assert_eq!(text(b, "#sign-in").await, "Sign in");
    shot(&browser, "01-login-en.png").await;
    click(b, "a[hreflang=zh-CN]").await;
    wait_text(b, "#sign-in", "登录").await;
    shot(&browser, "01-login-zh-CN.png").await;
    // Wrong password: said in words, no session.
    fill(b, "#user", "admin").await;
    fill(b, "#password", "wrong-password").await;
    click(b, "#sign-in").await;
    wait_text(b, "#login-error", "用户名或密码不正确。").await;

    // The administrator creates the handler through the administration screen.
    sign_in(b, &console, "admin", "change-me-admin").await;
    assert!(
        b.current_url().await.unwrap().as_str().ends_with("/work"),
        "back where we were going"
    );
    b.goto(&format!("{console}/admin")).await.unwrap();
    fill(b, "#id", "h-quality").await;
    fill(b, "#name", "Handler Quality").await;
    fill(b, "#password", PASSWORD).await;
    fill(b, "#department", "quality").await;
    click(b, "input[name=roles][value=handler]").await;
    click(b, "input[name=sites][value=sh01]").await;
    click(b, "#create-staff").await;
    wait_text(b, "#created", "h-quality").await;
    // The rules in force, read from triage: product quality goes to the quality department.
    wait_text(b, "#routing", "产品质量 product_quality quality").await;
    wait_text(b, "#sla", "handling_result").await;
    wait_text(b, "#calendars", "Asia/Shanghai").await;
    // The holiday and make-up working dates themselves, with where they come from.
    let days = text(b, "#calendar-days-1").await;
    assert!(
        days.contains("2026-10-01 – 2026-10-07") && days.contains("国庆节"),
        "National Day: {days}"
    );
    assert!(
        days.contains("调休上班日") && days.contains("shared/calendar/data/cn-2025-2026.toml"),
        "{days}"
    );
    shot(&browser, "02-admin.png").await;
    // Signing out revokes the token at triage: a copy of the cookie is worthless afterwards.
    let copied = session_cookie(b).await;
    sign_out(b).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain
        .get(format!("{console}/work"))
        .header("cookie", &copied)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the signed-out session is refused");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));

    // The agent registers a phone complaint with a claim over 1,000 CNY.
    sign_in(b, &console, "agent1", PASSWORD).await;
    b.goto(&format!("{console}/intake/phone")).await.unwrap();
    fill(b, "#phone", "13812345678").await;
    fill(b, "#name", "张三").await;
    fill(b, "#subject", "包装破损").await;
    fill(b, "#content", "客户来电：到货包装破损，产品有质量缺陷，要求退货索赔。").await;
    fill(b, "#product_code", "P-100").await;
    fill(b, "#batch", "B2026-11").await;
    fill(b, "#claim_amount", "1500.00").await;
    fill(b, "#return_quantity", "20").await;
    shot(&browser, "03-phone-intake.png").await;
    click(b, "#register").await;
    let reference = text(b, "#reference").await;
    assert!(reference.starts_with("SH01-"), "{reference}");
    shot(&browser, "04-phone-intake-registered.png").await;
    let (channel,): (String,) = sqlx::query_as("SELECT channel FROM feedback WHERE reference = $1")
        .bind(&reference)
        .fetch_one(&w.stack.pool("intake").await.unwrap())
        .await
        .unwrap();
    assert_eq!(channel, "phone");
    // The same caller again: the agent starts typing, then looks the number up — the earlier feedback is
    // shown, the name filled in, and nothing typed is lost; the number stays out of the address.
    b.goto(&format!("{console}/intake/phone")).await.unwrap();
    fill(b, "#content", "客户再次来电，询问退货进度。").await;
    fill(b, "#phone", "138 1234 5678").await;
    click(b, "#do-lookup").await;
    wait_text(b, "#lookup-result", &reference).await;
    let value =
        |css: &'static str| async move { b.find(Locator::Css(css)).await.unwrap().prop("value").await.unwrap() };
    assert_eq!(value("#name").await.as_deref(), Some("张三"));
    assert_eq!(value("#content").await.as_deref(), Some("客户再次来电，询问退货进度。"));
    let url = b.current_url().await.unwrap();
    assert!(!url.as_str().contains("1234"), "no phone number in {url}");
    shot(&browser, "04-phone-intake-lookup.png").await;
    w.wait_for_case(&reference).await;
    sign_out(b).await;

    // The quality handler sees it in "My work" and opens it.
    sign_in(b, &console, "h-quality", PASSWORD).await;
    let row = format!("tr[data-reference='{reference}']");
    testkit::eventually(
        Duration::from_secs(20),
        "the case in the handler's work list",
        || async {
            b.goto(&format!("{console}/work")).await.unwrap();
            exists(b, &row).await.then_some(())
        },
    )
    .await;
    shot(&browser, "05-my-work.png").await;
    // Search narrows the list; a word that is nowhere empties it.
    fill(b, "#text", "no-such-words-anywhere").await;
    click(b, "form[role=search] button").await;
    b.wait().for_element(Locator::Css("#no-cases")).await.unwrap();
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    assert_eq!(text(b, "#case-reference").await, reference);
    // A handler may not assign or close: those forms are not offered.
    let offered = offered_actions(b).await;
    assert!(offered.contains(&"acknowledge".to_string()), "{offered:?}");
    assert!(
        !offered.contains(&"assign".to_string()) && !offered.contains(&"close".to_string()),
        "{offered:?}"
    );
    // The claim needs the marketing manager: a handler is not offered the approval…
    assert!(text(b, "#claim").await.contains("1500"));
    assert!(!exists(b, "#approve-claim").await);
    shot(&browser, "06-case-handler.png").await;
    // …and is refused when posting it anyway, in words.
    b.execute(
        "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
         const c = document.createElement('input'); c.type = 'hidden'; c.name = 'csrf';
         c.value = document.querySelector('input[name=csrf]').value; f.appendChild(c);
         document.body.appendChild(f); f.submit();",
        vec![json!(format!("/cases/{reference}/claim/approve"))],
    )
    .await
    .unwrap();
    let refused = text(b, "#problem").await;
    assert!(refused.contains("您没有执行此操作的权限"), "{refused}");
    shot(&browser, "07-claim-refused-handler.png").await;
    act(b, "acknowledge", &[]).await;
    // Triaged, or straight to assigned when triage already named the handler.
    wait_status(b, &["已分诊", "已分派"]).await;
    act(b, "note", &[("text", "已联系客户，等待退回样品。")]).await;
    sign_out(b).await;

    // The department head sees it with the handler (assigning it when triage has not named one already).
    sign_in(b, &console, "q-head", PASSWORD).await;
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    if offered_actions(b).await.contains(&"assign".to_string()) {
        act(b, "assign", &[("assignee", "h-quality")]).await;
    }
    wait_text(b, "#case-assignee", "h-quality").await;
    sign_out(b).await;

    // The marketing manager approves the claim.
    sign_in(b, &console, "mm", PASSWORD).await;
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    click(b, "#approve-claim").await;
    wait_text(b, "#claim-approvals", "Staff mm").await;
    assert!(!exists(b, "#approve-claim").await, "approved once");
    shot(&browser, "08-claim-approved-marketing-manager.png").await;
    sign_out(b).await;

    // The handler works it: in progress, reply, resolve; "assigned to me" finds it.
    sign_in(b, &console, "h-quality", PASSWORD).await;
    b.goto(&format!("{console}/work?scope=mine")).await.unwrap();
    assert!(exists(b, &row).await, "assigned to me");
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    act(b, "acknowledge", &[]).await;
    act(
        b,
        "reply",
        &[("text", "您好，我们已安排退货，并将在7个工作日内给出8D报告。")],
    )
    .await;
    act(b, "resolve", &[("summary", "退货已接收，补发新品。")]).await;
    wait_text(b, "#case-status", "已解决").await;
    sign_out(b).await;

    // The head closes it; the timeline tells the whole story.
    sign_in(b, &console, "q-head", PASSWORD).await;
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    act(b, "close", &[("outcome", "accepted")]).await;
    wait_text(b, "#case-status", "已结案").await;
    // Closed: only reopening is left to offer.
    assert_eq!(offered_actions(b).await, vec!["reopen".to_string()]);
    let timeline = text(b, "#timeline").await;
    for expected in ["电话", "确认受理", "分派", "答复顾客", "解决", "结案", "批准索赔"] {
        assert!(timeline.contains(expected), "{expected} in the timeline:\n{timeline}");
    }
    shot(&browser, "09-case-closed.png").await;

    // A revisit of the closed case; the customer is dissatisfied, so the case reopens.
    fill(b, "#revisit-note", "结案后回访").await;
    click(b, "#schedule-revisit").await;
    wait_text(b, "#done", "回访已安排").await;
    let revisit_row = format!("tr[data-case='{reference}'] a.button");
    // The call window may be closed at the time the test runs: show every open revisit.
    b.goto(&format!("{console}/revisits?all=true")).await.unwrap();
    b.wait().for_element(Locator::Css(&revisit_row)).await.unwrap();
    shot(&browser, "15-revisit-queue.png").await;
    click(b, &revisit_row).await;
    b.find(Locator::Css("#q_overall"))
        .await
        .unwrap()
        .select_by_value("1")
        .await
        .unwrap();
    fill(b, "#q_suggestions", "退货太慢").await;
    fill(b, "#comments", "客户对处理进度不满意").await;
    shot(&browser, "16-revisit-questionnaire.png").await;
    click(b, "#record-outcome").await;
    testkit::eventually(Duration::from_secs(10), "the case page after the outcome", || async {
        let url = b.current_url().await.ok()?;
        url.as_str().contains("done=outcome_reopened").then_some(())
    })
    .await;
    wait_text(b, "#case-status", "已重开").await;
    shot(&browser, "17-case-reopened-by-revisit.png").await;
    // The follow-up revisit the dissatisfied outcome scheduled: nobody answers this time.
    b.goto(&format!("{console}/revisits?all=true")).await.unwrap();
    click(b, &revisit_row).await;
    b.find(Locator::Css("#kind"))
        .await
        .unwrap()
        .select_by_value("no_answer")
        .await
        .unwrap();
    fill(b, "#note", "无人接听").await;
    click(b, "#record-attempt").await;
    wait_text(b, "#done", "拨打已记录").await;
    b.goto(&format!("{console}/revisits?all=true")).await.unwrap();
    let row = wait_text(b, &format!("tr[data-case='{reference}']"), &reference).await;
    assert!(row.contains("#2"), "the follow-up: {row}");
    assert_eq!(text(b, &format!("tr[data-case='{reference}'] td.attempts")).await, "1");
    // Only a manager is offered closing the loop without the customer's satisfaction.
    click(b, &revisit_row).await;
    b.wait().for_element(Locator::Css("#record-attempt")).await.unwrap();
    assert!(
        !exists(b, "#close-form").await,
        "a department head may not close the loop"
    );
    sign_out(b).await;
    sign_in(b, &console, "mm", PASSWORD).await;
    b.goto(&format!("{console}/revisits?all=true")).await.unwrap();
    click(b, &revisit_row).await;
    fill(b, "#close-reason", "客户已接受补发方案，不再回访").await;
    click(b, "#close-loop").await;
    wait_text(b, "#done", "回访已结束").await;
    assert!(!exists(b, &revisit_row).await, "no open revisit left for the case");
    sign_out(b).await;
    sign_in(b, &console, "q-head", PASSWORD).await;

    // Dashboard and the monthly report (charts, CSV, printable).
    b.goto(&format!("{console}/dashboard")).await.unwrap();
    let month: i64 = text(b, "#month-total").await.parse().unwrap();
    assert!(month >= 1, "this month's intake counts the call");
    assert!(exists(b, "svg.chart").await, "a chart");
    assert!(
        text(b, "#chart-open_by_department").await.contains("quality"),
        "the reopened case is open"
    );
    assert!(text(b, "#chart-intake_by_channel_today").await.contains("电话"));
    // The one revisit done was dissatisfied (reporting's figures, or triage's until reporting has them).
    assert!(exists(b, "#revisit-rate").await);
    assert!(
        text(b, "#revisit-satisfaction").await.starts_with("0%"),
        "the one revisit was dissatisfied"
    );
    shot(&browser, "10-dashboard.png").await;
    b.goto(&format!("{console}/reports?kind=monthly")).await.unwrap();
    // Reporting may serve a snapshot built before today's cases (its warmer builds this month's report at start).
    assert!(text(b, "#report-as-of").await.starts_with("数据截至 "));
    click(b, "#report-fresh").await;
    assert!(b.current_url().await.unwrap().as_str().contains("fresh=true"));
    assert!(text(b, "#report-total").await.parse::<i64>().unwrap() >= 1);
    assert!(exists(b, "svg.chart").await);
    shot(&browser, "11-report-monthly.png").await;
    // The snapshot that build kept is what the next reader gets.
    b.goto(&format!("{console}/reports?kind=monthly")).await.unwrap();
    assert!(text(b, "#report-total").await.parse::<i64>().unwrap() >= 1);
    b.goto(&format!("{console}/reports?kind=monthly&print=true"))
        .await
        .unwrap();
    shot(&browser, "12-report-printable.png").await;
    let cookie = session_cookie(b).await;
    let csv = w
        .http
        .get(format!("{console}/reports/csv?kind=monthly"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("report-monthly-"));
    assert!(csv.text().await.unwrap().starts_with("section,key,count"));
    // Excel from reporting, through the console with the user's token: a real workbook.
    let xlsx = w
        .http
        .get(format!("{console}/reports/export?kind=monthly&format=xlsx"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    assert_eq!(
        xlsx.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(xlsx.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("report-monthly-"));
    let entries = zip_entries(&xlsx.bytes().await.unwrap());
    for part in ["[Content_Types].xml", "xl/workbook.xml"] {
        assert!(entries.iter().any(|e| e == part), "{part} in {entries:?}");
    }
    assert!(entries.iter().any(|e| e.starts_with("xl/worksheets/")), "{entries:?}");
    // The printable report, shown in the browser.
    b.goto(&format!("{console}/reports/export?kind=monthly&format=html"))
        .await
        .unwrap();
    b.wait().for_element(Locator::Css("table")).await.unwrap();
    shot(&browser, "12-report-printable-reporting.png").await;
    b.goto(&format!("{console}/reports?kind=monthly")).await.unwrap();

    // Switching language, remembered across pages.
    click(b, "a[hreflang=en]").await;
    wait_text(b, "nav a[href='/work']", "My work").await;
    b.goto(&format!("{console}/cases/{reference}")).await.unwrap();
    wait_text(b, "#case-status", "Reopened").await;
    shot(&browser, "13-case-en.png").await;
    b.goto(&format!("{console}/work")).await.unwrap();
    shot(&browser, "14-my-work-en.png").await;
    click(b, "a[hreflang=zh-CN]").await;
    wait_text(b, "nav a[href='/work']", "我的工作").await;

    // Without JavaScript: every form is a plain POST. A note posted over HTTP with the page's
    // token is taken; the same post without it, or with a forged one, is refused.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{console}/cases/{reference}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&page);
    let post = |form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let cookie = cookie.clone();
        let url = format!("{console}/cases/{reference}/act/note");
        async move {
            http.post(url)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let notes = |case: &Value| {
        case["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["action"] == "note")
            .count()
    };
    let before = notes(&w.wait_for_case(&reference).await);
    let refused = post(vec![("text", "no token".into())]).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("表单已过期或来源不明"));
    let refused = post(vec![("text", "forged".into()), ("csrf", "0".repeat(64))]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        notes(&w.wait_for_case(&reference).await),
        before,
        "nothing changed by the refused posts"
    );
    let taken = post(vec![("text", "客户再次来电".into()), ("csrf", token)]).await;
    assert_eq!(taken.status(), 303, "a plain form post works");
    assert_eq!(notes(&w.wait_for_case(&reference).await), before + 1);

    browser.close().await;
}

/// Signs in over plain HTTP, as a browser without JavaScript would: the session cookie.
async fn plain_sign_in(http: &reqwest::Client, console: &str, user: &str, password: &str) -> String {
    let cookie_of = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("console_session="))
            .map(|v| v.split(';').next().unwrap().to_owned())
    };
    let form = http.get(format!("{console}/login")).send().await.unwrap();
    let anonymous = cookie_of(&form).expect("a session for the sign-in form");
    let csrf = csrf_of(&form.text().await.unwrap());
    let r = http
        .post(format!("{console}/login"))
        .header("cookie", &anonymous)
        .form(&[
            ("user", user),
            ("password", password),
            ("csrf", &csrf),
            ("next", "/work"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signed in as {user}");
    cookie_of(&r).expect("the signed-in session")
}

/// A page's HTML as the signed-in user sees it in English.
async fn plain_page(http: &reqwest::Client, cookie: &str, url: &str) -> String {
    let r = http
        .get(url)
        .header("cookie", cookie)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.text().await.unwrap()
}

/// The markup from the element with `id` to the end of its section (or table row).
fn part<'a>(html: &'a str, id: &str, end: &str) -> &'a str {
    let start = html.find(id).unwrap_or_else(|| panic!("{id} on the page:\n{html}"));
    let rest = &html[start..];
    &rest[..rest.find(end).map(|i| i + end.len()).unwrap_or(rest.len())]
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The `href` of the link with `id`, if the page has it.
fn link(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let href = &tag[tag.find("href=\"")? + 6..];
    Some(unescape(&href[..href.find('"')?]))
}

#[tokio::test]
async fn the_dashboard_shows_reportings_figures_per_site_and_the_revisit_queue_pages_without_javascript() {
    let infra = Infra::from_env();
    let mut w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.stack.start_console().await.expect("the console starts");
    let console = w.stack.url(CONSOLE);

    // Today: two complaints through the API at sh01, one email at bj01.
    let email = json!({"channel": "email", "site": "bj01", "customer": {"name": "李四", "email": "li@example.com"},
                       "subject": "物流", "content": "物流运输延迟，包裹晚到三天。"});
    let mut cases = vec![];
    for body in [common::complaint(41), common::complaint(42), email] {
        let r = w.post_feedback(&body).await;
        assert_eq!(r.status(), 201);
        let reference = r.json::<Value>().await.unwrap()["reference"]
            .as_str()
            .unwrap()
            .to_owned();
        cases.push(w.wait_for_case(&reference).await);
    }
    testkit::eventually(Duration::from_secs(20), "three cases in reporting", || async {
        (w.count("reporting", "SELECT count(*) FROM case_facts").await == 3).then_some(())
    })
    .await;
    // The first one's first reply runs past its deadline (as the scheduler would announce it).
    let late = &cases[0];
    let breached = contracts::Envelope::new(
        "sh01",
        uuid::Uuid::now_v7(),
        contracts::deadline::DeadlineBreachedV1 {
            case_id: late["id"].as_str().unwrap().parse().unwrap(),
            case_reference: late["reference"].as_str().unwrap().to_owned(),
            clock: "first_reply".into(),
            due_at: chrono::Utc::now() - chrono::Duration::hours(1),
            level: 1,
            late: false,
        },
    );
    let bus = messaging::Bus::new(
        messaging::BusSettings {
            url: w.stack.amqp_url().to_owned(),
            exchange: "feedback.events".into(),
            name_prefix: w.stack.prefix.clone(),
            prefetch: 1,
            handler_concurrency: 1,
            batch_max: 1,
            max_attempts: 1,
            delivery_limit: 5,
            retry_base_ms: 10,
            retry_max_ms: 10,
            relay_batch: 10,
            relay_poll_ms: 100,
            reconnect_max_ms: 100,
        },
        "test-scheduler",
    );
    let publisher = messaging::ConfirmedPublisher::open(&bus).await.unwrap();
    let outcomes = publisher
        .publish_batch(&[messaging::OutgoingMessage {
            message_id: breached.id,
            event_type: breached.event_type.clone(),
            routing_key: breached.routing_key(),
            correlation_id: Some(breached.correlation_id),
            payload: serde_json::to_vec(&breached).unwrap(),
        }])
        .await
        .unwrap();
    assert_eq!(outcomes, vec![messaging::PublishOutcome::Confirmed]);
    publisher.close().await;
    bus.close().await;
    testkit::eventually(Duration::from_secs(20), "the overdue clock in reporting", || async {
        (w.count("reporting", "SELECT count(*) FROM case_facts WHERE clocks_overdue > 0")
            .await
            == 1)
            .then_some(())
    })
    .await;

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = plain_sign_in(&http, &console, "admin", "change-me-admin").await;
    let all = plain_page(&http, &cookie, &format!("{console}/dashboard")).await;
    assert!(part(&all, "id=\"today-total\"", "</p>").contains(">3<"), "{all}");
    assert!(part(&all, "id=\"month-total\"", "</p>").contains(">3<"));
    let by_channel = part(&all, "id=\"chart-intake_by_channel_today\"", "</section>");
    assert!(by_channel.contains("<tr><td>API</td><td>2</td></tr>"), "{by_channel}");
    assert!(by_channel.contains("<tr><td>Email</td><td>1</td></tr>"), "{by_channel}");
    assert!(by_channel.contains("<svg"), "a chart");
    let by_site = part(&all, "id=\"chart-intake_by_site_today\"", "</section>");
    assert!(
        by_site.contains("<tr><td>sh01</td><td>2</td></tr>") && by_site.contains("<tr><td>bj01</td><td>1</td></tr>")
    );
    // Open by department: each case where triage routed it.
    let mut open: std::collections::BTreeMap<String, i64> = Default::default();
    for c in &cases {
        *open.entry(c["department"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let open_chart = part(&all, "id=\"chart-open_by_department\"", "</section>");
    for (department, n) in &open {
        assert!(
            open_chart.contains(&format!("<tr><td>{department}</td><td>{n}</td></tr>")),
            "{open_chart}"
        );
    }
    let overdue_chart = part(&all, "id=\"chart-overdue_by_department\"", "</section>");
    assert!(
        overdue_chart.contains(&format!(
            "<tr><td>{}</td><td>1</td></tr>",
            late["department"].as_str().unwrap()
        )),
        "{overdue_chart}"
    );
    assert_eq!(overdue_chart.matches("<tr><td>").count(), 1, "{overdue_chart}");
    let first_reply = part(
        part(&all, "id=\"on-time-today\"", "</section>"),
        "data-clock=\"first_reply\"",
        "</tr>",
    );
    assert!(
        first_reply.contains("<td>first_reply</td><td>0</td><td>1</td><td>0</td><td>0")
            && first_reply.contains("%</td>"),
        "met 0, breached 1: {first_reply}"
    );
    assert_eq!(
        part(&all, "id=\"revisit-rate\"", "</td>"),
        "id=\"revisit-rate\">—</td>",
        "nothing closed yet"
    );

    // One site: only its figures.
    let bj01 = plain_page(&http, &cookie, &format!("{console}/dashboard?site=bj01")).await;
    assert!(part(&bj01, "id=\"today-total\"", "</p>").contains(">1<"));
    let by_channel = part(&bj01, "id=\"chart-intake_by_channel_today\"", "</section>");
    assert!(by_channel.contains("<tr><td>Email</td><td>1</td></tr>") && !by_channel.contains("API"));
    assert!(part(&bj01, "id=\"chart-overdue_by_department\"", "</section>").contains("No data yet."));
    assert!(part(&bj01, "id=\"site\"", "</select>").contains("value=\"bj01\" selected"));

    // The revisit queue in pages of two: five manual revisits of the first case, forward and back by plain
    // links that keep the site, the "outside the call window" filter and the page size.
    for _ in 0..5 {
        let r = w
            .http
            .post(format!("{}/api/v1/revisits", w.stack.url("triage")))
            .bearer_auth(admin_token())
            .json(&json!({"reference": late["reference"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    // The whole queue as triage gives it in one page, in order.
    let queue: Value = w
        .get(
            "triage",
            "/api/v1/revisits?site=sh01&include_outside_window=true&limit=100",
        )
        .await
        .json()
        .await
        .unwrap();
    let queue: Vec<String> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(queue.len() >= 5, "{queue:?}");
    let sequences = |html: &str| -> Vec<String> {
        html.match_indices("href=\"/revisits/")
            .map(|(i, _)| {
                let id = &html[i + 16..];
                id[..id.find('"').unwrap()].to_owned()
            })
            .collect()
    };
    let mut url = format!("{console}/revisits?site=sh01&all=true&limit=2");
    let mut pages = vec![];
    loop {
        let html = plain_page(&http, &cookie, &url).await;
        pages.push((url.clone(), sequences(&html), link(&html, "previous-page")));
        assert_eq!(
            pages.len() > 1,
            link(&html, "previous-page").is_some(),
            "a way back after the first page"
        );
        match link(&html, "next-page") {
            Some(next) => {
                for kept in ["site=sh01", "all=true", "limit=2", "cursor="] {
                    assert!(next.contains(kept), "{kept} in {next}");
                }
                url = format!("{console}{next}");
            }
            None => break,
        }
        assert!(pages.len() <= queue.len(), "pages of two");
    }
    let sizes: Vec<usize> = pages.iter().map(|(_, s, _)| s.len()).collect();
    assert!(
        sizes.len() >= 3 && sizes[..sizes.len() - 1].iter().all(|n| *n == 2),
        "{sizes:?}"
    );
    let paged: Vec<String> = pages.iter().flat_map(|(_, s, _)| s.clone()).collect();
    assert_eq!(paged, queue, "every revisit once, in the queue's order");
    // Back from the last page is the second page, and back from that the first.
    let back = pages[2].2.clone().unwrap();
    let second = plain_page(&http, &cookie, &format!("{console}{back}")).await;
    assert_eq!(sequences(&second), pages[1].1);
    let first = plain_page(
        &http,
        &cookie,
        &format!("{console}{}", link(&second, "previous-page").unwrap()),
    )
    .await;
    assert_eq!(sequences(&first), pages[0].1);
    assert!(link(&first, "previous-page").is_none());
    // The filter form keeps the page size.
    assert!(first.contains("name=\"limit\" value=\"2\""));
}

/// Administration in the browser: a handler is refused it in words; the administrator lists and
/// filters staff, is told in words what cannot be saved (no role; the last administrator), grants the
/// handler the administrator role — whose old session then ends and who, signed in again, has the
/// administration pages — and deactivates an agent with a plain form post (no JavaScript), after which
/// the agent cannot sign in; an auditor reads the directory without forms.
#[tokio::test]
async fn administrators_edit_staff_roles_in_the_console_and_others_are_refused() {
    let infra = Infra::from_env();
    let mut w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.stack.start_console().await.expect("the console starts");
    let console = w.stack.url(CONSOLE);
    create_staff(&w, "adm-handler", &["handler"], Some("quality"), &["sh01"]).await;
    create_staff(&w, "adm-agent", &["agent"], Some("sales"), &[]).await;
    create_staff(&w, "adm-auditor", &["auditor"], None, &[]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let browser = Browser::start(1280, 1600).await.expect("headless Chromium starts");
    let b = &browser.client;

    // A handler: no Administration in the menu, and the page itself refuses in words (403).
    sign_in(b, &console, "adm-handler", PASSWORD).await;
    assert!(!exists(b, "nav a[href='/admin']").await);
    b.goto(&format!("{console}/admin")).await.unwrap();
    assert_eq!(text(b, "#error-message").await, "You are not allowed to do this.");
    assert!(text(b, "#error-detail").await.contains("for administrators"));
    shot(&browser, "20-admin-refused-handler.png").await;
    let handler_cookie = session_cookie(b).await;
    let r = http
        .get(format!("{console}/admin/staff/adm-agent"))
        .header("cookie", &handler_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Posting the edit form anyway changes nothing.
    let page = http
        .get(format!("{console}/work"))
        .header("cookie", &handler_cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(format!("{console}/admin/staff/adm-handler"))
        .header("cookie", &handler_cookie)
        .form(&[
            ("csrf", csrf_of(&page)),
            ("name", "x".into()),
            ("roles", "administrator".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    sign_out(b).await;

    // The administrator: the directory, filtered by role.
    sign_in(b, &console, "admin", "change-me-admin").await;
    b.goto(&format!("{console}/admin")).await.unwrap();
    for user in ["admin", "adm-handler", "adm-agent", "adm-auditor"] {
        assert!(
            exists(b, &format!("#staff-list tr[data-user='{user}']")).await,
            "{user} listed"
        );
    }
    b.find(Locator::Css("#f-role"))
        .await
        .unwrap()
        .select_by_value("handler")
        .await
        .unwrap();
    click(b, "#filter-staff").await;
    wait_text(b, "#staff-list tr[data-user='adm-handler'] td.roles", "Handler").await;
    assert!(!exists(b, "#staff-list tr[data-user='adm-agent']").await, "filtered");
    shot(&browser, "21-admin-staff-list.png").await;

    // Taking the role from the only administrator is refused in words.
    b.goto(&format!("{console}/admin/staff/admin")).await.unwrap();
    click(b, "#role-administrator").await;
    click(b, "#role-auditor").await;
    click(b, "#save-staff").await;
    wait_text(b, "#general-error", "This is the last active administrator").await;
    shot(&browser, "22-admin-last-administrator.png").await;

    // The handler's account: no role at all is refused in words; nothing is saved.
    b.goto(&format!("{console}/admin?role=handler")).await.unwrap();
    click(b, "#staff-list tr[data-user='adm-handler'] a").await;
    wait_text(b, "#account-id", "adm-handler").await;
    click(b, "#role-handler").await;
    click(b, "#save-staff").await;
    wait_text(b, "#roles-error", "Choose at least one role.").await;
    shot(&browser, "22-admin-staff-no-role.png").await;
    // Handler again, plus administrator: saved, and the change is recorded with who made it.
    click(b, "#role-handler").await;
    click(b, "#role-administrator").await;
    click(b, "#save-staff").await;
    wait_text(b, "#done", "Saved").await;
    let history = text(b, "#staff-changes").await;
    assert!(
        history.contains("Roles: Handler → Handler, Administrator") && history.contains("admin"),
        "{history}"
    );
    shot(&browser, "23-admin-staff-saved.png").await;
    // Administrators do not deactivate themselves.
    b.goto(&format!("{console}/admin/staff/admin")).await.unwrap();
    click(b, "#active").await;
    click(b, "#save-staff").await;
    wait_text(b, "#general-error", "You cannot deactivate your own account").await;

    // Without JavaScript: the agent is deactivated by a plain form post with the page's token.
    let admin_cookie = session_cookie(b).await;
    let form_page = http
        .get(format!("{console}/admin/staff/adm-agent"))
        .header("cookie", &admin_cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let agent_form = vec![
        ("name", "Staff adm-agent".to_owned()),
        ("department", "sales".into()),
        ("roles", "agent".into()),
        ("email", "adm-agent@example.com".into()),
        ("phone", "139 0000 1111".into()),
        ("language", "en".into()),
    ];
    let post = |form: Vec<(&'static str, String)>| {
        let (http, cookie) = (http.clone(), admin_cookie.clone());
        let url = format!("{console}/admin/staff/adm-agent");
        async move {
            http.post(url)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let refused = post(agent_form.clone()).await;
    assert_eq!(refused.status(), 403, "no CSRF token, no change");
    let mut with_token = agent_form.clone();
    with_token.push(("csrf", csrf_of(&form_page)));
    let saved = post(with_token).await;
    assert_eq!(saved.status(), 303, "a plain form post works");
    assert_eq!(saved.headers()["location"], "/admin/staff/adm-agent?done=saved");
    // The contact details and language the notifications use, as triage keeps them.
    let account: Value = w.get("triage", "/api/v1/staff/adm-agent").await.json().await.unwrap();
    assert_eq!(
        (&account["email"], &account["phone"], &account["language"]),
        (&json!("adm-agent@example.com"), &json!("13900001111"), &json!("en")),
        "{account}"
    );
    b.goto(&format!("{console}/admin?active=false")).await.unwrap();
    assert!(
        exists(b, "#staff-list tr[data-user='adm-agent']").await,
        "listed as deactivated"
    );
    assert!(!exists(b, "#staff-list tr[data-user='adm-handler']").await);
    sign_out(b).await;
    b.goto(&format!("{console}/login")).await.unwrap();
    fill(b, "#user", "adm-agent").await;
    fill(b, "#password", PASSWORD).await;
    click(b, "#sign-in").await;
    b.wait().for_element(Locator::Css("#login-error")).await.unwrap();

    // The handler's session from before the change has ended: back to the sign-in form.
    let r = http
        .get(format!("{console}/work"))
        .header("cookie", &handler_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
    // Signed in again, the new role is in force: Administration is in the menu and opens.
    sign_in(b, &console, "adm-handler", PASSWORD).await;
    click(b, "nav a[href='/admin']").await;
    b.wait().for_element(Locator::Css("#staff-form")).await.unwrap();
    assert!(exists(b, "#staff-list tr[data-user='adm-handler']").await);
    shot(&browser, "24-admin-new-administrator.png").await;
    sign_out(b).await;

    // An auditor reads the directory and an account, without any form (Administration is in the menu).
    sign_in(b, &console, "adm-auditor", PASSWORD).await;
    click(b, "nav a[href='/admin']").await;
    b.wait().for_element(Locator::Css("#read-only")).await.unwrap();
    assert!(exists(b, "#staff-list tr[data-user='adm-agent']").await);
    assert!(!exists(b, "#staff-form").await, "no create form for auditors");
    b.goto(&format!("{console}/admin/staff/adm-handler")).await.unwrap();
    wait_text(b, "#account-roles", "Administrator").await;
    assert!(!exists(b, "#edit-form").await, "no edit form for auditors");
    shot(&browser, "25-admin-auditor-read-only.png").await;

    browser.close().await;
}

/// The names in a zip file's central directory (an Excel workbook is a zip); panics unless it is a zip.
fn zip_entries(zip: &[u8]) -> Vec<String> {
    assert!(zip.starts_with(b"PK\x03\x04"), "a zip file");
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]) as usize;
    // The end-of-central-directory record: the last "PK\x05\x06".
    let end = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|i| zip[*i..].starts_with(b"PK\x05\x06"))
        .expect("the end of the zip's central directory");
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut names = vec![];
    for _ in 0..count {
        assert!(
            zip[at..].starts_with(b"PK\x01\x02"),
            "a central directory entry at {at}"
        );
        let (name_len, extra, comment) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32));
        names.push(String::from_utf8_lossy(&zip[at + 46..at + 46 + name_len]).into_owned());
        at += 46 + name_len + extra + comment;
    }
    names
}

/// A DevTools command through chromedriver (`goog/cdp/execute`) on the browser's page.
#[derive(Debug)]
struct Cdp(&'static str, Value);

type UrlError = <reqwest::Url as std::str::FromStr>::Err;

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &reqwest::Url, session: Option<&str>) -> Result<reqwest::Url, UrlError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({ "cmd": self.0, "params": self.1 }).to_string();
        (reqwest::Method::POST, Some(body))
    }
}

/// Without JavaScript, in a real browser: Chromium with page scripts switched off (pages still load
/// console.js, which then does nothing — the page carries no `data-js` mark). The agent signs in, reads
/// "My work", looks a caller up and registers a phone complaint; the handler finds it in "My work", opens
/// an action form (a native `<details>`) and acknowledges the case.
#[tokio::test]
async fn staff_sign_in_read_their_work_register_a_call_and_act_without_javascript() {
    let infra = Infra::from_env();
    let mut w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    w.stack.start_console().await.expect("the console starts");
    let console = w.stack.url(CONSOLE);
    create_staff(&w, "nojs-agent", &["agent"], Some("sales"), &["sh01"]).await;
    create_staff(&w, "nojs-handler", &["handler"], Some("quality"), &[]).await;

    let browser = Browser::start(1280, 1600).await.expect("headless Chromium starts");
    let b = &browser.client;
    b.issue_cmd(Cdp("Emulation.setScriptExecutionDisabled", json!({ "value": true })))
        .await
        .expect("scripts switched off");

    b.goto(&format!("{console}/login")).await.unwrap();
    assert!(
        !exists(b, "html[data-js]").await,
        "console.js did not run: this browser runs no page script"
    );
    sign_in(b, &console, "nojs-agent", PASSWORD).await;
    assert!(b.current_url().await.unwrap().as_str().ends_with("/work"));
    assert!(
        exists(b, "#work").await || exists(b, "#no-cases").await,
        "My work reads"
    );
    assert!(!exists(b, "html[data-js]").await);
    shot(&browser, "30-no-js-my-work.png").await;

    // Phone intake: typing, the lookup (a second submit button of the same form), then registering.
    click(b, "nav a[href='/intake/phone']").await;
    fill(b, "#content", "客户来电：产品漏液，质量问题。").await;
    fill(b, "#subject", "漏液").await;
    fill(b, "#phone", "13912345678").await;
    click(b, "#do-lookup").await;
    wait_text(b, "#lookup-result", "No earlier feedback from this number.").await;
    let content = b
        .find(Locator::Css("#content"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        content.as_deref(),
        Some("客户来电：产品漏液，质量问题。"),
        "kept after the lookup"
    );
    fill(b, "#name", "王五").await;
    click(b, "#register").await;
    let reference = text(b, "#reference").await;
    assert!(reference.starts_with("SH01-"), "{reference}");
    shot(&browser, "31-no-js-registered.png").await;
    w.wait_for_case(&reference).await;
    sign_out(b).await;

    // The quality handler: the case in "My work", its action form opened by its summary, submitted.
    sign_in(b, &console, "nojs-handler", PASSWORD).await;
    let row = format!("tr[data-reference='{reference}'] a");
    testkit::eventually(
        Duration::from_secs(20),
        "the case in the handler's work list",
        || async {
            b.goto(&format!("{console}/work")).await.unwrap();
            exists(b, &row).await.then_some(())
        },
    )
    .await;
    click(b, &row).await;
    wait_text(b, "#case-reference", &reference).await;
    let folded = b
        .find(Locator::Css("#action-acknowledge"))
        .await
        .unwrap()
        .attr("open")
        .await
        .unwrap()
        .is_none();
    if folded {
        click(b, "#action-acknowledge summary").await;
    }
    click(b, "#do-acknowledge").await;
    testkit::eventually(Duration::from_secs(10), "the acknowledged case", || async {
        let url = b.current_url().await.ok()?;
        url.as_str().contains("done=acknowledge").then_some(())
    })
    .await;
    assert!(!text(b, "#done").await.is_empty());
    wait_status(b, &["Triaged", "Assigned"]).await;
    assert!(!exists(b, "html[data-js]").await, "still no script");
    shot(&browser, "32-no-js-case-acknowledged.png").await;
    browser.close().await;
}
