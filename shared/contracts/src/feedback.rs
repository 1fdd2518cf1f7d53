//! Events published by intake.
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

/// The channel a piece of feedback came through (domain.md §1).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    Email,
    Phone,
    Survey,
    Social,
    Letter,
    Visit,
    Card,
    Api,
}

impl Channel {
    pub const ALL: [Channel; 9] = [
        Channel::Web,
        Channel::Email,
        Channel::Phone,
        Channel::Survey,
        Channel::Social,
        Channel::Letter,
        Channel::Visit,
        Channel::Card,
        Channel::Api,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Survey => "survey",
            Channel::Social => "social",
            Channel::Letter => "letter",
            Channel::Visit => "visit",
            Channel::Card => "card",
            Channel::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Who sent the feedback. Personal data: never log these fields in clear.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct CustomerV1 {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub anonymous: bool,
    /// BCP 47 tag the customer prefers (`zh-CN`, `en`).
    pub language: String,
    /// Normalised contact (E.164-ish phone or lower-cased email) used to recognise the same customer
    /// across channels; `None` when anonymous or no contact was given.
    pub contact_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ProductV1 {
    pub code: Option<String>,
    pub batch: Option<String>,
    pub production_date: Option<NaiveDate>,
    pub arrival_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct OrderV1 {
    pub number: Option<String>,
    pub quantity_ordered: Option<i64>,
    pub quantity_shipped: Option<i64>,
    pub ship_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ClaimV1 {
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub return_quantity: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct AdverseReactionV1 {
    pub onset: Option<String>,
    pub dose: Option<String>,
    pub other_medicines: Option<String>,
}

/// `feedback.received` v1: one item registered in the feedback register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeedbackReceivedV1 {
    pub feedback_id: Uuid,
    /// Human-readable register number, e.g. `SH01-20261122-0042`.
    pub reference: String,
    pub channel: Channel,
    /// When it really arrived; every deadline runs from here.
    pub received_at: DateTime<Utc>,
    pub customer: CustomerV1,
    pub subject: Option<String>,
    pub content: String,
    pub product: Option<ProductV1>,
    pub order: Option<OrderV1>,
    pub claim: Option<ClaimV1>,
    pub adverse_reaction: Option<AdverseReactionV1>,
    /// Link the customer can use to follow the status (contains its secret token).
    pub status_url: Option<String>,
    /// Files the customer sent with it (photos, documents); absent in older events.
    #[serde(default)]
    pub attachments: Vec<AttachmentV1>,
}

/// One file sent with the feedback; its bytes stay in intake's attachment store (content-addressed).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct AttachmentV1 {
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    pub size: u64,
    /// As judged from the content (`image/jpeg`, `image/png`, `application/pdf`, `text/plain`).
    pub content_type: String,
    pub file_name: String,
}

impl Event for FeedbackReceivedV1 {
    const TYPE: &'static str = "feedback.received";
    const VERSION: u32 = 1;
}
