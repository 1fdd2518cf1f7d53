//! Phone intake: the form an agent fills during a call, registered through intake's
//! `POST /api/v1/feedback` with channel `phone` and the agent's token (so the time of the call is
//! kept as the received time, and every deadline runs from it).
use std::collections::BTreeMap;

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{
    backend::{BackendError, Service},
    csrf,
    error::AppError,
    render::{AppState, Ctx, Fields},
};

#[derive(Deserialize, Default)]
pub struct LookupQuery {
    /// A phone number to look up in the register before filling the form.
    lookup: Option<String>,
}

/// The form, empty or pre-filled from the caller's latest feedback (`?lookup=<phone>`).
pub async fn form(State(state): State<AppState>, ctx: Ctx, Query(q): Query<LookupQuery>) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    let mut form =
        json!({ "site": state.settings.sites.known.first(), "language": ctx.lang.tag(), "key": csrf::new_token() });
    let mut lookup = Value::Null;
    let mut errors = Errors::new();
    if let Some(phone) = q.lookup.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        form["phone"] = json!(phone);
        let query = [("phone", phone.to_owned())];
        match state
            .backend
            .get::<Value>(Service::Intake, "/api/v1/customers/lookup", &query, token)
            .await
        {
            Ok(found) => {
                let earlier: Vec<Value> = found["earlier"].as_array().cloned().unwrap_or_default();
                if let Some(latest) = earlier.first() {
                    form["name"] = latest["customer_name"].clone();
                    form["email"] = latest["customer_email"].clone();
                    form["language"] = latest["language"].clone();
                }
                let earlier: Vec<Value> = earlier
                    .iter()
                    .map(|e| {
                        let at = e["received_at"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok());
                        json!({ "reference": e["reference"], "channel": e["channel"], "subject": e["subject"],
                                "received": at.map(|t| super::work::local(&state, &t)) })
                    })
                    .collect();
                lookup = json!({ "earlier": earlier });
            }
            Err(BackendError::Refused {
                status: 422, message, ..
            }) => {
                errors.insert("lookup", message);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(state
        .render(
            &ctx,
            "intake.html",
            json!({ "nav": "intake", "form": form, "errors": errors, "lookup": lookup }),
        )?
        .into_response())
}

/// Field errors by form field, as text keys.
type Errors = BTreeMap<&'static str, String>;

/// The intake request from the form, or the fields in error.
pub fn request(form: &Fields, tz: chrono_tz::Tz, lang: crate::i18n::Lang) -> Result<Value, Errors> {
    let mut errors = Errors::new();
    let text = |name: &str| form.get(name).map(|v| Value::String(v.to_owned()));
    let integer = |name: &'static str, errors: &mut Errors| match form.get(name) {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(json!(n)),
            _ => {
                errors.insert(name, lang.text("err_integer"));
                None
            }
        },
    };
    if form.get("content").is_none() {
        errors.insert("content", lang.text("err_required"));
    }
    if form.get("site").is_none() {
        errors.insert("site", lang.text("err_required"));
    }
    let amount = match form.get("claim_amount") {
        None => None,
        Some(v) => match v.parse::<f64>() {
            Ok(a) if a >= 0.0 => Some(Value::String(v.to_owned())),
            _ => {
                errors.insert("claim_amount", lang.text("err_number"));
                None
            }
        },
    };
    let quantity_ordered = integer("quantity_ordered", &mut errors);
    let quantity_shipped = integer("quantity_shipped", &mut errors);
    let return_quantity = integer("return_quantity", &mut errors);
    let received_at = match form.get("received_at") {
        None => None,
        Some(v) => match NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|t| tz.from_local_datetime(&t).earliest())
        {
            Some(t) => Some(json!(t.fixed_offset().to_rfc3339())),
            None => {
                errors.insert("received_at", lang.text("err_date"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let object = |pairs: Vec<(&str, Option<Value>)>| -> Option<Value> {
        let map: Map<String, Value> = pairs
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect();
        (!map.is_empty()).then_some(Value::Object(map))
    };
    let mut body = json!({
        "channel": "phone",
        "site": form.get("site"),
        "content": form.get("content"),
        "customer": object(vec![("name", text("name")), ("phone", text("phone")), ("email", text("email")),
                                ("language", text("language"))]).unwrap_or_else(|| json!({})),
    });
    let optional = [
        ("received_at", received_at),
        ("subject", text("subject")),
        (
            "product",
            object(vec![
                ("code", text("product_code")),
                ("batch", text("batch")),
                ("production_date", text("production_date")),
            ]),
        ),
        (
            "order",
            object(vec![
                ("number", text("order_number")),
                ("quantity_ordered", quantity_ordered),
                ("quantity_shipped", quantity_shipped),
            ]),
        ),
        (
            "claim",
            amount.clone().or(return_quantity.clone()).and_then(|_| {
                object(vec![
                    ("amount", amount),
                    ("currency", amount_currency(form)),
                    ("return_quantity", return_quantity),
                    ("reason", text("claim_reason")),
                ])
            }),
        ),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            body[key] = v;
        }
    }
    Ok(body)
}

fn amount_currency(form: &Fields) -> Option<Value> {
    form.get("claim_amount").map(|_| json!("CNY"))
}

/// The form field a backend error names (`customer.phone` → `phone`).
fn form_field(backend_field: &str) -> &'static str {
    match backend_field {
        "customer.phone" | "phone" => "phone",
        "customer.email" | "email" => "email",
        "customer.name" | "name" => "name",
        "customer" | "contact" => "phone",
        "site" => "site",
        "subject" => "subject",
        "received_at" => "received_at",
        "product.code" => "product_code",
        "product.batch" => "batch",
        "product.production_date" => "production_date",
        "order.number" => "order_number",
        "order.quantity_ordered" => "quantity_ordered",
        "order.quantity_shipped" => "quantity_shipped",
        "claim.amount" | "claim.currency" => "claim_amount",
        "claim.return_quantity" => "return_quantity",
        "claim.reason" => "claim_reason",
        _ => "content",
    }
}

pub async fn submit(State(state): State<AppState>, ctx: Ctx, Form(form): Form<Fields>) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let again = |errors: Errors, status: StatusCode| -> Result<Response, AppError> {
        let html = state.render(
            &ctx,
            "intake.html",
            json!({ "nav": "intake", "form": form.to_json(), "errors": errors }),
        )?;
        Ok((status, html).into_response())
    };
    let body = match request(&form, state.tz, ctx.lang) {
        Ok(b) => b,
        Err(errors) => return again(errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    // The form's own key: submitting it twice (a double click, a reload) registers once.
    let key = format!("console:{}", form.get("key").unwrap_or_default());
    let answer: Result<Value, BackendError> = if form.get("key").is_some() {
        state
            .backend
            .post_once(Service::Intake, "/api/v1/feedback", &body, token, &key)
            .await
    } else {
        state
            .backend
            .post(Service::Intake, "/api/v1/feedback", &body, Some(token))
            .await
    };
    match answer {
        Ok(registered) => {
            tracing::info!(reference = %registered["reference"].as_str().unwrap_or("?"), "phone feedback registered");
            let html = state.render(
                &ctx,
                "intake_done.html",
                json!({ "nav": "intake", "reference": registered["reference"] }),
            )?;
            Ok((StatusCode::CREATED, html).into_response())
        }
        Err(BackendError::Refused {
            status: 422 | 400,
            message,
            field,
            ..
        }) => {
            let mut errors = Errors::new();
            errors.insert(form_field(field.as_deref().unwrap_or("")), message);
            again(errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn a_filled_form_becomes_a_phone_feedback_request() {
        let f = fields(&[
            ("site", "sh01"),
            ("phone", "13800000000"),
            ("name", "张三"),
            ("content", "包装破损"),
            ("product_code", "P-1"),
            ("batch", ""),
            ("claim_amount", "1500.00"),
            ("received_at", "2026-11-23T10:30"),
        ]);
        let body = request(&f, chrono_tz::Asia::Shanghai, Lang::En).unwrap();
        assert_eq!(body["channel"], "phone");
        assert_eq!(body["customer"]["phone"], "13800000000");
        assert_eq!(body["product"], json!({"code": "P-1"}));
        assert_eq!(body["claim"], json!({"amount": "1500.00", "currency": "CNY"}));
        assert_eq!(body["received_at"], "2026-11-23T10:30:00+08:00");
        assert!(body.get("order").is_none());
    }

    #[test]
    fn bad_fields_are_named() {
        let f = fields(&[("site", "sh01"), ("claim_amount", "lots"), ("return_quantity", "-2")]);
        let errors = request(&f, chrono_tz::Asia::Shanghai, Lang::En).unwrap_err();
        assert_eq!(
            errors.keys().copied().collect::<Vec<_>>(),
            vec!["claim_amount", "content", "return_quantity"]
        );
        assert_eq!(form_field("customer.phone"), "phone");
    }
}
