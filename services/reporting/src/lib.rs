//! Reporting: read models updated from events, and the statistics and reports built on them.
#![forbid(unsafe_code)]

pub mod charts;
pub mod handlers;
pub mod issue;
pub mod overview;
/// Report periods live with the calendar: the scheduler computes when they fall due.
pub use calendar::period;
pub mod rebuild;
pub mod report;
pub mod routes;
pub mod settings;
pub mod startup;
