use std::collections::HashMap;

use auth::AuthSettings;
use messaging::BusSettings;
use serde::Deserialize;
use settings::{DatabaseSettings, HttpSettings, SitesSettings};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    pub sites: SitesSettings,
    pub auth: AuthSettings,
    pub firing: FiringSettings,
    pub clocks: HashMap<String, ClockSettings>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FiringSettings {
    pub batch: i64,
    pub max_sleep_ms: u64,
    pub late_after_seconds: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClockSettings {
    pub hours: i64,
}

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        Ok(s)
    }
}
