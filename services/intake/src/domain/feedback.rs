//! A feedback submission parsed into what the register stores, or the first field at fault.
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use contracts::feedback::{AdverseReactionV1, Channel, ClaimV1, CustomerV1, OrderV1, ProductV1};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use server::ApiError;
use utoipa::ToSchema;

use super::contact;
use crate::settings::IntakeSettings;

/// `POST /api/v1/feedback` body (contract.md). Unknown fields are ignored.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct FeedbackRequest {
    /// web | email | phone | survey | social | letter | visit | card | api
    pub channel: String,
    pub site: String,
    /// Honoured only for staff; public submissions are received "now".
    pub received_at: Option<DateTime<FixedOffset>>,
    pub customer: Option<CustomerIn>,
    pub subject: Option<String>,
    pub content: String,
    pub product: Option<ProductIn>,
    pub order: Option<OrderIn>,
    pub claim: Option<ClaimIn>,
    pub adverse_reaction: Option<AdverseReactionIn>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct CustomerIn {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub anonymous: bool,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ProductIn {
    pub code: Option<String>,
    pub batch: Option<String>,
    pub production_date: Option<NaiveDate>,
    pub arrival_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct OrderIn {
    pub number: Option<String>,
    pub quantity_ordered: Option<i64>,
    pub quantity_shipped: Option<i64>,
    pub ship_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ClaimIn {
    #[schema(value_type = Option<String>, example = "1500.00")]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub return_quantity: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct AdverseReactionIn {
    pub onset: Option<String>,
    pub dose: Option<String>,
    pub other_medicines: Option<String>,
}

/// Valid feedback, ready to register.
#[derive(Debug, Clone)]
pub struct NewFeedback {
    pub channel: Channel,
    pub site: String,
    pub received_at: DateTime<Utc>,
    pub customer: CustomerV1,
    pub subject: Option<String>,
    pub content: String,
    pub product: Option<ProductV1>,
    pub order: Option<OrderV1>,
    pub claim: Option<ClaimV1>,
    pub adverse_reaction: Option<AdverseReactionV1>,
}

pub struct Limits<'a> {
    pub settings: &'a IntakeSettings,
    pub known_sites: &'a [String],
}

const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

impl FeedbackRequest {
    /// Checks every field; `is_staff` decides whether a given `received_at` is honoured.
    pub fn validate(self, limits: &Limits<'_>, is_staff: bool, now: DateTime<Utc>) -> Result<NewFeedback, ApiError> {
        let s = limits.settings;
        let channel = Channel::parse(self.channel.trim()).ok_or_else(|| {
            ApiError::invalid(
                "channel",
                format!(
                    "unknown channel `{}`; expected one of {}",
                    self.channel,
                    Channel::ALL.map(|c| c.as_str()).join(", ")
                ),
            )
        })?;
        let site = self.site.trim().to_lowercase();
        if !limits.known_sites.contains(&site) {
            return Err(ApiError::invalid("site", format!("unknown site `{}`", self.site)));
        }
        let received_at = match (self.received_at, is_staff) {
            (Some(t), true) => {
                let t = chrono::SubsecRound::trunc_subsecs(t.with_timezone(&Utc), 6);
                if t > now + chrono::Duration::minutes(5) {
                    return Err(ApiError::invalid("received_at", "cannot be in the future"));
                }
                t
            }
            _ => now,
        };
        let content = text("content", &self.content, s.max_content_chars, true)?
            .ok_or_else(|| ApiError::invalid("content", "must not be empty"))?;
        let subject = opt_text("subject", self.subject.as_deref(), s.max_subject_chars, false)?;
        let customer = customer(self.customer.unwrap_or_default(), s)?;
        let product = self.product.map(|p| product(p, s)).transpose()?;
        let order = self.order.map(|o| order(o, s)).transpose()?;
        let claim = self.claim.map(|c| claim(c, s)).transpose()?;
        let adverse_reaction = self
            .adverse_reaction
            .map(|a| {
                Ok::<_, ApiError>(AdverseReactionV1 {
                    onset: opt_text("adverse_reaction.onset", a.onset.as_deref(), s.max_field_chars, false)?,
                    dose: opt_text("adverse_reaction.dose", a.dose.as_deref(), s.max_field_chars, false)?,
                    other_medicines: opt_text(
                        "adverse_reaction.other_medicines",
                        a.other_medicines.as_deref(),
                        s.max_content_chars,
                        true,
                    )?,
                })
            })
            .transpose()?;
        Ok(NewFeedback {
            channel,
            site,
            received_at,
            customer,
            subject,
            content,
            product,
            order,
            claim,
            adverse_reaction,
        })
    }
}

fn customer(c: CustomerIn, s: &IntakeSettings) -> Result<CustomerV1, ApiError> {
    let name = opt_text("customer.name", c.name.as_deref(), s.max_name_chars, false)?;
    let phone = opt_text("customer.phone", c.phone.as_deref(), 40, false)?;
    if let Some(p) = &phone {
        if !contact::valid_phone(p) {
            return Err(ApiError::invalid("customer.phone", "is not a phone number"));
        }
    }
    let email = opt_text("customer.email", c.email.as_deref(), 254, false)?;
    if let Some(e) = &email {
        if !contact::valid_email(e) {
            return Err(ApiError::invalid("customer.email", "is not an email address"));
        }
    }
    let language = match c.language.as_deref().map(str::trim) {
        None | Some("") => s.default_language.clone(),
        Some(l) => LANGUAGES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(l) || (l.len() >= 2 && known.starts_with(&l[..2])))
            .map(|k| (*k).to_owned())
            .ok_or_else(|| ApiError::invalid("customer.language", "must be zh-CN or en"))?,
    };
    if !c.anonymous && phone.is_none() && email.is_none() {
        return Err(ApiError::invalid(
            "customer",
            "give a phone number or an email address, or mark the feedback anonymous",
        ));
    }
    let contact_key = if c.anonymous {
        None
    } else {
        contact::contact_key(phone.as_deref(), email.as_deref())
    };
    Ok(CustomerV1 {
        name,
        phone,
        email,
        anonymous: c.anonymous,
        language,
        contact_key,
    })
}

fn product(p: ProductIn, s: &IntakeSettings) -> Result<ProductV1, ApiError> {
    if let (Some(made), Some(arrived)) = (p.production_date, p.arrival_date) {
        if arrived < made {
            return Err(ApiError::invalid(
                "product.arrival_date",
                "is before the production date",
            ));
        }
    }
    Ok(ProductV1 {
        code: opt_text("product.code", p.code.as_deref(), s.max_field_chars, false)?,
        batch: opt_text("product.batch", p.batch.as_deref(), s.max_field_chars, false)?,
        production_date: p.production_date,
        arrival_date: p.arrival_date,
    })
}

fn order(o: OrderIn, s: &IntakeSettings) -> Result<OrderV1, ApiError> {
    non_negative("order.quantity_ordered", o.quantity_ordered)?;
    non_negative("order.quantity_shipped", o.quantity_shipped)?;
    Ok(OrderV1 {
        number: opt_text("order.number", o.number.as_deref(), s.max_field_chars, false)?,
        quantity_ordered: o.quantity_ordered,
        quantity_shipped: o.quantity_shipped,
        ship_date: o.ship_date,
    })
}

fn claim(c: ClaimIn, s: &IntakeSettings) -> Result<ClaimV1, ApiError> {
    if let Some(a) = c.amount {
        if a.is_sign_negative() {
            return Err(ApiError::invalid("claim.amount", "must not be negative"));
        }
        if a.scale() > 2 {
            return Err(ApiError::invalid("claim.amount", "has more than two decimals"));
        }
    }
    non_negative("claim.return_quantity", c.return_quantity)?;
    let currency = match c.currency.as_deref().map(str::trim) {
        None | Some("") => c.amount.map(|_| "CNY".to_owned()),
        Some(cur) if cur.len() == 3 && cur.chars().all(|ch| ch.is_ascii_alphabetic()) => Some(cur.to_uppercase()),
        Some(_) => {
            return Err(ApiError::invalid(
                "claim.currency",
                "must be a three-letter ISO 4217 code",
            ))
        }
    };
    Ok(ClaimV1 {
        amount: c.amount,
        currency,
        return_quantity: c.return_quantity,
        reason: opt_text("claim.reason", c.reason.as_deref(), s.max_content_chars, true)?,
    })
}

fn non_negative(field: &str, v: Option<i64>) -> Result<(), ApiError> {
    match v {
        Some(n) if n < 0 => Err(ApiError::invalid(field, "must not be negative")),
        _ => Ok(()),
    }
}

fn opt_text(field: &str, value: Option<&str>, max: usize, multiline: bool) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => text(field, v, max, multiline),
    }
}

