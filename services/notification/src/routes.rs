use axum::{
    extract::{Path, Query, State},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use server::ApiError;
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::templates::{sample_vars, TemplateError, TemplateInfo, LANGUAGES},
    sms::segments,
    startup::AppState,
};

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Case id or reference.
    pub case: Option<String>,
    /// Case (or feedback) reference.
    pub reference: Option<String>,
}

/// A delivery-log entry; the recipient is masked.
#[derive(Serialize, FromRow, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub case_reference: Option<String>,
    pub recipient_masked: String,
    pub channel: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The notifications sent, tried or not possible (`no_recipient`) for a case, the customer's acknowledgement
/// included (it goes out before the case exists and is filed under the case's reference).
#[utoipa::path(get, path = "/api/v1/notifications", params(ListQuery),
    responses((status = 200, body = [DeliveryView]), (status = 401)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    let (case_id, reference) = match (q.case.as_deref().map(str::trim), q.reference) {
        (Some(case), _) => match case.parse::<Uuid>() {
            Ok(id) => (Some(id), None),
            Err(_) => (None, Some(case.to_owned())),
        },
        (None, Some(reference)) => (None, Some(reference)),
        (None, None) => {
            return Err(ApiError::invalid(
                "case",
                "give a case id or reference (`case`) or a `reference`",
            ))
        }
    };
    let rows = sqlx::query_as(
        "SELECT id, event_id, event_type, case_reference, recipient_masked, channel, template, status, attempts,
                provider_message_id, last_error, created_at, sent_at
           FROM deliveries
          WHERE ($1::uuid IS NOT NULL
                 AND (case_id = $1 OR case_reference IN (SELECT reference FROM cases WHERE case_id = $1)))
             OR case_reference = $2
          ORDER BY created_at, id LIMIT 500",
    )
    .bind(case_id)
    .bind(reference)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows))
}

/// The message templates, with the languages each exists in.
#[utoipa::path(get, path = "/api/v1/templates",
    responses((status = 200, body = [TemplateInfo]), (status = 401)), security(("bearer" = [])))]
pub async fn templates(State(state): State<AppState>, _staff: auth::Staff) -> Json<Vec<TemplateInfo>> {
    Json(state.templates.list())
}

#[derive(Deserialize, ToSchema)]
pub struct PreviewRequest {
    /// `zh-CN` (default) or `en`.
    #[serde(default)]
    pub language: Option<String>,
    /// `email` (default) or `sms`.
    #[serde(default)]
    pub channel: Option<String>,
    /// Variables over the sample data (e.g. `{"name": "Alice"}`).
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Preview {
    pub template: String,
    pub language: String,
    pub channel: String,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    /// For SMS: `gsm7` or `ucs2`, and how many parts it costs.
    pub sms_encoding: Option<String>,
    pub sms_parts: Option<usize>,
}

/// Renders a template with sample data (overridden by `data`), as it would be sent.
#[utoipa::path(post, path = "/api/v1/templates/{name}/preview", params(("name" = String, Path)),
    request_body = PreviewRequest,
    responses((status = 200, body = Preview), (status = 400), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn preview(
    State(state): State<AppState>,
    _staff: auth::Staff,
    Path(name): Path<String>,
    Json(req): Json<PreviewRequest>,
) -> Result<Json<Preview>, ApiError> {
    if !state.templates.list().iter().any(|t| t.name == name) {
        return Err(ApiError::not_found(format!("no template `{name}`")));
    }
    let language = req.language.unwrap_or_else(|| "zh-CN".into());
    if !LANGUAGES.iter().any(|l| language.starts_with(&l[..2])) {
        return Err(ApiError::invalid("language", "zh-CN or en"));
    }
    let channel = req.channel.unwrap_or_else(|| "email".into());
    let mut vars = sample_vars();
    match req.data {
        Some(serde_json::Value::Object(data)) => {
            for (k, v) in data {
                vars[k] = v;
            }
        }
        Some(serde_json::Value::Null) | None => {}
        Some(_) => return Err(ApiError::invalid("data", "an object of template variables")),
    }
    let render_error = |e: TemplateError| ApiError::invalid("data", e.to_string());
    let preview = match channel.as_str() {
        "email" => {
            let r = state.templates.render(&name, &language, &vars).map_err(render_error)?;
            Preview {
                template: name,
                language,
                channel,
                subject: Some(r.subject),
                text: r.body,
                html: Some(r.html),
                sms_encoding: None,
                sms_parts: None,
            }
        }
        "sms" => {
            let text = segments::truncate(
                &state
                    .templates
                    .render_sms(&name, &language, &vars)
                    .map_err(render_error)?,
                state.sms_max_parts,
            );
            let s = segments::count(&text);
            Preview {
                template: name,
                language,
                channel,
                subject: None,
                text,
                html: None,
                sms_encoding: Some(
                    if s.encoding == segments::Encoding::Gsm7 {
                        "gsm7"
                    } else {
                        "ucs2"
                    }
                    .into(),
                ),
                sms_parts: Some(s.parts),
            }
        }
        _ => return Err(ApiError::invalid("channel", "email or sms")),
    };
    Ok(Json(preview))
}
