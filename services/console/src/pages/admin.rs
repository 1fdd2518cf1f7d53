//! Administration: the staff directory through triage's `/api/v1/staff` (list with filters, create,
//! edit roles, department, sites, active, password — administrators; auditors read), and the rules in
//! force with where each is configured.
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use serde_json::{json, Value};

use crate::{
    backend::{BackendError, Service},
    error::{AppError, ErrorView},
    i18n::Lang,
    render::{encode, error_page, AppState, Ctx, Fields, ADMINS, ADMIN_READERS},
};

/// The languages staff get notifications in.
const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

/// Form fields of a staff account that triage may name in a refusal.
const STAFF_FIELDS: [&str; 9] = [
    "id",
    "name",
    "roles",
    "department",
    "sites",
    "password",
    "email",
    "phone",
    "language",
];

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

/// The refusal page for users who may not see administration, saying who may.
fn refusal(state: &AppState, ctx: &Ctx) -> Response {
    error_page(
        state,
        ctx,
        &ErrorView {
            status: StatusCode::FORBIDDEN,
            message_key: "err_forbidden",
            detail: Some(ctx.lang.text("admin_refused")),
        },
    )
}

/// `Ok(None)` when the user may read administration, `Ok(Some(refusal page))` when not.
fn readers_only(state: &AppState, ctx: &Ctx) -> Result<Option<Response>, AppError> {
    ctx.staff()?;
    Ok((!ctx.has_any(ADMIN_READERS)).then(|| refusal(state, ctx)))
}

/// The staff list's filters, as given in the page's query (blank ones dropped, unknown values ignored).
fn staff_filters(q: &Fields, known_sites: &[String]) -> Vec<(&'static str, String)> {
    let mut filters = vec![];
    if let Some(r) = q.get("role").filter(|r| ROLES.contains(r)) {
        filters.push(("role", r.to_owned()));
    }
    if let Some(d) = q.get("department") {
        filters.push(("department", d.to_owned()));
    }
    if let Some(s) = q.get("site").filter(|s| known_sites.iter().any(|k| k == s)) {
        filters.push(("site", s.to_owned()));
    }
    if let Some(a) = q.get("active").filter(|a| *a == "true" || *a == "false") {
        filters.push(("active", a.to_owned()));
    }
    if let Some(t) = q.get("q") {
        filters.push(("q", t.chars().take(100).collect()));
    }
    filters
}

/// One page of the staff directory for the list, with the link to the next page.
async fn staff_list(state: &AppState, ctx: &Ctx, q: &Fields) -> Result<Value, AppError> {
    let token = ctx.token()?;
    let filters = staff_filters(q, &state.settings.sites.known);
    let mut query = filters.clone();
    query.push(("limit", "50".into()));
    if let Some(c) = q.get("cursor") {
        query.push(("cursor", c.to_owned()));
    }
    let page: Value = state
        .backend
        .get(Service::Triage, "/api/v1/staff", &query, token)
        .await?;
    let rows: Vec<Value> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            let roles: Vec<String> = u["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|r| ctx.lang.text(&format!("role_{r}")))
                .collect();
            let sites: Vec<&str> = u["sites"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            json!({ "id": u["id"], "href": format!("/admin/staff/{}", encode(u["id"].as_str().unwrap_or(""))),
                    "name": u["name"], "roles": roles.join(", "), "department": u["department"],
                    "sites": if sites.is_empty() { ctx.lang.text("all_sites") } else { sites.join(", ") },
                    "active": u["active"] })
        })
        .collect();
    let next = page["next_cursor"].as_str().map(|c| {
        let mut link: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        link.push(format!("cursor={}", encode(c)));
        format!("/admin?{}#staff", link.join("&"))
    });
    let shown: serde_json::Map<String, Value> = filters
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    Ok(json!({ "rows": rows, "next": next, "filters": shown }))
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
    let configured_in = p["configured_in"]
        .as_str()
        .unwrap_or("services/scheduler/config/default.toml");
    let calendar = |name: String, section: String, c: &Value| {
        let hours: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .filter(|d| c["hours"][**d].as_array().is_some_and(|a| !a.is_empty()))
            .map(|d| format!("{} {}", lang.text(&format!("weekday_{d}")), list(&c["hours"][*d])))
            .collect();
        let days = special_days(c, &format!("{configured_in} — {section}"), lang);
        let holidays = days.iter().filter(|d| d["kind"] == "holiday").count();
        json!({ "name": name, "time_zone": c["time_zone"], "base": c["base_calendar"], "hours": hours,
                "days": days, "holidays": holidays, "makeup_days": days.len() - holidays,
                "ics_files": c["ics_files"], "section": format!("{configured_in} — {section}") })
    };
    let mut calendars = vec![calendar(
        lang.text("all_sites"),
        "[calendar.default]".into(),
        &p["calendars"]["default"],
    )];
    if let Some(sites) = p["calendars"]["sites"].as_object() {
        calendars.extend(
            sites
                .iter()
                .map(|(site, c)| calendar(site.clone(), format!("[calendar.sites.{site}]"), c)),
        );
    }
    Some(json!({ "clocks": clocks, "calendars": calendars, "configured_in": p["configured_in"] }))
}

