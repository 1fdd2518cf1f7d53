//! The staff console's server time at a million cases (`--console-only`): triage's database is filled
//! by the case list's seeding (`case_list::seed`), the scheduler gets the clocks of the newest cases
//! (copied from a real case that went through the pipeline), triage the revisits of the closed cases and
//! a staff directory; then the console (release binary) is timed over loopback as the users see it —
//! "My work" (nearest deadline first over the open cases: default, its second page, filtered, overdue, full
//! text, a handler's department and own cases), a case page, the revisit queue, administration, the
//! dashboard, a monthly report and the phone intake form: median and maximum of 20 requests each, after 2
//! warm-ups. The open cases get a next deadline (triage's `next_due_at`, which the scheduler's
//! `deadline.changed` keeps), one in fourteen of them past due. Reporting's read models are seeded with as
//! many cases over the year before November 2026 (`read_models::seed`); the reports are timed as shipped, from
//! reporting's snapshots, and `report_monthly_fresh` as built on every request.
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use testkit::services::{Stack, CONSOLE};

use crate::Figures;

const RUNS: usize = 20;
const WARM_UPS: usize = 2;
/// The password of the first administrator in development, which the seeded staff share.
const ADMIN_PASSWORD: &str = "change-me-admin";
/// A seeded case among the newest (it has clocks) whose page is timed besides the real case's.
const SEEDED_CASE: &str = "BENCH-800";

/// One complaint through intake → triage → scheduler (clocks) → notification; its reference and
/// triage's id once the scheduler has its clocks.
async fn real_case(stack: &Stack, http: &reqwest::Client, token: &str) -> anyhow::Result<(String, String)> {
    let r = http
        .post(format!("{}/api/v1/feedback", stack.url("intake")))
        .json(&json!({
            "channel": "phone", "site": "sh01",
            "customer": { "name": "张三", "phone": "13800000000", "language": "zh-CN" },
            "subject": "包装破损", "content": "包装破损，产品有质量缺陷，要求退货。",
            "product": { "code": "P-100", "batch": "B2026-11" }
        }))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "intake: {}", r.status());
    let reference = r.json::<Value>().await?["reference"]
        .as_str()
        .context("a reference")?
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let case = http
            .get(format!("{}/api/v1/cases/{reference}", stack.url("triage")))
            .bearer_auth(token)
            .send()
            .await?;
        let clocks = http
            .get(format!("{}/api/v1/cases/{reference}/deadlines", stack.url("scheduler")))
            .bearer_auth(token)
            .send()
            .await?;
        if case.status() == 200 && clocks.status() == 200 {
            let id = case.json::<Value>().await?["id"]
                .as_str()
                .context("a case id")?
                .to_owned();
            return Ok((reference, id));
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{reference} not opened with clocks within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The real case's clocks copied onto the newest `cases` seeded cases (ids and references of
/// `case_list::seed`), with nothing left to fire so the scheduler stays idle.
async fn seed_clocks(stack: &Stack, template: &str, cases: i64) -> anyhow::Result<u64> {
    let pool = stack.pool("scheduler").await?;
    let rows = sqlx::query(
        "INSERT INTO clocks (id, case_id, case_reference, site, clock, department, class, category, severity,
                             state, status, due_at, next_fire_at)
         SELECT md5('k' || i || t.clock)::uuid, md5('c' || i)::uuid, 'BENCH-' || i, (ARRAY['sh01','bj01'])[1 + i % 2],
                t.clock, t.department, t.class, t.category, t.severity, t.state, t.status, t.due_at, NULL
           FROM clocks t CROSS JOIN generate_series(1, $2) i
          WHERE t.case_id = $1::uuid",
    )
    .bind(template)
    .bind(cases)
    .execute(&pool)
    .await
    .context("seeding the scheduler's clocks")?
    .rows_affected();
    sqlx::query("ANALYZE clocks").execute(&pool).await?;
    pool.close().await;
    Ok(rows)
}

