//! Triage's case list at a million cases: the running service's database is filled with `cases` rows by SQL,
//! then typical list requests (first page, filtered, overdue, full-text, deep keyset page) are timed through
//! its HTTP API as a manager sees them (median of several runs).
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use testkit::services::Stack;

use crate::Figures;

pub async fn seed(stack: &Stack, cases: i64) -> anyhow::Result<()> {
    let pool = stack.pool("triage").await?;
    sqlx::query(
        "INSERT INTO cases (id, reference, feedback_id, site, channel, status, class, category, severity, department,
            assignee, decided_by, customer, contact_key, subject, content, received_at, opened_at, workflow,
            overdue_level)
         SELECT md5('c' || i)::uuid, 'BENCH-' || i, md5('f' || i)::uuid, (ARRAY['sh01','bj01'])[1 + i % 2],
                (ARRAY['web','email','phone','api'])[1 + i % 4],
                (ARRAY['new','triaged','assigned','in_progress','replied','resolved','closed','closed'])[1 + i % 8],
                (ARRAY['complaint','important','general'])[1 + i % 3],
                (ARRAY['product_quality','logistics','commercial','staff_service','suggestion'])[1 + i % 5],
                (ARRAY['general','important','major'])[1 + i % 3],
                (ARRAY['quality','sales','technical','general_affairs'])[1 + i % 4],
                'h' || (i % 40), '{}'::jsonb, '{\"name\": \"客户\"}'::jsonb, 'tel:+86139' || lpad((i % 200000)::text, 8, '0'),
                '产品问题 ' || i,
                CASE WHEN i % 1000 = 0 THEN '批次 B' || i || ' 发霉变质，需要退货' ELSE '第' || i || '批产品到货时包装破损' END,
                now() - make_interval(secs => i * 30), now() - make_interval(secs => i * 30), NULL,
                CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END
           FROM generate_series(1, $1) i",
    )
    .bind(cases)
    .execute(&pool)
    .await
    .context("seeding triage's cases")?;
    sqlx::query("ANALYZE cases").execute(&pool).await?;
    pool.close().await;
    Ok(())
}

async fn median_ms(http: &reqwest::Client, url: &str, token: &str, runs: usize) -> anyhow::Result<(f64, Value)> {
    let mut times = Vec::with_capacity(runs);
    let mut last = Value::Null;
    for _ in 0..runs {
        let t = Instant::now();
        let r = http.get(url).bearer_auth(token).send().await?;
        anyhow::ensure!(r.status() == 200, "{url}: {}", r.status());
        last = r.json().await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(((times[runs / 2] * 10.0).round() / 10.0, last))
}

pub async fn figures(stack: &Stack, token: &str, cases: i64, figures: &mut Figures) -> anyhow::Result<()> {
    let started = Instant::now();
    seed(stack, cases).await?;
    eprintln!(
        "  case list: {cases} cases loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    figures.insert(
        "case_list_seed_seconds".into(),
        json!((started.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    figures.insert("case_list_cases".into(), json!(cases));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let base = format!("{}/api/v1/cases", stack.url("triage"));
    for (name, query) in [
        ("first_page", "?limit=50"),
        (
            "filtered",
            // One case in 24 matches all three.
            "?status=in_progress&department=general_affairs&severity=major&limit=50",
        ),
        ("overdue", "?overdue=true&limit=50"),
        // 发霉, a 2-character Chinese word in one case in a thousand: no trigram, found by the bigram index.
        ("text_rare", "?text=%E5%8F%91%E9%9C%89&limit=50"),
        ("text_rare_3", "?text=%E5%8F%91%E9%9C%89%E5%8F%98&limit=50"), // 发霉变: the same cases, 3 characters
        ("text_common", "?text=%E5%8C%85%E8%A3%85&limit=50"),          // 包装: nearly all
        ("text_english", "?text=bench-4242&limit=50"),                 // 111 references
    ] {
        let (ms, page) = median_ms(&http, &format!("{base}{query}"), token, 7).await?;
        anyhow::ensure!(
            !page["items"].as_array().map(Vec::is_empty).unwrap_or(true),
            "{name}: no cases"
        );
        eprintln!("  case list {name}: {ms} ms");
        figures.insert(format!("case_list_{name}_ms"), json!(ms));
    }
    // Twenty pages deep by keyset cursor: each page costs the same as the first.
    let mut cursor: Option<String> = None;
    let t = Instant::now();
    for _ in 0..20 {
        let mut req = http.get(&base).query(&[("limit", "50")]).bearer_auth(token);
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c)]);
        }
        let page: Value = req.send().await?.json().await?;
        cursor = Some(page["next_cursor"].as_str().context("a next page")?.to_owned());
    }
    figures.insert(
        "case_list_page_20_deep_ms_per_page".into(),
        json!((t.elapsed().as_secs_f64() * 1000.0 / 20.0 * 10.0).round() / 10.0),
    );
    Ok(())
}
