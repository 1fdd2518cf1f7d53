use std::collections::BTreeMap;

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
    pub staff: revocation::StaffEventsSettings,
    pub firing: FiringSettings,
    /// SLA clocks and escalation ladders (`[sla]`, domain.md §3).
    pub sla: SlaSettings,
    /// Working calendars of the sites (`[calendar]`).
    pub calendar: CalendarSettings,
    /// When revisits are due (`[revisit]`, domain.md §5).
    pub revisit: crate::domain::revisit_policy::RevisitPolicy,
    /// When periodic reports fall due (`[reports]`, domain.md §6).
    pub reports: crate::report_due::ReportSchedule,
}

/// The validated `[sla]` section.
pub type SlaSettings = crate::domain::policy::SlaPolicy;

/// `[calendar.default]` for every site, `[calendar.sites.<site>]` replacing it for one site
/// (format: `shared/calendar/README.md`).
#[derive(Debug, Clone, Deserialize)]
pub struct CalendarSettings {
    pub default: calendar::SiteConfig,
    #[serde(default)]
    pub sites: BTreeMap<String, calendar::SiteConfig>,
    /// Warn (at start-up, daily in the log, and in `GET /api/v1/policies`) when a calendar has no holiday data
    /// for a year this many days ahead reach.
    #[serde(default = "coverage_warning_days")]
    pub coverage_warning_days: i64,
}

fn coverage_warning_days() -> i64 {
    60
}

impl CalendarSettings {
    /// The calendar configuration of `site`.
    pub fn site_config(&self, site: &str) -> &calendar::SiteConfig {
        self.sites.get(site).unwrap_or(&self.default)
    }

    /// Builds the working calendar of `site`.
    pub fn calendar_for(&self, site: &str) -> Result<calendar::Calendar, calendar::CalendarError> {
        self.site_config(site).build()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct FiringSettings {
    pub batch: i64,
    pub max_sleep_ms: u64,
    pub late_after_seconds: i64,
}

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        Ok(s)
    }
}
