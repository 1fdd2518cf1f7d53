//! Signing in, and the staff directory (administrators manage it).
use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};
use server::{ApiError, ApiJson};
use utoipa::{IntoParams, ToSchema};

use crate::{
    staff::{self, StaffChangeRecord, StaffFilter, StaffRecord, StaffUser},
    startup::AppState,
};

/// Who may read the staff directory: administrators, and auditors (who only read).
const READERS: &[auth::Role] = &[auth::Role::Administrator, auth::Role::Auditor];

#[derive(Deserialize, ToSchema)]
pub struct Login {
    pub user: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: StaffUser,
}

/// Exchange a user id and password for a bearer token valid at every service.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = Login,
    responses((status = 200, body = LoggedIn), (status = 401, description = "wrong user or password")))]
pub async fn login(State(state): State<AppState>, ApiJson(body): ApiJson<Login>) -> Result<Json<LoggedIn>, ApiError> {
    let refused = || ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "wrong user or password");
    let (user, hash) = staff::find(&state.pool, body.user.trim()).await?.ok_or_else(refused)?;
    // Verify even for inactive users so timing does not tell them apart.
    if !staff::verify_password(&body.password, &hash) || !user.active {
        tracing::warn!(user = %user.id, "sign-in refused");
        return Err(refused());
    }
    let ttl = chrono::Duration::hours(state.settings.login.token_ttl_hours);
    let (token, expires_at) = staff::issue_token(&state.pool, &state.keys, &user, ttl)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(user = %user.id, "signed in");
    Ok(Json(LoggedIn {
        token,
        expires_at,
        user,
    }))
}

/// Sign out: triage refuses this bearer token from now on.
#[utoipa::path(post, path = "/api/v1/auth/logout",
    responses((status = 204, description = "signed out"), (status = 401)), security(("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    who: auth::Staff,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = auth::bearer_token(&headers).unwrap_or_default();
    staff::revoke_token(&state.pool, &state.settings.staff.events_site, token, &who.0).await?;
    state.outbox.notify();
    tracing::info!(user = %who.0.sub, "signed out");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct NewStaff {
    pub id: String,
    pub name: String,
    pub password: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<auth::Role>,
    pub department: Option<String>,
    #[serde(default)]
    pub sites: Vec<String>,
    /// Where notifications to this person go.
    pub email: Option<String>,
    /// Mobile number for SMS (digits, an optional leading `+`; spaces and dashes are dropped).
    pub phone: Option<String>,
    /// `zh-CN` (default) or `en`.
    pub language: Option<String>,
}

/// Create a staff account (administrators).
#[utoipa::path(post, path = "/api/v1/staff", request_body = NewStaff,
    responses((status = 201, body = StaffUser), (status = 403), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    who: auth::Staff,
    ApiJson(body): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffUser>), ApiError> {
    who.require(&[auth::Role::Administrator], "managing staff accounts")?;
    let id = body.id.trim();
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(ApiError::invalid(
            "id",
            "use 1 to 64 letters, digits, dots, dashes or underscores",
        ));
    }
    let name = valid_name(&body.name)?;
    valid_password(&body.password)?;
    let roles = valid_roles(&body.roles)?;
    let department = valid_department(body.department.as_deref())?;
    let sites = valid_sites(&state, &body.sites)?;
    let email = valid_email(body.email.as_deref())?;
    let phone = valid_phone(body.phone.as_deref())?;
    let language = valid_language(body.language.as_deref().unwrap_or(DEFAULT_LANGUAGE))?;
    let hash = staff::hash_password(&body.password).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let mut tx = state.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO staff_users (id, name, password_hash, roles, department, sites, email, phone, language)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(name)
    .bind(hash)
    .bind(json!(roles))
    .bind(&department)
    .bind(json!(sites))
    .bind(&email)
    .bind(&phone)
    .bind(language)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ApiError::conflict(format!("a staff user `{id}` exists already")));
    }
    // Contact details are recorded as set or not, never their values (the change log is read by auditors).
    let created = json!({ "name": { "to": name }, "roles": { "to": roles }, "department": { "to": department },
                          "sites": { "to": sites }, "active": { "to": true }, "language": { "to": language },
                          "email": { "to": email.as_ref().map(|_| "set") },
                          "phone": { "to": phone.as_ref().map(|_| "set") } });
    staff::record_change(&mut tx, id, &who.0.sub, "created", &created).await?;
    staff::publish_changed(&mut tx, &state.settings.staff.events_site, id).await?;
    tx.commit().await?;
    state.outbox.notify();
    tracing::info!(staff = %id, by = %who.0.sub, roles = ?roles, "staff account created");
    let (user, _) = staff::find(&state.pool, id).await?.expect("just inserted");
    Ok((StatusCode::CREATED, Json(user)))
}

