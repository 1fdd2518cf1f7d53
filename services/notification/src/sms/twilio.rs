//! Twilio-style Messages API: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
//! `To`, `From` (or `MessagingServiceSid`), `Body`, HTTP Basic auth with the account SID and auth token;
//! `201 {"sid": "SM…"}` on success.
use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{HttpRequest, SmsError, SmsMessage, SmsProvider};
use crate::settings::TwilioSettings;

pub struct Twilio(pub TwilioSettings);

impl SmsProvider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn request(&self, m: &SmsMessage, _now: DateTime<Utc>, _nonce: Uuid) -> Result<HttpRequest, SmsError> {
        let s = &self.0;
        let sender = if s.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let body = serde_urlencoded::to_string([
            ("To", e164(&m.to, &s.default_country_code).as_str()),
            (sender, &s.from),
            ("Body", &m.text),
        ])
        .map_err(|e| SmsError::Permanent(e.to_string()))?;
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.account_sid, s.auth_token));
        Ok(HttpRequest {
            method: reqwest::Method::POST,
            url: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                s.base_url.trim_end_matches('/'),
                s.account_sid
            ),
            headers: vec![
                ("authorization".into(), format!("Basic {credentials}")),
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ],
            body: body.into_bytes(),
        })
    }

    fn accepted(&self, body: &[u8]) -> Result<String, SmsError> {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| SmsError::Permanent(format!("unreadable answer: {e}")))?;
        v["sid"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| SmsError::Permanent(format!("no sid in the answer: {v}")))
    }
}

/// Twilio wants E.164: a national number gets the configured country code (`+86` by default).
pub fn e164(phone: &str, country_code: &str) -> String {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    if phone.trim_start().starts_with('+') {
        format!("+{digits}")
    } else if let Some(international) = digits.strip_prefix("00") {
        format!("+{international}")
    } else {
        format!("+{}{digits}", country_code.trim_start_matches('+'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn twilio() -> Twilio {
        Twilio(TwilioSettings {
            base_url: "https://api.twilio.com/".into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: "token".into(),
            from: "+15005550006".into(),
            default_country_code: "86".into(),
        })
    }

    #[test]
    fn the_request_is_a_basic_authenticated_form_post_to_the_account_messages() {
        let m = SmsMessage {
            delivery_id: Uuid::nil(),
            to: "138 0000 0000".into(),
            text: "您好 & hi".into(),
            template: "t".into(),
            vars: json!({}),
        };
        let r = twilio().request(&m, Utc::now(), Uuid::nil()).unwrap();
        assert_eq!(r.method, reqwest::Method::POST);
        assert_eq!(
            r.url,
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
        );
        // base64("AC0123456789abcdef0123456789abcdef:token")
        assert!(r.headers.contains(&(
            "authorization".into(),
            "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2tlbg==".into()
        )));
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            "To=%2B8613800000000&From=%2B15005550006&Body=%E6%82%A8%E5%A5%BD+%26+hi"
        );
        assert_eq!(
            twilio().accepted(br#"{"sid":"SM1","status":"queued"}"#),
            Ok("SM1".into())
        );
        assert!(twilio().accepted(b"{}").is_err());
    }

    #[test]
    fn numbers_become_e164() {
        assert_eq!(e164("+44 20 7946 0958", "86"), "+442079460958");
        assert_eq!(e164("0044 20 7946 0958", "86"), "+442079460958");
        assert_eq!(e164("13800000000", "+86"), "+8613800000000");
    }
}
