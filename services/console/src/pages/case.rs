//! One case: summary, customer (as triage returns it for the user's role, masked or not), the
//! timeline of everything that happened (reports by channel, workflow history, emails, deadline
//! events), deadlines explained in the user's language, the reports of the same problem (split one
//! out, or merge the case into another), claim approval, the quality documents (8D, regulator report,
//! CAPA), a revisit by hand, and a form for each action triage says this user may take now
//! (`allowed_actions`) — nothing else is offered.
use auth::Role;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    deadlines::{self, clock_name},
    labels::{known, label, local_in, say},
    see_other,
    timeline::{action_label, link_reason, timeline},
};
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

/// Who approves a regulator report and who marks it submitted: triage's default
/// `[quality.regulator] approver_roles` / `editor_roles` (triage decides; these only avoid offering a
/// button that would answer "not allowed").
const REGULATOR_APPROVERS: &[Role] = &[Role::GeneralManager];
const REGULATOR_EDITORS: &[Role] = &[Role::ManagementRepresentative, Role::QualityEngineer];

/// The category 8D reports are written for (triage's default `[quality.eight_d] categories`); a
/// case of another category that has a report shows it too.
const EIGHT_D_CATEGORY: &str = "product_quality";
const REGULATOR_CATEGORY: &str = "adverse_event";

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

/// The fields the form of `action` asks for (the body triage's action expects; `merge` also asks
/// for the reason, which is kept as a note before the merge).
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
                clocks.iter().map(|c| (c.clone(), clock_name(lang, c))).collect(),
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
        "merge" => vec![field("into_case", "text", vec![]), textarea("reason")],
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

/// A refusal of triage in words: the known refusals by their code, others as "not allowed / not now
/// / not acceptable" with triage's explanation. `None` for what is not a refusal (a service down).
pub fn refusal_text(lang: Lang, e: &BackendError) -> Option<(StatusCode, String)> {
    let BackendError::Refused { status, code, .. } = e else {
        return None;
    };
    if !matches!(status, 400 | 403 | 404 | 409 | 422) {
        return None;
    }
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let own = match code.as_str() {
        "stale_version" => Some("ed_stale"),
        "eight_d_incomplete" => Some("ed_incomplete"),
        "eight_d_closed" => Some("ed_closed_refused"),
        "action_not_done" => Some("ed_not_done_refused"),
        "not_applicable" => Some("ed_not_applicable"),
        "no_eight_d" => Some("ed_nothing_to_send"),
        "do_not_call" => Some("revisit_do_not_call"),
        _ => None,
    };
    if let Some(key) = own {
        return Some((status, lang.text(key)));
    }
    let view = AppError::Backend(BackendError::Refused {
        service: Service::Triage,
        status: status.as_u16(),
        code: code.clone(),
        message: match e {
            BackendError::Refused { message, .. } => message.clone(),
            _ => String::new(),
        },
        field: match e {
            BackendError::Refused { field, .. } => field.clone(),
            _ => None,
        },
    })
    .view()?;
    let message = match &view.detail {
        Some(d) => format!("{} {}", lang.text(view.message_key), d),
        None => lang.text(view.message_key),
    };
    Some((view.status, message))
}

/// What the confirmation after a change says; `None` for a code this page did not send.
pub fn done_message(lang: Lang, done: &str) -> Option<String> {
    match done {
        "revisit_scheduled" => Some(lang.text("revisit_scheduled_ok")),
        "split_opened" => Some(lang.text("case_split_opened")),
        d if known(lang, "action_", d) => Some(format!("{} {}", lang.text("done_action"), action_label(lang, d))),
        _ => None,
    }
}