/// Where the built-in calendars' dates are kept (`base_calendar`).
const BASE_CALENDARS: &[(&str, &str)] = &[("cn", "shared/calendar/data/cn-2025-2026.toml")];

/// A bilingual name of the data ("国庆节 National Day") in `lang`.
pub fn day_name(name: &str, lang: Lang) -> String {
    match name.split_once(' ') {
        Some((zh, en)) if zh.chars().any(|c| c as u32 >= 0x3400) && en.is_ascii() => match lang {
            Lang::ZhCn => zh.to_owned(),
            Lang::En => en.to_owned(),
        },
        _ => name.to_owned(),
    }
}

/// Every holiday (consecutive days as one range) and make-up working day of a calendar, by date, each with
/// where it is configured: the built-in base calendar's data file, or the calendar's own section (`own`).
pub fn special_days(c: &Value, own: &str, lang: Lang) -> Vec<Value> {
    let mut days: Vec<(String, Value)> = vec![];
    let base = c["base_calendar"].as_str();
    if let Some((_, file)) = BASE_CALENDARS.iter().find(|(b, _)| Some(*b) == base) {
        let data = calendar::china::special_days();
        let source = format!("{file} (base_calendar = \"{}\")", base.unwrap_or_default());
        for (name, first, last) in data.holiday_ranges() {
            days.push((
                first.to_string(),
                json!({ "kind": "holiday", "from": first.to_string(), "to": (last != first).then(|| last.to_string()),
                        "name": day_name(name, lang), "source": source }),
            ));
        }
        for (date, day) in data.iter().filter(|(_, d)| !d.is_holiday()) {
            days.push((
                date.to_string(),
                json!({ "kind": "makeup", "from": date.to_string(), "to": null,
                        "name": day.name().map(|n| day_name(n, lang)), "source": source }),
            ));
        }
    }
    for h in c["holidays"].as_array().into_iter().flatten() {
        let from = h["start"].as_str().unwrap_or_default().to_owned();
        days.push((
            from.clone(),
            json!({ "kind": "holiday", "from": from, "to": h["end"].as_str().filter(|e| *e != from),
                    "name": h["name"].as_str().map(|n| day_name(n, lang)), "source": own }),
        ));
    }
    for m in c["makeup_days"].as_array().into_iter().flatten() {
        let date = m["date"].as_str().unwrap_or_default().to_owned();
        days.push((
            date.clone(),
            json!({ "kind": "makeup", "from": date, "to": null,
                    "name": m["name"].as_str().map(|n| day_name(n, lang)), "source": own }),
        ));
    }
    days.sort_by(|a, b| a.0.cmp(&b.0));
    days.into_iter().map(|(_, d)| d).collect()
}