fn valid_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "use at most 100 characters, no control characters",
        ));
    }
    Ok(name)
}

fn valid_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 10 {
        return Err(ApiError::invalid("password", "must be at least 10 characters"));
    }
    if password.len() > 1024 {
        return Err(ApiError::invalid("password", "must be at most 1024 bytes"));
    }
    Ok(())
}

/// At least one role, each once, in the order of `auth::Role`.
fn valid_roles(roles: &[auth::Role]) -> Result<Vec<auth::Role>, ApiError> {
    if roles.is_empty() {
        return Err(ApiError::invalid("roles", "give at least one role"));
    }
    let mut roles = roles.to_vec();
    roles.sort_by_key(|r| *r as u8);
    roles.dedup();
    Ok(roles)
}

/// A department name like the routing's (`quality`, `general_affairs`); blank means none.
fn valid_department(department: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(d) = department.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if d.len() > 64 || !d.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(ApiError::invalid(
            "department",
            "use 1 to 64 letters, digits, dots, dashes or underscores (as in the routing rules)",
        ));
    }
    Ok(Some(d.to_owned()))
}

/// The language staff get notifications in when none is given.
const DEFAULT_LANGUAGE: &str = "zh-CN";

/// An address with one `@`, something on both sides, no spaces; blank means none.
fn valid_email(email: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(e) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let ok = e.len() <= 254
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && e.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if !ok {
        return Err(ApiError::invalid("email", "is not an email address (name@example.com)"));
    }
    Ok(Some(e.to_owned()))
}

/// Digits with an optional leading `+` (spaces, dashes and brackets dropped), 5 to 20 digits; blank means none.
fn valid_phone(phone: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(p) = phone.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let plus = p.starts_with('+');
    let digits: String = p
        .chars()
        .filter(|c| !" -()".contains(*c))
        .skip(usize::from(plus))
        .collect();
    if !(5..=20).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "phone",
            "use 5 to 20 digits, optionally with a leading + (e.g. 13800000000 or +8613800000000)",
        ));
    }
    Ok(Some(if plus { format!("+{digits}") } else { digits }))
}

fn valid_language(language: &str) -> Result<&'static str, ApiError> {
    match language.trim() {
        "zh-CN" | "zh" | "zh-cn" => Ok("zh-CN"),
        "en" | "en-US" | "en-GB" => Ok("en"),
        other => Err(ApiError::invalid(
            "language",
            format!("`{other}` is not a language notifications are written in (zh-CN or en)"),
        )),
    }
}

