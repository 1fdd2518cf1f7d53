//! Staff accounts: passwords hashed with Argon2, tokens signed for every service (shared/auth),
//! a hash of each issued token kept for the record, the first administrator from configuration.
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use auth::{AuthKeys, Role};
use chrono::{DateTime, Utc};
use revocation::{token_sha256, Standing, CHANGED, DEACTIVATED, REVOKED};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use utoipa::ToSchema;

use crate::settings::Settings;

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffUser {
    pub id: String,
    pub name: String,
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    pub department: Option<String>,
    pub sites: Vec<String>,
    pub active: bool,
    /// Where notifications to this person go (the directory of people notification keeps).
    pub email: Option<String>,
    /// Mobile number for SMS.
    pub phone: Option<String>,
    /// `zh-CN` or `en`: the language of notifications to this person.
    pub language: String,
}

/// Creates the configured first administrator if no such user exists yet.
pub async fn ensure_first_admin(pool: &PgPool, settings: &Settings) -> anyhow::Result<()> {
    let a = &settings.admin;
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO staff_users (id, name, password_hash, roles) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&a.user)
    .bind(&a.name)
    .bind(hash_password(&a.password).map_err(|e| anyhow::anyhow!("hashing the admin password: {e}"))?)
    .bind(serde_json::json!([Role::Administrator]))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        publish_changed(&mut tx, &settings.staff.events_site, &a.user).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Publishes the account as it now is (`staff.changed`), in the transaction that changed it.
pub async fn publish_changed(conn: &mut sqlx::PgConnection, events_site: &str, id: &str) -> Result<(), sqlx::Error> {
    let r = sqlx::query(&format!(
        "SELECT {RECORD_COLUMNS}, revision, tokens_valid_after FROM staff_users WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    let record = record_from_row(&r)?;
    let u = record.user;
    let event = contracts::staff::StaffChangedV1 {
        user_id: u.id,
        name: u.name,
        email: u.email,
        phone: u.phone,
        language: u.language,
        roles: u
            .roles
            .iter()
            .map(|r| crate::domain::workflow::role_name(r).to_owned())
            .collect(),
        department: u.department,
        sites: u.sites,
        active: u.active,
        revision: r.try_get("revision")?,
        tokens_valid_after: r.try_get("tokens_valid_after")?,
    };
    messaging::enqueue(
        conn,
        &contracts::Envelope::new(events_site.to_owned(), uuid::Uuid::now_v7(), event),
    )
    .await
}

pub async fn find(pool: &PgPool, id: &str) -> Result<Option<(StaffUser, String)>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {RECORD_COLUMNS}, password_hash FROM staff_users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((record_from_row(&r)?.user, r.try_get("password_hash")?)))
        .transpose()
}

/// The columns of [`StaffUser`] plus when the account was created and last changed.
const RECORD_COLUMNS: &str =
    "id, name, roles, department, sites, active, email, phone, language, created_at, updated_at";

