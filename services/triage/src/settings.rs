use std::collections::HashMap;

use auth::AuthSettings;
use messaging::BusSettings;
use serde::Deserialize;
use settings::{DatabaseSettings, HttpSettings, SitesSettings};

use crate::domain::{claims::ClaimSettings, classify::ClassificationSettings};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    pub sites: SitesSettings,
    pub auth: AuthSettings,
    pub admin: AdminSettings,
    pub classification: ClassificationSettings,
    pub routing: RoutingSettings,
    pub claims: ClaimSettings,
    pub privacy: PrivacySettings,
    pub lists: ListSettings,
    pub dedup: crate::domain::dedup::DedupSettings,
    pub login: LoginSettings,
    pub staff: StaffSettings,
    /// Revisits (回访): call windows, roles, questionnaire (domain.md §5).
    pub revisit: crate::domain::revisit::RevisitSettings,
    #[serde(default)]
    pub assignment: crate::domain::assignment::AssignmentSettings,
    pub quality: QualitySettings,
}

/// 8D, regulator reports and CAPA (domain.md §4).
#[derive(Debug, Clone, Deserialize)]
pub struct QualitySettings {
    pub eight_d: EightDSettings,
    pub regulator: crate::domain::regulator::RegulatorSettings,
    pub capa: crate::domain::capa::CapaSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EightDSettings {
    /// Case categories answered with an 8D report.
    pub categories: Vec<String>,
    pub editor_roles: Vec<auth::Role>,
    /// The root-cause categories D4 chooses from (the Pareto of causes in the reports).
    pub cause_categories: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PrivacySettings {
    pub unmasked_roles: Vec<auth::Role>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListSettings {
    pub page_size: i64,
    pub max_page_size: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AdminSettings {
    pub user: String,
    pub name: String,
    pub password: String,
    pub token_ttl_hours: i64,
}

/// The shipped first-administrator password; refused in production.
pub const DEFAULT_ADMIN_PASSWORD: &str = "change-me-admin";

/// Staff accounts as other services see them.
#[derive(Debug, Clone, Deserialize)]
pub struct StaffSettings {
    /// The site whose routing key carries `staff.changed` (staff are no site's; the head office's, like
    /// reporting's `all_sites_key`). Notification's instance serving this site keeps the directory.
    pub events_site: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoginSettings {
    pub token_ttl_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RoutingSettings {
    /// category → department code
    pub departments: HashMap<String, String>,
    /// site → (category → department code)
    #[serde(default)]
    pub site_overrides: HashMap<String, HashMap<String, String>>,
    /// category → roles involved besides the department (told of the case; they may act on it by their role).
    #[serde(default)]
    pub involve: HashMap<String, Vec<auth::Role>>,
}

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        settings::require_changed_in_production("admin.password", &s.admin.password, DEFAULT_ADMIN_PASSWORD)?;
        Ok(s)
    }
}
