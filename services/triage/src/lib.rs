//! Triage: turns registered feedback into classified, routed cases and carries them to closure.
#![forbid(unsafe_code)]

pub mod domain;
pub mod handlers;
pub mod merges;
pub mod revisits;
pub mod routes;
pub mod settings;
pub mod staff;
pub mod startup;
pub mod store;
