//! Aliyun (Alibaba Cloud) SMS `SendSms`, RPC style: the gateway sends a registered template
//! (`TemplateCode`, with `TemplateParam` as JSON) under a registered signature (`SignName`). Every
//! parameter is signed: HMAC-SHA1 with key `AccessKeySecret&` over
//! `METHOD&%2F&percent(sorted percent-encoded query)`, base64 — the documented "signature version 1.0".
//! `TemplateParam` carries only the variables configured for the template (`sms.aliyun.templates`).
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{percent_encode, HttpRequest, SmsError, SmsMessage, SmsProvider};
use crate::settings::AliyunSettings;

pub struct Aliyun(pub AliyunSettings);

/// The signature of `params` (unencoded names and values) for `method`.
pub fn signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    let query = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", percent_encode("/"), percent_encode(&query));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("any key length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Gateways take national numbers for the mainland; `+86`/`0086` prefixes are dropped.
fn national(phone: &str) -> String {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let trimmed = phone.trim_start();
    if trimmed.starts_with("+86") || trimmed.starts_with("0086") {
        digits.trim_start_matches("00").trim_start_matches("86").to_owned()
    } else if trimmed.starts_with('+') {
        format!("00{digits}")
    } else {
        digits
    }
}

impl SmsProvider for Aliyun {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn request(&self, m: &SmsMessage, now: DateTime<Utc>, nonce: Uuid) -> Result<HttpRequest, SmsError> {
        let s = &self.0;
        let template = s
            .templates
            .get(&m.template)
            .ok_or_else(|| SmsError::Permanent(format!("no Aliyun template code for `{}`", m.template)))?;
        let code = template.code.as_str();
        // Only what the registered template declares: the customer's name, the status link (its token) and
        // free text stay out of the gateway unless a template asks for them.
        let vars: Map<String, Value> = template
            .params
            .iter()
            .map(|name| {
                let value = match &m.vars[name] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => String::new(),
                };
                (name.clone(), Value::String(value))
            })
            .collect();
        let mut params: Vec<(String, String)> = [
            ("AccessKeyId", s.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", &national(&m.to)),
            ("RegionId", &s.region),
            ("SignName", &s.sign_name),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", &nonce.to_string()),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", code),
            ("TemplateParam", &Value::Object(vars).to_string()),
            ("Timestamp", &now.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ("Version", "2017-05-25"),
            ("OutId", &m.delivery_id.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let sig = signature("POST", &params, &s.access_key_secret);
        params.insert(0, ("Signature".into(), sig));
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        Ok(HttpRequest {
            method: reqwest::Method::POST,
            url: format!("{}/", s.endpoint.trim_end_matches('/')),
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
            body: body.into_bytes(),
        })
    }

    /// `{"Code": "OK", "BizId": …}`; any other code is an error even with HTTP 200. Flow control
    /// (`isv.BUSINESS_LIMIT_CONTROL`) and throttling are worth retrying; the rest (bad number, template,
    /// signature) are not.
    fn accepted(&self, body: &[u8]) -> Result<String, SmsError> {
        let v: Value =
            serde_json::from_slice(body).map_err(|e| SmsError::Permanent(format!("unreadable answer: {e}")))?;
        match v["Code"].as_str() {
            Some("OK") => Ok(v["BizId"].as_str().unwrap_or_default().to_owned()),
            Some(code)
                if code.contains("LIMIT_CONTROL") || code.contains("Throttling") || code == "isp.SYSTEM_ERROR" =>
            {
                Err(SmsError::Transient {
                    error: format!("{code}: {}", v["Message"]),
                    retry_after: None,
                })
            }
            Some(code) => Err(SmsError::Permanent(format!("{code}: {}", v["Message"]))),
            None => Err(SmsError::Permanent(format!("no Code in the answer: {v}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::AliyunTemplate;
    use serde_json::json;

    /// The worked example of Aliyun's SMS API documentation ("HTTP 协议及签名"): GET, key `testSecret`.
    #[test]
    fn the_documented_signature_example_is_reproduced() {
        let params: Vec<(String, String)> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", r#"{"customer":"test"}"#),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(signature("GET", &params, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
    }

    #[test]
    fn the_request_carries_the_template_code_and_a_signature_over_everything_else() {
        let a = Aliyun(AliyunSettings {
            endpoint: "https://dysmsapi.aliyuncs.com".into(),
            access_key_id: "testId".into(),
            access_key_secret: "testSecret".into(),
            sign_name: "客服中心".into(),
            region: "cn-hangzhou".into(),
            templates: [(
                "feedback_received".to_owned(),
                AliyunTemplate {
                    code: "SMS_1".into(),
                    params: vec!["reference".into(), "n".into(), "missing".into()],
                },
            )]
            .into(),
        });
        let m = SmsMessage {
            delivery_id: Uuid::nil(),
            to: "+86 138 0000 0000".into(),
            text: "ignored: the template is registered".into(),
            template: "feedback_received".into(),
            vars: json!({"reference": "SH01-20261123-0001", "name": "张三", "n": 2,
                         "status_url": "https://feedback.example/s/R?t=secret", "text": "free text"}),
        };
        let now: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap();
        let r = a.request(&m, now, Uuid::nil()).unwrap();
        assert_eq!(r.url, "https://dysmsapi.aliyuncs.com/");
        let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&r.body).unwrap();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(get("PhoneNumbers"), "13800000000");
        assert_eq!(get("TemplateCode"), "SMS_1");
        // Exactly the declared variables (a missing one empty): not the name, the status link or the text.
        assert_eq!(
            get("TemplateParam"),
            r#"{"missing":"","n":"2","reference":"SH01-20261123-0001"}"#
        );
        assert_eq!(get("Timestamp"), "2026-11-23T08:00:00Z");
        let unsigned: Vec<_> = params.iter().filter(|(k, _)| k != "Signature").cloned().collect();
        assert_eq!(get("Signature"), signature("POST", &unsigned, "testSecret"));
        let unknown = SmsMessage {
            template: "other".into(),
            ..m
        };
        assert!(matches!(
            a.request(&unknown, now, Uuid::nil()),
            Err(SmsError::Permanent(_))
        ));
        assert_eq!(a.accepted(br#"{"Code":"OK","BizId":"9^1"}"#), Ok("9^1".into()));
        assert!(matches!(
            a.accepted(br#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"x"}"#),
            Err(SmsError::Transient { .. })
        ));
        assert!(matches!(
            a.accepted(br#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"x"}"#),
            Err(SmsError::Permanent(_))
        ));
    }
}
