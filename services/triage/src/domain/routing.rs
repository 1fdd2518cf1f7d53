//! Which department owns a case (domain.md §2; 000 §4.3.1), with per-site overrides.
use crate::settings::RoutingSettings;

/// The department for `category` at `site`; falls back to sales, which keeps the customer
/// conversation for every case (000 §4.3.1).
pub fn department_for(routing: &RoutingSettings, site: &str, category: &str) -> String {
    routing
        .site_overrides
        .get(site)
        .and_then(|o| o.get(category))
        .or_else(|| routing.departments.get(category))
        .cloned()
        .unwrap_or_else(|| "sales".to_owned())
}
