//! The console's router without any backend running: sign-in form, redirects, CSRF refusal, the
//! error page in words, security headers, static assets. (With the real services: tests/tests/console.rs.)
use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use console::{
    session::Session,
    settings::{BackendSettings, ConsoleSettings, SecureCookie, Settings},
};
use tower::ServiceExt;

const SECRET: &str = "test-cookie-secret";

fn settings() -> Settings {
    // Nothing listens on port 9: every backend is unavailable.
    let down = "http://127.0.0.1:9".to_owned();
    Settings {
        http: settings::HttpSettings {
            host: "127.0.0.1".into(),
            port: 0,
            public_url: None,
        },
        sites: settings::SitesSettings {
            known: vec!["sh01".into()],
            serve: vec![],
        },
        auth: auth::AuthSettings {
            secret: auth::DEV_SECRET.into(),
        },
        backends: BackendSettings {
            intake: down.clone(),
            triage: down.clone(),
            notification: down.clone(),
            reporting: down.clone(),
            scheduler: down,
            timeout_ms: 500,
        },
        console: ConsoleSettings {
            cookie_secret: SECRET.into(),
            secure_cookie: SecureCookie::Auto,
            session_hours: 1,
            default_language: "zh-CN".into(),
            timezone: "Asia/Shanghai".into(),
            page_size: 10,
            revisit_roles: vec![auth::Role::Agent],
            revisit_manager_roles: vec![auth::Role::Administrator],
            phone_intake_roles: vec![auth::Role::Agent, auth::Role::Handler],
            customer_lookup_roles: vec![auth::Role::Agent, auth::Role::Handler],
            departments: vec!["quality".into(), "sales".into()],
            export_timeout_secs: 10,
            export_wait_ms: 2000,
            export_max_bytes: 1 << 20,
        },
    }
}

fn app() -> Router {
    console::startup::router(console::startup::state(settings()).unwrap())
}

fn signed_in_cookie() -> (String, String) {
    let token = auth::AuthKeys::new(auth::DEV_SECRET)
        .issue(
            "h1",
            "Handler One",
            vec![auth::Role::Handler],
            Some("quality".into()),
            vec![],
            chrono::Duration::hours(1),
        )
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let session = Session::signed_in(token, now, 3600);
    (
        format!("console_session={}", session.encode(SECRET.as_bytes())),
        session.csrf,
    )
}

