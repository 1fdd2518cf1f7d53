//! One running SLA clock: its due time in the site's working calendar, pauses while waiting for the
//! customer, staff extensions, recomputation after reclassification, and the timers the scheduler
//! must fire (warning, breach, escalation levels).
//!
//! Pure and time-controlled: every operation takes the instant it happens at (`at` / `now`) and the
//! site's [`Calendar`]; nothing reads the system clock. The state serialises, so it can be stored as
//! it is and explained later ([`ClockState::explain`]).
//!
//! Rules:
//! * The due time is `start + length` in the calendar ([`Calendar::add`]).
//! * A pause moves the due time by the time spent paused, measured like the clock's length: working
//!   time for working spans, elapsed time for clock hours. A pause that begins after the breach
//!   leaves the (missed) due time alone and delays the remaining escalation levels instead.
//! * The warning falls at `warning` × the working time between start and due (elapsed time if that
//!   window holds no working time), and moves with pauses that begin before it.
//! * A staff extension (agreed with the customer before the deadline passes, 001 §5.3) sets a later
//!   due time; its warning is counted from the moment of the extension. It survives recomputation
//!   unless the new policy gives an even later due time.
//! * Recomputation (policy change, reclassification) recounts from the original start with the new
//!   policy, keeping the pauses and extensions; the history keeps the old and new due times. If the
//!   new due time is still ahead, a breach or warning already fired is lifted and fires again later.

use std::fmt::Write as _;

use calendar::{Calendar, CalendarError, CountedMakeupDay, DayKind, SkipReason, SkippedDay, Span};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::policy::ClockPolicy;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimerKind {
    /// The warning point was reached (`deadline.warning`).
    Warning,
    /// The due time passed (`deadline.breached`).
    Breach,
    /// A level of the escalation ladder was reached.
    Escalation {
        /// 1, 2 or 3.
        level: u8,
    },
}

/// A timer the scheduler must fire at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: TimerKind,
}

/// A fired timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fired {
    #[serde(flatten)]
    pub timer: Timer,
    /// When it was fired (later than `at` after downtime).
    pub fired_at: DateTime<Utc>,
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClockStatus {
    /// Counting, nothing fired yet.
    Running,
    /// Counting, the warning fired.
    Warned,
    /// Not counting: the case waits (e.g. for the customer).
    Paused { since: DateTime<Utc> },
    /// The due time passed; `level` escalation levels reached so far (0 = none yet).
    Breached { level: u8 },
    /// Stopped in time.
    Met { at: DateTime<Utc> },
    /// Stopped after the due time; `level` escalation levels had been reached.
    BreachedStopped { at: DateTime<Utc>, level: u8 },
}

/// A pause of the clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: DateTime<Utc>,
    /// `None` while the pause lasts.
    pub to: Option<DateTime<Utc>>,
    /// Working time inside the pause (once it ended).
    pub working_seconds: i64,
    /// Elapsed time of the pause (once it ended).
    pub elapsed_seconds: i64,
    /// False when it began after the breach: then it delays the escalation ladder, not the due time.
    pub moves_due: bool,
}

/// The policy a due time was computed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    pub name: String,
    pub length: Span,
    pub warning: f64,
    pub ladder: String,
}

impl From<&ClockPolicy> for PolicyRef {
    fn from(p: &ClockPolicy) -> Self {
        PolicyRef {
            name: p.name.clone(),
            length: p.length,
            warning: p.warning,
            ladder: p.ladder.clone(),
        }
    }
}

/// Why the due time changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DueChangeCause {
    /// Moved by staff after telling the customer.
    Extended { reason: String, by: String },
    /// Recounted with another policy (policy change or reclassification).
    Recomputed {
        previous_policy: PolicyRef,
        new_policy: PolicyRef,
    },
}

/// One entry of a clock's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DueChange {
    pub at: DateTime<Utc>,
    pub previous_due: DateTime<Utc>,
    pub new_due: DateTime<Utc>,
    #[serde(flatten)]
    pub cause: DueChangeCause,
}

/// Why an operation on a clock was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("clock `{0}` is stopped")]
    Stopped(String),
    #[error("clock `{0}` is already paused")]
    AlreadyPaused(String),
    #[error("clock `{0}` is not paused")]
    NotPaused(String),
    #[error("clock `{clock}`: {at} is before {last}, the last thing that happened to it")]
    OutOfOrder {
        clock: String,
        at: DateTime<Utc>,
        last: DateTime<Utc>,
    },
    #[error("an extension needs a reason and the name of who agreed it")]
    MissingReason,
    #[error("the new due time {new_due} is not after the current one {due}")]
    ExtensionNotLater { due: DateTime<Utc>, new_due: DateTime<Utc> },
    #[error("the due time {due} has passed; a new date is agreed with the customer before it passes")]
    ExtensionAfterDue { due: DateTime<Utc>, at: DateTime<Utc> },
}

