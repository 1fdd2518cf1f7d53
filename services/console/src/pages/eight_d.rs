//! The 8D report of a product-quality case (domain.md §4; 001 §5.9–5.11), over triage's
//! `/api/v1/cases/{id}/8d`: D1–D7 written and saved with the version the editor started from (a
//! stale save keeps the editor's text and shows what the other person saved), actions with owner and
//! due date marked done and verified for effect, D8 closed (or refused with what is still missing,
//! in words), the printable document previewed, and the report sent to the customer.
//!
//! Who may edit is triage's decision (its view's `can_edit`: the category, `[quality.eight_d]
//! editor_roles`, the case's department and site, the report still open); no form is offered otherwise.
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    case::refusal_text,
    labels::{humanise, label, local_in, say},
    see_other,
};
use crate::{
    backend::{BackendError, Service},
    error::AppError,
    i18n::Lang,
    render::{encode, AppState, Ctx, Fields},
};

/// The text sections D2–D7 in order (the JSON names triage uses), D1 (team) and D4's category aside.
pub const SECTIONS: [(&str, &str); 6] = [
    ("problem", "D2"),
    ("containment", "D3"),
    ("root_cause", "D4"),
    ("corrective", "D5"),
    ("verification", "D6"),
    ("prevention", "D7"),
];

/// The disciplines that carry actions.
pub const DISCIPLINES: [&str; 4] = ["D3", "D5", "D6", "D7"];

#[derive(Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DocumentQuery {
    lang: Option<String>,
}

fn code(e: &BackendError) -> Option<&str> {
    match e {
        BackendError::Refused { code, .. } => Some(code),
        _ => None,
    }
}

// --------------------------------------------------------------------------------------- wording

/// One thing D8 waits for (an item of triage's `missing_items`) in `lang`. A code this console does
/// not know yet is said with triage's own English sentence for it (`english`), else humanised.
pub fn missing_item(lang: Lang, item: &Value, english: Option<&str>) -> String {
    let text = |key: &str| item[key].as_str().unwrap_or("");
    let section = || lang.text(&format!("ed_{}", text("discipline").to_ascii_lowercase()));
    let action = |key: &str| say(lang, key, &[("d", text("discipline")), ("action", text("description"))]);
    match text("code") {
        "no_team" => lang.text("ed_missing_team"),
        "empty_section" => say(lang, "ed_missing_section", &[("section", &section())]),
        "no_cause_category" => lang.text("ed_missing_cause_category"),
        "no_corrective_action" => lang.text("ed_missing_d5_action"),
        "action_not_done" => action("ed_missing_not_done"),
        "action_not_verified" => action("ed_missing_not_verified"),
        other => english.map(str::to_owned).unwrap_or_else(|| humanise(other)),
    }
}

/// Everything D8 still waits for, in `lang`, from triage's view.
pub fn missing_items(lang: Lang, view: &Value) -> Vec<String> {
    let english = view["missing"].as_array().cloned().unwrap_or_default();
    view["missing_items"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        // Triage words the same list in the same order in `missing`.
        .map(|(i, item)| missing_item(lang, item, english.get(i).and_then(Value::as_str)))
        .collect()
}

fn team_text(team: &Value) -> String {
    team.as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let (name, role) = (m["name"].as_str().unwrap_or(""), m["role"].as_str().unwrap_or(""));
            if role.is_empty() {
                name.to_owned()
            } else {
                format!("{name}, {role}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// D1 as typed: one member a line, "name, role" (the role optional; Chinese commas too).
pub fn parse_team(text: &str) -> Vec<Value> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once([',', '，', ';', '；', '\t']) {
            Some((name, role)) => json!({ "name": name.trim(), "role": role.trim() }),
            None => json!({ "name": line, "role": "" }),
        })
        .collect()
}

/// A text field as typed, trimmed, with the browser's CRLF line ends as plain newlines (as triage
/// stores and shows them, so an unchanged text compares equal).
fn field_text(form: &Fields, name: &str) -> String {
    form.0
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.replace("\r\n", "\n").trim().to_owned())
        .unwrap_or_default()
}

/// The body of a save from its form: the version the editor started from and every section.
pub fn sections_body(form: &Fields) -> Result<Value, String> {
    let version: i64 = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| "version".to_owned())?;
    let raw = |name: &str| field_text(form, name);
    let mut body = Map::new();
    body.insert("version".into(), json!(version));
    body.insert("team".into(), Value::Array(parse_team(&raw("team"))));
    body.insert("cause_category".into(), json!(raw("cause_category")));
    for (name, _) in SECTIONS {
        body.insert(name.into(), json!(raw(name)));
    }
    Ok(Value::Object(body))
}

