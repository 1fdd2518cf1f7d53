//! The service as it runs (`startup::build`): its queues on a real RabbitMQ, its HTTP API, its templates
//! directory, and its refusal to start with a rule that cannot work.
mod common;

use std::time::Duration;

use common::{case_opened, customer, feedback_received};
use messaging::{Bus, ConfirmedPublisher, OutgoingMessage, PublishOutcome};
use notification::{domain::rules::Rule, settings::Settings};
use serde_json::{json, Value};
use testkit::{
    eventually,
    mail::{body_text, header, MailCatcher},
    Infra,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Where the service under test lives, and how to clean up after it.
struct Running {
    settings: Settings,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    vhost: Option<(String, String)>,
    db_url: String,
}

async fn settings(infra: &Infra, mail_port: u16) -> (Settings, Option<(String, String)>, String) {
    let db_url = infra.create_database("notif_svc").await.unwrap();
    let mut s = common::settings(mail_port);
    s.database.url = db_url.clone();
    let vhost = format!("notif-{}", testkit::unique());
    s.bus.url = match &infra.rabbit_node {
        Some(node) => testkit::rabbit::create_vhost(node, &vhost, &infra.amqp_url).unwrap(),
        None => infra.amqp_url.clone(),
    };
    s.bus.name_prefix = format!("{vhost}.");
    s.http.host = "127.0.0.1".into();
    s.http.port = testkit::free_port();
    (s, infra.rabbit_node.clone().map(|n| (n, vhost)), db_url)
}

async fn start(settings: Settings, vhost: Option<(String, String)>, db_url: String) -> Running {
    let service = notification::startup::build(settings.clone()).await.unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(service.run_until_stopped(stop.clone()));
    let ready = format!("http://127.0.0.1:{}/health/ready", settings.http.port);
    eventually(Duration::from_secs(20), "notification ready", || async {
        let ok = reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success());
        ok.then_some(())
    })
    .await;
    Running {
        settings,
        stop,
        task,
        vhost,
        db_url,
    }
}

impl Running {
    async fn publish(&self, event: &Value) -> PublishOutcome {
        let bus = Bus::new(self.settings.bus.clone(), "test");
        let publisher = ConfirmedPublisher::open(&bus).await.unwrap();
        let outcome = publisher
            .publish_batch(&[OutgoingMessage {
                message_id: event["id"].as_str().unwrap().parse().unwrap(),
                event_type: event["type"].as_str().unwrap().into(),
                routing_key: format!(
                    "{}.{}",
                    event["type"].as_str().unwrap(),
                    event["site"].as_str().unwrap()
                ),
                correlation_id: None,
                payload: serde_json::to_vec(event).unwrap(),
            }])
            .await
            .unwrap();
        publisher.close().await;
        bus.close().await;
        outcome[0].clone()
    }

    async fn finish(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        if let Some((node, vhost)) = &self.vhost {
            testkit::rabbit::delete_vhost(node, vhost);
        }
        Infra::from_env().drop_database(&self.db_url).await;
    }
}

fn at_site(mut event: Value, site: &str) -> Value {
    event["site"] = json!(site);
    event
}

