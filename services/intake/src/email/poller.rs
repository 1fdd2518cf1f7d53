//! The IMAP poller: one task per configured mailbox. It takes every unseen message (by UID), runs it
//! through [`Ingest`], and only then sets `\Seen` on the server. It waits for new mail with IDLE when
//! the server offers it (else polls every `poll_interval_secs`), reconnects with back-off after any
//! failure, and stops between messages when the service stops.
use std::{fmt::Debug, sync::Arc, time::Duration};

use async_imap::{
    types::{Fetch, UnsolicitedResponse},
    Session,
};
use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_util::sync::CancellationToken;

use super::ingest::{Ingest, IngestError, Ingested, Source};
use crate::settings::MailboxSettings;

/// The connection under the IMAP client: plain TCP (loopback tests) or TLS.
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}

type ImapSession = Session<Box<dyn ImapIo>>;

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("connecting: {0}")]
    Connect(std::io::Error),
    #[error("connecting: timed out")]
    ConnectTimeout,
    #[error("TLS: {0}")]
    Tls(String),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

pub struct Poller {
    pub ingest: Ingest,
    pub mailbox: MailboxSettings,
}

impl Poller {
    /// Runs until `stop` is cancelled; failures are logged and retried with back-off.
    pub async fn run(self, stop: CancellationToken) {
        let email = &self.ingest.settings.email;
        let name = self.mailbox.name.as_str();
        let mut backoff = Duration::from_millis(email.retry_base_ms.max(1));
        let max = Duration::from_millis(email.retry_max_ms.max(email.retry_base_ms));
        tracing::info!(mailbox = name, "email poller started");
        while !stop.is_cancelled() {
            match self.session(&stop, &mut backoff).await {
                Ok(()) => break,
                Err(e) => {
                    metrics::counter!("email_poll_failures_total").increment(1);
                    tracing::warn!(mailbox = name, error = %e, retry_in_ms = backoff.as_millis() as u64, "IMAP mailbox failed");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(max);
                }
            }
        }
        tracing::info!(mailbox = name, "email poller stopped");
    }

    async fn connect(&self) -> Result<ImapSession, PollError> {
        let m = &self.mailbox;
        let timeout = Duration::from_secs(self.ingest.settings.email.connect_timeout_secs.max(1));
        let tcp = tokio::time::timeout(timeout, TcpStream::connect((m.host.as_str(), m.port)))
            .await
            .map_err(|_| PollError::ConnectTimeout)?
            .map_err(PollError::Connect)?;
        let io: Box<dyn ImapIo> = if m.tls {
            Box::new(tls(tcp, &m.host, timeout).await?)
        } else {
            Box::new(tcp)
        };
        let mut client = async_imap::Client::new(io);
        tokio::time::timeout(timeout, client.read_response())
            .await
            .map_err(|_| PollError::ConnectTimeout)?
            .map_err(PollError::Connect)?
            .ok_or(PollError::Closed)?;
        client
            .login(&m.username, &m.password)
            .await
            .map_err(|(e, _)| PollError::Imap(e))
    }

