//! The revisit queue (calls due now inside the call window), one revisit with its questionnaire,
//! and the attempt and outcome forms, over triage's `/api/v1/revisits`. Where triage does not offer
//! revisits (404), the pages say so instead of failing.
use auth::{Claims, Role};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{see_other, work::local};
use crate::{
    backend::{BackendError, Service},
    error::AppError,
    i18n::Lang,
    render::{encode, AppState, Ctx, Fields},
};

pub const ATTEMPT_KINDS: [&str; 5] = ["no_answer", "busy", "wrong_number", "call_back", "declined"];
pub const METHODS: [&str; 5] = ["phone", "sms", "online", "email", "on_site"];

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    site: Option<String>,
    #[serde(default)]
    all: bool,
    done: Option<String>,
    /// Where this page starts (triage's `next_cursor` of the page before); absent: the first page.
    cursor: Option<String>,
    /// The cursors of the pages before this one after the first, comma-separated: the way back.
    trail: Option<String>,
    /// Revisits per page (1 to `MAX_PAGE`).
    limit: Option<i64>,
}

/// Revisits per page unless `limit` says otherwise (triage's largest page).
pub const MAX_PAGE: i64 = 100;

/// The queue's links to the next and the previous page (plain links: no JavaScript), each keeping the filters
/// and the page size. Triage's keyset pages only go forward, so a link forward carries the way back in `trail`.
#[derive(Debug, PartialEq)]
pub struct Pager {
    pub next: Option<String>,
    pub previous: Option<String>,
}

pub fn pager(
    site: Option<&str>,
    all: bool,
    limit: Option<i64>,
    cursor: Option<&str>,
    trail: &[&str],
    next: Option<&str>,
) -> Pager {
    let link = |cursor: Option<&str>, trail: &[&str]| {
        let mut url = format!("/revisits?site={}&all={all}", encode(site.unwrap_or("")));
        if let Some(l) = limit {
            url.push_str(&format!("&limit={l}"));
        }
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={}", encode(c)));
        }
        if !trail.is_empty() {
            url.push_str(&format!("&trail={}", encode(&trail.join(","))));
        }
        url
    };
    let next = next.map(|n| {
        let mut back = trail.to_vec();
        back.extend(cursor);
        link(Some(n), &back)
    });
    let previous = cursor.map(|_| match trail.split_last() {
        Some((last, before)) => link(Some(last), before),
        None => link(None, &[]),
    });
    Pager { next, previous }
}

fn unavailable(state: &AppState, ctx: &Ctx) -> Result<Response, AppError> {
    let html = state.render(ctx, "revisits.html", json!({ "nav": "revisits", "unavailable": true }))?;
    Ok(html.into_response())
}

fn when(state: &AppState, v: &Value) -> Option<String> {
    v.as_str()?.parse::<DateTime<Utc>>().ok().map(|t| local(state, &t))
}

pub async fn queue(State(state): State<AppState>, ctx: Ctx, Query(q): Query<QueueQuery>) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let limit = q.limit.map(|l| l.clamp(1, MAX_PAGE));
    let cursor = q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let trail: Vec<&str> = q
        .trail
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let site = q
        .site
        .as_deref()
        .filter(|s| state.settings.sites.known.iter().any(|k| k == s));
    let mut query: Vec<(&str, String)> = vec![
        ("status", "open".into()),
        ("include_outside_window", q.all.to_string()),
        ("limit", limit.unwrap_or(MAX_PAGE).to_string()),
    ];
    if let Some(s) = site {
        query.push(("site", s.to_owned()));
    }
    if let Some(c) = cursor {
        query.push(("cursor", c.to_owned()));
    }
    let page: Value = match state
        .backend
        .get(Service::Triage, "/api/v1/revisits", &query, token)
        .await
    {
        Ok(p) => p,
        Err(e) if e.is_not_found() => return unavailable(&state, &ctx),
        Err(e) => return Err(e.into()),
    };
    let items: Vec<Value> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut r = r.clone();
            r["due_local"] = json!(when(&state, &r["due_at"]));
            r["window_local"] = json!(when(&state, &r["next_window_start"]));
            r
        })
        .collect();
    let pages = pager(site, q.all, limit, cursor, &trail, page["next_cursor"].as_str());
    let html = state.render(
        &ctx,
        "revisits.html",
        json!({ "nav": "revisits", "items": items, "q": { "site": q.site, "all": q.all, "limit": limit },
                "done": q.done, "next_page": pages.next, "previous_page": pages.previous }),
    )?;
    Ok(html.into_response())
}