/// `SH01-20261122-0042` (or a revisit's linked case `…-R1`) of a known site, dated no later than
/// tomorrow: what a reference can look like at all.
pub fn looks_like_reference(reference: &str, sites: &[String]) -> bool {
    let mut parts = reference.split('-');
    let (Some(site), Some(day), Some(number)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let revisit = match parts.next() {
        None => true,
        Some(r) => r
            .strip_prefix('R')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())),
    };
    let date = NaiveDate::parse_from_str(day, "%Y%m%d").ok();
    let tomorrow = (Utc::now() + chrono::Duration::days(1)).date_naive();
    revisit
        && parts.next().is_none()
        && sites.iter().any(|s| s.eq_ignore_ascii_case(site))
        && date.is_some_and(|d| d <= tomorrow)
        && number.len() >= 4
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Triage has no case for `id`. Only feedback the register is known to hold (notification already
/// acknowledged it to the customer) is "not triaged yet"; anything else is plainly no such case.
async fn no_such_case(state: &AppState, ctx: &Ctx, id: &str, token: &str) -> Result<Response, AppError> {
    let reference = id.trim().to_ascii_uppercase();
    let registered = looks_like_reference(&reference, &state.settings.sites.known)
        && state
            .backend
            .get::<Vec<Value>>(
                Service::Notification,
                "/api/v1/notifications",
                &[("reference", reference.clone())],
                token,
            )
            .await
            .is_ok_and(|d| !d.is_empty());
    let context = if registered {
        json!({ "nav": "work", "pending": reference })
    } else {
        json!({ "nav": "work", "unknown": id, "search": encode(id.trim()) })
    };
    let html = state.render(ctx, "case.html", context)?;
    Ok((StatusCode::NOT_FOUND, html).into_response())
}

/// The configured claim rejection reasons (`GET /api/v1/rules`) as (code, label in `lang`). Triage
/// lets only administrators and auditors read its rules today; for anyone else the reasons of the
/// shipped configuration are offered, and triage still refuses a code it does not know.
async fn rejection_reasons(state: &AppState, lang: Lang, token: &str) -> Vec<(String, String)> {
    let rules = state
        .backend
        .get::<Value>(Service::Triage, "/api/v1/rules", &[], token)
        .await;
    let configured: Vec<(String, String)> = rules
        .ok()
        .and_then(|r| r["claims"]["rejection_reasons"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let code = r["code"].as_str()?.to_owned();
            let text = match lang {
                Lang::ZhCn => r["zh_cn"].as_str(),
                Lang::En => r["en"].as_str(),
            };
            Some((
                code.clone(),
                text.map(str::to_owned).unwrap_or_else(|| label(lang, "reason_", &code)),
            ))
        })
        .collect();
    if !configured.is_empty() {
        return configured;
    }
    ["past_shelf_life", "not_our_product", "met_contract"]
        .iter()
        .map(|c| (c.to_string(), label(lang, "reason_", c)))
        .collect()
}

/// The claim with what this user may do: approve only with a required role still missing and not
/// yet approved by them; reject only as a holder of a required role.
pub fn claim_view(claim: &Value, user: &auth::Claims) -> Value {
    if !claim.is_object() {
        return Value::Null;
    }
    let required: Vec<Role> = serde_json::from_value(claim["required"].clone()).unwrap_or_default();
    let approvals = claim["approvals"].as_array().cloned().unwrap_or_default();
    let approved_roles: Vec<Role> = approvals
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

/// Whether a revisit may be scheduled by hand, as triage would decide it from what the page knows:
/// `Ok(true)` offer it, `Ok(false)` say nothing (the user does not record revisits), `Err(key)` say why
/// not (anonymous feedback, another site). Customers who declined revisits are only known to triage.
pub fn revisit_offer(case: &Value, user: &auth::Claims, records_revisits: bool) -> Result<bool, &'static str> {
    if !records_revisits {
        return Ok(false);
    }
    let c = &case["customer"];
    let has = |k: &str| c[k].as_str().is_some_and(|v| !v.trim().is_empty());
    if c["anonymous"].as_bool().unwrap_or(false) || !(has("phone") || has("email")) {
        return Err("revisit_anonymous");
    }
    let site = case["site"].as_str().unwrap_or("");
    if !user.sites.is_empty() && !user.sites.iter().any(|s| s == site) {
        return Err("revisit_other_site");
    }
    Ok(true)
}

/// The regulator report of an adverse event with what this user may do.
fn regulator_view(lang: Lang, tz: chrono_tz::Tz, view: &Value, user: &auth::Claims) -> Value {
    let report = &view["report"];
    let status = report["status"].as_str().unwrap_or("draft");
    let missing: Vec<String> = view["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|f| label(lang, "reg_field_", f))
        .collect();
    let stamp = |s: &Value| {
        s.is_object().then(|| {
            let at = s["at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t));
            format!("{} · {}", s["by"].as_str().unwrap_or(""), at.unwrap_or_default())
        })
    };
    json!({
        "status": status, "status_label": label(lang, "reg_status_", status), "saved": view["version"].as_i64().unwrap_or(0) > 0,
        "authority": report["authority"], "missing": missing,
        "approved": stamp(&report["approved"]), "submitted": stamp(&report["submitted"]),
        "submission_reference": report["submission_reference"],
        "can_approve": status == "draft" && missing.is_empty() && user.has_any(REGULATOR_APPROVERS),
        "can_submit": status == "approved" && user.has_any(REGULATOR_EDITORS),
    })
}

/// The 8D report and CAPA records at a glance.
fn quality_view(lang: Lang, case: &Value) -> Value {
    let q = &case["quality"];
    let eight_d = &q["eight_d"];
    let applies = case["category"] == EIGHT_D_CATEGORY || eight_d.is_object();
    let eight_d_state = if !eight_d.is_object() {
        lang.text("ed_state_none")
    } else if eight_d["closed"].as_bool().unwrap_or(false) {
        lang.text("ed_state_closed")
    } else {
        let n = eight_d["missing"].as_array().map(Vec::len).unwrap_or(0);
        say(lang, "ed_state_open", &[("n", &n.to_string())])
    };
    let capa: Vec<Value> = q["capa"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({ "number": c["number"], "title": c["title"],
                    "status": label(lang, "capa_status_", c["status"].as_str().unwrap_or("")) })
        })
        .collect();
    json!({ "eight_d": applies.then(|| json!({ "state": eight_d_state })), "capa": capa })
}

/// The reports of this problem: the first and those linked to it, with why, and which may be split out.
fn reports_view(lang: Lang, tz: chrono_tz::Tz, case: &Value) -> Vec<Value> {
    case["reports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let at = r["received_at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t));
            json!({ "reference": r["reference"], "channel": label(lang, "channel_", r["channel"].as_str().unwrap_or("")),
                    "received": at, "reason": link_reason(lang, r["reason"].as_str().unwrap_or("")),
                    "first": r["first"], "can_split": r["can_split"] })
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
        Err(e) if e.is_not_found() => return no_such_case(state, ctx, id, token).await,
        Err(e) => return Err(e.into()),
    };
    let lang = ctx.lang;
    let case_id = case["id"].as_str().unwrap_or_default().to_owned();
    let deadlines_path = format!("/api/v1/cases/{case_id}/deadlines");
    let regulator_path = format!("/api/v1/cases/{case_id}/regulator-report");
    let notifications_query = [("case", case_id.clone())];
    // The reasons are needed to offer a rejection or to name the one given.
    let claim = claim_view(&case["claim"], user);
    let needs_reasons = claim["can_reject"] == true || claim["rejection"].is_string();
    let adverse = case["category"] == REGULATOR_CATEGORY || case["quality"]["regulator_report"].is_object();
    let (deadlines, notifications, regulator, reasons) = futures::join!(
        state
            .backend
            .get::<Vec<Value>>(Service::Scheduler, &deadlines_path, &[], token),
        state.backend.get::<Vec<Value>>(
            Service::Notification,
            "/api/v1/notifications",
            &notifications_query,
            token
        ),
        async {
            if adverse {
                Some(
                    state
                        .backend
                        .get::<Value>(Service::Triage, &regulator_path, &[], token)
                        .await,
                )
            } else {
                None
            }
        },
        async {
            if needs_reasons {
                rejection_reasons(state, lang, token).await
            } else {
                vec![]
            }
        },
    );
    let records_revisits =
        ctx.has_any(&state.settings.console.revisit_roles) && !user.roles.iter().all(|r| *r == Role::Auditor);
    let fetched = Fetched {
        case,
        deadlines,
        notifications,
        regulator,
        reasons,
    };
    let message = problem.as_ref().map(|(_, m)| m.as_str());
    let context = case_context(lang, state.tz, user, records_revisits, fetched, done, message);
    let html = state.render(ctx, "case.html", context)?;
    let status = problem.map(|(s, _)| s).unwrap_or(StatusCode::OK);
    Ok((status, html).into_response())
}

