//! Report exports (CSV, Excel, printable HTML) fetched from reporting with the user's token, as jobs the
//! user can watch: a request waits briefly and answers with the file when it is quick; otherwise the user
//! gets a page that shows the bytes received so far and refreshes itself (no JavaScript needed) until the
//! download link is there. Finished files are kept in this console's memory for [`KEEP`], for the user who
//! asked only; behind a load balancer the job page needs the same console replica (sticky sessions).
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::watch;

use crate::backend::BackendError;

/// How long a finished export stays downloadable.
pub const KEEP: Duration = Duration::from_secs(15 * 60);
/// Exports one user may have running at once.
pub const PER_USER: usize = 3;
/// Exports kept at once (running or finished), whoever asked.
pub const TOTAL: usize = 64;

/// Where an export is.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Running,
    Done,
    /// A text key of `i18n`, and the service's explanation when it helps.
    Failed {
        message_key: &'static str,
        detail: Option<String>,
    },
}

/// What the job page shows, and the file once it is there.
#[derive(Debug, Clone)]
pub struct Progress {
    pub state: State,
    pub bytes: usize,
    /// The size reporting announced, when it did.
    pub total: Option<u64>,
    pub file: Option<Arc<File>>,
}

#[derive(Debug)]
pub struct File {
    pub content_type: String,
    pub name: String,
    pub body: Vec<u8>,
}

pub struct Job {
    pub id: String,
    /// The staff user who asked: nobody else sees it.
    pub owner: String,
    /// `csv`, `xlsx` or `html`.
    pub format: String,
    /// The report's kind and period as the user asked for it (for the page's heading).
    pub title: String,
    pub started: Instant,
    progress: watch::Sender<Progress>,
}

impl Job {
    pub fn progress(&self) -> Progress {
        self.progress.borrow().clone()
    }

    pub fn set_bytes(&self, bytes: usize, total: Option<u64>) {
        self.progress.send_modify(|p| {
            p.bytes = bytes;
            p.total = total;
        });
    }

    pub fn finish(&self, file: File) {
        self.progress.send_modify(|p| {
            p.bytes = file.body.len();
            p.state = State::Done;
            p.file = Some(Arc::new(file));
        });
    }

    pub fn fail(&self, message_key: &'static str, detail: Option<String>) {
        self.progress
            .send_modify(|p| p.state = State::Failed { message_key, detail });
    }

    /// Waits up to `wait` for the export to end; its progress then.
    pub async fn settled(&self, wait: Duration) -> Progress {
        let mut rx = self.progress.subscribe();
        let _ = tokio::time::timeout(wait, rx.wait_for(|p| p.state != State::Running)).await;
        self.progress()
    }
}

/// Why a new export was not started.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// This user already has [`PER_USER`] exports running.
    Busy,
    /// The console holds [`TOTAL`] exports.
    Full,
}

/// The exports of this console process.
#[derive(Clone, Default)]
pub struct Exports {
    jobs: Arc<Mutex<HashMap<String, Arc<Job>>>>,
}

impl Exports {
    /// A new running job for `owner`, after dropping expired ones.
    pub fn start(&self, owner: &str, format: &str, title: String) -> Result<Arc<Job>, Refused> {
        let mut jobs = self.jobs.lock().expect("the export list is never poisoned");
        jobs.retain(|_, j| j.started.elapsed() < KEEP);
        let running = jobs
            .values()
            .filter(|j| j.owner == owner && j.progress.borrow().state == State::Running)
            .count();
        if running >= PER_USER {
            return Err(Refused::Busy);
        }
        if jobs.len() >= TOTAL {
            return Err(Refused::Full);
        }
        let bytes: [u8; 16] = rand::random();
        let id = crate::csrf::hex(&bytes);
        let (progress, _) = watch::channel(Progress {
            state: State::Running,
            bytes: 0,
            total: None,
            file: None,
        });
        let job = Arc::new(Job {
            id: id.clone(),
            owner: owner.to_owned(),
            format: format.to_owned(),
            title,
            started: Instant::now(),
            progress,
        });
        jobs.insert(id, job.clone());
        Ok(job)
    }