/// A question's label in `lang`, whichever way triage spells it.
pub fn question_label(q: &Value, lang: Lang) -> String {
    let (zh, en) = match &q["label"] {
        Value::Object(l) => (
            l.get("zh")
                .or_else(|| l.get("zh-CN"))
                .or_else(|| l.get("zh_cn"))
                .cloned(),
            l.get("en").cloned(),
        ),
        Value::String(s) => (Some(json!(s)), Some(json!(s))),
        _ => (q.get("label_zh").cloned(), q.get("label_en").cloned()),
    };
    let pick = match lang {
        Lang::ZhCn => zh.or(en),
        Lang::En => en.or(zh),
    };
    pick.and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| q["id"].as_str().unwrap_or("").to_owned())
}

fn questions(questionnaire: &Value) -> Vec<Value> {
    match questionnaire {
        Value::Array(a) => a.clone(),
        other => other["questions"].as_array().cloned().unwrap_or_default(),
    }
}

/// Whether `user` may record an attempt or an outcome on a revisit that calls for `required_role` about a case
/// of `case_department` — triage's rule (`domain::revisit::may_record`), so that no form is offered that
/// triage would refuse: managers record any revisit; auditors only read; otherwise the user holds the
/// revisit's role, and a department head's revisit is made by the head of the case's department.
pub fn may_record(user: &Claims, managers: &[Role], required_role: &Value, case_department: &Value) -> bool {
    if user.has_any(managers) {
        return true;
    }
    if user.roles.iter().all(|r| *r == Role::Auditor) {
        return false;
    }
    match serde_json::from_value::<Role>(required_role.clone()) {
        Ok(role) if !user.roles.contains(&role) => false,
        Ok(Role::DepartmentHead) => user.department.as_deref() == case_department.as_str(),
        _ => true,
    }
}

/// Whether a phone number is one intake can look up (not masked for this user's role).
fn looks_like_phone(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    digits >= 5
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')' | '.'))
}

/// What triage answered about a revisit form, in the user's words: (form field, sentence). The field is a form
/// field (`q_<question>`, `signature`, `call_back_at`, …) or `general` for the page.
pub fn refusal_words(lang: Lang, status: u16, field: Option<&str>, message: &str) -> (String, String) {
    let words = |key: &str| lang.text(key);
    if status == 409 {
        return ("general".into(), words("err_revisit_not_open"));
    }
    match field.unwrap_or("") {
        f if f.starts_with("answers.") => {
            let key = if message.contains("required") {
                "err_answer_required"
            } else {
                "err_answer_invalid"
            };
            (format!("q_{}", &f["answers.".len()..]), words(key))
        }
        "signature" => ("signature".into(), words("err_signature_required")),
        "call_back_at" => ("call_back_at".into(), words("err_call_back_at")),
        f @ ("kind" | "method" | "reason") => (f.into(), words("err_required")),
        _ => (
            "general".into(),
            format!("{} {message}", words("err_invalid")).trim().to_owned(),
        ),
    }
}