/// One clock of one case. Build with [`ClockState::start`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockState {
    policy: ClockPolicy,
    started_at: DateTime<Utc>,
    pauses: Vec<Pause>,
    history: Vec<DueChange>,
    /// The timers fired so far: always the first entries of `schedule`.
    fired: Vec<Fired>,
    /// The due time when the breach fired; escalation levels count from it (plus later pauses).
    breached_due: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
    /// Latest instant of an operation; operations must come in order.
    last_event: DateTime<Utc>,
    // Derived from the above by `recalc`.
    policy_due: DateTime<Utc>,
    due: DateTime<Utc>,
    warning_at: DateTime<Utc>,
    /// Warning, breach, escalation levels 1.., in time order.
    schedule: Vec<Timer>,
}

impl ClockState {
    /// Starts a clock with `policy` at `start` (for clocks counted from arrival: `received_at`).
    pub fn start(policy: &ClockPolicy, start: DateTime<Utc>, cal: &Calendar) -> Result<ClockState, ClockError> {
        let mut clock = ClockState {
            policy: policy.clone(),
            started_at: start,
            pauses: Vec::new(),
            history: Vec::new(),
            fired: Vec::new(),
            breached_due: None,
            stopped_at: None,
            last_event: start,
            policy_due: start,
            due: start,
            warning_at: start,
            schedule: Vec::new(),
        };
        clock.recalc(cal)?;
        Ok(clock)
    }

