use std::sync::Arc;

use anyhow::Context;
use auth::AuthKeys;
use axum::{extract::FromRef, routing::get, Json, Router};
use messaging::{Bus, ConsumerGroup, OutboxRelay, OutboxSignal, Topology};
use sqlx::PgPool;
use utoipa::OpenApi;

use crate::{handlers, routes, sender::Sender, settings::Settings};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub keys: AuthKeys,
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
    paths(routes::list)
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
    let consumers = ConsumerGroup {
        bus: bus.clone(),
        pool: pool.clone(),
        topology: Topology {
            service: "notification".into(),
            sites: settings.sites.served(),
            event_types: handlers::EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        },
        handler: Arc::new(handlers::NotificationHandler {
            settings: settings.clone(),
            templates: Arc::new(crate::domain::templates::Templates::new().context("templates")?),
        }),
        outbox: outbox.clone(),
    };
    consumers.declare().await.context("declaring notification's queues")?;
    let sender = Sender::new(pool.clone(), settings.smtp.clone(), settings.sender.clone())?;
    let state = AppState {
        pool: pool.clone(),
        keys: AuthKeys::new(&settings.auth.secret),
    };
    let router = Router::new()
        .route("/api/v1/notifications", get(routes::list))
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .with_state(state);
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
        workers: vec![Box::new(move |stop| Box::pin(sender.run(stop)))],
    })
}
