//! Notification: tells the right people, by email and SMS, once per event, recipient and channel.
#![forbid(unsafe_code)]

pub mod clock;
pub mod domain;
pub mod email;
pub mod handlers;
pub mod quiet_hours;
pub mod routes;
pub mod sender;
pub mod settings;
pub mod sms;
pub mod startup;
pub mod validation;
