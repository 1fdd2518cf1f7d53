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
}

impl Event for StaffChangedV1 {
    const TYPE: &'static str = "staff.changed";
    const VERSION: u32 = 1;
}
