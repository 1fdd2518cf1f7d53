//! `GET /api/v1/policies`: the SLA clocks (with their escalation ladders) and the sites' working
//! calendars the scheduler runs with, for administrators and auditors to read — the staff console's
//! administration screen shows them with where they are configured. Read-only: they are
//! configuration (`services/scheduler/config/default.toml`, `APP__…` overrides).
use std::sync::Arc;

use axum::{routing::MethodRouter, Json};
use chrono::Datelike;
use serde_json::{json, Value};
use server::ApiError;

use crate::{settings::Settings, startup::AppState};

/// The policies in force as JSON.
pub fn policies(settings: &Settings) -> Value {
    json!({
        "configured_in": "services/scheduler/config/default.toml",
        "clocks": settings.sla.all(),
        "calendars": { "default": settings.calendar.default, "sites": settings.calendar.sites },
    })
}

/// The SLA clocks and calendars in force (administrators and auditors). Documents the route that
/// [`route`] builds (a closure over the policies computed at start-up).
#[utoipa::path(get, path = "/api/v1/policies",
    responses((status = 200, description = "`{configured_in, clocks, calendars, warnings, special_days}`: warnings name calendars without holiday data for a year within `calendar.coverage_warning_days`; special_days lists every calendar's resolved holidays and make-up working days from the start of this year", body = Object), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn documented() {}

/// The route, answering from the policies computed once at start-up, with today's calendar warnings.
pub fn route(settings: &Settings) -> MethodRouter<AppState> {
    let body = Arc::new(policies(settings));
    let horizon = settings.calendar.coverage_warning_days;
    axum::routing::get(
        move |staff: auth::Staff, axum::extract::State(state): axum::extract::State<AppState>| {
            let body = body.clone();
            async move {
                staff
                    .require(
                        &[auth::Role::Administrator, auth::Role::Auditor],
                        "reading the SLA policies",
                    )
                    .map_err(ApiError::from)?;
                let mut body = body.as_ref().clone();
                let today = chrono::Utc::now().date_naive();
                body["warnings"] = json!(state.calendars.coverage_warnings(today, horizon));
                let this_year = today.with_ordinal(1).unwrap_or(today);
                body["special_days"] = state.calendars.special_days_from(this_year);
                Ok::<_, ApiError>(Json(body))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_clocks_and_calendars_are_shown() {
        let settings = Settings::load().expect("the shipped configuration loads");
        let p = policies(&settings);
        let clocks = p["clocks"].as_array().unwrap();
        assert!(clocks.iter().any(|c| c["name"] == "handling_result"), "{clocks:?}");
        assert!(clocks.iter().all(|c| c["ladder"].is_string()));
        assert!(p["calendars"]["default"]["time_zone"].is_string());
    }
}
