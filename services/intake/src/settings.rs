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
    pub intake: IntakeSettings,
    pub web: WebSettings,
    pub attachments: AttachmentSettings,
    pub cti: CtiSettings,
    pub email: EmailSettings,
}

/// The email channel (`[email]`): IMAP mailboxes polled for new mail, and the raw-MIME webhook.
#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    /// Runs the IMAP pollers (the webhook answers whenever its secret is set).
    pub enabled: bool,
    #[serde(default)]
    pub mailboxes: Vec<MailboxSettings>,
    /// The same list as JSON (`APP__EMAIL__MAILBOXES_JSON`), for environments where a list of
    /// tables is awkward; added to `mailboxes`.
    #[serde(default)]
    pub mailboxes_json: String,
    /// notification's `smtp.message_id_domain`: our Message-IDs, `<reference>.<uuid>@<domain>`.
    pub our_message_id_domain: String,
    /// Addresses we send from; mail from them is never feedback.
    pub our_addresses: Vec<String>,
    /// Larger messages are recorded as rejected and marked, never fetched whole.
    pub max_message_bytes: usize,
    /// Language of the customer's acknowledgement; empty = guessed from the text (zh-CN or en).
    pub language: String,
    /// HMAC-SHA256 key of `POST /api/v1/email/inbound`; refused in production while it is the default.
    pub webhook_secret: String,
    /// Mailbox name and site of messages posted to the webhook without one.
    pub webhook_mailbox: String,
    pub webhook_site: String,
    pub connect_timeout_secs: u64,
    /// Reconnect back-off after an IMAP failure: doubling from `retry_base_ms` up to `retry_max_ms`.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Messages fetched per round trip.
    pub fetch_batch: usize,
    /// Messages of a batch ingested at once (each in its own transaction).
    pub ingest_concurrency: usize,
    /// Test only: a file path; while the file does not exist, the poller creates it and exits the
    /// process right after committing messages and before marking them (a crash there must register
    /// nothing twice). Empty = off; refused in production.
    #[serde(default)]
    pub fail_after_commit_marker: String,
}

/// One IMAP mailbox to poll.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct MailboxSettings {
    /// Our name for it; messages are de-duplicated per mailbox.
    pub name: String,
    pub host: String,
    pub port: u16,
    /// IMAPS (TLS from the first byte). Plain IMAP is accepted for loopback hosts only (tests).
    #[serde(default = "yes")]
    pub tls: bool,
    pub username: String,
    pub password: String,
    #[serde(default = "inbox")]
    pub folder: String,
    /// The site its feedback belongs to.
    pub site: String,
    /// How often to look for new mail (also the longest IDLE wait).
    #[serde(default = "sixty")]
    pub poll_interval_secs: u64,
    /// Wait with IMAP IDLE (new mail is seen at once) when the server offers it.
    #[serde(default = "yes")]
    pub idle: bool,
}

fn yes() -> bool {
    true
}
fn inbox() -> String {
    "INBOX".into()
}
fn sixty() -> u64 {
    60
}

/// The shipped email webhook secret; refused in production.
pub const DEFAULT_EMAIL_WEBHOOK_SECRET: &str = "dev-email-webhook-secret-change-me";
/// A mailbox password that is obviously a placeholder; refused in production.
pub const PLACEHOLDER_MAILBOX_PASSWORD: &str = "change-me";

