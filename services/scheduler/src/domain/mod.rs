//! Pure domain logic of the scheduler: SLA policies and the clocks they run (domain.md §3).
//! No I/O and no clock reads: every operation takes the instant it happens at.

pub mod clock;
pub mod policy;
pub mod revisit_policy;

pub use clock::{ClockError, ClockExplanation, ClockState, ClockStatus, Timer, TimerKind};
pub use policy::{clocks_for, ClockPolicy, EscalationLevel, Role, SlaPolicy};

#[cfg(test)]
pub(crate) mod fixtures {
    //! The embedded `config/default.toml`, read the way the service reads it.
    use serde::Deserialize;

    use super::policy::SlaPolicy;
    use crate::settings::CalendarSettings;

    #[derive(Debug, Clone, Deserialize)]
    pub struct DomainConfig {
        pub sla: SlaPolicy,
        pub calendar: CalendarSettings,
    }

    pub fn default_domain_config() -> DomainConfig {
        settings::load(include_str!("../../config/default.toml")).expect("config/default.toml is valid")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_settings_load_with_sla_and_calendar_sections() {
        let s = crate::settings::Settings::load().expect("config/default.toml loads");
        assert_eq!(s.sla.clocks_for("complaint", "product_quality", "major").len(), 6);
        assert_eq!(s.calendar.site_config("sh01").time_zone, "Asia/Shanghai");
        assert!(s.calendar.calendar_for("gz01").is_ok());
        assert!(s.sla.all().iter().any(|c| c.name == "registration"));
    }
}
