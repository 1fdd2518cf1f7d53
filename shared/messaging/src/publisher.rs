//! Publishing with publisher confirms, in batches.
//!
//! `ConfirmedPublisher` can only be built by enabling confirms on its channel, so a publish through
//! it always gets a real broker answer; lapin's `Confirmation::NotRequested` (which would otherwise
//! look like success) is mapped to an error all the same.
use futures::future::join_all;
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions},
    BasicProperties, Channel, Confirmation,
};
use uuid::Uuid;

use crate::{topology::declare_exchanges, Bus, BusError, BusSettings};

/// One event ready to leave: what the outbox relay reads from a row.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub message_id: Uuid,
    pub event_type: String,
    pub routing_key: String,
    pub correlation_id: Option<Uuid>,
    pub payload: Vec<u8>,
}

/// What the broker said about one published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Routed to at least one queue and persisted.
    Confirmed,
    /// No queue is bound for the routing key (returned under `mandatory`).
    Unroutable,
    /// The broker refused it (nack).
    Rejected,
}

pub struct ConfirmedPublisher {
    channel: Channel,
    exchange: String,
}

impl ConfirmedPublisher {
    /// The only way to get a publisher: a new channel with confirms enabled and the exchange declared.
    pub async fn open(bus: &Bus) -> Result<Self, BusError> {
        let channel = bus.channel().await?;
        Self::on_channel(channel, bus.settings()).await
    }

    async fn on_channel(channel: Channel, settings: &BusSettings) -> Result<Self, BusError> {
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        declare_exchanges(&channel, settings).await?;
        Ok(Self {
            channel,
            exchange: settings.exchange_name(),
        })
    }

    pub fn is_open(&self) -> bool {
        self.channel.status().connected()
    }

    /// Publishes every message, then waits for all their confirms at once (never one at a time).
    /// An `Err` means the channel failed and the state of each message is unknown: retry them all.
    pub async fn publish_batch(&self, messages: &[OutgoingMessage]) -> Result<Vec<PublishOutcome>, BusError> {
        let mut pending = Vec::with_capacity(messages.len());
        for m in messages {
            let mut props = BasicProperties::default()
                .with_message_id(m.message_id.to_string().into())
                .with_type(m.event_type.clone().into())
                .with_content_type("application/json".into())
                .with_delivery_mode(2)
                .with_timestamp(chrono::Utc::now().timestamp() as u64);
            if let Some(c) = m.correlation_id {
                props = props.with_correlation_id(c.to_string().into());
            }
            let confirm = self
                .channel
                .basic_publish(
                    self.exchange.clone().into(),
                    m.routing_key.clone().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    &m.payload,
                    props,
                )
                .await?;
            pending.push(confirm);
        }
        join_all(pending).await.into_iter().map(|r| interpret(r?)).collect()
    }

    pub async fn close(self) {
        let _ = self.channel.close(200, "bye".into()).await;
    }
}

/// Maps a broker confirmation to an outcome. `NotRequested` is an error, never a success.
pub fn interpret(confirmation: Confirmation) -> Result<PublishOutcome, BusError> {
    match confirmation {
        Confirmation::Ack(None) => Ok(PublishOutcome::Confirmed),
        Confirmation::Ack(Some(_returned)) => Ok(PublishOutcome::Unroutable),
        Confirmation::Nack(_) => Ok(PublishOutcome::Rejected),
        Confirmation::NotRequested => Err(BusError::ConfirmsNotEnabled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_requested_is_never_success() {
        assert!(matches!(
            interpret(Confirmation::NotRequested),
            Err(BusError::ConfirmsNotEnabled)
        ));
    }

    #[test]
    fn ack_without_return_is_confirmed_and_nack_is_rejected() {
        assert_eq!(interpret(Confirmation::Ack(None)).unwrap(), PublishOutcome::Confirmed);
        assert_eq!(interpret(Confirmation::Nack(None)).unwrap(), PublishOutcome::Rejected);
    }
}
