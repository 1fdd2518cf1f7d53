//! When periodic reports fall due (domain.md §6: the monthly report by the 10th of the next month, quarterly
//! reports in April, July and October, the annual one in January) and the timer that says so: `report.due`,
//! once per (kind, period, scope), written with its `report_timers` row in one transaction.
use std::time::Duration;

use calendar::period::{Kind, Period};
use calendar::Tz;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use contracts::{report::ReportDueV1, Envelope};
use messaging::OutboxSignal;
use serde::Deserialize;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Clone, Deserialize)]
pub struct ReportSchedule {
    pub enabled: bool,
    /// Local time zone of the due times.
    pub time_zone: String,
    /// How often to check.
    pub poll_seconds: u64,
    /// A report due longer ago than this when the scheduler first sees it (e.g. on a new installation) is not
    /// announced any more.
    pub catch_up_days: i64,
    /// The routing-key site of all-sites reports (reporting's instance for the head office issues them).
    pub all_sites_key: String,
    /// Also one report per site (besides the all-sites one).
    pub per_site: bool,
    pub kinds: Vec<ReportKindSchedule>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReportKindSchedule {
    /// monthly, quarterly, half-yearly or annual
    pub kind: String,
    /// Day of the month after the period ends on which the report is due (1 = the first).
    pub due_day: u32,
    /// Local time of day, HH:MM.
    pub due_time: String,
}

/// The due time of `period` under `rule`, in UTC.
pub fn due_at(rule: &ReportKindSchedule, tz: Tz, period: &Period) -> Option<DateTime<Utc>> {
    let day = period.end() + chrono::Days::new(u64::from(rule.due_day.max(1) - 1));
    let time = NaiveTime::parse_from_str(&rule.due_time, "%H:%M").ok()?;
    tz.from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The most recent period of `kind` whose report is due at or before `now`, with its due time.
pub fn latest_due(rule: &ReportKindSchedule, tz: Tz, now: DateTime<Utc>) -> Option<(Period, DateTime<Utc>)> {
    let kind = Kind::parse(&rule.kind)?;
    let today = now.with_timezone(&tz).date_naive();
    let mut period = Period::containing(kind, today).previous();
    // At most two steps back: the previous period is due after it ends, or the one before it is.
    for _ in 0..3 {
        let due = due_at(rule, tz, &period)?;
        if due <= now {
            return Some((period, due));
        }
        period = period.previous();
    }
    None
}

pub struct ReportTimer {
    pub pool: PgPool,
    pub schedule: ReportSchedule,
    pub sites: Vec<String>,
    pub outbox: OutboxSignal,
}

impl ReportTimer {
    pub async fn run(self, stop: CancellationToken) {
        if !self.schedule.enabled {
            return;
        }
        while !stop.is_cancelled() {
            if let Err(e) = self.announce_due(Utc::now()).await {
                tracing::warn!(error = %e, "announcing due reports failed; will retry");
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_secs(self.schedule.poll_seconds.max(1))) => {}
            }
        }
    }

    /// Announces every report due at `now` that was not announced before; returns how many.
    pub async fn announce_due(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let tz: Tz = self
            .schedule
            .time_zone
            .parse()
            .map_err(|e| anyhow::anyhow!("reports.time_zone: {e}"))?;
        let mut scopes = vec![String::new()];
        if self.schedule.per_site {
            scopes.extend(self.sites.iter().cloned());
        }
        let mut announced = 0;
        for rule in &self.schedule.kinds {
            let Some((period, due)) = latest_due(rule, tz, now) else {
                continue;
            };
            if now - due > chrono::Duration::days(self.schedule.catch_up_days) {
                continue;
            }
            for site in &scopes {
                let mut tx = self.pool.begin().await?;
                let fresh = sqlx::query(
                    "INSERT INTO report_timers (kind, period, site, due_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .bind(&rule.kind)
                .bind(period.label())
                .bind(site)
                .bind(due)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if fresh {
                    let routing_site = if site.is_empty() {
                        self.schedule.all_sites_key.clone()
                    } else {
                        site.clone()
                    };
                    let event = ReportDueV1 {
                        kind: rule.kind.clone(),
                        period: period.label(),
                        site: site.clone(),
                        due_at: due,
                    };
                    messaging::enqueue(&mut tx, &Envelope::new(routing_site, Uuid::now_v7(), event)).await?;
                    announced += 1;
                }
                tx.commit().await?;
            }
        }
        if announced > 0 {
            self.outbox.notify();
            tracing::info!(announced, "reports due announced");
        }
        Ok(announced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str, day: u32) -> ReportKindSchedule {
        ReportKindSchedule {
            kind: kind.into(),
            due_day: day,
            due_time: "08:00".into(),
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_monthly_report_falls_due_on_the_configured_day_after_the_month_in_local_time() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let r = rule("monthly", 1);
        // 1 December 08:00 in Shanghai is 00:00 UTC.
        let (p, due) = latest_due(&r, tz, t("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!((p.label(), due), ("2026-11".into(), t("2026-12-01T00:00:00Z")));
        // A minute earlier, October's was the latest due.
        assert_eq!(
            latest_due(&r, tz, t("2026-11-30T23:59:00Z")).unwrap().0.label(),
            "2026-10"
        );
        // Due on the 10th: on 5 December the latest due is still October's.
        let tenth = rule("monthly", 10);
        assert_eq!(
            latest_due(&tenth, tz, t("2026-12-05T00:00:00Z")).unwrap().0.label(),
            "2026-10"
        );
        assert_eq!(
            latest_due(&tenth, tz, t("2026-12-10T00:00:00Z")).unwrap().0.label(),
            "2026-11"
        );
    }

    #[test]
    fn quarterly_and_annual_reports_fall_due_in_april_july_october_and_january() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let q = rule("quarterly", 1);
        assert_eq!(
            latest_due(&q, tz, t("2026-07-02T00:00:00Z")).unwrap().0.label(),
            "2026-Q2"
        );
        assert_eq!(
            latest_due(&q, tz, t("2026-10-01T00:00:00Z")).unwrap().0.label(),
            "2026-Q3"
        );
        let a = rule("annual", 5);
        let (p, due) = latest_due(&a, tz, t("2027-01-05T00:00:00Z")).unwrap();
        assert_eq!((p.label(), due), ("2026".into(), t("2027-01-05T00:00:00Z")));
        assert!(latest_due(&rule("weekly", 1), tz, t("2027-01-05T00:00:00Z")).is_none());
    }
}
