use serde::Deserialize;

/// Bus configuration (`[bus]` in each service's config/default.toml).
#[derive(Debug, Clone, Deserialize)]
pub struct BusSettings {
    pub url: String,
    /// The durable topic exchange for domain events.
    pub exchange: String,
    /// Prefix for every exchange and queue name; lets tests (or tenants) share a broker.
    #[serde(default)]
    pub name_prefix: String,
    /// Unacked deliveries a consumer may hold per queue.
    pub prefetch: u16,
    /// Batches handled at once per queue.
    pub handler_concurrency: usize,
    /// Deliveries handled in one transaction when several are waiting.
    #[serde(default = "default_batch_max")]
    pub batch_max: usize,
    /// Handler attempts before a message is dead-lettered.
    pub max_attempts: u32,
    /// The broker's own redelivery cap (`x-delivery-limit`), a safety net above `max_attempts`
    /// for messages that crash the process before it can count.
    pub delivery_limit: i64,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Outbox rows published per confirm wait.
    pub relay_batch: i64,
    /// How often the relay looks for rows nobody signalled (other replicas, leftovers after a crash).
    pub relay_poll_ms: u64,
    pub reconnect_max_ms: u64,
}

fn default_batch_max() -> usize {
    64
}

impl BusSettings {
    pub fn exchange_name(&self) -> String {
        format!("{}{}", self.name_prefix, self.exchange)
    }

    pub fn dead_letter_exchange(&self) -> String {
        format!("{}{}.dlx", self.name_prefix, self.exchange)
    }

    /// `<service>.<site>`: replicas serving a site compete on one queue.
    pub fn queue_name(&self, service: &str, site: &str) -> String {
        format!("{}{}.{}", self.name_prefix, service, site)
    }

    pub fn dead_letter_queue(&self, queue: &str) -> String {
        format!("{queue}.dlq")
    }

    /// Exponential back-off with full jitter, capped.
    pub fn retry_delay(&self, attempt: u32) -> std::time::Duration {
        backoff(self.retry_base_ms, self.retry_max_ms, attempt)
    }
}

pub(crate) fn backoff(base_ms: u64, max_ms: u64, attempt: u32) -> std::time::Duration {
    let ceiling = base_ms.saturating_mul(1u64 << attempt.min(16)).min(max_ms).max(1);
    let jittered = rand::random_range(ceiling / 2..=ceiling);
    std::time::Duration::from_millis(jittered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..30 {
            let d = backoff(100, 5_000, attempt).as_millis() as u64;
            let ceiling = (100u64 << attempt.min(16)).min(5_000);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d}");
        }
    }
}
