//! The public web form (`GET/POST /feedback`) and the customer's HTML status page, in Simplified
//! Chinese and English, server-rendered, working without JavaScript. Never logs personal data:
//! only references.
pub mod form;
pub mod i18n;
pub mod rate_limit;

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Multipart, Path, Query, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};
use minijinja::{context, Environment};
use serde::{Deserialize, Serialize};

use self::{
    form::{FieldErrors, WebForm},
    i18n::{Lang, FEEDBACK_TYPES},
    rate_limit::RateLimiter,
};
use crate::{
    attachments::{clean_file_name, sniff, AttachmentStore},
    domain::feedback::Limits,
    startup::AppState,
    store::{self, Extras, Outcome, StoredAttachment},
};

/// What the web pages need beside the API's state.
pub struct Web {
    templates: Environment<'static>,
    pub limiter: RateLimiter,
    pub store: Arc<dyn AttachmentStore>,
}

impl Web {
    pub fn new(settings: &crate::settings::WebSettings, store: Arc<dyn AttachmentStore>) -> Self {
        let mut templates = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("form.html", include_str!("../../templates/form.html")),
            ("done.html", include_str!("../../templates/done.html")),
            ("status.html", include_str!("../../templates/status.html")),
            ("message.html", include_str!("../../templates/message.html")),
        ] {
            templates
                .add_template(name, source)
                .expect("the embedded templates are valid");
        }
        Self {
            templates,
            limiter: RateLimiter::new(
                settings.rate_limit_burst,
                Duration::from_secs(settings.rate_limit_period_secs),
            ),
            store,
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feedback", get(form_page).post(submit))
        .route("/feedback/{reference}/status", get(status_page))
}

/// The client's address: the peer, or (with `web.trust_proxy`) the last `X-Forwarded-For` hop,
/// the one our own proxy added.
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()),
        ))
    }
}

pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|s| s.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    lang: Option<String>,
    site: Option<String>,
    token: Option<String>,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn default_lang(state: &AppState) -> Lang {
    Lang::parse(&state.settings.intake.default_language).unwrap_or(Lang::ZhCn)
}

fn negotiate(state: &AppState, explicit: Option<&str>, headers: &HeaderMap) -> Lang {
    Lang::negotiate(
        explicit,
        cookie(headers, "lang"),
        headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        default_lang(state),
    )
}

/// Remembers an explicit choice of language for a year.
fn lang_cookie(explicit: Option<&str>) -> Option<HeaderValue> {
    let lang = explicit.and_then(Lang::parse)?;
    HeaderValue::from_str(&format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.tag())).ok()
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.0} MB", bytes as f64 / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// Query-string escaping for the few values we put in links.
fn q(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Serialize)]
struct TypeOption {
    value: &'static str,
    label: &'static str,
}

struct Page {
    status: StatusCode,
    html: String,
    cookie: Option<HeaderValue>,
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, Html(self.html)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
        );
        if let Some(c) = self.cookie {
            headers.insert(header::SET_COOKIE, c);
        }
        response
    }
}

struct Renderer<'a> {
    state: &'a AppState,
    lang: Lang,
    /// The page's own path, for the language switch.
    path: String,
    site: Option<String>,
    /// More query parameters the page needs to be shown again (the status token).
    extra_query: String,
}

