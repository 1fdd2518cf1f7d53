//! The time notification decides by (quiet hours, when a queued message is due, retry times), behind a
//! trait so tests can drive it: an SMS held overnight is sent when the clock reaches the morning.
use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