/// The form's values as the page shows them: the report's, or what the user submitted.
fn form_of_report(report: &Value) -> Value {
    let mut form = Map::new();
    form.insert("team".into(), json!(team_text(&report["team"])));
    form.insert("cause_category".into(), report["cause_category"].clone());
    for (name, _) in SECTIONS {
        form.insert(name.into(), report[name].clone());
    }
    Value::Object(form)
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()?.parse().ok()
}

/// Each action with its state in words.
fn actions_view(lang: Lang, tz: chrono_tz::Tz, report: &Value, today: NaiveDate) -> Vec<Value> {
    report["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let done = time(&a["done_at"]);
            let verification = &a["verification"];
            let effective = verification["effective"].as_bool();
            let state = match (done.is_some(), effective) {
                (true, Some(true)) => "verified",
                (true, _) => "done",
                (false, Some(false)) => "ineffective",
                (false, _) => "open",
            };
            let due: Option<NaiveDate> = a["due_date"].as_str().and_then(|d| d.parse().ok());
            json!({
                "id": a["id"], "discipline": a["discipline"], "description": a["description"], "owner": a["owner"],
                "due_date": a["due_date"], "overdue": done.is_none() && due.is_some_and(|d| d < today),
                "state": state, "state_label": lang.text(&format!("ed_action_{state}")),
                "done_at": done.map(|t| local_in(tz, &t)), "done_note": a["done_note"],
                "verification": if verification.is_object() {
                    json!({ "effective": effective, "note": verification["note"], "by": verification["by"],
                            "at": time(&verification["at"]).map(|t| local_in(tz, &t)) })
                } else { Value::Null },
            })
        })
        .collect()
}

// ------------------------------------------------------------------------------------------ page

/// What a refused or conflicting submission shows on the page again.
#[derive(Default)]
pub struct Redisplay {
    pub status: Option<StatusCode>,
    pub problem: Option<String>,
    /// D8 refused: the problem lists what is still missing.
    pub refused_incomplete: bool,
    /// The user's section texts, kept (a stale save or refused input).
    pub sections: Option<Value>,
    /// Someone else saved first.
    pub conflict: bool,
    /// The new-action form as it was filled.
    pub new_action: Option<Value>,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    done: Option<&str>,
    again: Redisplay,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let lang = ctx.lang;
    let case_path = format!("/api/v1/cases/{}", encode(id));
    let eight_d_path = format!("/api/v1/cases/{}/8d", encode(id));
    let (case, view) = futures::join!(
        state.backend.get::<Value>(Service::Triage, &case_path, &[], token),
        state.backend.get::<Value>(Service::Triage, &eight_d_path, &[], token),
    );
    let today = Utc::now().with_timezone(&state.tz).date_naive();
    let status = again.status.unwrap_or(StatusCode::OK);
    let context = page_context(lang, state.tz, &case?, &view?, done, again, today);
    let html = state.render(ctx, "eight_d.html", context)?;
    Ok((status, html).into_response())
}

