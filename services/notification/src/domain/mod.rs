pub mod directory;
pub mod rules;
pub mod templates;
