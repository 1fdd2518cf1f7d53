//! Snapshots of live reports. Building the monthly report over a million cases takes a few hundred milliseconds
//! and the annual one seconds: too slow for a page. A report built less than `snapshots.fresh_for_seconds` ago is
//! served as it was built (its `generated_at` says as of when); a warmer rebuilds the ones read recently before
//! they expire — and this month's report for all sites and each served site, the pages the console opens first — so that readers rarely
//! wait for a build. `?fresh=true` builds anew. Issued versions (`crate::issue`) never come from here.
use std::{sync::Arc, time::Duration};

use chrono_tz::Tz;
use serde::Deserialize;
use sqlx::{types::Json, PgPool};
use tokio_util::sync::CancellationToken;

use super::{build, Report};
use crate::{
    period::{Kind, Period},
    settings::ReportingSettings,
};

/// `[reporting.snapshots]`.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotSettings {
    /// A snapshot younger than this is served as it is; 0 builds every report when asked (no snapshots).
    pub fresh_for_seconds: i64,
    /// How often the warmer looks for snapshots to rebuild.
    pub warm_every_seconds: u64,
    /// Snapshots read within this many minutes are kept warm; others are rebuilt only when read again.
    pub keep_warm_minutes: i64,
    /// At most this many rebuilds per round (the annual report takes seconds at a million cases).
    pub warm_max_per_round: i64,
}

/// The report of `period` for `site` (None: all sites): from its snapshot when that is fresh, else built now
/// (and kept). `force` builds anew whatever the snapshot.
pub async fn live(
    pool: &PgPool,
    settings: &ReportingSettings,
    tz: Tz,
    period: &Period,
    site: Option<&str>,
    force: bool,
) -> Result<Report, sqlx::Error> {
    let fresh_for = settings.snapshots.fresh_for_seconds;
    if fresh_for > 0 && !force {
        let kept: Option<Json<Report>> = sqlx::query_scalar(
            "UPDATE report_snapshots SET last_read_at = now()
              WHERE kind = $1 AND period = $2 AND site = $3 AND built_at > now() - make_interval(secs => $4)
             RETURNING report",
        )
        .bind(period.kind.name())
        .bind(period.label())
        .bind(site.unwrap_or(""))
        .bind(fresh_for as f64)
        .fetch_optional(pool)
        .await?;
        if let Some(Json(report)) = kept {
            return Ok(report);
        }
    }
    build_and_keep(pool, settings, tz, period, site, true).await
}

/// Builds the report and, when snapshots are on, keeps it. `read`: someone asked for it (it is kept warm).
async fn build_and_keep(
    pool: &PgPool,
    settings: &ReportingSettings,
    tz: Tz,
    period: &Period,
    site: Option<&str>,
    read: bool,
) -> Result<Report, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let report = build(&mut conn, settings, tz, period, site).await?;
    if settings.snapshots.fresh_for_seconds > 0 {
        // A slower build finishing after a newer one does not replace it.
        sqlx::query(
            "INSERT INTO report_snapshots (kind, period, site, report, built_at, last_read_at)
             VALUES ($1, $2, $3, $4, $5, now())
             ON CONFLICT (kind, period, site) DO UPDATE SET report = EXCLUDED.report, built_at = EXCLUDED.built_at,
                    last_read_at = CASE WHEN $6 THEN now() ELSE report_snapshots.last_read_at END
              WHERE report_snapshots.built_at < EXCLUDED.built_at",
        )
        .bind(period.kind.name())
        .bind(period.label())
        .bind(site.unwrap_or(""))
        .bind(Json(&report))
        .bind(report.generated_at)
        .bind(read)
        .execute(&mut *conn)
        .await?;
    }
    Ok(report)
}

/// Forgets every snapshot (after the read models were rebuilt).
pub async fn forget_all(conn: &mut sqlx::PgConnection) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM report_snapshots")
        .execute(conn)
        .await?
        .rows_affected())
}

/// Keeps the snapshots people read warm. One replica warms at a time (an advisory lock per round).
pub struct Warmer {
    pub pool: PgPool,
    pub settings: Arc<ReportingSettings>,
    pub tz: Tz,
    /// The sites whose report of this month is kept warm besides the all-sites one (the served sites).
    pub sites: Vec<String>,
}

/// Advisory-lock key of a warming round.
const WARM_LOCK: i64 = 0x7265_706f_7274;

impl Warmer {
    pub async fn run(self, stop: CancellationToken) {
        if self.settings.snapshots.fresh_for_seconds <= 0 {
            return;
        }
        let every = Duration::from_secs(self.settings.snapshots.warm_every_seconds.max(1));
        loop {
            match self.warm_once().await {
                Ok(n) if n > 0 => tracing::debug!(rebuilt = n, "report snapshots warmed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "warming report snapshots failed; next round retries"),
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    /// One round: rebuilds the snapshots read within `keep_warm_minutes` that are past half their freshness,
    /// and this month's report for all sites and for each of `sites`; forgets snapshots nobody read for a week. How many it rebuilt.
    pub async fn warm_once(&self) -> Result<usize, sqlx::Error> {
        let s = &self.settings.snapshots;
        let mut lock = self.pool.acquire().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(WARM_LOCK)
            .fetch_one(&mut *lock)
            .await?;
        if !locked {
            return Ok(0);
        }
        let result = self.rebuild_due(s).await;
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(WARM_LOCK)
            .execute(&mut *lock)
            .await;
        result
    }

    async fn rebuild_due(&self, s: &SnapshotSettings) -> Result<usize, sqlx::Error> {
        sqlx::query("DELETE FROM report_snapshots WHERE last_read_at < now() - interval '7 days'")
            .execute(&self.pool)
            .await?;
        let today = chrono::Utc::now().with_timezone(&self.tz).date_naive();
        let this_month = Period::containing(Kind::Monthly, today);
        let due: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT kind, period, site FROM (
                 SELECT kind, period, site, built_at, last_read_at FROM report_snapshots
                  WHERE last_read_at > now() - make_interval(mins => $1)
                    AND NOT (kind = $4 AND period = $5 AND site = ANY($6))
                 UNION ALL
                 SELECT $4, $5, s.site, coalesce(r.built_at, '-infinity'), now()
                   FROM unnest($6::text[]) AS s(site)
                   LEFT JOIN report_snapshots r ON r.kind = $4 AND r.period = $5 AND r.site = s.site
             ) candidates
              WHERE built_at < now() - make_interval(secs => $2)
              ORDER BY last_read_at DESC
              LIMIT $3",
        )
        .bind(s.keep_warm_minutes as i32)
        .bind(s.fresh_for_seconds as f64 / 2.0)
        .bind(s.warm_max_per_round)
        .bind(this_month.kind.name())
        .bind(this_month.label())
        .bind(
            std::iter::once(String::new())
                .chain(self.sites.iter().cloned())
                .collect::<Vec<_>>(),
        )
        .fetch_all(&self.pool)
        .await?;
        let mut rebuilt = 0;
        for (kind, label, site) in due {
            let Some(period) = Kind::parse(&kind).and_then(|k| Period::parse(k, &label)) else {
                continue;
            };
            let site = (!site.is_empty()).then_some(site.as_str());
            build_and_keep(&self.pool, &self.settings, self.tz, &period, site, false).await?;
            rebuilt += 1;
        }
        Ok(rebuilt)
    }
}
