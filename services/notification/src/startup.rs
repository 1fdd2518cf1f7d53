use std::sync::Arc;

use anyhow::Context;
use auth::AuthKeys;
use axum::{
    extract::FromRef,
    routing::{get, post},
    Json, Router,
};
use messaging::{Bus, ConsumerGroup, OutboxRelay, OutboxSignal, Topology};
use sqlx::PgPool;
use utoipa::OpenApi;

use crate::{
    domain::templates::Templates,
    email::Email,
    handlers, routes,
    sender::{Channel, Sender},
    settings::Settings,
    sms, validation,
};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub keys: AuthKeys,
    pub templates: Arc<Templates>,
    pub sms_max_parts: usize,
}

impl FromRef<AppState> for AuthKeys {
    fn from_ref(s: &AppState) -> AuthKeys {
        s.keys.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Notification",
        description = "Email and SMS to departments, staff and customers."
    ),
    paths(routes::list, routes::templates, routes::preview)
)]
pub struct ApiDoc;

pub async fn build(settings: Settings) -> anyhow::Result<server::Service> {
    let pool = settings.database.pool()?;
    server::prepare_database(
        &pool,
        &sqlx::migrate!("./migrations"),
        std::time::Duration::from_secs(30),
    )
    .await?;
    let bus = Bus::new(settings.bus.clone(), "notification");
    let outbox = OutboxSignal::default();
    let settings = Arc::new(settings);
    let templates_dir = (!settings.templates.dir.is_empty()).then(|| std::path::Path::new(&settings.templates.dir));
    let templates = Arc::new(Templates::load(templates_dir).context("templates")?);
    // Refuse to start with a rule that could never work, naming it.
    validation::validate(&settings, &templates)?;
    if settings.directory.obsolete_approvals.is_some() {
        tracing::warn!(
            "[[directory.approvals]] is ignored: approvers are the roles case.opened names (triage's [[claims.approvals]])"
        );
    }
    let handler = Arc::new(handlers::NotificationHandler::new(settings.clone(), templates.clone()));
    let consumers = ConsumerGroup {
        bus: bus.clone(),
        pool: pool.clone(),
        topology: Topology {
            service: "notification".into(),
            sites: settings.sites.served(),
            event_types: handlers::EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        },
        handler: handler.clone(),
        outbox: outbox.clone(),
    };
    consumers.declare().await.context("declaring notification's queues")?;
    // Staff accounts come under the head office's site whichever sites this instance serves: a queue of
    // their own, `notification.staff.<site>`.
    let staff_consumers = ConsumerGroup {
        bus: bus.clone(),
        pool: pool.clone(),
        topology: Topology {
            service: "notification.staff".into(),
            sites: vec![settings.staff.events_site.clone()],
            event_types: handlers::STAFF_EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        },
        handler,
        outbox: outbox.clone(),
    };
    staff_consumers
        .declare()
        .await
        .context("declaring notification's staff queue")?;
    // The same queue brings token revocations, so signed-out tokens are refused here too.
    revocation::ensure_schema(&pool)
        .await
        .context("creating the token tables")?;
    // One sender per channel, each with its own concurrency: a slow gateway never holds up email.
    let mut senders = vec![Sender::new(
        pool.clone(),
        Arc::new(Email::new(settings.smtp.clone())?) as Arc<dyn Channel>,
        settings.sender.clone(),
        settings.sender.concurrency,
        outbox.clone(),
    )];
    if let Some(provider) = sms::provider(&settings.sms) {
        let channel = sms::channel::Sms::new(
            provider,
            std::time::Duration::from_millis(settings.sms.timeout_ms),
            settings.sms.quiet_hours,
        )?;
        senders.push(Sender::new(
            pool.clone(),
            Arc::new(channel),
            settings.sender.clone(),
            settings.sms.concurrency,
            outbox.clone(),
        ));
    }
    let state = AppState {
        pool: pool.clone(),
        keys: AuthKeys::new(&settings.auth.secret),
        templates,
        sms_max_parts: settings.sms.max_parts,
    };
    let router = Router::new()
        .route("/api/v1/notifications", get(routes::list))
        .route("/api/v1/templates", get(routes::templates))
        .route("/api/v1/templates/{name}/preview", post(routes::preview))
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .with_state(state);
    let router = revocation::guarded(
        router,
        AuthKeys::new(&settings.auth.secret),
        revocation::Announced(pool.clone()),
    );
    let listener = tokio::net::TcpListener::bind(settings.http.address())
        .await
        .with_context(|| format!("binding {}", settings.http.address()))?;
    Ok(server::Service {
        name: "notification",
        listener,
        router,
        pool: pool.clone(),
        relay: OutboxRelay::new(pool, bus.clone(), outbox),
        bus,
        consumers: Some(consumers),
        workers: senders
            .into_iter()
            .map(|sender| -> server::Worker { Box::new(move |stop| Box::pin(sender.run(stop))) })
            .chain(std::iter::once::<server::Worker>(Box::new(move |stop| {
                Box::pin(staff_consumers.run(stop))
            })))
            .collect(),
    })
}
