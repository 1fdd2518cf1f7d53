//! Reports over the read models, through reporting's API: live as JSON and CSV; issued when due, in every format.
mod common;

use std::time::Duration;

use common::{complaint, world};
use serde_json::{json, Value};
use testkit::{eventually, Infra};

#[tokio::test]
async fn the_monthly_report_counts_this_months_feedback_by_dimension_per_site_and_as_csv() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let mut bodies = vec![complaint(1), complaint(2)];
    bodies.push(
        json!({"channel": "email", "site": "sh01", "customer": {"email": "a@example.com"},
        "content": "物流运输延迟"}),
    );
    let mut other_site = complaint(3);
    other_site["site"] = json!("bj01");
    bodies.push(other_site);
    for b in &bodies {
        assert_eq!(w.post_feedback(b).await.status(), 201);
    }
    eventually(Duration::from_secs(20), "four cases in the read model", || async {
        (w.count("reporting", "SELECT count(*) FROM case_facts").await == 4).then_some(())
    })
    .await;
    let all: Value = w
        .get("reporting", "/api/v1/reports/monthly")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 4);
    assert_eq!(all["breakdown"]["category"]["product_quality"], 3);
    assert_eq!(all["breakdown"]["category"]["logistics"], 1);
    assert_eq!(all["breakdown"]["channel"]["api"], 3);
    assert_eq!(all["breakdown"]["department"]["quality"], 3);
    assert_eq!(all["previous_total"], 0);
    assert!(
        all["change_vs_previous_pct"].is_null(),
        "no change figure against an empty period"
    );
    let sh01: Value = w
        .get("reporting", "/api/v1/reports/monthly?site=sh01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sh01["total"], 3);
    let quarter: Value = w
        .get("reporting", "/api/v1/reports/quarterly")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(quarter["total"], 4);
    let period = all["period"].as_str().unwrap().to_owned();
    let csv = w
        .http
        .get(format!(
            "{}/api/v1/reports/monthly?period={period}&format=csv",
            w.stack.url("reporting")
        ))
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("section,key,count\n"), "{text}");
    assert!(text.contains(&format!("total,{period},4")));
    assert!(text.contains("category,product_quality,3"));
    // Another year's month is empty; bad input is named.
    let old: Value = w
        .get("reporting", "/api/v1/reports/monthly?period=2025-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(old["total"], 0);
    let bad = w.get("reporting", "/api/v1/reports/monthly?period=2026-13").await;
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], "period");
    assert_eq!(w.get("reporting", "/api/v1/reports/weekly").await.status(), 404);
}

#[tokio::test]
async fn reports_that_fall_due_are_issued_once_and_readable_in_every_format() {
    let infra = Infra::from_env();
    let env = vec![
        ("APP__REPORTS__ENABLED".to_owned(), "true".to_owned()),
        ("APP__REPORTS__POLL_SECONDS".to_owned(), "1".to_owned()),
        // Whatever today's date, last month's report is "due" and announced.
        ("APP__REPORTS__CATCH_UP_DAYS".to_owned(), "400".to_owned()),
    ];
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), env).await;
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let last_month = calendar::period::Period::containing(calendar::period::Kind::Monthly, today)
        .previous()
        .label();
    let path = format!("/api/v1/reports/monthly/issued?period={last_month}");
    let issued = eventually(Duration::from_secs(30), "last month's report issued", || async {
        let v: Value = w.get("reporting", &path).await.json().await.ok()?;
        (!v["items"].as_array()?.is_empty()).then_some(v)
    })
    .await;
    assert_eq!(issued["items"].as_array().unwrap().len(), 1, "{issued}");
    assert_eq!(issued["items"][0]["issued_by"], "scheduler");
    // Still one after the scheduler polled a few more times.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again: Value = w.get("reporting", &path).await.json().await.unwrap();
    assert_eq!(again["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        w.count("scheduler", "SELECT count(*) FROM report_timers WHERE kind = 'monthly'")
            .await,
        1
    );

    let base = format!("/api/v1/reports/monthly/issued/1?period={last_month}");
    let html = w.get("reporting", &format!("{base}&format=html&lang=en")).await;
    assert!(html.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(html.text().await.unwrap().contains("Version 1"));
    let xlsx = w.get("reporting", &format!("{base}&format=xlsx")).await;
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".xlsx"));
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
    assert_eq!(w.get("reporting", &format!("{base}&format=pdf")).await.status(), 422);
    assert_eq!(
        w.get(
            "reporting",
            &format!("/api/v1/reports/monthly/issued/2?period={last_month}")
        )
        .await
        .status(),
        404
    );
    // Issuing by hand makes version 2; an agent may not.
    let agent = auth::AuthKeys::new(auth::DEV_SECRET)
        .issue(
            "a1",
            "a1",
            vec![auth::Role::Agent],
            None,
            vec![],
            chrono::Duration::hours(1),
        )
        .unwrap();
    let url = format!(
        "{}/api/v1/reports/monthly/issue?period={last_month}",
        w.stack.url("reporting")
    );
    assert_eq!(
        w.http.post(&url).bearer_auth(&agent).send().await.unwrap().status(),
        403
    );
    let r = w.http.post(&url).bearer_auth(&w.token).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 2);
}
