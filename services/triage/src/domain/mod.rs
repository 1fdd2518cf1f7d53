pub mod classify;
pub mod routing;
