//! The peers kept is measured against, Request Tracker 5 and django-helpdesk,
//! installed on this machine and started by the scripts under `bench/peers/`
//! (see bench/peers/README.md), then driven through the same [`Desk`] trait
//! as kept: the same three requests per case, on loopback.

use super::desk::{Desk, DeskClient};
use super::kept_desk::agent;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A peer started by `bench/peers/<script> start`, stopped by
/// `<script> stop` on drop.
pub struct Peer {
    script: PathBuf,
    vars: HashMap<String, String>,
}

impl Peer {
    /// Runs `bench/peers/<script> start` under `repo_root` (it installs the
    /// peer first if it is not yet), and reads the `KEY=VALUE` lines it
    /// prints. The script's log goes to this process's stderr.
    pub fn start(repo_root: &Path, script: &str) -> Result<Peer, String> {
        let script = repo_root.join("bench/peers").join(script);
        if !script.is_file() {
            return Err(format!("peer script {} not found", script.display()));
        }
        let output = Command::new("bash")
            .arg(&script)
            .arg("start")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {} start: {e}", script.display()))?;
        // From here on a running peer is stopped on every way out.
        let mut peer = Peer { script, vars: HashMap::new() };
        if !output.status.success() {
            return Err(format!("{} start failed ({})", peer.script.display(), output.status));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!("{} start printed {line:?}, not KEY=VALUE", peer.script.display()));
            };
            peer.vars.insert(key.trim().to_owned(), value.trim().to_owned());
        }
        peer.var("BASE_URL")?;
        Ok(peer)
    }

    /// One of the values the script printed.
    pub fn var(&self, key: &str) -> Result<&str, String> {
        self.vars
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("{} start did not print {key}=", self.script.display()))
    }

    /// The peer's process group (server and workers), for sampling memory.
    pub fn pgid(&self) -> Option<u32> {
        self.vars.get("PGID").and_then(|p| p.parse().ok())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status();
    }
}

// The same texts and the same 50 requesters as kept's own desk client, so
// every desk stores the same amount of text per case.
const REQUESTERS: u64 = 50;
fn subject(n: u64) -> String {
    format!("Intake {n}: the printer on the third floor jams")
}
const MESSAGE: &str = "Since this morning every print job stops half-way with a paper jam. We tried another tray.";
const REPLY: &str = "Thanks, we are on it: a technician comes by at three.";
fn requester(n: u64) -> String {
    format!("customer{}@example.com", n % REQUESTERS)
}

/// The body of an answer as JSON, if its status is the one wanted; else an
/// error naming the step and the status.
fn expect(
    step: &str,
    answer: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    want: u16,
) -> Result<Value, String> {
    let mut answer = answer.map_err(|e| format!("{step}: {e}"))?;
    let status = answer.status();
    let text = answer.body_mut().read_to_string().map_err(|e| format!("{step}: HTTP {status}: {e}"))?;
    if status.as_u16() != want {
        return Err(format!("{step}: HTTP {status} (wanted {want}): {}", text.chars().take(300).collect::<String>()));
    }
    serde_json::from_str(&text).map_err(|e| format!("{step}: HTTP {status} but not JSON ({e})"))
}

// ---------------------------------------------------------------- RT 5

/// Request Tracker 5 through REST2, as root, in one queue.
pub struct Rt5 {
    base: String,
    user: String,
    password: String,
    queue: String,
}

impl Rt5 {
    /// From the values `rt5.sh start` printed.
    pub fn from_peer(peer: &Peer) -> Result<Rt5, String> {
        Ok(Rt5 {
            base: peer.var("BASE_URL")?.to_owned(),
            user: peer.var("USER")?.to_owned(),
            password: peer.var("PASSWORD")?.to_owned(),
            queue: peer.var("QUEUE")?.to_owned(),
        })
    }

