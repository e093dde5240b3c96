//! A mixed workload at a fixed rate for a long time: case creation, replies,
//! status changes, queue and scorecard reads, as a desk in use sees them.
//! Open loop: requests are due on a fixed schedule, and each latency runs
//! from when its request was due, so a slow answer that holds the next ones
//! back is counted against them too (no coordinated omission).

use super::kept_desk::{agent, exchange};
use super::stats::percentile_ms;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

/// Out of every 20 requests.
const MIX: [Kind; 20] = {
    use Kind::*;
    [
        Create, Reply, List, Status, Reply, Scorecard, Create, List, Reply, Status, Create, List, Reply, Case, Status,
        Create, List, Reply, Scorecard, Case,
    ]
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Create,
    Reply,
    Status,
    List,
    Case,
    Scorecard,
}

/// Per minute of the run: requests, errors, latency samples.
#[derive(Default)]
pub struct Minute {
    pub requests: u64,
    pub errors: u64,
    /// Replies and status changes the desk refused by its rules (HTTP 409
    /// or 422 with an error code), answered correctly but not applied.
    pub refused: u64,
    pub first_error: Option<String>,
    pub latencies_us: Vec<u64>,
    /// The same latencies by kind of request, to tell which one moves.
    pub by_kind: BTreeMap<Kind, Vec<u64>>,
}

impl Minute {
    pub fn p(&mut self, q: f64) -> f64 {
        percentile_ms(&mut self.latencies_us, q)
    }

    /// (kind, p50, p99) for each kind of request seen.
    pub fn kinds(&mut self) -> Vec<(Kind, f64, f64)> {
        self.by_kind.iter_mut().map(|(k, l)| (*k, percentile_ms(l, 50.0), percentile_ms(l, 99.0))).collect()
    }
}

pub struct Target<'a> {
    pub base: &'a str,
    pub token: &'a str,
    pub requesters: &'a [i64],
    /// Ids of cases that exist before the run (replies and status changes
    /// go to them and to the cases the run creates).
    pub first_cases: i64,
}

/// Sends `rate` requests per second for `duration` from `workers` threads.
pub fn run(target: &Target<'_>, rate: u32, duration: Duration, workers: usize) -> Vec<Minute> {
    let minutes = duration.as_secs().div_ceil(60).max(1) as usize;
    let buckets: Vec<Mutex<Minute>> = (0..minutes).map(|_| Mutex::default()).collect();
    let created = Mutex::new(Vec::<i64>::new());
    let sequence = AtomicU64::new(0);
    let (send, receive) = mpsc::sync_channel::<(u64, Instant)>(workers * 4);
    let receive = Mutex::new(receive);
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (receive, buckets, created, sequence) = (&receive, &buckets, &created, &sequence);
            scope.spawn(move || {
                let agent = agent();
                loop {
                    let next = receive.lock().ok().and_then(|r| r.recv().ok());
                    let Some((slot, due)) = next else { break };
                    let kind = MIX[(slot % MIX.len() as u64) as usize];
                    let n = sequence.fetch_add(1, Ordering::Relaxed);
                    let outcome = request(&agent, target, kind, n, created);
                    let latency = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
                    let minute = (due.duration_since(started).as_secs() / 60) as usize;
                    if let Some(Ok(mut bucket)) = buckets.get(minute.min(buckets.len() - 1)).map(|b| b.lock()) {
                        bucket.requests += 1;
                        match outcome {
                            Ok(applied) => {
                                bucket.latencies_us.push(latency);
                                bucket.by_kind.entry(kind).or_default().push(latency);
                                bucket.refused += u64::from(!applied);
                            }
                            Err(e) => {
                                bucket.errors += 1;
                                bucket.first_error.get_or_insert(e);
                            }
                        }
                    }
                }
            });
        }
        let total = (duration.as_secs_f64() * f64::from(rate)) as u64;
        for slot in 0..total {
            let due = started + interval.mul_f64(slot as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if send.send((slot, due)).is_err() {
                break;
            }
        }
        drop(send);
    });
    buckets.into_iter().map(|b| b.into_inner().unwrap_or_default()).collect()
}

fn request(agent: &ureq::Agent, t: &Target<'_>, kind: Kind, n: u64, created: &Mutex<Vec<i64>>) -> Result<bool, String> {
    let auth = format!("Bearer {}", t.token);
    // A case to work on: one the run created lately, else an older one.
    let some_case = || {
        let recent = created.lock().ok().and_then(|c| (!c.is_empty()).then(|| c[(n as usize * 7) % c.len()]));
        recent.unwrap_or(1 + (n as i64 * 31) % t.first_cases.max(1))
    };
    let (method, path, body) = match kind {
        Kind::Create => (
            "POST",
            "/api/v1/cases".to_owned(),
            Some(json!({
                "subject": format!("Load {n}: cannot log in to the portal"),
                "message": "The portal says my password expired, but the reset link never arrives.",
                "requester_id": t.requesters[n as usize % t.requesters.len()],
                "channel": "web",
            })),
        ),
        Kind::Reply => (
            "POST",
            format!("/api/v1/cases/{}/messages", some_case()),
            Some(json!({"body": "We reset it for you; the new link is on its way.", "public": true})),
        ),
        Kind::Status => {
            let status = ["pending", "open", "solved"][n as usize % 3];
            ("PATCH", format!("/api/v1/cases/{}", some_case()), Some(json!({ "status": status })))
        }
        Kind::List => ("GET", "/api/v1/cases?status=open&limit=50".to_owned(), None),
        Kind::Case => ("GET", format!("/api/v1/cases/{}", some_case()), None),
        Kind::Scorecard => ("GET", "/api/v1/scorecards?scope=org&period=month".to_owned(), None),
    };
    let (status, text) = exchange(agent, t.base, &auth, method, &path, body)?;
    // A reply or status change can meet a case in a state that refuses it
    // (e.g. solved → pending is not allowed): a 409/422 with an error code is
    // the desk answering correctly, not failing.
    let refused_correctly = matches!(kind, Kind::Reply | Kind::Status) && matches!(status.as_u16(), 409 | 422);
    if !status.is_success() && !refused_correctly {
        return Err(format!("{method} {path}: HTTP {status}: {}", text.chars().take(160).collect::<String>()));
    }
    if kind == Kind::Create {
        let case: Value = serde_json::from_str(&text).map_err(|e| format!("POST /api/v1/cases: {e}"))?;
        if let (Some(id), Ok(mut list)) = (case["id"].as_i64(), created.lock()) {
            list.push(id);
            if list.len() > 500 {
                list.remove(0);
            }
        }
    }
    Ok(!refused_correctly)
}
