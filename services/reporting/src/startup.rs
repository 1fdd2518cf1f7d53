use std::sync::Arc;

use anyhow::Context;
use auth::AuthKeys;
use axum::{extract::FromRef, routing::get, Json, Router};
use messaging::{Bus, ConsumerGroup, OutboxRelay, OutboxSignal, Topology};
use sqlx::PgPool;
use utoipa::OpenApi;

use crate::{handlers, routes, settings::Settings};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub timezone: String,
    pub keys: AuthKeys,
}

impl FromRef<AppState> for AuthKeys {
    fn from_ref(s: &AppState) -> AuthKeys {
        s.keys.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Reporting", description = "Statistics and reports built from events."),
    paths(routes::daily, crate::report::report)
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
    let bus = Bus::new(settings.bus.clone(), "reporting");
    let outbox = OutboxSignal::default();
    let timezone: chrono_tz::Tz = settings
        .reporting
        .timezone
        .parse()
        .map_err(|e| anyhow::anyhow!("reporting.timezone: {e}"))?;
    let consumers = ConsumerGroup {
        bus: bus.clone(),
        pool: pool.clone(),
        topology: Topology {
            service: "reporting".into(),
            sites: settings.sites.served(),
            event_types: handlers::EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        },
        handler: Arc::new(handlers::ReportingHandler),
        outbox: outbox.clone(),
    };
    consumers.declare().await.context("declaring reporting's queues")?;
    let state = AppState {
        pool: pool.clone(),
        timezone: timezone.name().to_owned(),
        keys: AuthKeys::new(&settings.auth.secret),
    };
    let router = Router::new()
        .route("/api/v1/stats/daily", get(routes::daily))
        .route("/api/v1/reports/{kind}", get(crate::report::report))
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(settings.http.address())
        .await
        .with_context(|| format!("binding {}", settings.http.address()))?;
    Ok(server::Service {
        name: "reporting",
        listener,
        router,
        pool: pool.clone(),
        relay: OutboxRelay::new(pool, bus.clone(), outbox),
        bus,
        consumers: Some(consumers),
        workers: vec![],
    })
}
