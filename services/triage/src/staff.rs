//! Staff accounts: passwords hashed with Argon2, tokens signed for every service (shared/auth),
//! a hash of each issued token kept for the record, the first administrator from configuration.
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use auth::{AuthKeys, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
}

/// Creates the configured first administrator if no such user exists yet.
pub async fn ensure_first_admin(pool: &PgPool, settings: &Settings) -> anyhow::Result<()> {
    let a = &settings.admin;
    sqlx::query(
        "INSERT INTO staff_users (id, name, password_hash, roles) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&a.user)
    .bind(&a.name)
    .bind(hash_password(&a.password).map_err(|e| anyhow::anyhow!("hashing the admin password: {e}"))?)
    .bind(serde_json::json!([Role::Administrator]))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn find(pool: &PgPool, id: &str) -> Result<Option<(StaffUser, String)>, sqlx::Error> {
    let row =
        sqlx::query("SELECT id, name, roles, department, sites, active, password_hash FROM staff_users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    row.map(|r| {
        let roles: serde_json::Value = r.get("roles");
        let sites: serde_json::Value = r.get("sites");
        Ok((
            StaffUser {
                id: r.get("id"),
                name: r.get("name"),
                roles: serde_json::from_value(roles).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                department: r.get("department"),
                sites: serde_json::from_value(sites).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                active: r.get("active"),
            },
            r.get("password_hash"),
        ))
    })
    .transpose()
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
        .bind(format!("{:x}", Sha256::digest(token.as_bytes())))
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
