//! Revisits (回访, domain.md §5; seed 003): pure rules, no I/O and no clock reads (every function takes
//! `now`).
//!
//! - Call windows: a revisit is callable inside the configured windows (10:00–11:30 and 15:30–17:00,
//!   篇4) of the customer's local time, on working days of the official calendar; holidays are skipped
//!   (篇8) and make-up working days count. The windows are a [`calendar::Calendar`] whose "working hours"
//!   are the call windows.
//! - Attempts: no answer and busy retry later, a wrong number ends the task, call back moves it to the
//!   asked time (inside a window), a customer who declines revisits is not called again (篇4 §5.2).
//! - Outcomes: the method (on-site needs the customer's signature, 篇6 §1.7), answers to the configured
//!   questionnaire (the phone script of 篇9), and the dissatisfied rule (overall score ≤ threshold, or a
//!   problem reported; 篇6 §1.9, §2.3).
//! - Access: records are confidential (篇9): only the configured roles read them.
use std::collections::BTreeMap;

use auth::Role;
use calendar::{Calendar, SiteConfig};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::workflow::Actor;

/// `[revisit]` in `config/default.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct RevisitSettings {
    /// Call windows as a working calendar; its `time_zone` is the customers' default time zone.
    pub call_windows: SiteConfig,
    /// Site → the time zone of its customers, when the customer record carries none.
    #[serde(default)]
    pub site_time_zones: BTreeMap<String, String>,
    /// Case severity → the role that makes the call (篇6 §1.3).
    pub roles_by_severity: BTreeMap<String, Role>,
    /// The role for a severity not listed above.
    pub default_role: Role,
    /// Who may read revisit records at all (篇9: confidential).
    pub readable_by: Vec<Role>,
    /// Who may record any revisit (whatever its role) and close an unsatisfied loop.
    pub manager_roles: Vec<Role>,
    /// The question whose score decides satisfaction.
    pub score_question: String,
    /// A score at or below this is dissatisfied.
    pub dissatisfied_threshold: u8,
    pub on_dissatisfied: OnDissatisfied,
    /// The next revisit after a dissatisfied one, this many hours later (then into a call window).
    pub next_revisit_after_hours: u32,
    /// No answer or busy: try again this many minutes later (then into a call window).
    pub retry_after_minutes: u32,
    pub questionnaire: Vec<Question>,
}

/// What a dissatisfied revisit does to its case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDissatisfied {
    /// Reopen the case (a closed, resolved or rejected one); an open case gets a note for its department.
    Reopen,
    /// Open a new case linked to the finished one (`case.opened` tells its department); an open case gets
    /// a note.
    LinkedCase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    #[serde(rename = "score0to5")]
    Score0To5,
    Text,
    Yesno,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Question {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    pub kind: QuestionKind,
    #[serde(default)]
    pub required: bool,
    /// A yes/no question whose "yes" means a problem was reported (dissatisfied whatever the score).
    #[serde(default)]
    pub problem_flag: bool,
}

/// Why a revisit request cannot be carried out; nothing is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevisitError {
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
}

