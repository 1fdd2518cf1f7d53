//! One case: summary, customer (as triage returns it for the user's role, masked or not), the
//! timeline of everything that happened (reports by channel, workflow history, emails, deadline
//! events), deadlines with the scheduler's explanation, duplicates, claim approval, and a form for
//! each action triage says this user may take now (`allowed_actions`) — nothing else is offered.
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{see_other, work::local};
use crate::{
    backend::{BackendError, Service},
    error::AppError,
    i18n::Lang,
    render::{encode, AppState, Ctx, Fields},
};

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    done: Option<String>,
}

/// A form field of an action: `kind` is `textarea`, `text`, `select` or `datetime`.
fn field(name: &str, kind: &str, options: Vec<(String, String)>) -> Value {
    let options: Vec<Value> = options
        .into_iter()
        .map(|(v, l)| json!({"value": v, "label": l}))
        .collect();
    json!({ "name": name, "kind": kind, "options": options })
}

fn labelled(lang: Lang, prefix: &str, values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| (v.to_string(), lang.text(&format!("{prefix}{v}"))))
        .collect()
}

/// The fields the form of `action` asks for (the body triage's action expects).
pub fn action_fields(action: &str, lang: Lang, clocks: &[String], has_claim: bool) -> Vec<Value> {
    let textarea = |name: &str| field(name, "textarea", vec![]);
    match action {
        "assign" | "reassign" => vec![field("assignee", "text", vec![])],
        "reclassify" => vec![
            field(
                "class",
                "select",
                labelled(lang, "class_", &["general", "important", "complaint"]),
            ),
            field(
                "category",
                "select",
                labelled(
                    lang,
                    "category_",
                    &[
                        "product_quality",
                        "logistics",
                        "commercial",
                        "staff_service",
                        "suggestion",
                        "adverse_event",
                        "consultation",
                    ],
                ),
            ),
            field(
                "severity",
                "select",
                labelled(lang, "severity_", &["general", "important", "major"]),
            ),
            textarea("reason"),
        ],
        "note" | "record_containment" | "reply" | "propose_plan" => vec![textarea("text")],
        "set_validity" => vec![
            field(
                "valid",
                "select",
                vec![
                    ("true".into(), lang.text("valid_yes")),
                    ("false".into(), lang.text("valid_no")),
                ],
            ),
            textarea("reason"),
        ],
        "extend_deadline" => vec![
            field(
                "clock",
                "select",
                clocks.iter().map(|c| (c.clone(), c.clone())).collect(),
            ),
            field("new_due", "datetime", vec![]),
            textarea("reason"),
        ],
        "resolve" => vec![textarea("summary")],
        "close" => {
            let mut outcomes = vec!["resolved", "explained"];
            if has_claim {
                outcomes.push("accepted");
            }
            vec![field("outcome", "select", labelled(lang, "outcome_", &outcomes))]
        }
        "reject" | "reopen" => vec![textarea("reason")],
        "merge" => vec![field("into_case", "text", vec![])],
        _ => vec![],
    }
}

/// The JSON body of `action` from its submitted form.
pub fn action_body(action: &str, form: &Fields, tz: chrono_tz::Tz) -> Result<Value, String> {
    let mut body = serde_json::Map::new();
    for spec in action_fields(action, Lang::En, &[], true) {
        let name = spec["name"].as_str().unwrap_or_default();
        let value = form.get(name).ok_or_else(|| format!("{name}: please fill this in"))?;
        let value = match name {
            "valid" => json!(value == "true"),
            "new_due" => {
                let local = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
                    .map_err(|_| format!("{name}: not a date and time"))?;
                let at = tz
                    .from_local_datetime(&local)
                    .earliest()
                    .ok_or_else(|| format!("{name}: not a time that exists"))?;
                json!(at.with_timezone(&Utc).to_rfc3339())
            }
            _ => json!(value),
        };
        body.insert(name.to_owned(), value);
    }
    Ok(Value::Object(body))
}

fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()?.parse().ok()
}

