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
                json!({ "form": { "phone": "1" }, "errors": { "lookup": "bad", "content": "required" }, "lookup": { "earlier": [] } }),
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
            ("work.html", json!({ "rows": [], "statuses": ["new"], "q": {} })),
            ("error.html", json!({ "message": "m", "detail": "d" })),
        ];
        for (template, context) in cases {
            let html = state
                .render(&ctx, template, context)
                .unwrap_or_else(|e| panic!("{template}: {e:?}"))
                .0;
            assert!(html.contains(&format!("<html lang=\"{}\">", lang.tag())), "{template}");
        }
    }
}