fn invalid(field: &str, message: impl Into<String>) -> RevisitError {
    RevisitError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Where a revisit task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// To be called.
    Open,
    /// Outcome recorded.
    Done,
    /// Wrong number: nobody to call.
    Unreachable,
    /// The customer declined revisits.
    Declined,
    /// Not to be called any more (the customer declined on another task).
    Cancelled,
    /// A manager closed the unsatisfied loop.
    Closed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
            TaskStatus::Unreachable => "unreachable",
            TaskStatus::Declined => "declined",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Closed => "closed",
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Call windows

impl RevisitSettings {
    /// The customer's time zone: their own, else their site's, else the default.
    pub fn time_zone_for<'a>(&'a self, customer_zone: Option<&'a str>, site: &str) -> &'a str {
        customer_zone
            .filter(|z| calendar::parse_time_zone(z).is_ok())
            .or_else(|| self.site_time_zones.get(site).map(String::as_str))
            .unwrap_or(&self.call_windows.time_zone)
    }

    /// The call windows in time zone `zone`.
    pub fn windows(&self, zone: &str) -> Result<Calendar, calendar::CalendarError> {
        let mut config = self.call_windows.clone();
        config.time_zone = zone.to_owned();
        config.build()
    }

    /// Fails when the windows, a time zone or the questionnaire cannot work (checked at start-up).
    pub fn validate(&self) -> Result<(), String> {
        self.windows(&self.call_windows.time_zone)
            .map_err(|e| format!("revisit.call_windows: {e}"))?;
        for (site, zone) in &self.site_time_zones {
            self.windows(zone)
                .map_err(|e| format!("revisit.site_time_zones.{site}: {e}"))?;
        }
        match self.question(&self.score_question) {
            Some(q) if q.kind == QuestionKind::Score0To5 => {}
            _ => {
                return Err(format!(
                    "revisit.score_question `{}` is not a 0–5 question",
                    self.score_question
                ))
            }
        }
        if self.dissatisfied_threshold > 5 {
            return Err("revisit.dissatisfied_threshold must be 0 to 5".into());
        }
        Ok(())
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questionnaire.iter().find(|q| q.id == id)
    }

    /// The role that calls about a case of `severity`.
    pub fn required_role(&self, severity: &str) -> Role {
        self.roles_by_severity
            .get(severity)
            .copied()
            .unwrap_or(self.default_role)
    }
}

/// Whether a task due at `due_at` may be called at `now`: due, and inside a window on a working day.
pub fn callable_now(windows: &Calendar, due_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    due_at <= now && windows.is_working_time(now)
}

/// The first call-window instant at or after `t` (holidays and weekends skipped).
pub fn next_window_start(windows: &Calendar, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    windows.next_working_instant(t).ok()
}

// ---------------------------------------------------------------------------------------------------
// Attempts

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    NoAnswer,
    Busy,
    WrongNumber,
    CallBack,
    Declined,
}

impl AttemptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::NoAnswer => "no_answer",
            AttemptKind::Busy => "busy",
            AttemptKind::WrongNumber => "wrong_number",
            AttemptKind::CallBack => "call_back",
            AttemptKind::Declined => "declined",
        }
    }
}

/// What an attempt does to its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptDecision {
    pub status: TaskStatus,
    /// The new due time while the task stays open.
    pub next_due: Option<DateTime<Utc>>,
    /// Remember the customer as not to be called again.
    pub do_not_call: bool,
}

/// Decides an attempt at `now`; `call_back_at` is required for (and only used by) `call_back`.
pub fn decide_attempt(
    settings: &RevisitSettings,
    windows: &Calendar,
    kind: AttemptKind,
    call_back_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<AttemptDecision, RevisitError> {
    let reschedule = |t: DateTime<Utc>| {
        next_window_start(windows, t).ok_or_else(|| invalid("call_back_at", "no call window follows that time"))
    };
    Ok(match kind {
        AttemptKind::NoAnswer | AttemptKind::Busy => AttemptDecision {
            status: TaskStatus::Open,
            next_due: Some(reschedule(
                now + Duration::minutes(settings.retry_after_minutes.into()),
            )?),
            do_not_call: false,
        },
        AttemptKind::WrongNumber => AttemptDecision {
            status: TaskStatus::Unreachable,
            next_due: None,
            do_not_call: false,
        },
        AttemptKind::CallBack => {
            let at = call_back_at.ok_or_else(|| invalid("call_back_at", "call_back needs the time to call back"))?;
            if at <= now {
                return Err(invalid("call_back_at", "must be in the future"));
            }
            AttemptDecision {
                status: TaskStatus::Open,
                next_due: Some(reschedule(at)?),
                do_not_call: false,
            }
        }
        AttemptKind::Declined => AttemptDecision {
            status: TaskStatus::Declined,
            next_due: None,
            do_not_call: true,
        },
    })
}

// ---------------------------------------------------------------------------------------------------
// Outcomes

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Phone,
    Sms,
    Online,
    Email,
    OnSite,
}

