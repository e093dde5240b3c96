//! `kept bench`: the figures in BENCHMARKS.md, measured by one command.
//!
//! `kept bench` (intake): this binary serves a scratch database seeded with a
//! small demo organisation, and blocking HTTP clients on loopback open,
//! answer and solve cases as fast as it answers, at each concurrency; then
//! the same rows go straight into the engine (the storage floor), and with
//! `--peers` the same clients drive Request Tracker and django-helpdesk.
//! `kept bench reads` measures the case list and case page on an existing
//! (large) database. Scorecards: `kept bench-scorecards`; the promise storm:
//! `cargo run --release -p kept --example breach_storm`.

pub mod desk;
mod intake;
mod kept_desk;
mod load;
mod peers;
mod reads;
mod stats;

use crate::cli::{Failure, out};
use crate::demo::{self, DemoOptions};
use clap::{Args, Subcommand};
use kept_server::clock::{Clock, SystemClock};
use kept_store::test_support::TestDb;
use stats::{cpu_us, group_pss_kib, mib, per_second, percentile_ms, resident_kib};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: Option<BenchCommand>,
    #[command(flatten)]
    intake: IntakeArgs,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Case list and case page latency on an existing database (e.g. a
    /// `kept demo --cases 1000000`), through a `kept serve` started on it.
    Reads(ReadsArgs),
    /// A mixed workload (creation, replies, status changes, queue and
    /// scorecard reads) at a fixed rate for minutes; p99 per minute.
    Load(LoadArgs),
}

#[derive(Args)]
struct LoadArgs {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    engine: String,
    #[arg(long, env = "KEPT_BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres_url: String,
    /// How long [default: 10 minutes].
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Requests per second, all kinds together.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Client threads sending them.
    #[arg(long, default_value_t = 32)]
    workers: usize,
}

#[derive(Args)]
struct IntakeArgs {
    /// Engines to measure, comma-separated: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite")]
    engines: Vec<String>,
    /// The PostgreSQL database for `--engines postgres`; kept gets a scratch
    /// schema in it, dropped afterwards.
    #[arg(long, env = "KEPT_BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres_url: String,
    /// Concurrent clients, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    clients: Vec<usize>,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Skip the storage floor.
    #[arg(long)]
    no_floor: bool,
    /// Also drive Request Tracker 5 and django-helpdesk with the same
    /// workload (installed and started by bench/peers/*.sh; needs root for
    /// apt) and print kept's rate as a multiple of theirs.
    #[arg(long)]
    peers: bool,
    /// The checkout that holds bench/peers/.
    #[arg(long, default_value = ".")]
    repo: std::path::PathBuf,
}

#[derive(Args)]
struct ReadsArgs {
    #[arg(long, env = "KEPT_DATABASE_URL")]
    database_url: String,
    /// Who reads (an agent, lead or admin with a password).
    #[arg(long, default_value = "admin@demo.kept")]
    user: String,
    /// Their password (for the web pages' session).
    #[arg(long, env = "KEPT_PASSWORD", default_value = kept_core::demo::DEMO_PASSWORD)]
    password: String,
    /// Concurrent clients, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    clients: Vec<usize>,
    /// Requests per read and concurrency.
    #[arg(long, default_value_t = 400)]
    runs: u64,
}

fn fail(message: impl Into<String>) -> Failure {
    Failure { code: 1, message: message.into() }
}

pub async fn run(args: BenchArgs) -> Result<(), Failure> {
    out(&machine());
    match args.command {
        Some(BenchCommand::Reads(reads)) => run_reads(reads).await,
        Some(BenchCommand::Load(load)) => run_load(load).await,
        None => run_intake(args.intake).await,
    }
}

/// The machine, the binary and the date, for the record.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    let size = std::env::current_exe().and_then(std::fs::metadata).map(|m| m.len()).unwrap_or(0);
    let build =
        if cfg!(debug_assertions) { "DEBUG build (figures meaningless; use --release)" } else { "release build" };
    format!(
        "kept {} {build}, binary {:.1} MiB; {cores} cores, {cpu}; {}",
        env!("CARGO_PKG_VERSION"),
        mib(size / 1024),
        SystemClock.now().round(jiff::Unit::Second).unwrap_or(SystemClock.now())
    )
}

async fn scratch(engine: &str, postgres_url: &str) -> Result<TestDb, Failure> {
    match engine {
        "sqlite" => Ok(TestDb::sqlite().await),
        "postgres" => TestDb::postgres_at(postgres_url).await.map_err(|e| fail(format!("postgres: {e}"))),
        other => Err(Failure::input(format!("--engines: unknown engine {other:?} (sqlite or postgres)"))),
    }
}