/// What the case page got from the services.
pub struct Fetched {
    pub case: Value,
    /// The scheduler's explanation of every clock.
    pub deadlines: Result<Vec<Value>, BackendError>,
    /// Notification's delivery log of the case.
    pub notifications: Result<Vec<Value>, BackendError>,
    /// The regulator report, for an adverse event.
    pub regulator: Option<Result<Value, BackendError>>,
    /// The claim rejection reasons, for a case with a claim.
    pub reasons: Vec<(String, String)>,
}

/// Everything the case page shows, for this user, in `lang`.
pub fn case_context(
    lang: Lang,
    tz: chrono_tz::Tz,
    user: &auth::Claims,
    records_revisits: bool,
    fetched: Fetched,
    done: Option<&str>,
    problem: Option<&str>,
) -> Value {
    let Fetched {
        case,
        deadlines,
        notifications,
        regulator,
        reasons,
    } = fetched;
    let has_claim = case["claim"].is_object();
    let mut warnings = Vec::new();
    let triage_clocks = case["deadlines"].as_array().cloned().unwrap_or_default();
    let (deadlines, deadline_rows) = match deadlines {
        Ok(d) => {
            let rows = deadlines::rows(lang, &d, tz);
            (d, rows)
        }
        Err(e) if e.is_not_found() => (vec![], deadlines::rows_from_case(lang, &triage_clocks, tz)),
        Err(_) => {
            warnings.push(lang.text("deadlines_unavailable"));
            (vec![], deadlines::rows_from_case(lang, &triage_clocks, tz))
        }
    };
    let notifications = notifications.unwrap_or_else(|_| {
        warnings.push(lang.text("notifications_unavailable"));
        vec![]
    });
    let counting = |state: &str| matches!(state, "running" | "warned" | "breached" | "paused");
    let mut clocks: Vec<String> = deadline_rows
        .iter()
        .filter(|d| counting(d["state"].as_str().unwrap_or("")))
        .filter_map(|d| d["clock"].as_str().map(str::to_owned))
        .collect();
    clocks.dedup();
    let actions: Vec<Value> = case["allowed_actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        // No clock to extend: the form would have nothing to choose.
        .filter(|a| *a != "extend_deadline" || !clocks.is_empty())
        .map(|a| json!({ "name": a, "label": action_label(lang, a), "fields": action_fields(a, lang, &clocks, has_claim) }))
        .collect();
    let reason_label = |code: &str| {
        reasons
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| label(lang, "reason_", code))
    };
    let mut claim = claim_view(&case["claim"], user);
    if let Some(code) = claim["rejection"].as_str() {
        claim["rejection_label"] = json!(reason_label(code));
    }
    let revisit = match revisit_offer(&case, user, records_revisits) {
        Ok(offered) => json!({ "offered": offered }),
        Err(why) => json!({ "offered": false, "why": lang.text(why) }),
    };
    let regulator = match regulator {
        Some(Ok(view)) => regulator_view(lang, tz, &view, user),
        Some(Err(e)) if e.status().is_some() => Value::Null,
        Some(Err(_)) => {
            warnings.push(lang.text("regulator_unavailable"));
            Value::Null
        }
        None => Value::Null,
    };
    let times = json!({
        "received": case["received_at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t)),
        "opened": case["opened_at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t)),
    });
    let department = case["department"].as_str().unwrap_or("");
    json!({
            "nav": "work", "case": case, "times": times, "actions": actions, "deadlines": deadline_rows,
            "department": label(lang, "dept_", department),
            "timeline": timeline(lang, tz, &case, &notifications, &deadlines, &reason_label), "claim": claim,
            "warnings": warnings, "done": done.and_then(|d| done_message(lang, d)), "problem": problem,
            "rejection_reasons": reasons.iter().map(|(c, l)| json!({ "code": c, "label": l })).collect::<Vec<_>>(),
            "reports": reports_view(lang, tz, &case), "quality": quality_view(lang, &case),
            "regulator": regulator, "revisit": revisit,
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
    done: &str,
    result: Result<Value, BackendError>,
) -> Result<Response, AppError> {
    match result {
        Ok(case) => {
            let reference = case["reference"].as_str().unwrap_or(id);
            Ok(see_other(&format!(
                "/cases/{}?done={}",
                encode(reference),
                encode(done)
            )))
        }
        Err(e) => match refusal_text(ctx.lang, &e) {
            Some(problem) => render_case(state, ctx, id, None, Some(problem)).await,
            None => Err(e.into()),
        },
    }
}

async fn invalid(state: &AppState, ctx: &Ctx, id: &str, why: String) -> Result<Response, AppError> {
    let message = format!("{} {why}", ctx.lang.text("err_invalid"));
    render_case(state, ctx, id, None, Some((StatusCode::UNPROCESSABLE_ENTITY, message))).await
}

pub async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let body = match action_body(&action, &form, state.tz) {
        Ok(b) => b,
        Err(why) => return invalid(&state, &ctx, &id, why).await,
    };
    if action == "merge" {
        return merge(&state, &ctx, &id, token, &body).await;
    }
    let path = format!("/api/v1/cases/{}/{}", encode(&id), encode(&action));
    let result = state.backend.post(Service::Triage, &path, &body, Some(token)).await;
    after(&state, &ctx, &id, &action, result).await
}

/// Merging names the other case by reference (triage wants its id) and a reason; the merge itself
/// carries no reason, so the reason is recorded as a note first (a merged case takes no more notes).
async fn merge(state: &AppState, ctx: &Ctx, id: &str, token: &str, body: &Value) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let into = body["into_case"].as_str().unwrap_or("").trim().to_owned();
    let reason = body["reason"].as_str().unwrap_or("").trim().to_owned();
    let (this_path, other_path) = (
        format!("/api/v1/cases/{}", encode(id)),
        format!("/api/v1/cases/{}", encode(&into)),
    );
    let (this, other) = futures::join!(
        state.backend.get::<Value>(Service::Triage, &this_path, &[], token),
        state.backend.get::<Value>(Service::Triage, &other_path, &[], token),
    );
    let this = this?;
    let other = match other {
        Ok(o) => o,
        Err(e) if e.is_not_found() => {
            let problem = say(lang, "merge_no_such_case", &[("case", &into)]);
            return render_case(state, ctx, id, None, Some((StatusCode::UNPROCESSABLE_ENTITY, problem))).await;
        }
        Err(e) => return after(state, ctx, id, "merge", Err(e)).await,
    };
    if other["id"] == this["id"] {
        let problem = lang.text("merge_into_itself");
        return render_case(state, ctx, id, None, Some((StatusCode::UNPROCESSABLE_ENTITY, problem))).await;
    }
    let target = other["reference"].as_str().unwrap_or(&into).to_owned();
    // Triage merges only into an open case; checked before the reason is noted, so a refusal leaves no note.
    if matches!(other["status"].as_str(), Some("closed" | "rejected")) {
        let problem = say(lang, "merge_target_closed", &[("case", &target)]);
        return render_case(state, ctx, id, None, Some((StatusCode::CONFLICT, problem))).await;
    }
    let note = json!({ "text": say(lang, "merge_note", &[("case", &target), ("reason", &reason)]) });
    let noted = state
        .backend
        .post::<Value>(
            Service::Triage,
            &format!("/api/v1/cases/{}/note", encode(id)),
            &note,
            Some(token),
        )
        .await;
    if let Err(e) = noted {
        return after(state, ctx, id, "merge", Err(e)).await;
    }
    let path = format!("/api/v1/cases/{}/merge", encode(id));
    let result = state
        .backend
        .post::<Value>(
            Service::Triage,
            &path,
            &json!({ "into_case": other["id"] }),
            Some(token),
        )
        .await
        // The merged case's reports now belong to the target, which is where the work goes on (and its
        // reference alone is unambiguous: the merged case's own reference also names a report of the target).
        .map(|_| json!({ "reference": target }));
    after(state, ctx, id, "merge", result).await
}

/// Splits a report that was wrongly linked to this case out into a case of its own, and opens it.
pub async fn split(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let (Some(report), Some(reason)) = (form.get("report"), form.get("reason")) else {
        return invalid(&state, &ctx, &id, ctx.lang.text("split_reason_needed")).await;
    };
    let body = json!({ "report": report, "reason": reason });
    let path = format!("/api/v1/cases/{}/split", encode(&id));
    let result = state
        .backend
        .post::<Value>(Service::Triage, &path, &body, Some(token))
        .await
        .map(|outcome| outcome["case"].clone());
    after(&state, &ctx, &id, "split_opened", result).await
}

/// Schedules a revisit of the case by hand (triage's `POST /api/v1/revisits`), due now.
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
    let (body, done) = match decision.as_str() {
        "approve" => (json!({}), "claim_approved"),
        "reject" => (
            json!({ "reason": form.get("reason").unwrap_or_default() }),
            "claim_rejected",
        ),
        _ => return Err(AppError::NotFound),
    };
    let path = format!("/api/v1/cases/{}/claim/{decision}", encode(&id));
    let result = state.backend.post(Service::Triage, &path, &body, Some(token)).await;
    after(&state, &ctx, &id, done, result).await
}

/// The regulator report: `approve` (the general manager) or `submit` with the authority's reference.
pub async fn regulator(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, step)): Path<(String, String)>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let (body, done) = match step.as_str() {
        "approve" => (json!({}), "regulator_report_approved"),
        "submit" => match form.get("submission_reference") {
            Some(r) => (json!({ "submission_reference": r }), "regulator_report_submitted"),
            None => return invalid(&state, &ctx, &id, ctx.lang.text("reg_reference_needed")).await,
        },
        _ => return Err(AppError::NotFound),
    };
    let path = format!("/api/v1/cases/{}/regulator-report/{step}", encode(&id));
    let result = state
        .backend
        .post::<Value>(Service::Triage, &path, &body, Some(token))
        .await
        .map(|view| json!({ "reference": view["reference"] }));
    after(&state, &ctx, &id, done, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Two tiers: the general manager still approves after the marketing manager, once.
        let two = json!({"required": ["marketing_manager", "general_manager"],
                         "approvals": [{"role": "marketing_manager", "approver": "mm"}], "rejection": null});
        assert_eq!(
            claim_view(&two, &user("gm", vec![Role::GeneralManager]))["can_approve"],
            true
        );
        let rejected = json!({"required": ["marketing_manager"], "approvals": [], "rejection": "met_contract"});
        let v = claim_view(&rejected, &user("mm", vec![Role::MarketingManager]));
        assert_eq!(
            (v["can_approve"].as_bool(), v["can_reject"].as_bool()),
            (Some(false), Some(false))
        );
        assert_eq!(claim_view(&Value::Null, &user("mm", vec![])), Value::Null);
    }

    #[test]
    fn confirmations_are_words_for_every_change_this_page_makes() {
        for done in [
            "claim_approved",
            "claim_rejected",
            "note",
            "merge",
            "revisit_scheduled",
            "split_opened",
            "regulator_report_approved",
        ] {
            for lang in [Lang::ZhCn, Lang::En] {
                let text = done_message(lang, done).unwrap_or_else(|| panic!("{done}"));
                assert!(!text.contains('_'), "{done}: {text}");
            }
        }
        assert_eq!(
            done_message(Lang::En, "claim_approved").unwrap(),
            format!(
                "{} {}",
                Lang::En.text("done_action"),
                Lang::En.text("action_claim_approved")
            )
        );
        assert_eq!(
            done_message(Lang::En, "claim_approve"),
            None,
            "an unknown code is not echoed"
        );
    }

    #[test]
    fn only_reference_shapes_of_known_sites_can_be_waiting_for_triage() {
        let sites = vec!["sh01".to_owned(), "bj01".to_owned()];
        assert!(looks_like_reference("SH01-20261122-0042", &sites));
        assert!(looks_like_reference("BJ01-20261122-0042-R1", &sites));
        assert!(!looks_like_reference("SH01-20261122-42", &sites), "too short a number");
        assert!(!looks_like_reference("XX01-20261122-0042", &sites), "unknown site");
        assert!(!looks_like_reference("SH01-20261322-0042", &sites), "no such date");
        assert!(!looks_like_reference("SH01-29991122-0042", &sites), "in the future");
        assert!(!looks_like_reference("hello", &sites));
        assert!(!looks_like_reference("SH01-20261122-0042-X", &sites));
    }

    #[test]
    fn revisits_are_offered_only_where_triage_would_take_them() {
        let mut agent = user("a", vec![Role::Agent]);
        let case = json!({"site": "sh01", "customer": {"name": "张三", "phone": "138****5678"}});
        assert_eq!(revisit_offer(&case, &agent, true), Ok(true));
        assert_eq!(revisit_offer(&case, &agent, false), Ok(false), "not a revisit role");
        let anonymous = json!({"site": "sh01", "customer": {"anonymous": true}});
        assert_eq!(revisit_offer(&anonymous, &agent, true), Err("revisit_anonymous"));
        let no_contact = json!({"site": "sh01", "customer": {"name": "x", "phone": "", "email": null}});
        assert_eq!(revisit_offer(&no_contact, &agent, true), Err("revisit_anonymous"));
        agent.sites = vec!["bj01".into()];
        assert_eq!(revisit_offer(&case, &agent, true), Err("revisit_other_site"));
    }

    #[test]
    fn refusals_with_a_known_code_are_said_in_the_users_language() {
        let refused = |status, code: &str| BackendError::Refused {
            service: Service::Triage,
            status,
            code: code.into(),
            message: "the customer declined revisits".into(),
            field: None,
        };
        let (status, text) = refusal_text(Lang::ZhCn, &refused(409, "do_not_call")).unwrap();
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(text, Lang::ZhCn.text("revisit_do_not_call"));
        let (_, text) = refusal_text(Lang::En, &refused(409, "illegal_transition")).unwrap();
        assert!(text.starts_with(&Lang::En.text("err_conflict")), "{text}");
        assert_eq!(
            refusal_text(Lang::En, &BackendError::Unavailable(Service::Triage)),
            None
        );
    }

    #[test]
    fn the_regulator_report_is_offered_for_approval_and_submission_by_the_right_roles() {
        let view = json!({"version": 1, "missing": [], "report": {"status": "draft", "authority": "NMPA",
                          "approved": null, "submitted": null, "submission_reference": null}});
        let gm = user("gm", vec![Role::GeneralManager]);
        let mr = user("mr", vec![Role::ManagementRepresentative]);
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(regulator_view(Lang::En, tz, &view, &gm)["can_approve"], true);
        assert_eq!(regulator_view(Lang::En, tz, &view, &mr)["can_approve"], false);
        let mut incomplete = view.clone();
        incomplete["missing"] = json!(["batch"]);
        let v = regulator_view(Lang::ZhCn, tz, &incomplete, &gm);
        assert_eq!(v["can_approve"], false);
        assert_eq!(v["missing"][0], Lang::ZhCn.text("reg_field_batch"));
        let mut approved = view;
        approved["report"]["status"] = json!("approved");
        approved["report"]["approved"] = json!({"by": "gm", "at": "2026-11-20T02:00:00Z"});
        let v = regulator_view(Lang::En, tz, &approved, &mr);
        assert_eq!(
            (v["can_submit"].as_bool(), v["approved"].as_str()),
            (Some(true), Some("gm · 2026-11-20 10:00"))
        );
        assert_eq!(regulator_view(Lang::En, tz, &approved, &gm)["can_submit"], false);
    }

    /// A product-quality complaint with a linked duplicate, a claim, an email sent and a breach.
    fn sample_case() -> Value {
        json!({
            "id": "0193a000-0000-7000-8000-000000000001", "reference": "SH01-20261120-0001", "site": "sh01",
            "channel": "phone", "status": "in_progress", "class": "complaint", "category": "product_quality",
            "severity": "important", "department": "quality", "assignee": "h1", "overdue_level": 1, "subject": "外壳破裂",
            "content": "外壳有裂纹", "received_at": "2026-11-20T02:00:00Z", "opened_at": "2026-11-20T02:00:01Z",
            "customer": {"name": "王芳", "phone": "13900001111", "language": "zh-CN"}, "details": {},
            "claim": {"amount": "1500.00", "currency": "CNY", "required": ["marketing_manager"], "approvals": [], "rejection": null},
            "allowed_actions": ["note", "merge", "extend_deadline"],
            "reports": [
                {"reference": "SH01-20261120-0001", "channel": "phone", "received_at": "2026-11-20T02:00:00Z", "reason": "first report", "first": true, "can_split": false},
                {"reference": "SH01-20261121-0007", "channel": "letter", "received_at": "2026-11-21T02:00:00Z", "reason": "same customer, product P-200 batch B9", "first": false, "can_split": true}
            ],
            "history": [
                {"at": "2026-11-20T02:00:01Z", "actor": "system", "action": "opened", "detail": {"classification": {"class": "complaint", "category": "product_quality", "severity": "important"}, "department": "quality"}, "changes": {}},
                {"at": "2026-11-21T02:00:01Z", "actor": "system", "action": "duplicate_linked", "detail": {"reference": "SH01-20261121-0007", "channel": "letter", "reason": "same customer, product P-200 batch B9"}, "changes": {}},
                {"at": "2026-11-21T03:00:00Z", "actor": "scheduler", "action": "deadline_breached", "detail": {"clock": "first_reply", "level": 1}, "changes": {}},
                {"at": "2026-11-21T04:00:00Z", "actor": "qe1", "action": "eight_d_action_added", "detail": {"discipline": "D5", "owner": "qe1", "due_date": "2026-12-01"}, "changes": {}},
                {"at": "2026-11-21T05:00:00Z", "actor": "qe1", "action": "some_future_action", "detail": {}, "changes": {}}
            ],
            "quality": {"eight_d": {"version": 2, "closed": false, "missing": ["D7: prevention is empty"]}, "regulator_report": null,
                        "capa": [{"id": "c1", "number": "CAPA-2026-0001", "status": "implemented", "title": "Mould heater"}]},
            "deadlines": []
        })
    }

    fn scheduler_clock() -> Value {
        json!({"clock": "first_reply", "start_event": "case.opened", "stop_event": "case.replied",
               "length": {"clock_hours": 24}, "ladder": "service", "start": "2026-11-20T02:00:00Z", "time_zone": "Asia/Shanghai",
               "policy_due": "2026-11-21T02:00:00Z", "skipped": [], "makeup_days": [], "pauses": [], "history": [],
               "warning_at": "2026-11-20T21:12:00Z", "due": "2026-11-21T02:00:00Z", "state": {"kind": "breached", "level": 1},
               "escalation_level": 1, "next": null, "fired": [], "summary": "first_reply: 24 clock hours … Now due"})
    }

    fn fetched(case: Value) -> Fetched {
        Fetched {
            case,
            deadlines: Ok(vec![scheduler_clock()]),
            notifications: Ok(vec![
                json!({"channel": "email", "template": "feedback_received", "status": "sent",
                                          "recipient_masked": "w***@example.com", "sent_at": "2026-11-20T02:00:05Z"}),
            ]),
            regulator: None,
            reasons: vec![("met_contract".into(), "产品符合合同要求".into())],
        }
    }

    #[test]
    fn the_case_page_reads_in_chinese_with_no_codes_and_offers_only_what_triage_allows() {
        let mm = user("mm", vec![Role::MarketingManager]);
        let tz = chrono_tz::Asia::Shanghai;
        let context = case_context(
            Lang::ZhCn,
            tz,
            &mm,
            true,
            fetched(sample_case()),
            Some("claim_approved"),
            None,
        );
        let html = super::super::labels::rendered("case.html", Lang::ZhCn, context);
        let text = super::super::labels::visible(&html);
        for code in [
            "action_",
            "duplicate_linked",
            "deadline_breached",
            "feedback_received",
            "first_reply",
            "Now due",
            "eight_d_action",
        ] {
            assert!(!text.contains(code), "{code} shown raw");
        }
        for words in [
            "关联重复报告",
            "超过截止时间",
            "首次答复",
            "24小时",
            "已超期，已升级到第 1 级",
            "同一顾客，同一产品 P-200、批号 B9",
            "信函",
            "受理确认（通知顾客）",
            "Some future action",
            "CAPA-2026-0001",
            "已实施，待验证",
            "产品符合合同要求",
            "编写中，D8 结案前还缺 1 项。",
        ] {
            assert!(html.contains(words), "{words} missing");
        }
        assert!(html.contains(&format!(
            "{} {}",
            Lang::ZhCn.text("done_action"),
            Lang::ZhCn.text("action_claim_approved")
        )));
        // The forms triage allows (and the split of the linked report), each with its token and labels.
        assert!(html.contains(r#"action="/cases/SH01-20261120-0001/split""#));
        assert!(html.contains(r#"<input type="hidden" name="report" value="SH01-20261121-0007">"#));
        assert!(html.contains(r#"<label for="merge-reason">"#), "a merge says why");
        assert!(html.contains(r#"id="approve-claim""#) && html.contains(r#"id="revisit-form""#));
        assert!(!html.contains(r#"id="do-close""#), "close is not allowed");
        assert_eq!(
            html.matches(r#"name="csrf" value="token""#).count(),
            html.matches("<form").count()
        );
    }

    #[test]
    fn the_case_page_offers_nothing_the_user_may_not_do() {
        let mut case = sample_case();
        case["allowed_actions"] = json!([]);
        case["reports"][1]["can_split"] = json!(false);
        case["customer"] = json!({"anonymous": true});
        let auditor = user("au", vec![Role::Auditor]);
        let context = case_context(Lang::En, chrono_tz::UTC, &auditor, false, fetched(case), None, None);
        let html = super::super::labels::rendered("case.html", Lang::En, context);
        assert!(html.contains(r#"id="no-actions""#));
        for form in ["/split", "/claim/approve", "/claim/reject", "/revisit", "/act/"] {
            assert!(!html.contains(form), "{form} offered to an auditor");
        }
        // An agent who records revisits is told why an anonymous customer gets none.
        let mut case = sample_case();
        case["customer"] = json!({"anonymous": true});
        let agent = user("a", vec![Role::Agent]);
        let html = super::super::labels::rendered(
            "case.html",
            Lang::En,
            case_context(Lang::En, chrono_tz::UTC, &agent, true, fetched(case), None, None),
        );
        assert!(!html.contains(r#"id="revisit-form""#));
        assert!(html.contains(&Lang::En.text("revisit_anonymous")));
    }

    #[test]
    fn without_the_scheduler_the_clocks_come_from_triage_and_the_page_says_why() {
        let mut case = sample_case();
        case["deadlines"] = json!([{"clock": "eight_d_reply", "status": "running", "started_at": "2026-11-20T02:00:00Z",
                                    "due_at": "2026-12-01T02:00:00Z", "level": 0, "stopped_at": null, "overdue": false}]);
        let mut f = fetched(case);
        f.deadlines = Err(BackendError::Unavailable(Service::Scheduler));
        let html = super::super::labels::rendered(
            "case.html",
            Lang::En,
            case_context(
                Lang::En,
                chrono_tz::Asia::Shanghai,
                &user("h", vec![Role::Handler]),
                false,
                f,
                None,
                None,
            ),
        );
        assert!(html.contains(&Lang::En.text("deadlines_unavailable")));
        assert!(html.contains("8D report reply") && html.contains("2026-12-01 10:00"));
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
        let merge = Fields(vec![("into_case".into(), "SH01-20261120-0001".into())]);
        assert!(
            action_body("merge", &merge, chrono_tz::UTC)
                .unwrap_err()
                .starts_with("reason"),
            "a merge says why"
        );
        let labels: Vec<Value> = action_fields("extend_deadline", Lang::ZhCn, &["first_reply".into()], false)[0]
            ["options"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(labels[0]["label"], Lang::ZhCn.text("clock_first_reply"));
    }
}
