//! Message texts: files under `templates/`, rendered with minijinja, per template and language:
//! - `<template>.<lang>.txt` — the email: first line the subject, a blank line, then the plain-text body;
//! - `<template>.<lang>.html` — optional HTML body (auto-escaped); without one, the HTML alternative is
//!   the plain text, escaped, in paragraphs with links — both parts always come from the same data;
//! - `<template>.<lang>.sms.txt` — optional SMS text; without one, an SMS carries the subject line.
//!
//! Every HTML body is wrapped in `_layout.html`.
//!
//! The files under `templates/` are built in; `templates.dir` may name a directory whose files of the same
//! names replace them, or add templates, so wording changes without a new build.
use std::{collections::BTreeSet, path::Path};

use minijinja::{Environment, Value};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub html: String,
}

macro_rules! files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// Every template file, embedded so the binary needs no files at run time.
const FILES: &[(&str, &str)] = files![
    "_layout.html",
    "case_assigned.en.txt",
    "case_assigned.zh-CN.txt",
    "case_opened.en.txt",
    "case_opened.zh-CN.txt",
    "case_reassigned.en.txt",
    "case_reassigned.zh-CN.txt",
    "case_reopened.en.txt",
    "case_reopened.zh-CN.txt",
    "case_reply.en.html",
    "case_reply.en.txt",
    "case_reply.zh-CN.html",
    "case_reply.zh-CN.txt",
    "case_resolved.en.sms.txt",
    "case_resolved.en.txt",
    "case_resolved.zh-CN.sms.txt",
    "case_resolved.zh-CN.txt",
    "claim_approval.en.txt",
    "claim_approval.zh-CN.txt",
    "concern_letter.en.txt",
    "concern_letter.zh-CN.txt",
    "customer_followup.en.txt",
    "customer_followup.zh-CN.txt",
    "deadline_breached.en.txt",
    "deadline_breached.zh-CN.txt",
    "deadline_escalated.en.sms.txt",
    "deadline_escalated.en.txt",
    "deadline_escalated.zh-CN.sms.txt",
    "deadline_escalated.zh-CN.txt",
    "deadline_extended.en.sms.txt",
    "deadline_extended.en.txt",
    "deadline_extended.zh-CN.sms.txt",
    "deadline_extended.zh-CN.txt",
    "deadline_warning.en.txt",
    "deadline_warning.zh-CN.txt",
    "eight_d_report.en.txt",
    "eight_d_report.zh-CN.txt",
    "feedback_received.en.html",
    "feedback_received.en.sms.txt",
    "feedback_received.en.txt",
    "feedback_received.zh-CN.html",
    "feedback_received.zh-CN.sms.txt",
    "feedback_received.zh-CN.txt",
    "report_issued.en.txt",
    "report_issued.zh-CN.txt",
    "revisit_announcement.en.sms.txt",
    "revisit_announcement.en.txt",
    "revisit_announcement.zh-CN.sms.txt",
    "revisit_announcement.zh-CN.txt",
];

pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

pub struct Templates {
    env: Environment<'static>,
    /// Every file name, built in or from the directory.
    files: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template `{0}`")]
    Unknown(String),
    #[error("template `{name}`: {source}")]
    Render { name: String, source: minijinja::Error },
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("templates directory `{dir}`: {source}")]
    Dir { dir: String, source: std::io::Error },
    #[error("template file `{file}`: {source}")]
    Syntax { file: String, source: minijinja::Error },
}

/// What the preview endpoint lists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateInfo {
    pub name: String,
    pub languages: Vec<String>,
    /// Has its own HTML body (otherwise the text is converted).
    pub html: bool,
    /// Has its own SMS text (otherwise the subject is sent).
    pub sms: bool,
}

fn language(language: &str) -> &'static str {
    if language.starts_with("en") {
        "en"
    } else {
        "zh-CN"
    }
}

/// Whether a file in the templates directory is one of ours (other files, e.g. a README, are ignored).
fn is_template_file(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".txt") || name.ends_with(".html"))
}

