#![allow(dead_code)]
use std::time::Duration;

use serde_json::{json, Value};
use testkit::{
    mail::MailCatcher,
    services::{Stack, StackOptions},
    Infra,
};

pub struct World {
    pub stack: Stack,
    pub mail: MailCatcher,
    pub http: reqwest::Client,
    pub token: String,
}

pub fn admin_token() -> String {
    auth::AuthKeys::new(auth::DEV_SECRET)
        .issue(
            "admin",
            "Admin",
            vec![auth::Role::Administrator],
            None,
            vec![],
            chrono::Duration::hours(1),
        )
        .unwrap()
}

pub async fn world(amqp_url: &str, rabbit_node: Option<String>, mut env: Vec<(String, String)>) -> World {
    let infra = Infra::from_env();
    // Periodic reports fall due by the calendar date; tests that want them turn them on.
    if !env.iter().any(|(k, _)| k == "APP__REPORTS__ENABLED") {
        env.push(("APP__REPORTS__ENABLED".into(), "false".into()));
    }
    let mail = MailCatcher::start(&[]).expect("mail catcher");
    let stack = Stack::start(
        &infra,
        StackOptions {
            amqp_url: amqp_url.to_owned(),
            rabbit_node,
            smtp_port: mail.port,
            sites: vec!["sh01".into(), "bj01".into()],
            env,
        },
    )
    .await
    .expect("the five services start");
    World {
        stack,
        mail,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        token: admin_token(),
    }
}

pub fn complaint(n: usize) -> Value {
    json!({
        "channel": "api", "site": "sh01",
        // A distinct customer per n: the same customer and batch again would be linked as a duplicate.
        "customer": { "name": "张三", "phone": format!("139{:08}", n % 100_000_000), "language": "zh-CN" },
        "subject": "包装破损",
        "content": format!("第{n}批产品到货时包装破损，有质量缺陷。"),
        "product": { "code": "P-100", "batch": "B2026-11" }
    })
}

impl World {
    /// A staff account in triage (created by the administrator), so that cases can be assigned to it; an
    /// account that exists already is left as it is.
    #[allow(dead_code)]
    pub async fn ensure_staff(&self, id: &str, roles: &[&str], department: Option<&str>, sites: &[&str]) {
        let r = self
            .http
            .post(format!("{}/api/v1/staff", self.stack.url("triage")))
            .bearer_auth(&self.token)
            .json(
                &serde_json::json!({ "id": id, "name": format!("Staff {id}"), "password": "a-long-test-password",
                                       "roles": roles, "department": department, "sites": sites }),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(
            status == 201 || status == 409,
            "{id}: {status} {}",
            r.text().await.unwrap()
        );
    }

    pub async fn post_feedback(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/feedback", self.stack.url("intake")))
            .json(body)
            .send()
            .await
            .expect("intake answers")
    }

    pub async fn get(&self, svc: &str, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.stack.url(svc), path))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("service answers")
    }

    /// Waits until triage has the case (by id or reference) and returns it as the admin sees it.
    pub async fn wait_for_case(&self, reference: &str) -> Value {
        testkit::eventually(Duration::from_secs(20), "the case in triage", || async {
            let r = self.get("triage", &format!("/api/v1/cases/{reference}")).await;
            if r.status() == 200 {
                r.json().await.ok()
            } else {
                None
            }
        })
        .await
    }

    /// The case once triage knows its clock `clock` (from the scheduler's `deadline.changed`).
    #[allow(dead_code)]
    pub async fn wait_for_clock(&self, reference: &str, clock: &str) -> Value {
        testkit::eventually(Duration::from_secs(20), "the case's clock in triage", || async {
            let r = self.get("triage", &format!("/api/v1/cases/{reference}")).await;
            let case: Value = r.json().await.ok()?;
            let known = case["deadlines"].as_array()?.iter().any(|d| d["clock"] == clock);
            known.then_some(case)
        })
        .await
    }

    pub async fn count(&self, svc: &str, sql: &str) -> i64 {
        let pool = self.stack.pool(svc).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}