impl Renderer<'_> {
    fn switch(&self, lang: Lang) -> String {
        let mut link = format!("{}?lang={}", self.path, lang.tag());
        if let Some(site) = &self.site {
            link.push_str(&format!("&site={}", q(site)));
        }
        link.push_str(&self.extra_query);
        link
    }

    fn render(&self, name: &str, status: StatusCode, ctx: minijinja::Value) -> Page {
        let base = context! {
            lang => self.lang.tag(),
            t => self.lang.texts(),
            switch_zh => self.switch(Lang::ZhCn),
            switch_en => self.switch(Lang::En),
        };
        let html = self
            .state
            .web
            .templates
            .get_template(name)
            .and_then(|t| t.render(context! { ..ctx, ..base }));
        match html {
            Ok(html) => Page {
                status,
                html,
                cookie: None,
            },
            Err(e) => {
                tracing::error!(template = name, error = %e, "rendering failed");
                Page {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    html: self.lang.text("internal").to_owned(),
                    cookie: None,
                }
            }
        }
    }

    /// The form; `files_dropped` when the customer had attached files that are not kept.
    fn form(&self, status: StatusCode, form: &WebForm, errors: &FieldErrors, files_dropped: bool) -> Page {
        let web = &self.state.settings.web;
        let types: Vec<TypeOption> = FEEDBACK_TYPES
            .iter()
            .map(|t| TypeOption {
                value: t,
                label: self.lang.text(&format!("type_{t}")),
            })
            .collect();
        let hint = self
            .lang
            .text("attachments_hint")
            .replace("{count}", &web.max_attachments.to_string())
            .replace("{size}", &human_size(web.max_attachment_bytes));
        let action = match &self.site {
            Some(site) => format!("/feedback?site={}", q(site)),
            None => "/feedback".to_owned(),
        };
        self.render(
            "form.html",
            status,
            context! { form, errors, types, attachments_hint => hint, action, files_dropped },
        )
    }

    fn message(&self, status: StatusCode, heading: &str, message: &str, back: bool) -> Page {
        let back = back.then(|| self.switch(self.lang));
        self.render(
            "message.html",
            status,
            context! { heading, message, back, alert => status.is_client_error() || status.is_server_error() },
        )
    }
}

fn known_site(state: &AppState, site: Option<&str>) -> String {
    site.map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .or_else(|| state.settings.sites.known.first().cloned())
        .unwrap_or_default()
}

/// The public feedback form.
#[utoipa::path(
    get, path = "/feedback", tag = "web",
    params(
        ("lang" = Option<String>, Query, description = "`zh-CN` or `en`; remembered in the `lang` cookie. Otherwise from the cookie or `Accept-Language`"),
        ("site" = Option<String>, Query, description = "the site the feedback is for; default: the first known site"),
    ),
    responses((status = 200, content_type = "text/html", body = String, description = "the form (HTML)"))
)]
pub async fn form_page(State(state): State<AppState>, Query(query): Query<PageQuery>, headers: HeaderMap) -> Response {
    let lang = negotiate(&state, query.lang.as_deref(), &headers);
    let r = Renderer {
        state: &state,
        lang,
        path: "/feedback".into(),
        site: query.site.clone(),
        extra_query: String::new(),
    };
    let form = WebForm {
        site: known_site(&state, query.site.as_deref()),
        ..Default::default()
    };
    let mut page = r.form(StatusCode::OK, &form, &FieldErrors::new(), false);
    page.cookie = lang_cookie(query.lang.as_deref());
    page.into_response()
}

/// A file as received, before it is stored.
struct Upload {
    file_name: String,
    content_type: &'static str,
    bytes: Vec<u8>,
}

/// Why a whole submission is refused before its fields are looked at.
enum Refusal {
    TooLarge,
    Unreadable,
}

