//! Reporting periods (the `period` of reports and of `report.due`): `2026-11` (monthly), `2026-Q3`
//! (quarterly), `2026-H2` (half-yearly), `2026` (annual), as `[start, end)` dates; and the periods they are
//! compared with.
use chrono::{Datelike, NaiveDate};

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A calendar month.
    Monthly,
    /// January–March, April–June, …
    Quarterly,
    /// January–June or July–December.
    HalfYearly,
    /// A calendar year.
    Annual,
}

impl Kind {
    /// Every kind, shortest first.
    pub const ALL: [Kind; 4] = [Kind::Monthly, Kind::Quarterly, Kind::HalfYearly, Kind::Annual];

    /// The name in URLs and events: `monthly`, `quarterly`, `half-yearly`, `annual`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Monthly => "monthly",
            Kind::Quarterly => "quarterly",
            Kind::HalfYearly => "half-yearly",
            Kind::Annual => "annual",
        }
    }

    /// The kind named `s` (see [`Kind::name`]).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "monthly" => Kind::Monthly,
            "quarterly" => Kind::Quarterly,
            "half-yearly" => Kind::HalfYearly,
            "annual" => Kind::Annual,
            _ => return None,
        })
    }

    fn months(self) -> u32 {
        match self {
            Kind::Monthly => 1,
            Kind::Quarterly => 3,
            Kind::HalfYearly => 6,
            Kind::Annual => 12,
        }
    }
}

/// One period: its kind and first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// How long it is.
    pub kind: Kind,
    /// Its first day.
    pub start: NaiveDate,
}

impl Period {
    /// The period labelled `s` (`2026-11`, `2026-Q4`, `2026-H2`, `2026`), if it is one of this kind.
    pub fn parse(kind: Kind, s: &str) -> Option<Self> {
        let s = s.trim();
        let (year, rest) = s.split_at(s.find('-').unwrap_or(s.len()));
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        let rest = rest.trim_start_matches('-');
        let month = match (kind, rest) {
            (Kind::Monthly, m) => m.parse::<u32>().ok().filter(|m| (1..=12).contains(m))?,
            (Kind::Quarterly, q) => {
                3 * (q
                    .strip_prefix(['Q', 'q'])?
                    .parse::<u32>()
                    .ok()
                    .filter(|q| (1..=4).contains(q))?
                    - 1)
                    + 1
            }
            (Kind::HalfYearly, h) => {
                6 * (h
                    .strip_prefix(['H', 'h'])?
                    .parse::<u32>()
                    .ok()
                    .filter(|h| (1..=2).contains(h))?
                    - 1)
                    + 1
            }
            (Kind::Annual, "") => 1,
            _ => return None,
        };
        Some(Self {
            kind,
            start: NaiveDate::from_ymd_opt(year, month, 1)?,
        })
    }

    /// The period containing `day`.
    /// The period of this kind that contains `day`.
    pub fn containing(kind: Kind, day: NaiveDate) -> Self {
        let m = kind.months();
        let month = (day.month() - 1) / m * m + 1;
        Self {
            kind,
            start: NaiveDate::from_ymd_opt(day.year(), month, 1).expect("valid first of month"),
        }
    }

    /// The first day after it.
    pub fn end(&self) -> NaiveDate {
        self.start + chrono::Months::new(self.kind.months())
    }

    /// The period just before.
    pub fn previous(&self) -> Self {
        Self {
            kind: self.kind,
            start: self.start - chrono::Months::new(self.kind.months()),
        }
    }

    /// The same period a year earlier.
    pub fn a_year_earlier(&self) -> Self {
        Self {
            kind: self.kind,
            start: self.start - chrono::Months::new(12),
        }
    }

    /// Its label, as [`Period::parse`] reads it.
    pub fn label(&self) -> String {
        let y = self.start.year();
        match self.kind {
            Kind::Monthly => format!("{y}-{:02}", self.start.month()),
            Kind::Quarterly => format!("{y}-Q{}", (self.start.month() - 1) / 3 + 1),
            Kind::HalfYearly => format!("{y}-H{}", (self.start.month() - 1) / 6 + 1),
            Kind::Annual => format!("{y}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_parse_with_their_bounds_and_comparisons() {
        let m = Period::parse(Kind::Monthly, "2026-01").unwrap();
        assert_eq!((m.start, m.end()), (d(2026, 1, 1), d(2026, 2, 1)));
        assert_eq!(m.previous().label(), "2025-12");
        assert_eq!(m.a_year_earlier().label(), "2025-01");
        let q = Period::parse(Kind::Quarterly, "2026-Q4").unwrap();
        assert_eq!((q.start, q.end()), (d(2026, 10, 1), d(2027, 1, 1)));
        assert_eq!(Period::parse(Kind::HalfYearly, "2026-H2").unwrap().start, d(2026, 7, 1));
        assert_eq!(Period::parse(Kind::Annual, "2026").unwrap().end(), d(2027, 1, 1));
        for bad in ["2026-13", "2026-Q5", "26-01", "2026-H3", "nonsense", "", "2026-00"] {
            assert!(Period::parse(Kind::Monthly, bad).is_none(), "{bad}");
        }
        assert!(Period::parse(Kind::Quarterly, "2026-13").is_none());
        assert_eq!(Period::containing(Kind::Quarterly, d(2026, 11, 23)).label(), "2026-Q4");
    }
}
