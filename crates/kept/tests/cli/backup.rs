//! Online backup and restore: backups taken while `kept serve` is creating
//! cases are consistent snapshots, and a restored desk serves all of it.

use super::process::{Scratch, Served, get, run, text};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every case id the desk serves, following the cursor.
fn all_case_ids(base: &str, token: &str) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let page = get(base, token, &format!("/api/v1/cases?limit=200&sort=created_at&cursor={cursor}"));
        ids.extend(page["cases"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return ids,
        }
    }
}

fn events(base: &str, token: &str, case: i64) -> Vec<Value> {
    get(base, token, &format!("/api/v1/cases/{case}/events"))["events"].as_array().unwrap().clone()
}

/// Waits (bounded) until the writer has acknowledged at least `n` cases.
fn wait_for(created: &Mutex<Vec<i64>>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while created.lock().unwrap().len() < n {
        assert!(Instant::now() < deadline, "the writer stalled");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// "backed up N cases, M events to FILE" or "restored N cases, M events from FILE".
fn counts(out: &Output) -> (i64, i64) {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let words: Vec<&str> = line.split_whitespace().collect();
    let cases = words.iter().position(|w| *w == "cases,").unwrap();
    (words[cases - 1].parse().unwrap(), words[cases + 1].parse().unwrap())
}

fn refused(out: &Output, says: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains(says), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
}

#[test]
fn backups_taken_under_writes_restore_to_a_complete_desk() {
    let dir = Scratch::new();
    let url = dir.sqlite_url();
    let demo = run(&["demo", "--database-url", &url, "--cases", "200", "--days", "14", "--seed", "3"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let token =
        text(&run(&["token", "create", "--database-url", &url, "--user", "admin@demo.kept"]).stdout).trim().to_owned();
    let live = Served::start(&url);
    let contact = get(&live.base, &token, "/api/v1/contacts?limit=1")["users"][0]["id"].as_i64().unwrap();

    // The writer creates cases as fast as the server takes them and records
    // each one the server acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let created = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let (stop, created, base, token) = (stop.clone(), created.clone(), live.base.clone(), token.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let case: Value = ureq::post(&format!("{base}/api/v1/cases"))
                    .header("authorization", &format!("Bearer {token}"))
                    .send_json(json!({
                        "subject": format!("Written during a backup #{n}"),
                        "message": "The printer is on fire again.",
                        "requester_id": contact,
                    }))
                    .unwrap()
                    .body_mut()
                    .read_json()
                    .unwrap();
                created.lock().unwrap().push(case["id"].as_i64().unwrap());
            }
        })
    };

    wait_for(&created, 5);
    let first = dir.0.join("first.kept-backup");
    let first_counts = counts(&run(&["backup", first.to_str().unwrap(), "--database-url", &url]));
    let before_second = created.lock().unwrap().len();
    wait_for(&created, before_second + 5);
    // Every case acknowledged before the second backup began must be in it.
    let acknowledged: Vec<i64> = created.lock().unwrap().clone();
    let second = dir.0.join("second.kept-backup");
    let (cases, events_in_backup) = counts(&run(&["backup", second.to_str().unwrap(), "--database-url", &url]));
    let after_backup = created.lock().unwrap().len();
    wait_for(&created, after_backup + 5);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let written = created.lock().unwrap().clone();
    assert!(cases > first_counts.0, "the second backup saw the writes after the first");
    let live_cases = all_case_ids(&live.base, &token);
    assert!(
        (cases as usize) < live_cases.len(),
        "the backup is a snapshot: cases written after it are not in it ({cases} of {})",
        live_cases.len()
    );

    // Refusals, each a one-line reason and exit code 2.
    refused(&run(&["backup", first.to_str().unwrap(), "--database-url", &url]), "already exists");
    let quoted = dir.0.join("it's.kept-backup");
    refused(&run(&["backup", quoted.to_str().unwrap(), "--database-url", &url]), "single quote");
    let junk = dir.0.join("junk.kept-backup");
    std::fs::write(&junk, "not a database").unwrap();
    let target = Scratch::new();
    let restored_url = format!("sqlite://{}/restored/kept.db", target.0.display());
    refused(&run(&["restore", junk.to_str().unwrap(), "--database-url", &restored_url]), "not a usable kept database");

    let restore = run(&["restore", second.to_str().unwrap(), "--database-url", &restored_url]);
    assert_eq!(counts(&restore), (cases, events_in_backup), "the restore holds what the backup counted");
    refused(&run(&["restore", first.to_str().unwrap(), "--database-url", &restored_url]), "--force");

    let restored = Served::start(&restored_url);
    refused(&run(&["restore", first.to_str().unwrap(), "--database-url", &restored_url, "--force"]), "in use");
    let ids = all_case_ids(&restored.base, &token);
    assert_eq!(ids.len() as i64, cases, "every case the backup counted is served");
    for id in &acknowledged {
        assert!(ids.contains(id), "case {id} was acknowledged before the backup began");
    }
    assert!(written.iter().any(|id| !ids.contains(id)), "some cases came after the snapshot");
    let mut served_events = 0;
    for id in &ids {
        let list = events(&restored.base, &token, *id);
        assert_eq!(list.first().map(|e| e["kind"].clone()), Some(json!("case_created")), "case {id}");
        served_events += list.len() as i64;
    }
    assert!(served_events <= events_in_backup);
    // The writer's cases were not touched after their creation: in the
    // restored desk they have exactly the events the live desk has.
    for id in acknowledged.iter().rev().take(10) {
        assert_eq!(events(&restored.base, &token, *id), events(&live.base, &token, *id), "case {id}");
    }
    drop(restored);
    let forced = run(&["restore", first.to_str().unwrap(), "--database-url", &restored_url, "--force"]);
    assert_eq!(counts(&forced), first_counts, "with the server stopped, --force replaces the database");

    for command in ["backup", "restore"] {
        let out = run(&[command, "x.dump", "--database-url", "postgres://kept:s3cret@db.example:5432/kept"]);
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(err.contains("pg_dump --format=custom") && err.contains("pg_restore"), "{err}");
        assert!(err.contains("postgres://kept@db.example:5432/kept") && !err.contains("s3cret"), "{err}");
    }
}