/// Submit the form (multipart/form-data).
#[utoipa::path(
    post, path = "/feedback", tag = "web",
    params(("site" = Option<String>, Query, description = "used when the form has no `site` field")),
    request_body(content_type = "multipart/form-data", content = String,
        description = "fields: lang, site, name, phone, email, anonymous, feedback_type (complaint|suggestion|consultation|product_quality|logistics|service|adverse_reaction), product_code, batch, order_number, claim_amount, return_quantity, description, attachments (files: JPEG, PNG, PDF, plain text), website (honeypot: must stay empty)"),
    responses(
        (status = 201, content_type = "text/html", body = String, description = "registered: the page shows the reference and the status link"),
        (status = 200, content_type = "text/html", body = String, description = "neutral answer (honeypot filled: nothing registered)"),
        (status = 413, content_type = "text/html", body = String, description = "the submission or an attachment is too large, or too many attachments"),
        (status = 415, content_type = "text/html", body = String, description = "an attachment is not JPEG, PNG, PDF or plain text (judged by its content)"),
        (status = 422, content_type = "text/html", body = String, description = "a field is invalid: the form again, the error next to the field, the values kept"),
        (status = 429, content_type = "text/html", body = String, description = "too many submissions from this address (Retry-After)"),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let web = &state.settings.web;
    let mut r = Renderer {
        state: &state,
        lang: negotiate(&state, None, &headers),
        path: "/feedback".into(),
        site: query.site.clone(),
        extra_query: String::new(),
    };

    if let Some(ip) = client_ip(peer, &headers, web.trust_proxy) {
        if let Err(wait) = state.web.limiter.check(ip, Instant::now()) {
            metrics::counter!("web_form_rejected_total", "reason" => "rate_limited").increment(1);
            let minutes = wait.as_secs().div_ceil(60).max(1);
            let text = r.lang.text("too_many").replace("{minutes}", &minutes.to_string());
            let mut response = r
                .message(
                    StatusCode::TOO_MANY_REQUESTS,
                    r.lang.text("rejected_title"),
                    &text,
                    true,
                )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
            return response;
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > web.max_request_bytes) {
        return too_large(&r).into_response();
    }
    let Ok(mut multipart) = multipart else {
        metrics::counter!("web_form_rejected_total", "reason" => "unreadable").increment(1);
        return r
            .message(
                StatusCode::BAD_REQUEST,
                r.lang.text("rejected_title"),
                r.lang.text("bad_form"),
                true,
            )
            .into_response();
    };

    let mut form = WebForm::default();
    let mut uploads: Vec<Upload> = Vec::new();
    let mut file_errors: Vec<(StatusCode, String)> = Vec::new();
    let mut explicit_lang: Option<String> = None;
    let read = read_fields(
        &state,
        &mut multipart,
        &mut form,
        &mut uploads,
        &mut file_errors,
        &mut explicit_lang,
    )
    .await;
    if let Some(l) = explicit_lang.as_deref().and_then(Lang::parse) {
        r.lang = l;
    }
    match read {
        Ok(()) => {}
        Err(Refusal::TooLarge) => return too_large(&r).into_response(),
        Err(Refusal::Unreadable) => {
            metrics::counter!("web_form_rejected_total", "reason" => "unreadable").increment(1);
            return r
                .message(
                    StatusCode::BAD_REQUEST,
                    r.lang.text("rejected_title"),
                    r.lang.text("bad_form"),
                    true,
                )
                .into_response();
        }
    }
    if form.site.trim().is_empty() {
        form.site = known_site(&state, query.site.as_deref());
    }
    r.site = Some(form.site.clone());

    if form.honeypot_filled() {
        metrics::counter!("web_form_rejected_total", "reason" => "honeypot").increment(1);
        tracing::info!("web form: honeypot filled, nothing registered");
        return r
            .message(
                StatusCode::OK,
                r.lang.text("thanks_title"),
                r.lang.text("thanks_text"),
                false,
            )
            .into_response();
    }

    // Attachments first: their errors are the most specific answer (413/415).
    if let Some((status, _)) = file_errors.first() {
        metrics::counter!("web_form_rejected_total", "reason" => "attachment").increment(1);
        let mut errors = FieldErrors::new();
        errors.insert(
            "attachments".into(),
            file_errors
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
        return r.form(*status, &form, &errors, !uploads.is_empty()).into_response();
    }

    let default_site = known_site(&state, None);
    let request = match form.to_request(r.lang, &default_site) {
        Ok(request) => request,
        Err(errors) => {
            metrics::counter!("web_form_rejected_total", "reason" => "invalid").increment(1);
            return r
                .form(StatusCode::UNPROCESSABLE_ENTITY, &form, &errors, !uploads.is_empty())
                .into_response();
        }
    };
    let limits = Limits {
        settings: &state.settings.intake,
        known_sites: &state.settings.sites.known,
    };
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
    let feedback = match request.validate(&limits, false, now) {
        Ok(f) => f,
        Err(e) => {
            metrics::counter!("web_form_rejected_total", "reason" => "invalid").increment(1);
            let (field, message) = form::field_error(&e, r.lang);
            let mut errors = FieldErrors::new();
            errors.insert(field, message);
            return r
                .form(StatusCode::UNPROCESSABLE_ENTITY, &form, &errors, !uploads.is_empty())
                .into_response();
        }
    };

    // Files before the transaction: a failure after this leaves at most an orphan file.
    let mut stored = Vec::with_capacity(uploads.len());
    for u in &uploads {
        match state.web.store.put(&u.bytes).await {
            Ok(key) => stored.push(StoredAttachment {
                sha256: crate::attachments::sha256_hex(&u.bytes),
                size: u.bytes.len() as u64,
                content_type: u.content_type.to_owned(),
                file_name: u.file_name.clone(),
                storage_key: key,
            }),
            Err(e) => {
                tracing::error!(error = %e, "storing an attachment failed");
                return internal(&r).into_response();
            }
        }
    }
    let public_url = state.settings.http.public_url.as_deref().unwrap_or("");
    let extras = Extras {
        feedback_type: form.feedback_type().map(str::to_owned),
        attachments: stored.clone(),
    };
    let outcome = store::register_with(&state.pool, &state.references, public_url, feedback, None, None, extras).await;
    let registered = match outcome {
        Ok(Outcome::Created(reg)) | Ok(Outcome::Replayed(reg)) => reg,
        Ok(Outcome::KeyReused) => return internal(&r).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "registering web feedback failed");
            return internal(&r).into_response();
        }
    };
    state.outbox.notify();
    metrics::counter!("feedback_registered_total").increment(1);
    metrics::counter!("web_form_registered_total").increment(1);
    tracing::info!(reference = %registered.reference, attachments = stored.len(), "web feedback registered");

    #[derive(Serialize)]
    struct Shown {
        file_name: String,
        size_text: String,
    }
    let attachments: Vec<Shown> = stored
        .iter()
        .map(|a| Shown {
            file_name: a.file_name.clone(),
            size_text: human_size(a.size as usize),
        })
        .collect();
    let status_link = format!(
        "/feedback/{}/status?token={}&lang={}",
        q(&registered.reference),
        q(&registered.status_token),
        r.lang.tag()
    );
    let new_link = format!("/feedback?lang={}&site={}", r.lang.tag(), q(&form.site));
    r.render(
        "done.html",
        StatusCode::CREATED,
        context! { reference => registered.reference, status_link, new_link, attachments },
    )
    .into_response()
}

