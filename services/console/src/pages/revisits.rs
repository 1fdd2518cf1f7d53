//! The revisit queue (calls due now inside the call window), one revisit with its questionnaire,
//! and the attempt and outcome forms, over triage's `/api/v1/revisits`. Where triage does not offer
//! revisits (404), the pages say so instead of failing.
use axum::{
    extract::{Path, Query, State},
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

pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let path = format!("/api/v1/revisits/{}", encode(&id));
    let (revisit, questionnaire) = futures::join!(
        state.backend.get::<Value>(Service::Triage, &path, &[], token),
        state
            .backend
            .get::<Value>(Service::Triage, "/api/v1/revisits/questionnaire", &[], token),
    );
    let revisit = match revisit {
        Ok(r) => r,
        Err(e) if e.is_not_found() && questionnaire.as_ref().is_err_and(BackendError::is_not_found) => {
            return unavailable(&state, &ctx)
        }
        Err(e) => return Err(e.into()),
    };
    let questions: Vec<Value> = questions(&questionnaire?)
        .into_iter()
        .map(|q| {
            let mut q = q.clone();
            q["text"] = json!(question_label(&q, ctx.lang));
            q
        })
        .collect();
    let html = state.render(
        &ctx,
        "revisit.html",
        json!({ "nav": "revisits", "r": revisit, "due_local": when(&state, &revisit["due_at"]),
                "questions": questions, "attempt_kinds": ATTEMPT_KINDS, "methods": METHODS,
                "may_close": revisit["status"].as_str() == Some("open")
                    && ctx.has_any(&state.settings.console.revisit_manager_roles) }),
    )?;
    Ok(html.into_response())
}

pub async fn attempt(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let kind = form
        .get("kind")
        .filter(|k| ATTEMPT_KINDS.contains(k))
        .ok_or_else(|| AppError::BadForm(ctx.lang.text("err_required")))?;
    let mut body = json!({ "kind": kind });
    if let Some(note) = form.get("note") {
        body["note"] = json!(note);
    }
    if let Some(at) = form.get("call_back_at") {
        let local = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|t| state.tz.from_local_datetime(&t).earliest())
            .ok_or_else(|| AppError::BadForm(ctx.lang.text("err_date")))?;
        body["call_back_at"] = json!(local.with_timezone(&Utc).to_rfc3339());
    }
    let path = format!("/api/v1/revisits/{}/attempts", encode(&id));
    state
        .backend
        .post::<Value>(Service::Triage, &path, &body, Some(token))
        .await?;
    Ok(see_other("/revisits?done=attempt_saved"))
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
    let reason = form
        .get("reason")
        .ok_or_else(|| AppError::BadForm(ctx.lang.text("err_required")))?;
    let path = format!("/api/v1/revisits/{}/close", encode(&id));
    state
        .backend
        .post::<Value>(Service::Triage, &path, &json!({ "reason": reason }), Some(token))
        .await?;
    Ok(see_other("/revisits?done=loop_closed"))
}

/// The answers typed by their question's kind (scores as numbers, yes/no as booleans).
pub fn answers(questions: &[Value], form: &Fields) -> Map<String, Value> {
    let mut out = Map::new();
    for q in questions {
        let Some(id) = q["id"].as_str() else { continue };
        let Some(value) = form.get(&format!("q_{id}")) else {
            continue;
        };
        let typed = match q["kind"].as_str() {
            Some("score0to5") => value.parse::<i64>().map(Value::from).unwrap_or(Value::Null),
            Some("yesno") => json!(value == "yes"),
            _ => json!(value),
        };
        if !typed.is_null() {
            out.insert(id.to_owned(), typed);
        }
    }
    out
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
    let method = form.get("method").filter(|m| METHODS.contains(m)).unwrap_or("phone");
    let mut body = json!({ "method": method, "answers": answers(&questions(&questionnaire), &form) });
    for key in ["signature", "comments"] {
        if let Some(v) = form.get(key) {
            body[key] = json!(v);
        }
    }
    let path = format!("/api/v1/revisits/{}/outcome", encode(&id));
    let result: Value = match state.backend.post(Service::Triage, &path, &body, Some(token)).await {
        Ok(r) => r,
        Err(
            e @ BackendError::Refused {
                status: 409 | 422 | 400,
                ..
            },
        ) => {
            let view = AppError::Backend(e).view().expect("a refusal has a view");
            let html = state.render(
                &ctx,
                "revisits.html",
                json!({ "nav": "revisits", "items": [], "problem": format!("{} {}", ctx.lang.text(view.message_key), view.detail.unwrap_or_default()) }),
            )?;
            return Ok((view.status, html).into_response());
        }
        Err(e) => return Err(e.into()),
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
        assert_eq!(question_label(&qs[0], Lang::ZhCn), "总体满意度");
        assert_eq!(question_label(&qs[1], Lang::En), "Solved?");
        assert_eq!(question_label(&qs[2], Lang::En), "remarks");
    }
}