/// Everything the 8D page shows, from triage's case and 8D view (which says what this user may do).
pub fn page_context(
    lang: Lang,
    tz: chrono_tz::Tz,
    case: &Value,
    view: &Value,
    done: Option<&str>,
    again: Redisplay,
    today: NaiveDate,
) -> Value {
    let report = &view["report"];
    let closed = view["closed"].as_bool().unwrap_or(false);
    let version = view["version"].as_i64().unwrap_or(0);
    let may_edit = view["can_edit"].as_bool().unwrap_or(false) && !closed;
    let form = again.sections.clone().unwrap_or_else(|| form_of_report(report));
    // On a conflict: what the other person saved, for each section where it differs from the user's text.
    let theirs: Value = if again.conflict {
        let saved = form_of_report(report);
        let mut differing = Map::new();
        for key in ["team", "cause_category"]
            .into_iter()
            .chain(SECTIONS.iter().map(|(n, _)| *n))
        {
            if saved[key] != form[key] {
                let text = if key == "cause_category" {
                    label(lang, "cause_", saved[key].as_str().unwrap_or(""))
                } else {
                    saved[key].as_str().unwrap_or("").to_owned()
                };
                differing.insert(key.into(), json!(text));
            }
        }
        Value::Object(differing)
    } else {
        json!({})
    };
    let configured: Vec<&str> = view["cause_categories"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut causes: Vec<Value> = configured
        .iter()
        .map(|c| json!({ "value": c, "label": label(lang, "cause_", c) }))
        .collect();
    // A category saved before the configuration dropped it stays choosable, so a save does not clear it.
    if let Some(current) = form["cause_category"].as_str().filter(|c| !c.is_empty()) {
        if !configured.contains(&current) {
            causes.push(json!({ "value": current, "label": label(lang, "cause_", current) }));
        }
    }
    let missing = missing_items(lang, view);
    let sections: Vec<Value> = SECTIONS
        .iter()
        .map(|(name, d)| {
            json!({ "name": name, "d": d, "label": lang.text(&format!("ed_{}", d.to_ascii_lowercase())),
                    "hint": lang.text(&format!("ed_hint_{name}")), "value": form[*name], "saved": report[*name],
                    "theirs": theirs.get(*name) })
        })
        .collect();
    let done_message = done.and_then(|d| match d {
        "saved" | "action_added" | "action_done" | "action_verified" | "closed" | "closed_sent" | "sent" => {
            Some(lang.text(&format!("ed_done_{d}")))
        }
        _ => None,
    });
    let has_email = case["customer"]["email"].as_str().is_some_and(|e| !e.is_empty());
    json!({
            "nav": "work", "case": {
                "reference": case["reference"], "subject": case["subject"], "status": case["status"],
                "category": case["category"], "customer_language": case["customer"]["language"],
            },
            "version": version, "closed": closed, "saved": version > 0,
            "closure": if closed { json!({
                "note": report["closure"]["note"], "by": report["closure"]["by"],
                "at": time(&report["closure"]["at"]).map(|t| local_in(tz, &t)),
            }) } else { Value::Null },
            // Sending (again, also once D8 is closed) is offered by triage's `can_send`.
            "may_edit": may_edit, "may_send": view["can_send"].as_bool().unwrap_or(false),
            "read_only": !may_edit && !closed,
            "form": form, "sections": sections, "theirs": theirs, "conflict": again.conflict,
            "team": report["team"], "cause_category": report["cause_category"],
            "cause_label": report["cause_category"].as_str().filter(|c| !c.is_empty()).map(|c| label(lang, "cause_", c)),
            "causes": causes, "disciplines": DISCIPLINES,
            "actions": actions_view(lang, tz, report, today),
            "refused_missing": if again.refused_incomplete { missing.clone() } else { vec![] },
            "missing": missing,
            "new_action": again.new_action.unwrap_or_else(|| json!({ "discipline": "D5" })),
            "done": done_message, "problem": again.problem, "has_email": has_email,
    })
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    render(&state, &ctx, &id, q.done.as_deref(), Redisplay::default()).await
}

/// A refused change is shown on the 8D page itself, with what the user typed kept.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    e: BackendError,
    mut again: Redisplay,
) -> Result<Response, AppError> {
    match refusal_text(ctx.lang, &e) {
        Some((status, message)) => {
            again.status = Some(status);
            again.problem = Some(message);
            render(state, ctx, id, None, again).await
        }
        None => Err(e.into()),
    }
}

