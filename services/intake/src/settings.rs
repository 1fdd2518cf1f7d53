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
    pub intake: IntakeSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IntakeSettings {
    pub timezone: String,
    pub reference_block: i32,
    pub default_language: String,
    pub max_body_bytes: usize,
    pub max_content_chars: usize,
    pub max_subject_chars: usize,
    pub max_name_chars: usize,
    pub max_field_chars: usize,
}

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        Ok(s)
    }
}