/// Everything that happened, oldest first: (time, kind, title, text).
fn timeline(state: &AppState, lang: Lang, case: &Value, notifications: &[Value], deadlines: &[Value]) -> Vec<Value> {
    let mut events: Vec<(DateTime<Utc>, Value)> = Vec::new();
    for r in case["reports"].as_array().into_iter().flatten() {
        if let Some(at) = parse_time(&r["received_at"]) {
            let channel = r["channel"].as_str().unwrap_or("");
            events.push((at, json!({ "kind": "report", "title": format!("{} · {}", lang.text(&format!("channel_{channel}")), r["reference"].as_str().unwrap_or("")), "text": r["reason"] })));
        }
    }
    for h in case["history"].as_array().into_iter().flatten() {
        if let Some(at) = parse_time(&h["at"]) {
            let action = h["action"].as_str().unwrap_or("");
            let detail = ["text", "summary", "reason", "outcome", "assignee", "clock"]
                .iter()
                .filter_map(|k| h["detail"][*k].as_str())
                .collect::<Vec<_>>()
                .join(" · ");
            let status_change = h["changes"]["status"].as_array().filter(|s| s.len() == 2).map(|s| {
                format!(
                    "{} → {}",
                    lang.text(&format!("status_{}", s[0].as_str().unwrap_or(""))),
                    lang.text(&format!("status_{}", s[1].as_str().unwrap_or("")))
                )
            });
            events.push((
                at,
                json!({ "kind": "action", "title": lang.text(&format!("action_{action}")), "actor": h["actor"],
                                      "text": detail, "change": status_change }),
            ));
        }
    }
    for n in notifications {
        if let Some(at) = parse_time(&n["sent_at"]).or_else(|| parse_time(&n["created_at"])) {
            events.push((at, json!({ "kind": "email", "title": format!("{} · {}", lang.text("email_sent"), n["template"].as_str().unwrap_or("")),
                                      "text": format!("{} ({})", n["recipient_masked"].as_str().unwrap_or(""), n["status"].as_str().unwrap_or("")) })));
        }
    }
    for d in deadlines {
        for f in d["fired"].as_array().into_iter().flatten() {
            if let Some(at) = parse_time(&f["fired_at"]).or_else(|| parse_time(&f["at"])) {
                let kind = f["kind"].as_str().unwrap_or("");
                let level = f["level"].as_u64().map(|l| format!(" {l}")).unwrap_or_default();
                events.push((at, json!({ "kind": "deadline", "title": format!("{} · {}", lang.text("deadline_event"), d["clock"].as_str().unwrap_or("")),
                                          "text": format!("{kind}{level}") })));
            }
        }
    }
    events.sort_by_key(|(at, _)| *at);
    events
        .into_iter()
        .map(|(at, mut e)| {
            e["at"] = json!(local(state, &at));
            e
        })
        .collect()
}

