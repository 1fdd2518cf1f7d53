use std::sync::Arc;

use anyhow::Context;
use auth::AuthKeys;
use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Json, Router,
};
use minijinja::Environment;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    backend::{Backend, Service},
    i18n::Lang,
    pages,
    render::{self, AppState},
    settings::Settings,
};

/// The console as it runs: a listener and its router (no database, no broker).
pub struct App {
    pub listener: TcpListener,
    pub router: Router,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("work.html", include_str!("../templates/work.html")),
    ("intake.html", include_str!("../templates/intake.html")),
    ("intake_done.html", include_str!("../templates/intake_done.html")),
    ("case.html", include_str!("../templates/case.html")),
    ("eight_d.html", include_str!("../templates/eight_d.html")),
    (
        "eight_d_document.html",
        include_str!("../templates/eight_d_document.html"),
    ),
    ("revisits.html", include_str!("../templates/revisits.html")),
    ("revisit.html", include_str!("../templates/revisit.html")),
    ("dashboard.html", include_str!("../templates/dashboard.html")),
    ("reports.html", include_str!("../templates/reports.html")),
    ("report_export.html", include_str!("../templates/report_export.html")),
    ("admin.html", include_str!("../templates/admin.html")),
    ("admin_staff.html", include_str!("../templates/admin_staff.html")),
];

pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .expect("the embedded templates are valid");
    }
    env
}

pub fn state(settings: Settings) -> anyhow::Result<AppState> {
    let tz: chrono_tz::Tz = settings
        .console
        .timezone
        .parse()
        .map_err(|e| anyhow::anyhow!("console.timezone: {e}"))?;
    Ok(AppState {
        backend: Backend::new(settings.backends.clone()),
        keys: AuthKeys::new(&settings.auth.secret),
        templates: Arc::new(templates()),
        tz,
        default_lang: Lang::parse(&settings.console.default_language).unwrap_or(Lang::ZhCn),
        exports: Default::default(),
        settings: Arc::new(settings),
    })
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/work") }))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/lang/{tag}", get(pages::login::switch_language))
        .route("/work", get(pages::work::page))
        .route("/intake/phone", get(pages::intake::form).post(pages::intake::submit))
        .route("/cases/{id}", get(pages::case::page))
        .route("/cases/{id}/claim/{decision}", post(pages::case::claim))
        .route("/cases/{id}/act/{action}", post(pages::case::act))
        .route("/cases/{id}/revisit", post(pages::case::schedule_revisit))
        .route("/cases/{id}/split", post(pages::case::split))
        .route("/cases/{id}/regulator/{step}", post(pages::case::regulator))
        .route("/cases/{id}/8d", get(pages::eight_d::page).post(pages::eight_d::save))
        .route("/cases/{id}/8d/actions", post(pages::eight_d::add_action))
        .route(
            "/cases/{id}/8d/actions/{action}/{step}",
            post(pages::eight_d::action_step),
        )
        .route("/cases/{id}/8d/close", post(pages::eight_d::close))
        .route("/cases/{id}/8d/send", post(pages::eight_d::send))
        .route("/cases/{id}/8d/document", get(pages::eight_d::document))
        .route("/revisits", get(pages::revisits::queue))
        .route("/revisits/{id}", get(pages::revisits::page))
        .route("/revisits/{id}/attempts", post(pages::revisits::attempt))
        .route("/revisits/{id}/outcome", post(pages::revisits::outcome))
        .route("/revisits/{id}/close", post(pages::revisits::close))
        .route("/dashboard", get(pages::dashboard::page))
        .route("/reports", get(pages::reports::page))
        .route("/reports/csv", get(pages::reports::csv))
        .route("/reports/export", get(pages::reports::export))
        .route("/reports/exports/{id}", get(pages::reports::job_page))
        .route("/reports/exports/{id}/file", get(pages::reports::job_file))
        .route("/admin", get(pages::admin::page))
        .route("/admin/staff", post(pages::admin::create_staff))
        .route(
            "/admin/staff/{id}",
            get(pages::admin::staff_page).post(pages::admin::update_staff),
        )
        .route("/static/console.css", get(css))
        .route("/static/console.js", get(js))
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(middleware::from_fn_with_state(state.clone(), render::render_errors))
        .layer(middleware::from_fn(render::security_headers))
        .route(
            "/health/live",
            get(|| async { Json(serde_json::json!({ "status": "live" })) }),
        )
        .route("/health/ready", get(ready))
        .route("/metrics", get(|| async { telemetry::metrics_handle().render() }))
        .layer(middleware::from_fn(record_http_metrics))
        .with_state(state)
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/console.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/console.js"),
    )
        .into_response()
}

/// Ready when triage, which signs users in, answers: without it the console can do nothing.
async fn ready(State(state): State<AppState>) -> Response {
    let triage = state.backend.live(Service::Triage).await;
    let status = if triage {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(serde_json::json!({ "triage": triage }))).into_response()
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

pub async fn build(settings: Settings) -> anyhow::Result<App> {
    let address = settings.http.address();
    let state = state(settings)?;
    let listener = TcpListener::bind(&address)
        .await
        .with_context(|| format!("binding {address}"))?;
    Ok(App {
        listener,
        router: router(state),
    })
}

impl App {
    pub async fn run_until_stopped(self, stop: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(service = "console", "started");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await?;
        tracing::info!(service = "console", "stopped");
        Ok(())
    }
}
