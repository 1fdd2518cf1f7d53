use std::sync::Arc;

use anyhow::Context;
use auth::AuthKeys;
use axum::{
    extract::{FromRef, State},
    routing::{get, post},
    Json, Router,
};
use chrono_tz::Tz;
use messaging::{Bus, ConsumerGroup, OutboxRelay, OutboxSignal, Topology};
use server::ApiError;
use sqlx::PgPool;
use utoipa::OpenApi;

use crate::{
    handlers, issue, overview,
    rebuild::{self, RebuildSummary},
    routes,
    settings::{ReportingSettings, Settings},
};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub tz: Tz,
    pub settings: Arc<ReportingSettings>,
    pub keys: AuthKeys,
    pub outbox: OutboxSignal,
}

impl FromRef<AppState> for AuthKeys {
    fn from_ref(s: &AppState) -> AuthKeys {
        s.keys.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Reporting", description = "Statistics and reports built from events."),
    paths(
        routes::daily,
        overview::overview,
        crate::report::report,
        issue::issue_now,
        issue::list_issued,
        issue::get_issued,
        rebuild_now
    )
)]
pub struct ApiDoc;

/// Rebuild the read models from the event log (administrators).
#[utoipa::path(post, path = "/api/v1/admin/rebuild",
    responses((status = 200, body = RebuildSummary), (status = 403)), security(("bearer" = [])))]
pub async fn rebuild_now(State(state): State<AppState>, staff: auth::Staff) -> Result<Json<RebuildSummary>, ApiError> {
    if !staff.0.has_any(&[auth::Role::Administrator]) {
        return Err(auth::AuthError::Forbidden(format!("{} is not an administrator", staff.0.sub)).into());
    }
    let summary = rebuild::rebuild(&state.pool, &state.settings)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(
        events = summary.events,
        skipped = summary.skipped,
        "read models rebuilt"
    );
    Ok(Json(summary))
}

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
    let tz: Tz = settings
        .reporting
        .timezone
        .parse()
        .map_err(|e| anyhow::anyhow!("reporting.timezone: {e}"))?;
    let reporting = Arc::new(settings.reporting.clone());
    let consumers = ConsumerGroup {
        bus: bus.clone(),
        pool: pool.clone(),
        topology: Topology {
            service: "reporting".into(),
            sites: settings.sites.served(),
            event_types: handlers::event_types(),
        },
        handler: Arc::new(handlers::ReportingHandler {
            settings: reporting.clone(),
            tz,
        }),
        outbox: outbox.clone(),
    };
    consumers.declare().await.context("declaring reporting's queues")?;
    let token_consumers = revocation::prepare(
        "reporting",
        bus.clone(),
        &pool,
        &settings.staff.events_site,
        outbox.clone(),
    )
    .await?;
    let warmer = crate::report::snapshot::Warmer {
        pool: pool.clone(),
        settings: reporting.clone(),
        tz,
        sites: settings.sites.served(),
    };
    let state = AppState {
        pool: pool.clone(),
        tz,
        settings: reporting,
        keys: AuthKeys::new(&settings.auth.secret),
        outbox: outbox.clone(),
    };
    let router = Router::new()
        .route("/api/v1/stats/daily", get(routes::daily))
        .route("/api/v1/stats/overview", get(overview::overview))
        .route("/api/v1/reports/{kind}", get(crate::report::report))
        .route("/api/v1/reports/{kind}/issue", post(issue::issue_now))
        .route("/api/v1/reports/{kind}/issued", get(issue::list_issued))
        .route("/api/v1/reports/{kind}/issued/{version}", get(issue::get_issued))
        .route("/api/v1/admin/rebuild", post(rebuild_now))
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
        name: "reporting",
        listener,
        router,
        pool: pool.clone(),
        relay: OutboxRelay::new(pool, bus.clone(), outbox),
        bus,
        consumers: Some(consumers),
        workers: vec![
            Box::new(move |stop| Box::pin(token_consumers.run(stop))),
            Box::new(move |stop| Box::pin(warmer.run(stop))),
        ],
    })
}