    fn login(&self) -> Result<Rt5Client, String> {
        let agent = agent();
        // The login form, once per client: HTTP Basic on every request
        // would re-hash the password each time (~230 ms), which no browser
        // user of RT pays. RestrictReferrer is off in the site config.
        let mut answer = agent
            .post(&format!("{}/NoAuth/Login.html", self.base))
            .send_form([("user", self.user.as_str()), ("pass", self.password.as_str())])
            .map_err(|e| format!("rt5 login: {e}"))?;
        let status = answer.status();
        let cookie = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|c| c.starts_with("RT_SID_"))
            .map(str::to_owned)
            .ok_or_else(|| format!("rt5 login: HTTP {status} without an RT_SID_ session cookie"))?;
        let _ = answer.body_mut().read_to_string();
        let client = Rt5Client { agent, base: self.base.clone(), cookie, queue: self.queue.clone() };
        // The session is good (and the queue there) if REST2 shows the queue.
        client.get("rt5 login: GET queue", &format!("/REST/2.0/queue/{}", self.queue))?;
        Ok(client)
    }
}

impl Desk for Rt5 {
    fn name(&self) -> &str {
        "rt5"
    }

    fn client(&self) -> Result<Box<dyn DeskClient>, String> {
        Ok(Box::new(self.login()?))
    }
}

struct Rt5Client {
    agent: ureq::Agent,
    base: String,
    cookie: String,
    queue: String,
}

impl Rt5Client {
    fn get(&self, step: &str, path: &str) -> Result<Value, String> {
        expect(step, self.agent.get(&format!("{}{path}", self.base)).header("cookie", &self.cookie).call(), 200)
    }

    fn send(&self, step: &str, method: &str, path: &str, body: &Value, want: u16) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let answer = match method {
            "PUT" => self.agent.put(&url).header("cookie", &self.cookie).send_json(body),
            _ => self.agent.post(&url).header("cookie", &self.cookie).send_json(body),
        };
        expect(step, answer, want)
    }
}

impl DeskClient for Rt5Client {
    /// `POST /REST/2.0/ticket`: the ticket with its first message from the
    /// requester (RT creates the requester's user on first sight).
    fn create(&mut self, n: u64) -> Result<String, String> {
        let body = json!({
            "Queue": self.queue,
            "Subject": subject(n),
            "Requestor": requester(n),
            "Content": MESSAGE,
            "ContentType": "text/plain",
        });
        let ticket = self.send("rt5 create: POST /REST/2.0/ticket", "POST", "/REST/2.0/ticket", &body, 201)?;
        match &ticket["id"] {
            Value::String(id) => Ok(id.clone()),
            Value::Number(id) => Ok(id.to_string()),
            _ => Err(format!("rt5 create: no id in {ticket}")),
        }
    }

    /// `POST /REST/2.0/ticket/{id}/correspond`: a reply the requester gets.
    fn reply(&mut self, id: &str) -> Result<(), String> {
        let body = json!({"Content": REPLY, "ContentType": "text/plain"});
        let path = format!("/REST/2.0/ticket/{id}/correspond");
        self.send("rt5 reply: POST /REST/2.0/ticket/{id}/correspond", "POST", &path, &body, 201).map(drop)
    }

    /// `PUT /REST/2.0/ticket/{id}` with `{"Status": "resolved"}`. RT answers
    /// 200 with a list of messages even when it refuses a change, so the
    /// message must say the status changed.
    fn solve(&mut self, id: &str) -> Result<(), String> {
        let path = format!("/REST/2.0/ticket/{id}");
        let said =
            self.send("rt5 solve: PUT /REST/2.0/ticket/{id}", "PUT", &path, &json!({"Status": "resolved"}), 200)?;
        if said.to_string().contains("to 'resolved'") {
            Ok(())
        } else {
            Err(format!("rt5 solve: PUT /REST/2.0/ticket/{id}: HTTP 200 but not resolved: {said}"))
        }
    }
}

// ---------------------------------------------------------------- django-helpdesk