/// A staff account as administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffRecord {
    #[serde(flatten)]
    pub user: StaffUser,
    pub created_at: DateTime<Utc>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn record_from_row(r: &sqlx::postgres::PgRow) -> Result<StaffRecord, sqlx::Error> {
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    let roles: serde_json::Value = r.try_get("roles")?;
    let sites: serde_json::Value = r.try_get("sites")?;
    Ok(StaffRecord {
        user: StaffUser {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            roles: serde_json::from_value(roles).map_err(decode)?,
            department: r.try_get("department")?,
            sites: serde_json::from_value(sites).map_err(decode)?,
            active: r.try_get("active")?,
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            language: r.try_get("language")?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// What the staff list may be narrowed by.
#[derive(Debug, Default)]
pub struct StaffFilter {
    pub department: Option<String>,
    /// Users who work for this site (including those who work for every site).
    pub site: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Words in the user id or name.
    pub text: Option<String>,
    /// Users whose id sorts after this one (the previous page's last).
    pub after: Option<String>,
}

/// Staff accounts by id, at most `limit`.
pub async fn list(pool: &PgPool, filter: &StaffFilter, limit: i64) -> Result<Vec<StaffRecord>, sqlx::Error> {
    let mut b: sqlx::QueryBuilder<sqlx::Postgres> =
        sqlx::QueryBuilder::new(format!("SELECT {RECORD_COLUMNS} FROM staff_users WHERE true"));
    if let Some(d) = &filter.department {
        b.push(" AND department = ").push_bind(d.clone());
    }
    if let Some(s) = &filter.site {
        b.push(" AND (sites = '[]'::jsonb OR sites ? ")
            .push_bind(s.clone())
            .push(")");
    }
    if let Some(r) = filter.role {
        let name = serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned));
        b.push(" AND roles ? ").push_bind(name);
    }
    if let Some(a) = filter.active {
        b.push(" AND active = ").push_bind(a);
    }
    if let Some(t) = &filter.text {
        let pattern = format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        b.push(" AND (id || ' ' || name) ILIKE ").push_bind(pattern);
    }
    if let Some(after) = &filter.after {
        b.push(" AND id > ").push_bind(after.clone());
    }
    b.push(" ORDER BY id LIMIT ").push_bind(limit);
    b.build().fetch_all(pool).await?.iter().map(record_from_row).collect()
}

/// One account as administrators see it.
pub async fn record<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    id: &str,
    for_update: bool,
) -> Result<Option<StaffRecord>, sqlx::Error> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM staff_users WHERE id = $1{lock}"))
        .bind(id)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(record_from_row)
        .transpose()
}

/// One recorded change of an account.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct StaffChangeRecord {
    pub at: DateTime<Utc>,
    /// The administrator who made it.
    pub actor: String,
    /// `created` or `updated`.
    pub action: String,
    /// `{"field": {"from": …, "to": …}}`; a password reset is `{"password": "reset"}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

/// The account's recorded changes, newest first (at most `limit`).
pub async fn changes(pool: &PgPool, id: &str, limit: i64) -> Result<Vec<StaffChangeRecord>, sqlx::Error> {
    sqlx::query_as("SELECT at, actor, action, changes FROM staff_changes WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// Records a change of `user_id` made by `actor`.
pub async fn record_change(
    conn: &mut sqlx::PgConnection,
    user_id: &str,
    actor: &str,
    action: &str,
    changes: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO staff_changes (user_id, actor, action, changes) VALUES ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(actor)
        .bind(action)
        .bind(changes)
        .execute(conn)
        .await?;
    Ok(())
}

/// A token is refused when its user is deactivated, when it was revoked (the account changed), or —
/// for a token triage did not record (`triage admin-token`) — when it was issued before the account's
/// last change. Users triage does not know (tokens minted elsewhere with the shared key) are accepted.
pub async fn standing(pool: &PgPool, token: &str, claims: &auth::Claims) -> Result<Standing, sqlx::Error> {
    // (active, tokens_valid_after, token recorded, token revoked_at)
    type Row = (bool, Option<DateTime<Utc>>, bool, Option<DateTime<Utc>>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT u.active, u.tokens_valid_after, t.token_sha256 IS NOT NULL, t.revoked_at
           FROM staff_users u LEFT JOIN staff_tokens t ON t.token_sha256 = $2 AND t.user_id = u.id
          WHERE u.id = $1",
    )
    .bind(&claims.sub)
    .bind(token_sha256(token))
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => Standing::Accepted,
        Some((false, ..)) => Standing::Refused(DEACTIVATED),
        Some((true, _, true, Some(_))) => Standing::Refused(REVOKED),
        Some((true, Some(after), false, _)) if claims.iat <= after.timestamp() => Standing::Refused(CHANGED),
        Some(_) => Standing::Accepted,
    })
}

/// Triage's own answer for the shared token guard (`revocation::guarded`): its staff tables, not the announced
/// copies the other services keep.
pub struct OwnStanding(pub PgPool);

#[async_trait::async_trait]
impl revocation::StandingCheck for OwnStanding {
    async fn standing(&self, token: &str, claims: &auth::Claims) -> Result<Standing, sqlx::Error> {
        standing(&self.0, token, claims).await
    }
}

