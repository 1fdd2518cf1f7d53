//! The one place recipients come from: departments (and, later, people and roles).
use std::collections::HashMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Directory {
    #[serde(default)]
    pub departments: HashMap<String, Department>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Department {
    pub name: String,
    pub mailbox: String,
    pub language: String,
}
