//! Notification against a real PostgreSQL and a real SMTP server (aiosmtpd), events handed to the
//! handler as the consumer would (inside a transaction), senders running as in the service.
#![allow(dead_code)]
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::IntoResponse,
    Router,
};
use chrono::{DateTime, Utc};
use messaging::{Handler, OutboxSignal};
use notification::{
    clock::{Clock, SystemClock},
    domain::templates::Templates,
    email::Email,
    handlers::NotificationHandler,
    sender::{Channel, Sender},
    settings::Settings,
};
use serde_json::{json, Value};
use sqlx::PgPool;
use testkit::mail::MailCatcher;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct Fixture {
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub handler: NotificationHandler,
    pub mail: MailCatcher,
    clock: Arc<dyn Clock>,
    stop: CancellationToken,
    db_url: String,
}

/// A clock the test moves by hand.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(t: &str) -> Arc<Self> {
        Arc::new(Self(Mutex::new(t.parse().unwrap())))
    }

    pub fn set(&self, t: &str) {
        *self.0.lock().unwrap() = t.parse().unwrap();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Settings as the service loads them, pointed at `mail`, with fast retries.
pub fn settings(mail_port: u16) -> Settings {
    let mut s = Settings::load().expect("default settings");
    s.smtp.port = mail_port;
    s.sender.poll_ms = 50;
    s.sender.retry_base_ms = 100;
    s.sender.retry_max_ms = 400;
    s.sender.max_attempts = 4;
    s
}

pub async fn fixture(mail_flags: &[&str], adjust: impl FnOnce(&mut Settings)) -> Fixture {
    fixture_with_clock(mail_flags, adjust, Arc::new(SystemClock)).await
}

/// A fixture whose handler and senders tell time by `clock`.
pub async fn fixture_with_clock(
    mail_flags: &[&str],
    adjust: impl FnOnce(&mut Settings),
    clock: Arc<dyn Clock>,
) -> Fixture {
    let infra = testkit::Infra::from_env();
    let db_url = infra.create_database("notif").await.unwrap();
    let pool = PgPool::connect(&db_url).await.unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    messaging::schema::ensure(&pool).await.unwrap();
    revocation::ensure_schema(&pool).await.unwrap();
    let mail = MailCatcher::start(mail_flags).expect("mail catcher (python3-aiosmtpd)");
    let mut s = settings(mail.port);
    adjust(&mut s);
    let settings = Arc::new(s);
    Fixture {
        handler: NotificationHandler::new(settings.clone(), Arc::new(Templates::new().unwrap()))
            .with_clock(clock.clone()),
        clock,
        pool,
        settings,
        mail,
        stop: CancellationToken::new(),
        db_url,
    }
}

impl Fixture {
    pub async fn deliver(&self, raw: Value) {
        let raw = serde_json::from_value(raw).unwrap();
        let mut tx = self.pool.begin().await.unwrap();
        self.handler.handle(&mut tx, &raw).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Starts the email sender and, when a provider is configured, the SMS sender.
    pub fn start_senders(&self) {
        let s = &self.settings;
        let mut channels: Vec<(Arc<dyn Channel>, usize)> =
            vec![(Arc::new(Email::new(s.smtp.clone()).unwrap()), s.sender.concurrency)];
        if let Some(provider) = notification::sms::provider(&s.sms) {
            let sms = notification::sms::channel::Sms::new(provider, Duration::from_secs(5), s.sms.quiet_hours)
                .unwrap()
                .with_clock(self.clock.clone());
            channels.push((Arc::new(sms), s.sms.concurrency));
        }
        for (channel, concurrency) in channels {
            let sender = Sender::new(
                self.pool.clone(),
                channel,
                s.sender.clone(),
                concurrency,
                OutboxSignal::default(),
            )
            .with_clock(self.clock.clone());
            tokio::spawn(sender.run(self.stop.clone()));
        }
    }

    pub async fn delivery(&self, template: &str, channel: &str) -> Option<Value> {
        sqlx::query_scalar(
            "SELECT to_jsonb(d) FROM deliveries d WHERE template = $1 AND channel = $2 ORDER BY created_at LIMIT 1",
        )
        .bind(template)
        .bind(channel)
        .fetch_optional(&self.pool)
        .await
        .unwrap()
    }

    /// Waits until the delivery of `template` on `channel` is in `status`.
    pub async fn wait_status(&self, template: &str, channel: &str, status: &str) -> Value {
        testkit::eventually(
            Duration::from_secs(20),
            &format!("{template}/{channel} {status}"),
            || async { self.delivery(template, channel).await.filter(|d| d["status"] == status) },
        )
        .await
    }

    pub async fn failed_events(&self) -> Vec<Value> {
        sqlx::query_scalar("SELECT payload FROM outbox WHERE event_type = 'notification.failed' ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn finish(self) {
        self.stop.cancel();
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.pool.close().await;
        testkit::Infra::from_env().drop_database(&self.db_url).await;
    }
}

pub fn envelope(event_type: &str, data: Value) -> Value {
    json!({
        "id": Uuid::now_v7(), "type": event_type, "version": 1, "occurred_at": Utc::now(),
        "site": "sh01", "correlation_id": Uuid::now_v7(), "data": data,
    })
}

pub fn feedback_received(reference: &str, customer: Value) -> Value {
    envelope(
        "feedback.received",
        json!({
            "feedback_id": Uuid::now_v7(), "reference": reference, "channel": "api", "received_at": Utc::now(),
            "customer": customer, "subject": null, "content": "The carton arrived crushed.",
            "product": null, "order": null, "claim": null, "adverse_reaction": null,
            "status_url": format!("https://feedback.example/s/{reference}?t=secret"), "attachments": [],
        }),
    )
}

pub fn customer(name: &str, email: Option<&str>, phone: Option<&str>, language: &str) -> Value {
    json!({"name": name, "email": email, "phone": phone, "anonymous": false, "language": language,
           "contact_key": null})
}

/// `case.opened` as triage publishes it (claim: `None`, or amount and the roles that must approve it).
pub fn case_opened(
    case_id: Uuid,
    reference: &str,
    class: &str,
    assignee: Option<&str>,
    customer: Value,
    claim: Option<(&str, &[&str])>,
) -> Value {
    envelope(
        "case.opened",
        json!({
            "case_id": case_id, "reference": reference, "feedback_id": Uuid::now_v7(), "channel": "api",
            "received_at": Utc::now(), "opened_at": Utc::now(), "class": class, "category": "product_quality",
            "severity": "important", "department": "quality", "assignee": assignee, "customer": customer,
            "subject": "包装破损", "summary": "第3批产品到货时包装破损",
            "claim": claim.map(|(amount, roles)| json!({"amount": amount, "currency": "CNY", "approvals_required": roles})),
        }),
    )
}

/// `staff.changed` as triage publishes it.
pub fn staff_changed(user_id: &str, revision: i64, account: Value) -> Value {
    let mut data = json!({
        "user_id": user_id, "name": user_id, "email": null, "phone": null, "language": "zh-CN", "roles": [],
        "department": null, "sites": [], "active": true, "revision": revision,
    });
    for (k, v) in account.as_object().unwrap() {
        data[k] = v.clone();
    }
    envelope("staff.changed", data)
}

pub fn case_changed(case_id: Uuid, reference: &str, action: &str, detail: Value) -> Value {
    envelope(
        "case.changed",
        json!({
            "case_id": case_id, "reference": reference, "action": action, "from_status": "in_progress",
            "status": "replied", "actor": "admin", "department": "quality", "assignee": null,
            "class": "complaint", "category": "product_quality", "severity": "important",
            "changes": {}, "detail": detail, "at": Utc::now(),
        }),
    )
}

/// A request an SMS gateway stub received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

type Reply = (StatusCode, Vec<(&'static str, String)>, String);

/// A third-party SMS gateway stand-in: records every request, answers from a script (the last
/// answer repeats), after an optional check of each request.
#[derive(Clone)]
pub struct Gateway {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Captured>>>,
    script: Arc<Mutex<Vec<Reply>>>,
}

type Check = Arc<dyn Fn(&Captured) -> Result<(), String> + Send + Sync>;

impl Gateway {
    pub async fn start(script: Vec<Reply>, check: Check) -> Gateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let gw = Gateway {
            url,
            seen: Arc::default(),
            script: Arc::new(Mutex::new(script)),
        };
        let state = (gw.clone(), check);
        let app = Router::new().fallback(handle).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        gw
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(
    State((gw, check)): State<(Gateway, Check)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let captured = Captured {
        method,
        uri,
        headers,
        body,
    };
    let verdict = check(&captured);
    gw.seen.lock().unwrap().push(captured);
    if let Err(why) = verdict {
        // The request format or signature was wrong: a real gateway refuses it.
        return (StatusCode::UNAUTHORIZED, why).into_response();
    }
    let (status, headers, body) = {
        let mut script = gw.script.lock().unwrap();
        if script.len() > 1 {
            script.remove(0)
        } else {
            script[0].clone()
        }
    };
    let mut response = (status, body).into_response();
    for (k, v) in headers {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}
