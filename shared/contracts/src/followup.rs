//! `feedback.followup`: the customer wrote again about feedback that is already registered (a reply
//! to one of our emails, or an email naming its reference). Published by intake, consumed by triage.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    feedback::{AttachmentV1, Channel},
    Event,
};

/// `feedback.followup` v1. Carries contact data like `feedback.received`: never log `from` in clear.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeedbackFollowupV1 {
    /// Id of this follow-up in intake's register.
    pub followup_id: Uuid,
    /// The reference of the feedback it follows up (triage finds the case by it, duplicates included).
    pub reference: String,
    /// The register row of that feedback.
    pub feedback_id: Uuid,
    pub channel: Channel,
    /// The sender's address (personal data).
    pub from: Option<String>,
    pub subject: Option<String>,
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentV1>,
    pub received_at: DateTime<Utc>,
    /// The email's `Message-ID`, when it came by email.
    pub message_id: Option<String>,
}

impl Event for FeedbackFollowupV1 {
    const TYPE: &'static str = "feedback.followup";
    const VERSION: u32 = 1;
}
