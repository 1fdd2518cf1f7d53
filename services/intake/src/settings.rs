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
    pub web: WebSettings,
    pub attachments: AttachmentSettings,
    pub cti: CtiSettings,
}

/// The telephony webhook (`[cti]`).
#[derive(Debug, Clone, Deserialize)]
pub struct CtiSettings {
    pub secret: String,
    pub default_site: String,
    pub max_skew_seconds: i64,
    pub max_age_hours: i64,
}

/// The shipped CTI secret; refused in production.
pub const DEFAULT_CTI_SECRET: &str = "dev-cti-secret-change-me";

/// The public web form's limits (abuse protection).
#[derive(Debug, Clone, Deserialize)]
pub struct WebSettings {
    /// Whole multipart request, attachments included.
    pub max_request_bytes: usize,
    pub max_attachment_bytes: usize,
    pub max_attachments: usize,
    /// Content types accepted, as judged from the file's first bytes.
    pub allowed_attachment_types: Vec<String>,
    /// Submissions per client address: `rate_limit_burst` at once, refilled over `rate_limit_period_secs`.
    pub rate_limit_burst: u32,
    pub rate_limit_period_secs: u64,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentSettings {
    /// Local directory of the attachment store (relative to the working directory).
    pub dir: String,
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
        settings::require_changed_in_production("cti.secret", &s.cti.secret, DEFAULT_CTI_SECRET)?;
        Ok(s)
    }
}
