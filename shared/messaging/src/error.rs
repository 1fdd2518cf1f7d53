use thiserror::Error;

#[derive(Debug, Error)]
pub enum BusError {
    #[error("AMQP error: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A publish completed without a broker confirm: the channel never enabled confirms.
    /// `ConfirmedPublisher` cannot be built that way, so seeing this is a bug.
    #[error("publisher confirms were not enabled on this channel")]
    ConfirmsNotEnabled,
    #[error("shutting down")]
    ShuttingDown,
}
