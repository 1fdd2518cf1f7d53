//! CSV: one row per figure, `section,key,value`, so a spreadsheet can pivot it.
use super::Report;

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn render(r: &Report) -> String {
    let mut out = String::from("section,key,count\n");
    let mut row = |section: &str, key: &str, value: String| {
        out.push_str(&format!("{},{},{}\n", field(section), field(key), field(&value)));
    };
    row("total", &r.period, r.total.to_string());
    row("previous_total", &r.period, r.previous_total.to_string());
    row("year_earlier_total", &r.period, r.year_earlier_total.to_string());
    for (dimension, values) in &r.breakdown {
        for (key, n) in values {
            row(dimension, key, n.to_string());
        }
    }
    for t in &r.trend {
        row("trend", &t.month, t.count.to_string());
    }
    for p in &r.pareto {
        row("pareto_cumulative_pct", &p.cause, p.cumulative_pct.to_string());
    }
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for c in &r.timeliness {
        row("timeliness_met", &c.clock, c.met.to_string());
        row("timeliness_breached", &c.clock, c.breached.to_string());
        row("timeliness_on_time_pct", &c.clock, opt(c.on_time_pct));
        row("timeliness_median_working_hours", &c.clock, opt(c.median_working_hours));
        row("timeliness_p90_working_hours", &c.clock, opt(c.p90_working_hours));
    }
    for o in &r.overdue {
        row(
            "overdue",
            &o.reference,
            format!("{} {}", o.clock, o.due_at.to_rfc3339()),
        );
    }
    let c = &r.claims;
    row("claims", "count", c.count.to_string());
    row("claims", "approved", c.approved.to_string());
    row("claims", "rejected", c.rejected.to_string());
    row("claims", "pending", c.pending.to_string());
    row("claims", "return_quantity", c.return_quantity.to_string());
    for (currency, amount) in &c.claimed {
        row("claims_claimed", currency, amount.clone());
    }
    for (currency, amount) in &c.approved_amount {
        row("claims_approved_amount", currency, amount.clone());
    }
    for (reason, n) in &c.rejected_by_reason {
        row("claims_rejected_by_reason", reason, n.to_string());
    }
    row("repeats", "repeat_complaints", r.repeats.repeat_complaints.to_string());
    row("repeats", "duplicates_linked", r.repeats.duplicates_linked.to_string());
    row("repeats", "reopened_cases", r.repeats.reopened_cases.to_string());
    for s in &r.staff {
        row("staff_cases", &s.assignee, s.cases.to_string());
        row("staff_breached_clocks", &s.assignee, s.breached_clocks.to_string());
    }
    let v = &r.revisits;
    row("revisits", "due", v.due.to_string());
    row("revisits", "done", v.done.to_string());
    row("revisits", "rate_pct", opt(v.rate_pct));
    row("revisits", "complaint_rate_pct", opt(v.complaint_rate_pct));
    row("revisits", "satisfied_pct", opt(v.satisfied_pct));
    for (score, n) in &v.scores {
        row("revisit_scores", score, n.to_string());
    }
    for d in &v.by_department {
        row(
            "revisit_satisfied_pct_by_department",
            &d.name,
            d.satisfied_pct.to_string(),
        );
    }
    for p in &v.by_person {
        row("revisit_satisfied_pct_by_person", &p.name, p.satisfied_pct.to_string());
    }
    for n in &r.staff_complaints.named {
        row("staff_complaints", &n.staff, n.complaints.to_string());
    }
    for name in &r.staff_complaints.without_complaints {
        row("staff_without_complaints", name, "0".into());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_with_commas_quotes_or_newlines_are_quoted() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("plain"), "plain");
    }
}
