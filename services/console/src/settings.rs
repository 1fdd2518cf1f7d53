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
    /// Roles offered phone intake (agents and handlers take calls; intake itself accepts any staff token).
    pub phone_intake_roles: Vec<auth::Role>,
    /// Roles offered the caller lookup (mirrors intake's `intake.customer_lookup_roles`).
    pub customer_lookup_roles: Vec<auth::Role>,
    /// Departments offered by the "My work" filter (mirrors triage's `routing.departments` values).
    pub departments: Vec<String>,
    /// How long a report export may take before it is given up.
    pub export_timeout_secs: u64,
    /// How long a download request waits for a quick export before showing its progress page.
    pub export_wait_ms: u64,
    /// The largest report export kept for download.
    pub export_max_bytes: usize,
}

/// Whether the session cookie carries `Secure` (sent over HTTPS only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecureCookie {
    /// Browsers reach the console over HTTPS: its own, or a TLS proxy's in front of it.
    Always,
    /// Plain-HTTP development only; refused in production.
    Never,
    /// Always, except on a loopback listener (plain-HTTP development); refused in production on loopback,
    /// where the console cannot tell whether a TLS proxy fronts it — say so with `always`.
    Auto,
}

/// Whether `host` is a loopback address (nobody but this machine can reach it).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `Secure` flag for `mode` on `host`, or why it is refused: in production the session (which
/// holds the staff token) never travels over plain HTTP.
pub fn secure_cookie_flag(mode: SecureCookie, host: &str, production: bool) -> Result<bool, String> {
    match (mode, production) {
        (SecureCookie::Always, _) => Ok(true),
        (SecureCookie::Never, true) => Err(
            "console.secure_cookie = \"never\" is refused in production: the session \
             cookie carries the staff token and must only travel over HTTPS; terminate TLS at the console or a \
             proxy in front of it and set \"always\""
                .into(),
        ),
        (SecureCookie::Never, false) => Ok(false),
        (SecureCookie::Auto, true) if is_loopback(host) => Err(format!(
            "console.secure_cookie = \"auto\" on the loopback address {host} would send the session cookie over \
             plain HTTP in production; if a TLS proxy on this host fronts the console, say so with \"always\""
        )),
        (SecureCookie::Auto, _) => Ok(!is_loopback(host)),
    }
}

/// The shipped cookie secret; refused in production.
pub const DEFAULT_COOKIE_SECRET: &str = "dev-console-cookie-secret-change-me-0123456789";

impl Settings {
    pub fn load() -> anyhow::Result<Self> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        settings::require_changed_in_production(
            "console.cookie_secret",
            &s.console.cookie_secret,
            DEFAULT_COOKIE_SECRET,
        )?;
        let production = settings::AppEnvironment::current() == settings::AppEnvironment::Production;
        secure_cookie_flag(s.console.secure_cookie, &s.http.host, production).map_err(anyhow::Error::msg)?;
        Ok(s)
    }

    /// Whether the session cookie carries `Secure` (production settings were checked by [`Settings::load`]).
    pub fn secure_cookie(&self) -> bool {
        secure_cookie_flag(self.console.secure_cookie, &self.http.host, false).unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_never_sends_the_session_over_plain_http() {
        use SecureCookie::*;
        // Development: plain HTTP on loopback works, anything reachable from outside is Secure.
        assert_eq!(secure_cookie_flag(Auto, "127.0.0.1", false), Ok(false));
        assert_eq!(secure_cookie_flag(Auto, "0.0.0.0", false), Ok(true));
        assert_eq!(secure_cookie_flag(Never, "0.0.0.0", false), Ok(false));
        // Production: Secure, or refused at start-up.
        assert_eq!(secure_cookie_flag(Auto, "0.0.0.0", true), Ok(true));
        assert_eq!(
            secure_cookie_flag(Always, "127.0.0.1", true),
            Ok(true),
            "behind a TLS proxy"
        );
        assert!(secure_cookie_flag(Auto, "127.0.0.1", true)
            .unwrap_err()
            .contains("always"));
        assert!(secure_cookie_flag(Auto, "::1", true).is_err());
        assert!(secure_cookie_flag(Never, "10.0.0.5", true).is_err());
        assert!(is_loopback("localhost") && is_loopback("127.0.0.2") && is_loopback("[::1]"));
        assert!(!is_loopback("console.internal"));
    }
}
