//! Message texts: one file per template and language under `templates/` (`<template>.<lang>.txt`,
//! first line the subject, a blank line, then the body), rendered with minijinja.
use minijinja::Environment;
use serde::Serialize;

pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Every template file, embedded so the binary needs no files at run time.
const FILES: &[(&str, &str)] = &[
    (
        "case_opened.zh-CN.txt",
        include_str!("../../templates/case_opened.zh-CN.txt"),
    ),
    ("case_opened.en.txt", include_str!("../../templates/case_opened.en.txt")),
    (
        "feedback_received.zh-CN.txt",
        include_str!("../../templates/feedback_received.zh-CN.txt"),
    ),
    (
        "feedback_received.en.txt",
        include_str!("../../templates/feedback_received.en.txt"),
    ),
    (
        "case_reply.zh-CN.txt",
        include_str!("../../templates/case_reply.zh-CN.txt"),
    ),
    ("case_reply.en.txt", include_str!("../../templates/case_reply.en.txt")),
];

pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

pub struct Templates {
    env: Environment<'static>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template `{0}`")]
    Unknown(String),
    #[error("template `{name}`: {source}")]
    Render { name: String, source: minijinja::Error },
}

impl Templates {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        for (name, text) in FILES {
            env.add_template(name, text)?;
        }
        Ok(Self { env })
    }

    /// Renders `template` in `language` (zh-CN when the language has no file of its own).
    pub fn render(&self, template: &str, language: &str, vars: impl Serialize) -> Result<Rendered, TemplateError> {
        let lang = if language.starts_with("en") { "en" } else { "zh-CN" };
        let name = format!("{template}.{lang}.txt");
        let t = self
            .env
            .get_template(&name)
            .map_err(|_| TemplateError::Unknown(name.clone()))?;
        let text = t
            .render(vars)
            .map_err(|source| TemplateError::Render { name, source })?;
        let (subject, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
        Ok(Rendered {
            subject: subject.trim().to_owned(),
            body: body.trim_start().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_renders_in_both_languages_with_the_reference_in_the_subject() {
        let t = Templates::new().unwrap();
        let vars = json!({"reference": "SH01-20261123-0001", "name": "张三", "status_url": "http://x/s",
            "text": "已安排换货", "subject": "包装破损", "department_name": "质量部", "class": "complaint",
            "category": "product_quality", "severity": "important", "channel": "phone",
            "received_at": "2026-11-23T10:00:00+08:00", "summary": "包装破损"});
        for template in ["case_opened", "feedback_received", "case_reply"] {
            for lang in LANGUAGES {
                let r = t.render(template, lang, &vars).unwrap();
                assert!(
                    r.subject.starts_with("[SH01-20261123-0001]"),
                    "{template}.{lang}: {}",
                    r.subject
                );
                assert!(!r.body.is_empty());
            }
        }
        let zh = t.render("feedback_received", "zh-CN", &vars).unwrap();
        assert!(zh.subject.contains("已收到") && zh.body.contains("http://x/s") && zh.body.contains("张三"));
        let en = t.render("case_reply", "en-GB", &vars).unwrap();
        assert!(en.body.contains("已安排换货") && en.body.starts_with("Dear 张三"));
        assert!(matches!(t.render("nope", "en", &vars), Err(TemplateError::Unknown(_))));
    }
}
