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

use crate::{handlers, routes, settings::Settings};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    pub outbox: OutboxSignal,
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
        title = "Triage",
        description = "Cases: classification, routing and the handling workflow."
    ),
    paths(
        routes::cases::list,
        routes::cases::get_case,
        routes::actions::act,
        routes::split::split,
        routes::actions::approve_claim,
        routes::actions::reject_claim,
        routes::staff_named::name_staff,
        routes::quality::get_eight_d,
        routes::quality::edit_eight_d,
        routes::quality::add_eight_d_action,
        routes::quality::eight_d_action_done,
        routes::quality::verify_eight_d_action,
        routes::quality::close_eight_d,
        routes::quality::eight_d_document,
        routes::quality::send_eight_d,
        routes::quality::get_regulator_report,
        routes::quality::edit_regulator_report,
        routes::quality::approve_regulator_report,
        routes::quality::submit_regulator_report,
        routes::capa::create,
        routes::capa::list,
        routes::capa::get,
        routes::capa::act,
        routes::revisits::list,
        routes::revisits::create,
        routes::revisits::get_one,
        routes::revisits::questionnaire,
        routes::revisits::attempt,
        routes::revisits::outcome,
        routes::revisits::close,
        routes::staff::login,
        routes::staff::logout,
        routes::staff::create,
        routes::staff::list,
        routes::staff::get_one,
        routes::staff::update,
        routes::rules::get_rules
    )
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
    settings.revisit.validate().map_err(anyhow::Error::msg)?;
    let routed: Vec<&str> = settings.routing.departments.keys().map(String::as_str).collect();
    settings.classification.validate(&routed).map_err(anyhow::Error::msg)?;
    crate::staff::ensure_first_admin(&pool, &settings).await?;
    let bus = Bus::new(settings.bus.clone(), "triage");
    let outbox = OutboxSignal::default();
    let settings = Arc::new(settings);
    let consumers = ConsumerGroup {
        bus: bus.clone(),
        pool: pool.clone(),
        topology: Topology {
            service: "triage".into(),
            sites: settings.sites.served(),
            event_types: handlers::EVENT_TYPES.iter().map(|s| s.to_string()).collect(),
        },
        handler: Arc::new(handlers::TriageHandler {
            settings: settings.clone(),
        }),
        outbox: outbox.clone(),
    };
    consumers.declare().await.context("declaring triage's queues")?;
    let state = AppState {
        keys: AuthKeys::new(&settings.auth.secret),
        pool: pool.clone(),
        outbox: outbox.clone(),
        settings: settings.clone(),
    };
    let router = Router::new()
        .route("/api/v1/auth/login", post(routes::staff::login))
        .route("/api/v1/auth/logout", post(routes::staff::logout))
        .route("/api/v1/staff", post(routes::staff::create))
        .route("/api/v1/staff", get(routes::staff::list))
        .route(
            "/api/v1/staff/{id}",
            get(routes::staff::get_one).patch(routes::staff::update),
        )
        .route("/api/v1/rules", get(routes::rules::get_rules))
        .route("/api/v1/cases", get(routes::cases::list))
        .route("/api/v1/cases/{id}", get(routes::cases::get_case))
        .route("/api/v1/cases/{id}/split", post(routes::split::split))
        .route("/api/v1/cases/{id}/claim/approve", post(routes::actions::approve_claim))
        .route("/api/v1/cases/{id}/claim/reject", post(routes::actions::reject_claim))
        .route("/api/v1/cases/{id}/{action}", post(routes::actions::act))
        .route(
            "/api/v1/cases/{id}/8d",
            get(routes::quality::get_eight_d).put(routes::quality::edit_eight_d),
        )
        .route(
            "/api/v1/cases/{id}/8d/actions",
            post(routes::quality::add_eight_d_action),
        )
        .route(
            "/api/v1/cases/{id}/8d/actions/{action_id}/done",
            post(routes::quality::eight_d_action_done),
        )
        .route(
            "/api/v1/cases/{id}/8d/actions/{action_id}/verify",
            post(routes::quality::verify_eight_d_action),
        )
        .route(
            "/api/v1/cases/{id}/complained-about",
            axum::routing::put(routes::staff_named::name_staff),
        )
        .route("/api/v1/cases/{id}/8d/close", post(routes::quality::close_eight_d))
        .route("/api/v1/cases/{id}/8d/document", get(routes::quality::eight_d_document))
        .route("/api/v1/cases/{id}/8d/send", post(routes::quality::send_eight_d))
        .route(
            "/api/v1/cases/{id}/regulator-report",
            get(routes::quality::get_regulator_report).put(routes::quality::edit_regulator_report),
        )
        .route(
            "/api/v1/cases/{id}/regulator-report/approve",
            post(routes::quality::approve_regulator_report),
        )
        .route(
            "/api/v1/cases/{id}/regulator-report/submit",
            post(routes::quality::submit_regulator_report),
        )
        .route("/api/v1/capa", post(routes::capa::create).get(routes::capa::list))
        .route("/api/v1/capa/{id}", get(routes::capa::get))
        .route("/api/v1/capa/{id}/{action}", post(routes::capa::act))
        .route(
            "/api/v1/revisits",
            get(routes::revisits::list).post(routes::revisits::create),
        )
        .route("/api/v1/revisits/questionnaire", get(routes::revisits::questionnaire))
        .route("/api/v1/revisits/{id}", get(routes::revisits::get_one))
        .route("/api/v1/revisits/{id}/attempts", post(routes::revisits::attempt))
        .route("/api/v1/revisits/{id}/outcome", post(routes::revisits::outcome))
        .route("/api/v1/revisits/{id}/close", post(routes::revisits::close))
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .with_state(state);
    // Tokens of deactivated or changed accounts, and signed-out ones, are refused though still validly signed.
    let router = revocation::guarded(
        router,
        AuthKeys::new(&settings.auth.secret),
        crate::staff::OwnStanding(pool.clone()),
    );
    let listener = tokio::net::TcpListener::bind(settings.http.address())
        .await
        .with_context(|| format!("binding {}", settings.http.address()))?;
    Ok(server::Service {
        name: "triage",
        listener,
        router,
        pool: pool.clone(),
        relay: OutboxRelay::new(pool, bus.clone(), outbox),
        bus,
        consumers: Some(consumers),
        workers: vec![],
    })
}

/// A token for the configured first administrator (`triage admin-token`).
pub fn admin_token(settings: &Settings) -> anyhow::Result<String> {
    let keys = AuthKeys::new(&settings.auth.secret);
    Ok(keys.issue(
        &settings.admin.user,
        &settings.admin.name,
        vec![auth::Role::Administrator],
        None,
        vec![],
        chrono::Duration::hours(settings.admin.token_ttl_hours),
    )?)
}