fn back(id: &str, reference: Option<&str>, done: &str) -> Response {
    see_other(&format!("/cases/{}/8d?done={done}", encode(reference.unwrap_or(id))))
}

/// Saves D1–D7 from the version the editor started from.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let body = sections_body(&form).map_err(|_| AppError::BadForm("version".into()))?;
    let mut typed = body.clone();
    typed["team"] = json!(field_text(&form, "team"));
    let path = format!("/api/v1/cases/{}/8d", encode(&id));
    match state.backend.put::<Value>(Service::Triage, &path, &body, token).await {
        Ok(view) => Ok(back(&id, view["reference"].as_str(), "saved")),
        Err(e) if code(&e) == Some("stale_version") => {
            let again = Redisplay {
                status: Some(StatusCode::CONFLICT),
                problem: Some(ctx.lang.text("ed_stale")),
                sections: Some(typed),
                conflict: true,
                ..Default::default()
            };
            render(&state, &ctx, &id, None, again).await
        }
        Err(e) => {
            let again = Redisplay {
                sections: Some(typed),
                ..Default::default()
            };
            refused(&state, &ctx, &id, e, again).await
        }
    }
}

/// Adds a D3/D5/D6/D7 action with its owner and due date.
pub async fn add_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let kept = form.to_json();
    let again = |message: String| Redisplay {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        problem: Some(message),
        new_action: Some(kept.clone()),
        ..Default::default()
    };
    let lang = ctx.lang;
    let discipline = form.get("discipline").filter(|d| DISCIPLINES.contains(d));
    let (Some(discipline), Some(description), Some(owner)) = (discipline, form.get("description"), form.get("owner"))
    else {
        return render(&state, &ctx, &id, None, again(lang.text("ed_action_incomplete"))).await;
    };
    let Some(due) = form.get("due_date").and_then(|d| d.parse::<NaiveDate>().ok()) else {
        return render(&state, &ctx, &id, None, again(lang.text("ed_due_date_invalid"))).await;
    };
    let body = json!({ "discipline": discipline, "description": description, "owner": owner, "due_date": due });
    let path = format!("/api/v1/cases/{}/8d/actions", encode(&id));
    match state
        .backend
        .post::<Value>(Service::Triage, &path, &body, Some(token))
        .await
    {
        Ok(view) => Ok(back(&id, view["reference"].as_str(), "action_added")),
        Err(e) => refused(&state, &ctx, &id, e, again(String::new())).await,
    }
}

/// `step` is `done` (with an optional note) or `verify` (effective or not, with a note).
pub async fn action_step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, action, step)): Path<(String, String, String)>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let body = match step.as_str() {
        "done" => json!({ "note": form.get("note").unwrap_or("") }),
        "verify" => {
            let effective = match form.get("effective") {
                Some("true") => true,
                Some("false") => false,
                _ => {
                    let again = Redisplay {
                        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                        problem: Some(ctx.lang.text("ed_verify_choose")),
                        ..Default::default()
                    };
                    return render(&state, &ctx, &id, None, again).await;
                }
            };
            json!({ "effective": effective, "note": form.get("note").unwrap_or("") })
        }
        _ => return Err(AppError::NotFound),
    };
    let path = format!("/api/v1/cases/{}/8d/actions/{}/{step}", encode(&id), encode(&action));
    match state
        .backend
        .post::<Value>(Service::Triage, &path, &body, Some(token))
        .await
    {
        Ok(view) => Ok(back(
            &id,
            view["reference"].as_str(),
            if step == "done" {
                "action_done"
            } else {
                "action_verified"
            },
        )),
        Err(e) => refused(&state, &ctx, &id, e, Redisplay::default()).await,
    }
}

