//! Notification: tells the right people, by email (and SMS), once per event, recipient and channel.
#![forbid(unsafe_code)]

pub mod domain;
pub mod handlers;
pub mod routes;
pub mod sender;
pub mod settings;
pub mod startup;
