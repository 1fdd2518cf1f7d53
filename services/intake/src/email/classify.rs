//! What an incoming email is: automatic mail (auto-replies, bounces, our own notifications) that must
//! never open a case — so no mail loop can start — a reply to a case, or new feedback.
use super::parse::ParsedEmail;

/// How we recognise our own mail: notification's `smtp.message_id_domain` and sending addresses.
#[derive(Debug, Clone, Default)]
pub struct OwnMail {
    pub message_id_domain: String,
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Never feedback; the reason is recorded.
    Ignore(&'static str),
    /// Names case references (threading headers first, then the subject); the first one intake
    /// knows makes it a follow-up, otherwise it is new feedback.
    MaybeReply(Vec<String>),
    New,
}

const BULK_PRECEDENCE: [&str; 4] = ["bulk", "junk", "list", "auto_reply"];
const SYSTEM_SENDERS: [&str; 3] = ["mailer-daemon", "postmaster", "mail-daemon"];

pub fn classify(email: &ParsedEmail, own: &OwnMail) -> Verdict {
    if let Some(reason) = automatic(email, own) {
        return Verdict::Ignore(reason);
    }
    let from_headers = email
        .in_reply_to
        .iter()
        .chain(&email.references)
        .filter_map(|id| reference_in_message_id(id, &own.message_id_domain));
    let from_subject = email.subject.as_deref().map(references_in_text).unwrap_or_default();
    let mut refs: Vec<String> = Vec::new();
    for r in from_headers.chain(from_subject) {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    if refs.is_empty() {
        Verdict::New
    } else {
        Verdict::MaybeReply(refs)
    }
}

/// Why the message is automatic mail, if it is.
fn automatic(email: &ParsedEmail, own: &OwnMail) -> Option<&'static str> {
    let domain = own.message_id_domain.to_ascii_lowercase();
    let ours = |id: &str| {
        !domain.is_empty()
            && id
                .rsplit_once('@')
                .is_some_and(|(_, d)| d.eq_ignore_ascii_case(&domain))
    };
    if email.message_id.as_deref().is_some_and(ours) {
        return Some("own_message");
    }
    if let Some(from) = &email.from {
        if own.addresses.iter().any(|a| a.eq_ignore_ascii_case(from)) {
            return Some("own_message");
        }
        let local = from.split('@').next().unwrap_or_default();
        if SYSTEM_SENDERS.contains(&local) {
            return Some("bounce");
        }
    }
    if email.content_type.as_deref() == Some("multipart/report") || email.x_failed_recipients {
        return Some("bounce");
    }
    if email.auto_submitted.as_deref().is_some_and(|v| {
        !v.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("no")
    }) {
        return Some("auto_reply");
    }
    if email
        .precedence
        .as_deref()
        .is_some_and(|p| BULK_PRECEDENCE.contains(&p.to_ascii_lowercase().as_str()))
    {
        return Some("auto_reply");
    }
    if email.x_autoreply || email.x_autorespond || email.x_auto_response_suppress {
        return Some("auto_reply");
    }
    if email.null_return_path {
        return Some("bounce");
    }
    None
}

/// `SH01-20261122-0042` from one of our Message-IDs, `SH01-20261122-0042.<uuid>@<our domain>`.
pub fn reference_in_message_id(id: &str, our_domain: &str) -> Option<String> {
    let (local, domain) = id.rsplit_once('@')?;
    if our_domain.is_empty() || !domain.eq_ignore_ascii_case(our_domain) {
        return None;
    }
    let candidate = local.split('.').next()?;
    is_reference(candidate).then(|| candidate.to_ascii_uppercase())
}

/// Every reference (`SITE-YYYYMMDD-NNNN`) in a text such as a subject, upper-cased, in order.
pub fn references_in_text(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|t| is_reference(t))
        .map(str::to_ascii_uppercase)
        .collect()
}

