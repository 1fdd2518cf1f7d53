//! One case: summary, customer (as triage returns it for the user's role, masked or not), the
//! timeline of everything that happened (reports by channel, workflow history, emails, deadline
//! events), deadlines explained in the user's language, the reports of the same problem (split one
//! out, or merge the case into another), claim approval, the quality documents (8D, regulator report,
//! CAPA), a revisit by hand, and a form for each action triage says this user may take now
//! (`allowed_actions`, `may`, the documents' `can_*`) — nothing else is offered.
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use chrono::{NaiveDateTime, TimeZone, Utc};
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

/// The regulator report's fields, in the order of the form (`reg_field_` labels).
pub const REGULATOR_FIELDS: [&str; 8] = [
    "authority",
    "product",
    "batch",
    "onset",
    "dose",
    "other_medicines",
    "description",
    "patient_outcome",
];

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

/// Triage has no case for `id`: intake's register tells feedback that is registered and not triaged
/// yet (its case appears shortly) from a reference that is nowhere (a typing mistake).
async fn no_such_case(state: &AppState, ctx: &Ctx, id: &str, token: &str) -> Result<Response, AppError> {
    let reference = id.trim().to_ascii_uppercase();
    let path = format!("/api/v1/feedback/{}", encode(&reference));
    let registered = state.backend.get::<Value>(Service::Intake, &path, &[], token).await;
    let context = lookup_context(ctx.lang, state.tz, id, registered);
    let html = state.render(ctx, "case.html", context)?;
    Ok((StatusCode::NOT_FOUND, html).into_response())
}

