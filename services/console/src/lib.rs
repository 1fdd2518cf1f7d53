//! The staff console: server-rendered HTML over the other services' APIs, called with the signed-in
//! user's token. Owns no business data; works without JavaScript.
#![forbid(unsafe_code)]

pub mod backend;
pub mod charts;
pub mod csrf;
pub mod error;
pub mod exports;
pub mod i18n;
pub mod pages;
pub mod render;
pub mod session;
pub mod settings;
pub mod startup;
