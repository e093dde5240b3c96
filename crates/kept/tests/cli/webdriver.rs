//! Just enough of the W3C WebDriver protocol to drive Chromium through
//! chromedriver: sessions, navigation, elements, text, screenshots. A few
//! JSON calls over HTTP; no browser download, no heavyweight client.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn skip_without_browser() -> bool {
    if std::env::var("KEPT_TEST_BROWSER").as_deref() != Ok("1") {
        eprintln!("skipped: set KEPT_TEST_BROWSER=1 to run the browser tests (needs chromium and chromium-driver)");
        return true;
    }
    false
}

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    profile: std::path::PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session.
    pub fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut driver = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (apt-get install chromium-driver)");
        let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            if line.unwrap().contains("started successfully") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        let profile = std::env::temp_dir().join(format!("kept-chromium-{port}"));
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
        ];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()), "args": args}}}});
        let base = format!("http://127.0.0.1:{port}");
        let created = post(&format!("{base}/session"), &caps);
        let session =
            created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_owned();
        Browser { driver, base, session, profile }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    pub fn go(&self, url: &str) {
        post(&self.url("/url"), &json!({"url": url}));
    }

    pub fn current_url(&self) -> String {
        get(&self.url("/url"))["value"].as_str().unwrap_or("").to_owned()
    }

    fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = post(&self.url("/element"), &json!({"using": "css selector", "value": css}));
            if let Some(id) = v["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(Instant::now() < deadline, "no element {css}: {v}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn count(&self, css: &str) -> usize {
        let v = post(&self.url("/elements"), &json!({"using": "css selector", "value": css}));
        v["value"].as_array().map_or(0, Vec::len)
    }

    pub fn fill(&self, css: &str, text: &str) {
        let id = self.find(css);
        post(&self.url(&format!("/element/{id}/clear")), &json!({}));
        post(&self.url(&format!("/element/{id}/value")), &json!({"text": text}));
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        post(&self.url(&format!("/element/{id}/click")), &json!({}));
    }

    /// Whether a radio button or checkbox is checked (or an option selected).
    pub fn is_selected(&self, css: &str) -> bool {
        let id = self.find(css);
        get(&self.url(&format!("/element/{id}/selected")))["value"].as_bool().unwrap_or(false)
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        get(&self.url(&format!("/element/{id}/text")))["value"].as_str().unwrap_or("").to_owned()
    }

    /// An attribute (or property) of the first element matching `css`.
    pub fn attribute(&self, css: &str, name: &str) -> String {
        let id = self.find(css);
        get(&self.url(&format!("/element/{id}/attribute/{name}")))["value"].as_str().unwrap_or("").to_owned()
    }

    /// Runs `script` in the page as an async function: it gets `args` and,
    /// last, the callback that returns its result.
    pub fn execute_async(&self, script: &str, args: Value) -> Value {
        post(&self.url("/execute/async"), &json!({"script": script, "args": args}))["value"].clone()
    }

    /// Waits (up to 10 s) for `css` to contain `needle`: htmx swaps are asynchronous.
    pub fn wait_for_text(&self, css: &str, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.text(css).contains(needle) {
            assert!(Instant::now() < deadline, "{css} never showed {needle:?}: {}", self.text(css));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn login(&self, base: &str, email: &str, password: &str) {
        self.go(&format!("{base}/login"));
        self.fill("#email", email);
        self.fill("#password", password);
        self.click("main form button[type=submit]");
    }

    pub fn screenshot(&self, path: &str) {
        use base64::Engine;
        let png = get(&self.url("/screenshot"))["value"].as_str().unwrap_or("").to_owned();
        let bytes = base64::engine::general_purpose::STANDARD.decode(png).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    pub fn quit(self) {}
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn post(url: &str, body: &Value) -> Value {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    agent.post(url).send_json(body).unwrap().body_mut().read_json().unwrap_or(Value::Null)
}

fn get(url: &str) -> Value {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    agent.get(url).call().unwrap().body_mut().read_json().unwrap_or(Value::Null)
}