/// What the page says of a reference triage does not know, from intake's answer about it.
pub fn lookup_context(lang: Lang, tz: chrono_tz::Tz, id: &str, registered: Result<Value, BackendError>) -> Value {
    match registered {
        Ok(feedback) => {
            let received = feedback["received_at"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .map(|t| local_in(tz, &t))
                .unwrap_or_default();
            let channel = label(lang, "channel_", feedback["channel"].as_str().unwrap_or(""));
            json!({ "nav": "work", "pending": feedback["reference"].as_str().unwrap_or(id),
                    "pending_since": say(lang, "case_pending_since", &[("received", &received), ("channel", &channel)]) })
        }
        Err(e) => json!({ "nav": "work", "unknown": id, "search": encode(id.trim()),
                          // Intake did not answer: it may be registered after all.
                          "lookup_unavailable": e.status().is_none() }),
    }
}

/// The configured claim rejection reasons of the case (triage's `claim_rejection_reasons`) as
/// (code, label in `lang`).
pub fn rejection_reasons(lang: Lang, case: &Value) -> Vec<(String, String)> {
    case["claim_rejection_reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let code = r["code"].as_str()?.to_owned();
            let text = match lang {
                Lang::ZhCn => r["zh_cn"].as_str().filter(|t| !t.is_empty()),
                Lang::En => None,
            }
            .or_else(|| r["en"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| super::labels::humanise(&code));
            Some((code, text))
        })
        .collect()
}

/// The claim with what this user may do, as triage says it (`may`).
pub fn claim_view(claim: &Value, may: &Value) -> Value {
    if !claim.is_object() {
        return Value::Null;
    }
    json!({
        "amount": claim["amount"], "currency": claim["currency"], "return_quantity": claim["return_quantity"],
        "required": claim["required"], "approvals": claim["approvals"], "rejection": claim["rejection"],
        "can_approve": may["approve_claim"].as_bool().unwrap_or(false),
        "can_reject": may["reject_claim"].as_bool().unwrap_or(false),
    })
}

/// Whether a revisit may be scheduled by hand, as triage says it (`may.schedule_revisit`): `Ok(true)`
/// offer it, `Ok(false)` say nothing (the user does not record revisits), `Err(why)` say why not in
/// words. Triage gives a refusal's code and English words; the known codes are said in `lang`, others prefixed.
pub fn revisit_offer(lang: Lang, may: &Value) -> Result<bool, String> {
    if may["schedule_revisit"].as_bool().unwrap_or(false) {
        return Ok(true);
    }
    let (Some(code), Some(why)) = (
        may["schedule_revisit_refused_code"].as_str(),
        may["schedule_revisit_refused"].as_str(),
    ) else {
        return Ok(false);
    };
    let key = match code {
        "anonymous" => "revisit_anonymous",
        "do_not_call" => "revisit_declined",
        "other_site" => "revisit_other_site",
        // Not a revisit role: nothing to offer, nothing to explain.
        "no_role" => return Ok(false),
        _ => return Err(format!("{} {why}", lang.text("revisit_refused"))),
    };
    Err(lang.text(key))
}

/// The regulator report of an adverse event with what this user may do, as triage says it; `kept` is
/// what the user typed into the edit form when it was refused (shown again instead of the report's).
fn regulator_view(lang: Lang, tz: chrono_tz::Tz, view: &Value, kept: Option<&Value>) -> Value {
    let report = &view["report"];
    let status = report["status"].as_str().unwrap_or("draft");
    let missing_codes: Vec<&str> = view["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let stamp = |s: &Value| {
        s.is_object().then(|| {
            let at = s["at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t));
            format!("{} · {}", s["by"].as_str().unwrap_or(""), at.unwrap_or_default())
        })
    };
    let can_edit = view["can_edit"].as_bool().unwrap_or(false);
    let fields: Vec<Value> = REGULATOR_FIELDS
        .iter()
        .map(|f| {
            let value = kept.map(|k| k[*f].clone()).unwrap_or_else(|| report[*f].clone());
            json!({ "name": f, "label": label(lang, "reg_field_", f), "value": value,
                    "missing": missing_codes.contains(f), "long": matches!(*f, "description" | "patient_outcome") })
        })
        .collect();
    json!({
        "status": status, "status_label": label(lang, "reg_status_", status), "saved": view["version"].as_i64().unwrap_or(0) > 0,
        "version": view["version"].as_i64().unwrap_or(0),
        "authority": report["authority"],
        "missing": missing_codes.iter().map(|f| label(lang, "reg_field_", f)).collect::<Vec<_>>(),
        "approved": stamp(&report["approved"]), "submitted": stamp(&report["submitted"]),
        "submission_reference": report["submission_reference"],
        "fields": if can_edit { json!(fields) } else { json!([]) },
        "edit_open": kept.is_some() || !missing_codes.is_empty(),
        "can_edit": can_edit,
        "can_approve": view["can_approve"].as_bool().unwrap_or(false),
        "can_submit": view["can_submit"].as_bool().unwrap_or(false),
    })
}

/// The 8D report and CAPA records at a glance.
fn quality_view(lang: Lang, case: &Value) -> Value {
    let q = &case["quality"];
    let eight_d = &q["eight_d"];
    // Triage says whether the case's category takes an 8D report; one written anyway is shown too.
    let applies = case["quality"]["eight_d_applies"].as_bool().unwrap_or(false) || eight_d.is_object();
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

/// The reports of this problem: the first and those linked to it, with why, which case each came
/// from when one was merged into this one, and which may be split out.
fn reports_view(lang: Lang, tz: chrono_tz::Tz, case: &Value) -> Vec<Value> {
    case["reports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let at = r["received_at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t));
            let merged_from = r["merged_from"]
                .as_str()
                .map(|from| say(lang, "dup_merged_from", &[("case", from)]));
            json!({ "reference": r["reference"], "channel": label(lang, "channel_", r["channel"].as_str().unwrap_or("")),
                    "received": at, "reason": link_reason(lang, r["reason"].as_str().unwrap_or("")),
                    "merged_from": merged_from, "first": r["first"], "can_split": r["can_split"] })
        })
        .collect()
}

/// A refused change shown on the case page: its status and words, and for a refused regulator
/// report edit what the user typed.
pub struct Problem {
    pub status: StatusCode,
    pub message: String,
    pub regulator_form: Option<Value>,
}

impl From<(StatusCode, String)> for Problem {
    fn from((status, message): (StatusCode, String)) -> Self {
        Problem {
            status,
            message,
            regulator_form: None,
        }
    }
}

