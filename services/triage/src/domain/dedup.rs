//! Is new feedback the same problem as an open case? (domain.md §2; 003 篇6 §1.12). Pure.
use std::collections::HashSet;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct DedupSettings {
    pub window_days: i64,
    pub text_similarity: f64,
}

/// What is compared: the customer key is matched by the query; these decide among candidates.
#[derive(Debug, Clone, Default)]
pub struct Report<'a> {
    pub product_batch: Option<(&'a str, &'a str)>,
    pub order_number: Option<&'a str>,
    pub text: &'a str,
}

/// The reason the new report duplicates `existing`, or `None`.
pub fn same_problem(settings: &DedupSettings, new: &Report<'_>, existing: &Report<'_>) -> Option<String> {
    if let (Some(a), Some(b)) = (new.product_batch, existing.product_batch) {
        if eq(a.0, b.0) && eq(a.1, b.1) {
            return Some(format!("same customer, product {} batch {}", a.0, a.1));
        }
    }
    if let (Some(a), Some(b)) = (new.order_number, existing.order_number) {
        if eq(a, b) {
            return Some(format!("same customer, order {a}"));
        }
    }
    // Another batch (or order) named on both is another problem, however alike the words (a customer often
    // writes the same sentence about each bad batch).
    let differs = |a: Option<(&str, &str)>, b: Option<(&str, &str)>| {
        a.zip(b).is_some_and(|(a, b)| !(eq(a.0, b.0) && eq(a.1, b.1)))
    };
    let other_order = new
        .order_number
        .zip(existing.order_number)
        .is_some_and(|(a, b)| !eq(a, b));
    if differs(new.product_batch, existing.product_batch) || other_order {
        return None;
    }
    let similarity = text_similarity(new.text, existing.text);
    (similarity >= settings.text_similarity).then(|| format!("same customer, text {:.0}% alike", similarity * 100.0))
}

fn eq(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Dice coefficient over character bigrams of the text without spaces and punctuation: works for
/// Chinese (no word boundaries) and English alike.
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let grams = |s: &str| -> HashSet<(char, char)> {
        let chars: Vec<char> = s
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (x, y) = (grams(a), grams(b));
    if x.is_empty() || y.is_empty() {
        return if a.trim() == b.trim() && !a.trim().is_empty() {
            1.0
        } else {
            0.0
        };
    }
    2.0 * x.intersection(&y).count() as f64 / (x.len() + y.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: DedupSettings = DedupSettings {
        window_days: 30,
        text_similarity: 0.8,
    };

    #[test]
    fn same_batch_or_order_is_the_same_problem() {
        let a = Report {
            product_batch: Some(("P-1", "B-9")),
            text: "包装破损",
            ..Default::default()
        };
        let b = Report {
            product_batch: Some(("p-1", " B-9 ")),
            text: "完全不同的描述",
            ..Default::default()
        };
        assert!(same_problem(&S, &a, &b).unwrap().contains("batch"));
        let c = Report {
            order_number: Some("SO-1"),
            text: "x",
            ..Default::default()
        };
        assert!(same_problem(&S, &c, &c.clone()).unwrap().contains("order"));
        let other_batch = Report {
            product_batch: Some(("P-1", "B-10")),
            text: "完全不同的描述",
            ..Default::default()
        };
        assert_eq!(same_problem(&S, &a, &other_batch), None);
        let same_words_other_batch = Report {
            text: "包装破损",
            ..other_batch.clone()
        };
        assert_eq!(same_problem(&S, &a, &same_words_other_batch), None);
        let same_words_other_order = Report {
            order_number: Some("SO-2"),
            ..c.clone()
        };
        assert_eq!(same_problem(&S, &c, &same_words_other_order), None);
        let same_words_no_batch = Report {
            product_batch: None,
            ..a.clone()
        };
        assert!(same_problem(&S, &same_words_no_batch, &a).unwrap().contains("text"));
    }

    #[test]
    fn near_identical_text_in_chinese_and_english() {
        assert!(text_similarity("收到的产品包装破损，有质量缺陷。", "收到的产品包装破损,有质量缺陷!") > 0.95);
        assert!(text_similarity("The box arrived broken and wet", "the box arrived broken and wet.") > 0.95);
        assert!(text_similarity("包装破损", "发票丢失") < 0.2);
    }
}
