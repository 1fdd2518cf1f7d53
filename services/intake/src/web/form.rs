//! The web form as typed, and how it becomes the same `FeedbackRequest` the API validates.
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use server::ApiError;

use super::i18n::{Lang, FEEDBACK_TYPES};
use crate::domain::feedback::{ClaimIn, CustomerIn, FeedbackRequest, OrderIn, ProductIn};

/// Every text field of the form exactly as the customer typed it (shown again after an error).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WebForm {
    pub site: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub anonymous: bool,
    pub feedback_type: String,
    pub product_code: String,
    pub batch: String,
    pub order_number: String,
    pub claim_amount: String,
    pub return_quantity: String,
    pub description: String,
    /// The honeypot: hidden from people, filled in by bots.
    pub website: String,
}

/// Field name on the form → message, in the visitor's language.
pub type FieldErrors = BTreeMap<String, String>;

impl WebForm {
    /// Takes one text field of the submission; unknown names are ignored.
    pub fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "site" => &mut self.site,
            "name" => &mut self.name,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "anonymous" => {
                self.anonymous = !value.is_empty();
                return;
            }
            "feedback_type" => &mut self.feedback_type,
            "product_code" => &mut self.product_code,
            "batch" => &mut self.batch,
            "order_number" => &mut self.order_number,
            "claim_amount" => &mut self.claim_amount,
            "return_quantity" => &mut self.return_quantity,
            "description" => &mut self.description,
            "website" => &mut self.website,
            _ => return,
        };
        *slot = value;
    }

    pub fn honeypot_filled(&self) -> bool {
        !self.website.trim().is_empty()
    }

    /// The `feedback_type` hint, when one of ours was chosen.
    pub fn feedback_type(&self) -> Option<&'static str> {
        FEEDBACK_TYPES.into_iter().find(|t| *t == self.feedback_type.trim())
    }

    /// The API request this form stands for, or the fields that cannot even be parsed (numbers,
    /// the type). Everything else is checked by `FeedbackRequest::validate`, as for the API.
    pub fn to_request(&self, lang: Lang, default_site: &str) -> Result<FeedbackRequest, FieldErrors> {
        let mut errors = FieldErrors::new();
        let opt = |s: &str| {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_owned())
        };
        if !self.feedback_type.trim().is_empty() && self.feedback_type().is_none() {
            errors.insert("feedback_type".into(), lang.text("err_type").into());
        }
        let amount = match opt(&self.claim_amount) {
            None => None,
            Some(a) => match a.replace([',', '，', '¥', '￥'], "").trim().parse::<Decimal>() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.insert("claim_amount".into(), lang.text("err_number").into());
                    None
                }
            },
        };
        let return_quantity = match opt(&self.return_quantity) {
            None => None,
            Some(q) => match q.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.insert("return_quantity".into(), lang.text("err_integer").into());
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let product_code = opt(&self.product_code);
        let batch = opt(&self.batch);
        let order_number = opt(&self.order_number);
        Ok(FeedbackRequest {
            channel: "web".into(),
            site: opt(&self.site).unwrap_or_else(|| default_site.to_owned()),
            received_at: None,
            customer: Some(CustomerIn {
                name: opt(&self.name),
                phone: opt(&self.phone),
                email: opt(&self.email),
                anonymous: self.anonymous,
                language: Some(lang.tag().to_owned()),
            }),
            subject: None,
            content: self.description.clone(),
            product: (product_code.is_some() || batch.is_some()).then(|| ProductIn {
                code: product_code,
                batch,
                ..Default::default()
            }),
            order: order_number.map(|number| OrderIn {
                number: Some(number),
                ..Default::default()
            }),
            claim: (amount.is_some() || return_quantity.is_some()).then(|| ClaimIn {
                amount,
                return_quantity,
                ..Default::default()
            }),
            adverse_reaction: None,
        })
    }
}

