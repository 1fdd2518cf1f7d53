//! The event bus every service uses: one AMQP connection per process that reconnects by itself,
//! idempotent topology, a transactional outbox relayed with publisher confirms, and consumers that
//! commit their work together with an inbox row before acking (see docs/architecture.md).
#![forbid(unsafe_code)]

pub mod connection;
pub mod consumer;
pub mod error;
pub mod outbox;
pub mod publisher;
pub mod schema;
pub mod settings;
pub mod topology;

pub use connection::Bus;
pub use consumer::{ConsumerGroup, Handler, HandlerError};
pub use error::BusError;
pub use outbox::{enqueue, OutboxRelay, OutboxSignal};
pub use publisher::{ConfirmedPublisher, OutgoingMessage, PublishOutcome};
pub use settings::BusSettings;
pub use topology::Topology;
