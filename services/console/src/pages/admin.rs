//! Administration (administrators only): staff accounts and roles through triage's
//! `POST /api/v1/staff`, and where each business rule is configured.
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use serde_json::{json, Value};

use crate::{
    backend::{BackendError, Service},
    error::AppError,
    i18n::Lang,
    render::{AppState, Ctx, Fields, ADMINS},
};

pub const ROLES: [&str; 9] = [
    "agent",
    "handler",
    "department_head",
    "quality_engineer",
    "marketing_manager",
    "general_manager",
    "management_representative",
    "administrator",
    "auditor",
];

/// (text key, where) of every rule an administrator may look for.
const CONFIGURATION: &[(&str, &str)] = &[
    (
        "cfg_departments",
        "services/triage/config/default.toml — [routing.departments], [routing.site_overrides]",
    ),
    (
        "cfg_classification",
        "services/triage/config/default.toml — [[classification.rules]]",
    ),
    ("cfg_claims", "services/triage/config/default.toml — [claims]"),
    (
        "cfg_privacy",
        "services/triage/config/default.toml — [privacy] unmasked_roles",
    ),
    (
        "cfg_sla",
        "services/scheduler/config/default.toml — clock policies and escalation ladders",
    ),
    (
        "cfg_calendars",
        "services/scheduler/config/default.toml — site calendars; shared/calendar (China 2025–2026)",
    ),
    (
        "cfg_notifications",
        "services/notification/config/default.toml; services/notification/templates/",
    ),
];

fn require_admin(ctx: &Ctx) -> Result<(), AppError> {
    ctx.staff()?;
    if ctx.has_any(ADMINS) {
        Ok(())
    } else {
        Err(AppError::Forbidden("administrators"))
    }
}

/// Triage's rules in force, shaped for the page (sorted tables); `None` when triage cannot say.
async fn rules(state: &AppState, token: &str) -> Option<Value> {
    let r: Value = state
        .backend
        .get(Service::Triage, "/api/v1/rules", &[], token)
        .await
        .ok()?;
    let sorted = |map: &Value| -> Vec<Value> {
        let mut rows: Vec<(String, Value)> = map
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.into_iter().map(|(k, v)| json!({ "key": k, "value": v })).collect()
    };
    let overrides: Vec<Value> = sorted(&r["routing"]["site_overrides"])
        .into_iter()
        .map(|site| json!({ "site": site["key"], "departments": sorted(&site["value"]) }))
        .collect();
    Some(json!({
        "departments": sorted(&r["routing"]["departments"]),
        "site_overrides": overrides,
        "classification": r["classification"]["rules"],
        "default": r["classification"]["default"],
        "approvals": r["claims"]["approvals"],
        "currency": r["claims"]["currency"],
        "rejection_reasons": r["claims"]["rejection_reasons"],
        "unmasked_roles": r["privacy"]["unmasked_roles"],
        "configured_in": r["configured_in"],
    }))
}

/// `{"working_days": 7}` → "7 working days" in `lang`.
pub fn span_text(span: &Value, lang: Lang) -> String {
    span.as_object()
        .and_then(|m| m.iter().next())
        .map(|(unit, n)| format!("{} {}", n, lang.text(&format!("span_{unit}"))))
        .unwrap_or_else(|| span.to_string())
}

