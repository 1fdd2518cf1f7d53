//! A private RabbitMQ node for tests that stop and start the broker (so they never disturb the
//! shared test broker other tests use).
use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};

pub struct RabbitNode {
    pub node: String,
    pub port: u16,
    dist_port: u16,
    dir: PathBuf,
}

impl RabbitNode {
    /// Starts a new node on free ports with its data in a fresh directory; waits until it answers.
    pub fn start() -> anyhow::Result<Self> {
        let id = crate::unique();
        let node = Self {
            node: format!("t{id}@localhost"),
            port: crate::free_port(),
            dist_port: crate::free_port(),
            dir: std::env::temp_dir().join(format!("rabbit-{id}")),
        };
        std::fs::create_dir_all(&node.dir)?;
        std::fs::write(node.dir.join("enabled_plugins"), "[].\n")?;
        std::fs::write(
            node.dir.join("rabbitmq.conf"),
            "disk_free_limit.absolute = 50MB\nvm_memory_high_watermark.relative = 0.4\n",
        )?;
        let _ = Command::new("chown")
            .arg("-R")
            .arg("rabbitmq:rabbitmq")
            .arg(&node.dir)
            .status();
        node.launch()?;
        Ok(node)
    }

    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn launch(&self) -> anyhow::Result<()> {
        let d = self.dir.display();
        Command::new("setsid")
            .arg("/usr/sbin/rabbitmq-server")
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", format!("{d}/mnesia"))
            .env("RABBITMQ_LOG_BASE", format!("{d}/log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", format!("{d}/enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", format!("{d}/rabbitmq"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting rabbitmq-server (apt-get install rabbitmq-server)")?;
        self.wait_until(true, Duration::from_secs(90))
    }

    fn ctl(&self, args: &[&str]) -> bool {
        Command::new("/usr/sbin/rabbitmqctl")
            .arg("-n")
            .arg(&self.node)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn answers(&self) -> bool {
        std::net::TcpStream::connect_timeout(
            &format!("127.0.0.1:{}", self.port).parse().expect("address"),
            Duration::from_millis(200),
        )
        .is_ok()
            && Command::new("/usr/sbin/rabbitmq-diagnostics")
                .args(["-q", "-n", &self.node, "check_running"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    }

    fn wait_until(&self, up: bool, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.answers() == up {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        bail!(
            "RabbitMQ node {} did not become {}",
            self.node,
            if up { "ready" } else { "stopped" }
        )
    }

    /// Stops the whole node (connections drop, like a broker restart).
    pub fn stop(&self) -> anyhow::Result<()> {
        self.ctl(&["stop"]);
        self.wait_until(false, Duration::from_secs(60))
    }

    /// Starts it again with the same data.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.launch()
    }

    /// Messages ready in `queue`, from the broker itself.
    pub fn queue_depth(&self, queue: &str) -> Option<u64> {
        let out = Command::new("/usr/sbin/rabbitmqctl")
            .args(["-q", "-n", &self.node, "list_queues", "name", "messages"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next()? == queue).then(|| parts.next()?.parse().ok())?
        })
    }
}

/// Creates a vhost on `node` for the guest user and returns `amqp_url` pointed at it.
pub fn create_vhost(node: &str, vhost: &str, amqp_url: &str) -> anyhow::Result<String> {
    let ctl = |args: &[&str]| {
        Command::new("/usr/sbin/rabbitmqctl")
            .args(["-q", "-n", node])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ctl(&["add_vhost", vhost]) || !ctl(&["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]) {
        bail!("cannot create vhost {vhost} on {node}");
    }
    let base = amqp_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(amqp_url);
    Ok(format!("{base}/{vhost}"))
}

/// Deletes a vhost and everything in it (queues, exchanges).
pub fn delete_vhost(node: &str, vhost: &str) {
    let _ = Command::new("/usr/sbin/rabbitmqctl")
        .args(["-q", "-n", node, "delete_vhost", vhost])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        self.ctl(&["stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