impl EmailSettings {
    /// `mailboxes` and `mailboxes_json` together, checked.
    pub fn all_mailboxes(&self) -> Result<Vec<MailboxSettings>, String> {
        let mut all = self.mailboxes.clone();
        if !self.mailboxes_json.trim().is_empty() {
            let more: Vec<MailboxSettings> =
                serde_json::from_str(&self.mailboxes_json).map_err(|e| format!("email.mailboxes_json: {e}"))?;
            all.extend(more);
        }
        for m in &all {
            if m.name.trim().is_empty() {
                return Err("email.mailboxes: a mailbox has no name".into());
            }
            if all.iter().filter(|o| o.name == m.name).count() > 1 {
                return Err(format!("email.mailboxes: the name `{}` is used twice", m.name));
            }
            let loopback = matches!(m.host.as_str(), "127.0.0.1" | "::1" | "localhost");
            if !m.tls && !loopback {
                return Err(format!(
                    "email.mailboxes `{}`: plain IMAP (tls = false) is only allowed on a loopback host",
                    m.name
                ));
            }
        }
        Ok(all)
    }
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
    /// Roles that may look up a caller's earlier feedback (personal data): those who talk to customers,
    /// as triage's `privacy.unmasked_roles`.
    pub customer_lookup_roles: Vec<auth::Role>,
}

impl Settings {
    pub fn load() -> Result<Self, settings::SettingsError> {
        let s: Settings = settings::load(include_str!("../config/default.toml"))?;
        settings::require_changed_in_production("auth.secret", &s.auth.secret, auth::DEV_SECRET)?;
        settings::require_changed_in_production("cti.secret", &s.cti.secret, DEFAULT_CTI_SECRET)?;
        settings::require_changed_in_production(
            "email.webhook_secret",
            &s.email.webhook_secret,
            DEFAULT_EMAIL_WEBHOOK_SECRET,
        )?;
        if s.email.enabled {
            let mailboxes = s
                .email
                .all_mailboxes()
                .map_err(|e| settings::SettingsError::Config(config::ConfigError::Message(e)))?;
            for m in &mailboxes {
                settings::require_changed_in_production(
                    "email.mailboxes[].password",
                    &m.password,
                    PLACEHOLDER_MAILBOX_PASSWORD,
                )?;
                settings::require_changed_in_production("email.mailboxes[].password", &m.password, "")?;
            }
            if settings::AppEnvironment::current() == settings::AppEnvironment::Production
                && !s.email.fail_after_commit_marker.is_empty()
            {
                return Err(settings::SettingsError::Config(config::ConfigError::Message(
                    "email.fail_after_commit_marker is a test setting".into(),
                )));
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(json: &str) -> EmailSettings {
        let defaults: Settings = settings::load(include_str!("../config/default.toml")).expect("the defaults load");
        EmailSettings {
            mailboxes_json: json.into(),
            ..defaults.email
        }
    }

    #[test]
    fn the_shipped_email_settings_are_off_and_consistent() {
        let s = email("");
        assert!(!s.enabled);
        assert!(s.all_mailboxes().unwrap().is_empty());
        assert_eq!(s.webhook_secret, DEFAULT_EMAIL_WEBHOOK_SECRET);
        assert!(s.fail_after_commit_marker.is_empty());
    }

    #[test]
    fn mailboxes_from_json_get_defaults_and_are_checked() {
        let s = email(
            r#"[{"name": "care", "host": "127.0.0.1", "port": 1143, "tls": false,
                           "username": "u", "password": "p", "site": "sh01"}]"#,
        );
        let m = &s.all_mailboxes().unwrap()[0];
        assert_eq!((m.folder.as_str(), m.poll_interval_secs, m.idle), ("INBOX", 60, true));

        let plain_remote = email(
            r#"[{"name": "care", "host": "imap.example.com", "port": 143, "tls": false,
                                      "username": "u", "password": "p", "site": "sh01"}]"#,
        );
        assert!(plain_remote.all_mailboxes().unwrap_err().contains("loopback"));
        let twice = email(
            r#"[{"name": "a", "host": "h", "port": 993, "username": "u", "password": "p", "site": "s"},
                              {"name": "a", "host": "h", "port": 993, "username": "u", "password": "p", "site": "s"}]"#,
        );
        assert!(twice.all_mailboxes().unwrap_err().contains("twice"));
        assert!(email("[{").all_mailboxes().unwrap_err().contains("mailboxes_json"));
    }
}