    /// The job `id` if `owner` started it and it has not expired.
    pub fn get(&self, id: &str, owner: &str) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().expect("the export list is never poisoned");
        jobs.get(id)
            .filter(|j| j.owner == owner && j.started.elapsed() < KEEP)
            .cloned()
    }
}

/// The text key (and explanation) for a failed fetch from reporting.
pub fn failure(e: &BackendError) -> (&'static str, Option<String>) {
    match e {
        BackendError::Refused {
            status: 422 | 400,
            message,
            field,
            ..
        } => match field.as_deref() {
            Some("period") => ("err_period", None),
            _ => ("err_invalid", Some(message.clone()).filter(|m| !m.is_empty())),
        },
        BackendError::Refused { status: 403, .. } => ("err_forbidden", None),
        BackendError::Refused { status: 404, .. } => ("err_not_found", None),
        BackendError::Refused { .. } | BackendError::Unexpected(..) => ("err_internal", None),
        BackendError::Unavailable(_) => ("err_unavailable", None),
    }
}

/// The download's file name: reporting's (`report-2026-11-sh01.xlsx`) with the report's kind, or one made from
/// the kind; only characters every file system and header takes.
pub fn file_name(kind: &str, reporting: Option<&str>, extension: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect()
    };
    let given = reporting
        .and_then(|d| d.split("filename=").nth(1))
        .map(|f| safe(f.trim_matches(|c| c == '"' || c == ';' || c == ' ')))
        .and_then(|f| f.strip_prefix("report-").map(str::to_owned))
        .filter(|rest| !rest.is_empty() && !rest.starts_with('.'));
    match given {
        Some(rest) => format!("report-{}-{rest}", safe(kind)),
        None => format!("report-{}.{}", safe(kind), safe(extension)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_for_their_owner_and_limited() {
        let exports = Exports::default();
        let job = exports.start("u1", "xlsx", "Monthly".into()).unwrap();
        assert!(exports.get(&job.id, "u1").is_some());
        assert!(
            exports.get(&job.id, "u2").is_none(),
            "another user's export is not found"
        );
        assert_eq!(job.id.len(), 32);
        for _ in 1..PER_USER {
            exports.start("u1", "csv", "x".into()).unwrap();
        }
        assert_eq!(exports.start("u1", "csv", "x".into()).err(), Some(Refused::Busy));
        // A finished export no longer counts as running.
        job.finish(File {
            content_type: "text/csv".into(),
            name: "r.csv".into(),
            body: b"a,b".to_vec(),
        });
        assert!(exports.start("u1", "csv", "x".into()).is_ok());
        assert!(exports.start("u2", "csv", "x".into()).is_ok(), "others are not held up");
    }

    #[tokio::test]
    async fn waiting_ends_when_the_export_does() {
        let exports = Exports::default();
        let job = exports.start("u1", "csv", "x".into()).unwrap();
        let running = job.settled(Duration::from_millis(10)).await;
        assert_eq!(running.state, State::Running);
        job.set_bytes(1200, Some(5000));
        assert_eq!((job.progress().bytes, job.progress().total), (1200, Some(5000)));
        let j = job.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            j.fail("err_unavailable", None);
        });
        let failed = job.settled(Duration::from_secs(5)).await;
        assert_eq!(
            failed.state,
            State::Failed {
                message_key: "err_unavailable",
                detail: None
            }
        );
    }

    #[test]
    fn file_names_say_what_the_report_is_and_nothing_else() {
        assert_eq!(
            file_name(
                "monthly",
                Some("attachment; filename=\"report-2026-11-sh01.xlsx\""),
                "xlsx"
            ),
            "report-monthly-2026-11-sh01.xlsx"
        );
        assert_eq!(
            file_name(
                "monthly",
                Some("attachment; filename=\"report-../../x\r\n.csv\""),
                "csv"
            ),
            "report-monthly.csv",
            "nothing of a path or a header break gets through"
        );
        assert_eq!(file_name("annual", None, "html"), "report-annual.html");
    }
}
