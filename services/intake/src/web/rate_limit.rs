//! A token bucket per client address, in memory: `burst` submissions at once, refilled evenly
//! over `period`. One instance per process; behind several replicas each counts on its own.
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before full (idle) ones are dropped.
const MAX_TRACKED: usize = 10_000;

impl RateLimiter {
    pub fn new(burst: u32, period: Duration) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            burst,
            per_second: burst / period.as_secs_f64().max(0.001),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `ip`; `Err(wait)` when there is none, with how long until there is.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, b| refill(b, now, burst, rate).tokens < burst);
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        *bucket = refill(bucket, now, self.burst, self.per_second);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second))
        }
    }
}

fn refill(b: &Bucket, now: Instant, burst: f64, per_second: f64) -> Bucket {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    Bucket {
        tokens: (b.tokens + elapsed * per_second).min(burst),
        at: now.max(b.at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_refuses_until_refilled() {
        let limiter = RateLimiter::new(10, Duration::from_secs(600));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(limiter.check(ip, t0).is_ok());
        }
        let wait = limiter.check(ip, t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        // One token comes back every 60 s.
        assert!(limiter.check(ip, t0 + Duration::from_secs(30)).is_err());
        assert!(limiter.check(ip, t0 + Duration::from_secs(61)).is_ok());
        assert!(limiter.check(ip, t0 + Duration::from_secs(62)).is_err());
        // Never more than the burst, however long it was idle.
        let later = t0 + Duration::from_secs(86_400);
        for _ in 0..10 {
            assert!(limiter.check(ip, later).is_ok());
        }
        assert!(limiter.check(ip, later).is_err());
    }

    #[test]
    fn addresses_are_counted_separately() {
        let limiter = RateLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(limiter.check(a, t0).is_ok());
        assert!(limiter.check(a, t0).is_err());
        assert!(limiter.check(b, t0).is_ok());
    }
}
