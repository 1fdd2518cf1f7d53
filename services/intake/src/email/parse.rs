//! A raw RFC 5322 message reduced to what intake needs: sender, subject, text (HTML converted to
//! text), threading headers, the headers that mark automatic mail, and attachments.
use chrono::{DateTime, Utc};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// An email, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedEmail {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// The sender's address, lower-cased (personal data).
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    /// The first text body; an HTML-only message is converted to text.
    pub text: String,
    /// `In-Reply-To` and `References`, without angle brackets.
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub date: Option<DateTime<Utc>>,
    /// The headers that mark automatic mail, as sent (trimmed).
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub x_autoreply: bool,
    pub x_autorespond: bool,
    pub x_auto_response_suppress: bool,
    pub x_failed_recipients: bool,
    /// `Return-Path: <>` (the null sender of delivery reports).
    pub null_return_path: bool,
    /// The top-level content type, lower-cased (`multipart/report` for delivery reports).
    pub content_type: Option<String>,
    pub attachments: Vec<EmailAttachment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmailAttachment {
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("not an email message")]
    NotAnEmail,
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let clean = |s: &str| s.trim().trim_start_matches('<').trim_end_matches('>').to_owned();
    match value {
        HeaderValue::Text(t) => t.split_whitespace().map(clean).filter(|s| !s.is_empty()).collect(),
        HeaderValue::TextList(list) => list.iter().map(|s| clean(s)).filter(|s| !s.is_empty()).collect(),
        _ => vec![],
    }
}

pub fn parse(raw: &[u8]) -> Result<ParsedEmail, ParseError> {
    let message = MessageParser::default().parse(raw).ok_or(ParseError::NotAnEmail)?;
    // Something with no header we understand is not mail (a parser accepts almost any bytes).
    if message.from().is_none() && message.message_id().is_none() && message.subject().is_none() {
        return Err(ParseError::NotAnEmail);
    }
    let raw_header = |name: &str| message.header_raw(name).map(|v| v.trim().to_owned());
    let from = message.from().and_then(|a| a.first());
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .or_else(|| message.body_html(0).map(|h| h.into_owned()))
        .unwrap_or_default();
    let attachments = message
        .attachments()
        .filter(|p| !p.is_message() || p.attachment_name().is_some())
        .map(|p| EmailAttachment {
            file_name: p.attachment_name().map(str::to_owned),
            bytes: p.contents().to_vec(),
        })
        .collect();
    Ok(ParsedEmail {
        // A usable dedup key or none (then the raw message's hash is used).
        message_id: message
            .message_id()
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty() && m.len() <= 500 && !m.chars().any(char::is_control)),
        from: from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase()),
        from_name: from
            .and_then(|a| a.name())
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        subject: message.subject().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        text: normalise_text(&text),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        date: message
            .date()
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        auto_submitted: raw_header("Auto-Submitted"),
        precedence: raw_header("Precedence"),
        x_autoreply: raw_header("X-Autoreply").is_some(),
        x_autorespond: raw_header("X-Autorespond").is_some(),
        x_auto_response_suppress: raw_header("X-Auto-Response-Suppress").is_some(),
        x_failed_recipients: raw_header("X-Failed-Recipients").is_some(),
        null_return_path: raw_header("Return-Path").is_some_and(|r| r.replace([' ', '\t'], "") == "<>"),
        content_type: message
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()).to_ascii_lowercase()),
        attachments,
    })
}

/// Unix line ends, no trailing spaces, at most one blank line in a row.
fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.replace("\r\n", "\n").lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

