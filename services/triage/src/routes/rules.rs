//! `GET /api/v1/rules`: the business rules triage runs with (routing, classification, claim
//! approvals, who sees personal data), for administrators and auditors to read — the staff
//! console's administration screen shows them with where they are configured. Read-only: the
//! rules are configuration (`services/triage/config/default.toml`, `APP__…` overrides).
use axum::{extract::State, Json};
use serde_json::{json, Value};
use server::ApiError;

use crate::startup::AppState;

/// The effective rules as JSON.
pub fn rules(settings: &crate::settings::Settings) -> Value {
    let classification: Vec<Value> = settings
        .classification
        .rules
        .iter()
        .map(|r| {
            json!({ "name": r.name, "class": r.class, "category": r.category, "severity": r.severity,
                    "when": r.when, "keywords": r.keywords, "channels": r.channels })
        })
        .collect();
    json!({
        "configured_in": "services/triage/config/default.toml",
        "routing": { "departments": settings.routing.departments, "site_overrides": settings.routing.site_overrides },
        "classification": { "rules": classification, "default": settings.classification.default },
        "claims": { "currency": settings.claims.currency, "approvals": settings.claims.approvals,
                    "rejection_reasons": settings.claims.rejection_reasons },
        "privacy": { "unmasked_roles": settings.privacy.unmasked_roles },
    })
}

/// The business rules in force (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/rules",
    responses((status = 200, body = Object), (status = 401), (status = 403)), security(("bearer" = [])))]
pub async fn get_rules(State(state): State<AppState>, staff: auth::Staff) -> Result<Json<Value>, ApiError> {
    staff.require(
        &[auth::Role::Administrator, auth::Role::Auditor],
        "reading the business rules",
    )?;
    Ok(Json(rules(&state.settings)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_are_shown_as_configured() {
        let settings = crate::settings::Settings::load().expect("the shipped configuration loads");
        let r = rules(&settings);
        assert_eq!(r["routing"]["departments"]["product_quality"], "quality");
        assert_eq!(
            r["claims"]["approvals"][0],
            json!({"over": "1000.00", "role": "marketing_manager"})
        );
        assert!(r["classification"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == "adverse-event"));
        assert!(r["privacy"]["unmasked_roles"]
            .as_array()
            .unwrap()
            .contains(&json!("handler")));
    }
}
