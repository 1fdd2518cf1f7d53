pub mod access;
pub mod assignment;
pub mod claims;
pub mod classify;
pub mod dedup;
pub mod routing;
pub mod workflow;