/// The case page; `problem` is an error to show above it (a refused action), with its status.
pub async fn render_case(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    done: Option<&str>,
    problem: Option<(StatusCode, String)>,
) -> Result<Response, AppError> {
    let (user, token) = ctx.staff()?;
    let path = format!("/api/v1/cases/{}", encode(id));
    let case: Value = match state.backend.get(Service::Triage, &path, &[], token).await {
        Ok(c) => c,
        // Registered but not triaged yet: say so rather than "not found".
        Err(e) if e.is_not_found() => {
            let html = state.render(ctx, "case.html", json!({ "pending": id }))?;
            return Ok((StatusCode::NOT_FOUND, html).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let case_id = case["id"].as_str().unwrap_or_default().to_owned();
    let deadlines_path = format!("/api/v1/cases/{case_id}/deadlines");
    let notifications_query = [("case", case_id.clone())];
    let (deadlines, notifications) = futures::join!(
        state
            .backend
            .get::<Vec<Value>>(Service::Scheduler, &deadlines_path, &[], token),
        state.backend.get::<Vec<Value>>(
            Service::Notification,
            "/api/v1/notifications",
            &notifications_query,
            token
        ),
    );
    let mut warnings = Vec::new();
    let deadlines = match deadlines {
        Ok(d) => d,
        Err(e) if e.is_not_found() => vec![],
        Err(_) => {
            warnings.push(ctx.lang.text("deadlines_unavailable"));
            vec![]
        }
    };
    let notifications = notifications.unwrap_or_else(|_| {
        warnings.push(ctx.lang.text("notifications_unavailable"));
        vec![]
    });
    let lang = ctx.lang;
    let clocks: Vec<String> = deadlines
        .iter()
        .filter(|d| {
            matches!(
                d["state"]["kind"].as_str(),
                Some("running" | "warned" | "breached" | "paused")
            )
        })
        .filter_map(|d| d["clock"].as_str().map(str::to_owned))
        .collect();
    let has_claim = case["claim"].is_object();
    let actions: Vec<Value> = case["allowed_actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        // No clock to extend: the form would have nothing to choose.
        .filter(|a| *a != "extend_deadline" || !clocks.is_empty())
        .map(|a| json!({ "name": a, "fields": action_fields(a, lang, &clocks, has_claim) }))
        .collect();
    let deadline_rows: Vec<Value> = deadlines
        .iter()
        .map(|d| {
            json!({ "clock": d["clock"], "due": parse_time(&d["due"]).map(|t| local(state, &t)),
                    "state": d["state"]["kind"], "summary": d["summary"], "level": d["escalation_level"] })
        })
        .collect();
    let claim = claim_view(&case["claim"], user);
    let times = json!({
        "received": parse_time(&case["received_at"]).map(|t| local(state, &t)),
        "opened": parse_time(&case["opened_at"]).map(|t| local(state, &t)),
    });
    let html = state.render(
        ctx,
        "case.html",
        json!({
            "nav": "work", "case": case, "times": times, "actions": actions, "deadlines": deadline_rows,
            "timeline": timeline(state, lang, &case, &notifications, &deadlines), "claim": claim,
            "warnings": warnings, "done": done, "problem": problem.as_ref().map(|(_, m)| m),
            "rejection_reasons": ["past_shelf_life", "not_our_product", "met_contract"],
        }),
    )?;
    let status = problem.map(|(s, _)| s).unwrap_or(StatusCode::OK);
    Ok((status, html).into_response())
}

/// The claim with what this user may do: approve only with a required role still missing and not
/// yet approved by them; reject only as a holder of a required role.
pub fn claim_view(claim: &Value, user: &auth::Claims) -> Value {
    if !claim.is_object() {
        return Value::Null;
    }
    let required: Vec<auth::Role> = serde_json::from_value(claim["required"].clone()).unwrap_or_default();
    let approvals = claim["approvals"].as_array().cloned().unwrap_or_default();
    let approved_roles: Vec<auth::Role> = approvals
        .iter()
        .filter_map(|a| serde_json::from_value(a["role"].clone()).ok())
        .collect();
    let rejected = !claim["rejection"].is_null();
    let already = approvals
        .iter()
        .any(|a| a["approver"].as_str() == Some(user.sub.as_str()));
    let holds_missing = required
        .iter()
        .any(|r| !approved_roles.contains(r) && user.roles.contains(r));
    let holds_required = required.iter().any(|r| user.roles.contains(r));
    json!({
        "amount": claim["amount"], "currency": claim["currency"], "return_quantity": claim["return_quantity"],
        "required": required, "approvals": approvals, "rejection": claim["rejection"],
        "can_approve": !rejected && !already && holds_missing,
        "can_reject": !rejected && holds_required,
    })
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, AppError> {
    render_case(&state, &ctx, &id, q.done.as_deref(), None).await
}

/// A refused action is shown on the case page itself (what went wrong, the forms still there).
async fn after(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    action: &str,
    result: Result<Value, BackendError>,
) -> Result<Response, AppError> {
    match result {
        Ok(case) => {
            let reference = case["reference"].as_str().unwrap_or(id);
            Ok(see_other(&format!(
                "/cases/{}?done={}",
                encode(reference),
                encode(action)
            )))
        }
        Err(
            e @ BackendError::Refused {
                status: 403 | 409 | 422 | 400,
                ..
            },
        ) => {
            let view = AppError::Backend(e).view().expect("a refusal has a view");
            let message = match &view.detail {
                Some(d) => format!("{} {}", ctx.lang.text(view.message_key), d),
                None => ctx.lang.text(view.message_key),
            };
            render_case(state, ctx, id, None, Some((view.status, message))).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let mut body = match action_body(&action, &form, state.tz) {
        Ok(b) => b,
        Err(why) => {
            let message = format!("{} {why}", ctx.lang.text("err_invalid"));
            return render_case(
                &state,
                &ctx,
                &id,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, message)),
            )
            .await;
        }
    };
    // Merging names the other case by reference; triage wants its id.
    if let Some(into) = body.get("into_case").and_then(Value::as_str).map(str::to_owned) {
        let other: Result<Value, BackendError> = state
            .backend
            .get(Service::Triage, &format!("/api/v1/cases/{}", encode(&into)), &[], token)
            .await;
        match other {
            Ok(o) => body["into_case"] = o["id"].clone(),
            Err(e) => return after(&state, &ctx, &id, &action, Err(e)).await,
        }
    }
    let path = format!("/api/v1/cases/{}/{}", encode(&id), encode(&action));
    let result = state.backend.post(Service::Triage, &path, &body, Some(token)).await;
    after(&state, &ctx, &id, &action, result).await
}

/// Schedules a revisit of the case by hand (triage's `POST /api/v1/revisits`), due now unless given.
pub async fn schedule_revisit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let mut body = json!({ "reference": id });
    if let Some(note) = form.get("note") {
        body["note"] = json!(note);
    }
    let result = state
        .backend
        .post::<Value>(Service::Triage, "/api/v1/revisits", &body, Some(token))
        .await
        .map(|revisit| json!({ "reference": revisit["case_reference"].as_str().unwrap_or(&id) }));
    after(&state, &ctx, &id, "revisit_scheduled", result).await
}

/// `decision` is `approve` or `reject`.
pub async fn claim(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let body = match decision.as_str() {
        "approve" => json!({}),
        "reject" => json!({ "reason": form.get("reason").unwrap_or_default() }),
        _ => return Err(AppError::NotFound),
    };
    let path = format!("/api/v1/cases/{}/claim/{decision}", encode(&id));
    let result = state.backend.post(Service::Triage, &path, &body, Some(token)).await;
    after(&state, &ctx, &id, &format!("claim_{decision}"), result).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth::Role;

    fn user(sub: &str, roles: Vec<Role>) -> auth::Claims {
        auth::Claims {
            sub: sub.into(),
            name: sub.into(),
            roles,
            department: None,
            sites: vec![],
            exp: 0,
            iat: 0,
            jti: String::new(),
        }
    }

    #[test]
    fn only_holders_of_a_missing_required_role_may_approve() {
        let claim = json!({"amount": "1500.00", "currency": "CNY", "required": ["marketing_manager"], "approvals": [], "rejection": null});
        assert_eq!(
            claim_view(&claim, &user("mm", vec![Role::MarketingManager]))["can_approve"],
            true
        );
        assert_eq!(
            claim_view(&claim, &user("h", vec![Role::Handler]))["can_approve"],
            false
        );
        assert_eq!(
            claim_view(&claim, &user("a", vec![Role::Administrator]))["can_approve"],
            false
        );
        let approved = json!({"required": ["marketing_manager"], "approvals": [{"role": "marketing_manager", "approver": "mm"}], "rejection": null});
        assert_eq!(
            claim_view(&approved, &user("mm2", vec![Role::MarketingManager]))["can_approve"],
            false
        );
        assert_eq!(claim_view(&Value::Null, &user("mm", vec![])), Value::Null);
    }

    #[test]
    fn action_forms_become_the_bodies_triage_expects() {
        let f = Fields(vec![
            ("valid".into(), "false".into()),
            ("reason".into(), "misread the label".into()),
        ]);
        assert_eq!(
            action_body("set_validity", &f, chrono_tz::Asia::Shanghai).unwrap(),
            json!({"valid": false, "reason": "misread the label"})
        );
        let f = Fields(vec![
            ("clock".into(), "reply".into()),
            ("new_due".into(), "2026-11-30T17:00".into()),
            ("reason".into(), "lab".into()),
        ]);
        assert_eq!(
            action_body("extend_deadline", &f, chrono_tz::Asia::Shanghai).unwrap()["new_due"],
            "2026-11-30T09:00:00+00:00"
        );
        assert_eq!(
            action_body("acknowledge", &Fields::default(), chrono_tz::UTC).unwrap(),
            json!({})
        );
        assert!(action_body("note", &Fields::default(), chrono_tz::UTC)
            .unwrap_err()
            .starts_with("text"));
    }
}
