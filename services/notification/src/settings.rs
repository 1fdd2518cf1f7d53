use auth::AuthSettings;
use messaging::BusSettings;
use std::collections::HashMap;

use serde::Deserialize;
use settings::{DatabaseSettings, HttpSettings, SitesSettings};

use crate::{
    domain::{directory::Directory, rules::Rule},
    quiet_hours::{QuietHours, Zone},
};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub bus: BusSettings,
    pub sites: SitesSettings,
    pub auth: AuthSettings,
    pub smtp: SmtpSettings,
    pub sender: SenderSettings,
    pub sms: SmsSettings,
    pub local_time: LocalTime,
    pub links: Links,
    pub rules: Vec<Rule>,
    pub directory: Directory,
    pub templates: TemplateSettings,
    pub staff: StaffSettings,
}

/// Where message templates come from besides those built into the binary.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateSettings {
    /// A directory whose files (`<template>.<lang>.txt`, `.html`, `.sms.txt`, `_layout.html`) replace the
    /// built-in ones of the same name or add new templates; empty = the built-in ones only.
    #[serde(default)]
    pub dir: String,
}

/// The staff accounts triage announces (`staff.changed`).
#[derive(Debug, Clone, Deserialize)]
pub struct StaffSettings {
    /// The site key triage publishes them under (its head office, like reporting's `all_sites_key`).
    pub events_site: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: String,
    pub from: String,
    pub message_id_domain: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SenderSettings {
    pub concurrency: usize,
    pub batch: i64,
    pub poll_ms: u64,
    pub max_attempts: i32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    pub lease_seconds: i64,
}

/// SMS: which gateway, how many at once, and when customers may not be texted.
#[derive(Debug, Clone, Deserialize)]
pub struct SmsSettings {
    pub provider: SmsProviderKind,
    /// Requests in flight at once; a slow gateway holds only these (email has its own).
    pub concurrency: usize,
    pub timeout_ms: u64,
    /// Longer texts are cut to this many parts.
    pub max_parts: usize,
    /// No SMS to customers inside this window (local time); they wait until it ends.
    pub quiet_hours: QuietHours,
    pub twilio: TwilioSettings,
    pub aliyun: AliyunSettings,
    pub webhook: WebhookSettings,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsProviderKind {
    /// SMS switched off: rules with `channel = "sms"` create no deliveries.
    None,
    Twilio,
    Aliyun,
    Webhook,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TwilioSettings {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// Sender number, or a Messaging Service SID (`MG…`).
    pub from: String,
    /// Added to national numbers (Twilio wants E.164).
    pub default_country_code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AliyunSettings {
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sign_name: String,
    pub region: String,
    /// Our template name → the template registered with Aliyun: its code and the variables it declares.
    #[serde(default)]
    pub templates: HashMap<String, AliyunTemplate>,
}

/// A template registered with Aliyun. Only `params` are sent as `TemplateParam`, so a registered text
/// never receives the customer's name, the status link or free text unless it asks for them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "AliyunTemplateConfig")]
pub struct AliyunTemplate {
    pub code: String,
    pub params: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AliyunTemplateConfig {
    /// The older form, `name = "SMS_123"`: the reference only, the one variable every template has.
    Code(String),
    Full {
        code: String,
        #[serde(default)]
        params: Vec<String>,
    },
}

impl From<AliyunTemplateConfig> for AliyunTemplate {
    fn from(c: AliyunTemplateConfig) -> Self {
        match c {
            AliyunTemplateConfig::Code(code) => AliyunTemplate {
                code,
                params: vec!["reference".into()],
            },
            AliyunTemplateConfig::Full { code, params } => AliyunTemplate { code, params },
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    pub url: String,
    pub secret: String,
}

/// The development default of `sms.webhook.secret`, refused in production.
pub const DEV_WEBHOOK_SECRET: &str = "dev-only-sms-webhook-secret";

/// Where links in messages point.
#[derive(Debug, Clone, Deserialize)]
pub struct Links {
    /// Reporting's base URL as staff reach it; `report.issued` carries the path.
    pub reporting_url: String,
}

/// The sites' time zones: dates in messages and SMS quiet hours are local to the case's site.
#[derive(Debug, Clone, Deserialize)]
pub struct LocalTime {
    pub time_zone: Zone,
    #[serde(default)]
    pub site_time_zones: HashMap<String, Zone>,
}

impl LocalTime {
    pub fn zone_for(&self, site: &str) -> Zone {
        *self.site_time_zones.get(site).unwrap_or(&self.time_zone)
    }
}

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        // The gateway's credentials: empty (the default) or the development key is refused in production.
        match s.sms.provider {
            SmsProviderKind::Webhook => settings::require_changed_in_production(
                "sms.webhook.secret",
                &s.sms.webhook.secret,
                DEV_WEBHOOK_SECRET,
            )?,
            SmsProviderKind::Twilio => {
                settings::require_changed_in_production("sms.twilio.auth_token", &s.sms.twilio.auth_token, "")?
            }
            SmsProviderKind::Aliyun => settings::require_changed_in_production(
                "sms.aliyun.access_key_secret",
                &s.sms.aliyun.access_key_secret,
                "",
            )?,
            SmsProviderKind::None => {}
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_templates_take_the_declared_params_or_the_reference_only_in_the_older_form() {
        let t: HashMap<String, AliyunTemplate> = serde_json::from_value(serde_json::json!({
            "feedback_received": "SMS_1",
            "deadline_extended": {"code": "SMS_2", "params": ["reference", "new_due"]},
        }))
        .unwrap();
        assert_eq!(
            t["feedback_received"],
            AliyunTemplate {
                code: "SMS_1".into(),
                params: vec!["reference".into()]
            }
        );
        assert_eq!(t["deadline_extended"].params, ["reference", "new_due"]);
    }

    #[test]
    fn the_default_configuration_loads() {
        let s = Settings::load().unwrap();
        assert!(s.sms.aliyun.templates.is_empty());
        assert_eq!((s.staff.events_site.as_str(), s.templates.dir.as_str()), ("sh01", ""));
    }
}