/// django-helpdesk through its REST API (Django REST framework), as a staff
/// user with a token, in one queue.
pub struct DjangoHelpdesk {
    base: String,
    token: String,
    queue: u64,
}

impl DjangoHelpdesk {
    /// From the values `django-helpdesk.sh start` printed.
    pub fn from_peer(peer: &Peer) -> Result<DjangoHelpdesk, String> {
        let queue = peer.var("QUEUE_ID")?;
        Ok(DjangoHelpdesk {
            base: peer.var("BASE_URL")?.to_owned(),
            token: peer.var("TOKEN")?.to_owned(),
            queue: queue.parse().map_err(|_| format!("QUEUE_ID={queue} is not a number"))?,
        })
    }

    fn connect(&self) -> HelpdeskClient {
        HelpdeskClient {
            agent: agent(),
            base: self.base.clone(),
            auth: format!("Token {}", self.token),
            queue: self.queue,
        }
    }
}

impl Desk for DjangoHelpdesk {
    fn name(&self) -> &str {
        "django-helpdesk"
    }

    fn client(&self) -> Result<Box<dyn DeskClient>, String> {
        Ok(Box::new(self.connect()))
    }
}

struct HelpdeskClient {
    agent: ureq::Agent,
    base: String,
    auth: String,
    queue: u64,
}

impl HelpdeskClient {
    /// Only the test reads tickets back.
    #[cfg(test)]
    fn get(&self, step: &str, path: &str) -> Result<Value, String> {
        expect(step, self.agent.get(&format!("{}{path}", self.base)).header("authorization", &self.auth).call(), 200)
    }

    fn post(&self, step: &str, path: &str, body: &Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        expect(step, self.agent.post(&url).header("authorization", &self.auth).send_json(body), 201)
    }
}

fn ticket_number(step: &str, id: &str) -> Result<u64, String> {
    id.parse().map_err(|_| format!("{step}: ticket id {id:?} is not a number"))
}

impl DeskClient for HelpdeskClient {
    /// `POST /api/tickets/`: the ticket, its description being the
    /// submitter's first message (helpdesk files it as the "Ticket Opened"
    /// follow-up and mails the submitter). `priority` is required by the API.
    fn create(&mut self, n: u64) -> Result<String, String> {
        let body = json!({
            "queue": self.queue,
            "title": subject(n),
            "description": MESSAGE,
            "submitter_email": requester(n),
            "priority": 3,
        });
        let ticket = self.post("django-helpdesk create: POST /api/tickets/", "/api/tickets/", &body)?;
        ticket["id"]
            .as_u64()
            .map(|id| id.to_string())
            .ok_or_else(|| format!("django-helpdesk create: no id in {ticket}"))
    }

    /// `POST /api/followups/` with `public: true`: a reply mailed to the
    /// submitter.
    fn reply(&mut self, id: &str) -> Result<(), String> {
        let step = "django-helpdesk reply: POST /api/followups/";
        let body = json!({"ticket": ticket_number(step, id)?, "comment": REPLY, "public": true});
        self.post(step, "/api/followups/", &body).map(drop)
    }

    /// `POST /api/followups/` with `new_status: 3` (Resolved) and no
    /// comment: the way helpdesk's own ticket page resolves (its
    /// update_ticket path), a status change like RT's and kept's. Public, as
    /// the page has it by default, so the submitter is told.
    fn solve(&mut self, id: &str) -> Result<(), String> {
        let step = "django-helpdesk solve: POST /api/followups/ new_status 3";
        let body = json!({"ticket": ticket_number(step, id)?, "new_status": 3, "public": true});
        let followup = self.post(step, "/api/followups/", &body)?;
        if followup["new_status"] == 3 {
            Ok(())
        } else {
            Err(format!("{step}: HTTP 201 but the follow-up does not resolve: {followup}"))
        }
    }
}

#[cfg(test)]
mod tests {
    //! Against the real peers, installed and started by the scripts:
    //! `cargo test -p kept --bins -- --ignored peers` (RT's first install
    //! takes about a minute, helpdesk's about 15 s).