/// D8: closes the report (and sends it to the customer if asked), or shows what is still missing.
pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let body = json!({ "note": form.get("note").unwrap_or("") });
    let path = format!("/api/v1/cases/{}/8d/close", encode(&id));
    match state
        .backend
        .post::<Value>(Service::Triage, &path, &body, Some(token))
        .await
    {
        Ok(view) if form.get("send").is_some() => {
            let path = format!("/api/v1/cases/{}/8d/send", encode(&id));
            match state
                .backend
                .post::<Value>(Service::Triage, &path, &json!({}), Some(token))
                .await
            {
                Ok(_) => Ok(back(&id, view["reference"].as_str(), "closed_sent")),
                Err(e) => {
                    // The closure stands; the page says so rather than "nothing was changed".
                    let (status, why) = refusal_text(ctx.lang, &e)
                        .unwrap_or_else(|| (StatusCode::SERVICE_UNAVAILABLE, ctx.lang.text("ed_send_unavailable")));
                    let again = Redisplay {
                        status: Some(status),
                        problem: Some(say(ctx.lang, "ed_closed_not_sent", &[("why", &why)])),
                        ..Default::default()
                    };
                    render(&state, &ctx, &id, None, again).await
                }
            }
        }
        Ok(view) => Ok(back(&id, view["reference"].as_str(), "closed")),
        // The refusal lists the items in one English sentence; the page lists the view's, in words.
        Err(e) if code(&e) == Some("eight_d_incomplete") => {
            let again = Redisplay {
                status: Some(StatusCode::CONFLICT),
                problem: Some(ctx.lang.text("ed_incomplete")),
                refused_incomplete: true,
                ..Default::default()
            };
            render(&state, &ctx, &id, None, again).await
        }
        Err(e) => refused(&state, &ctx, &id, e, Redisplay::default()).await,
    }
}

/// Mails the report to the customer in their language (triage records it; notification sends it).
pub async fn send(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let path = format!("/api/v1/cases/{}/8d/send", encode(&id));
    match state
        .backend
        .post::<Value>(Service::Triage, &path, &json!({}), Some(token))
        .await
    {
        Ok(view) => Ok(back(&id, view["reference"].as_str(), "sent")),
        Err(e) => refused(&state, &ctx, &id, e, Redisplay::default()).await,
    }
}

/// The body of triage's printable HTML document, or `None` when it is not one.
pub fn document_body(html: &str) -> Option<&str> {
    let start = html.find("<body>")? + "<body>".len();
    let end = html.rfind("</body>")?;
    (start <= end).then(|| &html[start..end])
}