/// A revisit for every closed seeded case: one in ten still open (most already due), the rest done.
async fn seed_revisits(stack: &Stack, cases: i64) -> anyhow::Result<u64> {
    let pool = stack.pool("triage").await?;
    let rows = sqlx::query(
        "INSERT INTO revisits (id, case_id, case_reference, site, reason, sequence, due_at, status, required_role,
                               contact_key, time_zone, attempts, satisfied, score, created_by, completed_at)
         SELECT md5('r' || i)::uuid, md5('c' || i)::uuid, 'BENCH-' || i, (ARRAY['sh01','bj01'])[1 + i % 2],
                'after_close', 1, now() - make_interval(secs => i * 30) + interval '3 days',
                CASE WHEN (i / 8) % 10 = 0 THEN 'open' ELSE 'done' END, 'agent',
                'tel:+86139' || lpad((i % 200000)::text, 8, '0'), 'Asia/Shanghai',
                CASE WHEN (i / 8) % 10 = 0 THEN 0 ELSE 1 END,
                CASE WHEN (i / 8) % 10 = 0 THEN NULL ELSE i % 5 <> 0 END,
                CASE WHEN (i / 8) % 10 = 0 THEN NULL ELSE 1 + i % 5 END,
                'system', CASE WHEN (i / 8) % 10 = 0 THEN NULL ELSE now() - make_interval(secs => i * 30) END
           FROM generate_series(1, $1) i
          WHERE i % 8 IN (6, 7)",
    )
    .bind(cases)
    .execute(&pool)
    .await
    .context("seeding triage's revisits")?
    .rows_affected();
    sqlx::query("ANALYZE revisits").execute(&pool).await?;
    pool.close().await;
    Ok(rows)
}

/// The next deadline of every open seeded case (what triage keeps from the scheduler's `deadline.changed`):
/// spread over the two weeks from a day ago, so one in fourteen is past due.
async fn seed_next_deadlines(stack: &Stack) -> anyhow::Result<u64> {
    let pool = stack.pool("triage").await?;
    let rows = sqlx::query(
        "UPDATE cases SET next_due_at = now() + make_interval(mins => (substr(reference, 7)::bigint * 7919 % 20160)::int - 1440),
                next_due_clock = (ARRAY['first_reply','handling_result','eight_d_reply'])[1 + substr(reference, 7)::int % 3]
          WHERE reference LIKE 'BENCH-%' AND status NOT IN ('closed', 'rejected')",
    )
    .execute(&pool)
    .await
    .context("seeding the next deadlines")?
    .rows_affected();
    sqlx::query("ANALYZE cases").execute(&pool).await?;
    pool.close().await;
    Ok(rows)
}

/// The seeded cases' assignees `h0`…`h39` (handlers of the case's department, as `i % 40` and `i % 4`
/// fall) and 460 more staff, all with the development administrator's password.
async fn seed_staff(stack: &Stack) -> anyhow::Result<u64> {
    let pool = stack.pool("triage").await?;
    let rows = sqlx::query(
        "INSERT INTO staff_users (id, name, password_hash, roles, department, sites)
         SELECT CASE WHEN i < 40 THEN 'h' || i ELSE 'staff' || lpad(i::text, 4, '0') END, 'Bench Staff ' || i,
                (SELECT password_hash FROM staff_users WHERE id = 'admin'),
                (ARRAY['[\"handler\"]', '[\"agent\"]', '[\"department_head\"]', '[\"handler\", \"quality_engineer\"]'])[1 + (i / 40) % 4]::jsonb,
                (ARRAY['quality','sales','technical','general_affairs'])[1 + i % 4],
                (ARRAY['[\"sh01\"]', '[\"bj01\"]', '[]'])[1 + i % 3]::jsonb
           FROM generate_series(0, 499) i",
    )
    .execute(&pool)
    .await
    .context("seeding staff")?
    .rows_affected();
    pool.close().await;
    Ok(rows)
}

