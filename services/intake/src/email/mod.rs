//! The email channel (domain.md §1): IMAP mailboxes and a raw-MIME webhook, one pipeline.
pub mod classify;
pub mod ingest;
pub mod parse;
pub mod poller;

pub use ingest::{Ingest, Ingested, Source};
