//! Staff administration on triage's API, against the real services: the directory listed and
//! filtered (administrators; auditors read), accounts edited (roles, department, sites, active,
//! password) with every change recorded, validation errors naming the field, the last active
//! administrator kept, and a changed or deactivated account's earlier tokens refused.
mod common;

use common::{world, World};
use serde_json::{json, Value};
use testkit::Infra;

const PASSWORD: &str = "staff-admin-pass-1";

struct Api<'a> {
    w: &'a World,
    triage: String,
}

impl Api<'_> {
    async fn login(&self, user: &str, password: &str) -> (u16, Value) {
        let r = self
            .w
            .http
            .post(format!("{}/api/v1/auth/login", self.triage))
            .json(&json!({ "user": user, "password": password }))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, user: &str, password: &str) -> String {
        let (status, body) = self.login(user, password).await;
        assert_eq!(status, 200, "{user} signs in: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn create(&self, token: &str, id: &str, roles: &[&str], department: Option<&str>, sites: &[&str]) {
        let r = self
            .w
            .http
            .post(format!("{}/api/v1/staff", self.triage))
            .bearer_auth(token)
            .json(
                &json!({ "id": id, "name": format!("Name Of {id}"), "password": PASSWORD, "roles": roles,
                           "department": department, "sites": sites }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{id}: {}", r.text().await.unwrap());
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self
            .w
            .http
            .get(format!("{}{path}", self.triage))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn patch(&self, token: &str, id: &str, body: Value) -> (u16, Value) {
        let r = self
            .w
            .http
            .patch(format!("{}/api/v1/staff/{id}", self.triage))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn administrators_list_and_edit_staff_and_changes_take_effect() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let api = Api {
        w: &w,
        triage: w.stack.url("triage"),
    };
    let doc: Value = w.get("triage", "/api/v1/openapi.json").await.json().await.unwrap();
    for (path, method) in [
        ("/api/v1/staff", "get"),
        ("/api/v1/staff", "post"),
        ("/api/v1/staff/{id}", "get"),
        ("/api/v1/staff/{id}", "patch"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} documented");
    }
    assert!(doc["components"]["schemas"]["StaffChange"].is_object());
    // Sign-in token of the first administrator (recorded by triage, unlike the test's minted one).
    let admin = api.token("admin", "change-me-admin").await;
    api.create(&admin, "sa-handler", &["handler"], Some("quality"), &["sh01"])
        .await;
    api.create(&admin, "sa-agent", &["agent"], Some("sales"), &["bj01"])
        .await;
    api.create(&admin, "sa-head", &["department_head"], Some("quality"), &[])
        .await;
    api.create(&admin, "sa-auditor", &["auditor"], None, &[]).await;

    // The list, filtered and paginated by id.
    let (status, all) = api.get(&admin, "/api/v1/staff").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), ["admin", "sa-agent", "sa-auditor", "sa-handler", "sa-head"]);
    assert_eq!(all["items"][0]["roles"], json!(["administrator"]));
    assert!(all["items"][0]["created_at"].is_string());
    let (_, quality) = api.get(&admin, "/api/v1/staff?department=quality").await;
    assert_eq!(ids(&quality), ["sa-handler", "sa-head"]);
    let (_, sh01) = api.get(&admin, "/api/v1/staff?site=sh01&role=handler").await;
    assert_eq!(ids(&sh01), ["sa-handler"]);
    // Users with no site work for every site.
    let (_, bj01) = api.get(&admin, "/api/v1/staff?site=bj01&q=sa-").await;
    assert_eq!(ids(&bj01), ["sa-agent", "sa-auditor", "sa-head"]);
    let (_, by_name) = api.get(&admin, "/api/v1/staff?q=name%20of%20sa-ag").await;
    assert_eq!(ids(&by_name), ["sa-agent"]);
    let (_, first) = api.get(&admin, "/api/v1/staff?limit=2").await;
    assert_eq!(ids(&first), ["admin", "sa-agent"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = api.get(&admin, &format!("/api/v1/staff?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&second), ["sa-auditor", "sa-handler"]);
    for (query, field) in [("role=pope", "role"), ("site=xx99", "site"), ("limit=0", "limit")] {
        let (status, e) = api.get(&admin, &format!("/api/v1/staff?{query}")).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {e}"
        );
    }

    // Auditors read; handlers and agents are refused; only administrators change.
    let auditor = api.token("sa-auditor", PASSWORD).await;
    let handler = api.token("sa-handler", PASSWORD).await;
    assert_eq!(api.get(&auditor, "/api/v1/staff").await.0, 200);
    assert_eq!(api.get(&auditor, "/api/v1/staff/sa-handler").await.0, 200);
    let (status, e) = api.get(&handler, "/api/v1/staff").await;
    assert_eq!(status, 403, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("Administrator"), "{e}");
    assert_eq!(api.get(&handler, "/api/v1/staff/sa-agent").await.0, 403);
    assert_eq!(
        api.get(&handler, "/api/v1/staff/sa-handler").await.0,
        200,
        "one's own account"
    );
    let (status, _) = api.patch(&auditor, "sa-handler", json!({ "active": false })).await;
    assert_eq!(status, 403, "auditors only read");
    let (status, _) = api
        .patch(&handler, "sa-handler", json!({ "roles": ["administrator"] }))
        .await;
    assert_eq!(status, 403, "nobody grants themself a role");
    assert_eq!(api.patch(&admin, "nobody", json!({ "active": false })).await.0, 404);

    // Validation: 422 naming the field; nothing changed.
    for (body, field) in [
        (json!({ "name": "  " }), "name"),
        (json!({ "roles": [] }), "roles"),
        (json!({ "roles": ["pope"] }), "roles[0]"),
        (json!({ "sites": ["xx99"] }), "sites"),
        (json!({ "department": "quality; drop table" }), "department"),
        (json!({ "password": "short" }), "password"),
        (json!({ "active": "no" }), "active"),
        (json!({ "rolez": ["agent"] }), "rolez"),
    ] {
        let (status, e) = api.patch(&admin, "sa-handler", body.clone()).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some(field)),
            "{body}: {e}"
        );
    }
    let (_, unchanged) = api.get(&admin, "/api/v1/staff/sa-handler").await;
    assert_eq!(
        unchanged["changes"].as_array().unwrap().len(),
        1,
        "only the creation: {unchanged}"
    );
    assert_eq!(unchanged["changes"][0]["action"], "created");
    assert_eq!(unchanged["changes"][0]["actor"], "admin");
    assert_eq!(
        api.get(&handler, "/api/v1/cases").await.0,
        200,
        "a no-op keeps the token"
    );

    // The handler becomes department head of sales at every site: recorded, and the earlier token is
    // refused at triage (401 with the reason) until they sign in again with the new roles.
    let (status, changed) = api
        .patch(
            &admin,
            "sa-handler",
            json!({ "roles": ["department_head", "handler"], "department": "sales", "sites": [] }),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["roles"], json!(["handler", "department_head"]));
    assert_eq!(
        (changed["department"].as_str(), changed["sites"].clone()),
        (Some("sales"), json!([]))
    );
    let change = &changed["changes"][0];
    assert_eq!(
        (change["action"].as_str(), change["actor"].as_str()),
        (Some("updated"), Some("admin"))
    );
    assert_eq!(
        change["changes"]["roles"],
        json!({ "from": ["handler"], "to": ["handler", "department_head"] })
    );
    assert_eq!(
        change["changes"]["department"],
        json!({ "from": "quality", "to": "sales" })
    );
    assert!(
        change["changes"].get("name").is_none(),
        "unchanged fields are not recorded"
    );
    assert!(change["at"].is_string());
    let (status, e) = api.get(&handler, "/api/v1/cases").await;
    assert_eq!(status, 401, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("sign in again"), "{e}");
    let (_, again) = api.login("sa-handler", PASSWORD).await;
    assert_eq!(again["user"]["roles"], json!(["handler", "department_head"]));
    let handler = again["token"].as_str().unwrap().to_owned();
    assert_eq!(api.get(&handler, "/api/v1/cases").await.0, 200);
    // The department is cleared with null.
    let (_, cleared) = api.patch(&admin, "sa-agent", json!({ "department": null })).await;
    assert_eq!(cleared["department"], Value::Null);

    // A password reset: the old one no longer signs in, the new one does; the value is never recorded.
    let (status, _) = api
        .patch(&admin, "sa-agent", json!({ "password": "a-brand-new-pass" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(api.login("sa-agent", PASSWORD).await.0, 401);
    api.token("sa-agent", "a-brand-new-pass").await;
    let recorded: Vec<String> =
        sqlx::query_scalar("SELECT changes::text FROM staff_changes WHERE user_id = 'sa-agent'")
            .fetch_all(&w.stack.pool("triage").await.unwrap())
            .await
            .unwrap();
    assert!(
        recorded.iter().any(|c| c.contains("\"password\": \"reset\"")),
        "{recorded:?}"
    );
    assert!(recorded.iter().all(|c| !c.contains("a-brand-new-pass")), "{recorded:?}");

    // Deactivated: cannot sign in, and the token they hold is refused at triage.
    let agent = api.token("sa-agent", "a-brand-new-pass").await;
    assert_eq!(api.get(&agent, "/api/v1/cases").await.0, 200);
    let (status, off) = api.patch(&admin, "sa-agent", json!({ "active": false })).await;
    assert_eq!((status, off["active"].as_bool()), (200, Some(false)));
    assert_eq!(api.login("sa-agent", "a-brand-new-pass").await.0, 401);
    let (status, e) = api.get(&agent, "/api/v1/cases").await;
    assert_eq!(status, 401);
    assert_eq!(e["error"]["message"], "this staff account has been deactivated");
    let (_, inactive) = api.get(&admin, "/api/v1/staff?active=false").await;
    assert_eq!(ids(&inactive), ["sa-agent"]);
    // Reactivated: signs in again.
    api.patch(&admin, "sa-agent", json!({ "active": true })).await;
    api.token("sa-agent", "a-brand-new-pass").await;

    // The last active administrator cannot be demoted or deactivated; administrators do not deactivate
    // themselves.
    let (status, e) = api.patch(&admin, "admin", json!({ "roles": ["auditor"] })).await;
    assert_eq!(status, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("last active administrator"),
        "{e}"
    );
    let (status, e) = api.patch(&admin, "admin", json!({ "active": false })).await;
    assert_eq!(status, 409, "{e}");
    // A second administrator (created by the first); now the first may step down — by the second.
    api.create(&admin, "sa-admin2", &["administrator"], None, &[]).await;
    let admin2 = api.token("sa-admin2", PASSWORD).await;
    let (status, e) = api.patch(&admin2, "sa-admin2", json!({ "active": false })).await;
    assert_eq!(status, 409, "not oneself: {e}");
    let (status, e) = api.patch(&admin2, "admin", json!({ "roles": ["auditor"] })).await;
    assert_eq!(status, 200, "{e}");
    // The first administrator's signed-in token is refused now.
    assert_eq!(api.get(&admin, "/api/v1/staff").await.0, 401);
    let (status, e) = api.patch(&admin2, "sa-admin2", json!({ "roles": ["handler"] })).await;
    assert_eq!(status, 409, "now the last one: {e}");

    // The log names accounts by id and fields changed, never a person's name or a password.
    let log = w.stack.logs("triage");
    assert!(log.contains("staff account changed"), "the changes are logged");
    assert!(!log.contains("Name Of sa-"), "no names in the log");
    assert!(!log.contains("a-brand-new-pass"));
}

/// What each service answers `token` on a read any auditor may make: (service, status, error message).
async fn answers(w: &World, token: &str) -> Vec<(&'static str, u16, String)> {
    let mut out = vec![];
    for (svc, path) in [
        ("triage", "/api/v1/cases?limit=1"),
        ("intake", "/api/v1/feedback/SH01-20261203-9999"),
        ("reporting", "/api/v1/stats/overview"),
        ("notification", "/api/v1/templates"),
        ("scheduler", "/api/v1/policies"),
    ] {
        let r = w
            .http
            .get(format!("{}{path}", w.stack.url(svc)))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        out.push((
            svc,
            status,
            body["error"]["message"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    out
}

/// Waits until every service refuses `token` (401) and returns the reasons they give.
async fn refused_everywhere(w: &World, token: &str, what: &str) -> Vec<String> {
    testkit::eventually(std::time::Duration::from_secs(20), what, || async {
        let all = answers(w, token).await;
        all.iter()
            .all(|(_, status, _)| *status == 401)
            .then(|| all.into_iter().map(|(_, _, why)| why).collect())
    })
    .await
}

fn accepted_everywhere(all: &[(&'static str, u16, String)]) -> bool {
    // intake's 404 is the lookup of an unknown reference by an accepted token.
    all.iter()
        .all(|(svc, status, _)| *status == if *svc == "intake" { 404 } else { 200 })
}

#[tokio::test]
async fn signed_out_changed_and_deactivated_tokens_are_refused_by_every_service() {
    let infra = Infra::from_env();
    let w = world(&infra.amqp_url, infra.rabbit_node.clone(), vec![]).await;
    let api = Api {
        w: &w,
        triage: w.stack.url("triage"),
    };
    api.create(&w.token, "rv-auditor", &["auditor"], None, &[]).await;
    let (kept, signed_out) = (
        api.token("rv-auditor", PASSWORD).await,
        api.token("rv-auditor", PASSWORD).await,
    );
    let before = answers(&w, &signed_out).await;
    assert!(accepted_everywhere(&before), "{before:?}");

    // Signing out at triage: that token is refused by every service, the user's other session is not.
    let r = w
        .http
        .post(format!("{}/api/v1/auth/logout", api.triage))
        .bearer_auth(&signed_out)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let why = refused_everywhere(&w, &signed_out, "the signed-out token refused everywhere").await;
    assert!(why.iter().all(|m| m.contains("signed out or revoked")), "{why:?}");
    let other = answers(&w, &kept).await;
    assert!(accepted_everywhere(&other), "{other:?}");

    // A token triage never recorded (minted with the shared key, like `triage admin-token`'s) issued before the
    // account changed is refused too: `staff.changed` carries when tokens became invalid.
    let minted = auth::AuthKeys::new(auth::DEV_SECRET)
        .issue(
            "rv-auditor",
            "Name Of rv-auditor",
            vec![auth::Role::Auditor],
            None,
            vec![],
            chrono::Duration::hours(1),
        )
        .unwrap();
    assert!(accepted_everywhere(&answers(&w, &minted).await));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = api.patch(&w.token, "rv-auditor", json!({ "sites": ["sh01"] })).await;
    assert_eq!(status, 200, "{body}");
    refused_everywhere(&w, &minted, "the token older than the change refused everywhere").await;
    refused_everywhere(&w, &kept, "the session from before the change refused everywhere").await;

    // Signing in again works everywhere; deactivating the account then refuses that token everywhere.
    let fresh = api.token("rv-auditor", PASSWORD).await;
    let again = testkit::eventually(std::time::Duration::from_secs(10), "the new token accepted", || async {
        let all = answers(&w, &fresh).await;
        accepted_everywhere(&all).then_some(all)
    })
    .await;
    assert_eq!(again.len(), 5);
    let (status, body) = api.patch(&w.token, "rv-auditor", json!({ "active": false })).await;
    assert_eq!(status, 200, "{body}");
    let why = refused_everywhere(&w, &fresh, "the deactivated account's token refused everywhere").await;
    assert!(
        why.iter().all(|m| m.contains("deactivated") || m.contains("revoked")),
        "{why:?}"
    );
}
