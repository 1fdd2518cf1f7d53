//! The five services as real processes (the binaries cargo built), each with its own database,
//! sharing a broker under a unique name prefix.
use std::{
    collections::HashMap,
    fs::OpenOptions,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};

use crate::Infra;

pub const SERVICES: [&str; 5] = ["intake", "triage", "notification", "reporting", "scheduler"];

/// The staff console: no database, it calls the five services (started on demand, [`Stack::start_console`]).
pub const CONSOLE: &str = "console";

pub struct StackOptions {
    pub amqp_url: String,
    /// When set, the stack gets its own vhost on this node, deleted when the stack is dropped.
    pub rabbit_node: Option<String>,
    pub smtp_port: u16,
    pub sites: Vec<String>,
    /// Extra `APP__…` settings for every service.
    pub env: Vec<(String, String)>,
}

pub struct Stack {
    pub prefix: String,
    pub databases: HashMap<&'static str, String>,
    pub ports: HashMap<&'static str, u16>,
    env: Vec<(String, String)>,
    vhost: Option<(String, String)>,
    processes: HashMap<&'static str, Child>,
    log_dir: PathBuf,
    bin_dir: PathBuf,
    /// To drop the databases when the stack goes (a run of the suite would otherwise leave hundreds).
    infra: Infra,
}

/// Where cargo put the service binaries: beside this test or bench executable.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.parent().expect("profile dir").to_path_buf()
    } else {
        dir
    }
}

impl Stack {
    pub async fn start(infra: &Infra, options: StackOptions) -> anyhow::Result<Self> {
        let prefix = format!("t{}.", crate::unique());
        let vhost_name = prefix.trim_end_matches('.').to_owned();
        let (amqp_url, vhost) = match &options.rabbit_node {
            Some(node) => (
                crate::rabbit::create_vhost(node, &vhost_name, &options.amqp_url)?,
                Some((node.clone(), vhost_name)),
            ),
            None => (options.amqp_url.clone(), None),
        };
        let mut databases = HashMap::new();
        let mut ports = HashMap::new();
        for svc in SERVICES {
            databases.insert(svc, infra.create_database(svc).await?);
            ports.insert(svc, crate::free_port());
        }
        let mut env = vec![
            ("APP__BUS__URL".to_owned(), amqp_url.clone()),
            ("APP__BUS__NAME_PREFIX".to_owned(), prefix.clone()),
            ("APP__SMTP__PORT".to_owned(), options.smtp_port.to_string()),
            ("APP__SITES__KNOWN".to_owned(), options.sites.join(",")),
            // Tests read reports right after the events that change them: build them every time (reporting's own
            // tests cover its snapshots). `options.env` may turn them back on.
            (
                "APP__REPORTING__SNAPSHOTS__FRESH_FOR_SECONDS".to_owned(),
                "0".to_owned(),
            ),
            (
                "RUST_LOG".to_owned(),
                std::env::var("TEST_SERVICE_LOG").unwrap_or_else(|_| "info".into()),
            ),
        ];
        env.extend(options.env);
        let log_dir = bin_dir().join("e2e-logs").join(prefix.trim_end_matches('.'));
        std::fs::create_dir_all(&log_dir)?;
        let mut stack = Self {
            prefix,
            databases,
            ports,
            env,
            vhost,
            processes: HashMap::new(),
            log_dir,
            bin_dir: bin_dir(),
            infra: infra.clone(),
        };
        // Consumers first, so their queues exist before intake publishes.
        for svc in ["triage", "notification", "reporting", "scheduler", "intake"] {
            stack.spawn(svc)?;
        }
        for svc in SERVICES {
            stack.wait_ready(svc).await?;
        }
        Ok(stack)
    }

    /// Starts the staff console against this stack's services; its URL is then `url(CONSOLE)`.
    pub async fn start_console(&mut self) -> anyhow::Result<()> {
        self.ports.insert(CONSOLE, crate::free_port());
        self.spawn(CONSOLE)?;
        self.wait_ready(CONSOLE).await
    }

    /// The broker URL the services use (their own vhost when one was made).
    pub fn amqp_url(&self) -> &str {
        &self
            .env
            .iter()
            .find(|(k, _)| k == "APP__BUS__URL")
            .expect("set in start")
            .1
    }

    pub fn url(&self, svc: &str) -> String {
        format!("http://127.0.0.1:{}", self.ports[svc])
    }

    pub async fn pool(&self, svc: &str) -> anyhow::Result<sqlx::PgPool> {
        Ok(sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect(&self.databases[svc])
            .await?)
    }

    pub fn spawn(&mut self, svc: &'static str) -> anyhow::Result<()> {
        let bin = self.bin_dir.join(svc);
        if !bin.exists() {
            bail!(
                "{} is missing: build the binaries first (`cargo build --workspace --bins`)",
                bin.display()
            );
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_dir.join(format!("{svc}.log")))?;
        let mut command = Command::new(&bin);
        command
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("APP__HTTP__PORT", self.ports[svc].to_string())
            .env("APP__HTTP__PUBLIC_URL", self.url(svc));
        // The console has no database of its own.
        if let Some(database) = self.databases.get(svc) {
            command.env("APP__DATABASE__URL", database);
        }
        if svc == CONSOLE {
            for backend in SERVICES {
                command.env(format!("APP__BACKENDS__{}", backend.to_uppercase()), self.url(backend));
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        self.processes.insert(svc, child);
        Ok(())
    }

    pub async fn wait_ready(&self, svc: &str) -> anyhow::Result<()> {
        let url = format!("{}/health/ready", self.url(svc));
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(&url).timeout(Duration::from_secs(2)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{svc} not ready after 60 s; log tail:\n{}", self.log_tail(svc))
    }

    /// Everything `svc` has logged so far.
    pub fn logs(&self, svc: &str) -> String {
        std::fs::read_to_string(self.log_dir.join(format!("{svc}.log"))).unwrap_or_default()
    }

    pub fn log_tail(&self, svc: &str) -> String {
        let text = std::fs::read_to_string(self.log_dir.join(format!("{svc}.log"))).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// SIGKILL: a crash, with no chance to finish anything.
    pub fn kill(&mut self, svc: &str) {
        if let Some(mut child) = self.processes.remove(svc) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait: a graceful stop.
    pub fn terminate(&mut self, svc: &str) -> anyhow::Result<()> {
        if let Some(mut child) = self.processes.remove(svc) {
            Command::new("kill").arg("-TERM").arg(child.id().to_string()).status()?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if child.try_wait()?.is_some() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            bail!("{svc} did not stop within 30 s of SIGTERM");
        }
        Ok(())
    }

    pub async fn restart(&mut self, svc: &'static str) -> anyhow::Result<()> {
        self.spawn(svc)?;
        self.wait_ready(svc).await
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for (_, mut child) in self.processes.drain() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some((node, vhost)) = &self.vhost {
            crate::rabbit::delete_vhost(node, vhost);
        }
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread with a runtime of its own.
        let infra = self.infra.clone();
        let databases: Vec<String> = self.databases.drain().map(|(_, url)| url).collect();
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(async {
                    for url in databases {
                        infra.drop_database(&url).await;
                    }
                });
            }
        })
        .join();
    }
}
