//! Running a service and stopping it gracefully: stop taking work (HTTP, consumers, workers),
//! finish what is in flight, flush the outbox relay, close the broker connection.
use std::{future::Future, pin::Pin, sync::Arc};

use axum::{extract::Request, middleware::Next, response::Response, Router};
use messaging::{Bus, ConsumerGroup, OutboxRelay};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A background loop (sender, timer firing, …) that runs until its token is cancelled.
pub type Worker = Box<dyn FnOnce(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub struct Service {
    pub name: &'static str,
    pub listener: TcpListener,
    pub router: Router,
    pub pool: PgPool,
    pub bus: Arc<Bus>,
    pub consumers: Option<ConsumerGroup>,
    pub relay: OutboxRelay,
    pub workers: Vec<Worker>,
}

impl Service {
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        let name = self.name;
        let router = self
            .router
            .merge(crate::health::router(self.pool.clone(), self.bus.clone()))
            .layer(axum::middleware::from_fn(record_http_metrics));

        let http_stop = stop.clone();
        let http = tokio::spawn(async move {
            axum::serve(
                self.listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move { http_stop.cancelled().await })
            .await
        });
        let mut work = tokio::task::JoinSet::new();
        if let Some(group) = self.consumers {
            work.spawn(group.run(stop.clone()));
        }
        for w in self.workers {
            work.spawn(w(stop.clone()));
        }
        // The relay outlives the rest so that events committed during the drain still leave.
        let relay_stop = CancellationToken::new();
        let relay = tokio::spawn(self.relay.run(relay_stop.clone()));
        tracing::info!(service = name, "started");

        stop.cancelled().await;
        tracing::info!(service = name, "stopping: draining in-flight work");
        let served = http.await;
        while work.join_next().await.is_some() {}
        relay_stop.cancel();
        let _ = relay.await;
        self.bus.close().await;
        self.pool.close().await;
        tracing::info!(service = name, "stopped");
        served??;
        Ok(())
    }
}

async fn record_http_metrics(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let start = std::time::Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("http_request_duration_seconds", "method" => method, "path" => path, "status" => status)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
