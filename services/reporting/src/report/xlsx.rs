//! Excel: one sheet per section (summary, each breakdown dimension, trend, Pareto, timeliness, overdue, claims,
//! repeats, staff), with a column chart for the categories and a line for the trend.
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

use super::{labels, Report};

fn header(ws: &mut Worksheet, bold: &Format, titles: &[&str]) -> Result<(), XlsxError> {
    for (i, t) in titles.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *t, bold)?;
        ws.set_column_width(i as u16, if i == 0 { 28 } else { 16 })?;
    }
    Ok(())
}

fn opt(ws: &mut Worksheet, row: u32, col: u16, v: Option<f64>) -> Result<(), XlsxError> {
    if let Some(x) = v {
        ws.write_number(row, col, x)?;
    }
    Ok(())
}

/// Excel sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(s: &str) -> String {
    s.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect()
}

pub fn render(r: &Report, lang: &str) -> Result<Vec<u8>, XlsxError> {
    let l = labels::for_language(lang);
    let bold = Format::new().set_bold();
    let mut wb = Workbook::new();

    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.summary))?;
    header(ws, &bold, &[l.summary, l.count, l.change])?;
    ws.write_string(1, 0, format!("{}: {}", l.period, r.period))?;
    ws.write_string(
        2,
        0,
        format!("{}: {}", l.site, r.site.as_deref().unwrap_or(l.all_sites)),
    )?;
    ws.write_string(3, 0, l.total)?;
    ws.write_number(3, 1, r.total as f64)?;
    ws.write_string(4, 0, l.previous)?;
    ws.write_number(4, 1, r.previous_total as f64)?;
    opt(ws, 4, 2, r.change_vs_previous_pct)?;
    ws.write_string(5, 0, l.year_earlier)?;
    ws.write_number(5, 1, r.year_earlier_total as f64)?;
    opt(ws, 5, 2, r.change_vs_year_earlier_pct)?;

    for (dimension, values) in &r.breakdown {
        let title = labels::dimension(lang, dimension);
        let name = sheet_name(&format!("{} {}", l.by, title));
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        header(ws, &bold, &[&title, l.count])?;
        for (i, (k, n)) in values.iter().enumerate() {
            ws.write_string(i as u32 + 1, 0, k)?;
            ws.write_number(i as u32 + 1, 1, *n as f64)?;
        }
        if dimension == "category" && !values.is_empty() {
            let mut chart = Chart::new(ChartType::Column);
            chart
                .add_series()
                .set_categories((name.as_str(), 1, 0, values.len() as u32, 0))
                .set_values((name.as_str(), 1, 1, values.len() as u32, 1))
                .set_name(title.as_str());
            ws.insert_chart(1, 3, &chart)?;
        }
    }

    let ws = wb.add_worksheet();
    let name = sheet_name(l.trend);
    ws.set_name(&name)?;
    header(ws, &bold, &[l.period, l.count])?;
    for (i, t) in r.trend.iter().enumerate() {
        ws.write_string(i as u32 + 1, 0, &t.month)?;
        ws.write_number(i as u32 + 1, 1, t.count as f64)?;
    }
    let mut chart = Chart::new(ChartType::Line);
    chart
        .add_series()
        .set_categories((name.as_str(), 1, 0, r.trend.len() as u32, 0))
        .set_values((name.as_str(), 1, 1, r.trend.len() as u32, 1))
        .set_name(l.count);
    ws.insert_chart(1, 3, &chart)?;

    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.pareto))?;
    header(ws, &bold, &[l.cause, l.count, l.share, l.cumulative])?;
    for (i, p) in r.pareto.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &p.cause)?;
        ws.write_number(row, 1, p.count as f64)?;
        ws.write_number(row, 2, p.pct)?;
        ws.write_number(row, 3, p.cumulative_pct)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.timeliness))?;
    header(
        ws,
        &bold,
        &[
            l.clock,
            l.met,
            l.breached,
            l.open,
            l.on_time,
            l.median_hours,
            l.p90_hours,
        ],
    )?;
    for (i, c) in r.timeliness.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &c.clock)?;
        ws.write_number(row, 1, c.met as f64)?;
        ws.write_number(row, 2, c.breached as f64)?;
        ws.write_number(row, 3, c.open as f64)?;
        opt(ws, row, 4, c.on_time_pct)?;
        opt(ws, row, 5, c.median_working_hours)?;
        opt(ws, row, 6, c.p90_working_hours)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.overdue))?;
    header(
        ws,
        &bold,
        &[l.reference, l.clock, l.department, l.due, l.level, l.status],
    )?;
    for (i, o) in r.overdue.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &o.reference)?;
        ws.write_string(row, 1, &o.clock)?;
        ws.write_string(row, 2, &o.department)?;
        ws.write_string(row, 3, o.due_at.to_rfc3339())?;
        ws.write_number(row, 4, o.level)?;
        ws.write_string(row, 5, &o.status)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.claims))?;
    header(ws, &bold, &[l.claims, l.count])?;
    let c = &r.claims;
    let mut row = 1;
    for (label, n) in [
        (l.count, c.count),
        (l.approved, c.approved),
        (l.rejected, c.rejected),
        (l.pending, c.pending),
        (l.return_quantity, c.return_quantity),
    ] {
        ws.write_string(row, 0, label)?;
        ws.write_number(row, 1, n as f64)?;
        row += 1;
    }
    for (prefix, map) in [(l.claimed, &c.claimed), (l.approved, &c.approved_amount)] {
        for (currency, amount) in map {
            ws.write_string(row, 0, format!("{prefix} ({currency})"))?;
            ws.write_number(row, 1, amount.parse::<f64>().unwrap_or(0.0))?;
            row += 1;
        }
    }
    for (reason, n) in &c.rejected_by_reason {
        ws.write_string(row, 0, format!("{}: {reason}", l.rejected))?;
        ws.write_number(row, 1, *n as f64)?;
        row += 1;
    }

    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.repeats))?;
    header(ws, &bold, &[l.repeats, l.count])?;
    for (i, (label, n)) in [
        (l.repeat_complaints, r.repeats.repeat_complaints),
        (l.duplicates, r.repeats.duplicates_linked),
        (l.reopened, r.repeats.reopened_cases),
    ]
    .into_iter()
    .enumerate()
    {
        ws.write_string(i as u32 + 1, 0, label)?;
        ws.write_number(i as u32 + 1, 1, n as f64)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.staff))?;
    header(
        ws,
        &bold,
        &[l.assignee, l.cases, l.closed, l.reopened, l.breached_clocks],
    )?;
    for (i, s) in r.staff.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &s.assignee)?;
        ws.write_number(row, 1, s.cases as f64)?;
        ws.write_number(row, 2, s.closed as f64)?;
        ws.write_number(row, 3, s.reopened as f64)?;
        ws.write_number(row, 4, s.breached_clocks as f64)?;
    }
    let v = &r.revisits;
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.revisits))?;
    header(ws, &bold, &[l.revisits, l.count, l.target])?;
    ws.write_string(1, 0, l.revisit_due)?;
    ws.write_number(1, 1, v.due as f64)?;
    ws.write_string(2, 0, l.revisit_done)?;
    ws.write_number(2, 1, v.done as f64)?;
    ws.write_string(3, 0, l.revisit_rate)?;
    opt(ws, 3, 1, v.rate_pct)?;
    ws.write_number(3, 2, v.rate_target_pct)?;
    ws.write_string(4, 0, l.complaint_revisit_rate)?;
    opt(ws, 4, 1, v.complaint_rate_pct)?;
    ws.write_number(4, 2, v.complaint_rate_target_pct)?;
    ws.write_string(5, 0, l.satisfied)?;
    opt(ws, 5, 1, v.satisfied_pct)?;
    let mut row = 7;
    for (score, n) in &v.scores {
        ws.write_string(row, 0, format!("{} {score}", l.score))?;
        ws.write_number(row, 1, *n as f64)?;
        row += 1;
    }
    row += 1;
    for x in v.by_department.iter().chain(&v.by_person) {
        ws.write_string(row, 0, &x.name)?;
        ws.write_number(row, 1, x.revisits as f64)?;
        ws.write_number(row, 2, x.satisfied_pct)?;
        ws.write_string(row, 3, &x.band)?;
        row += 1;
    }
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(l.staff_complaints))?;
    header(ws, &bold, &[l.assignee, l.complaints, l.band])?;
    let mut row = 1;
    for n in &r.staff_complaints.named {
        ws.write_string(row, 0, &n.staff)?;
        ws.write_number(row, 1, n.complaints as f64)?;
        if let Some(b) = n.band {
            ws.write_number(row, 2, b as f64)?;
        }
        row += 1;
    }
    for name in &r.staff_complaints.without_complaints {
        ws.write_string(row, 0, name)?;
        ws.write_number(row, 1, 0)?;
        ws.write_string(row, 2, l.without_complaints)?;
        row += 1;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sheet_names_drop_forbidden_characters_and_fit_excels_limit() {
        assert_eq!(super::sheet_name("By a/b:c"), "By abc");
        assert_eq!(super::sheet_name(&"x".repeat(40)).len(), 31);
    }
}