/// The case page; `problem` is an error to show above it (a refused action).
pub async fn render_case(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    done: Option<&str>,
    problem: Option<Problem>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let path = format!("/api/v1/cases/{}", encode(id));
    let case: Value = match state.backend.get(Service::Triage, &path, &[], token).await {
        Ok(c) => c,
        Err(e) if e.is_not_found() => return no_such_case(state, ctx, id, token).await,
        Err(e) => return Err(e.into()),
    };
    let case_id = case["id"].as_str().unwrap_or_default().to_owned();
    let deadlines_path = format!("/api/v1/cases/{case_id}/deadlines");
    let regulator_path = format!("/api/v1/cases/{case_id}/regulator-report");
    let notifications_query = [("case", case_id.clone())];
    let (deadlines, notifications, regulator) = futures::join!(
        state
            .backend
            .get::<Vec<Value>>(Service::Scheduler, &deadlines_path, &[], token),
        state.backend.get::<Vec<Value>>(
            Service::Notification,
            "/api/v1/notifications",
            &notifications_query,
            token
        ),
        // Asked of every case: triage knows which categories take one (`not_applicable` otherwise).
        state.backend.get::<Value>(Service::Triage, &regulator_path, &[], token),
    );
    let fetched = Fetched {
        case,
        deadlines,
        notifications,
        regulator,
    };
    let status = problem.as_ref().map(|p| p.status).unwrap_or(StatusCode::OK);
    let context = case_context(ctx.lang, state.tz, fetched, done, problem.as_ref());
    let html = state.render(ctx, "case.html", context)?;
    Ok((status, html).into_response())
}

/// What the case page got from the services.
pub struct Fetched {
    pub case: Value,
    /// The scheduler's explanation of every clock.
    pub deadlines: Result<Vec<Value>, BackendError>,
    /// Notification's delivery log of the case.
    pub notifications: Result<Vec<Value>, BackendError>,
    /// The regulator report (refused as `not_applicable` but for adverse events).
    pub regulator: Result<Value, BackendError>,
}