/// Known sites, each once, sorted; none means every site.
fn valid_sites(state: &AppState, sites: &[String]) -> Result<Vec<String>, ApiError> {
    let mut sites: Vec<String> = sites.iter().map(|s| s.trim().to_owned()).collect();
    if let Some(unknown) = sites.iter().find(|s| !state.settings.sites.is_known(s)) {
        return Err(ApiError::invalid("sites", format!("unknown site `{unknown}`")));
    }
    sites.sort();
    sites.dedup();
    Ok(sites)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StaffQuery {
    pub department: Option<String>,
    /// Users who work for this site (including those who work for every site).
    pub site: Option<String>,
    /// Users holding this role, e.g. `handler`.
    pub role: Option<String>,
    /// true: active accounts only; false: deactivated ones only.
    pub active: Option<bool>,
    /// Words in the user id or name.
    pub q: Option<String>,
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffPage {
    pub items: Vec<StaffRecord>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The staff directory, by user id, filtered; keyset-paginated (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/staff", params(StaffQuery),
    responses((status = 200, body = StaffPage), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    who: auth::Staff,
    server::ApiQuery(q): server::ApiQuery<StaffQuery>,
) -> Result<Json<StaffPage>, ApiError> {
    who.require(READERS, "reading the staff directory")?;
    let limits = &state.settings.lists;
    let limit = q.limit.unwrap_or(limits.page_size);
    if !(1..=limits.max_page_size).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {}", limits.max_page_size),
        ));
    }
    let blank = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let role = match blank(q.role) {
        Some(r) => Some(
            serde_json::from_value::<auth::Role>(Value::String(r.clone()))
                .map_err(|_| ApiError::invalid("role", format!("unknown role `{r}`")))?,
        ),
        None => None,
    };
    let site = blank(q.site);
    if let Some(s) = &site {
        if !state.settings.sites.is_known(s) {
            return Err(ApiError::invalid("site", format!("unknown site `{s}`")));
        }
    }
    let filter = StaffFilter {
        department: blank(q.department),
        site,
        role,
        active: q.active,
        text: blank(q.q),
        after: blank(q.cursor),
    };
    let mut items = staff::list(&state.pool, &filter, limit + 1).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|u| u.user.id.clone())
    } else {
        None
    };
    Ok(Json(StaffPage { items, next_cursor }))
}

/// A staff account with its recorded changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffDetail {
    #[serde(flatten)]
    pub record: StaffRecord,
    /// The last 50 changes, newest first.
    pub changes: Vec<StaffChangeRecord>,
}

async fn detail(state: &AppState, id: &str) -> Result<StaffDetail, ApiError> {
    let record = staff::record(&state.pool, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("staff user {id}")))?;
    let changes = staff::changes(&state.pool, id, 50).await?;
    Ok(StaffDetail { record, changes })
}

