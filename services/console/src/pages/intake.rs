//! Phone intake: the form an agent fills during a call, registered through intake's
//! `POST /api/v1/feedback` with channel `phone` and the agent's token (so the time of the call is
//! kept as the received time, and every deadline runs from it). The caller lookup is a second submit
//! button of the same form: nothing typed is lost, and the number never goes into a URL.
use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Form,
};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};

use crate::{
    backend::{BackendError, Service},
    csrf,
    error::{AppError, ErrorView},
    render::{error_page, AppState, Ctx, Fields},
};

/// The refusal page for users whose role does not take calls.
fn not_for_you(state: &AppState, ctx: &Ctx) -> Response {
    error_page(
        state,
        ctx,
        &ErrorView {
            status: StatusCode::FORBIDDEN,
            message_key: "err_forbidden",
            detail: Some(ctx.lang.text("intake_refused")),
        },
    )
}

/// The empty form, with a fresh idempotency key.
pub async fn form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.staff()?;
    if !ctx.has_any(&state.settings.console.phone_intake_roles) {
        return Ok(not_for_you(&state, &ctx));
    }
    let form =
        json!({ "site": state.settings.sites.known.first(), "language": ctx.lang.tag(), "key": csrf::new_token() });
    Ok(state
        .render(
            &ctx,
            "intake.html",
            json!({ "nav": "intake", "form": form, "errors": {}, "lookup": null,
                    "may_lookup": ctx.has_any(&state.settings.console.customer_lookup_roles) }),
        )?
        .into_response())
}

/// What the agent typed, with the caller's details from their latest earlier feedback where the agent left
/// the fields empty (what was typed is never overwritten).
pub fn fill_from_latest(form: &mut Value, latest: &Value) {
    let blank = |v: &Value| v.as_str().is_none_or(|s| s.trim().is_empty());
    let fresh = blank(&form["name"]) && blank(&form["email"]);
    for (field, from) in [("name", "customer_name"), ("email", "customer_email")] {
        if blank(&form[field]) && !blank(&latest[from]) {
            form[field] = latest[from].clone();
        }
    }
    if fresh && !blank(&latest["language"]) {
        form["language"] = latest["language"].clone();
    }
}

/// The caller lookup (the form's second submit button): the same form again, as typed, with the caller's
/// earlier feedback — a POST, so the number stays out of URLs and logs.
async fn lookup(state: &AppState, ctx: &Ctx, token: &str, form: &Fields) -> Result<Response, AppError> {
    let mut shown = form.to_json();
    let mut errors = Errors::new();
    let mut lookup = Value::Null;
    let may_lookup = ctx.has_any(&state.settings.console.customer_lookup_roles);
    match form.get("phone") {
        _ if !may_lookup => {}
        None => {
            errors.insert("phone", ctx.lang.text("err_phone_for_lookup"));
        }
        Some(phone) => {
            let query = [("phone", phone.to_owned())];
            match state
                .backend
                .get::<Value>(Service::Intake, "/api/v1/customers/lookup", &query, token)
                .await
            {
                Ok(found) => {
                    let earlier: Vec<Value> = found["earlier"].as_array().cloned().unwrap_or_default();
                    if let Some(latest) = earlier.first() {
                        fill_from_latest(&mut shown, latest);
                    }
                    let earlier: Vec<Value> = earlier
                        .iter()
                        .map(|e| {
                            let at = e["received_at"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok());
                            json!({ "reference": e["reference"], "channel": e["channel"], "subject": e["subject"],
                                    "received": at.map(|t| super::work::local(state, &t)) })
                        })
                        .collect();
                    lookup = json!({ "earlier": earlier });
                }
                Err(BackendError::Refused { status: 422, .. }) => {
                    errors.insert("phone", ctx.lang.text("err_phone"));
                }
                // Whatever went wrong, the typed form stays; the lookup is only a help.
                Err(e) => {
                    tracing::warn!(error = %e, "caller lookup failed");
                    lookup = json!({ "unavailable": true });
                }
            }
        }
    }
    let html = state.render(
        ctx,
        "intake.html",
        json!({ "nav": "intake", "form": shown, "errors": errors, "lookup": lookup, "may_lookup": may_lookup,
                "looked_up": true }),
    )?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, html).into_response())
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

/// Intake's refusal of a field, in the user's words (intake explains in English).
fn field_words(lang: crate::i18n::Lang, field: &str, message: &str) -> String {
    match field {
        "phone" => lang.text("err_phone"),
        "email" => lang.text("err_email"),
        "received_at" | "production_date" => lang.text("err_date"),
        "quantity_ordered" | "quantity_shipped" | "return_quantity" => lang.text("err_integer"),
        "claim_amount" => lang.text("err_number"),
        _ => format!("{} {message}", lang.text("err_invalid")).trim().to_owned(),
    }
}

pub async fn submit(State(state): State<AppState>, ctx: Ctx, Form(form): Form<Fields>) -> Result<Response, AppError> {
    let (_, token) = ctx.staff()?;
    if !ctx.has_any(&state.settings.console.phone_intake_roles) {
        return Ok(not_for_you(&state, &ctx));
    }
    ctx.check_csrf(&form)?;
    if form.get("lookup").is_some() {
        return lookup(&state, &ctx, token, &form).await;
    }
    let may_lookup = ctx.has_any(&state.settings.console.customer_lookup_roles);
    let again = |errors: Errors, status: StatusCode| -> Result<Response, AppError> {
        let html = state.render(
            &ctx,
            "intake.html",
            json!({ "nav": "intake", "form": form.to_json(), "errors": errors, "may_lookup": may_lookup }),
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
            let field = form_field(field.as_deref().unwrap_or(""));
            errors.insert(field, field_words(ctx.lang, field, &message));
            again(errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        // Intake down: the call's notes stay on the screen to submit again (the same key registers once).
        Err(e @ (BackendError::Unavailable(_) | BackendError::Unexpected(..))) => {
            tracing::warn!(error = %e, "phone feedback not registered");
            let mut errors = Errors::new();
            errors.insert("general", ctx.lang.text("err_unavailable"));
            again(errors, StatusCode::SERVICE_UNAVAILABLE)
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

    #[test]
    fn a_lookup_fills_only_what_the_agent_left_empty() {
        let latest = json!({ "customer_name": "张三", "customer_email": "z@example.com", "language": "en" });
        let mut fresh = json!({ "phone": "13800000000", "name": "", "language": "zh-CN", "content": "包装破损" });
        fill_from_latest(&mut fresh, &latest);
        assert_eq!(
            (&fresh["name"], &fresh["email"], &fresh["language"], &fresh["content"]),
            (
                &json!("张三"),
                &json!("z@example.com"),
                &json!("en"),
                &json!("包装破损")
            )
        );
        let mut typed = json!({ "name": "李四", "language": "zh-CN" });
        fill_from_latest(&mut typed, &latest);
        assert_eq!(typed["name"], "李四", "never overwritten");
        assert_eq!(typed["email"], "z@example.com");
        assert_eq!(typed["language"], "zh-CN", "the agent already talks to the caller");
        assert_eq!(
            field_words(Lang::ZhCn, "phone", "is not a phone number"),
            "请输入有效的电话号码。"
        );
    }
}