    use super::*;

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Ten cases through one client, as the intake run drives them.
    fn ten_cases(desk: &dyn Desk) -> Vec<String> {
        let mut client = desk.client().unwrap();
        (0..10)
            .map(|n| {
                let id = client.create(n).unwrap();
                client.reply(&id).unwrap();
                client.solve(&id).unwrap();
                id
            })
            .collect()
    }

    #[test]
    #[ignore = "installs and starts Request Tracker 5 (apt, about a minute the first time)"]
    fn rt5_takes_the_intake_workload() {
        let peer = Peer::start(&repo_root(), "rt5.sh").unwrap();
        let desk = Rt5::from_peer(&peer).unwrap();
        let ids = ten_cases(&desk);
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 10, "ten distinct tickets: {ids:?}");

        // Checked through RT's own API, with a session of its own.
        let check = desk.login().unwrap();
        for (n, id) in ids.iter().enumerate() {
            let ticket = check.get("ticket", &format!("/REST/2.0/ticket/{id}")).unwrap();
            assert_eq!(ticket["Status"], "resolved", "ticket {id}: {ticket}");
            assert_eq!(ticket["Subject"], subject(n as u64), "ticket {id}");
            assert_eq!(ticket["Requestor"][0]["id"], requester(n as u64), "ticket {id}");
            let history = check.get("history", &format!("/REST/2.0/ticket/{id}/history?fields=Type")).unwrap();
            let items = history["items"].as_array().unwrap();
            let replies: Vec<&Value> = items.iter().filter(|t| t["Type"] == "Correspond").collect();
            assert_eq!(replies.len(), 1, "ticket {id}: one reply in {history}");
            let reply_id = replies[0]["id"].as_str().unwrap();
            let parts = check
                .get("attachments", &format!("/REST/2.0/transaction/{reply_id}/attachments?fields=Content"))
                .unwrap();
            assert!(
                parts["items"].as_array().unwrap().iter().any(|p| p["Content"] == REPLY),
                "ticket {id}: the reply's text in {parts}"
            );
            assert!(items.iter().any(|t| t["Type"] == "Create"), "ticket {id}: {history}");
        }
        let page = check.get("search", "/REST/2.0/tickets?query=Status%3D%27resolved%27").unwrap();
        assert_eq!(page["total"], 10, "{page}");
    }

    #[test]
    #[ignore = "installs and starts django-helpdesk (PyPI, about 15 s the first time)"]
    fn django_helpdesk_takes_the_intake_workload() {
        let peer = Peer::start(&repo_root(), "django-helpdesk.sh").unwrap();
        let desk = DjangoHelpdesk::from_peer(&peer).unwrap();
        let ids = ten_cases(&desk);

        let check = desk.connect();
        for (n, id) in ids.iter().enumerate() {
            let ticket = check.get("ticket", &format!("/api/tickets/{id}/")).unwrap();
            assert_eq!(ticket["status"], 3, "ticket {id} resolved: {ticket}");
            assert_eq!(ticket["title"], subject(n as u64), "ticket {id}");
            assert_eq!(ticket["description"], MESSAGE, "ticket {id}");
            assert_eq!(ticket["submitter_email"], requester(n as u64), "ticket {id}");
            let followups = ticket["followup_set"].as_array().unwrap();
            let replies: Vec<&Value> =
                followups.iter().filter(|f| f["comment"] == REPLY && f["public"] == true).collect();
            assert_eq!(replies.len(), 1, "ticket {id}: one public reply in {followups:?}");
            assert!(followups.iter().any(|f| f["new_status"] == 3), "ticket {id}: {followups:?}");
        }
        let resolved = check.get("resolved", "/api/tickets/?status=3").unwrap();
        assert_eq!(resolved["count"], 10, "{resolved}");
        let open = check.get("open", "/api/tickets/?status=1").unwrap();
        assert_eq!(open["count"], 0, "{open}");
    }
}
