//! Intake: registers every piece of customer feedback once and publishes `feedback.received`.
#![forbid(unsafe_code)]

pub mod attachments;
pub mod domain;
pub mod email;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod store;
pub mod web;
