//! `kept bench` works end to end on both engines: every run completes cases
//! with no failed request, the floor runs, reads and the mixed load answer.
//! (How fast is for BENCHMARKS.md, not for a test: nothing here is timed.)

use super::process::{Scratch, run, text};
use kept_store::test_support::POSTGRES_ENV;

/// The rows of the table that follows the line starting with `header`.
fn table<'a>(output: &'a str, header: &str) -> Vec<Vec<&'a str>> {
    output
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(header))
        .skip(1)
        .take_while(|l| l.starts_with("  ") && !l.trim_start().starts_with(header))
        .filter(|l| !l.trim_start().starts_with("first error") && !l.trim_start().starts_with("peak resident"))
        .map(|l| l.split_whitespace().collect())
        .collect()
}

fn intake(engine_args: &[&str]) {
    let mut args = vec!["bench", "--clients", "1,4", "--seconds", "1"];
    args.extend_from_slice(engine_args);
    let out = run(&args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("start-up to the first answered request"), "{stdout}");
    let kept = table(&stdout, "clients   cases/s  requests/s");
    assert_eq!(kept.len(), 2, "{stdout}");
    for (row, clients) in kept.iter().zip(["1", "4"]) {
        assert_eq!(row[0], clients, "{stdout}");
        assert!(row[1].parse::<f64>().unwrap() > 0.0, "no case went through: {stdout}");
        assert_eq!(row[6], "0", "failed requests: {stdout}");
        // CPU per request of the server and of the bench's clients: both
        // did work, so both read more than nothing at the run's end.
        let cpu: Vec<u64> = row[8..].iter().map(|v| v.parse().unwrap()).collect();
        assert!(cpu.len() == 2 && cpu.iter().all(|&us| us > 0), "{stdout}");
    }
    let floor = table(&stdout, "clients   cases/s   p50 ms");
    assert_eq!(floor.len(), 2, "{stdout}");
    assert!(floor.iter().all(|row| row[1].parse::<f64>().unwrap() > 0.0 && row[5] == "%"), "{stdout}");
    let asks = table(&stdout, "clients  requests/s  client CPU");
    assert_eq!(asks.len(), 2, "{stdout}");
    let cores = std::thread::available_parallelism().unwrap().to_string();
    for (row, clients) in asks.iter().zip(["1", "4"]) {
        assert_eq!((row[0], row[4], row[5]), (clients, "of", cores.as_str()), "{stdout}");
        assert!(row[1].parse::<f64>().unwrap() > 0.0 && row[3].parse::<f64>().unwrap() > 0.0, "{stdout}");
    }
}

#[test]
fn intake_and_floor_on_sqlite() {
    intake(&[]);
}

#[test]
fn intake_and_floor_on_postgres() {
    let Some(url) = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run on PostgreSQL");
        return;
    };
    intake(&["--engines", "postgres", "--postgres-url", &url]);
}

#[test]
fn reads_on_a_demo_database_and_a_short_mixed_load() {
    let dir = Scratch::new();
    let url = dir.sqlite_url();
    let seeded = run(&["demo", "--database-url", &url, "--cases", "300", "--days", "30"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let out = run(&["bench", "reads", "--database-url", &url, "--clients", "1,2", "--runs", "20"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let reads = table(&stdout, "read ");
    assert_eq!(reads.len(), 8, "four reads at two concurrencies: {stdout}");
    assert!(reads.iter().all(|row| row.last() == Some(&"0")), "failed reads: {stdout}");

    let out = run(&["bench", "load", "--seconds", "3", "--rate", "20", "--workers", "4"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let all = table(&stdout, "minute").into_iter().find(|row| row[0] == "all").unwrap();
    assert!(all[1].parse::<u64>().unwrap() >= 50, "{stdout}");
    assert_eq!(all[2], "0", "failed requests under load: {stdout}");
}