/// Whether `user` can be made responsible for a case of `department` at `site`: an active account that handles
/// cases (not only an agent or auditor), of that department and serving that site — or a manager, who acts on
/// every case. `Ok(Err(why))` when not.
pub async fn assignable(
    conn: &mut sqlx::PgConnection,
    user: &str,
    department: &str,
    site: &str,
) -> Result<Result<(), String>, sqlx::Error> {
    let Some(r) = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM staff_users WHERE id = $1"))
        .bind(user)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(Err(format!("there is no staff account `{user}`")));
    };
    let u = record_from_row(&r)?.user;
    let actor = crate::domain::workflow::Actor {
        id: u.id.clone(),
        name: u.name.clone(),
        roles: u.roles.clone(),
        department: u.department.clone(),
        sites: u.sites.clone(),
    };
    Ok(if !u.active {
        Err(format!("{user}'s account is deactivated"))
    } else if !actor.has_any(crate::domain::workflow::required_roles(
        crate::domain::workflow::ActionKind::Resolve,
    )) {
        Err(format!("{user} does not handle cases (only registers or reads them)"))
    } else {
        crate::domain::workflow::may_act(&actor, department, site)
    })
}

/// Signs one token out: triage refuses it from now on (recorded even for a token triage did not issue through
/// sign-in, e.g. `triage admin-token`'s), and announces it (`staff.token_revoked`) so every other service
/// refuses it too.
pub async fn revoke_token(
    pool: &PgPool,
    events_site: &str,
    token: &str,
    claims: &auth::Claims,
) -> Result<(), sqlx::Error> {
    let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    let token_sha256 = token_sha256(token);
    let mut tx = pool.begin().await?;
    let recorded: Option<bool> = sqlx::query_scalar(
        "INSERT INTO staff_tokens (token_sha256, user_id, expires_at, revoked_at)
         SELECT $1, id, $3, now() FROM staff_users WHERE id = $2
         ON CONFLICT (token_sha256) DO UPDATE SET revoked_at = coalesce(staff_tokens.revoked_at, now())
         RETURNING true",
    )
    .bind(&token_sha256)
    .bind(&claims.sub)
    .bind(expires_at)
    .fetch_optional(&mut *tx)
    .await?;
    if recorded.is_some() {
        announce_revoked(&mut tx, events_site, &claims.sub, token_sha256, expires_at).await?;
    }
    tx.commit().await
}

/// Stops triage accepting the user's current tokens (after a change to the account), and announces each one
/// still unexpired; `staff.changed` then carries `tokens_valid_after` for tokens triage never recorded.
pub async fn revoke_tokens(
    conn: &mut sqlx::PgConnection,
    events_site: &str,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE staff_users SET tokens_valid_after = now() WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let revoked: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "UPDATE staff_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL
         RETURNING token_sha256, expires_at",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let count = revoked.len() as u64;
    for (token_sha256, expires_at) in revoked {
        if expires_at > Utc::now() {
            announce_revoked(conn, events_site, user_id, token_sha256, expires_at).await?;
        }
    }
    Ok(count)
}

async fn announce_revoked(
    conn: &mut sqlx::PgConnection,
    events_site: &str,
    user_id: &str,
    token_sha256: String,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let event = contracts::staff::StaffTokenRevokedV1 {
        user_id: user_id.to_owned(),
        token_sha256,
        expires_at,
    };
    messaging::enqueue(
        conn,
        &contracts::Envelope::new(events_site.to_owned(), uuid::Uuid::now_v7(), event),
    )
    .await
}

/// A signed token for `user`, recorded by its hash.
pub async fn issue_token(
    pool: &PgPool,
    keys: &AuthKeys,
    user: &StaffUser,
    ttl: chrono::Duration,
) -> Result<(String, DateTime<Utc>), anyhow::Error> {
    let token = keys.issue(
        &user.id,
        &user.name,
        user.roles.clone(),
        user.department.clone(),
        user.sites.clone(),
        ttl,
    )?;
    let expires_at = Utc::now() + ttl;
    sqlx::query("INSERT INTO staff_tokens (token_sha256, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_sha256(&token))
        .bind(&user.id)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok((token, expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password_and_is_salted() {
        let h = hash_password("s3cret").unwrap();
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("S3cret", &h));
        assert_ne!(h, hash_password("s3cret").unwrap());
        assert!(!h.contains("s3cret"));
    }
}
