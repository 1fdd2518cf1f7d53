//! Event contracts shared by every service: the envelope and one module per event family.
//!
//! Types only, no behaviour beyond (de)serialisation. Every event has a `TYPE` (the first part of its
//! routing key) and a `VERSION`; a breaking change adds a new versioned type rather than editing one.
//! The catalogue is documented in `docs/events.md`.
#![forbid(unsafe_code)]

pub mod case;
pub mod deadline;
pub mod envelope;
pub mod feedback;
pub mod followup;
pub mod notification;
pub mod report;
pub mod revisit;
pub mod staff;

pub use envelope::{Envelope, Event, RawEnvelope};
