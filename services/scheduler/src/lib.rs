//! Scheduler: durable timers that emit deadline, escalation and revisit events exactly once.
#![forbid(unsafe_code)]

pub mod calendars;
pub mod domain;
pub mod firing;
pub mod handlers;
pub mod routes;
pub mod settings;
pub mod startup;
