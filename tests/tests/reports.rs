//! Reports over the read model, through reporting's API, as JSON and CSV.
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
