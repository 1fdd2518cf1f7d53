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
    pub reporting: ReportingSettings,
    pub staff: revocation::StaffEventsSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReportingSettings {
    pub timezone: String,
    /// Salt of the customer hash used to count repeat complaints (no contact data is stored here).
    pub pseudonym_salt: String,
    /// A complaint counts as a repeat when the same customer complained about the same category within
    /// this many days before.
    pub repeat_window_days: i64,
    /// How many causes the Pareto and how many products the breakdown list before "other".
    pub top_n: usize,
    /// Who may issue a report by hand (the scheduler issues them when due).
    pub issuer_roles: Vec<auth::Role>,
    /// The routing-key site of events about all-sites reports.
    pub all_sites_key: String,
    /// PostgreSQL `work_mem` while a report is built (sorts for percentiles and groupings stay in memory).
    pub work_mem: String,
    pub revisits: RevisitTargets,
    /// Complaints a month about one staff member at which each band starts (004 §4.5: 2, 3, 4, 5).
    pub staff_complaint_bands: Vec<i64>,
    pub snapshots: crate::report::snapshot::SnapshotSettings,
}

/// Revisit targets and satisfaction bands (domain.md §5; 003 篇2, 篇5).
#[derive(Debug, Clone, Deserialize)]
pub struct RevisitTargets {
    /// Share of closed cases revisited, overall and for complaints (percent).
    pub rate_target_pct: f64,
    pub complaint_rate_target_pct: f64,
    /// A score at or above this counts as satisfied in the distribution's share.
    pub satisfied_from_score: i16,
    /// Satisfaction bands of a department or person: above `good_above` good, below `poor_below` poor, below
    /// `very_poor_below` very poor, else fair.
    pub good_above_pct: f64,
    pub poor_below_pct: f64,
    pub very_poor_below_pct: f64,
}

/// The shipped salt; refused in production.
pub const DEFAULT_PSEUDONYM_SALT: &str = "dev-only-reporting-salt";

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        settings::require_changed_in_production(
            "reporting.pseudonym_salt",
            &s.reporting.pseudonym_salt,
            DEFAULT_PSEUDONYM_SALT,
        )?;
        Ok(s)
    }
}
