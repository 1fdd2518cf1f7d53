pub mod directory;
pub mod recipients;
pub mod rules;
pub mod templates;