/// Loads the revisit with what the caller needs to know at a glance — its case, earlier attempts, the previous
/// revisit and the customer's earlier feedback — and renders it with `extra` (a problem, the form as filled).
async fn show(state: &AppState, ctx: &Ctx, id: &str, extra: Value, status: StatusCode) -> Result<Response, AppError> {
    let (user, token) = ctx.staff()?;
    let path = format!("/api/v1/revisits/{}", encode(id));
    let revisit: Value = match state.backend.get(Service::Triage, &path, &[], token).await {
        Ok(r) => r,
        Err(e) if e.is_not_found() => {
            let questionnaire = state
                .backend
                .get::<Value>(Service::Triage, "/api/v1/revisits/questionnaire", &[], token)
                .await;
            if questionnaire.as_ref().is_err_and(BackendError::is_not_found) {
                return unavailable(state, ctx);
            }
            return Err(AppError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    let settings = &state.settings.console;
    let phone = revisit["customer"]["phone"].as_str().unwrap_or("");
    let lookup_allowed = user.has_any(&settings.customer_lookup_roles) && looks_like_phone(phone);
    let previous_path = revisit["previous_id"]
        .as_str()
        .map(|p| format!("/api/v1/revisits/{}", encode(p)));
    let (previous, earlier) = futures::join!(
        async {
            match &previous_path {
                Some(p) => state.backend.get::<Value>(Service::Triage, p, &[], token).await.ok(),
                None => None,
            }
        },
        async {
            if !lookup_allowed {
                return None;
            }
            let query = [("phone", phone.to_owned())];
            state
                .backend
                .get::<Value>(Service::Intake, "/api/v1/customers/lookup", &query, token)
                .await
                .ok()
        }
    );
    let lang = ctx.lang;
    let questionnaire: Vec<Value> = if revisit["questionnaire"].is_array() {
        questions(&revisit["questionnaire"])
    } else {
        let q: Value = state
            .backend
            .get(Service::Triage, "/api/v1/revisits/questionnaire", &[], token)
            .await?;
        questions(&q)
    };
    let questions: Vec<Value> = questionnaire
        .into_iter()
        .map(|mut q| {
            q["text"] = json!(question_label(&q, lang));
            q
        })
        .collect();
    let open = revisit["status"].as_str() == Some("open");
    let recordable = open
        && may_record(
            user,
            &settings.revisit_manager_roles,
            &revisit["required_role"],
            &revisit["case"]["department"],
        );
    let dissatisfied = revisit["status"].as_str() == Some("done") && revisit["satisfied"].as_bool() == Some(false);
    let attempts: Vec<Value> = revisit["attempt_log"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            json!({ "at": when(state, &a["at"]), "actor": a["actor"], "kind": a["kind"],
                    "call_back_at": when(state, &a["call_back_at"]), "note": a["note"] })
        })
        .collect();
    let answers = |r: &Value| -> Vec<Value> {
        let given = &r["outcome"]["answers"];
        questions
            .iter()
            .filter_map(|q| {
                let a = &given[q["id"].as_str()?];
                let shown = match a {
                    Value::Null => return None,
                    Value::Bool(b) => lang.text(if *b { "yes" } else { "no" }),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Some(json!({ "question": q["text"], "answer": shown }))
            })
            .collect()
    };
    let outcome_of = |r: &Value| {
        json!({ "id": r["id"], "sequence": r["sequence"], "status": r["status"], "reason": r["reason"],
                "completed": when(state, &r["completed_at"]), "method": r["method"], "score": r["score"],
                "satisfied": r["satisfied"], "comments": r["outcome"]["comments"], "answers": answers(r),
                "closed_reason": r["closed_reason"] })
    };
    let earlier: Option<Vec<Value>> = earlier.map(|found| {
        found["earlier"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                json!({ "reference": e["reference"], "channel": e["channel"], "subject": e["subject"],
                        "received": when(state, &e["received_at"]),
                        "this_case": e["reference"] == revisit["case_reference"] })
            })
            .collect()
    });
    let mut context = json!({
        "nav": "revisits", "r": revisit, "due_local": when(state, &revisit["due_at"]),
        "created_local": when(state, &revisit["created_at"]),
        "questions": questions, "attempt_kinds": ATTEMPT_KINDS, "methods": METHODS, "attempts": attempts,
        "outcome": (!open).then(|| outcome_of(&revisit)),
        "previous": previous.as_ref().map(outcome_of),
        "earlier": earlier,
        "may_record": recordable,
        "may_close": (open || dissatisfied) && user.has_any(&settings.revisit_manager_roles),
        "form": {}, "errors": {},
    });
    if let (Value::Object(c), Value::Object(e)) = (&mut context, extra) {
        c.extend(e);
    }
    let html = state.render(ctx, "revisit.html", context)?;
    Ok((status, html).into_response())
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    show(&state, &ctx, &id, json!({}), StatusCode::OK).await
}

/// The revisit page again with the form as it was filled and what is wrong with it, in words.
async fn again(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    form: &Fields,
    errors: Map<String, Value>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let problem = errors
        .get("general")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.lang.text("fix_fields"));
    show(
        state,
        ctx,
        id,
        json!({ "form": form.to_json(), "errors": errors, "problem": problem }),
        status,
    )
    .await
}

/// Triage's refusal of a revisit form (409 not open any more, 422 a field) as the page again; anything else
/// is an error page.
async fn refused(state: &AppState, ctx: &Ctx, id: &str, form: &Fields, e: BackendError) -> Result<Response, AppError> {
    match e {
        BackendError::Refused {
            status: status @ (400 | 409 | 422),
            field,
            message,
            ..
        } => {
            let (field, words) = refusal_words(ctx.lang, status, field.as_deref(), &message);
            let mut errors = Map::new();
            errors.insert(field, json!(words.clone()));
            errors.entry("general").or_insert(json!(words));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            again(state, ctx, id, form, errors, status).await
        }
        e => Err(e.into()),
    }
}

/// A local `datetime-local` value as UTC, in the console's time zone.
fn parse_local(state: &AppState, at: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| state.tz.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
}

pub async fn attempt(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let mut errors = Map::new();
    let kind = form.get("kind").filter(|k| ATTEMPT_KINDS.contains(k));
    if kind.is_none() {
        errors.insert("kind".into(), json!(ctx.lang.text("err_required")));
    }
    let call_back_at = match form.get("call_back_at") {
        Some(at) => {
            let parsed = parse_local(&state, at);
            if parsed.is_none() {
                errors.insert("call_back_at".into(), json!(ctx.lang.text("err_date")));
            }
            parsed
        }
        None if kind == Some("call_back") => {
            errors.insert("call_back_at".into(), json!(ctx.lang.text("err_call_back_at")));
            None
        }
        None => None,
    };
    if !errors.is_empty() {
        return again(&state, &ctx, &id, &form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut body = json!({ "kind": kind });
    if let Some(note) = form.get("note") {
        body["note"] = json!(note);
    }
    if let Some(at) = call_back_at {
        body["call_back_at"] = json!(at.to_rfc3339());
    }
    let path = format!("/api/v1/revisits/{}/attempts", encode(&id));
    match state
        .backend
        .post::<Value>(Service::Triage, &path, &body, Some(token))
        .await
    {
        Ok(_) => Ok(see_other("/revisits?done=attempt_saved")),
        Err(e) => refused(&state, &ctx, &id, &form, e).await,
    }
}

/// Closes an unsatisfied loop with a reason (managers): no more follow-ups for this case.
pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let Some(reason) = form.get("reason") else {
        let mut errors = Map::new();
        errors.insert("reason".into(), json!(ctx.lang.text("err_required")));
        return again(&state, &ctx, &id, &form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let path = format!("/api/v1/revisits/{}/close", encode(&id));
    match state
        .backend
        .post::<Value>(Service::Triage, &path, &json!({ "reason": reason }), Some(token))
        .await
    {
        Ok(_) => Ok(see_other("/revisits?done=loop_closed")),
        Err(e) => refused(&state, &ctx, &id, &form, e).await,
    }
}

/// The answers typed by their question's kind (scores as numbers, yes/no as booleans); an unanswered
/// question is left out, never given a default.
pub fn answers(questions: &[Value], form: &Fields) -> Map<String, Value> {
    let mut out = Map::new();
    for q in questions {
        let Some(id) = q["id"].as_str() else { continue };
        let Some(value) = form.get(&format!("q_{id}")) else {
            continue;
        };
        let typed = match q["kind"].as_str() {
            Some("score0to5") => value
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=5).contains(n))
                .map(Value::from)
                .unwrap_or(Value::Null),
            Some("yesno") => match value {
                "yes" => json!(true),
                "no" => json!(false),
                _ => Value::Null,
            },
            _ => json!(value),
        };
        if !typed.is_null() {
            out.insert(id.to_owned(), typed);
        }
    }
    out
}

/// The required questions left unanswered, as form fields with the sentence to show.
pub fn missing_answers(questions: &[Value], answers: &Map<String, Value>, lang: Lang) -> Map<String, Value> {
    questions
        .iter()
        .filter(|q| q["required"].as_bool() == Some(true))
        .filter_map(|q| q["id"].as_str())
        .filter(|id| !answers.contains_key(*id))
        .map(|id| (format!("q_{id}"), json!(lang.text("err_answer_required"))))
        .collect()
}

pub async fn outcome(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let questionnaire: Value = state
        .backend
        .get(Service::Triage, "/api/v1/revisits/questionnaire", &[], token)
        .await?;
    let questions = questions(&questionnaire);
    let given = answers(&questions, &form);
    let mut errors = missing_answers(&questions, &given, ctx.lang);
    let method = form.get("method").filter(|m| METHODS.contains(m));
    if method.is_none() {
        errors.insert("method".into(), json!(ctx.lang.text("err_required")));
    }
    if method == Some("on_site") && form.get("signature").is_none() {
        errors.insert("signature".into(), json!(ctx.lang.text("err_signature_required")));
    }
    if !errors.is_empty() {
        return again(&state, &ctx, &id, &form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut body = json!({ "method": method, "answers": given });
    for key in ["signature", "comments"] {
        if let Some(v) = form.get(key) {
            body[key] = json!(v);
        }
    }
    let path = format!("/api/v1/revisits/{}/outcome", encode(&id));
    let result: Value = match state.backend.post(Service::Triage, &path, &body, Some(token)).await {
        Ok(r) => r,
        Err(e) => return refused(&state, &ctx, &id, &form, e).await,
    };
    let done = if result["case_reopened"].as_bool() == Some(true) {
        "outcome_reopened"
    } else {
        "outcome_saved"
    };
    match form.get("case_reference") {
        Some(reference) => Ok(see_other(&format!("/cases/{}?done={done}", encode(reference)))),
        None => Ok(see_other(&format!("/revisits?done={done}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_forward_and_back_keeping_the_filters() {
        let first = pager(Some("sh01"), true, Some(2), None, &[], Some("c1"));
        assert_eq!(first.previous, None);
        assert_eq!(
            first.next.as_deref(),
            Some("/revisits?site=sh01&all=true&limit=2&cursor=c1")
        );
        let second = pager(Some("sh01"), true, Some(2), Some("c1"), &[], Some("c2"));
        assert_eq!(second.previous.as_deref(), Some("/revisits?site=sh01&all=true&limit=2"));
        assert_eq!(
            second.next.as_deref(),
            Some("/revisits?site=sh01&all=true&limit=2&cursor=c2&trail=c1")
        );
        let third = pager(None, false, None, Some("c2"), &["c1"], Some("c3"));
        assert_eq!(third.previous.as_deref(), Some("/revisits?site=&all=false&cursor=c1"));
        assert_eq!(
            third.next.as_deref(),
            Some("/revisits?site=&all=false&cursor=c3&trail=c1%2Cc2")
        );
        let last = pager(None, false, None, Some("2026-11-23T03:00:00.000000Z_x"), &[], None);
        assert_eq!(last.next, None);
        assert_eq!(last.previous.as_deref(), Some("/revisits?site=&all=false"));
        assert!(pager(None, false, None, None, &[], Some("2026-11-23T03:00:00+00:00_x"))
            .next
            .unwrap()
            .ends_with("cursor=2026-11-23T03%3A00%3A00%2B00%3A00_x"));
    }

    #[test]
    fn answers_are_typed_by_kind_and_labels_follow_the_language() {
        let qs = vec![
            json!({"id": "overall", "kind": "score0to5", "label": {"zh": "总体满意度", "en": "Overall"}}),
            json!({"id": "solved", "kind": "yesno", "label_zh": "解决了吗", "label_en": "Solved?"}),
            json!({"id": "remarks", "kind": "text"}),
        ];
        let f = Fields(vec![
            ("q_overall".into(), "1".into()),
            ("q_solved".into(), "no".into()),
            ("q_remarks".into(), "still broken".into()),
        ]);
        let a = answers(&qs, &f);
        assert_eq!(
            Value::Object(a),
            json!({"overall": 1, "solved": false, "remarks": "still broken"})
        );
        // Nothing chosen, or something no question takes: left out, never a default score.
        let untouched = Fields(vec![
            ("q_overall".into(), "".into()),
            ("q_solved".into(), "maybe".into()),
        ]);
        assert!(answers(&qs, &untouched).is_empty());
        assert!(answers(&qs, &Fields(vec![("q_overall".into(), "9".into())])).is_empty());
        assert_eq!(question_label(&qs[0], Lang::ZhCn), "总体满意度");
        assert_eq!(question_label(&qs[1], Lang::En), "Solved?");
        assert_eq!(question_label(&qs[2], Lang::En), "remarks");
    }

    fn user(roles: &[Role], department: Option<&str>) -> Claims {
        let keys = auth::AuthKeys::new(auth::DEV_SECRET);
        let token = keys
            .issue(
                "u",
                "U",
                roles.to_vec(),
                department.map(Into::into),
                vec![],
                chrono::Duration::hours(1),
            )
            .unwrap();
        keys.verify(&token).unwrap()
    }

    #[test]
    fn forms_are_offered_only_to_those_triage_lets_record() {
        let managers = [Role::MarketingManager, Role::Administrator];
        let (agent, head) = (json!("agent"), json!("department_head"));
        let quality = json!("quality");
        assert!(may_record(&user(&[Role::Agent], None), &managers, &agent, &quality));
        assert!(
            !may_record(&user(&[Role::Agent], None), &managers, &head, &quality),
            "not the revisit's role"
        );
        assert!(may_record(
            &user(&[Role::DepartmentHead], Some("quality")),
            &managers,
            &head,
            &quality
        ));
        assert!(
            !may_record(
                &user(&[Role::DepartmentHead], Some("sales")),
                &managers,
                &head,
                &quality
            ),
            "the head of another department"
        );
        assert!(
            may_record(&user(&[Role::MarketingManager], None), &managers, &head, &quality),
            "a manager"
        );
        assert!(
            !may_record(&user(&[Role::Auditor], None), &managers, &agent, &quality),
            "auditors read"
        );
    }

    #[test]
    fn refusals_are_said_in_words_next_to_their_field() {
        let (field, words) = refusal_words(Lang::ZhCn, 422, Some("answers.overall"), "is required");
        assert_eq!((field.as_str(), words.as_str()), ("q_overall", "请回答此问题。"));
        let (field, words) = refusal_words(Lang::ZhCn, 422, Some("signature"), "an on-site revisit needs…");
        assert_eq!(
            (field.as_str(), words.as_str()),
            ("signature", "现场回访需要顾客签名。")
        );
        let (field, words) = refusal_words(Lang::En, 409, None, "the revisit is done");
        assert_eq!(field, "general");
        assert!(!words.contains("the revisit is done"), "no raw backend text: {words}");
        let qs = vec![
            json!({"id": "overall", "kind": "score0to5", "required": true}),
            json!({"id": "design", "kind": "score0to5"}),
        ];
        let missing = missing_answers(&qs, &Map::new(), Lang::En);
        assert_eq!(missing.keys().collect::<Vec<_>>(), vec!["q_overall"]);
    }
}
