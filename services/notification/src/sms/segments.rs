//! How many SMS parts a text costs, and cutting a text to a budget: GSM-7 when every character is in
//! the GSM 03.38 alphabet (160 septets alone, 153 per part when concatenated; extension characters
//! such as `€ [ ] { }` take two), otherwise UCS-2 (70 alone, 67 per part; characters outside the BMP
//! take two units) — Chinese text is always UCS-2.

/// GSM 03.38 default alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Extension table (escape + character: two septets each).
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{c}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or 16-bit units (UCS-2).
    pub units: usize,
    pub parts: usize,
}

fn gsm_units(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// (single-part limit, per-part limit when concatenated) in units.
fn limits(encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    }
}

fn units_of(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => gsm_units(c).unwrap_or(2),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(|c| gsm_units(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

pub fn count(text: &str) -> Segments {
    let encoding = encoding(text);
    let units: usize = text.chars().map(|c| units_of(c, encoding)).sum();
    let (single, multi) = limits(encoding);
    let parts = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        // A character never straddles two parts (an escape pair or a surrogate pair stays whole).
        let mut parts = 1;
        let mut used = 0;
        for c in text.chars() {
            let u = units_of(c, encoding);
            if used + u > multi {
                parts += 1;
                used = 0;
            }
            used += u;
        }
        parts
    };
    Segments { encoding, units, parts }
}

/// `text` cut (with `…`) so that it fits in `max_parts` parts; unchanged when it already does.
pub fn truncate(text: &str, max_parts: usize) -> String {
    if count(text).parts <= max_parts.max(1) {
        return text.to_owned();
    }
    // `…` is not in the GSM alphabet: it would turn a GSM-7 text into a (shorter) UCS-2 one.
    let ellipsis = if encoding(text) == Encoding::Gsm7 { "..." } else { "…" };
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>() + ellipsis;
        if count(&candidate).parts <= max_parts.max(1) {
            return candidate;
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_texts_fit_160_alone_and_153_per_part() {
        assert_eq!(count(&"a".repeat(160)).parts, 1);
        assert_eq!(count(&"a".repeat(161)).parts, 2);
        assert_eq!(count(&"a".repeat(306)).parts, 2);
        assert_eq!(count(&"a".repeat(307)).parts, 3);
        assert_eq!(
            count("Case SH01-20261123-0001: we received it.").encoding,
            Encoding::Gsm7
        );
        // Extension characters take two septets.
        let s = count(&"€".repeat(80));
        assert_eq!((s.encoding, s.units, s.parts), (Encoding::Gsm7, 160, 1));
        assert_eq!(count(&"€".repeat(81)).parts, 2);
        // An escape pair is never split: 152 plain + `€` does not fit 153, so it starts part two.
        assert_eq!(count(&format!("{}€{}", "a".repeat(152), "a".repeat(10))).parts, 2);
    }

    #[test]
    fn chinese_is_ucs2_at_70_alone_and_67_per_part() {
        let s = count(&"您".repeat(70));
        assert_eq!((s.encoding, s.units, s.parts), (Encoding::Ucs2, 70, 1));
        assert_eq!(count(&"您".repeat(71)).parts, 2);
        assert_eq!(count(&"您".repeat(134)).parts, 2);
        assert_eq!(count(&"您".repeat(135)).parts, 3);
        // One non-GSM character makes the whole message UCS-2.
        assert_eq!(count(&format!("{}您", "a".repeat(100))).parts, 2);
        // Outside the BMP: two units each.
        assert_eq!(count(&"😀".repeat(35)).units, 70);
        assert_eq!(count("").parts, 0);
    }

    #[test]
    fn truncation_fits_the_budget_with_an_ellipsis() {
        let long = "您的反馈已受理。".repeat(30);
        let cut = truncate(&long, 2);
        assert_eq!(count(&cut).parts, 2);
        assert!(cut.ends_with('…') && cut.chars().count() == 134);
        assert_eq!(truncate("short", 1), "short");
        let gsm = truncate(&"a".repeat(400), 1);
        assert_eq!((gsm.len(), count(&gsm).encoding), (160, Encoding::Gsm7));
        assert!(gsm.ends_with("..."));
    }
}
