//! One AMQP connection per process, re-established on demand after the broker goes away.
//!
//! Users ask for channels; when the connection is gone the next request reconnects (serialised, so a
//! burst of failures makes one new connection). Consumers and the relay loop with back-off around it,
//! which is what makes a broker restart lose nothing: unacked deliveries return to their queue and
//! unconfirmed outbox rows stay unpublished.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lapin::{Channel, Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

use crate::{settings::backoff, BusError, BusSettings};

pub struct Bus {
    settings: BusSettings,
    connection_name: String,
    current: Mutex<Option<Arc<Connection>>>,
    reconnecting: tokio::sync::Mutex<()>,
}

impl Bus {
    pub fn new(settings: BusSettings, connection_name: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            settings,
            connection_name: connection_name.into(),
            current: Mutex::new(None),
            reconnecting: tokio::sync::Mutex::new(()),
        })
    }

    pub fn settings(&self) -> &BusSettings {
        &self.settings
    }

    /// Whether the process currently holds an open connection (for `/health/ready`).
    pub fn is_connected(&self) -> bool {
        self.live().is_some()
    }

    fn live(&self) -> Option<Arc<Connection>> {
        let guard = self.current.lock().expect("bus connection lock");
        guard.as_ref().filter(|c| c.status().connected()).cloned()
    }

    async fn connection(&self) -> Result<Arc<Connection>, BusError> {
        if let Some(c) = self.live() {
            return Ok(c);
        }
        let _one_at_a_time = self.reconnecting.lock().await;
        if let Some(c) = self.live() {
            return Ok(c);
        }
        let props = ConnectionProperties::default().with_connection_name(self.connection_name.clone().into());
        let conn = Arc::new(Connection::connect(&self.settings.url, props).await?);
        tracing::info!(connection = %self.connection_name, "connected to the broker");
        *self.current.lock().expect("bus connection lock") = Some(conn.clone());
        Ok(conn)
    }

    /// A fresh channel on the live connection (reconnecting first if needed).
    pub async fn channel(&self) -> Result<Channel, BusError> {
        let conn = self.connection().await?;
        match conn.create_channel().await {
            Ok(ch) => Ok(ch),
            Err(e) => {
                self.forget(&conn);
                Err(e.into())
            }
        }
    }

    /// Like [`Bus::channel`], but keeps trying with back-off until it succeeds or `cancel` fires.
    pub async fn channel_with_retry(&self, cancel: &CancellationToken) -> Result<Channel, BusError> {
        let mut attempt = 0;
        loop {
            match self.channel().await {
                Ok(ch) => return Ok(ch),
                Err(e) => {
                    let delay = backoff(100, self.settings.reconnect_max_ms, attempt);
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "broker unavailable");
                    attempt += 1;
                    tokio::select! {
                        _ = cancel.cancelled() => return Err(BusError::ShuttingDown),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    fn forget(&self, conn: &Arc<Connection>) {
        let mut guard = self.current.lock().expect("bus connection lock");
        if guard.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *guard = None;
        }
    }

    /// Closes the connection (the last step of a graceful shutdown).
    pub async fn close(&self) {
        let conn = self.current.lock().expect("bus connection lock").take();
        if let Some(conn) = conn {
            if conn.status().connected() {
                let _ = tokio::time::timeout(Duration::from_secs(5), conn.close(200, "shutdown".into())).await;
            }
        }
    }
}
