//! Words for codes: a code's label in the user's language, or — for a code this console does not
//! know yet (a newer service) — the code made readable, never the raw `prefix_code` key.
use chrono::{DateTime, Utc};

use crate::i18n::Lang;

/// The label `prefix` + `code` in `lang`, else the humanised code.
pub fn label(lang: Lang, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}{code}");
    let text = lang.text(&key);
    if text == key {
        humanise(code)
    } else {
        text
    }
}

/// Whether `prefix` + `code` has a label.
pub fn known(lang: Lang, prefix: &str, code: &str) -> bool {
    let key = format!("{prefix}{code}");
    lang.text(&key) != key
}

/// `eight_d_action_added` → `Eight d action added`.
pub fn humanise(code: &str) -> String {
    let words = code.replace(['_', '-', '.'], " ");
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "—".to_owned(),
    }
}

/// `template` with every `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
}

/// `key`'s text in `lang` with its placeholders filled.
pub fn say(lang: Lang, key: &str, values: &[(&str, &str)]) -> String {
    fill(&lang.text(key), values)
}

/// Local date and time in `tz`, as every screen shows it.
pub fn local_in(tz: chrono_tz::Tz, at: &DateTime<Utc>) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A page rendered with the console's templates, as `AppState::render` does (texts, language, token).
#[cfg(test)]
pub(crate) fn rendered(template: &str, lang: Lang, mut context: serde_json::Value) -> String {
    context["t"] = serde_json::json!(crate::i18n::all(lang));
    context["lang"] = serde_json::json!(lang.tag());
    context["csrf"] = serde_json::json!("token");
    crate::startup::templates()
        .get_template(template)
        .unwrap()
        .render(context)
        .unwrap_or_else(|e| panic!("{template}: {e:#}"))
}

/// The text a reader sees: the markup without its tags (attributes hold codes, not words).
#[cfg(test)]
pub(crate) fn visible(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_read_as_words_not_keys() {
        assert_eq!(humanise("eight_d_action_added"), "Eight d action added");
        assert_eq!(humanise(""), "—");
        assert_eq!(label(Lang::En, "action_", "some_new_thing"), "Some new thing");
        assert_eq!(label(Lang::ZhCn, "action_", "note"), Lang::ZhCn.text("action_note"));
        assert!(known(Lang::En, "action_", "note"));
        assert!(!known(Lang::En, "action_", "some_new_thing"));
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("{a} and {b}, {a}", &[("a", "1"), ("b", "2")]), "1 and 2, 1");
    }
}
