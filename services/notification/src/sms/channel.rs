//! The SMS side of the send queue: quiet hours first, then the configured gateway.
use std::{sync::Arc, time::Duration};

use async_trait::async_trait;

use super::{SmsError, SmsMessage, SmsProvider};
use crate::{
    clock::{Clock, SystemClock},
    quiet_hours::{QuietHours, Zone},
    sender::{Channel, Claimed, Failure, Outcome},
};

pub struct Sms {
    provider: Box<dyn SmsProvider>,
    http: reqwest::Client,
    quiet_hours: QuietHours,
    clock: Arc<dyn Clock>,
}

impl Sms {
    pub fn new(provider: Box<dyn SmsProvider>, timeout: Duration, quiet_hours: QuietHours) -> anyhow::Result<Self> {
        Ok(Self {
            provider,
            http: reqwest::Client::builder().timeout(timeout).build()?,
            quiet_hours,
            clock: Arc::new(SystemClock),
        })
    }

    /// Judges quiet hours by `clock` (tests drive time with it).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }
}

#[async_trait]
impl Channel for Sms {
    fn name(&self) -> &'static str {
        "sms"
    }

    async fn deliver(&self, d: &Claimed) -> Outcome {
        // Judged again at send time: a message retried into the night waits too.
        if let Some(zone) = d
            .quiet_hours_tz
            .as_deref()
            .and_then(|z| Zone::try_from(z.to_owned()).ok())
        {
            if let Some(until) = self.quiet_hours.hold_until(self.clock.now(), zone.0) {
                return Outcome::Held(until);
            }
        }
        let m = SmsMessage {
            delivery_id: d.id,
            to: d.recipient.clone(),
            text: d.body_text.clone(),
            template: d.template.clone(),
            vars: d.template_vars.clone(),
        };
        match super::send(self.provider.as_ref(), &self.http, &m).await {
            Ok(id) => Outcome::Sent(id),
            Err(SmsError::Transient { error, retry_after }) => {
                Outcome::Failed(Failure::Transient { error, retry_after })
            }
            Err(SmsError::Permanent(error)) => Outcome::Failed(Failure::Permanent(error)),
        }
    }
}
