//! A real IMAP server for tests and benchmarks: Debian's dovecot (`dovecot-imapd`), configured in a
//! temporary directory on a free loopback port, plain IMAP, one user with a maildir. Each instance is
//! its own server, so tests run in parallel.
use std::{
    os::unix::fs::PermissionsExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use futures::TryStreamExt;

pub const DOVECOT: &str = "/usr/sbin/dovecot";

pub struct Dovecot {
    pub port: u16,
    pub dir: PathBuf,
    pub user: String,
    pub password: String,
    child: Child,
}

pub type ImapSession = async_imap::Session<tokio::net::TcpStream>;

fn id(flag: &str) -> anyhow::Result<String> {
    let out = Command::new("id").arg(flag).output().context("running id")?;
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

impl Dovecot {
    /// Starts a server and waits until it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        if !std::path::Path::new(DOVECOT).exists() {
            bail!("{DOVECOT} is missing: install dovecot-imapd (scripts/infra.sh installs it)");
        }
        let dir = std::env::temp_dir().join(format!("imap-{}", crate::unique()));
        let mail = dir.join("mail");
        std::fs::create_dir_all(&mail)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let port = crate::free_port();
        let (user, password) = ("tester".to_owned(), format!("pw-{}", crate::unique()));
        // As root, dovecot runs its processes as its own users and refuses mail access as uid 0: the
        // mail belongs to `nobody`. Otherwise everything runs as the current user.
        let root = id("-u")? == "0";
        let (internal_user, login_user, mail_uid, mail_gid) = if root {
            ("dovecot".to_owned(), "dovenull".to_owned(), 65534u32, 65534u32)
        } else {
            let me = id("-un")?;
            (me.clone(), me, id("-u")?.parse()?, id("-g")?.parse()?)
        };
        if root {
            std::os::unix::fs::chown(&mail, Some(mail_uid), Some(mail_gid))?;
        }
        std::fs::write(dir.join("users"), format!("{user}:{{PLAIN}}{password}::::::\n"))?;
        let d = dir.display();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             default_internal_user = {internal_user}\ndefault_internal_group = {internal_user}\n\
             default_login_user = {login_user}\nfirst_valid_uid = 1\n\
             mail_location = maildir:{d}/mail/%u\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/users\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_uid} gid={mail_gid} home={d}/mail/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
             inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        let conf_path = dir.join("dovecot.conf");
        std::fs::write(&conf_path, conf)?;
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting dovecot")?;
        let server = Self {
            port,
            dir,
            user,
            password,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = server.session().await {
                let _ = s.logout().await;
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("dovecot did not start; its log:\n{}", server.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// A logged-in session.
    pub async fn session(&self) -> anyhow::Result<ImapSession> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await?.context("no greeting")?;
        client
            .login(&self.user, &self.password)
            .await
            .map_err(|(e, _)| e.into())
    }

    /// Appends messages to INBOX (unseen), in order, over one connection.
    pub async fn append_all<M: AsRef<[u8]>>(&self, messages: &[M]) -> anyhow::Result<()> {
        let mut s = self.session().await?;
        for m in messages {
            s.append("INBOX", None, None, m.as_ref()).await?;
        }
        s.logout().await?;
        Ok(())
    }

    /// Appends messages to `folder` (created if missing) over one connection.
    pub async fn append_all_to<M: AsRef<[u8]>>(&self, folder: &str, messages: &[M]) -> anyhow::Result<()> {
        let mut s = self.session().await?;
        let _ = s.create(folder).await;
        for m in messages {
            s.append(folder, None, None, m.as_ref()).await?;
        }
        s.logout().await?;
        Ok(())
    }

    /// Moves every message of `from` into `to` in one command (new mail arriving all at once).
    pub async fn move_all(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let mut s = self.session().await?;
        s.select(from).await?;
        s.uid_mv("1:*", to).await?;
        s.logout().await?;
        Ok(())
    }

    pub async fn append(&self, message: &[u8]) -> anyhow::Result<()> {
        self.append_all(&[message]).await
    }

    /// `(uid, seen)` of every message in INBOX.
    pub async fn flags(&self) -> anyhow::Result<Vec<(u32, bool)>> {
        let mut s = self.session().await?;
        s.examine("INBOX").await?;
        let fetches: Vec<async_imap::types::Fetch> =
            s.fetch("1:*", "(UID FLAGS)")
                .await?
                .try_collect()
                .await
                .or_else(|e| match e {
                    // An empty mailbox has no message 1.
                    async_imap::error::Error::Bad(_) | async_imap::error::Error::No(_) => Ok(vec![]),
                    e => Err(e),
                })?;
        let flags = fetches
            .iter()
            .filter_map(|f| {
                let seen = f.flags().any(|fl| matches!(fl, async_imap::types::Flag::Seen));
                f.uid.map(|u| (u, seen))
            })
            .collect();
        s.logout().await?;
        Ok(flags)
    }

    /// How many messages in INBOX are `\Seen`, and how many there are.
    pub async fn seen_of_total(&self) -> anyhow::Result<(usize, usize)> {
        let flags = self.flags().await?;
        Ok((flags.iter().filter(|(_, seen)| *seen).count(), flags.len()))
    }

    /// The intake mailbox settings (JSON for `APP__EMAIL__MAILBOXES_JSON`) for this server.
    pub fn mailbox_json(&self, name: &str, site: &str, poll_interval_secs: u64) -> String {
        serde_json::json!([{
            "name": name, "host": "127.0.0.1", "port": self.port, "tls": false,
            "username": self.user, "password": self.password, "folder": "INBOX", "site": site,
            "poll_interval_secs": poll_interval_secs, "idle": true,
        }])
        .to_string()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its children; then make sure.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
