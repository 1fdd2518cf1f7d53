//! Server-rendered SVG charts (no script, print well, readable in Chinese and English): horizontal bars, a trend
//! line, and a Pareto (bars with the cumulative share as a line on a 0–100 % axis). Every label is escaped.

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The length of a bar of `value` when `max` fills `width` (at least 1 px for any non-zero value).
pub fn scale(value: f64, max: f64, width: f64) -> f64 {
    if max <= 0.0 || value <= 0.0 {
        return 0.0;
    }
    (value / max * width).max(1.0)
}

const FONT: &str = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei',sans-serif\" font-size=\"12\"";

/// Horizontal bars, one per (label, value), biggest scale first as given.
pub fn bars(title: &str, rows: &[(String, i64)]) -> String {
    let label_w = 160.0;
    let bar_w = 360.0;
    let row_h = 22.0;
    let height = 30.0 + row_h * rows.len() as f64;
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" width=\"{w}\" height=\"{height}\" {FONT}>\
         <title>{t}</title>",
        t = escape(title),
        w = label_w + bar_w + 60.0
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 24.0 + row_h * i as f64;
        let len = scale(*value as f64, max, bar_w);
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{len:.1}\" height=\"16\" fill=\"#3b6ea5\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\">{value}</text>",
            lx = label_w - 6.0,
            ty = y + 12.0,
            label = escape(label),
            vx = label_w + len + 4.0,
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A line over (label, value) points, e.g. cases per month.
pub fn line(title: &str, points: &[(String, i64)]) -> String {
    let (w, h, left, bottom) = (560.0, 200.0, 40.0, 30.0);
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let step = if points.len() > 1 {
        (w - left - 10.0) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            (
                left + step * i as f64,
                h - bottom - (*v as f64 / max) * (h - bottom - 20.0),
            )
        })
        .collect();
    let path: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" width=\"{w}\" height=\"{h}\" {FONT}>\
         <title>{t}</title><line x1=\"{left}\" y1=\"{base}\" x2=\"{w}\" y2=\"{base}\" stroke=\"#999\"/>\
         <text x=\"4\" y=\"20\">{max}</text><text x=\"4\" y=\"{base}\">0</text>\
         <polyline fill=\"none\" stroke=\"#3b6ea5\" stroke-width=\"2\" points=\"{points}\"/>",
        t = escape(title),
        base = h - bottom,
        points = path.join(" "),
    );
    for ((label, value), (x, y)) in points.iter().zip(&xy) {
        svg.push_str(&format!(
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#3b6ea5\"><title>{l}: {value}</title></circle>\
             <text x=\"{x:.1}\" y=\"{ly}\" text-anchor=\"middle\" font-size=\"9\">{short}</text>",
            l = escape(label),
            ly = h - 12.0,
            short = escape(label.get(5..).unwrap_or(label)),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Pareto: vertical bars by count, the cumulative percentage as a line on the right-hand 0–100 % axis.
pub fn pareto(title: &str, rows: &[(String, i64, f64)]) -> String {
    let (w, h, left, bottom) = (560.0, 240.0, 40.0, 50.0);
    let max = rows.iter().map(|(_, v, _)| *v).max().unwrap_or(0) as f64;
    let slot = if rows.is_empty() {
        0.0
    } else {
        (w - left - 40.0) / rows.len() as f64
    };
    let plot_h = h - bottom - 20.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" width=\"{w}\" height=\"{h}\" {FONT}>\
         <title>{t}</title><line x1=\"{left}\" y1=\"{base}\" x2=\"{r}\" y2=\"{base}\" stroke=\"#999\"/>\
         <text x=\"{rt}\" y=\"20\">100%</text>",
        t = escape(title),
        base = h - bottom,
        r = w - 40.0,
        rt = w - 36.0,
    );
    let mut line = Vec::new();
    for (i, (label, count, cumulative)) in rows.iter().enumerate() {
        let x = left + slot * i as f64;
        let bar_h = scale(*count as f64, max, plot_h);
        let cx = x + slot / 2.0;
        line.push(format!("{cx:.1},{:.1}", h - bottom - cumulative / 100.0 * plot_h));
        svg.push_str(&format!(
            "<rect x=\"{bx:.1}\" y=\"{by:.1}\" width=\"{bw:.1}\" height=\"{bar_h:.1}\" fill=\"#3b6ea5\">\
             <title>{l}: {count}</title></rect>\
             <text x=\"{cx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{l}</text>",
            bx = x + slot * 0.1,
            by = h - bottom - bar_h,
            bw = slot * 0.8,
            l = escape(label),
            ty = h - bottom + 16.0,
        ));
    }
    svg.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#c0504d\" stroke-width=\"2\" points=\"{}\"/></svg>",
        line.join(" ")
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_keep_small_ones_visible() {
        assert_eq!(scale(50.0, 100.0, 360.0), 180.0);
        assert_eq!(scale(100.0, 100.0, 360.0), 360.0);
        assert_eq!(scale(0.001, 100.0, 360.0), 1.0);
        assert_eq!(scale(0.0, 100.0, 360.0), 0.0);
        assert_eq!(scale(5.0, 0.0, 360.0), 0.0);
    }

    #[test]
    fn labels_are_escaped_and_every_value_is_drawn() {
        let svg = bars("类别 <x>", &[("质量<script>".into(), 3), ("物流".into(), 1)]);
        assert!(svg.contains("质量&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("width=\"360.0\""), "the largest bar fills the width");
        let p = pareto("P", &[("a".into(), 3, 60.0), ("b".into(), 2, 100.0)]);
        assert!(p.contains("<polyline"));
        let l = line("T", &[("2026-01".into(), 0), ("2026-02".into(), 4)]);
        assert_eq!(l.matches("<circle").count(), 2);
    }
}