/// Everything the case page shows, for the user triage answered for, in `lang`.
pub fn case_context(
    lang: Lang,
    tz: chrono_tz::Tz,
    fetched: Fetched,
    done: Option<&str>,
    problem: Option<&Problem>,
) -> Value {
    let Fetched {
        case,
        deadlines,
        notifications,
        regulator,
    } = fetched;
    let has_claim = case["claim"].is_object();
    let mut warnings = Vec::new();
    let triage_clocks = case["deadlines"].as_array().cloned().unwrap_or_default();
    let (deadlines, deadline_rows) = match deadlines {
        Ok(d) => {
            let rows = deadlines::rows(lang, &d, tz);
            (d, rows)
        }
        // Triage's copy of the clocks, without the scheduler's explanation.
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
    let reasons = rejection_reasons(lang, &case);
    let reason_label = |code: &str| {
        reasons
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| super::labels::humanise(code))
    };
    let may = &case["may"];
    let mut claim = claim_view(&case["claim"], may);
    if let Some(code) = claim["rejection"].as_str() {
        claim["rejection_label"] = json!(reason_label(code));
    }
    let revisit = match revisit_offer(lang, may) {
        Ok(offered) => json!({ "offered": offered }),
        Err(why) => json!({ "offered": false, "why": why }),
    };
    let regulator = match regulator {
        Ok(view) => regulator_view(lang, tz, &view, problem.and_then(|p| p.regulator_form.as_ref())),
        // Not an adverse event (409 `not_applicable`), or not this user's to read.
        Err(e) if e.status().is_some() => Value::Null,
        Err(_) => {
            warnings.push(lang.text("regulator_unavailable"));
            Value::Null
        }
    };
    let times = json!({
        "received": case["received_at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t)),
        "opened": case["opened_at"].as_str().and_then(|t| t.parse().ok()).map(|t| local_in(tz, &t)),
    });
    let department = case["department"].as_str().unwrap_or("");
    let involved: Vec<String> = case["involved_roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|r| label(lang, "role_", r))
        .collect();
    json!({
            "nav": "work", "case": case, "times": times, "actions": actions, "deadlines": deadline_rows,
            "department": label(lang, "dept_", department), "involved": involved,
            "timeline": timeline(lang, tz, &case, &notifications, &deadlines, &reason_label), "claim": claim,
            "warnings": warnings, "done": done.and_then(|d| done_message(lang, d)),
            "problem": problem.map(|p| p.message.as_str()),
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
            Some(problem) => render_case(state, ctx, id, None, Some(problem.into())).await,
            None => Err(e.into()),
        },
    }
}

async fn invalid(state: &AppState, ctx: &Ctx, id: &str, why: String) -> Result<Response, AppError> {
    let message = format!("{} {why}", ctx.lang.text("err_invalid"));
    let problem = (StatusCode::UNPROCESSABLE_ENTITY, message).into();
    render_case(state, ctx, id, None, Some(problem)).await
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

/// Merging names the other case by reference (triage wants its id) and why; triage keeps the reason
/// in both cases' history. What triage would refuse in English is said in the user's words first.
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
    let refuse = |status: StatusCode, message: String| Some(Problem::from((status, message)));
    let other = match other {
        Ok(o) => o,
        Err(e) if e.is_not_found() => {
            let problem = say(lang, "merge_no_such_case", &[("case", &into)]);
            return render_case(state, ctx, id, None, refuse(StatusCode::UNPROCESSABLE_ENTITY, problem)).await;
        }
        Err(e) => return after(state, ctx, id, "merge", Err(e)).await,
    };
    if other["id"] == this["id"] {
        let problem = lang.text("merge_into_itself");
        return render_case(state, ctx, id, None, refuse(StatusCode::UNPROCESSABLE_ENTITY, problem)).await;
    }
    let target = other["reference"].as_str().unwrap_or(&into).to_owned();
    if matches!(other["status"].as_str(), Some("closed" | "rejected")) {
        let problem = say(lang, "merge_target_closed", &[("case", &target)]);
        return render_case(state, ctx, id, None, refuse(StatusCode::CONFLICT, problem)).await;
    }
    let path = format!("/api/v1/cases/{}/merge", encode(id));
    let result = state
        .backend
        .post::<Value>(
            Service::Triage,
            &path,
            &json!({ "into_case": other["id"], "reason": reason }),
            Some(token),
        )
        .await
        // The merged case is closed and its reports now belong to the target: the work goes on there.
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

/// The body of a regulator report edit from its form: the version the editor started from and
/// every field (an emptied field is an edit too).
pub fn regulator_body(form: &Fields) -> Option<Value> {
    let version: i64 = form.get("version")?.parse().ok()?;
    let mut body = json!({ "version": version });
    for f in REGULATOR_FIELDS {
        let value = form
            .0
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.replace("\r\n", "\n").trim().to_owned())
            .unwrap_or_default();
        body[f] = json!(value);
    }
    Some(body)
}

/// The regulator report: `edit` (its fields), `approve` (the general manager, by default) or `submit`
/// with the authority's reference.
pub async fn regulator(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, step)): Path<(String, String)>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let path = format!("/api/v1/cases/{}/regulator-report", encode(&id));
    if step == "edit" {
        let body = regulator_body(&form).ok_or_else(|| AppError::BadForm("version".into()))?;
        return match state.backend.put::<Value>(Service::Triage, &path, &body, token).await {
            Ok(view) => after(&state, &ctx, &id, "regulator_report_edited", Ok(view)).await,
            Err(e) => {
                // What the user typed is kept, also when someone else saved first.
                let (status, message) = match &e {
                    BackendError::Refused { code, .. } if code == "stale_version" => {
                        (StatusCode::CONFLICT, ctx.lang.text("reg_stale"))
                    }
                    _ => refusal_text(ctx.lang, &e).ok_or(e)?,
                };
                let problem = Problem {
                    status,
                    message,
                    regulator_form: Some(body),
                };
                render_case(&state, &ctx, &id, None, Some(problem)).await
            }
        };
    }
    let (body, done) = match step.as_str() {
        "approve" => (json!({}), "regulator_report_approved"),
        "submit" => match form.get("submission_reference") {
            Some(r) => (json!({ "submission_reference": r }), "regulator_report_submitted"),
            None => return invalid(&state, &ctx, &id, ctx.lang.text("reg_reference_needed")).await,
        },
        _ => return Err(AppError::NotFound),
    };
    let result = state
        .backend
        .post::<Value>(Service::Triage, &format!("{path}/{step}"), &body, Some(token))
        .await
        .map(|view| json!({ "reference": view["reference"] }));
    after(&state, &ctx, &id, done, result).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::labels::{rendered, visible};

    /// Triage's `may`; a refusal is given by its words, its code derived as triage would.
    fn may(approve: bool, reject: bool, revisit: Result<(), &str>) -> Value {
        let code = revisit.err().map(|why| {
            if why.starts_with("anonymous") {
                "anonymous"
            } else if why.contains("declined") {
                "do_not_call"
            } else if why.contains("does not work for site") {
                "other_site"
            } else if why.contains("moon") {
                "unexpected"
            } else {
                "no_role"
            }
        });
        json!({ "approve_claim": approve, "reject_claim": reject, "schedule_revisit": revisit.is_ok(),
                "schedule_revisit_refused": revisit.err(), "schedule_revisit_refused_code": code })
    }

    fn refused(status: u16, code: &str) -> BackendError {
        BackendError::Refused {
            service: Service::Triage,
            status,
            code: code.into(),
            message: String::new(),
            field: None,
        }
    }

    #[test]
    fn the_claim_is_offered_for_decision_as_triage_says() {
        let claim = json!({"amount": "1500.00", "currency": "CNY", "required": ["marketing_manager"], "approvals": [], "rejection": null});
        let v = claim_view(&claim, &may(true, true, Ok(())));
        assert_eq!(
            (v["can_approve"].as_bool(), v["can_reject"].as_bool()),
            (Some(true), Some(true))
        );
        // A handler of the case may reject it for a configured reason, not approve it.
        let v = claim_view(&claim, &may(false, true, Ok(())));
        assert_eq!(
            (v["can_approve"].as_bool(), v["can_reject"].as_bool()),
            (Some(false), Some(true))
        );
        // A triage that does not say: nothing is offered.
        let v = claim_view(&claim, &Value::Null);
        assert_eq!(
            (v["can_approve"].as_bool(), v["can_reject"].as_bool()),
            (Some(false), Some(false))
        );
        assert_eq!(claim_view(&Value::Null, &may(true, true, Ok(()))), Value::Null);
    }

    #[test]
    fn the_claim_reject_form_lists_the_configured_reasons_in_the_users_language() {
        let mut case = sample_case();
        case["claim_rejection_reasons"] = json!([
            {"code": "past_shelf_life", "zh_cn": "超过保质期", "en": "Past its shelf life"},
            {"code": "wrong_use", "zh_cn": "", "en": "Used against the instructions"}
        ]);
        assert_eq!(
            rejection_reasons(Lang::ZhCn, &case),
            [
                ("past_shelf_life".to_owned(), "超过保质期".to_owned()),
                ("wrong_use".to_owned(), "Used against the instructions".to_owned())
            ],
            "a label missing in Chinese falls back to English"
        );
        let context = case_context(Lang::ZhCn, chrono_tz::UTC, fetched(case), None, None);
        let html = rendered("case.html", Lang::ZhCn, context);
        assert!(
            html.contains(concat!(
                r#"<select id="claim-reason" name="reason"><option value="past_shelf_life">超过保质期</option>"#,
                r#"<option value="wrong_use">Used against the instructions</option></select>"#
            )),
            "{html}"
        );
        assert!(!html.contains("met_contract"), "only triage's reasons");
    }

    #[test]
    fn a_revisit_is_offered_as_triage_says_and_a_refusal_is_said_in_words() {
        assert_eq!(revisit_offer(Lang::En, &may(false, false, Ok(()))), Ok(true));
        for (why, key) in [
            (
                "anonymous feedback gets no revisit (003 篇6 §1.13)",
                "revisit_anonymous",
            ),
            ("the customer declined revisits", "revisit_declined"),
            ("a1 does not work for site bj01", "revisit_other_site"),
        ] {
            assert_eq!(
                revisit_offer(Lang::ZhCn, &may(false, false, Err(why))),
                Err(Lang::ZhCn.text(key)),
                "{why}"
            );
        }
        // Not a revisit role: nothing offered, nothing to explain.
        for why in [
            "h1 may not read revisit records",
            "au is an auditor: auditors only read revisits",
        ] {
            assert_eq!(
                revisit_offer(Lang::En, &may(false, false, Err(why))),
                Ok(false),
                "{why}"
            );
        }
        assert_eq!(
            revisit_offer(Lang::En, &may(false, false, Err("the moon is in the way"))),
            Err(format!("{} the moon is in the way", Lang::En.text("revisit_refused")))
        );
        assert_eq!(revisit_offer(Lang::En, &Value::Null), Ok(false));
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
            "regulator_report_edited",
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

    fn scheduler_clock() -> Value {
        json!({"clock": "first_reply", "start_event": "case.opened", "stop_event": "case.replied",
               "length": {"clock_hours": 24}, "ladder": "service", "start": "2026-11-20T02:00:00Z", "time_zone": "Asia/Shanghai",
               "policy_due": "2026-11-21T02:00:00Z", "skipped": [], "makeup_days": [], "pauses": [], "history": [],
               "warning_at": "2026-11-20T21:12:00Z", "due": "2026-11-21T02:00:00Z", "state": {"kind": "breached", "level": 1},
               "escalation_level": 1, "next": null, "fired": [], "summary": "first_reply: 24 clock hours … Now due"})
    }

    fn regulator(can_edit: bool, can_approve: bool, can_submit: bool, missing: Value) -> Value {
        json!({"version": 1, "missing": missing, "can_edit": can_edit, "can_approve": can_approve, "can_submit": can_submit,
               "report": {"status": "draft", "authority": "NMPA", "product": "VC-500", "batch": "B2026-10", "onset": "2h",
                          "dose": "", "other_medicines": "", "description": "皮疹", "patient_outcome": "",
                          "approved": null, "submitted": null, "submission_reference": null}})
    }

    fn regulator_page(view: Value, kept: Option<Value>) -> String {
        let mut case = sample_case();
        case["category"] = json!("adverse_event");
        let mut f = fetched(case);
        f.regulator = Ok(view);
        let problem = kept.map(|k| Problem {
            status: StatusCode::CONFLICT,
            message: Lang::En.text("reg_stale"),
            regulator_form: Some(k),
        });
        let context = case_context(Lang::En, chrono_tz::Asia::Shanghai, f, None, problem.as_ref());
        rendered("case.html", Lang::En, context)
    }

    #[test]
    fn the_regulator_report_forms_follow_what_triage_says_this_user_may_do() {
        // The management representative: may fill it in, not approve it; what is missing is said.
        let html = regulator_page(regulator(true, false, false, json!(["patient_outcome"])), None);
        assert!(html.contains(r#"<details id="regulator-edit" open>"#));
        assert!(html.contains(r#"action="/cases/SH01-20261120-0001/regulator/edit""#));
        assert!(html.contains(r#"<input type="text" id="reg-batch" name="batch" maxlength="10000" value="B2026-10">"#));
        assert!(html.contains(r#"<ul class="missing" id="regulator-missing"><li>Patient outcome</li></ul>"#));
        assert!(!html.contains("approve-regulator") && !html.contains("submit-regulator"));
        // The general manager once it is complete: approval only.
        let html = regulator_page(regulator(false, true, false, json!([])), None);
        assert!(html.contains(r#"id="approve-regulator""#));
        assert!(!html.contains("regulator-edit") && !html.contains("submit-regulator"));
        // Approved: the editor marks it submitted.
        let html = regulator_page(regulator(true, false, true, json!([])), None);
        assert!(html.contains(r#"id="submit-regulator""#) && !html.contains("approve-regulator"));
        // A reader: the report's state and nothing to do.
        let html = regulator_page(regulator(false, false, false, json!(["patient_outcome"])), None);
        assert!(html.contains(r#"id="regulator-status""#));
        for form in ["regulator/edit", "regulator/approve", "regulator/submit"] {
            assert!(!html.contains(form), "{form}");
        }
    }

    #[test]
    fn a_refused_regulator_edit_keeps_what_the_user_typed() {
        let typed = regulator_body(&Fields(vec![
            ("version".into(), "1".into()),
            ("patient_outcome".into(), "  已痊愈\r\n出院 ".into()),
            ("batch".into(), "B2026-11".into()),
        ]))
        .unwrap();
        assert_eq!(typed["version"], 1);
        assert_eq!(typed["patient_outcome"], "已痊愈\n出院");
        assert_eq!(typed["dose"], "", "every field is sent: an emptied one is an edit too");
        assert!(regulator_body(&Fields(vec![("batch".into(), "x".into())])).is_none());
        let html = regulator_page(regulator(true, false, false, json!(["patient_outcome"])), Some(typed));
        assert!(html.contains(&Lang::En.text("reg_stale")));
        assert!(html.contains(r#"value="B2026-11""#) && html.contains(">已痊愈\n出院</textarea>"));
    }

    #[test]
    fn a_reference_triage_does_not_know_is_pending_only_when_intake_registered_it() {
        let registered = json!({"reference": "SH01-20261122-0042", "status": "registered",
                                "received_at": "2026-11-22T02:00:00Z", "channel": "letter"});
        let c = lookup_context(
            Lang::ZhCn,
            chrono_tz::Asia::Shanghai,
            "sh01-20261122-0042",
            Ok(registered),
        );
        let html = rendered("case.html", Lang::ZhCn, c);
        assert!(html.contains(r#"<p id="pending">"#) && !html.contains("no-such-case"));
        assert!(html.contains("登记时间：2026-11-22 10:00，渠道：信函。"), "{html}");
        // A typing mistake: intake has no such reference either.
        let c = lookup_context(
            Lang::En,
            chrono_tz::UTC,
            "SH01-20261122-0043",
            Err(refused(404, "not_found")),
        );
        let html = rendered("case.html", Lang::En, c);
        assert!(html.contains(r#"id="no-such-case""#) && !html.contains(r#"id="pending""#));
        assert!(!html.contains("lookup-unavailable"));
        // Intake not answering: the page does not claim the reference is nowhere.
        let unavailable = Err(BackendError::Unavailable(Service::Intake));
        let html = rendered(
            "case.html",
            Lang::En,
            lookup_context(Lang::En, chrono_tz::UTC, "X", unavailable),
        );
        assert!(html.contains(r#"id="lookup-unavailable""#));
    }

    /// A product-quality complaint with a linked duplicate, one merged in, a claim, an email sent, a
    /// rule that reached nobody, and a breach.
    fn sample_case() -> Value {
        json!({
            "id": "0193a000-0000-7000-8000-000000000001", "reference": "SH01-20261120-0001", "site": "sh01",
            "channel": "phone", "status": "in_progress", "class": "complaint", "category": "product_quality",
            "severity": "important", "department": "quality", "assignee": "h1", "overdue_level": 1, "subject": "外壳破裂",
            "content": "外壳有裂纹", "received_at": "2026-11-20T02:00:00Z", "opened_at": "2026-11-20T02:00:01Z",
            "customer": {"name": "王芳", "phone": "13900001111", "language": "zh-CN"}, "details": {},
            "claim": {"amount": "1500.00", "currency": "CNY", "required": ["marketing_manager"], "approvals": [], "rejection": null},
            "allowed_actions": ["note", "merge", "extend_deadline"],
            "may": {"approve_claim": true, "reject_claim": true, "schedule_revisit": true, "schedule_revisit_refused": null},
            "claim_rejection_reasons": [{"code": "met_contract", "zh_cn": "产品符合合同要求", "en": "The product met the contract"}],
            "involved_roles": ["management_representative"],
            "reports": [
                {"reference": "SH01-20261120-0001", "channel": "phone", "received_at": "2026-11-20T02:00:00Z", "reason": "first report", "first": true, "can_split": false, "merged_from": null},
                {"reference": "SH01-20261121-0007", "channel": "letter", "received_at": "2026-11-21T02:00:00Z", "reason": "same customer, product P-200 batch B9", "first": false, "can_split": true, "merged_from": null},
                {"reference": "SH01-20261121-0009", "channel": "email", "received_at": "2026-11-21T03:00:00Z", "reason": "first report", "first": false, "can_split": false, "merged_from": "SH01-20261121-0009"}
            ],
            "history": [
                {"at": "2026-11-20T02:00:01Z", "actor": "system", "action": "opened", "detail": {"classification": {"class": "complaint", "category": "product_quality", "severity": "important"}, "department": "quality"}, "changes": {}},
                {"at": "2026-11-21T02:00:01Z", "actor": "system", "action": "duplicate_linked", "detail": {"reference": "SH01-20261121-0007", "channel": "letter", "reason": "same customer, product P-200 batch B9"}, "changes": {}},
                {"at": "2026-11-21T03:00:00Z", "actor": "scheduler", "action": "deadline_breached", "detail": {"clock": "first_reply", "level": 1}, "changes": {}},
                {"at": "2026-11-21T03:30:00Z", "actor": "h1", "action": "duplicate_merged", "detail": {"reference": "SH01-20261121-0009", "reports": 1, "reason": "顾客确认是同一问题"}, "changes": {}},
                {"at": "2026-11-21T04:00:00Z", "actor": "qe1", "action": "eight_d_action_added", "detail": {"discipline": "D5", "owner": "qe1", "due_date": "2026-12-01"}, "changes": {}},
                {"at": "2026-11-21T05:00:00Z", "actor": "qe1", "action": "some_future_action", "detail": {}, "changes": {}}
            ],
            "quality": {"eight_d": {"version": 2, "closed": false, "missing": ["D7: prevention is empty"]}, "regulator_report": null,
                        "capa": [{"id": "c1", "number": "CAPA-2026-0001", "status": "implemented", "title": "Mould heater"}]},
            "deadlines": []
        })
    }

    fn fetched(case: Value) -> Fetched {
        Fetched {
            case,
            deadlines: Ok(vec![scheduler_clock()]),
            notifications: Ok(vec![
                json!({"channel": "email", "template": "feedback_received", "status": "sent",
                       "recipient_masked": "w***@example.com", "sent_at": "2026-11-20T02:00:05Z"}),
                json!({"channel": "email", "template": "case_opened", "status": "no_recipient",
                       "recipient_masked": "role:management_representative", "created_at": "2026-11-20T02:00:06Z",
                       "last_error": "nobody to tell: nobody in the directory holds role `management_representative`"}),
            ]),
            regulator: Err(refused(409, "not_applicable")),
        }
    }

    #[test]
    fn the_case_page_reads_in_chinese_with_no_codes_and_offers_only_what_triage_allows() {
        let tz = chrono_tz::Asia::Shanghai;
        let context = case_context(Lang::ZhCn, tz, fetched(sample_case()), Some("claim_approved"), None);
        let html = rendered("case.html", Lang::ZhCn, context);
        let text = visible(&html);
        for code in [
            "action_",
            "duplicate_linked",
            "deadline_breached",
            "feedback_received",
            "first_reply",
            "Now due",
            "eight_d_action",
            "management_representative",
            "nobody to tell",
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
            "编写中，D8 结案前还缺 1 项。",
            // Merged in with its reason, and the report it brought.
            "SH01-20261121-0009 作为重复案件并入，带来 1 份报告",
            "顾客确认是同一问题",
            "随案件 SH01-20261121-0009 合并而来",
            // The rule that reached nobody, in words.
            "无人收到此通知：没有人担任管理者代表",
        ] {
            assert!(html.contains(words), "{words} missing");
        }
        assert!(html.contains(r#"<dd id="involved-roles">管理者代表</dd>"#));
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
        assert!(html.contains(r#"<option value="met_contract">产品符合合同要求</option>"#));
        assert!(!html.contains(r#"id="do-close""#), "close is not allowed");
        assert!(!html.contains(r#"id="regulator""#), "not an adverse event");
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
        case["may"] = may(false, false, Err("au is an auditor: auditors only read revisits"));
        let html = rendered(
            "case.html",
            Lang::En,
            case_context(Lang::En, chrono_tz::UTC, fetched(case), None, None),
        );
        assert!(html.contains(r#"id="no-actions""#));
        for form in [
            "/split",
            "/claim/approve",
            "/claim/reject",
            "/revisit",
            "/act/",
            "<form",
        ] {
            assert!(!html.contains(form), "{form} offered to an auditor");
        }
        assert!(
            !html.contains("revisit-none"),
            "an auditor is not told why they make no revisit"
        );
        // A revisit refused for the case itself is said in words.
        let mut case = sample_case();
        case["may"] = may(true, true, Err("the customer declined revisits"));
        let html = rendered(
            "case.html",
            Lang::En,
            case_context(Lang::En, chrono_tz::UTC, fetched(case), None, None),
        );
        assert!(!html.contains(r#"id="revisit-form""#));
        assert!(html.contains(&Lang::En.text("revisit_declined")));
    }

    #[test]
    fn without_the_scheduler_the_clocks_come_from_triage_and_the_page_says_why() {
        let mut case = sample_case();
        case["deadlines"] = json!([{"clock": "eight_d_reply", "status": "running", "started_at": "2026-11-20T02:00:00Z",
                                    "due_at": "2026-12-01T02:00:00Z", "level": 0, "stopped_at": null, "overdue": false}]);
        let mut f = fetched(case);
        f.deadlines = Err(BackendError::Unavailable(Service::Scheduler));
        let html = rendered(
            "case.html",
            Lang::En,
            case_context(Lang::En, chrono_tz::Asia::Shanghai, f, None, None),
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