/// The departments the routing rules name (for the department field's suggestions).
fn departments(rules: &Option<Value>) -> Vec<String> {
    let mut names: Vec<String> = rules
        .iter()
        .flat_map(|r| {
            let own = r["departments"].as_array().cloned().unwrap_or_default();
            let overrides: Vec<Value> = r["site_overrides"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|o| o["departments"].as_array().cloned().unwrap_or_default())
                .collect();
            own.into_iter().chain(overrides)
        })
        .filter_map(|d| d["value"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    query: &Fields,
    extra: Value,
    status: StatusCode,
) -> Result<Response, AppError> {
    let configuration: Vec<Value> = CONFIGURATION
        .iter()
        .map(|(k, w)| json!({"what": ctx.lang.text(k), "where": w}))
        .collect();
    let token = ctx.token()?;
    let (rules, policies, staff) = futures::join!(
        rules(state, token),
        policies(state, token, ctx.lang),
        staff_list(state, ctx, query)
    );
    let staff = staff?;
    let departments = departments(&rules);
    let mut context = json!({ "nav": "admin", "roles": ROLES, "configuration": configuration, "form": {}, "errors": {},
                              "rules": rules, "policies": policies, "staff": staff, "departments": departments,
                              "can_edit": ctx.has_any(ADMINS) });
    if let (Value::Object(c), Value::Object(e)) = (&mut context, extra) {
        c.extend(e);
    }
    Ok((status, state.render(ctx, "admin.html", context)?).into_response())
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<Fields>) -> Result<Response, AppError> {
    if let Some(refused) = readers_only(&state, &ctx)? {
        return Ok(refused);
    }
    render(&state, &ctx, &q, json!({}), StatusCode::OK).await
}

/// Formats an account's recorded change for the page: "roles: Handler → Handler, Administrator".
fn change_lines(changes: &Value, lang: Lang) -> Vec<String> {
    let show = |field: &str, v: &Value| -> String {
        match (field, v) {
            (_, Value::Null) => "—".into(),
            ("roles", Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(|r| lang.text(&format!("role_{r}")))
                .collect::<Vec<_>>()
                .join(", "),
            ("sites", Value::Array(a)) if a.is_empty() => lang.text("all_sites"),
            ("sites", Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            ("active", Value::Bool(b)) => lang.text(if *b { "staff_active" } else { "staff_inactive" }),
            // Triage records whether contact details were set or changed, never their values.
            ("email" | "phone", Value::String(s)) => lang.text(&format!("staff_contact_{s}")),
            ("language", Value::String(s)) => lang.text(&format!("language_{s}")),
            (_, Value::String(s)) => s.clone(),
            (_, other) => other.to_string(),
        }
    };
    changes
        .as_object()
        .into_iter()
        .flatten()
        .map(|(field, c)| {
            let label = lang.text(&format!("staff_field_{field}"));
            if field == "password" {
                return format!("{label}: {}", lang.text("staff_password_reset"));
            }
            match c.get("from") {
                Some(from) => format!("{label}: {} → {}", show(field, from), show(field, &c["to"])),
                None => format!("{label}: {}", show(field, &c["to"])),
            }
        })
        .collect()
}

/// The edit form of one account (administrators), or its read-only view (auditors); with its changes.
async fn render_user(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    extra: Value,
    status: StatusCode,
) -> Result<Response, AppError> {
    let token = ctx.token()?;
    let path = format!("/api/v1/staff/{}", encode(id));
    let (user, rules) = futures::join!(
        state.backend.get::<Value>(Service::Triage, &path, &[], token),
        rules(state, token)
    );
    let user = match user {
        Ok(u) => u,
        Err(e) if e.is_not_found() => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let changes: Vec<Value> = user["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let at = c["at"]
                .as_str()
                .and_then(|a| a.parse::<chrono::DateTime<chrono::Utc>>().ok())
                .map(|a| super::work::local(state, &a))
                .unwrap_or_default();
            json!({ "at": at, "actor": c["actor"], "action": ctx.lang.text(&format!("staff_action_{}", c["action"].as_str().unwrap_or(""))),
                    "lines": change_lines(&c["changes"], ctx.lang) })
        })
        .collect();
    let since = user["created_at"]
        .as_str()
        .and_then(|a| a.parse::<chrono::DateTime<chrono::Utc>>().ok())
        .map(|a| super::work::local(state, &a))
        .unwrap_or_default();
    let action = format!("/admin/staff/{}", encode(id));
    let mut context = json!({ "nav": "admin", "roles": ROLES, "account": user, "changes": changes,
                              "since": since, "action": action,
                              "form": user, "errors": {}, "departments": departments(&rules),
                              "can_edit": ctx.has_any(ADMINS) });
    if let (Value::Object(c), Value::Object(e)) = (&mut context, extra) {
        c.extend(e);
    }
    Ok((status, state.render(ctx, "admin_staff.html", context)?).into_response())
}

pub async fn staff_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<Fields>,
) -> Result<Response, AppError> {
    if let Some(refused) = readers_only(&state, &ctx)? {
        return Ok(refused);
    }
    let done = q.get("done").filter(|d| *d == "saved");
    render_user(&state, &ctx, &id, json!({ "done": done }), StatusCode::OK).await
}

/// The edit form's fields as triage's `PATCH /api/v1/staff/{id}` body, or the fields at fault
/// (checked here too, so the common mistakes are said in the user's language).
pub fn edit_body(form: &Fields, lang: Lang) -> Result<Value, serde_json::Map<String, Value>> {
    let roles: Vec<&str> = form.all("roles").into_iter().filter(|r| ROLES.contains(r)).collect();
    let password = form
        .0
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let mut errors = serde_json::Map::new();
    if form.get("name").is_none() {
        errors.insert("name".into(), json!(lang.text("err_required")));
    }
    if roles.is_empty() {
        errors.insert("roles".into(), json!(lang.text("err_roles_required")));
    }
    if !password.is_empty() && password.chars().count() < 10 {
        errors.insert("password".into(), json!(lang.text("err_password_short")));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Blank contact fields remove them: the form is the account's whole new state.
    let mut body = json!({
        "name": form.get("name"),
        "roles": roles,
        "department": form.get("department"),
        "sites": form.all("sites"),
        "active": form.get("active") == Some("true"),
        "email": form.get("email"),
        "phone": form.get("phone"),
        "language": form.get("language").filter(|l| LANGUAGES.contains(l)).unwrap_or("zh-CN"),
    });
    if !password.is_empty() {
        body["password"] = json!(password);
    }
    Ok(body)
}

pub async fn update_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    ctx.staff()?;
    if !ctx.has_any(ADMINS) {
        return Ok(refusal(&state, &ctx));
    }
    ctx.check_csrf(&form)?;
    let token = ctx.token()?;
    let mut shown = form.to_json();
    shown["id"] = json!(id);
    shown["roles"] = json!(form.all("roles"));
    shown["sites"] = json!(form.all("sites"));
    shown["active"] = json!(form.get("active") == Some("true"));
    let body = match edit_body(&form, ctx.lang) {
        Ok(body) => body,
        Err(errors) => {
            let extra = json!({ "form": shown, "errors": errors });
            return render_user(&state, &ctx, &id, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let path = format!("/api/v1/staff/{}", encode(&id));
    match state.backend.patch::<Value>(Service::Triage, &path, &body, token).await {
        Ok(_) => {
            tracing::info!(staff = %id, "staff account changed");
            Ok(super::see_other(&format!("/admin/staff/{}?done=saved", encode(&id))))
        }
        Err(BackendError::Refused {
            status: status @ (409 | 422 | 400),
            message,
            field,
            ..
        }) => {
            let (field, message) = match (status, field) {
                (409, _) if message.contains("last active administrator") => {
                    ("general".to_owned(), ctx.lang.text("err_last_admin"))
                }
                (409, _) if message.contains("your own account") => {
                    ("general".to_owned(), ctx.lang.text("err_deactivate_self"))
                }
                (_, Some(f)) if STAFF_FIELDS.contains(&f.as_str()) => (f, message),
                _ => ("general".to_owned(), message),
            };
            let extra = json!({ "form": shown, "errors": { field: message } });
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            render_user(&state, &ctx, &id, extra, status).await
        }
        Err(e) if e.is_not_found() => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn create_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    ctx.staff()?;
    if !ctx.has_any(ADMINS) {
        return Ok(refusal(&state, &ctx));
    }
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
        "email": form.get("email"),
        "phone": form.get("phone"),
        "language": form.get("language").filter(|l| LANGUAGES.contains(l)).unwrap_or("zh-CN"),
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
            render(
                &state,
                &ctx,
                &Fields::default(),
                json!({ "created": user["id"] }),
                StatusCode::CREATED,
            )
            .await
        }
        Err(BackendError::Refused {
            status: status @ (409 | 422 | 400),
            message,
            field,
            ..
        }) => {
            let field = field
                .filter(|f| STAFF_FIELDS.contains(&f.as_str()))
                .unwrap_or_else(|| "id".into());
            render(
                &state,
                &ctx,
                &Fields::default(),
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

    fn form(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_edit_form_becomes_the_whole_new_state_and_mistakes_are_said_in_words() {
        let body = edit_body(
            &form(&[
                ("csrf", "x"),
                ("name", " Li Lei "),
                ("roles", "handler"),
                ("roles", "administrator"),
                ("roles", "pope"),
                ("department", ""),
                ("sites", "sh01"),
                ("active", "true"),
                ("password", ""),
            ]),
            Lang::En,
        )
        .unwrap();
        assert_eq!(
            body,
            json!({ "name": "Li Lei", "roles": ["handler", "administrator"], "department": null,
                    "sites": ["sh01"], "active": true, "email": null, "phone": null, "language": "zh-CN" })
        );
        // An unchecked "active" box deactivates; a new password goes along.
        let body = edit_body(
            &form(&[
                ("name", "x"),
                ("roles", "agent"),
                ("password", "0123456789"),
                ("email", "li@example.com"),
                ("phone", "13800000000"),
                ("language", "en"),
            ]),
            Lang::En,
        )
        .unwrap();
        assert_eq!(
            (&body["email"], &body["phone"], &body["language"]),
            (&json!("li@example.com"), &json!("13800000000"), &json!("en"))
        );
        assert_eq!(
            (body["active"].clone(), body["password"].clone()),
            (json!(false), json!("0123456789"))
        );
        let errors = edit_body(&form(&[("name", ""), ("password", "short")]), Lang::ZhCn).unwrap_err();
        assert_eq!(errors["roles"], "请至少选择一个角色。");
        assert_eq!(errors["password"], "密码至少需要 10 个字符。");
        assert_eq!(errors["name"], "请填写此项。");
    }

    #[test]
    fn recorded_changes_read_as_words() {
        let lines = change_lines(
            &json!({ "roles": { "from": ["handler"], "to": ["handler", "administrator"] },
                     "active": { "from": true, "to": false }, "password": "reset",
                     "sites": { "to": [] }, "email": { "from": "set", "to": "changed" },
                     "language": { "from": "zh-CN", "to": "en" } }),
            Lang::En,
        );
        assert_eq!(
            lines,
            vec![
                "Status: Active → Deactivated",
                "Email: set → changed",
                "Language: 中文 → English",
                "Password: reset",
                "Roles: Handler → Handler, Administrator",
                "Sites: All sites"
            ]
        );
    }

    #[test]
    fn only_known_filters_are_passed_on() {
        let q = form(&[
            ("role", "pope"),
            ("site", "xx01"),
            ("active", "true"),
            ("q", " li "),
            ("department", ""),
        ]);
        assert_eq!(
            staff_filters(&q, &["sh01".into()]),
            vec![("active", "true".to_owned()), ("q", "li".to_owned())]
        );
    }

    /// The account page as an administrator (a form, with errors) and as an auditor (read only), both languages.
    #[test]
    fn the_account_page_renders_for_editing_and_reading() {
        let env = crate::startup::templates();
        let account = json!({ "id": "li.lei", "name": "Li Lei", "roles": ["handler"], "department": null,
                              "sites": [], "active": false, "created_at": "2026-11-23T08:00:00Z", "changes": [] });
        for lang in [Lang::ZhCn, Lang::En] {
            let t = crate::i18n::all(lang);
            let base = json!({ "t": t, "lang": lang.tag(), "csrf": "c", "sites": ["sh01"], "roles": ROLES,
                               "account": account, "departments": ["quality"], "action": "/admin/staff/li.lei",
                               "since": "2026-11-23 16:00",
                               "changes": [{ "at": "2026-11-23 16:00", "actor": "admin", "action": "Changed",
                                             "lines": ["Roles: Agent → Handler"] }] });
            let mut edit = base.clone();
            edit["can_edit"] = json!(true);
            edit["form"] = json!({ "name": "Li Lei", "roles": ["handler"], "active": false });
            edit["errors"] = json!({ "general": "last administrator", "roles": "choose one" });
            let html = env.get_template("admin_staff.html").unwrap().render(&edit).unwrap();
            assert!(html.contains("id=\"edit-form\"") && html.contains("last administrator"));
            assert!(html.contains("value=\"handler\" id=\"role-handler\" checked"));
            assert!(!html.contains("id=\"active\" name=\"active\" value=\"true\" checked"));
            let mut read = base.clone();
            read["can_edit"] = json!(false);
            read["errors"] = json!({});
            let html = env.get_template("admin_staff.html").unwrap().render(&read).unwrap();
            assert!(!html.contains("edit-form") && html.contains("id=\"read-only\""));
            assert!(html.contains(&lang.text("role_handler")));
        }
    }

    #[test]
    fn calendars_list_their_dates_with_where_each_is_configured() {
        let site = json!({ "base_calendar": "cn",
                           "holidays": [{ "name": "厂庆 Plant day", "start": "2026-06-01" }],
                           "makeup_days": [{ "date": "2026-06-06" }] });
        let days = special_days(
            &site,
            "services/scheduler/config/default.toml — [calendar.sites.gz01]",
            Lang::ZhCn,
        );
        let national = days.iter().find(|d| d["from"] == "2026-10-01").expect("National Day");
        assert_eq!(
            (&national["to"], &national["name"], &national["kind"]),
            (&json!("2026-10-07"), &json!("国庆节"), &json!("holiday"))
        );
        assert!(national["source"]
            .as_str()
            .unwrap()
            .starts_with("shared/calendar/data/cn-2025-2026.toml"));
        let makeup = days
            .iter()
            .find(|d| d["from"] == "2026-10-10")
            .expect("a make-up working day");
        assert_eq!(makeup["kind"], "makeup");
        let own = days.iter().find(|d| d["from"] == "2026-06-01").unwrap();
        assert_eq!((&own["name"], &own["to"]), (&json!("厂庆"), &Value::Null));
        assert!(own["source"].as_str().unwrap().ends_with("[calendar.sites.gz01]"));
        assert!(days.iter().any(|d| d["from"] == "2026-06-06" && d["kind"] == "makeup"));
        let dates: Vec<&str> = days.iter().map(|d| d["from"].as_str().unwrap()).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "by date");
        // Without a base calendar, only the calendar's own days.
        assert!(special_days(&json!({}), "x", Lang::En).is_empty());
        assert_eq!(day_name("国庆节 National Day", Lang::En), "National Day");
    }

    #[test]
    fn spans_read_as_words() {
        assert_eq!(span_text(&json!({"working_days": 7}), Lang::En), "7 working days");
        assert_eq!(span_text(&json!({"clock_hours": 24}), Lang::ZhCn), "24 小时");
        assert_eq!(span_text(&json!("odd"), Lang::En), "\"odd\"");
    }
}