/// Signs in to the console over plain HTTP (as a browser without JavaScript): the session cookie.
async fn sign_in(http: &reqwest::Client, console: &str, user: &str) -> anyhow::Result<String> {
    let cookie_of = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("console_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    };
    let form = http.get(format!("{console}/login")).send().await?;
    let anonymous = cookie_of(&form).context("a session for the sign-in form")?;
    let html = form.text().await?;
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).context("a csrf field")? + marker.len();
    let csrf = html[at..at + 64].to_owned();
    let r = http
        .post(format!("{console}/login"))
        .header("cookie", &anonymous)
        .form(&[
            ("user", user),
            ("password", ADMIN_PASSWORD),
            ("csrf", &csrf),
            ("next", "/work"),
        ])
        .send()
        .await?;
    anyhow::ensure!(r.status() == 303, "{user} signs in to the console: {}", r.status());
    cookie_of(&r).context("the signed-in session")
}

/// (median, max) in ms of `RUNS` requests for `path` after `WARM_UPS`; each must answer 200 with `expect`.
async fn time_page(
    http: &reqwest::Client,
    console: &str,
    cookie: &str,
    path: &str,
    expect: &str,
) -> anyhow::Result<(f64, f64)> {
    let mut times = Vec::with_capacity(RUNS);
    for run in 0..WARM_UPS + RUNS {
        let t = Instant::now();
        let r = http
            .get(format!("{console}{path}"))
            .header("cookie", cookie)
            .header("accept-language", "zh-CN")
            .send()
            .await?;
        let status = r.status();
        let body = r.text().await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status == 200, "{path}: {status}");
        anyhow::ensure!(body.contains(expect), "{path}: no {expect:?} on the page");
        if run >= WARM_UPS {
            times.push(ms);
        }
    }
    times.sort_by(f64::total_cmp);
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Ok((round(times[RUNS / 2]), round(times[RUNS - 1])))
}