impl Method {
    /// The channel a problem raised during the revisit arrived through (for a linked case).
    pub fn channel(self) -> contracts::feedback::Channel {
        use contracts::feedback::Channel;
        match self {
            Method::Phone | Method::Sms => Channel::Phone,
            Method::Online => Channel::Social,
            Method::Email => Channel::Email,
            Method::OnSite => Channel::Visit,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Phone => "phone",
            Method::Sms => "sms",
            Method::Online => "online",
            Method::Email => "email",
            Method::OnSite => "on_site",
        }
    }
}

/// A validated outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub method: Method,
    /// Answers by question id, only configured questions, typed by their kind.
    pub answers: Map<String, Value>,
    pub score: Option<u8>,
    pub problem_reported: bool,
    pub satisfied: bool,
}

/// Checks an outcome against the questionnaire and decides satisfaction.
///
/// On-site revisits need the customer's signature (篇6 §1.7). Unknown questions, answers of the wrong
/// kind and missing required answers are refused, naming the field (`answers.<id>`).
pub fn assess(
    settings: &RevisitSettings,
    method: Method,
    answers: &Map<String, Value>,
    signature: Option<&str>,
) -> Result<Outcome, RevisitError> {
    if method == Method::OnSite && signature.map(str::trim).is_none_or(str::is_empty) {
        return Err(invalid(
            "signature",
            "an on-site revisit needs the customer's signature",
        ));
    }
    let mut clean = Map::new();
    for (id, value) in answers {
        let field = format!("answers.{id}");
        let q = settings
            .question(id)
            .ok_or_else(|| invalid(&field, format!("`{id}` is not a question of the questionnaire")))?;
        let ok = match q.kind {
            QuestionKind::Score0To5 => value.as_u64().is_some_and(|n| n <= 5) || value.is_null(),
            QuestionKind::Text => value.is_string() || value.is_null(),
            QuestionKind::Yesno => value.is_boolean() || value.is_null(),
        };
        if !ok {
            let expected = match q.kind {
                QuestionKind::Score0To5 => "a whole score from 0 to 5",
                QuestionKind::Text => "text",
                QuestionKind::Yesno => "true or false",
            };
            return Err(invalid(&field, format!("must be {expected}")));
        }
        if !value.is_null() {
            clean.insert(id.clone(), value.clone());
        }
    }
    if let Some(q) = settings
        .questionnaire
        .iter()
        .find(|q| q.required && !clean.contains_key(&q.id))
    {
        return Err(invalid(&format!("answers.{}", q.id), "is required"));
    }
    let score = clean
        .get(&settings.score_question)
        .and_then(Value::as_u64)
        .map(|n| n as u8);
    let problem_reported = settings
        .questionnaire
        .iter()
        .filter(|q| q.problem_flag)
        .any(|q| clean.get(&q.id) == Some(&Value::Bool(true)));
    let satisfied = !problem_reported && score.is_some_and(|s| s > settings.dissatisfied_threshold);
    Ok(Outcome {
        method,
        answers: clean,
        score,
        problem_reported,
        satisfied,
    })
}

// ---------------------------------------------------------------------------------------------------
// Access

/// Revisit records are confidential (篇9): only `readable_by` reads them.
pub fn may_read(settings: &RevisitSettings, actor: &Actor) -> Result<(), String> {
    if actor.has_any(&settings.readable_by) {
        Ok(())
    } else {
        Err(format!("{} may not read revisit records", actor.id))
    }
}

/// Recording an attempt or outcome, or creating a task: a reader who is not an auditor (auditors
/// only read) and holds the task's role or a manager role. A revisit made by the department head is
/// made by the head of the case's department (`department`).
pub fn may_record(
    settings: &RevisitSettings,
    actor: &Actor,
    required_role: Option<Role>,
    department: &str,
) -> Result<(), String> {
    may_read(settings, actor)?;
    if actor.has_any(&settings.manager_roles) {
        return Ok(());
    }
    if actor.roles.iter().all(|r| *r == Role::Auditor) {
        return Err(format!("{} is an auditor: auditors only read revisits", actor.id));
    }
    match required_role {
        Some(role) if !actor.has(role) => Err(format!("this revisit is made by the role {}", role_name(role))),
        Some(Role::DepartmentHead) if actor.department.as_deref() != Some(department) => {
            Err(format!("this revisit is made by the head of department {department}"))
        }
        _ => Ok(()),
    }
}

