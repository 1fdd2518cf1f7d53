//! Attachments: what a file really is (by its first bytes, not by what the sender says), and where
//! its bytes live. Files are content-addressed (SHA-256), so storing the same file twice is harmless
//! and a failed registration leaves at most an orphan file, never a register row without its file.
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

/// Where attachment bytes are kept. A local directory today; an S3-compatible store can implement
/// the same two calls.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Stores `bytes` and returns the key to fetch them with (the same bytes always get the same key).
    async fn put(&self, bytes: &[u8]) -> std::io::Result<String>;
    /// The bytes stored under `key`, or `None` if there are none.
    async fn get(&self, key: &str) -> std::io::Result<Option<Vec<u8>>>;
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A directory on the local disk: `<dir>/<first two hex digits>/<sha256>`.
pub struct LocalDirStore {
    dir: PathBuf,
}

impl LocalDirStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        let valid = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        valid.then(|| self.dir.join(&key[..2]).join(key))
    }
}

#[async_trait]
impl AttachmentStore for LocalDirStore {
    async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let key = sha256_hex(bytes);
        let path = self.path_of(&key).expect("a sha256 is a valid key");
        if tokio::fs::try_exists(&path).await? {
            return Ok(key);
        }
        let parent = path.parent().expect("has a parent");
        tokio::fs::create_dir_all(parent).await?;
        // Write aside, flush, then rename: a reader never sees half a file.
        let tmp = parent.join(format!(".{key}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let result = async {
            let mut f = tokio::fs::File::create(&tmp).await?;
            tokio::io::AsyncWriteExt::write_all(&mut f, bytes).await?;
            f.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result.map(|_| key)
    }

    async fn get(&self, key: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path_of(key) else {
            return Ok(None);
        };
        match tokio::fs::read(path).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The type of a file judged by its content: JPEG, PNG, PDF or plain (UTF-8) text; `None` for
/// anything else (executables, archives, office files, …).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if is_plain_text(bytes) {
        Some("text/plain")
    } else {
        None
    }
}

fn is_plain_text(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    !bytes.is_empty()
        && std::str::from_utf8(bytes).is_ok_and(|s| {
            s.chars()
                .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{0c}'))
        })
}

/// A file name safe to store and show: its last path component, without control characters,
/// at most 200 characters.
pub fn clean_file_name(name: Option<&str>) -> String {
    let base = name
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>();
    let base = base.trim();
    if base.is_empty() || base == "." || base == ".." {
        "attachment".to_owned()
    } else {
        base.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), Some("application/pdf"));
        assert_eq!(sniff("包装破损\r\nbox broken\t1".as_bytes()), Some("text/plain"));
        assert_eq!(sniff(b"\xEF\xBB\xBFwith a BOM"), Some("text/plain"));
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), None);
        assert_eq!(sniff(&[0xC3, 0x28, 0x41]), None, "invalid UTF-8");
        assert_eq!(sniff(b"text with a \0 NUL"), None);
        assert_eq!(sniff(b""), None);
        // A PNG header that stops short is not a PNG.
        assert_eq!(sniff(b"\x89PNG"), None);
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_file_name(Some("C:\\Users\\me\\照片.png")), "照片.png");
        assert_eq!(clean_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_file_name(Some("a\u{0007}b.txt")), "ab.txt");
        assert_eq!(clean_file_name(None), "attachment");
        assert_eq!(clean_file_name(Some("..")), "attachment");
    }

    #[tokio::test]
    async fn local_store_is_content_addressed() {
        let dir = std::env::temp_dir().join(format!("intake-att-{}", uuid::Uuid::new_v4().simple()));
        let store = LocalDirStore::new(&dir);
        let key = store.put(b"hello").await.unwrap();
        assert_eq!(key, sha256_hex(b"hello"));
        assert_eq!(store.put(b"hello").await.unwrap(), key);
        assert_eq!(store.get(&key).await.unwrap().as_deref(), Some(&b"hello"[..]));
        assert_eq!(store.get(&sha256_hex(b"other")).await.unwrap(), None);
        assert_eq!(store.get("../../etc/passwd").await.unwrap(), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
