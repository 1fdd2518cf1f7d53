//! One working calendar per site, built once at start-up (building parses the holiday data).
use std::collections::HashMap;

use calendar::Calendar;

use crate::settings::CalendarSettings;

pub struct Calendars {
    by_site: HashMap<String, Calendar>,
    default: Calendar,
}

impl Calendars {
    pub fn build(settings: &CalendarSettings, sites: &[String]) -> anyhow::Result<Self> {
        let mut by_site = HashMap::new();
        for site in sites {
            by_site.insert(
                site.clone(),
                settings
                    .calendar_for(site)
                    .map_err(|e| anyhow::anyhow!("calendar of site {site}: {e}"))?,
            );
        }
        Ok(Self {
            by_site,
            default: settings
                .calendar_for("")
                .map_err(|e| anyhow::anyhow!("default calendar: {e}"))?,
        })
    }

    pub fn for_site(&self, site: &str) -> &Calendar {
        self.by_site.get(site).unwrap_or(&self.default)
    }
}
