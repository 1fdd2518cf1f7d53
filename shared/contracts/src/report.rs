//! Periodic reports: the scheduler says one is due; reporting issues it (a frozen, versioned copy) and says so,
//! so notification can send it to its recipients.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Event;

/// A report must be issued now (domain.md §6: monthly by the 10th, quarterly in April/July/October, annual in
/// January). `site` empty means all sites.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportDueV1 {
    /// monthly, quarterly, half-yearly or annual
    pub kind: String,
    /// e.g. 2026-11, 2026-Q4, 2026-H2, 2026
    pub period: String,
    #[serde(default)]
    pub site: String,
    pub due_at: DateTime<Utc>,
}

impl Event for ReportDueV1 {
    const TYPE: &'static str = "report.due";
    const VERSION: u32 = 1;
}

/// A report version was issued; it never changes afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportIssuedV1 {
    pub kind: String,
    pub period: String,
    #[serde(default)]
    pub site: String,
    pub version: i32,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    /// Where staff read it (reporting's API path; HTML, CSV or Excel by `format`).
    pub path: String,
    /// The headline figures, for the notification's text.
    pub total: i64,
    pub previous_total: i64,
}

impl Event for ReportIssuedV1 {
    const TYPE: &'static str = "report.issued";
    const VERSION: u32 = 1;
}
