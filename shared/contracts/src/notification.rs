//! Events published by notification.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

/// `notification.failed` v1: a notification could not be delivered and will not be retried (an SMTP
/// 5xx, an invalid address, a gateway's permanent refusal, or transient failures past the last attempt).
/// Triage records it in the case history so staff see that the customer (or a colleague) was not told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotificationFailedV1 {
    /// The delivery row in notification's log (`GET /api/v1/notifications`).
    pub delivery_id: Uuid,
    /// The case, when the notification was about one (a feedback acknowledgement precedes its case).
    pub case_id: Option<Uuid>,
    /// The feedback/case reference; triage finds the case by it when `case_id` is absent.
    pub case_reference: Option<String>,
    /// The event that caused the notification, and its type.
    pub event_id: Uuid,
    pub event_type: String,
    /// `email` or `sms`.
    pub channel: String,
    pub template: String,
    /// `customer`, `department`, `assignee`, `escalation`, … (the rule's recipient kind).
    pub recipient_kind: String,
    /// Masked address or phone number: never the clear one.
    pub recipient_masked: String,
    /// The server's or gateway's answer, e.g. `550 5.1.1 mailbox unavailable`.
    pub error: String,
    pub attempts: u32,
    pub failed_at: DateTime<Utc>,
}

impl Event for NotificationFailedV1 {
    const TYPE: &'static str = "notification.failed";
    const VERSION: u32 = 1;
}