/// `zh-CN` when most letters are CJK, else `en` (a guess for the acknowledgement's language).
pub fn guess_language(text: &str) -> &'static str {
    let (mut cjk, mut letters) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF) {
            cjk += 1;
        }
    }
    if letters > 0 && cjk * 2 >= letters {
        "zh-CN"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "From: \"Zhang San\" <Zhang.San@Example.com>\r\nTo: care@feedback.example\r\n\
        Subject: Broken box\r\nMessage-ID: <abc@example.com>\r\nIn-Reply-To: <SH01-20261122-0042.x@feedback.example>\r\n\
        References: <a@b> <SH01-20261122-0042.x@feedback.example>\r\n\r\nThe box   \r\n\r\n\r\n\r\nwas broken.\r\n";

    #[test]
    fn plain_message() {
        let e = parse(PLAIN.as_bytes()).unwrap();
        assert_eq!(e.from.as_deref(), Some("zhang.san@example.com"));
        assert_eq!(e.from_name.as_deref(), Some("Zhang San"));
        assert_eq!(e.subject.as_deref(), Some("Broken box"));
        assert_eq!(e.message_id.as_deref(), Some("abc@example.com"));
        assert_eq!(e.text, "The box\n\nwas broken.");
        assert_eq!(e.in_reply_to, vec!["SH01-20261122-0042.x@feedback.example"]);
        assert_eq!(e.references, vec!["a@b", "SH01-20261122-0042.x@feedback.example"]);
        assert!(!e.x_autoreply && e.auto_submitted.is_none());
    }

    #[test]
    fn html_only_becomes_text() {
        let raw = "From: a@example.com\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
            <html><head><style>p{color:red}</style></head><body><p>Hello <b>world</b></p><p>包装破损</p></body></html>";
        let e = parse(raw.as_bytes()).unwrap();
        assert!(e.text.contains("Hello world"), "{}", e.text);
        assert!(e.text.contains("包装破损"));
        assert!(!e.text.contains('<'), "{}", e.text);
    }

    #[test]
    fn attachments_are_extracted() {
        let raw = "From: a@example.com\r\nSubject: photo\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached\r\n\
            --b\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjcK\r\n--b--\r\n";
        let e = parse(raw.as_bytes()).unwrap();
        assert_eq!(e.text, "See attached");
        assert_eq!(e.attachments.len(), 1);
        assert_eq!(e.attachments[0].file_name.as_deref(), Some("report.pdf"));
        assert_eq!(e.attachments[0].bytes, b"%PDF-1.7\n");
    }

    #[test]
    fn automatic_mail_headers_are_read() {
        let raw = "From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered\r\nAuto-Submitted: auto-replied\r\n\
            Return-Path: <>\r\nX-Autoreply: yes\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=z\r\n\r\n--z--\r\n";
        let e = parse(raw.as_bytes()).unwrap();
        assert_eq!(e.auto_submitted.as_deref(), Some("auto-replied"));
        assert!(e.x_autoreply && e.null_return_path);
        assert_eq!(e.content_type.as_deref(), Some("multipart/report"));
        assert_eq!(e.from.as_deref(), Some("mailer-daemon@mx.example.com"));
    }

    #[test]
    fn an_unusable_message_id_is_dropped() {
        let raw = "From: a@example.com\r\nSubject: x\r\nMessage-ID: <a\x01b@example.com>\r\n\r\nhi\r\n";
        assert_eq!(parse(raw.as_bytes()).unwrap().message_id, None);
        let long = format!(
            "From: a@example.com\r\nMessage-ID: <{}@example.com>\r\n\r\nhi\r\n",
            "a".repeat(600)
        );
        assert_eq!(parse(long.as_bytes()).unwrap().message_id, None);
    }

    #[test]
    fn garbage_is_not_an_email() {
        assert_eq!(parse(b"\x00\x01\x02 hello").unwrap_err(), ParseError::NotAnEmail);
        assert_eq!(parse(b"").unwrap_err(), ParseError::NotAnEmail);
    }

    #[test]
    fn language_guess() {
        assert_eq!(guess_language("包装破损，产品有缺陷 box"), "zh-CN");
        assert_eq!(guess_language("The box was broken 破"), "en");
        assert_eq!(guess_language(""), "en");
    }
}
