//! Cross-site request forgery protection: a random token per session (synchronizer token), put in
//! every form as a hidden `csrf` field and compared with the session's on every POST. The session
//! cookie is also `SameSite=Lax`, so a foreign site's POST carries no session at all.

/// A hidden form field of this name carries the token.
pub const FIELD: &str = "csrf";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CsrfError {
    #[error("the form has no security token")]
    Missing,
    #[error("the form's security token does not match the session")]
    Mismatch,
}

/// 256 random bits, hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares in time independent of where the strings differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The submitted token must be present and equal the session's.
pub fn verify(expected: &str, submitted: Option<&str>) -> Result<(), CsrfError> {
    let submitted = submitted.filter(|s| !s.is_empty()).ok_or(CsrfError::Missing)?;
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), submitted.as_bytes()) {
        return Err(CsrfError::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn only_the_sessions_token_passes() {
        let t = new_token();
        assert_eq!(verify(&t, Some(&t)), Ok(()));
        assert_eq!(verify(&t, None), Err(CsrfError::Missing));
        assert_eq!(verify(&t, Some("")), Err(CsrfError::Missing));
        assert_eq!(verify(&t, Some(&new_token())), Err(CsrfError::Mismatch));
        assert_eq!(verify(&t, Some(&t[..63])), Err(CsrfError::Mismatch));
        assert_eq!(verify("", Some("x")), Err(CsrfError::Mismatch));
    }
}