async fn read_fields(
    state: &AppState,
    multipart: &mut Multipart,
    form: &mut WebForm,
    uploads: &mut Vec<Upload>,
    file_errors: &mut Vec<(StatusCode, String)>,
    explicit_lang: &mut Option<String>,
) -> Result<(), Refusal> {
    let web = &state.settings.web;
    let map_err = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal::TooLarge
        } else {
            Refusal::Unreadable
        }
    };
    // The language of the messages: the form's own choice when it comes first (it does).
    let lang = |explicit: &Option<String>| explicit.as_deref().and_then(Lang::parse).unwrap_or(Lang::ZhCn);
    while let Some(mut field) = multipart.next_field().await.map_err(map_err)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "attachments" {
            let file_name = field.file_name().map(str::to_owned);
            let mut bytes = Vec::new();
            let mut too_big = false;
            while let Some(chunk) = field.chunk().await.map_err(map_err)? {
                if too_big {
                    continue;
                }
                if bytes.len() + chunk.len() > web.max_attachment_bytes {
                    too_big = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(&chunk);
                }
            }
            // A file input left empty still sends a part, without a name or bytes.
            if !too_big && bytes.is_empty() && file_name.as_deref().unwrap_or("").is_empty() {
                continue;
            }
            let file_name = clean_file_name(file_name.as_deref());
            let l = lang(explicit_lang);
            if too_big {
                let m = l
                    .text("err_file_size")
                    .replace("{name}", &file_name)
                    .replace("{size}", &human_size(web.max_attachment_bytes));
                file_errors.push((StatusCode::PAYLOAD_TOO_LARGE, m));
                continue;
            }
            if uploads.len() + file_errors.len() >= web.max_attachments {
                if !file_errors.iter().any(|(s, _)| *s == StatusCode::PAYLOAD_TOO_LARGE) {
                    let m = l
                        .text("err_file_count")
                        .replace("{count}", &web.max_attachments.to_string());
                    file_errors.push((StatusCode::PAYLOAD_TOO_LARGE, m));
                }
                continue;
            }
            match sniff(&bytes).filter(|t| web.allowed_attachment_types.iter().any(|a| a == t)) {
                Some(content_type) => uploads.push(Upload {
                    file_name,
                    content_type,
                    bytes,
                }),
                None => file_errors.push((
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    l.text("err_file_type").replace("{name}", &file_name),
                )),
            }
        } else {
            let value = field.text().await.map_err(map_err)?;
            if name == "lang" {
                *explicit_lang = Some(value);
            } else {
                form.set(&name, value);
            }
        }
    }
    Ok(())
}

