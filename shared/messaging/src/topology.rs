//! Exchanges and queues, declared idempotently by whoever needs them at start-up and after every
//! reconnect. Declaring the same thing twice with the same arguments is a no-op for RabbitMQ.
use lapin::{
    options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable},
    Channel, ExchangeKind,
};

use crate::{BusError, BusSettings};

/// The queues one service consumes: one per served site, each bound to `<event>.<site>` for the
/// events the service handles, each with its own dead-letter queue.
#[derive(Debug, Clone)]
pub struct Topology {
    pub service: String,
    pub sites: Vec<String>,
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub name: String,
    pub dead_letter_queue: String,
    pub routing_keys: Vec<String>,
}

impl Topology {
    pub fn queues(&self, settings: &BusSettings) -> Vec<QueueSpec> {
        self.sites
            .iter()
            .map(|site| {
                let name = settings.queue_name(&self.service, site);
                QueueSpec {
                    dead_letter_queue: settings.dead_letter_queue(&name),
                    routing_keys: self
                        .event_types
                        .iter()
                        .map(|e| contracts::envelope::routing_key(e, site))
                        .collect(),
                    name,
                }
            })
            .collect()
    }
}

/// The domain-event exchange and the dead-letter exchange.
pub async fn declare_exchanges(channel: &Channel, settings: &BusSettings) -> Result<(), BusError> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            settings.exchange_name().into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            settings.dead_letter_exchange().into(),
            ExchangeKind::Direct,
            durable,
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

fn quorum_arguments(settings: &BusSettings, dead_letter_routing_key: Option<&str>) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    if let Some(key) = dead_letter_routing_key {
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(settings.dead_letter_exchange().into()),
        );
        args.insert("x-dead-letter-routing-key".into(), AMQPValue::LongString(key.into()));
        // At-least-once dead-lettering needs reject-publish overflow; nothing is dropped silently.
        args.insert(
            "x-dead-letter-strategy".into(),
            AMQPValue::LongString("at-least-once".into()),
        );
        args.insert("x-overflow".into(), AMQPValue::LongString("reject-publish".into()));
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongLongInt(settings.delivery_limit),
        );
    }
    args
}

/// Declares a consumer queue, its dead-letter queue, and their bindings.
pub async fn declare_queue(channel: &Channel, settings: &BusSettings, spec: &QueueSpec) -> Result<(), BusError> {
    declare_exchanges(channel, settings).await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .queue_declare(
            spec.dead_letter_queue.clone().into(),
            durable,
            quorum_arguments(settings, None),
        )
        .await?;
    channel
        .queue_bind(
            spec.dead_letter_queue.clone().into(),
            settings.dead_letter_exchange().into(),
            spec.name.clone().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(
            spec.name.clone().into(),
            durable,
            quorum_arguments(settings, Some(&spec.name)),
        )
        .await?;
    for key in &spec.routing_keys {
        channel
            .queue_bind(
                spec.name.clone().into(),
                settings.exchange_name().into(),
                key.clone().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}
