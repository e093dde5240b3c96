//! The intake workload: every client opens a case with its first message,
//! replies once as an agent and solves it, as fast as the desk answers, for
//! a fixed time. Each of the three requests is timed on its own.

use super::desk::{Desk, DeskClient};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// Requests that make one case: create, reply, solve.
pub const REQUESTS_PER_CASE: u64 = 3;

/// What one run at one concurrency achieved.
#[derive(Debug, Default)]
pub struct IntakeRun {
    /// Cases that went through all three steps.
    pub cases: u64,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Microseconds per successful request, unsorted.
    pub latencies_us: Vec<u64>,
}

/// Runs `clients` threads against `desk` for `duration`. Clients log in
/// before the clock starts. `during` runs on the calling thread while the
/// clients work (the memory sampler) and is told to stop through its flag.
pub fn run(
    desk: &dyn Desk,
    clients: usize,
    duration: Duration,
    during: impl FnOnce(&AtomicBool),
) -> Result<IntakeRun, String> {
    let mut connected = Vec::with_capacity(clients);
    for _ in 0..clients {
        connected.push(desk.client()?);
    }
    let counter = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new(clients + 1);
    let total = Mutex::new(IntakeRun::default());
    // When the last client finished: the rate's end, whatever the sampler
    // (`during`) still takes to notice the stop.
    let last_done = Mutex::new(None::<Instant>);
    let mut started = Instant::now();
    std::thread::scope(|scope| {
        for client in connected {
            let (counter, stop, barrier, total, last_done) = (&counter, &stop, &barrier, &total, &last_done);
            scope.spawn(move || {
                barrier.wait();
                let mine = work(client, counter, stop);
                if let Ok(mut last) = last_done.lock() {
                    *last = Some(Instant::now()).max(*last);
                }
                if let Ok(mut total) = total.lock() {
                    total.cases += mine.cases;
                    total.requests += mine.requests;
                    total.errors += mine.errors;
                    total.latencies_us.extend(mine.latencies_us);
                    if total.first_error.is_none() {
                        total.first_error = mine.first_error;
                    }
                }
            });
        }
        barrier.wait();
        started = Instant::now();
        let deadline = started + duration;
        let sampler_stop = AtomicBool::new(false);
        std::thread::scope(|inner| {
            inner.spawn(|| {
                while Instant::now() < deadline {
                    std::thread::sleep(
                        Duration::from_millis(10).min(deadline.saturating_duration_since(Instant::now())),
                    );
                }
                stop.store(true, Ordering::Relaxed);
                sampler_stop.store(true, Ordering::Relaxed);
            });
            during(&sampler_stop);
        });
    });
    let mut total = total.into_inner().map_err(|_| "a client thread panicked".to_owned())?;
    // Cases in flight when the time ran out finish their steps; the rate
    // counts the time they took, up to the last client's end.
    let ended = last_done.into_inner().ok().flatten().unwrap_or_else(Instant::now);
    total.elapsed = ended.saturating_duration_since(started);
    Ok(total)
}

fn work(mut client: Box<dyn DeskClient>, counter: &AtomicU64, stop: &AtomicBool) -> IntakeRun {
    let mut mine = IntakeRun::default();
    let timed = |mine: &mut IntakeRun, step: &mut dyn FnMut() -> Result<(), String>| {
        let at = Instant::now();
        mine.requests += 1;
        match step() {
            Ok(()) => {
                mine.latencies_us.push(u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX));
                true
            }
            Err(e) => {
                mine.errors += 1;
                mine.first_error.get_or_insert(e);
                false
            }
        }
    };
    while !stop.load(Ordering::Relaxed) {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let mut id = String::new();
        if !timed(&mut mine, &mut || client.create(n).map(|got| id = got)) {
            continue;
        }
        if !timed(&mut mine, &mut || client.reply(&id)) {
            continue;
        }
        if timed(&mut mine, &mut || client.solve(&id)) {
            mine.cases += 1;
        }
    }
    mine
}
