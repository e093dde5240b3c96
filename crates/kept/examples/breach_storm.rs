//! Breach storm: N promises fall due at the same instant; how long until
//! each has its breach event? Figures for BENCHMARKS.md.
//!
//!   cargo run --release -p kept --example breach_storm -- [PROMISES] [DATABASE_URL] [RUNNERS]
//!
//! Seeding takes minutes at 100,000: KEPT_STORM_SEEDED=file.db keeps (and
//! then reuses) a seeded SQLite database; KEPT_STORM_SEED_ONLY=1 stops after
//! seeding, and a database that already holds N pending jobs is used as it
//! is (for PostgreSQL: seed once, then `createdb -T seeded run` per run).
//!
//! Seeding goes through the store's API (a case and an agent promise each);
//! the deadlines are then moved to one instant a few seconds ahead in one
//! statement, so that the storm is not limited by how fast it was seeded.
//! RUNNERS job runners (what `kept serve` runs) then work the jobs. Each
//! case has one job and one promise, so the jobs still pending tell how
//! many breaches are not yet recorded; sampled every 100 ms (a cheap,
//! indexed count that does not slow the runners down), the time at which
//! p % are recorded is the p-th percentile of breach latency. The breach
//! events are counted once at the end to check that each promise has one.

#![expect(clippy::unwrap_used, clippy::print_stdout, reason = "a benchmark program")]

use jiff::SignedDuration;
use kept_core::cases::Channel;
use kept_core::promises::ClockKind;
use kept_core::values::{MessageBody, Subject};
use kept_server::clock::{Clock, SystemClock};
use kept_server::config::ServerConfig;
use kept_server::state::AppState;
use kept_store::test_support::Fixture;
use kept_store::{NewAgentPromise, NewCase, PoolSize, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("kept-storm-{}", std::process::id()));
    let url = args.get(2).cloned().unwrap_or_else(|| format!("sqlite://{}/storm.db", dir.display()));
    let runners: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    // Seeding 100,000 cases through the API takes minutes: with
    // KEPT_STORM_SEEDED=file.db (SQLite only) a seeded database is kept there
    // and reused by later runs.
    let seeded = std::env::var("KEPT_STORM_SEEDED").ok().filter(|_| args.get(2).is_none());
    let reuse = seeded.as_ref().is_some_and(|f| std::path::Path::new(f).exists());
    if let (true, Some(file)) = (reuse, &seeded) {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(file, dir.join("storm.db")).unwrap();
        println!("reusing the seeded database {file}");
    }
    let store = Store::open_and_migrate(&url, PoolSize { max: 8 }).await.unwrap();
    // A database seeded before (e.g. a PostgreSQL copy made with CREATE
    // DATABASE … TEMPLATE) is used as it is.
    let reuse = reuse || store.pending_jobs().await.unwrap() >= n as i64;
    if !reuse {
        seed(&store, n).await;
        if let Some(file) = &seeded {
            // kept's own online backup (VACUUM INTO on a reader): the writer
            // runs every statement inside a transaction, where VACUUM cannot.
            store.backup_to(std::path::Path::new(file), true).await.unwrap();
        }
    }
    if std::env::var("KEPT_STORM_SEED_ONLY").is_ok() {
        return;
    }
    storm(&store, n, &url, runners).await;
}

/// N cases with one callback promise each, through the store's API.
async fn seed(store: &Store, n: usize) {
    let fx = Fixture::create(store, None, SystemClock.now()).await;
    let agent = fx.principal(store, &fx.agent).await;
    let far = SystemClock.now().checked_add(SignedDuration::from_hours(24)).unwrap();
    let seeding = Instant::now();
    for i in 0..n {
        let new = NewCase {
            subject: Subject::parse("s", &format!("Storm #{i}")).unwrap(),
            body: MessageBody::parse("b", "Call me").unwrap(),
            requester_id: Some(fx.ana.id),
            account_id: None,
            team_id: None,
            assignee_id: None,
            channel: Channel::Phone,
            case_type: None,
            priority: None,
            tags: Default::default(),
        };
        let case = store.create_case(&agent, new, SystemClock.now(), None).await.unwrap().0.case.id;
        let promise =
            NewAgentPromise { kind: ClockKind::Callback, due_at: far, description: "Call back".into(), owner: None };
        store.make_promise(&agent, case, promise, SystemClock.now()).await.unwrap();
        if i % 10_000 == 9_999 {
            eprintln!("  seeded {} ({:.0} s)", i + 1, seeding.elapsed().as_secs_f64());
        }
    }
    println!("seeded {n} cases with a callback promise each in {:.1} s", seeding.elapsed().as_secs_f64());
}

/// Moves every deadline to one instant a few seconds ahead and lets the runners work.
async fn storm(store: &Store, n: usize, url: &str, runners: usize) {
    let due = SystemClock.now().checked_add(SignedDuration::from_secs(3)).unwrap();
    let ms = due.as_millisecond();
    store.execute_unchecked(&format!("UPDATE agent_promises SET due_at = {ms}")).await.unwrap();
    store.execute_unchecked(&format!("UPDATE jobs SET run_at = {ms}")).await.unwrap();
    let config = ServerConfig { run_jobs: true, ..ServerConfig::default() };
    let state = AppState::new(store.clone(), Arc::new(SystemClock), config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handles: Vec<_> =
        (0..runners).map(|_| tokio::spawn(kept_server::jobs::run(state.clone(), stopped.clone()))).collect();
    let mut marks: Vec<(f64, Option<f64>)> = [0.5, 0.9, 0.99, 1.0].iter().map(|p| (*p, None)).collect();
    let started = Instant::now();
    loop {
        let count = n as i64 - store.pending_jobs().await.unwrap();
        let after = SystemClock.now().duration_since(due).as_secs_f64();
        for (p, at) in &mut marks {
            if at.is_none() && count as f64 >= *p * n as f64 {
                *at = Some(after.max(0.0));
            }
        }
        if count as usize >= n || started.elapsed() > Duration::from_secs(3600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (events, cases) = store.count_events_unchecked("promise_breached").await.unwrap();
    assert_eq!((events, cases), (n as i64, n as i64), "one breach event per promise");
    let _ = stop.send(true);
    for h in handles {
        let _ = h.await;
    }
    println!("breach latency for {n} promises due at one instant ({runners} runner(s), {url}):");
    for (p, at) in marks {
        println!("  p{:<4} {:>8.2} s", p * 100.0, at.unwrap_or(f64::NAN));
    }
}
