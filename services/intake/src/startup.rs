use std::sync::Arc;

use anyhow::Context;
use auth::AuthKeys;
use axum::{extract::FromRef, routing::get, routing::post, Json, Router};
use messaging::{Bus, OutboxRelay, OutboxSignal};
use sqlx::PgPool;
use utoipa::OpenApi;

use crate::{
    attachments::{AttachmentStore, LocalDirStore},
    domain::reference::ReferenceAllocator,
    email, routes,
    settings::Settings,
    web,
};

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    pub outbox: OutboxSignal,
    pub references: Arc<ReferenceAllocator>,
    pub keys: AuthKeys,
    pub web: Arc<web::Web>,
    pub ingest: email::Ingest,
}

impl FromRef<AppState> for AuthKeys {
    fn from_ref(s: &AppState) -> AuthKeys {
        s.keys.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Intake", description = "Registers customer feedback from every channel."),
    paths(
        routes::feedback::register,
        routes::feedback::registered,
        routes::feedback::status,
        routes::calls::cti_webhook,
        routes::calls::get_call,
        routes::calls::register_call,
        routes::customers::lookup,
        routes::email::inbound,
        web::form_page,
        web::submit,
        web::status_page
    ),
    tags((name = "web", description = "The public web form and status page (HTML, zh-CN and en)"))
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
    let bus = Bus::new(settings.bus.clone(), "intake");
    let outbox = OutboxSignal::default();
    let timezone = settings
        .intake
        .timezone
        .parse()
        .map_err(|e| anyhow::anyhow!("intake.timezone: {e}"))?;
    let references = Arc::new(ReferenceAllocator::new(timezone, settings.intake.reference_block));
    let attachment_store: Arc<dyn AttachmentStore> = Arc::new(LocalDirStore::new(&settings.attachments.dir));
    let shared = Arc::new(settings.clone());
    let ingest = email::Ingest {
        pool: pool.clone(),
        references: references.clone(),
        store: attachment_store.clone(),
        outbox: outbox.clone(),
        settings: shared.clone(),
    };
    // Intake consumes nothing but token revocations (so a signed-out token cannot look up customers here).
    let token_consumers = revocation::prepare(
        "intake",
        bus.clone(),
        &pool,
        &settings.staff.events_site,
        outbox.clone(),
    )
    .await?;
    let mut workers: Vec<server::Worker> = vec![];
    if settings.email.enabled {
        let mailboxes = settings.email.all_mailboxes().map_err(anyhow::Error::msg)?;
        for mailbox in mailboxes {
            if !settings.sites.is_known(&mailbox.site) {
                anyhow::bail!("email mailbox `{}`: unknown site `{}`", mailbox.name, mailbox.site);
            }
            let poller = email::poller::Poller {
                ingest: ingest.clone(),
                mailbox,
            };
            workers.push(Box::new(move |stop| Box::pin(poller.run(stop))));
        }
    }
    let state = AppState {
        references,
        keys: AuthKeys::new(&settings.auth.secret),
        web: Arc::new(web::Web::new(&settings.web, attachment_store)),
        pool: pool.clone(),
        outbox: outbox.clone(),
        settings: shared,
        ingest,
    };
    let router = Router::new()
        .route("/api/v1/feedback", post(routes::feedback::register))
        .route("/api/v1/feedback/{reference}", get(routes::feedback::registered))
        .route("/api/v1/feedback/{reference}/status", get(routes::feedback::status))
        .route("/api/v1/cti/calls", post(routes::calls::cti_webhook))
        .route("/api/v1/calls/{call_id}", get(routes::calls::get_call))
        .route("/api/v1/calls/{call_id}/register", post(routes::calls::register_call))
        .route("/api/v1/customers/lookup", get(routes::customers::lookup))
        .route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .layer(axum::extract::DefaultBodyLimit::max(settings.intake.max_body_bytes))
        // The web form has its own, larger limit (attachments), set after the API's.
        .merge(web::router().layer(axum::extract::DefaultBodyLimit::max(settings.web.max_request_bytes)))
        // Raw mail may be as large as `email.max_message_bytes`, base64 in JSON a third more.
        .merge(
            Router::new()
                .route("/api/v1/email/inbound", post(routes::email::inbound))
                .layer(axum::extract::DefaultBodyLimit::max(
                    settings.email.max_message_bytes / 3 * 4 + 4096,
                )),
        )
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
        name: "intake",
        listener,
        router,
        pool: pool.clone(),
        relay: OutboxRelay::new(pool, bus.clone(), outbox),
        bus,
        consumers: Some(token_consumers),
        workers,
    })
}
