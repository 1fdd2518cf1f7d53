//! Signing in, and the staff directory (administrators manage it).
use axum::{extract::State, http::StatusCode, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use server::{ApiError, ApiJson};
use utoipa::ToSchema;

use crate::{
    staff::{self, StaffUser},
    startup::AppState,
};

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
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    if body.password.chars().count() < 10 {
        return Err(ApiError::invalid("password", "must be at least 10 characters"));
    }
    if body.roles.is_empty() {
        return Err(ApiError::invalid("roles", "give at least one role"));
    }
    if let Some(unknown) = body.sites.iter().find(|s| !state.settings.sites.is_known(s)) {
        return Err(ApiError::invalid("sites", format!("unknown site `{unknown}`")));
    }
    let hash = staff::hash_password(&body.password).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let inserted = sqlx::query(
        "INSERT INTO staff_users (id, name, password_hash, roles, department, sites) VALUES ($1,$2,$3,$4,$5,$6)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(body.name.trim())
    .bind(hash)
    .bind(serde_json::json!(body.roles))
    .bind(&body.department)
    .bind(serde_json::json!(body.sites))
    .execute(&state.pool)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ApiError::conflict(format!("a staff user `{id}` exists already")));
    }
    let (user, _) = staff::find(&state.pool, id).await?.expect("just inserted");
    Ok((StatusCode::CREATED, Json(user)))
}