/// A scratch database with a small demo organisation and an agent's token.
async fn seeded(engine: &str, postgres_url: &str) -> Result<(TestDb, String), Failure> {
    let db = scratch(engine, postgres_url).await?;
    let options = DemoOptions { cases: 200, days: 30, seed: 42 };
    demo::seed(&db.store, &options, SystemClock.now()).await?;
    let token = crate::cli::create_token(&db.store, "agent@demo.kept", "bench").await?;
    Ok((db, token))
}

async fn run_intake(args: IntakeArgs) -> Result<(), Failure> {
    let seconds = Duration::from_secs(args.seconds.max(1));
    out(&format!(
        "intake: each case = create with a first message, one agent reply, solve (3 requests); {} s per run",
        seconds.as_secs()
    ));
    let mut first: Option<Rates> = None;
    for engine in &args.engines {
        let (db, token) = seeded(engine, &args.postgres_url).await?;
        db.store.close().await;
        let kept_runs = tokio::task::block_in_place(|| intake_kept(engine, db.url(), &token, &args.clients, seconds))?;
        drop(db);
        if !args.no_floor {
            floor(engine, &args.postgres_url, &args.clients, seconds, &kept_runs).await?;
        }
        first.get_or_insert(kept_runs);
    }
    if args.peers {
        let kept = first.unwrap_or_default();
        tokio::task::block_in_place(|| peers(&args, seconds, &kept))?;
    }
    Ok(())
}

/// The same intake against each peer, and kept's rate (on the first engine
/// measured) as a multiple of the peer's at the same concurrency. Peer
/// memory is the PSS of its whole process group (server and workers).
fn peers(args: &IntakeArgs, seconds: Duration, kept: &Rates) -> Result<(), Failure> {
    type Make = fn(&peers::Peer) -> Result<Box<dyn desk::Desk>, String>;
    let all: [(&str, Make); 2] = [
        ("rt5.sh", |p| peers::Rt5::from_peer(p).map(|d| Box::new(d) as Box<dyn desk::Desk>)),
        ("django-helpdesk.sh", |p| peers::DjangoHelpdesk::from_peer(p).map(|d| Box::new(d) as Box<dyn desk::Desk>)),
    ];
    let mut ratios = Vec::new();
    for (script, make) in all {
        let peer = peers::Peer::start(&args.repo, script).map_err(fail)?;
        let desk = make(&peer).map_err(fail)?;
        let group = peer.pgid();
        out(&format!("\n{} (bench/peers/{script}; memory = PSS of its process group):", desk.name()));
        let rates = drive(desk.as_ref(), &args.clients, seconds, &|| group.and_then(group_pss_kib), &|| None)?;
        for rate in rates {
            if let Some(k) = kept.iter().find(|k| k.clients == rate.clients) {
                ratios.push(format!(
                    "  {:>3} clients: kept / {} = {:.0}x",
                    rate.clients,
                    desk.name(),
                    k.cases / rate.cases
                ));
            }
        }
    }
    out("\nkept (first engine above) against the peers, cases per second at the same concurrency:");
    ratios.iter().for_each(|r| out(r));
    Ok(())
}

/// Issue 6's target: kept's intake at 30 % of the storage floor's.
const FLOOR_TARGET: f64 = 0.3;

/// What an intake run at one concurrency reached: cases per second, and
/// the CPU time per request of the bench's own process (its clients), which
/// shares the machine with the desk it measures.
#[derive(Debug, Clone, Copy)]
struct Rate {
    clients: usize,
    cases: f64,
    bench_us: Option<f64>,
}

type Rates = Vec<Rate>;

fn intake_kept(engine: &str, url: &str, token: &str, levels: &[usize], seconds: Duration) -> Result<Rates, Failure> {
    let server = kept_desk::Server::start(url).map_err(fail)?;
    std::thread::sleep(Duration::from_millis(500));
    let idle = resident_kib(server.pid()).map(|(rss, _)| rss).unwrap_or(0);
    out(&format!(
        "\nkept on {engine}: start-up to the first answered request {:.0} ms; idle resident memory {:.1} MiB",
        server.start_up.as_secs_f64() * 1000.0,
        mib(idle)
    ));
    let desk = kept_desk::KeptDesk::connect(&server.base, token).map_err(fail)?;
    let pid = server.pid();
    let rates = drive(&desk, levels, seconds, &|| resident_kib(pid).map(|(rss, _)| rss), &|| cpu_us(pid))?;
    drop(server);
    Ok(rates)
}

/// How long the memory sampler waits after a sample that took `cost`: every
/// 50 ms, but never so often that it spends more than a twentieth of a core.
/// Summing the PSS of Request Tracker's eleven processes takes ~29 ms of
/// kernel time (their page tables are walked); sampled every 50 ms, that took
/// over a third of a core from the desk being measured on the same two.
fn sample_pause(cost: Duration) -> Duration {
    Duration::from_millis(50).max(cost * 20)
}

