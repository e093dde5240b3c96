//! kept as a desk under test: `kept serve` in a child process on a scratch
//! database, driven over its API like any client would.

use super::desk::{Desk, DeskClient};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `kept serve`, stopped (SIGKILL) and reaped on drop.
pub struct Server {
    child: Child,
    pub base: String,
    /// From spawning the process to the first answered request.
    pub start_up: Duration,
}

impl Server {
    /// Starts this very binary on `database_url` (already migrated and
    /// seeded) on a free loopback port and waits for its first answer.
    pub fn start(database_url: &str) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the kept binary: {e}"))?;
        let spawned = Instant::now();
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", database_url])
            // Slow pool acquisitions are what a saturating load is made of: not news.
            .env("KEPT_LOG", "warn,sqlx::pool::acquire=error")
            .env_remove("KEPT_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start kept serve: {e}"))?;
        let Some(stdout) = child.stdout.take() else {
            return Err("kept serve has no stdout".into());
        };
        let mut lines = BufReader::new(stdout).lines();
        let first = match lines.next() {
            Some(Ok(line)) => line,
            _ => {
                let _ = child.kill();
                return Err("kept serve stopped before it listened".into());
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        let Some(base) = first.strip_prefix("kept is running at ").map(str::to_owned) else {
            let _ = child.kill();
            return Err(format!("unexpected first line from kept serve: {first}"));
        };
        let mut server = Server { child, base, start_up: Duration::ZERO };
        let agent = agent();
        // The port is bound before the first line is printed: one request
        // tells when kept answers.
        match agent.get(&format!("{}/login", server.base)).call() {
            Ok(r) if r.status().is_success() => server.start_up = spawned.elapsed(),
            Ok(r) => return Err(format!("kept's first answer was HTTP {}", r.status())),
            Err(e) => return Err(format!("kept did not answer: {e}")),
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Keeps connections alive between requests where the server allows it,
/// like any real client; status codes are read, not turned into errors;
/// redirects are not followed (a login answers with its session cookie on
/// the redirect itself).
///
/// Every phase after the name look-up is bounded, but not the whole call nor
/// the look-up: with either set, ureq resolves each request's host on a
/// thread it spawns to time it out, even for a loopback address and a pooled
/// connection. That thread per request was half of the bench's own CPU time
/// per request (BENCHMARKS.md, "A thread per request in the bench's
/// clients") and crowded the server it measures on the same two cores.
pub fn agent() -> ureq::Agent {
    let bound = Some(Duration::from_secs(120));
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(bound)
        .timeout_send_request(bound)
        .timeout_send_body(bound)
        .timeout_recv_response(bound)
        .timeout_recv_body(bound)
        .build()
        .into()
}

/// The demo's agent, filing cases for the demo's contacts.
pub struct KeptDesk {
    pub base: String,
    pub token: String,
    pub requesters: Vec<i64>,
}

impl KeptDesk {
    /// Reads the contacts to file cases for through the API.
    pub fn connect(base: &str, token: &str) -> Result<KeptDesk, String> {
        let mut client =
            KeptClient { agent: agent(), base: base.to_owned(), auth: format!("Bearer {token}"), requesters: vec![] };
        let contacts = client.call("GET", "/api/v1/contacts?limit=50", None)?;
        let requesters: Vec<i64> = contacts["users"]
            .as_array()
            .map(|items| items.iter().filter_map(|c| c["id"].as_i64()).collect())
            .unwrap_or_default();
        if requesters.is_empty() {
            return Err(format!("no contacts to file cases for: {contacts}"));
        }
        Ok(KeptDesk { base: base.to_owned(), token: token.to_owned(), requesters })
    }
}

impl Desk for KeptDesk {
    fn name(&self) -> &str {
        "kept"
    }

    fn client(&self) -> Result<Box<dyn DeskClient>, String> {
        Ok(Box::new(KeptClient {
            agent: agent(),
            base: self.base.clone(),
            auth: format!("Bearer {}", self.token),
            requesters: self.requesters.clone(),
        }))
    }
}

struct KeptClient {
    agent: ureq::Agent,
    base: String,
    auth: String,
    requesters: Vec<i64>,
}

impl KeptClient {
    fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let (status, text) = exchange(&self.agent, &self.base, &self.auth, method, path, body)?;
        if !status.is_success() {
            return Err(format!("{method} {path}: HTTP {status}: {}", text.chars().take(200).collect::<String>()));
        }
        serde_json::from_str(&text).map_err(|e| format!("{method} {path}: not JSON: {e}"))
    }
}

/// One request to kept's API with a token (GET, PATCH with a body, else
/// POST): the status and the body's text. Only a failed connection is an error.
pub fn exchange(
    agent: &ureq::Agent,
    base: &str,
    auth: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<(ureq::http::StatusCode, String), String> {
    let url = format!("{base}{path}");
    let answer = match (method, body) {
        ("GET", _) => agent.get(&url).header("authorization", auth).call(),
        ("PATCH", Some(b)) => agent.patch(&url).header("authorization", auth).send_json(b),
        (_, b) => agent.post(&url).header("authorization", auth).send_json(b.unwrap_or(Value::Null)),
    };
    let mut answer = answer.map_err(|e| format!("{method} {path}: {e}"))?;
    let status = answer.status();
    let text = answer.body_mut().read_to_string().map_err(|e| format!("{method} {path}: {e}"))?;
    Ok((status, text))
}

impl DeskClient for KeptClient {
    fn create(&mut self, n: u64) -> Result<String, String> {
        let requester = self.requesters[(n as usize) % self.requesters.len()];
        let case = self.call(
            "POST",
            "/api/v1/cases",
            Some(json!({
                "subject": format!("Intake {n}: the printer on the third floor jams"),
                "message": "Since this morning every print job stops half-way with a paper jam. We tried another tray.",
                "requester_id": requester,
                "channel": "email",
            })),
        )?;
        case["id"].as_i64().map(|id| id.to_string()).ok_or_else(|| format!("POST /api/v1/cases: no id in {case}"))
    }

    fn reply(&mut self, id: &str) -> Result<(), String> {
        self.call(
            "POST",
            &format!("/api/v1/cases/{id}/messages"),
            Some(json!({"body": "Thanks, we are on it: a technician comes by at three.", "public": true})),
        )
        .map(drop)
    }

    fn solve(&mut self, id: &str) -> Result<(), String> {
        self.call("PATCH", &format!("/api/v1/cases/{id}"), Some(json!({"status": "solved"}))).map(drop)
    }
}
