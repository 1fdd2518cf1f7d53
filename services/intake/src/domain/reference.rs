//! Human-readable register numbers per site and local day: `SH01-20261122-0042`.
//!
//! Numbers are reserved from the database in blocks (one short statement per block), so concurrent
//! registrations never queue on a counter row; replicas get disjoint blocks.
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use tokio::sync::Mutex;

pub struct ReferenceAllocator {
    timezone: Tz,
    block: i32,
    /// (site, day) → (next number to hand out, last number of the reserved block)
    blocks: Mutex<HashMap<(String, NaiveDate), (i32, i32)>>,
}

impl ReferenceAllocator {
    pub fn new(timezone: Tz, block: i32) -> Self {
        Self {
            timezone,
            block: block.max(1),
            blocks: Mutex::new(HashMap::new()),
        }
    }

    pub async fn next(&self, pool: &PgPool, site: &str, at: DateTime<Utc>) -> Result<String, sqlx::Error> {
        let day = at.with_timezone(&self.timezone).date_naive();
        let mut blocks = self.blocks.lock().await;
        blocks.retain(|(_, d), _| *d >= day.pred_opt().unwrap_or(day));
        let key = (site.to_owned(), day);
        let number = match blocks.get_mut(&key) {
            Some((next, last)) if *next <= *last => {
                *next += 1;
                *next - 1
            }
            _ => {
                let last: i32 = sqlx::query_scalar(
                    "INSERT INTO reference_blocks (site, day, last) VALUES ($1, $2, $3)
                     ON CONFLICT (site, day) DO UPDATE SET last = reference_blocks.last + EXCLUDED.last
                     RETURNING last",
                )
                .bind(site)
                .bind(day)
                .bind(self.block)
                .fetch_one(pool)
                .await?;
                let first = last - self.block + 1;
                blocks.insert(key, (first + 1, last));
                first
            }
        };
        Ok(format_reference(site, day, number))
    }
}

pub fn format_reference(site: &str, day: NaiveDate, number: i32) -> String {
    format!("{}-{}-{:04}", site.to_uppercase(), day.format("%Y%m%d"), number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_format() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(format_reference("sh01", d, 42), "SH01-20261122-0042");
        assert_eq!(format_reference("sh01", d, 12345), "SH01-20261122-12345");
    }
}