/// Runs the intake workload at each concurrency and prints a table row per
/// run; `memory` samples the desk's memory in KiB, `cpu` reads the CPU time
/// its server has used in µs (where it is one process of ours).
fn drive(
    desk: &dyn desk::Desk,
    levels: &[usize],
    seconds: Duration,
    memory: &(dyn Fn() -> Option<u64> + Sync),
    cpu: &dyn Fn() -> Option<u64>,
) -> Result<Rates, Failure> {
    out(&format!("{}:", desk.name()));
    out(
        "  clients   cases/s  requests/s   p50 ms   p99 ms   max ms  errors  peak memory MiB  CPU µs/request: server  bench",
    );
    let mut rates = Vec::new();
    for &clients in levels {
        let peak = std::sync::atomic::AtomicU64::new(0);
        let sample = |stop: &AtomicBool| {
            while !stop.load(Ordering::Relaxed) {
                let took = std::time::Instant::now();
                if let Some(kib) = memory() {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(sample_pause(took.elapsed()));
            }
        };
        let me = std::process::id();
        let (bench_before, server_before) = (cpu_us(me), cpu());
        let mut run = intake::run(desk, clients.max(1), seconds, sample).map_err(fail)?;
        let per_request = |before: Option<u64>, after: Option<u64>| {
            Some(after?.saturating_sub(before?) as f64 / run.requests.max(1) as f64)
        };
        let (bench_us, server_us) = (per_request(bench_before, cpu_us(me)), per_request(server_before, cpu()));
        let cases = per_second(run.cases, run.elapsed);
        let peak = peak.into_inner();
        let shown = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.0}"));
        out(&format!(
            "  {clients:>7} {cases:>9.1} {:>11.1} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>16} {:>23} {:>6}",
            per_second(run.requests - run.errors, run.elapsed),
            percentile_ms(&mut run.latencies_us, 50.0),
            percentile_ms(&mut run.latencies_us, 99.0),
            percentile_ms(&mut run.latencies_us, 100.0),
            run.errors,
            if peak > 0 { format!("{:.1}", mib(peak)) } else { "-".into() },
            shown(server_us),
            shown(bench_us),
        ));
        if let Some(e) = run.first_error {
            out(&format!("          first error: {e}"));
        }
        rates.push(Rate { clients, cases, bench_us });
    }
    Ok(rates)
}

async fn floor(
    engine: &str,
    postgres_url: &str,
    levels: &[usize],
    seconds: Duration,
    kept: &Rates,
) -> Result<(), Failure> {
    let db = scratch(engine, postgres_url).await?;
    db.store.floor_prepare().await?;
    out(&format!("floor on {engine}: the same three transactions per case, straight into the engine"));
    out("  clients   cases/s   p50 ms   p99 ms   kept/floor");
    let mut needs = Vec::new();
    for &clients in levels {
        let mut run = db.store.floor_run(clients.max(1), seconds).await?;
        let cases = per_second(run.cases, run.elapsed);
        let kept_run = kept.iter().find(|k| k.clients == clients);
        out(&format!(
            "  {clients:>7} {cases:>9.1} {:>8.2} {:>8.2} {:>11}",
            percentile_ms(&mut run.latencies_us, 50.0),
            percentile_ms(&mut run.latencies_us, 99.0),
            kept_run.map(|k| format!("{:.1} %", k.cases / cases * 100.0)).unwrap_or_default(),
        ));
        needs.extend(kept_run.and_then(|k| Some((clients, cases, k.bench_us?))));
    }
    // What reaching 30 % of the floor over HTTP would ask of the clients
    // alone, when they run on the machine they measure (BENCHMARKS.md).
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    if !needs.is_empty() {
        out("30 % of the floor over HTTP, and what it asks of this bench's own clients on this machine:");
        out("  clients  requests/s  client CPU µs/request  client cores");
    }
    for (clients, floor_cases, bench_us) in needs {
        let requests = FLOOR_TARGET * floor_cases * intake::REQUESTS_PER_CASE as f64;
        out(&format!(
            "  {clients:>7} {requests:>11.0} {bench_us:>22.0} {:>13}",
            format!("{:.2} of {cores}", requests * bench_us / 1e6)
        ));
    }
    db.store.floor_drop().await?;
    Ok(())
}

