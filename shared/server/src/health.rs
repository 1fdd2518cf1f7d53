//! `/health/live`, `/health/ready` and `/metrics`, the same for every service.
use std::sync::Arc;

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use messaging::Bus;
use sqlx::PgPool;

#[derive(Clone)]
struct Probe {
    pool: PgPool,
    bus: Arc<Bus>,
}

pub fn router(pool: PgPool, bus: Arc<Bus>) -> Router {
    Router::new()
        .route(
            "/health/live",
            get(|| async { Json(serde_json::json!({ "status": "live" })) }),
        )
        .route("/health/ready", get(ready))
        .route("/metrics", get(|| async { telemetry::metrics_handle().render() }))
        .with_state(Probe { pool, bus })
}

async fn ready(State(p): State<Probe>) -> impl IntoResponse {
    let database = sqlx::query("SELECT 1").execute(&p.pool).await.is_ok();
    let broker = p.bus.is_connected();
    let status = if database && broker {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({ "database": database, "broker": broker })),
    )
}
