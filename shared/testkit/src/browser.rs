//! Headless Chromium driven through WebDriver: chromedriver started on a free port, one browser
//! session with a fresh profile. Needs Debian's `chromium` and `chromium-driver`
//! (`CHROMIUM`/`CHROMEDRIVER` override the paths).
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

pub struct Browser {
    pub client: Client,
    driver: Driver,
}

/// chromedriver and the browser profile; stopped and removed when dropped, however the test ends.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGTERM lets chromedriver end its Chromium; SIGKILL if it does not go.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session with a `width`×`height` window.
    pub async fn start(width: u32, height: u32) -> anyhow::Result<Self> {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        if !std::path::Path::new(&chromedriver).exists() {
            bail!("{chromedriver} is missing: install Debian's `chromium` and `chromium-driver`");
        }
        let port = crate::free_port();
        let profile = std::env::temp_dir().join(format!("testkit-chromium-{}", crate::unique()));
        std::fs::create_dir_all(&profile)?;
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {chromedriver}"))?;
        let driver = Driver {
            child,
            profile: profile.clone(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{url}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not answer on port {port} within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        // chromedriver speaks plain HTTP on loopback: no TLS stack needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&url)
            .await;
        match client {
            Ok(client) => Ok(Self { client, driver }),
            Err(e) => Err(anyhow::anyhow!("starting a Chromium session: {e}")),
        }
    }

    /// A PNG of the visible window, written to `path` (directories created).
    pub async fn screenshot(&self, path: impl Into<PathBuf>) -> anyhow::Result<PathBuf> {
        let path = path.into();
        let png = self.client.screenshot().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session (Chromium exits), then stops chromedriver.
    pub async fn close(self) {
        let Browser { client, driver } = self;
        let _ = client.close().await;
        drop(driver);
    }
}

/// Where screenshots go: `target/screenshots/` of the workspace.
pub fn screenshot_dir() -> PathBuf {
    crate::services::bin_dir()
        .parent()
        .map(|target| target.join("screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/screenshots"))
}
