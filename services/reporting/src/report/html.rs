//! The printable report: one self-contained HTML page with inline SVG charts, in Chinese or English.
use crate::charts::{self, escape};

use super::{labels, Report};

fn table(head: &[&str], rows: Vec<Vec<String>>, none: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"none\">{}</p>", escape(none));
    }
    let mut out = String::from("<table><thead><tr>");
    for h in head {
        out.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{}</td>", escape(&cell)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x}%")).unwrap_or_else(|| "—".into())
}

fn num(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "—".into())
}

pub fn render(r: &Report, lang: &str, version: Option<i32>) -> String {
    let l = labels::for_language(lang);
    let html_lang = if lang.starts_with("en") { "en" } else { "zh-CN" };
    let site = r.site.as_deref().unwrap_or(l.all_sites);
    let mut body = format!(
        "<h1>{title}</h1><p>{pl}: <strong>{period}</strong> ({from} – {to}) · {sl}: {site} · {gl}: {generated}{version}</p>",
        title = escape(l.title),
        pl = escape(l.period),
        period = escape(&r.period),
        from = r.from,
        to = r.to.pred_opt().unwrap_or(r.to),
        sl = escape(l.site),
        site = escape(site),
        gl = escape(l.generated),
        generated = r.generated_at.format("%Y-%m-%d %H:%M UTC"),
        version = version
            .map(|v| format!(" · {} {v}", escape(l.version)))
            .unwrap_or_default(),
    );
    body.push_str(&format!("<h2>{}</h2>", escape(l.summary)));
    body.push_str(&table(
        &[l.summary, l.count, l.change],
        vec![
            vec![l.total.into(), r.total.to_string(), String::new()],
            vec![
                l.previous.into(),
                r.previous_total.to_string(),
                pct(r.change_vs_previous_pct),
            ],
            vec![
                l.year_earlier.into(),
                r.year_earlier_total.to_string(),
                pct(r.change_vs_year_earlier_pct),
            ],
        ],
        l.none,
    ));
    let trend: Vec<(String, i64)> = r.trend.iter().map(|t| (t.month.clone(), t.count)).collect();
    body.push_str(&format!(
        "<h2>{}</h2><figure>{}</figure>",
        escape(l.trend),
        charts::line(l.trend, &trend)
    ));
    for (dimension, values) in &r.breakdown {
        let title = format!("{} {}", l.by, labels::dimension(lang, dimension));
        let mut rows: Vec<(String, i64)> = values.iter().map(|(k, v)| (k.clone(), *v)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        body.push_str(&format!("<section class=\"dimension\"><h2>{}</h2>", escape(&title)));
        if rows.is_empty() {
            body.push_str(&format!("<p class=\"none\">{}</p>", escape(l.none)));
        } else {
            body.push_str(&format!("<figure>{}</figure>", charts::bars(&title, &rows)));
        }
        body.push_str("</section>");
    }
    body.push_str(&format!("<h2>{}</h2>", escape(l.pareto)));
    if !r.pareto.is_empty() {
        let rows: Vec<(String, i64, f64)> = r
            .pareto
            .iter()
            .map(|p| (p.cause.clone(), p.count, p.cumulative_pct))
            .collect();
        body.push_str(&format!("<figure>{}</figure>", charts::pareto(l.pareto, &rows)));
    }
    body.push_str(&table(
        &[l.cause, l.count, l.share, l.cumulative],
        r.pareto
            .iter()
            .map(|p| {
                vec![
                    p.cause.clone(),
                    p.count.to_string(),
                    format!("{}%", p.pct),
                    format!("{}%", p.cumulative_pct),
                ]
            })
            .collect(),
        l.none,
    ));
    body.push_str(&format!("<h2>{}</h2>", escape(l.timeliness)));
    body.push_str(&table(
        &[
            l.clock,
            l.met,
            l.breached,
            l.open,
            l.on_time,
            l.median_hours,
            l.p90_hours,
        ],
        r.timeliness
            .iter()
            .map(|c| {
                vec![
                    c.clock.clone(),
                    c.met.to_string(),
                    c.breached.to_string(),
                    c.open.to_string(),
                    pct(c.on_time_pct),
                    num(c.median_working_hours),
                    num(c.p90_working_hours),
                ]
            })
            .collect(),
        l.none,
    ));
    body.push_str(&format!("<h2>{}</h2>", escape(l.overdue)));
    body.push_str(&table(
        &[l.reference, l.clock, l.department, l.due, l.level, l.status],
        r.overdue
            .iter()
            .map(|o| {
                vec![
                    o.reference.clone(),
                    o.clock.clone(),
                    o.department.clone(),
                    o.due_at.format("%Y-%m-%d %H:%M").to_string(),
                    o.level.to_string(),
                    o.status.clone(),
                ]
            })
            .collect(),
        l.none,
    ));
    let c = &r.claims;
    let money = |m: &std::collections::BTreeMap<String, String>| {
        m.iter()
            .map(|(cur, a)| format!("{a} {cur}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    body.push_str(&format!("<h2>{}</h2>", escape(l.claims)));
    let mut claim_rows = vec![
        vec![l.count.into(), c.count.to_string(), money(&c.claimed)],
        vec![l.approved.into(), c.approved.to_string(), money(&c.approved_amount)],
        vec![l.rejected.into(), c.rejected.to_string(), String::new()],
        vec![l.pending.into(), c.pending.to_string(), String::new()],
        vec![l.return_quantity.into(), c.return_quantity.to_string(), String::new()],
    ];
    for (reason, n) in &c.rejected_by_reason {
        claim_rejected_row(&mut claim_rows, l.rejected, reason, *n);
    }
    body.push_str(&table(&[l.claims, l.count, l.claimed], claim_rows, l.none));
    body.push_str(&format!("<h2>{}</h2>", escape(l.repeats)));
    body.push_str(&table(
        &[l.repeats, l.count],
        vec![
            vec![l.repeat_complaints.into(), r.repeats.repeat_complaints.to_string()],
            vec![l.duplicates.into(), r.repeats.duplicates_linked.to_string()],
            vec![l.reopened.into(), r.repeats.reopened_cases.to_string()],
        ],
        l.none,
    ));
    body.push_str(&format!("<h2>{}</h2>", escape(l.staff)));
    body.push_str(&table(
        &[l.assignee, l.cases, l.closed, l.reopened, l.breached_clocks],
        r.staff
            .iter()
            .map(|s| {
                vec![
                    s.assignee.clone(),
                    s.cases.to_string(),
                    s.closed.to_string(),
                    s.reopened.to_string(),
                    s.breached_clocks.to_string(),
                ]
            })
            .collect(),
        l.none,
    ));
    let v = &r.revisits;
    body.push_str(&format!("<h2>{}</h2>", escape(l.revisits)));
    body.push_str(&table(
        &[l.revisits, l.count, l.target],
        vec![
            vec![l.revisit_due.into(), v.due.to_string(), String::new()],
            vec![l.revisit_done.into(), v.done.to_string(), String::new()],
            vec![
                l.revisit_rate.into(),
                pct(v.rate_pct),
                format!("{}%", v.rate_target_pct),
            ],
            vec![
                l.complaint_revisit_rate.into(),
                pct(v.complaint_rate_pct),
                format!("{}%", v.complaint_rate_target_pct),
            ],
            vec![l.satisfied.into(), pct(v.satisfied_pct), String::new()],
        ],
        l.none,
    ));
    if v.done > 0 {
        let scores: Vec<(String, i64)> = v.scores.iter().map(|(k, n)| (k.clone(), *n)).collect();
        body.push_str(&format!("<figure>{}</figure>", charts::bars(l.score, &scores)));
    }
    for (title, rows) in [(l.department, &v.by_department), (l.assignee, &v.by_person)] {
        body.push_str(&table(
            &[title, l.revisit_done, l.satisfied, l.band],
            rows.iter()
                .map(|x| {
                    vec![
                        x.name.clone(),
                        x.revisits.to_string(),
                        format!("{}%", x.satisfied_pct),
                        x.band.clone(),
                    ]
                })
                .collect(),
            l.none,
        ));
    }
    let sc = &r.staff_complaints;
    body.push_str(&format!("<h2>{}</h2>", escape(l.staff_complaints)));
    body.push_str(&table(
        &[l.assignee, l.complaints, l.band],
        sc.named
            .iter()
            .map(|n| {
                vec![
                    n.staff.clone(),
                    n.complaints.to_string(),
                    n.band.map(|b| format!("≥ {b}")).unwrap_or_default(),
                ]
            })
            .collect(),
        l.none,
    ));
    if !sc.without_complaints.is_empty() {
        body.push_str(&format!(
            "<p>{}: {}</p>",
            escape(l.without_complaints),
            escape(&sc.without_complaints.join(", "))
        ));
    }
    format!(
        "<!doctype html><html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} {period}</title>\
         <style>body{{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:60em;margin:1.5em auto;\
         padding:0 1em;color:#222}}h1{{font-size:1.5em}}h2{{font-size:1.15em;border-bottom:1px solid #bbb;\
         margin-top:1.6em}}table{{border-collapse:collapse;margin:.5em 0}}th,td{{border:1px solid #ccc;\
         padding:.25em .6em;text-align:left}}figure{{margin:.5em 0}}.none{{color:#777}}\
         @media print{{section,table,figure{{page-break-inside:avoid}}}}</style></head><body>{body}</body></html>",
        title = escape(l.title),
        period = escape(&r.period),
    )
}

fn claim_rejected_row(rows: &mut Vec<Vec<String>>, label: &str, reason: &str, n: i64) {
    rows.push(vec![format!("{label}: {reason}"), n.to_string(), String::new()]);
}