#[tokio::test]
async fn staff_accounts_arrive_on_their_own_queue_and_the_log_lists_a_case_with_its_acknowledgement() {
    let infra = Infra::from_env();
    let mail = MailCatcher::start(&[]).unwrap();
    let (mut s, vhost, db_url) = settings(&infra, mail.port).await;
    // This instance serves bj01 only; triage announces staff under the head office (sh01).
    s.sites.serve = vec!["bj01".into()];
    // The operator's wording for one template, without a new build.
    let dir = std::env::temp_dir().join(format!("notif-templates-{}", testkit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("case_assigned.en.txt"),
        "[{{ reference }}] Yours now: {{ subject }}\n\n{{ assignee_name }}, the operator's own wording.\n",
    )
    .unwrap();
    s.templates.dir = dir.display().to_string();
    let service = start(s, vhost, db_url).await;

    let staff = common::staff_changed(
        "u.bj.handler",
        1,
        json!({"name": "Wang Fang", "email": "wang@staff.example", "language": "en", "roles": ["handler"],
               "department": "quality", "sites": ["bj01"]}),
    );
    // Routed (the publish is mandatory: an unbound key would come back unroutable).
    assert_eq!(service.publish(&staff).await, PublishOutcome::Confirmed);
    let pool = sqlx::PgPool::connect(&service.settings.database.url).await.unwrap();
    eventually(Duration::from_secs(20), "the staff account synced", || async {
        sqlx::query_scalar::<_, i64>("SELECT revision FROM staff WHERE user_id = 'u.bj.handler'")
            .fetch_optional(&pool)
            .await
            .unwrap()
    })
    .await;

    let reference = "BJ01-20261123-0001";
    let case_id = Uuid::now_v7();
    let who = customer("Alice", Some("alice@example.com"), None, "en");
    service
        .publish(&at_site(feedback_received(reference, who.clone()), "bj01"))
        .await;
    // The case after the acknowledgement has been logged (the usual order).
    eventually(Duration::from_secs(20), "the acknowledgement queued", || async {
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM deliveries WHERE template = 'feedback_received'")
            .fetch_optional(&pool)
            .await
            .unwrap()
    })
    .await;
    service
        .publish(&at_site(
            case_opened(case_id, reference, "complaint", Some("u.bj.handler"), who, None),
            "bj01",
        ))
        .await;
    // The synced handler gets the operator's wording.
    let assigned = eventually(Duration::from_secs(20), "the assignee's mail", || async {
        mail.messages()
            .into_iter()
            .find(|m| header(m, "To").as_deref() == Some("wang@staff.example"))
    })
    .await;
    // (The subject's Chinese part is encoded-word; the start is plain.)
    assert!(header(&assigned, "Subject")
        .unwrap()
        .starts_with("[BJ01-20261123-0001] Yours now: "));
    assert!(body_text(&assigned).contains("Wang Fang, the operator's own wording."));

    // The delivery log by case id and by reference: the acknowledgement (sent before the case existed) too.
    let token = auth::AuthKeys::new(&service.settings.auth.secret)
        .issue(
            "u.admin",
            "Admin",
            vec![auth::Role::Administrator],
            None,
            vec![],
            chrono::Duration::minutes(5),
        )
        .unwrap();
    let list = |case: String| {
        let token = token.clone();
        let url = format!("http://127.0.0.1:{}/api/v1/notifications", service.settings.http.port);
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .query(&[("case", case)])
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let rows: Vec<Value> = r.json().await.unwrap();
            let mut templates: Vec<String> = rows
                .iter()
                .map(|d| d["template"].as_str().unwrap().to_owned())
                .collect();
            templates.sort();
            (templates, rows)
        }
    };
    let expected = ["case_assigned", "case_opened", "feedback_received"];
    let (by_id, rows) = list(case_id.to_string()).await;
    assert_eq!(by_id, expected);
    assert!(
        rows.iter().all(|d| !d.to_string().contains("alice@example.com")),
        "addresses masked: {rows:?}"
    );
    assert_eq!(list(reference.into()).await.0, expected);
    assert!(list(Uuid::now_v7().to_string()).await.0.is_empty());
    pool.close().await;
    service.finish().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_service_refuses_to_start_with_a_rule_that_cannot_work() {
    let infra = Infra::from_env();
    let (mut s, vhost, db_url) = settings(&infra, 1).await;
    s.rules.push(Rule {
        event: "case.opened".into(),
        recipient: "department".into(),
        channel: "email".into(),
        template: "case_openned".into(),
        action: None,
        class: None,
        changed: None,
        fallback: None,
    });
    let n = s.rules.len();
    let error = match notification::startup::build(s).await {
        Ok(_) => panic!("started with a rule whose template does not exist"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        error.contains(&format!("rule {n} (event `case.opened`"))
            && error.contains("no template file `case_openned.zh-CN.txt`"),
        "{error}"
    );
    if let Some((node, vhost)) = vhost {
        testkit::rabbit::delete_vhost(&node, &vhost);
    }
    infra.drop_database(&db_url).await;
}
