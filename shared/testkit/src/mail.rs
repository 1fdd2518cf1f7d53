//! A real SMTP server for tests: `deploy/local/mailcatcher.py` (aiosmtpd) capturing into a directory.
use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use anyhow::{bail, Context};

pub struct MailCatcher {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl MailCatcher {
    /// Starts a catcher on a free port; `extra` are mailcatcher flags (e.g. `--fail-first 1`).
    pub fn start(extra: &[&str]) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("mail-{}", crate::unique()));
        std::fs::create_dir_all(&dir)?;
        let script = workspace_root().join("deploy/local/mailcatcher.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .args(["--host", "127.0.0.1", "--port", "0", "--dir"])
            .arg(&dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", script.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(port) = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()) else {
            let _ = child.kill();
            bail!("mailcatcher did not start (said {line:?}); is python3-aiosmtpd installed?");
        };
        Ok(Self { port, dir, child })
    }

    /// Raw messages captured so far, in arrival order.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    }
}

impl Drop for MailCatcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The repository root (where `deploy/` is), from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The decoded value of a header in a raw message (first occurrence, unfolded).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let mut lines = raw.split("\r\n").flat_map(|l| l.split('\n')).peekable();
    let prefix = format!("{}:", name.to_ascii_lowercase());
    while let Some(line) = lines.next() {
        if line.is_empty() {
            return None;
        }
        if line.to_ascii_lowercase().starts_with(&prefix) {
            let mut value = line[prefix.len()..].to_owned();
            // Unfolding: continuation lines start with white space (RFC 5322 §2.2.3).
            while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                value.push_str(next);
            }
            return Some(value.trim().to_owned());
        }
    }
    None
}

/// The plain-text body: of a single-part message, or the `text/plain` part of a multipart one,
/// decoded from quoted-printable or base64.
pub fn body_text(raw: &str) -> String {
    part(raw, "text/plain").unwrap_or_else(|| decode_body(raw))
}

/// The `text/html` part of a multipart message, decoded.
pub fn body_html(raw: &str) -> Option<String> {
    part(raw, "text/html")
}

/// The decoded body of the first part (at any depth) whose Content-Type is `content_type`.
pub fn part(raw: &str, content_type: &str) -> Option<String> {
    let ct = header(raw, "Content-Type").unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return ct
            .to_ascii_lowercase()
            .starts_with(content_type)
            .then(|| decode_body(raw));
    }
    let boundary = ct
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()?
        .trim_matches('"')
        .to_owned();
    let body = split_body(raw).1;
    body.split(&format!("--{boundary}"))
        .skip(1)
        .take_while(|p| !p.starts_with("--"))
        .find_map(|p| part(p.trim_start_matches(['\r', '\n']), content_type))
}

fn split_body(raw: &str) -> (&str, &str) {
    raw.split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""))
}

fn decode_body(raw: &str) -> String {
    let body = split_body(raw).1;
    match header(raw, "Content-Transfer-Encoding")
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("quoted-printable") => decode_quoted_printable(body),
        Some("base64") => decode_base64(body),
        _ => body.to_owned(),
    }
}

fn decode_quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_base64(s: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let Some(v) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_the_transfer_encodings() {
        assert_eq!(super::decode_quoted_printable("a=3Db=\r\nc =E4=BD=A0"), "a=bc 你");
        assert_eq!(super::decode_base64("5L2g5aW9IGhp"), "你好 hi");
    }

    #[test]
    fn multipart_alternative_parts_are_found_and_decoded() {
        let raw = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n\r\n\
                   --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n5L2g5aW9IGhp\r\n\
                   --b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n<p>hi</p>\r\n--b1--\r\n";
        assert_eq!(super::body_text(raw), "你好 hi");
        assert_eq!(super::body_html(raw).unwrap().trim(), "<p>hi</p>");
        assert_eq!(super::body_text("Subject: y\r\n\r\nplain"), "plain");
        assert_eq!(super::body_html("Subject: y\r\n\r\nplain"), None);
    }
}
