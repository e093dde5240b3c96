#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub fn kept() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kept"));
    c.env_remove("KEPT_DATABASE_URL").env_remove("KEPT_LISTEN").env_remove("KEPT_CONFIG").env("KEPT_LOG", "warn");
    c
}

pub fn run(args: &[&str]) -> Output {
    kept().args(args).output().unwrap()
}

/// `GET path` with an API token; the JSON answer (a failure panics).
pub fn get(base: &str, token: &str, path: &str) -> serde_json::Value {
    ureq::get(&format!("{base}{path}"))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .body_mut()
        .read_json()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir =
            std::env::temp_dir().join(format!("kept-cli-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}/kept.db", self.0.display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `kept serve` on port 0, killed on drop.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub url: String,
}

impl Served {
    pub fn start(url: &str) -> Served {
        Self::start_with(url, &[])
    }

    /// With more arguments (e.g. `--config FILE`).
    pub fn start_with(url: &str, extra: &[&str]) -> Served {
        let mut child = kept()
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // The first line names the address; no sleeping, no polling.
        let first = lines.next().unwrap().unwrap();
        let base =
            first.strip_prefix("kept is running at ").unwrap_or_else(|| panic!("unexpected: {first}")).to_owned();
        std::thread::spawn(move || for _ in lines {});
        Served { child, base, url: url.to_owned() }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