/// Where on the form an API validation error belongs, and what to say there.
pub fn field_error(e: &ApiError, lang: Lang) -> (String, String) {
    let api_field = e.field.as_deref().unwrap_or("");
    let form_field = match api_field {
        "customer.name" => "name",
        "customer.phone" => "phone",
        "customer.email" => "email",
        "customer" | "customer.language" => "contact",
        "content" => "description",
        "product.code" => "product_code",
        "product.batch" => "batch",
        "order.number" => "order_number",
        "claim.amount" => "claim_amount",
        "claim.return_quantity" => "return_quantity",
        "site" => "site",
        _ => "form",
    };
    let m = e.message.as_str();
    let text = if api_field == "customer" {
        lang.text("err_contact").to_owned()
    } else if api_field == "site" {
        lang.text("err_site").to_owned()
    } else if m == "must not be empty" {
        lang.text("err_required").to_owned()
    } else if m == "is not a phone number" {
        lang.text("err_phone").to_owned()
    } else if m == "is not an email address" {
        lang.text("err_email").to_owned()
    } else if m == "contains control characters" {
        lang.text("err_control").to_owned()
    } else if m == "must not be negative" {
        lang.text("err_negative").to_owned()
    } else if m == "has more than two decimals" {
        lang.text("err_decimals").to_owned()
    } else if let Some(max) = m.strip_prefix("is longer than ").and_then(|r| r.split(' ').next()) {
        lang.text("err_too_long").replace("{max}", max)
    } else {
        lang.text("err_invalid").to_owned()
    };
    (form_field.to_owned(), text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::feedback::Limits;

    fn form() -> WebForm {
        let mut f = WebForm::default();
        for (k, v) in [
            ("name", " 张三 "),
            ("phone", "13812345678"),
            ("email", ""),
            ("feedback_type", "product_quality"),
            ("product_code", "P-100"),
            ("batch", ""),
            ("order_number", "SO-1"),
            ("claim_amount", "1,500.50"),
            ("return_quantity", "20"),
            ("description", "包装破损"),
            ("unknown", "ignored"),
        ] {
            f.set(k, v.into());
        }
        f
    }

    fn limits_check(r: FeedbackRequest) -> Result<crate::domain::feedback::NewFeedback, ApiError> {
        let s = crate::domain::feedback::test_settings();
        let sites = vec!["sh01".to_string(), "bj01".to_string()];
        r.validate(
            &Limits {
                settings: &s,
                known_sites: &sites,
            },
            false,
            chrono::Utc::now(),
        )
    }

    #[test]
    fn a_filled_form_maps_onto_the_api_request() {
        let r = form().to_request(Lang::En, "sh01").unwrap();
        assert_eq!(r.channel, "web");
        assert_eq!(r.site, "sh01");
        let c = r.customer.as_ref().unwrap();
        assert_eq!(c.name.as_deref(), Some("张三"));
        assert_eq!(c.email, None);
        assert_eq!(c.language.as_deref(), Some("en"));
        let p = r.product.as_ref().unwrap();
        assert_eq!((p.code.as_deref(), p.batch.as_deref()), (Some("P-100"), None));
        assert_eq!(r.order.as_ref().unwrap().number.as_deref(), Some("SO-1"));
        let claim = r.claim.as_ref().unwrap();
        assert_eq!(claim.amount, Some(Decimal::new(150050, 2)));
        assert_eq!(claim.return_quantity, Some(20));
        let f = limits_check(r).unwrap();
        assert_eq!(f.claim.unwrap().currency.as_deref(), Some("CNY"));
        assert_eq!(form().feedback_type(), Some("product_quality"));
    }

    #[test]
    fn empty_optional_parts_are_left_out() {
        let mut f = WebForm::default();
        f.set("anonymous", "1".into());
        f.set("description", "建议增加英文说明书".into());
        f.set("site", "bj01".into());
        let r = f.to_request(Lang::ZhCn, "sh01").unwrap();
        assert_eq!(r.site, "bj01");
        assert!(r.product.is_none() && r.order.is_none() && r.claim.is_none());
        assert!(limits_check(r).unwrap().customer.anonymous);
    }

    #[test]
    fn unparsable_numbers_and_types_are_named() {
        let mut f = form();
        f.set("claim_amount", "abc".into());
        f.set("return_quantity", "2.5".into());
        f.set("feedback_type", "spam".into());
        let errors = f.to_request(Lang::ZhCn, "sh01").unwrap_err();
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            ["claim_amount", "feedback_type", "return_quantity"]
        );
        assert_eq!(errors["return_quantity"], "请输入整数。");
    }

    #[test]
    fn api_errors_land_next_to_their_field_in_the_visitors_language() {
        let mut f = form();
        f.set("email", "not-an-email".into());
        let e = limits_check(f.to_request(Lang::En, "sh01").unwrap()).unwrap_err();
        assert_eq!(
            field_error(&e, Lang::En),
            ("email".into(), "Please enter a valid email address.".into())
        );
        assert_eq!(field_error(&e, Lang::ZhCn).1, "请输入有效的电子邮箱地址。");

        let mut f = form();
        f.set("phone", "".into());
        let e = limits_check(f.to_request(Lang::ZhCn, "sh01").unwrap()).unwrap_err();
        assert_eq!(field_error(&e, Lang::ZhCn).0, "contact");

        let mut f = form();
        f.set("claim_amount", "-3".into());
        let e = limits_check(f.to_request(Lang::ZhCn, "sh01").unwrap()).unwrap_err();
        assert_eq!(
            field_error(&e, Lang::En),
            ("claim_amount".into(), "This cannot be negative.".into())
        );

        let mut f = form();
        f.set("description", "   ".into());
        let e = limits_check(f.to_request(Lang::ZhCn, "sh01").unwrap()).unwrap_err();
        assert_eq!(
            field_error(&e, Lang::ZhCn),
            ("description".into(), "请填写此项。".into())
        );

        let mut f = form();
        f.set("name", "x".repeat(51));
        let e = limits_check(f.to_request(Lang::En, "sh01").unwrap()).unwrap_err();
        assert_eq!(field_error(&e, Lang::En).1, "This is too long (at most 50 characters).");
    }
}
