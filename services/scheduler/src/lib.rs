//! Scheduler: durable timers that emit deadline, escalation and revisit events exactly once.
#![forbid(unsafe_code)]

pub mod calendars;
pub mod clock_changes;
pub mod domain;
pub mod firing;
pub mod handlers;
pub mod policies;
pub mod policy_sync;
pub mod report_due;
pub mod revisit_firing;
pub mod routes;
pub mod settings;
pub mod startup;
