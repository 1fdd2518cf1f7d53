use std::sync::Arc;

use anyhow::Context;
use auth::AuthKeys;
use axum::{extract::FromRef, routing::get, Json, Router};
use messaging::{Bus, ConsumerGroup, OutboxRelay, OutboxSignal, Topology};
use sqlx::PgPool;
use utoipa::OpenApi;

use crate::{calendars::Calendars, firing::Firing, handlers, routes, settings::Settings};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub calendars: Arc<Calendars>,
    pub keys: AuthKeys,
}

impl FromRef<AppState> for AuthKeys {
    fn from_ref(s: &AppState) -> AuthKeys {
        s.keys.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Scheduler", description = "Deadlines, escalations and revisit timers."),
    paths(routes::deadlines, crate::policies::documented)
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
    let bus = Bus::new(settings.bus.clone(), "scheduler");
    let outbox = OutboxSignal::default();
    let settings = Arc::new(settings);
    let calendars = Arc::new(Calendars::build(&settings.calendar, &settings.sites.known)?);
    for warning in calendars.coverage_warnings(chrono::Utc::now().date_naive(), settings.calendar.coverage_warning_days)
    {
        tracing::warn!(%warning, "holiday data missing");
    }
    let consumers = ConsumerGroup {
        bus: bus.clone(),
        pool: pool.clone(),
        topology: Topology {
            service: "scheduler".into(),
            sites: settings.sites.served(),
            event_types: handlers::EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        },
        handler: Arc::new(handlers::SchedulerHandler {
            settings: settings.clone(),
            calendars: calendars.clone(),
        }),
        outbox: outbox.clone(),
    };
    consumers.declare().await.context("declaring scheduler's queues")?;
    let token_consumers = revocation::prepare(
        "scheduler",
        bus.clone(),
        &pool,
        &settings.staff.events_site,
        outbox.clone(),
    )
    .await?;
    let firing = Firing {
        pool: pool.clone(),
        settings: settings.firing.clone(),
        outbox: outbox.clone(),
    };
    let revisit_firing = crate::revisit_firing::RevisitFiring {
        pool: pool.clone(),
        settings: settings.firing.clone(),
        outbox: outbox.clone(),
    };
    let report_timer = crate::report_due::ReportTimer {
        pool: pool.clone(),
        schedule: settings.reports.clone(),
        sites: settings.sites.served(),
        outbox: outbox.clone(),
    };
    let policy_sync = crate::policy_sync::PolicySync {
        pool: pool.clone(),
        settings: settings.clone(),
        calendars: calendars.clone(),
    };
    let state = AppState {
        pool: pool.clone(),
        calendars,
        keys: AuthKeys::new(&settings.auth.secret),
    };
    let router = Router::new()
        .route("/api/v1/cases/{id}/deadlines", get(routes::deadlines))
        .route("/api/v1/policies", crate::policies::route(&settings))
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
        name: "scheduler",
        listener,
        router,
        pool: pool.clone(),
        relay: OutboxRelay::new(pool, bus.clone(), outbox),
        bus,
        consumers: Some(consumers),
        workers: vec![
            Box::new(move |stop| Box::pin(firing.run(stop))),
            Box::new(move |stop| Box::pin(revisit_firing.run(stop))),
            Box::new(move |stop| Box::pin(report_timer.run(stop))),
            Box::new(move |stop| Box::pin(policy_sync.run(stop))),
            Box::new(move |stop| Box::pin(token_consumers.run(stop))),
        ],
    })
}
