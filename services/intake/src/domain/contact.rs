//! Customer contacts: validation, and the normalised key that recognises one customer across channels.

/// Accepts the usual ways people write phone numbers; refuses anything else.
pub fn valid_phone(phone: &str) -> bool {
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')' | '.'));
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    allowed && (5..=20).contains(&digits) && !phone[1..].contains('+')
}

pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && email.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '<' && c != '>')
}

/// Mainland mobile numbers in any spelling (`138 1234 5678`, `+86-13812345678`, `008613812345678`)
/// become `+8613812345678`; others keep their digits, with `+` if they had one.
pub fn normalise_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let international = phone.trim_start().starts_with('+') || digits.starts_with("00");
    let digits = digits.strip_prefix("00").unwrap_or(&digits).to_owned();
    if digits.len() == 11 && digits.starts_with('1') && !international {
        format!("+86{digits}")
    } else if international {
        format!("+{digits}")
    } else {
        digits
    }
}

pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The key triage uses to see that feedback from several channels is the same customer's.
pub fn contact_key(phone: Option<&str>, email: Option<&str>) -> Option<String> {
    phone
        .map(|p| format!("tel:{}", normalise_phone(p)))
        .or_else(|| email.map(|e| format!("mailto:{}", normalise_email(e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_mobile_number_in_many_spellings_has_one_key() {
        for p in [
            "13812345678",
            "138 1234 5678",
            "+86 138-1234-5678",
            "008613812345678",
            "+8613812345678",
        ] {
            assert_eq!(normalise_phone(p), "+8613812345678", "{p}");
        }
    }

    #[test]
    fn phone_and_email_validation() {
        assert!(valid_phone("+86 (21) 5555-1234"));
        assert!(!valid_phone("call me"));
        assert!(!valid_phone("12"));
        assert!(!valid_phone("1+2345678"));
        assert!(valid_email("a.b@example.com"));
        for bad in [
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@@example.com",
            "a@example.com.",
            "<a@x.cn>",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn key_prefers_phone_then_email() {
        assert_eq!(
            contact_key(Some("13812345678"), Some("X@Y.cn")).unwrap(),
            "tel:+8613812345678"
        );
        assert_eq!(contact_key(None, Some(" X@Y.cn ")).unwrap(), "mailto:x@y.cn");
        assert_eq!(contact_key(None, None), None);
    }
}
