//! Reporting: read models updated from events, and the statistics and reports built on them.
#![forbid(unsafe_code)]

pub mod handlers;
pub mod period;
pub mod report;
pub mod routes;
pub mod settings;
pub mod startup;