impl Templates {
    /// The built-in templates.
    pub fn new() -> Result<Self, LoadError> {
        Self::load(None)
    }

    /// The built-in templates, with the files of `dir` over them.
    pub fn load(dir: Option<&Path>) -> Result<Self, LoadError> {
        let mut env = Environment::new();
        let mut files = BTreeSet::new();
        // Missing variables render empty, as the text templates always did; `.html` files escape.
        for (name, text) in FILES {
            env.add_template(name, text).map_err(|source| LoadError::Syntax {
                file: name.to_string(),
                source,
            })?;
            files.insert(name.to_string());
        }
        if let Some(dir) = dir {
            let dir_error = |source| LoadError::Dir {
                dir: dir.display().to_string(),
                source,
            };
            let mut names = Vec::new();
            for entry in std::fs::read_dir(dir).map_err(dir_error)? {
                let entry = entry.map_err(dir_error)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if is_template_file(&name) && entry.file_type().map_err(dir_error)?.is_file() {
                    names.push((name, entry.path()));
                }
            }
            for (name, path) in names {
                let text = std::fs::read_to_string(&path).map_err(dir_error)?;
                env.add_template_owned(name.clone(), text)
                    .map_err(|source| LoadError::Syntax {
                        file: path.display().to_string(),
                        source,
                    })?;
                files.insert(name);
            }
        }
        Ok(Self { env, files })
    }

    /// Whether the file `name` (e.g. `case_opened.en.txt`) exists.
    pub fn has_file(&self, name: &str) -> bool {
        self.files.contains(name)
    }

    fn get(&self, name: &str) -> Option<minijinja::Template<'_, '_>> {
        self.env.get_template(name).ok()
    }

    fn render_one(&self, name: &str, vars: &Value) -> Result<String, TemplateError> {
        let t = self.get(name).ok_or_else(|| TemplateError::Unknown(name.to_owned()))?;
        t.render(vars).map_err(|source| TemplateError::Render {
            name: name.to_owned(),
            source,
        })
    }