/// One staff account and its changes (administrators, auditors, and the user themself).
#[utoipa::path(get, path = "/api/v1/staff/{id}", params(("id" = String, Path, description = "staff user id")),
    responses((status = 200, body = StaffDetail), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    who: auth::Staff,
    Path(id): Path<String>,
) -> Result<Json<StaffDetail>, ApiError> {
    if who.0.sub != id {
        who.require(READERS, "reading the staff directory")?;
    }
    Ok(Json(detail(&state, &id).await?))
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn explicit<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The fields to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffChange {
    pub name: Option<String>,
    /// The whole new set of roles.
    #[schema(value_type = Option<Vec<String>>)]
    pub roles: Option<Vec<auth::Role>>,
    /// `null` or `""` removes the department.
    #[serde(default, deserialize_with = "explicit")]
    #[schema(value_type = Option<String>, nullable)]
    pub department: Option<Option<String>>,
    /// The whole new set of sites; `[]` means every site.
    pub sites: Option<Vec<String>>,
    /// false deactivates the account (it can no longer sign in; its tokens stop working), true reactivates it.
    pub active: Option<bool>,
    /// A new password (at least 10 characters); never recorded or logged.
    pub password: Option<String>,
    /// `null` or `""` removes it.
    #[serde(default, deserialize_with = "explicit")]
    #[schema(value_type = Option<String>, nullable)]
    pub email: Option<Option<String>>,
    /// `null` or `""` removes it.
    #[serde(default, deserialize_with = "explicit")]
    #[schema(value_type = Option<String>, nullable)]
    pub phone: Option<Option<String>>,
    /// `zh-CN` or `en`.
    pub language: Option<String>,
}

/// Change a staff account (administrators): name, roles, department, sites, active, password. Every change
/// is recorded with who made it and signs the user out (triage refuses their earlier tokens). The last
/// active administrator cannot be deactivated or lose the role (409), nor can administrators deactivate
/// themselves.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", params(("id" = String, Path, description = "staff user id")),
    request_body = StaffChange,
    responses((status = 200, body = StaffDetail), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "the last active administrator, or one's own deactivation"),
        (status = 422, description = "a field's value is not acceptable; `field` names it")),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    who: auth::Staff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StaffChange>,
) -> Result<Json<StaffDetail>, ApiError> {
    who.require(&[auth::Role::Administrator], "managing staff accounts")?;
    let name = body.name.as_deref().map(valid_name).transpose()?;
    let roles = body.roles.as_deref().map(valid_roles).transpose()?;
    let department = body
        .department
        .as_ref()
        .map(|d| valid_department(d.as_deref()))
        .transpose()?;
    let sites = body.sites.as_deref().map(|s| valid_sites(&state, s)).transpose()?;
    let email = body.email.as_ref().map(|e| valid_email(e.as_deref())).transpose()?;
    let phone = body.phone.as_ref().map(|p| valid_phone(p.as_deref())).transpose()?;
    let language = body.language.as_deref().map(valid_language).transpose()?;
    if let Some(p) = &body.password {
        valid_password(p)?;
    }
    let hash = body
        .password
        .as_deref()
        .map(staff::hash_password)
        .transpose()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;

    let mut tx = state.pool.begin().await?;
    // One change of the staff directory at a time: two administrators demoting each other at once
    // cannot leave nobody in charge.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('triage.staff_users'))")
        .execute(&mut *tx)
        .await?;
    let current = staff::record(&mut *tx, &id, true)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("staff user {id}")))?
        .user;
    let mut changes = Map::new();
    let mut change = |field: &str, from: Value, to: Value| {
        if from != to {
            changes.insert(field.into(), json!({ "from": from, "to": to }));
        }
    };
    let new_name = name.map(str::to_owned).unwrap_or_else(|| current.name.clone());
    change("name", json!(current.name), json!(new_name));
    let new_roles = roles.unwrap_or_else(|| current.roles.clone());
    let mut old_roles = current.roles.clone();
    old_roles.sort_by_key(|r| *r as u8);
    change("roles", json!(old_roles), json!(new_roles));
    let new_department = department.unwrap_or_else(|| current.department.clone());
    change("department", json!(current.department), json!(new_department));
    let new_sites = sites.unwrap_or_else(|| current.sites.clone());
    let mut old_sites = current.sites.clone();
    old_sites.sort();
    change("sites", json!(old_sites), json!(new_sites));
    let new_active = body.active.unwrap_or(current.active);
    change("active", json!(current.active), json!(new_active));
    let new_language = language.map(str::to_owned).unwrap_or_else(|| current.language.clone());
    change("language", json!(current.language), json!(new_language));
    // Contact details: whether they changed, never their values (the change log is read by auditors).
    let new_email = email.unwrap_or_else(|| current.email.clone());
    let new_phone = phone.unwrap_or_else(|| current.phone.clone());
    for (field, old, new) in [
        ("email", &current.email, &new_email),
        ("phone", &current.phone, &new_phone),
    ] {
        if old != new {
            let set = |v: &Option<String>| json!(v.as_ref().map(|_| "set"));
            changes.insert(
                field.into(),
                json!({ "from": set(old), "to": if new.is_some() { json!("changed") } else { json!(null) } }),
            );
        }
    }
    if hash.is_some() {
        changes.insert("password".into(), json!("reset"));
    }
    if changes.is_empty() {
        tx.rollback().await?;
        return Ok(Json(detail(&state, &id).await?));
    }

    if !new_active && current.active && id == who.0.sub {
        return Err(ApiError::conflict(
            "you cannot deactivate your own account; ask another administrator",
        ));
    }
    let admin = auth::Role::Administrator;
    let was_admin = current.active && current.roles.contains(&admin);
    let stays_admin = new_active && new_roles.contains(&admin);
    if was_admin && !stays_admin {
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM staff_users WHERE active AND roles ? 'administrator' AND id <> $1",
        )
        .bind(&id)
        .fetch_one(&mut *tx)
        .await?;
        if others == 0 {
            let what = if new_active {
                "lose the administrator role"
            } else {
                "be deactivated"
            };
            return Err(ApiError::conflict(format!(
                "`{id}` is the last active administrator and cannot {what}; make another user an administrator first"
            )));
        }
    }

    sqlx::query(
        "UPDATE staff_users SET name = $2, roles = $3, department = $4, sites = $5, active = $6,
                password_hash = coalesce($7, password_hash), email = $8, phone = $9, language = $10,
                updated_at = now(), revision = revision + 1
          WHERE id = $1",
    )
    .bind(&id)
    .bind(&new_name)
    .bind(json!(new_roles))
    .bind(&new_department)
    .bind(json!(new_sites))
    .bind(new_active)
    .bind(hash)
    .bind(&new_email)
    .bind(&new_phone)
    .bind(&new_language)
    .execute(&mut *tx)
    .await?;
    // What the token carries (name, roles, department, sites) or whether it may be used at all changed: sign
    // the user out. Contact details and language alone do not.
    let signs_out = ["name", "roles", "department", "sites", "active", "password"]
        .iter()
        .any(|f| changes.contains_key(*f));
    let revoked = if signs_out {
        staff::revoke_tokens(&mut tx, &state.settings.staff.events_site, &id).await?
    } else {
        0
    };
    let changes = Value::Object(changes);
    staff::record_change(&mut tx, &id, &who.0.sub, "updated", &changes).await?;
    staff::publish_changed(&mut tx, &state.settings.staff.events_site, &id).await?;
    tx.commit().await?;
    state.outbox.notify();
    // Field names only: the values (names) stay out of the log.
    let fields: Vec<&String> = changes.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    tracing::info!(staff = %id, by = %who.0.sub, fields = ?fields, tokens_revoked = revoked, "staff account changed");
    Ok(Json(detail(&state, &id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth::Role;

    #[test]
    fn roles_are_deduplicated_and_ordered_and_at_least_one_is_needed() {
        assert_eq!(
            valid_roles(&[Role::Administrator, Role::Handler, Role::Administrator]).unwrap(),
            vec![Role::Handler, Role::Administrator]
        );
        assert_eq!(valid_roles(&[]).unwrap_err().field.as_deref(), Some("roles"));
    }

    #[test]
    fn names_departments_and_passwords_are_checked_naming_the_field() {
        assert_eq!(valid_name("  Li Lei ").unwrap(), "Li Lei");
        assert_eq!(valid_name("   ").unwrap_err().field.as_deref(), Some("name"));
        assert_eq!(valid_name("a\u{7}b").unwrap_err().field.as_deref(), Some("name"));
        assert_eq!(valid_department(Some(" quality ")).unwrap().as_deref(), Some("quality"));
        assert_eq!(valid_department(Some("")).unwrap(), None);
        assert_eq!(valid_department(None).unwrap(), None);
        let e = valid_department(Some("quality; drop")).unwrap_err();
        assert_eq!((e.status.as_u16(), e.field.as_deref()), (422, Some("department")));
        assert_eq!(valid_password("short").unwrap_err().field.as_deref(), Some("password"));
        assert!(valid_password("long-enough-pw").is_ok());
    }

    #[test]
    fn a_null_department_clears_it_and_an_absent_one_keeps_it() {
        let c: StaffChange = serde_json::from_str(r#"{"department": null}"#).unwrap();
        assert_eq!(c.department, Some(None));
        let c: StaffChange = serde_json::from_str(r#"{"active": false}"#).unwrap();
        assert_eq!(c.department, None);
        assert!(
            serde_json::from_str::<StaffChange>(r#"{"rolez": []}"#).is_err(),
            "typos are refused"
        );
    }
}
