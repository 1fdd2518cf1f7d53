//! Layered configuration: the service's embedded `config/default.toml` → `config/<APP_ENV>.toml`
//! (optional, in `APP_CONFIG_DIR` or `./config`) → `APP__SECTION__KEY` environment variables.
#![forbid(unsafe_code)]

use config::{Config, Environment as EnvSource, File, FileFormat};
use serde::{de::DeserializeOwned, Deserialize};
use sqlx::{postgres::PgPoolOptions, PgPool};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("refusing to start in production with the default value of `{0}`; set it in the environment")]
    DefaultSecretInProduction(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnvironment {
    Development,
    Test,
    Production,
}

impl AppEnvironment {
    pub fn current() -> Self {
        match std::env::var("APP_ENV")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "production" | "prod" => Self::Production,
            "test" => Self::Test,
            _ => Self::Development,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// Keys whose environment values are comma-separated lists.
const LIST_KEYS: &[&str] = &["sites.known", "sites.serve"];

/// Defaults shared by every service (bus, pool, sites, auth).
pub const SHARED_DEFAULTS: &str = include_str!("../defaults.toml");

/// Loads `T` from the layers above. `defaults` is the service's `config/default.toml`, embedded
/// with `include_str!` so the binary runs from any directory; it is layered over [`SHARED_DEFAULTS`].
pub fn load<T: DeserializeOwned>(defaults: &str) -> Result<T, SettingsError> {
    let env = AppEnvironment::current();
    let dir = std::env::var("APP_CONFIG_DIR").unwrap_or_else(|_| "config".into());
    let mut env_source = EnvSource::with_prefix("APP")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",");
    for key in LIST_KEYS {
        env_source = env_source.with_list_parse_key(key);
    }
    let config = Config::builder()
        .add_source(File::from_str(SHARED_DEFAULTS, FileFormat::Toml))
        .add_source(File::from_str(defaults, FileFormat::Toml))
        .add_source(File::with_name(&format!("{dir}/{}", env.name())).required(false))
        .add_source(env_source)
        .build()?;
    Ok(config.try_deserialize()?)
}

/// Refuses a production start while `value` still equals the shipped default.
pub fn require_changed_in_production(name: &'static str, value: &str, default: &str) -> Result<(), SettingsError> {
    if AppEnvironment::current() == AppEnvironment::Production && value == default {
        return Err(SettingsError::DefaultSecretInProduction(name));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Base URL the service is reachable at from outside (links in emails, status pages).
    #[serde(default)]
    pub public_url: Option<String>,
}

impl HttpSettings {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    #[serde(default = "default_acquire_timeout_ms")]
    pub acquire_timeout_ms: u64,
}

fn default_acquire_timeout_ms() -> u64 {
    5_000
}

impl DatabaseSettings {
    /// A pool that connects lazily, so a service starts (and reports not-ready) while the
    /// database is still coming up.
    pub fn pool(&self) -> Result<PgPool, sqlx::Error> {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(Duration::from_millis(self.acquire_timeout_ms))
            .connect_lazy(&self.url)
    }
}

/// Which sites exist and which this instance serves (domain: branches, plants, service stations).
#[derive(Debug, Clone, Deserialize)]
pub struct SitesSettings {
    pub known: Vec<String>,
    /// Empty means every known site.
    #[serde(default)]
    pub serve: Vec<String>,
}

impl SitesSettings {
    pub fn served(&self) -> Vec<String> {
        if self.serve.is_empty() {
            self.known.clone()
        } else {
            self.serve.clone()
        }
    }

    pub fn is_known(&self, site: &str) -> bool {
        self.known.iter().any(|s| s == site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct S {
        http: HttpSettings,
        sites: SitesSettings,
    }

    const DEFAULTS: &str = "[http]\nhost = \"127.0.0.1\"\nport = 8081\n[sites]\nknown = [\"sh01\", \"bj01\"]\n";

    #[test]
    fn shared_defaults_parse() {
        let c = Config::builder()
            .add_source(File::from_str(SHARED_DEFAULTS, FileFormat::Toml))
            .build()
            .unwrap();
        assert!(c.get::<String>("bus.exchange").is_ok());
    }

    #[test]
    fn defaults_then_environment_overrides() {
        // One test touches the environment, so tests in this crate do not race on it.
        std::env::set_var("APP__HTTP__PORT", "9999");
        std::env::set_var("APP__SITES__SERVE", "bj01");
        let s: S = load(DEFAULTS).unwrap();
        std::env::remove_var("APP__HTTP__PORT");
        std::env::remove_var("APP__SITES__SERVE");
        assert_eq!(s.http.port, 9999);
        assert_eq!(s.http.host, "127.0.0.1");
        assert_eq!(s.sites.served(), vec!["bj01".to_string()]);
        assert!(s.sites.is_known("sh01"));
    }

    #[test]
    fn served_defaults_to_all_known() {
        let sites = SitesSettings {
            known: vec!["a".into(), "b".into()],
            serve: vec![],
        };
        assert_eq!(sites.served(), vec!["a".to_string(), "b".to_string()]);
    }
}
