//! Events about staff accounts, published by triage (which owns them).
use serde::{Deserialize, Serialize};

use crate::Event;

/// `staff.changed` v1: a staff account was created or changed, with everything other services may need to
/// reach the person (notification keeps its directory of people from these). A snapshot: consumers keep, per
/// `user_id`, the one with the highest `revision`. Routing key: triage's `staff.events_site` (the head office);
/// staff are not a site's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaffChangedV1 {
    /// The staff user id (what cases name as assignee and actor).
    pub user_id: String,
    pub name: String,
    pub email: Option<String>,
    /// Mobile number for SMS, digits with an optional leading `+`.
    pub phone: Option<String>,
    /// `zh-CN` | `en`: the language notifications to this person are written in.
    pub language: String,
    /// Role names, e.g. `handler`, `department_head`, `general_manager`.
    pub roles: Vec<String>,
    pub department: Option<String>,
    /// Sites the person works for; empty = all.
    pub sites: Vec<String>,
    /// A deactivated account is told nothing.
    pub active: bool,
    /// 1 at creation, one more with every change.
    pub revision: i64,
    /// Tokens issued at or before this instant are no longer accepted (the account changed what a token
    /// carries, or its password). Absent from older producers: none refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_valid_after: Option<chrono::DateTime<chrono::Utc>>,
}

impl Event for StaffChangedV1 {
    const TYPE: &'static str = "staff.changed";
    const VERSION: u32 = 1;
}

/// `staff.token_revoked` v1: triage stopped accepting one signed token (signed out, or its account changed), so
/// every service that verifies tokens refuses it too. Carries the token's SHA-256, never the token. Routing key:
/// triage's `staff.events_site`, like `staff.changed`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StaffTokenRevokedV1 {
    pub user_id: String,
    /// Lower-case hex SHA-256 of the bearer token as sent.
    pub token_sha256: String,
    /// When the token expires anyway: consumers may forget the revocation after that.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl Event for StaffTokenRevokedV1 {
    const TYPE: &'static str = "staff.token_revoked";
    const VERSION: u32 = 1;
}