    pub fn policy(&self) -> &ClockPolicy {
        &self.policy
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    /// The due time now in force (after pauses, extensions and recomputation).
    pub fn due(&self) -> DateTime<Utc> {
        self.due
    }

    /// The due time the policy alone gives (start + length).
    pub fn policy_due(&self) -> DateTime<Utc> {
        self.policy_due
    }

    pub fn warning_at(&self) -> DateTime<Utc> {
        self.warning_at
    }

    pub fn pauses(&self) -> &[Pause] {
        &self.pauses
    }

    pub fn history(&self) -> &[DueChange] {
        &self.history
    }

    pub fn fired(&self) -> &[Fired] {
        &self.fired
    }

    /// Warning, breach and escalation timers as planned now, fired or not.
    pub fn schedule(&self) -> &[Timer] {
        &self.schedule
    }

    /// Escalation levels reached, once breached (0 = breached, no level reached yet).
    pub fn escalation_level(&self) -> Option<u8> {
        (self.fired.len() >= 2).then(|| (self.fired.len() - 2) as u8)
    }

    pub fn status(&self) -> ClockStatus {
        let level = self.escalation_level().unwrap_or(0);
        if let Some(at) = self.stopped_at {
            return if at <= self.due {
                ClockStatus::Met { at }
            } else {
                ClockStatus::BreachedStopped { at, level }
            };
        }
        if let Some(since) = self.open_pause().map(|p| p.from) {
            return ClockStatus::Paused { since };
        }
        match self.fired.len() {
            0 => ClockStatus::Running,
            1 => ClockStatus::Warned,
            _ => ClockStatus::Breached { level },
        }
    }

    /// The next timer the scheduler must fire; `None` while paused, once stopped, or after the
    /// last escalation level. It may be in the past (fire it at once, marked late).
    pub fn next_timer(&self) -> Option<Timer> {
        if self.stopped_at.is_some() || self.open_pause().is_some() {
            return None;
        }
        self.schedule.get(self.fired.len()).copied()
    }

    /// Fires, in order, every timer due at or before `now`; returns them.
    pub fn advance(&mut self, now: DateTime<Utc>) -> Vec<Timer> {
        let mut out = Vec::new();
        while let Some(timer) = self.next_timer().filter(|t| t.at <= now) {
            if timer.kind == TimerKind::Breach {
                self.breached_due = Some(self.due);
            }
            self.fired.push(Fired { timer, fired_at: now });
            out.push(timer);
        }
        out
    }

    /// The case entered a pausing status at `at`.
    pub fn pause(&mut self, at: DateTime<Utc>) -> Result<(), ClockError> {
        self.check(at)?;
        if self.open_pause().is_some() {
            return Err(ClockError::AlreadyPaused(self.policy.name.clone()));
        }
        self.pauses.push(Pause {
            from: at,
            to: None,
            working_seconds: 0,
            elapsed_seconds: 0,
            moves_due: self.fired.len() < 2,
        });
        self.last_event = at;
        Ok(())
    }

    /// The case left the pausing status at `at`: the due time moves by the time spent paused.
    pub fn resume(&mut self, cal: &Calendar, at: DateTime<Utc>) -> Result<(), ClockError> {
        self.check(at)?;
        let Some(pause) = self.pauses.last_mut().filter(|p| p.to.is_none()) else {
            return Err(ClockError::NotPaused(self.policy.name.clone()));
        };
        pause.to = Some(at);
        pause.working_seconds = cal.working_time_between(pause.from, at).num_seconds();
        pause.elapsed_seconds = (at - pause.from).num_seconds();
        self.last_event = at;
        self.recalc(cal)
    }

    /// The stop event arrived at `at` (ending a pause first): met, or breached-but-stopped if late.
    pub fn stop(&mut self, cal: &Calendar, at: DateTime<Utc>) -> Result<ClockStatus, ClockError> {
        self.check(at)?;
        if self.open_pause().is_some() {
            self.resume(cal, at)?;
        }
        self.stopped_at = Some(at);
        self.last_event = at;
        Ok(self.status())
    }

    /// Staff moved the deadline to `new_due` at `at`, after telling the customer the reason.
    pub fn extend(
        &mut self,
        cal: &Calendar,
        at: DateTime<Utc>,
        new_due: DateTime<Utc>,
        reason: &str,
        by: &str,
    ) -> Result<(), ClockError> {
        self.check(at)?;
        if reason.trim().is_empty() || by.trim().is_empty() {
            return Err(ClockError::MissingReason);
        }
        if at >= self.due {
            return Err(ClockError::ExtensionAfterDue { due: self.due, at });
        }
        if new_due <= self.due {
            return Err(ClockError::ExtensionNotLater { due: self.due, new_due });
        }
        self.history.push(DueChange {
            at,
            previous_due: self.due,
            new_due,
            cause: DueChangeCause::Extended {
                reason: reason.trim().to_string(),
                by: by.trim().to_string(),
            },
        });
        self.last_event = at;
        self.recalc(cal)?;
        self.rearm(cal, at)
    }

    /// Recounts the clock with `new_policy` (policy change or reclassification) at `at`, keeping
    /// pauses and extensions; the history records the old and new policy and due time.
    pub fn recompute(&mut self, cal: &Calendar, at: DateTime<Utc>, new_policy: &ClockPolicy) -> Result<(), ClockError> {
        self.check(at)?;
        let previous_policy = PolicyRef::from(&self.policy);
        let previous_due = self.due;
        let old = std::mem::replace(&mut self.policy, new_policy.clone());
        if let Err(e) = self.recalc(cal).and_then(|()| self.rearm(cal, at)) {
            self.policy = old;
            self.recalc(cal)?;
            return Err(e);
        }
        self.history.push(DueChange {
            at,
            previous_due,
            new_due: self.due,
            cause: DueChangeCause::Recomputed {
                previous_policy,
                new_policy: PolicyRef::from(new_policy),
            },
        });
        self.last_event = at;
        Ok(())
    }

    /// What the clock is and why: for `GET /api/v1/cases/{id}/deadlines`.
    pub fn explain(&self, cal: &Calendar) -> Result<ClockExplanation, ClockError> {
        let base = cal.explain(self.started_at, self.policy.length)?;
        let mut skipped = base.skipped.clone();
        if !matches!(self.policy.length, Span::ClockHours(_)) && self.due > base.due {
            // Days skipped while the due time was pushed on by pauses or an extension.
            let last = cal.local_date(self.due);
            let mut date = cal.local_date(base.due);
            while date < last {
                let reason = match cal.day_kind(date) {
                    DayKind::Holiday(name) => Some(SkipReason::Holiday(name.to_string())),
                    DayKind::Weekend(day) => Some(SkipReason::Weekend(day)),
                    DayKind::Working { .. } => None,
                };
                if let Some(reason) = reason.filter(|_| !skipped.iter().any(|s| s.date == date)) {
                    skipped.push(SkippedDay { date, reason });
                }
                let Some(next) = date.succ_opt() else { break };
                date = next;
            }
        }

        let tz = cal.time_zone();
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        let mut summary = format!("{}: {base}", self.policy.name);
        for p in &self.pauses {
            match p.to {
                Some(to) => {
                    let amount = if matches!(self.policy.length, Span::ClockHours(_)) {
                        p.elapsed_seconds
                    } else {
                        p.working_seconds
                    };
                    let _ = write!(
                        summary,
                        " Paused {} to {} ({}).",
                        local(p.from),
                        local(to),
                        if p.moves_due {
                            format!("due moved by {}", hours_minutes(amount))
                        } else {
                            format!("after the breach; escalation delayed by {}", hours_minutes(amount))
                        }
                    );
                }
                None => {
                    let _ = write!(summary, " Paused since {}.", local(p.from));
                }
            }
        }
        for change in &self.history {
            let _ = match &change.cause {
                DueChangeCause::Extended { reason, by } => write!(
                    summary,
                    " Extended on {} by {by} to {}: {reason}.",
                    local(change.at),
                    local(change.new_due)
                ),
                DueChangeCause::Recomputed {
                    previous_policy,
                    new_policy,
                } => write!(
                    summary,
                    " Recomputed on {} ({} {} → {} {}): due {} → {}.",
                    local(change.at),
                    previous_policy.name,
                    previous_policy.length,
                    new_policy.name,
                    new_policy.length,
                    local(change.previous_due),
                    local(change.new_due)
                ),
            };
        }
        let status = self.status();
        let _ = write!(
            summary,
            " Now due {} ({}); {}.",
            local(self.due),
            tz.name(),
            describe(status)
        );

        Ok(ClockExplanation {
            clock: self.policy.name.clone(),
            start_event: self.policy.start_event.clone(),
            stop_event: self.policy.stop_event.clone(),
            length: self.policy.length,
            ladder: self.policy.ladder.clone(),
            start: self.started_at,
            time_zone: tz.name().to_string(),
            policy_due: self.policy_due,
            skipped,
            makeup_days: base.makeup_days,
            pauses: self.pauses.clone(),
            history: self.history.clone(),
            warning_at: self.warning_at,
            due: self.due,
            state: status,
            escalation_level: self.escalation_level(),
            next: self.next_timer(),
            fired: self.fired.clone(),
            summary,
        })
    }

    fn open_pause(&self) -> Option<&Pause> {
        self.pauses.last().filter(|p| p.to.is_none())
    }

    fn check(&self, at: DateTime<Utc>) -> Result<(), ClockError> {
        if self.stopped_at.is_some() {
            return Err(ClockError::Stopped(self.policy.name.clone()));
        }
        if at < self.last_event {
            return Err(ClockError::OutOfOrder {
                clock: self.policy.name.clone(),
                at,
                last: self.last_event,
            });
        }
        Ok(())
    }

    /// Moves `t` on by a finished pause, in the clock's own unit.
    fn shift(&self, cal: &Calendar, t: DateTime<Utc>, pause: &Pause) -> Result<DateTime<Utc>, ClockError> {
        Ok(match self.policy.length {
            Span::ClockHours(_) => t + Duration::seconds(pause.elapsed_seconds),
            _ if pause.working_seconds > 0 => cal.add_working_duration(t, Duration::seconds(pause.working_seconds))?,
            _ => t,
        })
    }

    /// Derives policy due, due, warning and the timer schedule from the policy and the records.
    fn recalc(&mut self, cal: &Calendar) -> Result<(), ClockError> {
        let policy_due = cal.add(self.started_at, self.policy.length)?;
        let mut due = policy_due;
        let mut warning = warning_point(cal, self.started_at, policy_due, self.policy.warning)?;

        // Finished pauses that move the due time and extensions, replayed in order.
        enum Step<'a> {
            Pause(&'a Pause),
            Extend(&'a DueChange),
        }
        let mut steps: Vec<(DateTime<Utc>, Step<'_>)> = self
            .pauses
            .iter()
            .filter(|p| p.to.is_some() && p.moves_due)
            .map(|p| (p.from, Step::Pause(p)))
            .chain(
                self.history
                    .iter()
                    .filter(|c| matches!(c.cause, DueChangeCause::Extended { .. }))
                    .map(|c| (c.at, Step::Extend(c))),
            )
            .collect();
        steps.sort_by_key(|(t, _)| *t);
        for (_, step) in steps {
            match step {
                Step::Pause(p) => {
                    if p.from < warning {
                        warning = self.shift(cal, warning, p)?;
                    }
                    due = self.shift(cal, due, p)?;
                }
                Step::Extend(c) if c.new_due > due => {
                    due = c.new_due;
                    warning = warning_point(cal, c.at, due, self.policy.warning)?;
                }
                Step::Extend(_) => {}
            }
        }
        let warning = warning.min(due);

        let mut anchor = self.breached_due.unwrap_or(due);
        if self.breached_due.is_some() {
            for p in self.pauses.iter().filter(|p| p.to.is_some() && !p.moves_due) {
                anchor = self.shift(cal, anchor, p)?;
            }
        }
        let mut schedule = vec![
            Timer {
                at: warning,
                kind: TimerKind::Warning,
            },
            Timer {
                at: due,
                kind: TimerKind::Breach,
            },
        ];
        let mut previous = due.max(anchor);
        for level in &self.policy.escalation {
            let at = cal.add(anchor, level.after)?.max(previous);
            schedule.push(Timer {
                at,
                kind: TimerKind::Escalation { level: level.level },
            });
            previous = at;
        }

        self.policy_due = policy_due;
        self.due = due;
        self.warning_at = warning;
        self.schedule = schedule;
        Ok(())
    }

    /// After the due time changed at `at`: timers now planned after `at` fire (again) later.
    fn rearm(&mut self, cal: &Calendar, at: DateTime<Utc>) -> Result<(), ClockError> {
        let reached = self.schedule.iter().take_while(|t| t.at <= at).count();
        if reached >= self.fired.len() {
            return Ok(());
        }
        self.fired.truncate(reached);
        if reached < 2 && self.breached_due.take().is_some() {
            // No longer breached: pauses taken since count against the due time again.
            for p in &mut self.pauses {
                p.moves_due = true;
            }
        }
        self.recalc(cal)
    }
}

/// `fraction` of the working time from `from` to `due` (of the elapsed time if there is none).
fn warning_point(
    cal: &Calendar,
    from: DateTime<Utc>,
    due: DateTime<Utc>,
    fraction: f64,
) -> Result<DateTime<Utc>, ClockError> {
    if due <= from {
        return Ok(due);
    }
    let part = |d: Duration| Duration::milliseconds((d.num_milliseconds() as f64 * fraction).round() as i64);
    let working = cal.working_time_between(from, due);
    let at = if working > Duration::zero() {
        cal.add_working_duration(from, part(working))?
    } else {
        from + part(due - from)
    };
    Ok(at.min(due))
}

fn hours_minutes(seconds: i64) -> String {
    let minutes = seconds / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn describe(status: ClockStatus) -> String {
    match status {
        ClockStatus::Running => "running".into(),
        ClockStatus::Warned => "running, warning sent".into(),
        ClockStatus::Paused { .. } => "paused".into(),
        ClockStatus::Breached { level: 0 } => "breached".into(),
        ClockStatus::Breached { level } => format!("breached, escalated to level {level}"),
        ClockStatus::Met { .. } => "met".into(),
        ClockStatus::BreachedStopped { level, .. } => format!("stopped after the due time (level {level})"),
    }
}

/// A clock explained: policy, start, pauses, days skipped, due time and state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockExplanation {
    pub clock: String,
    pub start_event: String,
    pub stop_event: String,
    pub length: Span,
    pub ladder: String,
    pub start: DateTime<Utc>,
    /// IANA zone of the site; `skipped` and `makeup_days` are local dates.
    pub time_zone: String,
    /// The due time from the policy alone.
    pub policy_due: DateTime<Utc>,
    /// Days without working time between start and due (none for clock-hour clocks).
    pub skipped: Vec<SkippedDay>,
    /// Make-up working days (调休) counted by the policy due time.
    pub makeup_days: Vec<CountedMakeupDay>,
    pub pauses: Vec<Pause>,
    /// Extensions and recomputations, in order.
    pub history: Vec<DueChange>,
    pub warning_at: DateTime<Utc>,
    pub due: DateTime<Utc>,
    pub state: ClockStatus,
    pub escalation_level: Option<u8>,
    pub next: Option<Timer>,
    pub fired: Vec<Fired>,
    /// The same in one English paragraph.
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use calendar::{china, DaySchedule, WeekSchedule};
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::domain::fixtures::default_domain_config;
    use crate::domain::policy::{Role, SlaPolicy};

    /// The real 2026 calendar of mainland China, 08:30-12:00 and 13:00-17:30 Monday to Friday.
    fn china_office() -> Calendar {
        let hours = DaySchedule::parse(&["08:30-12:00", "13:00-17:30"], "weekday").unwrap();
        china::calendar(WeekSchedule::weekdays(hours)).unwrap()
    }

    /// Shanghai wall-clock time.
    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        china::TIME_ZONE
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn policy(name: &str, class: &str, category: &str) -> ClockPolicy {
        default_domain_config()
            .sla
            .clock_for(name, class, category, "general")
            .unwrap()
            .clone()
    }

    fn handling_result() -> ClockPolicy {
        policy("handling_result", "complaint", "product_quality")
    }

    #[test]
    fn configured_site_calendar_is_the_2026_china_office_calendar() {
        let settings = default_domain_config().calendar;
        assert_eq!(settings.calendar_for("sh01").unwrap(), china_office());
    }

    #[test]
    fn seven_working_days_from_mid_autumn_eve_are_due_monday_2026_10_12() {
        let cal = china_office();
        let clock = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 12, 10, 0));
        assert_eq!(clock.policy_due(), clock.due());
        // 56 working hours from start to due; 80 % = 44 h 48 min: Thu 6.5 + Mon-Wed 24 + Thu 10-08 8
        // + Fri 10-09 3.5 before lunch + 2 h 48 min after it.
        assert_eq!(clock.warning_at(), sh(2026, 10, 9, 15, 48));
        assert_eq!(clock.status(), ClockStatus::Running);
        assert_eq!(
            clock.next_timer(),
            Some(Timer {
                at: sh(2026, 10, 9, 15, 48),
                kind: TimerKind::Warning
            })
        );
    }

    #[test]
    fn explanation_names_the_holidays_skipped_and_the_makeup_saturday() {
        let cal = china_office();
        let clock = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        let why = clock.explain(&cal).unwrap();
        assert_eq!(why.clock, "handling_result");
        assert_eq!(why.due, sh(2026, 10, 12, 10, 0));
        assert_eq!(why.time_zone, "Asia/Shanghai");
        let holidays: Vec<NaiveDate> = why
            .skipped
            .iter()
            .filter(|d| matches!(d.reason, SkipReason::Holiday(_)))
            .map(|d| d.date)
            .collect();
        assert_eq!(holidays.len(), 10, "3 days Mid-Autumn + 7 days National Day");
        assert_eq!(
            why.skipped[0].reason,
            SkipReason::Holiday("中秋节 Mid-Autumn Festival".into())
        );
        assert_eq!(why.skipped.last().unwrap().date, date("2026-10-11"));
        assert_eq!(why.makeup_days[0].date, date("2026-10-10"));
        assert!(why
            .summary
            .contains("2026-10-01..2026-10-07 holiday 国庆节 National Day"));
        assert!(why
            .summary
            .ends_with("Now due 2026-10-12 10:00 (Asia/Shanghai); running."));

        let json = serde_json::to_value(&why).unwrap();
        assert_eq!(json["state"]["kind"], "running");
        assert_eq!(json["length"]["working_days"], 7);
        assert_eq!(json["skipped"][0]["reason"]["holiday"], "中秋节 Mid-Autumn Festival");
        assert_eq!(json["next"]["kind"], "warning");
        assert_eq!(json["due"], "2026-10-12T02:00:00Z");
    }

    #[test]
    fn pausing_for_the_customer_moves_the_due_time_by_the_paused_working_time() {
        let cal = china_office();
        let mut clock = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        clock.pause(sh(2026, 9, 29, 16, 0)).unwrap();
        assert_eq!(
            clock.status(),
            ClockStatus::Paused {
                since: sh(2026, 9, 29, 16, 0)
            }
        );
        assert_eq!(clock.next_timer(), None, "nothing fires while waiting for the customer");
        assert!(matches!(
            clock.pause(sh(2026, 9, 30, 9, 0)),
            Err(ClockError::AlreadyPaused(_))
        ));
        clock.resume(&cal, sh(2026, 10, 8, 9, 30)).unwrap();
        // Paused: Tue 16:00-17:30 (1.5 h) + Wed 09-30 (8 h) + Thu 10-08 08:30-09:30 (1 h) = 10.5 h;
        // the National Day week costs nothing.
        assert_eq!(clock.pauses()[0].working_seconds, 10 * 3600 + 1800);
        assert_eq!(clock.due(), sh(2026, 10, 13, 13, 30));
        assert_eq!(
            cal.working_time_between(clock.policy_due(), clock.due()),
            Duration::minutes(630)
        );
        assert_eq!(clock.status(), ClockStatus::Running);
        let why = clock.explain(&cal).unwrap();
        assert!(why
            .summary
            .contains("Paused 2026-09-29 16:00 to 2026-10-08 09:30 (due moved by 10 h 30 min)."));
        assert!(matches!(
            clock.resume(&cal, sh(2026, 10, 9, 9, 0)),
            Err(ClockError::NotPaused(_))
        ));
    }

    #[test]
    fn pausing_a_clock_hour_clock_moves_it_by_the_elapsed_time() {
        let cal = china_office();
        let first_reply = policy("first_reply", "complaint", "logistics");
        let mut clock = ClockState::start(&first_reply, sh(2026, 11, 20, 17, 0), &cal).unwrap();
        assert_eq!(clock.due(), sh(2026, 11, 21, 17, 0));
        // Only 30 working minutes before the weekend: warn after 24 of them, while people are in.
        assert_eq!(clock.warning_at(), sh(2026, 11, 20, 17, 24));
        clock.pause(sh(2026, 11, 20, 18, 0)).unwrap();
        clock.resume(&cal, sh(2026, 11, 23, 9, 0)).unwrap();
        // 23 of the 24 hours were left when the case started waiting; they are left on resuming.
        assert_eq!(clock.due(), sh(2026, 11, 24, 8, 0));
        assert_eq!(
            clock.warning_at(),
            sh(2026, 11, 20, 17, 24),
            "the warning point had passed"
        );
    }

    #[test]
    fn warning_fires_before_breach_and_breach_before_escalation_levels_in_order() {
        let cal = china_office();
        let mut clock = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        let mut seen = Vec::new();
        while let Some(timer) = clock.next_timer() {
            // Timers due at the same instant (breach and level 1 here) fire together, in order.
            let fired = clock.advance(timer.at);
            assert_eq!(fired[0], timer);
            seen.extend(fired);
        }
        let kinds: Vec<TimerKind> = seen.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                TimerKind::Warning,
                TimerKind::Breach,
                TimerKind::Escalation { level: 1 },
                TimerKind::Escalation { level: 2 },
                TimerKind::Escalation { level: 3 },
            ]
        );
        let times: Vec<DateTime<Utc>> = seen.iter().map(|t| t.at).collect();
        assert_eq!(
            times,
            [
                sh(2026, 10, 9, 15, 48),
                sh(2026, 10, 12, 10, 0),
                sh(2026, 10, 12, 10, 0),
                sh(2026, 10, 13, 10, 0),
                sh(2026, 10, 14, 10, 0),
            ]
        );
        assert_eq!(clock.status(), ClockStatus::Breached { level: 3 });
        // Quality complaints escalate to the management representative at level 2.
        assert_eq!(
            clock.policy().escalation[1].notify,
            vec![Role::ManagementRepresentative]
        );