async fn body(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn pages_need_a_session_and_the_sign_in_form_sets_one() {
    let r = app()
        .oneshot(Request::get("/work?status=new").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/login?next=%2Fwork%3Fstatus%3Dnew");

    let r = app()
        .oneshot(
            Request::get("/login")
                .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("console_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain HTTP on loopback in development");
    assert!(r.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = body(r).await;
    assert!(
        html.contains(r#"<label for="user">User name</label>"#),
        "labelled fields, in English"
    );
    assert!(html.contains(r#"name="csrf" value=""#));
}

#[tokio::test]
async fn a_form_without_its_token_is_refused_in_words() {
    let (cookie, _) = signed_in_cookie();
    let r = app()
        .oneshot(
            Request::post("/cases/X-1/act/note")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("text=hello"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = body(r).await;
    assert!(html.contains("表单已过期或来源不明"), "{html}");
    assert!(html.contains("Handler One"), "the page still knows who is signed in");
}

#[tokio::test]
async fn a_backend_that_is_down_is_explained_not_dumped() {
    let (cookie, csrf) = signed_in_cookie();
    let r = app()
        .oneshot(
            Request::post("/cases/X-1/act/note")
                .header(header::COOKIE, format!("{cookie}; console_lang=en"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("text=hello&csrf={csrf}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let html = body(r).await;
    assert!(
        html.contains("A service is not available right now; nothing was changed."),
        "{html}"
    );
    assert!(!html.contains("127.0.0.1:9"), "no internals");
}

#[tokio::test]
async fn a_tampered_session_is_no_session_and_admin_pages_are_for_admins() {
    let (cookie, _) = signed_in_cookie();
    let tampered = cookie.replacen("~", "~1", 1);
    let r = app()
        .oneshot(
            Request::get("/dashboard")
                .header(header::COOKIE, tampered)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "back to sign in");
    let r = app()
        .oneshot(
            Request::get("/admin")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app()
        .oneshot(Request::get("/static/console.css").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
    let r = app()
        .oneshot(Request::get("/health/live").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app()
        .oneshot(Request::get("/nowhere").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_language_switch_is_remembered_and_only_goes_back_home() {
    let r = app()
        .oneshot(Request::get("/lang/en?next=%2Fwork").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.headers()[header::LOCATION], "/work");
    assert!(r.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .starts_with("console_lang=en;"));
    let r = app()
        .oneshot(
            Request::get("/lang/en?next=https%3A%2F%2Fevil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.headers()[header::LOCATION], "/work");
}

/// The markup mistakes assistive technology trips over: an element described twice or by an id that is not on
/// the page, a header cell without words, a label on an element without a role.
fn accessible(template: &str, html: &str) {
    for tag in html.split('<').skip(1).map(|t| &t[..t.find('>').unwrap_or(t.len())]) {
        let described: Vec<&str> = tag
            .match_indices("aria-describedby=\"")
            .map(|(i, _)| &tag[i + 18..])
            .collect();
        assert!(described.len() <= 1, "{template}: described twice: <{tag}>");
        for ids in described {
            for id in ids[..ids.find('"').unwrap()].split_whitespace() {
                assert!(
                    html.contains(&format!("id=\"{id}\"")),
                    "{template}: no #{id} for <{tag}>"
                );
            }
        }
        if tag.starts_with("span ") && tag.contains("aria-label=") {
            assert!(tag.contains("role="), "{template}: a label on a plain span: <{tag}>");
        }
    }
    assert!(
        !html.contains("\"col\"></th>") && !html.contains("<th></th>"),
        "{template}: an empty header cell"
    );
}

/// Every template renders in both languages with the shapes the pages give it, including the
/// branches the browser test does not reach (a case not triaged yet, revisits unavailable, errors).
#[test]
fn every_template_renders_its_rarer_branches() {
    use console::{i18n::Lang, render::Ctx};
    use serde_json::json;
    let state = console::startup::state(settings()).unwrap();
    let user = auth::AuthKeys::new(auth::DEV_SECRET)
        .verify(
            &auth::AuthKeys::new(auth::DEV_SECRET)
                .issue(
                    "a1",
                    "Admin",
                    vec![auth::Role::Administrator],
                    None,
                    vec![],
                    chrono::Duration::hours(1),
                )
                .unwrap(),
        )
        .unwrap();
    for lang in [Lang::ZhCn, Lang::En] {
        let ctx = Ctx {
            lang,
            session: Some(Session::anonymous(0)),
            user: Some(user.clone()),
            here: "/x".into(),
        };
        let cases = [
            ("case.html", json!({ "pending": "SH01-20261123-0001" })),
            ("revisits.html", json!({ "unavailable": true })),
            (
                "revisits.html",
                json!({ "items": [], "q": {}, "done": "attempt_saved", "problem": "x" }),
            ),
            (
                "intake.html",
                json!({ "form": { "phone": "1" }, "errors": { "phone": "bad", "content": "required", "received_at": "bad" },
                        "lookup": { "earlier": [] },
                        "may_lookup": true, "looked_up": true }),
            ),
            (
                "admin.html",
                json!({ "roles": ["agent"], "configuration": [], "form": { "roles": ["agent"] }, "errors": { "id": "taken" } }),
            ),
            (
                "reports.html",
                json!({ "kinds": ["monthly"], "kind": "monthly", "print": true, "charts": [],
                                     "report": { "period": "2026-11", "total": 0, "change_vs_previous_pct": null }, "q": {} }),
            ),
            // Reporting has no figures at all yet (a new installation).
            (
                "dashboard.html",
                console::pages::dashboard::view(lang, None, &json!({})),
            ),
            (
                "work.html",
                json!({ "rows": [], "statuses": ["new"], "classes": [], "categories": [], "severities": [],
                        "departments": ["quality"], "q": { "scope": "department" }, "errors": { "from": "bad" },
                        "has_department": true, "my_department": "quality" }),
            ),
            (
                "report_export.html",
                json!({ "job": { "id": "x", "state": "failed", "format": "xlsx", "title": "Monthly",
                                 "message": "m", "size": "0 B", "file": "/f" } }),
            ),
            (
                "revisit.html",
                json!({ "r": { "id": "r1", "case_reference": "SH01-1", "sequence": 2, "status": "done",
                               "reason": "follow_up", "required_role": "agent", "customer": { "name": "张*" } },
                        "questions": [], "attempts": [], "earlier": [], "form": {}, "errors": {},
                        "outcome": { "status": "done", "score": 1, "satisfied": false, "answers": [] },
                        "previous": { "id": "r0", "sequence": 1, "status": "done", "reason": "after_close",
                                      "answers": [{ "question": "q", "answer": "a" }] } }),
            ),
            ("error.html", json!({ "message": "m", "detail": "d" })),
            (
                "admin_staff.html",
                json!({ "roles": ["agent"], "account": { "id": "x", "roles": ["agent"], "active": true },
                        "form": { "name": "" }, "errors": { "name": "required", "password": "short", "email": "bad" },
                        "can_edit": true, "changes": [] }),
            ),
        ];
        for (template, context) in cases {
            let html = state
                .render(&ctx, template, context)
                .unwrap_or_else(|e| panic!("{template}: {e:?}"))
                .0;
            assert!(html.contains(&format!("<html lang=\"{}\">", lang.tag())), "{template}");
            accessible(template, &html);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The pages against a fake of the other services: what the console asks them, and what the user sees.

use std::sync::{Arc, Mutex};

use axum::{
    extract::{Path as UrlPath, Query as UrlQuery, Request as AnyRequest},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{json, Value};

/// What the fake services were asked: `METHOD path?query` and the bearer token.
type Log = Arc<Mutex<Vec<(String, String)>>>;

/// An Excel workbook as reporting sends one (a zip; only its first bytes matter here).
const XLSX: &[u8] = b"PK\x03\x04 a workbook";
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn case(reference: &str, next_due: Option<&str>, overdue: bool) -> Value {
    json!({ "id": "00000000-0000-0000-0000-000000000001", "reference": reference, "site": "sh01",
            "channel": "phone", "status": "in_progress", "class": "complaint", "category": "product_quality",
            "severity": "major", "department": "quality", "assignee": "h1", "overdue_level": 0,
            "report_count": 1, "subject": "包装破损", "received_at": "2026-11-23T02:00:00Z",
            "opened_at": "2026-11-23T02:00:00Z", "next_due_at": next_due, "next_due_clock": "first_reply",
            "overdue": overdue })
}

fn revisit(status: &str, required_role: &str) -> Value {
    json!({ "id": "r2", "case_id": "c1", "case_reference": "SH01-20261123-0001", "site": "sh01",
            "due_at": "2026-11-24T02:00:00Z", "reason": "follow_up", "sequence": 2, "status": status,
            "required_role": required_role, "attempts": 1,
            "customer": { "name": "张三", "phone": "13800000000", "email": null },
            "callable_now": true, "time_zone": "Asia/Shanghai", "note": null, "method": null, "score": null,
            "satisfied": null, "outcome": null, "closed_reason": null, "previous_id": "r1", "created_by": "system",
            "created_at": "2026-11-23T02:00:00Z", "completed_at": null,
            "attempt_log": [{ "at": "2026-11-23T03:00:00Z", "actor": "agent1", "kind": "no_answer",
                              "call_back_at": null, "note": "无人接听" }],
            "questionnaire": [
                { "id": "overall", "label_zh": "整体打分", "label_en": "Overall score", "kind": "score0to5", "required": true },
                { "id": "problem_reported", "label_zh": "有新问题吗", "label_en": "A new problem?", "kind": "yesno" } ],
            "case": { "id": "c1", "reference": "SH01-20261123-0001", "status": "reopened", "class": "complaint",
                      "category": "product_quality", "severity": "important", "department": "quality",
                      "subject": "包装破损" } })
}

/// One fake for triage, intake and reporting (their paths do not overlap), logging every request.
async fn fake_services() -> (String, Log) {
    let log: Log = Arc::default();
    let recorder = log.clone();
    let app =
        Router::new()
            .route(
                "/api/v1/cases",
                get(|| async {
                    Json(json!({ "items": [case("SH01-LATE", Some("2026-11-23T03:00:00Z"), true),
                                       case("SH01-SOON", Some("2026-11-30T03:00:00Z"), false)],
                             "next_cursor": "due_c2" }))
                }),
            )
            .route("/api/v1/auth/logout", post(|| async { StatusCode::NO_CONTENT }))
            .route(
                "/api/v1/customers/lookup",
                get(|| async {
                    Json(
                        json!({ "earlier": [{ "reference": "SH01-20261001-0007", "channel": "phone",
                    "received_at": "2026-10-01T02:00:00Z", "subject": "漏液", "customer_name": "张三",
                    "customer_email": "zhang@example.com", "language": "zh-CN" }] }),
                    )
                }),
            )
            .route(
                "/api/v1/revisits/questionnaire",
                get(|| async { Json(json!({ "questions": revisit("open", "agent")["questionnaire"] })) }),
            )
            .route(
                "/api/v1/revisits/{id}",
                get(|UrlPath(id): UrlPath<String>| async move {
                    match id.as_str() {
                        "r1" => {
                            let mut r = revisit("done", "agent");
                            r["id"] = json!("r1");
                            r["sequence"] = json!(1);
                            r["reason"] = json!("after_close");
                            r["score"] = json!(1);
                            r["satisfied"] = json!(false);
                            r["method"] = json!("phone");
                            r["outcome"] = json!({ "answers": { "overall": 1 }, "comments": "退货太慢" });
                            Json(r)
                        }
                        "r-head" => Json(revisit("open", "department_head")),
                        _ => Json(revisit("open", "agent")),
                    }
                }),
            )
            .route(
                "/api/v1/revisits/{id}/outcome",
                post(|| async {
                    (
                        StatusCode::CONFLICT,
                        Json(json!({ "error": { "code": "revisit_not_open", "message": "the revisit is done" } })),
                    )
                }),
            )
            .route(
                "/api/v1/reports/{kind}",
                get(
                    |UrlQuery(q): UrlQuery<std::collections::HashMap<String, String>>| async move {
                        match q.get("format").map(String::as_str) {
                    Some("xlsx") => (
                        [
                            (header::CONTENT_TYPE, XLSX_TYPE),
                            (header::CONTENT_DISPOSITION, "attachment; filename=\"report-2026-11.xlsx\""),
                        ],
                        XLSX,
                    )
                        .into_response(),
                    // A long export: four pieces a quarter of a second apart.
                    Some("csv") => {
                        let pieces = futures::stream::unfold(0, |i| async move {
                            if i == 4 {
                                return None;
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                            Some((Ok::<_, std::io::Error>(format!("section,key,count\n{i},x,1\n")), i + 1))
                        });
                        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], Body::from_stream(pieces)).into_response()
                    }
                    _ => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Json(json!({ "error": { "code": "invalid", "message": "bad period", "field": "period" } })),
                    )
                        .into_response(),
                }
                    },
                ),
            )
            .layer(middleware::from_fn(move |req: AnyRequest, next: Next| {
                let log = recorder.clone();
                async move {
                    let auth = req
                        .headers()
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    log.lock()
                        .unwrap()
                        .push((format!("{} {}", req.method(), req.uri()), auth));
                    next.run(req).await
                }
            }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, log)
}

use axum::Json;

/// The console against the fake, with `change` applied to its settings.
async fn app_with(change: impl FnOnce(&mut Settings)) -> (Router, Log) {
    let (url, log) = fake_services().await;
    let mut s = settings();
    for backend in [
        &mut s.backends.intake,
        &mut s.backends.triage,
        &mut s.backends.reporting,
        &mut s.backends.scheduler,
        &mut s.backends.notification,
    ] {
        *backend = url.clone();
    }
    change(&mut s);
    (console::startup::router(console::startup::state(s).unwrap()), log)
}

/// A session of a user with these roles and department: (cookie, csrf, token).
fn session_of(user: &str, roles: Vec<auth::Role>, department: Option<&str>) -> (String, String, String) {
    let token = auth::AuthKeys::new(auth::DEV_SECRET)
        .issue(
            user,
            &format!("User {user}"),
            roles,
            department.map(Into::into),
            vec![],
            chrono::Duration::hours(1),
        )
        .unwrap();
    let session = Session::signed_in(token.clone(), chrono::Utc::now().timestamp(), 3600);
    (
        format!("console_session={}", session.encode(SECRET.as_bytes())),
        session.csrf,
        token,
    )
}

async fn get_as(app: &Router, cookie: &str, uri: &str) -> Response {
    app.clone()
        .oneshot(
            Request::get(uri)
                .header(header::COOKIE, cookie)
                .header(header::ACCEPT_LANGUAGE, "en")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
}

async fn post_as(app: &Router, cookie: &str, uri: &str, form: &[(&str, &str)]) -> Response {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", console::render::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    app.clone()
        .oneshot(
            Request::post(uri)
                .header(header::COOKIE, cookie)
                .header(header::ACCEPT_LANGUAGE, "en")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap()
}

fn asked(log: &Log, prefix: &str) -> Vec<(String, String)> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(r, _)| r.starts_with(prefix))
        .cloned()
        .collect()
}

#[tokio::test]
async fn unreadable_addresses_and_forms_get_the_error_page_in_the_users_language() {
    let (cookie, csrf, _) = session_of("a1", vec![auth::Role::Agent], Some("sales"));
    let app = app();
    for (uri, lang, words) in [
        (
            "/revisits?all=yes",
            "en",
            "The address or the form holds something the console cannot read",
        ),
        (
            "/reports?print=1",
            "en",
            "The address or the form holds something the console cannot read",
        ),
        ("/revisits?limit=many", "en", "nothing was changed"),
        ("/login?out=1", "zh-CN", "地址或表单中有无法读取的内容"),
        ("/logout", "en", "This address cannot be used that way"),
    ] {
        let r = app
            .clone()
            .oneshot(
                Request::get(uri)
                    .header(header::COOKIE, &cookie)
                    .header(header::ACCEPT_LANGUAGE, lang)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{uri}: {}", r.status());
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{uri}"
        );
        let html = body(r).await;
        assert!(html.contains(words), "{uri}: {html}");
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{uri}");
        assert!(!html.contains("Failed to deserialize"), "{uri}: no framework text");
    }
    // A form posted as something other than a form: the same page, nothing done.
    let r = app
        .oneshot(
            Request::post("/intake/phone")
                .header(header::COOKIE, &cookie)
                .header(header::ACCEPT_LANGUAGE, "en")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(format!("{{\"csrf\":\"{csrf}\",\"content\":\"x\"}}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let html = body(r).await;
    assert!(html.contains("The form could not be read."), "{html}");
    assert!(!html.contains("Content-Type"), "{html}");
}

#[tokio::test]
async fn an_ended_session_is_dropped_with_the_cookies_own_flags() {
    let keys = auth::AuthKeys::new(auth::DEV_SECRET);
    let expired = keys
        .issue(
            "h1",
            "H",
            vec![auth::Role::Handler],
            None,
            vec![],
            chrono::Duration::hours(-1),
        )
        .unwrap();
    let session = Session::signed_in(expired, chrono::Utc::now().timestamp(), 3600);
    let cookie = format!("console_session={}", session.encode(SECRET.as_bytes()));
    // Reachable from outside (not loopback): the cookie is Secure, and so is the one that clears it.
    let mut s = settings();
    s.http.host = "0.0.0.0".into();
    let app = console::startup::router(console::startup::state(s).unwrap());
    let r = get_as(&app, &cookie, "/work").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cleared = r.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("console_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(cleared.ends_with("; Secure"), "{cleared}");
}

#[tokio::test]
async fn signing_out_revokes_the_token_at_triage() {
    let (app, log) = app_with(|_| {}).await;
    let (cookie, csrf, token) = session_of("h1", vec![auth::Role::Handler], Some("quality"));
    let r = post_as(&app, &cookie, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(
        asked(&log, "POST /api/v1/auth/logout"),
        vec![("POST /api/v1/auth/logout".to_owned(), format!("Bearer {token}"))]
    );
}

#[tokio::test]
async fn my_work_is_one_call_sorted_by_deadline_over_open_cases_with_overdue_marked() {
    let (app, log) = app_with(|_| {}).await;
    let (cookie, _, _) = session_of("h1", vec![auth::Role::Handler], Some("quality"));
    let r = get_as(&app, &cookie, "/work").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = body(r).await;
    let calls = log.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "one call to triage, none per row: {calls:?}");
    let call = &calls[0].0;
    for part in ["sort=due", "status=open", "department=quality", "limit=10"] {
        assert!(call.contains(part), "{part} in {call}");
    }
    // Triage's order is kept; the overdue case is marked in words, its deadline in local time.
    let late = html.find("data-reference=\"SH01-LATE\"").unwrap();
    assert!(late < html.find("data-reference=\"SH01-SOON\"").unwrap());
    assert!(html[late - 30..late].contains("class=\"overdue\""));
    assert!(html.contains("2026-11-23 11:00"), "next deadline in Shanghai time");
    assert!(html.contains(">Overdue</span>"));
    assert!(
        html.contains("<option value=\"product_quality\">Product quality</option>"),
        "translated options"
    );
    // The next page keeps the filters; "assigned to me" asks for my cases.
    assert!(
        html.contains(
            "id=\"next-page\" rel=\"next\" href=\"&#x2f;work?scope=department&amp;status=open&amp;cursor=due_c2\""
        ),
        "{html}"
    );
    let _ = get_as(
        &app,
        &cookie,
        "/work?scope=mine&status=all&severity=major&overdue=true&from=2026-11-01",
    )
    .await;
    let call = log.lock().unwrap().last().unwrap().0.clone();
    assert!(call.contains("assignee=h1") && !call.contains("status="), "{call}");
    assert!(call.contains("severity=major") && call.contains("overdue=true") && call.contains("from=2026-11-01"));
}

#[tokio::test]
async fn the_caller_lookup_keeps_what_was_typed_and_the_number_out_of_urls() {
    let (app, log) = app_with(|_| {}).await;
    let (cookie, csrf, _) = session_of("agent1", vec![auth::Role::Agent], Some("sales"));
    let r = post_as(
        &app,
        &cookie,
        "/intake/phone",
        &[
            ("csrf", &csrf),
            ("key", "k1"),
            ("phone", "13800000000"),
            ("site", "sh01"),
            ("content", "客户说包装又破了"),
            ("subject", "包装"),
            ("lookup", "1"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get(header::LOCATION).is_none());
    let html = body(r).await;
    assert!(html.contains("SH01-20261001-0007"), "the earlier feedback");
    assert!(
        html.contains("客户说包装又破了") && html.contains("value=\"包装\""),
        "what was typed stays"
    );
    assert!(html.contains("value=\"张三\""), "the name filled in from the register");
    assert!(html.contains("name=\"key\" value=\"k1\""), "the same registration key");
    let lookups = asked(&log, "GET /api/v1/customers/lookup");
    assert_eq!(lookups.len(), 1);
    assert!(asked(&log, "POST").is_empty(), "nothing registered");
    // Auditors do not take calls: no menu entry, and the page says so.
    let (auditor, _, _) = session_of("au", vec![auth::Role::Auditor], None);
    let r = get_as(&app, &auditor, "/intake/phone").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(body(r).await.contains("Phone intake is for agents and handlers."));
    let html = body(get_as(&app, &auditor, "/dashboard").await).await;
    assert!(!html.contains("href=\"/intake/phone\""));
    assert!(html.contains("href=\"/admin\""), "auditors read administration");
}

#[tokio::test]
async fn a_revisit_shows_the_customers_history_and_forms_only_to_who_may_record() {
    let (app, _) = app_with(|_| {}).await;
    let (agent, csrf, _) = session_of("agent1", vec![auth::Role::Agent], Some("sales"));
    let html = body(get_as(&app, &agent, "/revisits/r2").await).await;
    assert!(
        html.contains("id=\"revisit-case\"") && html.contains("Reopened"),
        "the case at a glance"
    );
    assert!(html.contains("Follow-up after dissatisfaction"), "the reason in words");
    assert!(
        html.contains("无人接听") && html.contains("No answer"),
        "earlier attempts"
    );
    assert!(
        html.contains("id=\"previous-revisit\"") && html.contains("退货太慢"),
        "the previous revisit"
    );
    assert!(html.contains("SH01-20261001-0007"), "the customer's earlier feedback");
    // The score starts unchosen: an untouched form records nothing.
    let score = &html[html.find("id=\"q_overall\"").unwrap()..];
    let score = &score[..score.find("</select>").unwrap()];
    assert!(
        score.contains("<option value=\"\">— choose —</option>") && !score.contains("selected"),
        "{score}"
    );
    let r = post_as(
        &app,
        &agent,
        "/revisits/r2/outcome",
        &[("csrf", &csrf), ("method", "phone")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(r).await;
    assert!(
        html.contains("id=\"q_overall-error\">Please answer this question."),
        "{html}"
    );
    // Triage refuses (the revisit was recorded meanwhile): the revisit page in words, not an empty queue.
    let r = post_as(
        &app,
        &agent,
        "/revisits/r2/outcome",
        &[("csrf", &csrf), ("method", "phone"), ("q_overall", "4")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = body(r).await;
    assert!(html.contains("This revisit is no longer open"), "{html}");
    assert!(html.contains("id=\"revisit-case\""), "still the revisit page");
    assert!(html.contains("<option value=\"4\" selected>"), "the answer kept");
    // A department head's revisit: an agent reads it without forms.
    let html = body(get_as(&app, &agent, "/revisits/r-head").await).await;
    assert!(!html.contains("id=\"outcome-form\"") && html.contains("id=\"read-only\""));
    let (head, _, _) = session_of("qh", vec![auth::Role::DepartmentHead], Some("quality"));
    let html = body(get_as(&app, &head, "/revisits/r-head").await).await;
    assert!(
        html.contains("id=\"outcome-form\""),
        "the head of the case's department records it"
    );
}

#[tokio::test]
async fn report_exports_download_at_once_or_show_their_progress_without_javascript() {
    let (app, log) = app_with(|s| s.console.export_wait_ms = 100).await;
    let (cookie, _, token) = session_of("m1", vec![auth::Role::MarketingManager], None);
    // Quick: the Excel file itself, from reporting with the user's token and language.
    let r = get_as(&app, &cookie, "/reports/export?kind=monthly&period=2026-11&format=xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_TYPE], XLSX_TYPE);
    assert_eq!(
        r.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"report-monthly-2026-11.xlsx\""
    );
    assert_eq!(axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap(), XLSX);
    let call = asked(&log, "GET /api/v1/reports/monthly").pop().unwrap();
    assert!(call.0.contains("period=2026-11") && call.0.contains("format=xlsx") && call.0.contains("lang=en"));
    assert_eq!(call.1, format!("Bearer {token}"));
    // Long: the progress page, which refreshes itself until the download link is there.
    let r = get_as(&app, &cookie, "/reports/export?kind=monthly&format=csv").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(job.starts_with("/reports/exports/"));
    let html = body(get_as(&app, &cookie, &job).await).await;
    assert!(
        html.contains("<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>"),
        "{html}"
    );
    assert!(html.contains("id=\"export-size\"") && html.contains("received"));
    let mut done = String::new();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        done = body(get_as(&app, &cookie, &job).await).await;
        if done.contains("id=\"export-download\"") {
            break;
        }
    }
    assert!(
        done.contains("The report is ready") && !done.contains("http-equiv"),
        "{done}"
    );
    let r = get_as(&app, &cookie, &format!("{job}/file")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(body(r).await.matches("section,key,count").count(), 4);
    // Nobody else's.
    let (other, _, _) = session_of("m2", vec![auth::Role::MarketingManager], None);
    assert_eq!(get_as(&app, &other, &job).await.status(), StatusCode::NOT_FOUND);
    // Reporting refuses the period: said in words.
    let r = get_as(&app, &cookie, "/reports/export?kind=monthly&period=soon&format=html").await;
    assert!(body(r).await.contains("The period is not written right"));
}
