//! The session: one HMAC-signed, HTTP-only, `SameSite=Lax` cookie holding the expiry, the CSRF
//! token and (once signed in) the staff bearer token issued by triage. Nothing is stored
//! server-side, so any number of console replicas share sessions through the cookie secret.
//!
//! Format: `v1~<expires unix>~<csrf>~<token or ->~<hex HMAC-SHA256 of everything before>`. The
//! staff token is a signed JWT itself; the outer signature stops anyone from swapping tokens or
//! CSRF values, and `HttpOnly` keeps scripts from reading it.
use axum::http::{header, HeaderMap, HeaderValue};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::csrf;

pub const COOKIE: &str = "console_session";
const VERSION: &str = "v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Unix seconds after which the cookie is refused.
    pub expires: i64,
    pub csrf: String,
    /// The staff bearer token; `None` before signing in.
    pub token: Option<String>,
}

impl Session {
    /// A session with a CSRF token and nobody signed in (for the sign-in form).
    pub fn anonymous(now: i64) -> Self {
        Self {
            expires: now + 3600,
            csrf: csrf::new_token(),
            token: None,
        }
    }

    /// A fresh session (new CSRF token, so a token seen before sign-in is worthless after it).
    pub fn signed_in(token: String, now: i64, lifetime_secs: i64) -> Self {
        Self {
            expires: now + lifetime_secs,
            csrf: csrf::new_token(),
            token: Some(token),
        }
    }

    fn payload(&self) -> String {
        format!(
            "{VERSION}~{}~{}~{}",
            self.expires,
            self.csrf,
            self.token.as_deref().unwrap_or("-")
        )
    }

    pub fn encode(&self, secret: &[u8]) -> String {
        let payload = self.payload();
        format!("{payload}~{}", csrf::hex(&sign(secret, payload.as_bytes())))
    }

    /// The session in `value` if its signature is ours and it has not expired.
    pub fn decode(value: &str, secret: &[u8], now: i64) -> Option<Session> {
        let (payload, signature) = value.rsplit_once('~')?;
        let expected = csrf::hex(&sign(secret, payload.as_bytes()));
        if !csrf::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return None;
        }
        let mut parts = payload.splitn(4, '~');
        if parts.next()? != VERSION {
            return None;
        }
        let expires: i64 = parts.next()?.parse().ok()?;
        let csrf = parts.next()?.to_owned();
        let token = match parts.next()? {
            "-" => None,
            t => Some(t.to_owned()),
        };
        (expires > now && !csrf.is_empty()).then_some(Session { expires, csrf, token })
    }

    /// `Set-Cookie` for this session.
    pub fn set_cookie(&self, secret: &[u8], secure: bool, now: i64) -> HeaderValue {
        let max_age = (self.expires - now).max(0);
        cookie_header(&self.encode(secret), max_age, secure)
    }
}

/// `Set-Cookie` that removes the session.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    cookie_header("", 0, secure)
}

fn cookie_header(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie characters are ASCII")
}

fn sign(secret: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    #[test]
    fn a_session_round_trips() {
        let s = Session::signed_in("aaa.bbb.ccc".into(), 1000, 3600);
        let back = Session::decode(&s.encode(SECRET), SECRET, 1001).unwrap();
        assert_eq!(back, s);
        let anon = Session::anonymous(1000);
        assert_eq!(Session::decode(&anon.encode(SECRET), SECRET, 1001), Some(anon));
    }

    #[test]
    fn tampering_another_key_or_expiry_is_refused() {
        let s = Session::signed_in("aaa.bbb.ccc".into(), 1000, 3600);
        let v = s.encode(SECRET);
        // Another token swapped in, or the expiry pushed out: the signature no longer matches.
        assert_eq!(
            Session::decode(&v.replace("aaa.bbb.ccc", "xxx.bbb.ccc"), SECRET, 1001),
            None
        );
        assert_eq!(Session::decode(&v.replacen("4600", "9999", 1), SECRET, 1001), None);
        assert_eq!(Session::decode(&v, b"other-secret", 1001), None);
        assert_eq!(Session::decode(&v, SECRET, 4600), None, "expired");
        assert_eq!(Session::decode("garbage", SECRET, 0), None);
        assert_eq!(Session::decode("", SECRET, 0), None);
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_when_asked() {
        let s = Session::anonymous(0);
        let c = s.set_cookie(SECRET, true, 0);
        let c = c.to_str().unwrap();
        assert!(c.starts_with("console_session=v1~3600~"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"));
        assert!(!s.set_cookie(SECRET, false, 0).to_str().unwrap().contains("Secure"));
        assert!(clear_cookie(false).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; console_session=xyz; lang=en"),
        );
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "lang"), Some("en"));
        assert_eq!(cookie(&h, "nope"), None);
    }
}