fn too_large(r: &Renderer<'_>) -> Page {
    metrics::counter!("web_form_rejected_total", "reason" => "too_large").increment(1);
    let text = r
        .lang
        .text("too_large")
        .replace("{size}", &human_size(r.state.settings.web.max_request_bytes));
    r.message(
        StatusCode::PAYLOAD_TOO_LARGE,
        r.lang.text("rejected_title"),
        &text,
        true,
    )
}

fn internal(r: &Renderer<'_>) -> Page {
    r.message(
        StatusCode::INTERNAL_SERVER_ERROR,
        r.lang.text("rejected_title"),
        r.lang.text("internal"),
        true,
    )
}

/// The customer's status page (HTML twin of `GET /api/v1/feedback/{reference}/status`).
#[utoipa::path(
    get, path = "/feedback/{reference}/status", tag = "web",
    params(("reference" = String, Path), ("token" = String, Query), ("lang" = Option<String>, Query)),
    responses(
        (status = 200, content_type = "text/html", body = String, description = "the status (HTML)"),
        (status = 404, content_type = "text/html", body = String, description = "unknown reference or wrong token"),
    )
)]
pub async fn status_page(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = negotiate(&state, query.lang.as_deref(), &headers);
    let token = query.token.unwrap_or_default();
    let r = Renderer {
        state: &state,
        lang,
        path: format!("/feedback/{}/status", q(&reference)),
        site: None,
        extra_query: format!("&token={}", q(&token)),
    };
    let found = if token.is_empty() {
        Ok(None)
    } else {
        store::status(&state.pool, &reference, &token).await
    };
    let mut page = match found {
        Ok(Some(status)) => {
            let tz: chrono_tz::Tz = state
                .settings
                .intake
                .timezone
                .parse()
                .unwrap_or(chrono_tz::Asia::Shanghai);
            let received = status
                .received_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M (UTC%:z)")
                .to_string();
            let status_text = match lang.text(&format!("status_{}", status.status)) {
                "" => status.status.clone(),
                t => t.to_owned(),
            };
            let channel_text = match lang.text(&format!("channel_{}", status.channel)) {
                "" => status.channel.clone(),
                t => t.to_owned(),
            };
            r.render(
                "status.html",
                StatusCode::OK,
                context! { status, received, status_text, channel_text, new_link => format!("/feedback?lang={}", lang.tag()) },
            )
        }
        Ok(None) => r.message(
            StatusCode::NOT_FOUND,
            lang.text("not_found_title"),
            lang.text("not_found_text"),
            false,
        ),
        Err(e) => {
            tracing::error!(error = %e, "status lookup failed");
            internal(&r)
        }
    };
    page.cookie = lang_cookie(query.lang.as_deref());
    page.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{attachments::LocalDirStore, settings::WebSettings};

    fn web() -> Web {
        let settings = WebSettings {
            max_request_bytes: 1 << 20,
            max_attachment_bytes: 1 << 16,
            max_attachments: 3,
            allowed_attachment_types: vec!["image/png".into()],
            rate_limit_burst: 10,
            rate_limit_period_secs: 600,
            trust_proxy: false,
        };
        Web::new(&settings, Arc::new(LocalDirStore::new(std::env::temp_dir())))
    }

    fn render(name: &str, lang: Lang, ctx: minijinja::Value) -> String {
        let base = context! { lang => lang.tag(), t => lang.texts(), switch_zh => "/feedback?lang=zh-CN", switch_en => "/feedback?lang=en" };
        web()
            .templates
            .get_template(name)
            .unwrap()
            .render(context! { ..ctx, ..base })
            .unwrap()
    }

    #[test]
    fn the_form_keeps_values_escaped_and_shows_errors_by_their_field() {
        let form = WebForm {
            name: "<script>alert(1)</script>".into(),
            email: "not-an-email".into(),
            feedback_type: "logistics".into(),
            description: "箱子\"坏了\"".into(),
            ..Default::default()
        };
        let mut errors = FieldErrors::new();
        errors.insert("email".into(), "请输入有效的电子邮箱地址。".into());
        let types = FEEDBACK_TYPES
            .iter()
            .map(|t| TypeOption {
                value: t,
                label: Lang::ZhCn.text(&format!("type_{t}")),
            })
            .collect::<Vec<_>>();
        let html = render(
            "form.html",
            Lang::ZhCn,
            context! { form, errors, types, attachments_hint => "hint", action => "/feedback" },
        );
        assert!(html.contains("&lt;script&gt;"), "escaped");
        assert!(!html.contains("<script>"));
        assert!(html.contains(r#"id="email-error">请输入有效的电子邮箱地址。"#));
        assert!(html.contains(r#"aria-invalid="true" aria-describedby="email-error contact-hint""#));
        assert!(html.contains(r#"<option value="logistics" selected>物流配送</option>"#));
        assert!(html.contains("箱子&quot;坏了&quot;</textarea>"));
        assert!(html.contains(r#"<html lang="zh-CN">"#));
    }

    #[test]
    fn every_page_renders_in_both_languages() {
        for lang in [Lang::ZhCn, Lang::En] {
            let done = render(
                "done.html",
                lang,
                context! { reference => "SH01-20261123-0001", status_link => "/s", new_link => "/feedback", attachments => Vec::<()>::new() },
            );
            assert!(done.contains("SH01-20261123-0001") && done.contains(lang.text("done_title")));
            let msg = render(
                "message.html",
                lang,
                context! { heading => lang.text("thanks_title"), message => lang.text("thanks_text"), back => None::<String> },
            );
            assert!(msg.contains(lang.text("thanks_text")));
            let status = render(
                "status.html",
                lang,
                context! { status => context! { reference => "SH01-X" }, received => "2026-11-23 10:00", status_text => "x", channel_text => "y", new_link => "/feedback" },
            );
            assert!(status.contains("SH01-X"));
        }
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("198.51.100.9, 203.0.113.5"));
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(client_ip(Some(peer), &headers, false), Some(peer));
        assert_eq!(client_ip(Some(peer), &headers, true), "203.0.113.5".parse().ok());
        assert_eq!(client_ip(Some(peer), &HeaderMap::new(), true), Some(peer));
    }

    #[test]
    fn the_web_routes_are_in_the_openapi_document() {
        use utoipa::OpenApi;
        let doc = crate::startup::ApiDoc::openapi();
        for path in ["/feedback", "/feedback/{reference}/status", "/api/v1/feedback"] {
            assert!(doc.paths.paths.contains_key(path), "{path}");
        }
    }

    #[test]
    fn cookies_and_links() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; lang=en; b=2"));
        assert_eq!(cookie(&headers, "lang"), Some("en"));
        assert_eq!(
            lang_cookie(Some("zh")).unwrap(),
            "lang=zh-CN; Path=/; Max-Age=31536000; SameSite=Lax"
        );
        assert!(lang_cookie(Some("fr")).is_none());
        assert_eq!(q("a b&c/é"), "a%20b%26c%2F%C3%A9");
        assert_eq!(human_size(5 << 20), "5 MB");
    }
}