/// The scheduler's clocks and calendars, shaped for the page; `None` when it cannot say.
async fn policies(state: &AppState, token: &str, lang: Lang) -> Option<Value> {
    let p: Value = state
        .backend
        .get(Service::Scheduler, "/api/v1/policies", &[], token)
        .await
        .ok()?;
    let list = |v: &Value| -> String {
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    let clocks: Vec<Value> = p["clocks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let applies = ["classes", "categories", "severities"]
                .iter()
                .map(|k| list(&c["applies_to"][*k]))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            let escalation: Vec<String> = c["escalation"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    let roles: Vec<String> = l["notify"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(|r| lang.text(&format!("role_{r}")))
                        .collect();
                    format!(
                        "{}: +{} → {}",
                        l["level"],
                        span_text(&l["after"], lang),
                        roles.join(", ")
                    )
                })
                .collect();
            json!({ "name": c["name"], "applies": applies, "length": span_text(&c["length"], lang),
                    "start": c["start_event"], "stop": c["stop_event"], "pause_on": list(&c["pause_on"]),
                    "ladder": c["ladder"], "escalation": escalation })
        })
        .collect();
    let calendar = |name: String, c: &Value| {
        let hours: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .filter(|d| c["hours"][**d].as_array().is_some_and(|a| !a.is_empty()))
            .map(|d| format!("{d} {}", list(&c["hours"][*d])))
            .collect();
        json!({ "name": name, "time_zone": c["time_zone"], "base": c["base_calendar"], "hours": hours,
                "holidays": c["holidays"].as_array().map_or(0, Vec::len),
                "makeup_days": c["makeup_days"].as_array().map_or(0, Vec::len) })
    };
    let mut calendars = vec![calendar(lang.text("all_sites"), &p["calendars"]["default"])];
    if let Some(sites) = p["calendars"]["sites"].as_object() {
        calendars.extend(sites.iter().map(|(site, c)| calendar(site.clone(), c)));
    }
    Some(json!({ "clocks": clocks, "calendars": calendars, "configured_in": p["configured_in"] }))
}

async fn render(state: &AppState, ctx: &Ctx, extra: Value, status: StatusCode) -> Result<Response, AppError> {
    let configuration: Vec<Value> = CONFIGURATION
        .iter()
        .map(|(k, w)| json!({"what": ctx.lang.text(k), "where": w}))
        .collect();
    let token = ctx.token()?;
    let (rules, policies) = futures::join!(rules(state, token), policies(state, token, ctx.lang));
    let mut context = json!({ "nav": "admin", "roles": ROLES, "configuration": configuration, "form": {}, "errors": {},
                              "rules": rules, "policies": policies });
    if let (Value::Object(c), Value::Object(e)) = (&mut context, extra) {
        c.extend(e);
    }
    Ok((status, state.render(ctx, "admin.html", context)?).into_response())
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    require_admin(&ctx)?;
    render(&state, &ctx, json!({}), StatusCode::OK).await
}

pub async fn create_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    require_admin(&ctx)?;
    ctx.check_csrf(&form)?;
    let token = ctx.token()?;
    let roles: Vec<&str> = form.all("roles").into_iter().filter(|r| ROLES.contains(r)).collect();
    let body = json!({
        "id": form.get("id").unwrap_or_default(),
        "name": form.get("name").unwrap_or_default(),
        "password": form.0.iter().find(|(k, _)| k == "password").map(|(_, v)| v.as_str()).unwrap_or_default(),
        "roles": roles,
        "department": form.get("department"),
        "sites": form.all("sites"),
    });
    let mut shown = form.to_json();
    shown["roles"] = json!(roles);
    shown["sites"] = json!(form.all("sites"));
    match state
        .backend
        .post::<Value>(Service::Triage, "/api/v1/staff", &body, Some(token))
        .await
    {
        Ok(user) => {
            tracing::info!(staff = %user["id"].as_str().unwrap_or("?"), "staff account created");
            render(&state, &ctx, json!({ "created": user["id"] }), StatusCode::CREATED).await
        }
        Err(BackendError::Refused {
            status: status @ (409 | 422 | 400),
            message,
            field,
            ..
        }) => {
            let field = field.unwrap_or_else(|| "id".into());
            render(
                &state,
                &ctx,
                json!({ "form": shown, "errors": { field: message } }),
                StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_words() {
        assert_eq!(span_text(&json!({"working_days": 7}), Lang::En), "7 working days");
        assert_eq!(span_text(&json!({"clock_hours": 24}), Lang::ZhCn), "24 小时");
        assert_eq!(span_text(&json!("odd"), Lang::En), "\"odd\"");
    }
}
