use auth::AuthSettings;
use serde::Deserialize;
use settings::{HttpSettings, SitesSettings};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: HttpSettings,
    pub sites: SitesSettings,
    /// The shared staff-token key: the console verifies tokens to know the user's roles.
    pub auth: AuthSettings,
    pub backends: BackendSettings,
    pub console: ConsoleSettings,
}

/// Where the other services answer (`[backends]`).
#[derive(Debug, Clone, Deserialize)]
pub struct BackendSettings {
    pub intake: String,
    pub triage: String,
    pub notification: String,
    pub reporting: String,
    pub scheduler: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConsoleSettings {
    pub cookie_secret: String,
    pub secure_cookie: SecureCookie,
    pub session_hours: i64,
    pub default_language: String,
    pub timezone: String,
    pub page_size: u32,
    /// Roles shown the revisit screens (mirrors triage's `revisit.readable_by`).
    pub revisit_roles: Vec<auth::Role>,
    /// Roles offered closing a revisit loop (mirrors triage's `revisit.manager_roles`).
    pub revisit_manager_roles: Vec<auth::Role>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecureCookie {
    Always,
    Never,
    /// Always, except on a loopback listener (plain-HTTP development).
    Auto,
}

/// The shipped cookie secret; refused in production.
pub const DEFAULT_COOKIE_SECRET: &str = "dev-console-cookie-secret-change-me-0123456789";

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        settings::require_changed_in_production(
            "console.cookie_secret",
            &s.console.cookie_secret,
            DEFAULT_COOKIE_SECRET,
        )?;
        Ok(s)
    }

    /// Whether the session cookie carries `Secure`.
    pub fn secure_cookie(&self) -> bool {
        match self.console.secure_cookie {
            SecureCookie::Always => true,
            SecureCookie::Never => false,
            SecureCookie::Auto => !matches!(self.http.host.as_str(), "127.0.0.1" | "localhost" | "::1"),
        }
    }
}