/// The department a user's queue is narrowed to: department heads who are neither customer service,
/// managers nor auditors see the revisits of their own department's cases; `None` means all.
pub fn queue_department(settings: &RevisitSettings, actor: &Actor) -> Option<String> {
    let sees_all = actor.has_any(&settings.manager_roles) || actor.has_any(&[Role::Agent, Role::Auditor]);
    (!sees_all && actor.has(Role::DepartmentHead)).then(|| actor.department.clone().unwrap_or_default())
}

/// Closing an unsatisfied loop without the customer's satisfaction is for managers.
pub fn may_close(settings: &RevisitSettings, actor: &Actor) -> Result<(), String> {
    may_read(settings, actor)?;
    if actor.has_any(&settings.manager_roles) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a manager: only managers close a revisit loop",
            actor.id
        ))
    }
}

/// The snake_case name of a role, as in configuration and tokens.
pub fn role_name(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn settings() -> RevisitSettings {
        crate::settings::Settings::load()
            .expect("config/default.toml loads")
            .revisit
    }

    fn shanghai() -> Calendar {
        settings().windows("Asia/Shanghai").unwrap()
    }

    /// Local Shanghai time as UTC.
    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        calendar::Tz::Asia__Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn actor(roles: &[Role]) -> Actor {
        Actor {
            id: "u".into(),
            name: "U".into(),
            roles: roles.to_vec(),
            department: None,
            sites: vec![],
        }
    }

    #[test]
    fn default_settings_are_valid() {
        settings().validate().unwrap();
    }

    #[test]
    fn callable_only_inside_the_windows_of_a_working_day() {
        let w = shanghai();
        let due = sh(2026, 11, 20, 8, 0);
        // Monday 2026-11-23.
        assert!(!callable_now(&w, due, sh(2026, 11, 23, 9, 59)));
        assert!(callable_now(&w, due, sh(2026, 11, 23, 10, 0)));
        assert!(callable_now(&w, due, sh(2026, 11, 23, 11, 29)));
        assert!(!callable_now(&w, due, sh(2026, 11, 23, 11, 30)), "window end excluded");
        assert!(!callable_now(&w, due, sh(2026, 11, 23, 14, 0)), "between windows");
        assert!(callable_now(&w, due, sh(2026, 11, 23, 15, 30)));
        assert!(!callable_now(&w, due, sh(2026, 11, 23, 17, 0)));
        // Not yet due.
        assert!(!callable_now(&w, sh(2026, 11, 24, 8, 0), sh(2026, 11, 23, 10, 30)));
        // Saturday 2026-11-21 is a weekend.
        assert!(!callable_now(&w, due, sh(2026, 11, 21, 10, 30)));
    }

    #[test]
    fn national_day_holidays_are_skipped_and_make_up_days_count() {
        let w = shanghai();
        let due = sh(2026, 9, 1, 0, 0);
        for day in 1..=7 {
            assert!(
                !callable_now(&w, due, sh(2026, 10, day, 10, 30)),
                "2026-10-0{day} is National Day"
            );
        }
        // Mid-Autumn Festival, Friday 2026-09-25.
        assert!(!callable_now(&w, due, sh(2026, 9, 25, 10, 30)));
        // Sunday 2026-09-20 and Saturday 2026-10-10 are make-up working days.
        assert!(callable_now(&w, due, sh(2026, 9, 20, 10, 30)));
        assert!(callable_now(&w, due, sh(2026, 10, 10, 15, 45)));
        // From the eve of National Day the next window is Thursday 10-08 10:00.
        assert_eq!(
            next_window_start(&w, sh(2026, 9, 30, 17, 0)),
            Some(sh(2026, 10, 8, 10, 0))
        );
    }

    #[test]
    fn windows_follow_the_customers_time_zone() {
        let s = settings();
        let berlin = s.windows("Europe/Berlin").unwrap();
        // 10:30 in Berlin on Monday 2026-11-23 is 17:30 in Shanghai: callable for a Berlin customer only.
        let t = calendar::Tz::Europe__Berlin
            .with_ymd_and_hms(2026, 11, 23, 10, 30, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert!(callable_now(&berlin, t, t));
        assert!(!callable_now(&shanghai(), t, t));
        assert_eq!(s.time_zone_for(Some("Europe/Berlin"), "sh01"), "Europe/Berlin");
        assert_eq!(s.time_zone_for(Some("Mars/Base"), "sh01"), "Asia/Shanghai");
        assert_eq!(s.time_zone_for(None, "sh01"), "Asia/Shanghai");
    }

    #[test]
    fn no_answer_and_busy_retry_in_the_next_window() {
        let s = settings();
        let w = shanghai();
        for kind in [AttemptKind::NoAnswer, AttemptKind::Busy] {
            // 11:00 + 60 min = 12:00, outside; the next window opens at 15:30.
            let d = decide_attempt(&s, &w, kind, None, sh(2026, 11, 23, 11, 0)).unwrap();
            assert_eq!(d.status, TaskStatus::Open);
            assert_eq!(d.next_due, Some(sh(2026, 11, 23, 15, 30)));
            assert!(!d.do_not_call);
        }
    }

    #[test]
    fn wrong_number_ends_the_task_and_declined_remembers_do_not_call() {
        let s = settings();
        let w = shanghai();
        let now = sh(2026, 11, 23, 10, 0);
        let wrong = decide_attempt(&s, &w, AttemptKind::WrongNumber, None, now).unwrap();
        assert_eq!(
            (wrong.status, wrong.next_due, wrong.do_not_call),
            (TaskStatus::Unreachable, None, false)
        );
        let declined = decide_attempt(&s, &w, AttemptKind::Declined, None, now).unwrap();
        assert_eq!(
            (declined.status, declined.next_due, declined.do_not_call),
            (TaskStatus::Declined, None, true)
        );
    }

    #[test]
    fn call_back_keeps_a_time_inside_a_window_and_moves_one_outside() {
        let s = settings();
        let w = shanghai();
        let now = sh(2026, 11, 23, 10, 0);
        let inside = decide_attempt(&s, &w, AttemptKind::CallBack, Some(sh(2026, 11, 24, 16, 0)), now).unwrap();
        assert_eq!(inside.next_due, Some(sh(2026, 11, 24, 16, 0)));
        assert_eq!(inside.status, TaskStatus::Open);
        // Friday evening → Monday 10:00.
        let evening = decide_attempt(&s, &w, AttemptKind::CallBack, Some(sh(2026, 11, 27, 20, 0)), now).unwrap();
        assert_eq!(evening.next_due, Some(sh(2026, 11, 30, 10, 0)));
        let missing = decide_attempt(&s, &w, AttemptKind::CallBack, None, now).unwrap_err();
        assert!(matches!(missing, RevisitError::Invalid { ref field, .. } if field == "call_back_at"));
        assert!(
            decide_attempt(&s, &w, AttemptKind::CallBack, Some(now), now).is_err(),
            "past"
        );
    }

    fn answers(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_overall_score_decides_satisfaction_at_the_threshold() {
        let s = settings();
        let good = assess(&s, Method::Phone, &answers(json!({"overall": 3, "design": 4})), None).unwrap();
        assert!(good.satisfied);
        assert_eq!(good.score, Some(3));
        let bad = assess(&s, Method::Phone, &answers(json!({"overall": 2})), None).unwrap();
        assert!(!bad.satisfied, "2 is dissatisfied by default");
        let zero = assess(&s, Method::Sms, &answers(json!({"overall": 0})), None).unwrap();
        assert!(!zero.satisfied);
    }

    #[test]
    fn a_reported_problem_is_dissatisfied_whatever_the_score() {
        let s = settings();
        let o = assess(
            &s,
            Method::Phone,
            &answers(json!({"overall": 5, "problem_reported": true, "suggestions": "包装再加固"})),
            None,
        )
        .unwrap();
        assert!(o.problem_reported);
        assert!(!o.satisfied);
    }

    #[test]
    fn bad_answers_are_refused_with_their_field() {
        let s = settings();
        let field = |v: Value| match assess(&s, Method::Phone, &answers(v), None).unwrap_err() {
            RevisitError::Invalid { field, .. } => field,
            e => panic!("{e}"),
        };
        assert_eq!(field(json!({"overall": 6})), "answers.overall");
        assert_eq!(field(json!({"overall": 4, "design": "good"})), "answers.design");
        assert_eq!(field(json!({"overall": 4, "colour": 3})), "answers.colour");
        assert_eq!(
            field(json!({"overall": 4, "problem_reported": "no"})),
            "answers.problem_reported"
        );
        assert_eq!(field(json!({"design": 4})), "answers.overall", "overall is required");
    }

    #[test]
    fn on_site_needs_a_signature_and_phone_does_not() {
        let s = settings();
        let a = answers(json!({"overall": 4}));
        let e = assess(&s, Method::OnSite, &a, None).unwrap_err();
        assert!(matches!(e, RevisitError::Invalid { ref field, .. } if field == "signature"));
        assert!(assess(&s, Method::OnSite, &a, Some("  ")).is_err());
        assert!(assess(&s, Method::OnSite, &a, Some("张三")).is_ok());
        assert_eq!(assess(&s, Method::Phone, &a, None).unwrap().method, Method::Phone);
    }

    #[test]
    fn the_default_questionnaire_follows_the_phone_script() {
        let s = settings();
        let ids: Vec<_> = s.questionnaire.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "design",
                "quality",
                "attitude",
                "timeliness",
                "overall",
                "suggestions",
                "problem_reported"
            ]
        );
    }

    #[test]
    fn roles_by_severity_and_access() {
        let s = settings();
        assert_eq!(s.required_role("general"), Role::Agent);
        assert_eq!(s.required_role("important"), Role::DepartmentHead);
        assert_eq!(s.required_role("major"), Role::GeneralManager);
        assert_eq!(s.required_role("unknown"), Role::Agent);

        assert!(
            may_read(&s, &actor(&[Role::Handler])).is_err(),
            "handlers do not read revisits"
        );
        assert!(may_read(&s, &actor(&[Role::Auditor])).is_ok());
        assert!(may_record(&s, &actor(&[Role::Auditor]), Some(Role::Agent), "quality").is_err());
        assert!(may_record(&s, &actor(&[Role::Agent]), Some(Role::Agent), "quality").is_ok());
        assert!(may_record(&s, &actor(&[Role::Agent]), Some(Role::DepartmentHead), "quality").is_err());
        assert!(may_record(
            &s,
            &actor(&[Role::GeneralManager]),
            Some(Role::DepartmentHead),
            "quality"
        )
        .is_ok());
        let mut head = actor(&[Role::DepartmentHead]);
        head.department = Some("quality".into());
        assert!(may_record(&s, &head, Some(Role::DepartmentHead), "quality").is_ok());
        assert!(
            may_record(&s, &head, Some(Role::DepartmentHead), "sales").is_err(),
            "another department's head"
        );
        assert_eq!(queue_department(&s, &head), Some("quality".into()));
        assert_eq!(queue_department(&s, &actor(&[Role::Agent])), None);
        assert_eq!(
            queue_department(&s, &actor(&[Role::DepartmentHead, Role::MarketingManager])),
            None
        );
        assert!(may_close(&s, &actor(&[Role::Agent])).is_err());
        assert!(may_close(&s, &actor(&[Role::MarketingManager])).is_ok());
    }
}