/// `SITE-YYYYMMDD-NNNN`: a site code (letters and digits, starting with a letter), eight digits, and
/// at least four digits.
pub fn is_reference(s: &str) -> bool {
    let mut parts = s.split('-');
    let (Some(site), Some(day), Some(number), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    (2..=16).contains(&site.len())
        && site.starts_with(|c: char| c.is_ascii_alphabetic())
        && site.chars().all(|c| c.is_ascii_alphanumeric())
        && day.len() == 8
        && day.chars().all(|c| c.is_ascii_digit())
        && (4..=9).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> OwnMail {
        OwnMail {
            message_id_domain: "feedback.example".into(),
            addresses: vec!["care@feedback.example".into()],
        }
    }

    fn email() -> ParsedEmail {
        ParsedEmail {
            message_id: Some("m1@customer.example".into()),
            from: Some("zhang@customer.example".into()),
            subject: Some("Broken box".into()),
            text: "The box was broken".into(),
            ..Default::default()
        }
    }

    #[test]
    fn ordinary_mail_is_new_feedback() {
        assert_eq!(classify(&email(), &own()), Verdict::New);
        // `Auto-Submitted: no` and `Precedence: first-class` are what people's mail says.
        let mut e = email();
        e.auto_submitted = Some("no".into());
        e.precedence = Some("first-class".into());
        assert_eq!(classify(&e, &own()), Verdict::New);
    }

    #[test]
    fn auto_replies_are_ignored() {
        let cases: [fn(&mut ParsedEmail); 6] = [
            |e| e.auto_submitted = Some("auto-replied".into()),
            |e| e.auto_submitted = Some("auto-generated; owner-email=x@y".into()),
            |e| e.precedence = Some("Bulk".into()),
            |e| e.x_autoreply = true,
            |e| e.x_autorespond = true,
            |e| e.x_auto_response_suppress = true,
        ];
        for (i, set) in cases.iter().enumerate() {
            let mut e = email();
            set(&mut e);
            assert_eq!(classify(&e, &own()), Verdict::Ignore("auto_reply"), "case {i}");
        }
        let mut e = email();
        e.precedence = Some("auto_reply".into());
        e.subject = Some("Out of office: Re: [SH01-20261122-0042]".into());
        assert_eq!(
            classify(&e, &own()),
            Verdict::Ignore("auto_reply"),
            "a reference does not save it"
        );
    }

    #[test]
    fn bounces_are_ignored() {
        for from in ["MAILER-DAEMON@mx.example.com", "postmaster@example.com"] {
            let mut e = email();
            e.from = Some(from.to_lowercase());
            assert_eq!(classify(&e, &own()), Verdict::Ignore("bounce"), "{from}");
        }
        let mut e = email();
        e.content_type = Some("multipart/report".into());
        assert_eq!(classify(&e, &own()), Verdict::Ignore("bounce"));
        let mut e = email();
        e.null_return_path = true;
        assert_eq!(classify(&e, &own()), Verdict::Ignore("bounce"));
    }

    #[test]
    fn our_own_mail_is_ignored() {
        let mut e = email();
        e.message_id = Some("SH01-20261122-0042.0193@FEEDBACK.example".into());
        assert_eq!(classify(&e, &own()), Verdict::Ignore("own_message"));
        let mut e = email();
        e.from = Some("care@feedback.example".into());
        assert_eq!(classify(&e, &own()), Verdict::Ignore("own_message"));
    }

    #[test]
    fn replies_by_header_then_subject() {
        let mut e = email();
        e.in_reply_to = vec!["SH01-20261122-0042.0193abcd@feedback.example".into()];
        e.references = vec!["other@elsewhere".into(), "GZ01-20261101-0007.1@feedback.example".into()];
        e.subject = Some("Re: about BJ01-20261120-0003".into());
        assert_eq!(
            classify(&e, &own()),
            Verdict::MaybeReply(vec![
                "SH01-20261122-0042".into(),
                "GZ01-20261101-0007".into(),
                "BJ01-20261120-0003".into()
            ])
        );
        // Someone else's Message-ID that looks like ours is not ours.
        let mut e = email();
        e.in_reply_to = vec!["SH01-20261122-0042.1@evil.example".into()];
        assert_eq!(classify(&e, &own()), Verdict::New);
        let mut e = email();
        e.subject = Some("Re: [sh01-20261122-0042] still broken".into());
        assert_eq!(
            classify(&e, &own()),
            Verdict::MaybeReply(vec!["SH01-20261122-0042".into()])
        );
    }

    #[test]
    fn reference_parsing() {
        assert_eq!(
            reference_in_message_id("SH01-20261122-0042.0193-ab@feedback.example", "feedback.example").as_deref(),
            Some("SH01-20261122-0042")
        );
        assert_eq!(
            reference_in_message_id("0193-ab@feedback.example", "feedback.example"),
            None
        );
        assert!(is_reference("SH01-20261122-12345"));
        for bad in [
            "SH01-2026112-0042",
            "SH01-20261122-042",
            "01-20261122-0042",
            "SH01-20261122-0042-1",
            "SH01",
        ] {
            assert!(!is_reference(bad), "{bad}");
        }
        assert_eq!(
            references_in_text("Re: (SH01-20261122-0042), ok"),
            vec!["SH01-20261122-0042"]
        );
        assert!(references_in_text("order 2026-11-22").is_empty());
    }
}
