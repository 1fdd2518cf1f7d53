//! Bar charts as inline SVG, rendered on the server: no JavaScript, printable, and readable by
//! screen readers through the `<title>` and the table each chart sits beside.

/// Horizontal bars, one per `(label, value)`, scaled so the largest fills `width` minus the label
/// column; values are written at the end of each bar.
pub fn bars(title: &str, items: &[(String, f64)]) -> String {
    const WIDTH: f64 = 560.0;
    const LABEL: f64 = 170.0;
    const VALUE: f64 = 60.0;
    const ROW: f64 = 26.0;
    const BAR: f64 = 18.0;
    let max = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let height = ROW * items.len().max(1) as f64 + 4.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        escape(title)
    );
    for (i, (label, value)) in items.iter().enumerate() {
        let y = i as f64 * ROW + 2.0;
        let len = scaled(*value, max, WIDTH - LABEL - VALUE);
        svg.push_str(&format!(
            r#"<text x="{lx}" y="{ty}" text-anchor="end" class="chart-label">{label}</text><rect x="{LABEL}" y="{y}" width="{len:.1}" height="{BAR}" class="chart-bar"/><text x="{vx:.1}" y="{ty}" class="chart-value">{value}</text>"#,
            lx = LABEL - 6.0,
            ty = y + BAR - 4.0,
            label = escape(label),
            vx = LABEL + len + 6.0,
            value = format_number(*value),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The length of a bar of `value` when `max` fills `full`; zero for nothing to show.
pub fn scaled(value: f64, max: f64, full: f64) -> f64 {
    if max <= 0.0 || value <= 0.0 || !value.is_finite() {
        0.0
    } else {
        (value / max * full).min(full)
    }
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        assert_eq!(scaled(10.0, 10.0, 300.0), 300.0);
        assert_eq!(scaled(5.0, 10.0, 300.0), 150.0);
        assert_eq!(scaled(0.0, 10.0, 300.0), 0.0);
        assert_eq!(scaled(3.0, 0.0, 300.0), 0.0);
        assert_eq!(scaled(f64::NAN, 1.0, 300.0), 0.0);
    }

    #[test]
    fn the_svg_has_a_bar_per_item_and_escapes_labels() {
        let svg = bars("By <channel>", &[("phone".into(), 4.0), ("a&b".into(), 2.0)]);
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("<title>By &lt;channel&gt;</title>"));
        assert!(svg.contains(">a&amp;b<"));
        // The largest bar fills the bar area (560 - 170 - 60), the other half of it.
        assert!(svg.contains(r#"width="330.0""#));
        assert!(svg.contains(r#"width="165.0""#));
        assert!(bars("empty", &[]).starts_with("<svg"));
    }
}