/// The printable document as the customer gets it, in the console's frame (print hides the frame).
pub async fn document(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<DocumentQuery>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let language = match q.lang.as_deref().and_then(Lang::parse) {
        Some(l) => l,
        None => ctx.lang,
    };
    let path = format!("/api/v1/cases/{}/8d/document", encode(&id));
    let query = [("format", "html".to_owned()), ("lang", language.tag().to_owned())];
    let html = match state.backend.get_text(Service::Triage, &path, &query, token).await {
        Ok(h) => h,
        Err(e) if e.is_not_found() => {
            let html = state.render(&ctx, "eight_d_document.html", json!({ "reference": id, "none": true }))?;
            return Ok((StatusCode::NOT_FOUND, html).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    // Triage escapes every value it puts in the document, and the console's CSP runs no inline script.
    let body = document_body(&html).map(str::to_owned);
    let text = match body {
        Some(_) => None,
        None => Some(
            state
                .backend
                .get_text(
                    Service::Triage,
                    &path,
                    &[("format", "text".to_owned()), ("lang", language.tag().to_owned())],
                    token,
                )
                .await?,
        ),
    };
    let html = state.render(
        &ctx,
        "eight_d_document.html",
        json!({ "nav": "work", "reference": id, "document": body, "text": text, "doc_lang": language.tag() }),
    )?;
    Ok(html.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_d8_waits_for_is_said_in_the_users_language_from_triages_codes() {
        let view = json!({
        "missing": ["D1: no team member", "D7: prevention is empty", "D4: no root-cause category chosen",
                    "D5: no corrective action", "D5 action \"Replace the heater\" is not done",
                    "D7 action \"Alarm \"A\"\" has no effective verification", "D9: the moon is not aligned"],
        "missing_items": [
            {"code": "no_team"}, {"code": "empty_section", "discipline": "D7"}, {"code": "no_cause_category"},
            {"code": "no_corrective_action"},
            {"code": "action_not_done", "discipline": "D5", "action": "a1", "description": "Replace the heater"},
            {"code": "action_not_verified", "discipline": "D7", "action": "a2", "description": "Alarm \"A\""},
            {"code": "moon_not_aligned"}
        ]});
        let zh = missing_items(Lang::ZhCn, &view);
        assert_eq!(
            zh[..6],
            [
                Lang::ZhCn.text("ed_missing_team"),
                "D7 预防措施：尚未填写".to_owned(),
                Lang::ZhCn.text("ed_missing_cause_category"),
                Lang::ZhCn.text("ed_missing_d5_action"),
                "D5 措施“Replace the heater”未完成".to_owned(),
                "D7 措施“Alarm \"A\"”尚未验证有效".to_owned(),
            ]
        );
        // A code this console does not know yet: triage's own sentence rather than nothing or a code.
        assert_eq!(zh[6], "D9: the moon is not aligned");
        assert_eq!(
            missing_item(Lang::En, &json!({"code": "moon_not_aligned"}), None),
            "Moon not aligned"
        );
        let en = missing_items(Lang::En, &view);
        assert_eq!(en[1], "D7 Prevention: not written yet");
        assert_eq!(en[4], "D5 action “Replace the heater” is not done");
    }

    #[test]
    fn the_form_becomes_the_edit_triage_expects() {
        let form = Fields(vec![
            ("version".into(), "3".into()),
            ("team".into(), "张伟，质量工程师\r\nLi Lei, QE\r\n\r\n王芳".into()),
            ("problem".into(), " Cracked housings ".into()),
            ("corrective".into(), "Heater\r\nreplaced".into()),
            ("cause_category".into(), "process".into()),
            ("csrf".into(), "x".into()),
        ]);
        let body = sections_body(&form).unwrap();
        assert_eq!(body["version"], 3);
        assert_eq!(
            body["team"],
            json!([{"name": "张伟", "role": "质量工程师"}, {"name": "Li Lei", "role": "QE"}, {"name": "王芳", "role": ""}])
        );
        assert_eq!(body["problem"], "Cracked housings");
        assert_eq!(
            body["corrective"], "Heater\nreplaced",
            "browsers send CRLF; triage keeps newlines"
        );
        // A section left empty is sent empty: clearing a text is an edit too.
        assert_eq!(body["prevention"], "");
        assert!(body.get("csrf").is_none());
        assert!(sections_body(&Fields(vec![("problem".into(), "x".into())])).is_err());
        assert_eq!(team_text(&body["team"]), "张伟, 质量工程师\nLi Lei, QE\n王芳");
    }

    #[test]
    fn actions_say_where_they_stand() {
        let report = json!({ "actions": [
            {"id": "a1", "discipline": "D5", "description": "Heater", "owner": "qe1", "due_date": "2026-01-01",
             "done_at": null, "done_note": "", "verification": null},
            {"id": "a2", "discipline": "D7", "description": "Alarm", "owner": "qe1", "due_date": "2026-01-01",
             "done_at": "2026-01-02T01:00:00Z", "done_note": "", "verification": {"effective": true, "note": "ok", "by": "qe2", "at": "2026-01-03T01:00:00Z"}},
            {"id": "a3", "discipline": "D3", "description": "Stock", "owner": "qe1", "due_date": "2026-01-01",
             "done_at": null, "done_note": "", "verification": {"effective": false, "note": "again", "by": "qe2", "at": "2026-01-03T01:00:00Z"}}
        ]});
        let today = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let v = actions_view(Lang::En, chrono_tz::Asia::Shanghai, &report, today);
        assert_eq!(
            (v[0]["state"].as_str(), v[0]["overdue"].as_bool()),
            (Some("open"), Some(true))
        );
        assert_eq!(
            (v[1]["state"].as_str(), v[1]["overdue"].as_bool()),
            (Some("verified"), Some(false))
        );
        assert_eq!(v[2]["state"], "ineffective");
        assert_eq!(v[1]["verification"]["at"], "2026-01-03 09:00");
    }

    fn case() -> Value {
        json!({"reference": "SH01-20261120-0001", "subject": "Cracked housings", "status": "in_progress",
               "category": "product_quality", "customer": {"name": "Li Lei", "email": "lilei@example.com", "language": "en"}})
    }

    fn view(closed: bool, can_edit: bool) -> Value {
        json!({"case_id": "x", "reference": "SH01-20261120-0001", "version": 2, "closed": closed,
               "missing": ["D7: prevention is empty", "D5 action \"Replace the heater\" is not done"],
               "missing_items": [{"code": "empty_section", "discipline": "D7"},
                                 {"code": "action_not_done", "discipline": "D5", "action": "0193a000-0000-7000-8000-0000000000aa",
                                  "description": "Replace the heater"}],
               "can_edit": can_edit && !closed, "can_send": can_edit,
               "cause_categories": ["material", "process", "supplier"],
               "report": {"team": [{"name": "Zhang Wei", "role": "QE"}], "problem": "Cracked housings in B7",
                          "containment": "B7 quarantined", "root_cause": "Mould too cold", "cause_category": "process",
                          "corrective": "Heater replaced", "verification": "", "prevention": "",
                          "actions": [{"id": "0193a000-0000-7000-8000-0000000000aa", "discipline": "D5", "description": "Replace the heater",
                                       "owner": "qe1", "due_date": "2026-12-01", "done_at": null, "done_note": "", "verification": null}],
                          "closure": if closed { json!({"note": "Customer informed", "by": "qe1", "at": "2026-11-25T02:00:00Z"}) } else { Value::Null }}})
    }

    fn page(lang: Lang, can_edit: bool, closed: bool, again: Redisplay) -> String {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let context = page_context(
            lang,
            chrono_tz::Asia::Shanghai,
            &case(),
            &view(closed, can_edit),
            None,
            again,
            today,
        );
        crate::pages::labels::rendered("eight_d.html", lang, context)
    }

    #[test]
    fn an_editor_gets_every_form_with_its_token_and_labels() {
        let html = page(Lang::ZhCn, true, false, Redisplay::default());
        for form in [
            "id=\"sections-form\"",
            "id=\"new-action\"",
            "id=\"close-eight-d\"",
            "id=\"close-send\"",
            "id=\"send-eight-d\"",
            "/8d/actions/0193a000-0000-7000-8000-0000000000aa/done",
        ] {
            assert!(html.contains(form), "{form}");
        }
        assert!(html.contains(r#"<input type="hidden" name="version" value="2">"#));
        assert!(html.contains("D7 预防措施：尚未填写") && html.contains("D5 措施“Replace the heater”未完成"));
        assert!(html.contains(r#"<label for="sec-problem">D2 问题描述</label>"#));
        assert_eq!(
            html.matches(r#"name="csrf" value="token""#).count(),
            html.matches("<form").count()
        );
        let text = crate::pages::labels::visible(&html);
        assert!(!text.contains("ed_") && !text.contains("is empty"), "{text}");
    }

    #[test]
    fn the_root_cause_categories_are_triages() {
        let html = page(Lang::ZhCn, true, false, Redisplay::default());
        let options: Vec<&str> = html
            .split(r#"<option value=""#)
            .skip(1)
            .map(|o| &o[..o.find('"').unwrap()])
            .filter(|v| !v.is_empty() && !v.starts_with('D'))
            .collect();
        assert_eq!(
            options,
            ["material", "process", "supplier"],
            "the view's list, in its order"
        );
        assert!(html.contains(r#"<option value="process" selected>工艺</option>"#));
        // A saved category the configuration no longer lists stays on the form (a save would clear it).
        let mut v = view(false, true);
        v["report"]["cause_category"] = json!("witchcraft");
        let context = page_context(
            Lang::En,
            chrono_tz::UTC,
            &case(),
            &v,
            None,
            Redisplay::default(),
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        );
        assert_eq!(
            context["causes"][3],
            json!({"value": "witchcraft", "label": "Witchcraft"})
        );
    }

    #[test]
    fn a_user_triage_does_not_let_edit_sees_the_report_and_no_form() {
        // An agent of the department: triage's view says can_edit false.
        let html = page(Lang::En, false, false, Redisplay::default());
        assert!(html.contains(&Lang::En.text("ed_read_only")));
        assert!(html.contains("Mould too cold") && html.contains("Zhang Wei (QE)"));
        assert!(!html.contains("<form"), "no form at all for a reader");
        // A closed report: nobody edits it (triage's can_edit ends with D8), and it says who closed it; an editor
        // may still send it again (triage's can_send), a reader may not.
        let html = page(Lang::En, true, true, Redisplay::default());
        assert_eq!(html.matches("<form").count(), 1, "only sending: {html}");
        assert!(html.contains(r#"id="send-eight-d""#));
        assert!(!html.contains(&Lang::En.text("ed_read_only")), "closed, not read-only");
        assert!(html.contains("Customer informed"));
        let html = page(Lang::En, false, true, Redisplay::default());
        assert!(!html.contains("<form"), "a reader of a closed report: {html}");
    }

    #[test]
    fn a_stale_save_keeps_the_users_text_and_shows_what_the_other_person_saved() {
        let mut typed = form_of_report(&view(false, true)["report"]);
        typed["root_cause"] = json!("My own analysis <b>");
        typed["problem"] = json!("My wording");
        let again = Redisplay {
            status: Some(StatusCode::CONFLICT),
            problem: Some(Lang::En.text("ed_stale")),
            sections: Some(typed),
            conflict: true,
            ..Default::default()
        };
        let html = page(Lang::En, true, false, again);
        assert!(html.contains("Someone else saved this report"));
        assert!(html.contains(">My own analysis &lt;b&gt;</textarea>"), "kept, escaped");
        assert!(html.contains(r#"id="theirs-root_cause""#) && html.contains("Mould too cold"));
        assert!(html.contains(r#"id="theirs-problem""#));
        assert!(!html.contains(r#"id="theirs-containment""#), "only what differs");
        assert!(
            html.contains(r#"name="version" value="2""#),
            "the next save starts from theirs"
        );
    }

    #[test]
    fn a_refused_d8_lists_what_is_missing() {
        let again = Redisplay {
            status: Some(StatusCode::CONFLICT),
            problem: Some(Lang::ZhCn.text("ed_incomplete")),
            refused_incomplete: true,
            ..Default::default()
        };
        let html = page(Lang::ZhCn, true, false, again);
        assert!(
            html.contains("D8 还不能结案")
                && html.contains(
                    r#"<ul id="refused-missing"><li>D7 预防措施：尚未填写</li><li>D5 措施“Replace the heater”未完成</li></ul>"#
                ),
            "{html}"
        );
    }

    #[test]
    fn the_preview_page_embeds_the_document_and_prints_without_script() {
        let html = crate::pages::labels::rendered(
            "eight_d_document.html",
            Lang::En,
            json!({"reference": "SH01-20261120-0001", "document": "<h1>8D report</h1><h2>D4 Root cause</h2>", "doc_lang": "en"}),
        );
        assert!(html.contains(r#"<article class="card document" id="document" lang="en"><h1>8D report</h1>"#));
        assert!(html.contains("data-print hidden") && html.contains("This is the report as the customer gets it"));
    }

    #[test]
    fn the_document_body_is_taken_from_triages_page() {
        assert_eq!(
            document_body("<html><head></head><body><h1>8D</h1></body></html>"),
            Some("<h1>8D</h1>")
        );
        assert_eq!(document_body("plain text"), None);
    }
}