        // After downtime everything overdue fires at once, still in order.
        let mut late = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        assert!(late.advance(sh(2026, 10, 9, 15, 47)).is_empty());
        assert_eq!(late.status(), ClockStatus::Running);
        let fired = late.advance(sh(2026, 10, 13, 12, 0));
        assert_eq!(fired, seen[..4]);
        assert_eq!(late.status(), ClockStatus::Breached { level: 2 });
        assert!(late.fired().iter().all(|f| f.fired_at == sh(2026, 10, 13, 12, 0)));
    }

    #[test]
    fn a_pause_after_the_breach_delays_the_escalation_not_the_due_time() {
        let cal = china_office();
        let mut clock = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        clock.advance(sh(2026, 10, 12, 11, 0));
        assert_eq!(clock.status(), ClockStatus::Breached { level: 1 });
        clock.pause(sh(2026, 10, 12, 13, 30)).unwrap();
        clock.resume(&cal, sh(2026, 10, 12, 14, 30)).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 12, 10, 0));
        assert_eq!(
            clock.next_timer(),
            Some(Timer {
                at: sh(2026, 10, 13, 11, 0),
                kind: TimerKind::Escalation { level: 2 }
            })
        );
    }

    #[test]
    fn stopping_in_time_is_met_and_stopping_late_is_breached_but_stopped() {
        let cal = china_office();
        let start = sh(2026, 9, 24, 10, 0);
        let mut on_time = ClockState::start(&handling_result(), start, &cal).unwrap();
        on_time.advance(sh(2026, 10, 10, 9, 0));
        let at = sh(2026, 10, 12, 10, 0);
        assert_eq!(on_time.stop(&cal, at).unwrap(), ClockStatus::Met { at });
        assert_eq!(on_time.next_timer(), None);
        assert!(matches!(
            on_time.pause(sh(2026, 10, 13, 9, 0)),
            Err(ClockError::Stopped(_))
        ));

        let mut late = ClockState::start(&handling_result(), start, &cal).unwrap();
        late.advance(sh(2026, 10, 13, 11, 0));
        let at = sh(2026, 10, 13, 11, 0);
        assert_eq!(
            late.stop(&cal, at).unwrap(),
            ClockStatus::BreachedStopped { at, level: 2 }
        );

        // Stopping while paused ends the pause first.
        let mut paused = ClockState::start(&handling_result(), start, &cal).unwrap();
        paused.pause(sh(2026, 10, 9, 9, 0)).unwrap();
        let at = sh(2026, 10, 14, 9, 0);
        assert_eq!(paused.stop(&cal, at).unwrap(), ClockStatus::Met { at });
        assert_eq!(paused.pauses()[0].to, Some(at));
    }

    #[test]
    fn a_staff_extension_is_recorded_and_honoured() {
        let cal = china_office();
        let mut clock = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        assert_eq!(clock.advance(sh(2026, 10, 9, 16, 0)).len(), 1, "the warning");
        let reason = "waiting for the supplier's lab report; customer told on 10-09";
        assert!(matches!(
            clock.extend(
                &cal,
                sh(2026, 10, 9, 16, 0),
                sh(2026, 10, 11, 10, 0),
                reason,
                "zhang.wei"
            ),
            Err(ClockError::ExtensionNotLater { .. })
        ));
        assert!(matches!(
            clock.extend(&cal, sh(2026, 10, 9, 16, 0), sh(2026, 10, 16, 17, 30), " ", "zhang.wei"),
            Err(ClockError::MissingReason)
        ));
        clock
            .extend(
                &cal,
                sh(2026, 10, 9, 16, 0),
                sh(2026, 10, 16, 17, 30),
                reason,
                "zhang.wei",
            )
            .unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 16, 17, 30));
        assert_eq!(clock.history().len(), 1);
        assert_eq!(clock.history()[0].previous_due, sh(2026, 10, 12, 10, 0));
        assert_eq!(
            clock.history()[0].cause,
            DueChangeCause::Extended {
                reason: reason.into(),
                by: "zhang.wei".into()
            }
        );
        // A new warning for the new date: 80 % of the 49.5 working hours from the extension.
        assert_eq!(clock.status(), ClockStatus::Running);
        assert_eq!(clock.warning_at(), sh(2026, 10, 15, 15, 36));
        assert!(
            clock.advance(sh(2026, 10, 12, 10, 0)).is_empty(),
            "the old due time no longer breaches"
        );
        let fired: Vec<TimerKind> = clock.advance(sh(2026, 10, 16, 17, 30)).iter().map(|t| t.kind).collect();
        assert_eq!(
            fired,
            [
                TimerKind::Warning,
                TimerKind::Breach,
                TimerKind::Escalation { level: 1 }
            ]
        );
        assert!(matches!(
            clock.extend(
                &cal,
                sh(2026, 10, 16, 17, 30),
                sh(2026, 10, 20, 17, 30),
                reason,
                "zhang.wei"
            ),
            Err(ClockError::ExtensionAfterDue { .. })
        ));
        let why = clock.explain(&cal).unwrap();
        assert!(why
            .summary
            .contains("Extended on 2026-10-09 16:00 by zhang.wei to 2026-10-16 17:30"));
        assert_eq!(why.skipped.last().unwrap().date, date("2026-10-11"));
    }

    /// Handling result in 10 working days for general information, 7 for complaints.
    fn by_class_policy() -> SlaPolicy {
        serde_json::from_value(serde_json::json!({
            "ladders": { "service": [
                { "after": { "clock_hours": 0 }, "notify": ["handler", "department_head"] },
                { "after": { "working_days": 1 }, "notify": ["marketing_director"] },
                { "after": { "working_days": 2 }, "notify": ["general_manager"] }
            ] },
            "clocks": { "handling_result": {
                "start": "case.opened", "stop": "case.resolved",
                "length": { "working_days": 7 }, "escalation": "service",
                "overrides": [{ "when": { "classes": ["general"] }, "length": { "working_days": 10 } }]
            } }
        }))
        .unwrap()
    }

    #[test]
    fn recompute_after_reclassification_changes_the_due_time_and_keeps_both_in_history() {
        let cal = china_office();
        let sla = by_class_policy();
        let general = sla
            .clock_for("handling_result", "general", "consultation", "general")
            .unwrap();
        let complaint = sla
            .clock_for("handling_result", "complaint", "staff_service", "general")
            .unwrap();
        let mut clock = ClockState::start(general, sh(2026, 9, 24, 10, 0), &cal).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 15, 10, 0));

        clock.recompute(&cal, sh(2026, 9, 29, 9, 0), complaint).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 12, 10, 0));
        let change = &clock.history()[0];
        assert_eq!(change.previous_due, sh(2026, 10, 15, 10, 0));
        assert_eq!(change.new_due, sh(2026, 10, 12, 10, 0));
        let DueChangeCause::Recomputed {
            previous_policy,
            new_policy,
        } = &change.cause
        else {
            panic!("expected a recomputation, got {change:?}");
        };
        assert_eq!(previous_policy.length, Span::WorkingDays(10));
        assert_eq!(new_policy.length, Span::WorkingDays(7));
        assert!(clock
            .explain(&cal)
            .unwrap()
            .summary
            .contains("Recomputed on 2026-09-29 09:00 (handling_result 10 working days → handling_result 7 working days): due 2026-10-15 10:00 → 2026-10-12 10:00."));
    }

    #[test]
    fn recompute_keeps_pauses_and_honours_a_later_extension() {
        let cal = china_office();
        let sla = by_class_policy();
        let general = sla
            .clock_for("handling_result", "general", "consultation", "general")
            .unwrap();
        let complaint = sla
            .clock_for("handling_result", "complaint", "staff_service", "general")
            .unwrap();
        let mut clock = ClockState::start(complaint, sh(2026, 9, 24, 10, 0), &cal).unwrap();
        clock.pause(sh(2026, 9, 28, 8, 30)).unwrap();
        clock.resume(&cal, sh(2026, 9, 28, 12, 0)).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 12, 14, 30), "3.5 working hours later");
        clock
            .extend(
                &cal,
                sh(2026, 9, 29, 9, 0),
                sh(2026, 10, 14, 17, 30),
                "lab test",
                "li.na",
            )
            .unwrap();
        // Shorter policy: the extension agreed with the customer still holds.
        clock.recompute(&cal, sh(2026, 9, 30, 9, 0), complaint).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 14, 17, 30));
        // Longer policy: 10 working days + the pause beat the extension.
        clock.recompute(&cal, sh(2026, 9, 30, 10, 0), general).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 15, 14, 30));
        assert_eq!(clock.history().len(), 3);
    }

    #[test]
    fn reclassification_to_a_longer_clock_lifts_a_breach_that_no_longer_holds() {
        let cal = china_office();
        let sla = by_class_policy();
        let general = sla
            .clock_for("handling_result", "general", "consultation", "general")
            .unwrap();
        let complaint = sla
            .clock_for("handling_result", "complaint", "staff_service", "general")
            .unwrap();
        let mut clock = ClockState::start(complaint, sh(2026, 9, 24, 10, 0), &cal).unwrap();
        clock.advance(sh(2026, 10, 12, 10, 30));
        assert_eq!(clock.status(), ClockStatus::Breached { level: 1 });
        clock.recompute(&cal, sh(2026, 10, 12, 11, 0), general).unwrap();
        assert_eq!(clock.due(), sh(2026, 10, 15, 10, 0));
        assert_eq!(
            clock.status(),
            ClockStatus::Running,
            "80 % of 10 days is Tue 10-13 10:00"
        );
        assert_eq!(
            clock.next_timer(),
            Some(Timer {
                at: sh(2026, 10, 13, 10, 0),
                kind: TimerKind::Warning
            })
        );
        assert!(matches!(
            clock.recompute(&cal, sh(2026, 10, 12, 10, 0), complaint),
            Err(ClockError::OutOfOrder { .. })
        ));
    }

    #[test]
    fn clock_state_round_trips_through_json() {
        let cal = china_office();
        let mut clock = ClockState::start(&handling_result(), sh(2026, 9, 24, 10, 0), &cal).unwrap();
        clock.pause(sh(2026, 9, 29, 16, 0)).unwrap();
        clock.resume(&cal, sh(2026, 10, 8, 9, 30)).unwrap();
        clock.advance(sh(2026, 10, 12, 9, 0));
        let stored = serde_json::to_string(&clock).unwrap();
        let back: ClockState = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, clock);
    }

    fn working_span() -> impl Strategy<Value = Span> {
        prop_oneof![
            (1u32..=10).prop_map(Span::WorkingDays),
            (1u32..=40).prop_map(Span::WorkingHours),
            (1u32..=600).prop_map(Span::WorkingMinutes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn paused_due_minus_paused_working_time_is_the_unpaused_due(
            start_minute in 0i64..(360 * 24 * 60),
            span in working_span(),
            pauses in prop::collection::vec((0i64..(3 * 24 * 60), 0i64..(4 * 24 * 60)), 0..4),
        ) {
            let cal = china_office();
            let mut policy = handling_result();
            policy.length = span;
            let start = sh(2026, 1, 1, 0, 0) + Duration::minutes(start_minute);
            let unpaused = ClockState::start(&policy, start, &cal).unwrap();
            let mut clock = unpaused.clone();
            let mut at = start;
            let mut paused = Duration::zero();
            for (gap, length) in pauses {
                let from = at + Duration::minutes(gap);
                if from >= clock.due() {
                    break;
                }
                let to = from + Duration::minutes(length);
                clock.pause(from).unwrap();
                clock.resume(&cal, to).unwrap();
                paused += cal.working_time_between(from, to);
                at = to;
            }
            prop_assert_eq!(cal.working_time_between(unpaused.due(), clock.due()), paused);
            if paused > Duration::zero() {
                prop_assert_eq!(clock.due(), cal.add_working_duration(unpaused.due(), paused).unwrap());
            } else {
                prop_assert_eq!(clock.due(), unpaused.due());
            }
            prop_assert!(clock.warning_at() <= clock.due());
        }
    }
}