async fn run_reads(args: ReadsArgs) -> Result<(), Failure> {
    let store = kept_store::Store::open(&args.database_url, kept_store::PoolSize { max: 2 }).await?;
    // The demo's case ids run from 1 to the count.
    let cases = store.count_rows_unchecked("cases").await?;
    let token = crate::cli::create_token(&store, &args.user, "bench reads").await?;
    store.close().await;
    tokio::task::block_in_place(|| {
        let server = kept_desk::Server::start(&args.database_url).map_err(fail)?;
        let cookie = reads::web_session(&server.base, &args.user, &args.password).map_err(fail)?;
        out(&format!(
            "reads on {} cases as {} ({} requests each, ids drawn from a fixed sequence); start-up {:.0} ms",
            cases,
            args.user,
            args.runs,
            server.start_up.as_secs_f64() * 1000.0
        ));
        out("  read                                             clients   req/s   p50 ms   p99 ms   max ms  errors");
        for read in &reads::READS {
            // One pass to warm caches, as a desk in use has them.
            reads::measure(&server.base, &token, &cookie, read, cases, 1, 20);
            for &clients in &args.clients {
                let r = reads::measure(&server.base, &token, &cookie, read, cases, clients.max(1), args.runs);
                out(&format!(
                    "  {:<48} {:>7} {:>7.0} {:>8.2} {:>8.2} {:>8.2} {:>7}",
                    r.name,
                    r.clients,
                    per_second(r.requests - r.errors, r.elapsed),
                    r.p50,
                    r.p99,
                    r.max,
                    r.errors
                ));
                if let Some(e) = r.first_error {
                    out(&format!("          first error: {e}"));
                }
            }
        }
        let rss = resident_kib(server.pid()).map(|(_, peak)| peak).unwrap_or(0);
        out(&format!("  peak resident memory of kept serve: {:.1} MiB", mib(rss)));
        Ok(())
    })
}

async fn run_load(args: LoadArgs) -> Result<(), Failure> {
    let (db, token) = seeded(&args.engine, &args.postgres_url).await?;
    let first_cases = db.store.count_rows_unchecked("cases").await?;
    db.store.close().await;
    let duration = Duration::from_secs(args.seconds.max(1));
    tokio::task::block_in_place(|| {
        let server = kept_desk::Server::start(db.url()).map_err(fail)?;
        let desk = kept_desk::KeptDesk::connect(&server.base, &token).map_err(fail)?;
        out(&format!(
            "load on {}: {} requests/s for {} s from {} clients (of 20: 4 create, 5 reply, 3 status, 4 queue, 2 case, 2 scorecard); latency from when each request was due",
            args.engine, args.rate, args.seconds, args.workers
        ));
        out("  minute  requests  errors  refused   p50 ms   p99 ms   max ms  resident MiB");
        let target = load::Target { base: &server.base, token: &token, requesters: &desk.requesters, first_cases };
        let mut minutes = load::run(&target, args.rate, duration, args.workers);
        let rss = resident_kib(server.pid()).unwrap_or((0, 0));
        let mut all = load::Minute::default();
        for (i, m) in minutes.iter_mut().enumerate() {
            out(&load_row(&(i + 1).to_string(), m));
            if let Some(e) = m.first_error.take() {
                out(&format!("          first error: {e}"));
            }
            all.requests += m.requests;
            all.errors += m.errors;
            all.refused += m.refused;
            all.latencies_us.append(&mut m.latencies_us);
        }
        out(&format!("{} {:>13.1} (peak {:.1})", load_row("all", &mut all), mib(rss.0), mib(rss.1)));
        if let (Some(first), Some(last)) = (minutes.first_mut().map(load::Minute::kinds), minutes.last_mut()) {
            out("  by request, first and last minute: p50 / p99 ms");
            let last = last.kinds();
            for (kind, p50, p99) in first {
                let Some((_, last50, last99)) = last.iter().find(|l| l.0 == kind) else { continue };
                out(&format!("  {:<10} {p50:>7.2} / {p99:>7.2}   {last50:>7.2} / {last99:>7.2}", format!("{kind:?}")));
            }
        }
        drop(server);
        Ok(())
    })
}

fn load_row(label: &str, m: &mut load::Minute) -> String {
    let (p50, p99, max) = (m.p(50.0), m.p(99.0), m.p(100.0));
    format!("  {label:>6} {:>9} {:>7} {:>8} {p50:>8.2} {p99:>8.2} {max:>8.2}", m.requests, m.errors, m.refused)
}

#[cfg(test)]
mod tests {
    use super::sample_pause;
    use std::time::Duration;

    #[test]
    fn the_memory_sampler_spends_at_most_a_twentieth_of_a_core() {
        assert_eq!(sample_pause(Duration::from_micros(30)), Duration::from_millis(50));
        assert_eq!(sample_pause(Duration::from_micros(2_500)), Duration::from_millis(50));
        assert_eq!(sample_pause(Duration::from_millis(29)), Duration::from_millis(580));
    }
}