    /// Renders the email of `template` in `language` (zh-CN when the language has no file of its own).
    pub fn render(&self, template: &str, language: &str, vars: impl Serialize) -> Result<Rendered, TemplateError> {
        let lang = self::language(language);
        let vars = Value::from_serialize(&vars);
        let text = self.render_one(&format!("{template}.{lang}.txt"), &vars)?;
        let (subject, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
        let subject = subject.trim().to_owned();
        let body = body.trim_start().to_owned();
        let html_name = format!("{template}.{lang}.html");
        let content = if self.get(&html_name).is_some() {
            self.render_one(&html_name, &vars)?
        } else {
            text_to_html(&body)
        };
        let html = self.render_one(
            "_layout.html",
            &Value::from_serialize(json!({"lang": lang, "subject": subject})).merge_safe("content", content),
        )?;
        Ok(Rendered { subject, body, html })
    }

    /// The SMS text of `template` in `language`: its `.sms.txt` file, or the email's subject.
    pub fn render_sms(&self, template: &str, language: &str, vars: impl Serialize) -> Result<String, TemplateError> {
        let lang = self::language(language);
        let name = format!("{template}.{lang}.sms.txt");
        if self.get(&name).is_some() {
            Ok(self.render_one(&name, &Value::from_serialize(&vars))?.trim().to_owned())
        } else {
            Ok(self.render(template, language, vars)?.subject)
        }
    }

    /// Every template with the languages it exists in.
    pub fn list(&self) -> Vec<TemplateInfo> {
        let mut out: Vec<TemplateInfo> = Vec::new();
        for file in &self.files {
            let Some(stem) = file.strip_suffix(".txt").filter(|s| !s.ends_with(".sms")) else {
                continue;
            };
            let Some((name, lang)) = stem.rsplit_once('.') else {
                continue;
            };
            let html = self.get(&format!("{name}.{lang}.html")).is_some();
            let sms = self.get(&format!("{name}.{lang}.sms.txt")).is_some();
            match out.iter_mut().find(|t| t.name == name) {
                Some(t) => {
                    t.languages.push(lang.to_owned());
                    t.html |= html;
                    t.sms |= sms;
                }
                None => out.push(TemplateInfo {
                    name: name.to_owned(),
                    languages: vec![lang.to_owned()],
                    html,
                    sms,
                }),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

trait MergeSafe {
    fn merge_safe(self, key: &str, html: String) -> Value;
}

impl MergeSafe for Value {
    /// Adds already-escaped HTML under `key`, so the layout does not escape it again.
    fn merge_safe(self, key: &str, html: String) -> Value {
        let mut map: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
        if let Ok(keys) = self.try_iter() {
            for k in keys {
                if let Some(name) = k.as_str() {
                    map.insert(name.to_owned(), self.get_item(&k).unwrap_or_default());
                }
            }
        }
        map.insert(key.to_owned(), Value::from_safe_string(html));
        Value::from_serialize(&map)
    }
}

/// Plain text → safe HTML: everything escaped, blank lines make paragraphs, line breaks `<br>`,
/// `http(s)://` links clickable.
pub fn text_to_html(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(linkify).collect();
            format!("<p>{}</p>", lines.join("<br>\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn linkify(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = [rest.find("http://"), rest.find("https://")]
        .into_iter()
        .flatten()
        .min()
    {
        out.push_str(&escape(&rest[..start]));
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '）' | '，' | '。'))
            .unwrap_or(tail.len());
        // Sentence punctuation after a link is not part of it.
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        out.push_str(&format!("<a href=\"{0}\">{0}</a>", escape(url)));
        rest = &tail[url.len()..];
    }
    out.push_str(&escape(rest));
    out
}

/// Plausible data for previews: every variable any template uses.
pub fn sample_vars() -> serde_json::Value {
    json!({
        "reference": "SH01-20261123-0001", "name": "张三", "status_url": "https://feedback.example/s/SH01-20261123-0001?t=demo",
        "text": "我们已安排为您更换产品，新货将于明天发出。", "subject": "包装破损", "summary": "第3批产品到货时包装破损，有质量缺陷。",
        "department_name": "质量部 Quality Department", "class": "complaint", "category": "product_quality",
        "severity": "important", "channel": "phone", "received_at": "2026-11-23 10:00", "assignee": "u.li",
        "assignee_name": "李雷", "actor": "admin", "reason": "需要供应商提供检测报告", "new_due": "2026-11-30 18:00",
        "clock": "reply", "due_at": "2026-11-25 18:00", "level": 2, "late": false, "recipient_name": "王总",
        "amount": "1500.00", "currency": "CNY", "kind": "monthly", "period": "2026-11", "site": "", "version": 1,
        "total": 42, "previous_total": 37, "url": "http://127.0.0.1:8084/api/v1/reports/monthly?period=2026-11",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_in_both_languages_with_text_and_html() {
        let t = Templates::new().unwrap();
        let vars = sample_vars();
        let list = t.list();
        assert!(list.len() >= 15, "{list:?}");
        for info in &list {
            assert_eq!(info.languages.len(), 2, "{} lacks a language", info.name);
            for lang in LANGUAGES {
                let r = t.render(&info.name, lang, &vars).unwrap();
                let key = if info.name == "report_issued" {
                    "[2026-11]"
                } else {
                    "[SH01-20261123-0001]"
                };
                assert!(r.subject.starts_with(key), "{}.{lang}: {}", info.name, r.subject);
                assert!(!r.body.is_empty());
                assert!(r.html.starts_with("<!DOCTYPE html>") && r.html.contains("</html>"));
                assert!(!t.render_sms(&info.name, lang, &vars).unwrap().is_empty());
            }
        }
        let zh = t.render("feedback_received", "zh-CN", &vars).unwrap();
        assert!(
            zh.subject.contains("已收到")
                && zh.body.contains("https://feedback.example/s/")
                && zh.body.contains("张三")
        );
        // minijinja escapes `/` in attributes too (`&#x2f;`), which browsers read back as `/`.
        assert!(
            zh.html.contains("查看处理进度") && zh.html.contains("s&#x2f;SH01-20261123-0001?t=demo\""),
            "{}",
            zh.html
        );
        let en = t.render("case_reply", "en-GB", &vars).unwrap();
        assert!(en.body.contains("已安排") && en.body.starts_with("Dear 张三"));
        assert!(matches!(t.render("nope", "en", &vars), Err(TemplateError::Unknown(_))));
    }

    #[test]
    fn customer_text_is_escaped_in_html_whether_templated_or_converted() {
        let t = Templates::new().unwrap();
        let vars = json!({"reference": "R-1", "name": "<b>Bob</b>", "text": "<script>alert(1)</script> & more",
            "summary": "a <i>b</i>\n\nsee https://x.example/?a=1&b=2"});
        // case_reply has an .html template (auto-escaped) ...
        let r = t.render("case_reply", "en", &vars).unwrap();
        assert!(!r.html.contains("<script>") && r.html.contains("&lt;script&gt;") && !r.html.contains("<b>Bob"));
        assert!(r.body.contains("<script>"), "the plain text stays as written");
        // ... case_resolved is converted from its text.
        let r = t.render("case_resolved", "en", &vars).unwrap();
        assert!(!r.html.contains("<i>b</i>") && r.html.contains("a &lt;i&gt;b&lt;/i&gt;"));
        assert!(
            r.html.contains("<a href=\"https://x.example/?a=1&amp;b=2\">"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<title>[R-1] Your feedback has been resolved</title>"));
    }

    #[test]
    fn sms_texts_come_from_their_own_file_or_the_subject() {
        let t = Templates::new().unwrap();
        let vars = sample_vars();
        assert_eq!(
            t.render_sms("feedback_received", "zh-CN", &vars).unwrap(),
            "【客服中心】您的反馈已受理，编号SH01-20261123-0001，我们将尽快与您联系。"
        );
        assert_eq!(
            t.render_sms("case_reply", "en", &vars).unwrap(),
            "[SH01-20261123-0001] Our answer to your feedback"
        );
    }

    #[test]
    fn a_templates_directory_replaces_and_adds_templates_and_a_broken_file_is_named() {
        let dir = std::env::temp_dir().join(format!("templates-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("feedback_received.en.txt"),
            "[{{ reference }}] Got it\n\nHi {{ name }}, noted.",
        )
        .unwrap();
        for lang in LANGUAGES {
            std::fs::write(
                dir.join(format!("goodwill.{lang}.txt")),
                "[{{ reference }}] Goodwill\n\nA gift.",
            )
            .unwrap();
        }
        std::fs::write(dir.join("README.md"), "not a template").unwrap();
        let t = Templates::load(Some(&dir)).unwrap();
        let vars = sample_vars();
        let en = t.render("feedback_received", "en", &vars).unwrap();
        assert_eq!(
            (en.subject.as_str(), en.body.as_str()),
            ("[SH01-20261123-0001] Got it", "Hi 张三, noted.")
        );
        // Only the file given is replaced: the Chinese text and the built-in HTML body remain.
        assert!(t
            .render("feedback_received", "zh-CN", &vars)
            .unwrap()
            .subject
            .contains("已收到"));
        assert!(t.has_file("goodwill.en.txt") && !t.has_file("README.md"));
        assert!(t
            .list()
            .iter()
            .any(|i| i.name == "goodwill" && i.languages == ["en", "zh-CN"]));
        std::fs::write(dir.join("broken.en.txt"), "{% if %}").unwrap();
        let error = Templates::load(Some(&dir)).err().unwrap().to_string();
        assert!(error.contains("broken.en.txt"), "{error}");
        assert!(matches!(
            Templates::load(Some(&dir.join("missing"))),
            Err(LoadError::Dir { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn text_to_html_makes_paragraphs_breaks_and_links() {
        assert_eq!(
            text_to_html("a\nb & c\n\nsee http://x/y?z=1, ok"),
            "<p>a<br>\nb &amp; c</p>\n<p>see <a href=\"http://x/y?z=1\">http://x/y?z=1</a>, ok</p>"
        );
    }
}