/// Trims; refuses control characters (except line breaks and tabs in multi-line text) and
/// over-long values; empty becomes `None`.
fn text(field: &str, value: &str, max: usize, multiline: bool) -> Result<Option<String>, ApiError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(ApiError::invalid(field, format!("is longer than {max} characters")));
    }
    let bad = v
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(ApiError::invalid(field, "contains control characters"));
    }
    Ok(Some(v.to_owned()))
}

/// Small limits for unit tests of everything that validates feedback.
#[cfg(test)]
pub(crate) fn test_settings() -> IntakeSettings {
    IntakeSettings {
        timezone: "Asia/Shanghai".into(),
        reference_block: 10,
        default_language: "zh-CN".into(),
        max_body_bytes: 1 << 20,
        max_content_chars: 1000,
        max_subject_chars: 100,
        max_name_chars: 50,
        max_field_chars: 50,
        customer_lookup_roles: vec![auth::Role::Agent],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> IntakeSettings {
        test_settings()
    }

    fn request() -> FeedbackRequest {
        serde_json::from_value(serde_json::json!({
            "channel": "api", "site": "sh01",
            "customer": { "name": "张三", "phone": "13812345678" },
            "content": "包装破损"
        }))
        .unwrap()
    }

    fn check(r: FeedbackRequest, staff: bool) -> Result<NewFeedback, ApiError> {
        let s = settings();
        let sites = vec!["sh01".to_string()];
        r.validate(
            &Limits {
                settings: &s,
                known_sites: &sites,
            },
            staff,
            Utc::now(),
        )
    }

    fn field_of(r: FeedbackRequest) -> String {
        check(r, false).unwrap_err().field.unwrap()
    }

    #[test]
    fn valid_request_gets_defaults() {
        let f = check(request(), false).unwrap();
        assert_eq!(f.customer.language, "zh-CN");
        assert_eq!(f.customer.contact_key.as_deref(), Some("tel:+8613812345678"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut r = request();
        r.channel = "pigeon".into();
        assert_eq!(field_of(r), "channel");
        let mut r = request();
        r.site = "xx99".into();
        assert_eq!(field_of(r), "site");
        let mut r = request();
        r.content = "   ".into();
        assert_eq!(field_of(r), "content");
        let mut r = request();
        r.customer.as_mut().unwrap().name = Some("x".repeat(8192));
        assert_eq!(field_of(r), "customer.name");
        let mut r = request();
        r.customer.as_mut().unwrap().name = Some("bad\u{0007}name".into());
        assert_eq!(field_of(r), "customer.name");
        let mut r = request();
        r.customer.as_mut().unwrap().email = Some("not-an-email".into());
        assert_eq!(field_of(r), "customer.email");
        let mut r = request();
        r.claim = Some(ClaimIn {
            amount: Some(Decimal::new(-100, 2)),
            ..Default::default()
        });
        assert_eq!(field_of(r), "claim.amount");
        let mut r = request();
        r.order = Some(OrderIn {
            quantity_shipped: Some(-1),
            ..Default::default()
        });
        assert_eq!(field_of(r), "order.quantity_shipped");
    }

    #[test]
    fn contact_required_unless_anonymous() {
        let mut r = request();
        r.customer = Some(CustomerIn::default());
        assert_eq!(field_of(r.clone()), "customer");
        r.customer.as_mut().unwrap().anonymous = true;
        assert!(check(r, false).unwrap().customer.contact_key.is_none());
    }

    #[test]
    fn received_at_is_honoured_only_for_staff() {
        let mut r = request();
        let earlier = DateTime::parse_from_rfc3339("2026-09-24T10:00:00+08:00").unwrap();
        r.received_at = Some(earlier);
        assert_eq!(check(r.clone(), true).unwrap().received_at, earlier.with_timezone(&Utc));
        assert_ne!(check(r, false).unwrap().received_at, earlier.with_timezone(&Utc));
    }

    #[test]
    fn injection_strings_are_kept_as_text() {
        let mut r = request();
        r.content = "'); DROP TABLE feedback; -- <script>alert(1)</script>".into();
        assert_eq!(check(r.clone(), false).unwrap().content, r.content);
    }
}
