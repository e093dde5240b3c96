//! Reads on a large database: the case list and the case page, over the API
//! (token) and as the web pages an agent opens (session cookie), at a few
//! concurrencies. Ids are drawn from a fixed-seed sequence over the cases.

use super::kept_desk::agent;
use super::stats::percentile_ms;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One kind of read: a name and how to turn a case id into a path.
pub struct Read {
    pub name: &'static str,
    pub path: fn(i64) -> String,
    /// Whether it is a web page (session cookie) rather than the API (token).
    pub page: bool,
}

pub const READS: [Read; 4] = [
    Read {
        name: "API case list (GET /api/v1/cases, 50 open)",
        path: |_| "/api/v1/cases?status=open&limit=50".into(),
        page: false,
    },
    Read { name: "queue page (GET /queue)", path: |_| "/queue".into(), page: true },
    Read { name: "API case (GET /api/v1/cases/{id})", path: |id| format!("/api/v1/cases/{id}"), page: false },
    Read { name: "case page (GET /cases/{id})", path: |id| format!("/cases/{id}"), page: true },
];

pub struct ReadRun {
    pub name: &'static str,
    pub clients: usize,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

/// Logs in through the login form, as a browser does; the session cookie.
pub fn web_session(base: &str, email: &str, password: &str) -> Result<String, String> {
    let agent = agent();
    let mut page = agent.get(&format!("{base}/login")).call().map_err(|e| format!("GET /login: {e}"))?;
    let cookies = cookie_pairs(&page);
    let html = page.body_mut().read_to_string().map_err(|e| format!("GET /login: {e}"))?;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("the login page has no csrf field")?
        .to_owned();
    let form = [("csrf", csrf.as_str()), ("email", email), ("password", password)];
    let answer = agent
        .post(&format!("{base}/login"))
        .header("cookie", &cookies)
        .send_form(form)
        .map_err(|e| format!("POST /login: {e}"))?;
    let session = cookie_pairs(&answer);
    if session.is_empty() {
        return Err(format!("POST /login gave HTTP {} and no session", answer.status()));
    }
    Ok(session)
}

fn cookie_pairs<B>(response: &ureq::http::Response<B>) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `runs` requests of `read` spread over `clients` threads.
pub fn measure(base: &str, token: &str, cookie: &str, read: &Read, max_id: i64, clients: usize, runs: u64) -> ReadRun {
    let samples = Mutex::new((Vec::new(), 0u64, None::<String>));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for client in 0..clients {
            let samples = &samples;
            scope.spawn(move || {
                let agent = agent();
                let (header, value) = if read.page {
                    ("cookie", cookie.to_owned())
                } else {
                    ("authorization", format!("Bearer {token}"))
                };
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (client as u64 + 1);
                let mut mine = Vec::new();
                let (mut errors, mut first) = (0u64, None);
                for _ in 0..runs.div_ceil(clients as u64) {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    let id = 1 + ((seed >> 33) as i64) % max_id.max(1);
                    let path = (read.path)(id);
                    let at = Instant::now();
                    let answer = agent.get(&format!("{base}{path}")).header(header, &value).call();
                    match answer.map(|mut r| (r.status(), r.body_mut().read_to_vec())) {
                        Ok((status, Ok(_))) if status.is_success() => {
                            mine.push(u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX));
                        }
                        Ok((status, _)) => {
                            errors += 1;
                            first.get_or_insert(format!("GET {path}: HTTP {status}"));
                        }
                        Err(e) => {
                            errors += 1;
                            first.get_or_insert(format!("GET {path}: {e}"));
                        }
                    }
                }
                if let Ok(mut all) = samples.lock() {
                    all.0.extend(mine);
                    all.1 += errors;
                    if all.2.is_none() {
                        all.2 = first;
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let (mut latencies, errors, first_error) = samples.into_inner().unwrap_or_default();
    ReadRun {
        name: read.name,
        clients,
        requests: latencies.len() as u64 + errors,
        errors,
        first_error,
        elapsed,
        p50: percentile_ms(&mut latencies, 50.0),
        p99: percentile_ms(&mut latencies, 99.0),
        max: percentile_ms(&mut latencies, 100.0),
    }
}