pub async fn figures(stack: &mut Stack, token: &str, cases: i64, figures: &mut Figures) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    eprintln!("  a real case through the pipeline…");
    let (reference, case_id) = real_case(stack, &http, token).await?;

    let started = Instant::now();
    eprintln!("  {cases} cases into triage…");
    crate::case_list::seed(stack, cases).await?;
    let clock_cases = (cases / 10).max(1);
    eprintln!("  the clocks of the newest {clock_cases} cases, revisits, staff…");
    let clocks = seed_clocks(stack, &case_id, clock_cases).await?;
    let revisits = seed_revisits(stack, cases).await?;
    let staff = seed_staff(stack).await?;
    let deadlines = seed_next_deadlines(stack).await?;
    // Reporting's read models get as many cases over the year before November 2026 (as `--read-models-only`).
    eprintln!("  {cases} cases into reporting's read models…");
    let reporting = stack.pool("reporting").await?;
    crate::read_models::seed(&reporting, cases).await?;
    crate::read_models::unfinished_and_revisited(&reporting).await?;
    // The seeded rows have no workflow state (the case list never reads it); the seeded case whose page
    // is timed gets the real case's.
    sqlx::query("UPDATE cases SET workflow = (SELECT workflow FROM cases WHERE id = $1::uuid) WHERE reference = $2")
        .bind(&case_id)
        .bind(SEEDED_CASE)
        .execute(&stack.pool("triage").await?)
        .await?;
    figures.insert("console_cases".into(), json!(cases));
    figures.insert("console_clocks".into(), json!(clocks));
    figures.insert("console_revisits".into(), json!(revisits));
    figures.insert("console_open_cases_with_deadline".into(), json!(deadlines));
    figures.insert("console_staff".into(), json!(staff + 1));
    figures.insert(
        "console_seed_seconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );

    stack.start_console().await?;
    let console = stack.url(CONSOLE);
    let admin = sign_in(&http, &console, "admin").await?;
    // h0: a handler of the quality department at sh01, the assignee of one seeded case in forty.
    let handler = sign_in(&http, &console, "h0").await?;
    // staff0040: an agent (takes calls).
    let agent = sign_in(&http, &console, "staff0040").await?;
    // The second page of "My work" by deadline: where the first page's link leads.
    let first = http
        .get(format!("{console}/work"))
        .header("cookie", &admin)
        .send()
        .await?
        .text()
        .await?;
    let second_page = next_page(&first).context("a second page of My work")?;
    let month = chrono::Utc::now().format("%Y-%m").to_string();

    let case_page = format!("/cases/{reference}");
    let pages: Vec<(&str, &String, String, &str)> = vec![
        ("work_default", &admin, "/work".into(), "id=\"work\""),
        ("work_due_second_page", &admin, second_page, "id=\"work\""),
        // Every status, by deadline (closed cases have none: after the open ones).
        (
            "work_due_all_statuses",
            &admin,
            "/work?status=all".into(),
            "id=\"work\"",
        ),
        // One case in eight: in progress (all at bj01).
        (
            "work_filtered",
            &admin,
            "/work?status=in_progress&site=bj01".into(),
            "id=\"work\"",
        ),
        // One case in fifty is overdue (all at sh01).
        (
            "work_overdue",
            &admin,
            "/work?overdue=true&site=sh01".into(),
            "id=\"work\"",
        ),
        // 发霉: one case in a thousand; 包装: nearly all.
        (
            "work_text_rare",
            &admin,
            "/work?text=%E5%8F%91%E9%9C%89".into(),
            "id=\"work\"",
        ),
        (
            "work_text_common",
            &admin,
            "/work?text=%E5%8C%85%E8%A3%85".into(),
            "id=\"work\"",
        ),
        ("work_handler", &handler, "/work".into(), "id=\"work\""),
        ("work_handler_mine", &handler, "/work?scope=mine".into(), "id=\"work\""),
        ("case_page", &admin, case_page, "id=\"case-reference\""),
        (
            "case_page_seeded",
            &admin,
            format!("/cases/{SEEDED_CASE}"),
            "id=\"case-reference\"",
        ),
        ("revisit_queue", &admin, "/revisits".into(), "</main>"),
        ("revisit_queue_all", &admin, "/revisits?all=true".into(), "</main>"),
        ("admin", &admin, "/admin".into(), "id=\"staff-list\""),
        ("dashboard", &admin, "/dashboard".into(), "id=\"month-total\""),
        // October 2026: a seeded month (≈ 83,000 cases of the million); served from reporting's snapshot once
        // the first warm-up has built it. `_fresh`: built anew on every request ("Recalculate now").
        (
            "report_monthly",
            &admin,
            "/reports?kind=monthly&period=2026-10".into(),
            "id=\"report-total\"",
        ),
        (
            "report_monthly_fresh",
            &admin,
            "/reports?kind=monthly&period=2026-10&fresh=true".into(),
            "id=\"report-total\"",
        ),
        (
            "report_annual",
            &admin,
            "/reports?kind=annual&period=2026".into(),
            "id=\"report-total\"",
        ),
        (
            "report_this_month",
            &admin,
            format!("/reports?kind=monthly&period={month}"),
            "id=\"report-total\"",
        ),
        ("intake_form", &agent, "/intake/phone".into(), "id=\"register\""),
    ];
    for (name, cookie, path, expect) in pages {
        let (median, max) = time_page(&http, &console, cookie, &path, expect)
            .await
            .with_context(|| format!("console page {name}"))?;
        eprintln!("  console {name}: median {median} ms, max {max} ms");
        figures.insert(format!("console_{name}_ms_median"), json!(median));
        figures.insert(format!("console_{name}_ms_max"), json!(max));
    }
    Ok(())
}

/// The `href` of the page's "next page" link, unescaped.
fn next_page(html: &str) -> Option<String> {
    let at = html.find("id=\"next-page\"")?;
    let tag = &html[at..at + html[at..].find('>')?];
    let href = &tag[tag.find("href=\"")? + 6..];
    let href = &href[..href.find('"')?];
    Some(href.replace("&#x2f;", "/").replace("&amp;", "&"))
}