    /// One connection: drain unseen mail, wait for more, repeat. `Ok` only when stopped.
    async fn session(&self, stop: &CancellationToken, backoff: &mut Duration) -> Result<(), PollError> {
        let m = &self.mailbox;
        let mut session = self.connect().await?;
        let selected = session.select(&m.folder).await?;
        let uid_validity = selected.uid_validity.unwrap_or(0);
        let idle = m.idle && session.capabilities().await?.has_str("IDLE");
        // UIDs are only trusted within one UIDVALIDITY; dedup is by Message-ID, so a changed one (a
        // rebuilt mailbox) only means every unseen message is looked at again.
        let earlier: Option<i64> = sqlx::query_scalar(
            "SELECT uid_validity FROM email_messages WHERE mailbox = $1 AND uid_validity IS NOT NULL
              ORDER BY received_at DESC LIMIT 1",
        )
        .bind(&m.name)
        .fetch_optional(&self.ingest.pool)
        .await
        .map_err(IngestError::from)?;
        if earlier.is_some_and(|e| e != i64::from(uid_validity)) {
            tracing::warn!(
                mailbox = m.name.as_str(),
                uid_validity,
                "UIDVALIDITY changed since the last message"
            );
        }
        *backoff = Duration::from_millis(self.ingest.settings.email.retry_base_ms.max(1));
        tracing::info!(mailbox = m.name.as_str(), uid_validity, idle, "IMAP mailbox selected");
        let interval = Duration::from_secs(m.poll_interval_secs.max(1));
        loop {
            self.drain(&mut session, uid_validity, stop).await?;
            if stop.is_cancelled() {
                let _ = session.logout().await;
                return Ok(());
            }
            if idle {
                // Mail that arrived after the last search announced itself already (EXISTS while we
                // were busy); IDLE would not tell us again.
                let mut announced = false;
                while let Ok(r) = session.unsolicited_responses.try_recv() {
                    announced |= matches!(r, UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_));
                }
                if announced {
                    continue;
                }
                let mut handle = session.idle();
                handle.init().await?;
                let stopped = {
                    let (wait, _interrupt) = handle.wait_with_timeout(interval);
                    tokio::select! {
                        r = wait => { r?; false }
                        _ = stop.cancelled() => true,
                    }
                };
                if stopped {
                    // Dropping the connection ends IDLE; nothing is in flight.
                    return Ok(());
                }
                session = handle.done().await?;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop.cancelled() => {
                        let _ = session.logout().await;
                        return Ok(());
                    }
                }
                session.noop().await?;
            }
        }
    }

    /// Ingests every unseen message, oldest first, in batches; marks each batch `\Seen` after its
    /// messages are committed.
    async fn drain(
        &self,
        session: &mut ImapSession,
        uid_validity: u32,
        stop: &CancellationToken,
    ) -> Result<(), PollError> {
        let email = &self.ingest.settings.email;
        let batch = email.fetch_batch.max(1);
        loop {
            let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
            if uids.is_empty() {
                return Ok(());
            }
            uids.sort_unstable();
            for chunk in uids.chunks(batch) {
                if stop.is_cancelled() {
                    return Ok(());
                }
                let metas: Vec<Fetch> = session
                    .uid_fetch(uid_set(chunk), "(UID RFC822.SIZE)")
                    .await?
                    .try_collect()
                    .await?;
                let mut done = Vec::with_capacity(chunk.len());
                let mut small = Vec::with_capacity(chunk.len());
                for f in &metas {
                    let (Some(uid), size) = (f.uid, f.size.unwrap_or(0) as usize) else {
                        continue;
                    };
                    if size > email.max_message_bytes {
                        // Never fetched whole: recorded by its place on the server.
                        let source = self.source(uid_validity, uid, None);
                        self.ingest
                            .reject(&source, &format!("imap:{uid_validity}:{uid}"), "too_large", size)
                            .await?;
                        done.push(uid);
                    } else {
                        small.push(uid);
                    }
                }
                if !small.is_empty() {
                    let bodies: Vec<Fetch> = session
                        .uid_fetch(uid_set(&small), "(UID INTERNALDATE BODY.PEEK[])")
                        .await?
                        .try_collect()
                        .await?;
                    // Each message is its own transaction, so several go at once (separate connections).
                    let jobs: Vec<_> = bodies
                        .iter()
                        .filter_map(|f| f.uid.map(|uid| self.ingest_one(uid_validity, uid, f)))
                        .collect();
                    let ingested: Vec<u32> = futures::stream::iter(jobs)
                        .buffer_unordered(email.ingest_concurrency.max(1))
                        .try_collect()
                        .await?;
                    done.extend(ingested);
                }
                if done.is_empty() {
                    continue;
                }
                self.crash_if_asked();
                session
                    .uid_store(uid_set(&done), "+FLAGS.SILENT (\\Seen)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await?;
            }
        }
    }

    async fn ingest_one(&self, uid_validity: u32, uid: u32, fetched: &Fetch) -> Result<u32, PollError> {
        let raw = fetched.body().unwrap_or_default();
        let received = fetched.internal_date().map(|d| d.with_timezone(&Utc));
        let outcome = self
            .ingest
            .ingest(&self.source(uid_validity, uid, received), raw)
            .await?;
        if outcome == Ingested::AlreadyProcessed {
            // Committed by an earlier pass that did not get to mark it (a crash).
            tracing::info!(
                mailbox = self.mailbox.name.as_str(),
                uid,
                "email already processed; marking it"
            );
        }
        Ok(uid)
    }

    fn source(&self, uid_validity: u32, uid: u32, received_at: Option<chrono::DateTime<Utc>>) -> Source<'_> {
        Source {
            mailbox: &self.mailbox.name,
            site: &self.mailbox.site,
            uid: Some((uid_validity, uid)),
            received_at,
        }
    }

    /// Fault injection for the crash test (`email.fail_after_commit_marker`): the first time, leave
    /// the marker file and die like a crash, after the commit and before marking.
    fn crash_if_asked(&self) {
        let marker = &self.ingest.settings.email.fail_after_commit_marker;
        if marker.is_empty() || std::path::Path::new(marker).exists() {
            return;
        }
        if std::fs::write(marker, b"crashed after commit, before marking\n").is_ok() {
            tracing::error!(
                mailbox = self.mailbox.name.as_str(),
                "fault injection: exiting after commit, before marking"
            );
            std::process::exit(86);
        }
    }
}

/// `1,2,5`: a UID set.
fn uid_set(uids: &[u32]) -> String {
    uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

async fn tls(
    tcp: TcpStream,
    host: &str,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, PollError> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| PollError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|e| PollError::Tls(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    tokio::time::timeout(timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| PollError::ConnectTimeout)?
        .map_err(|e| PollError::Tls(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets() {
        assert_eq!(super::uid_set(&[1, 2, 5]), "1,2,5");
    }
}
