//! `kept import` as a user runs it: refusals on stderr with their line and
//! field, the summary on stdout, exit codes 0 / 1 / 2, re-imports that
//! change nothing; and the demo's survey answers.

use super::process::{Scratch, kept, run, text};
use std::io::Write;
use std::process::Stdio;

const GOOD_1: &str = r#"{"external_id": "T-1", "subject": "Printer on fire", "account": "Acme", "requester": "ana@acme.example", "team": "Support", "assignee": "alex@desk.example", "created_at": "2024-06-03T09:00:00Z", "events": [{"at": "2024-06-03T09:30:00Z", "kind": "message", "author": "agent", "agent": "alex@desk.example", "body": "Unplug it."}, {"at": "2024-06-03T10:00:00Z", "kind": "status", "to": "solved"}], "surveys": [{"kind": "csat", "score": 5, "answered_at": "2024-06-03T12:00:00Z"}]}"#;
const BAD: &str = r#"{"external_id": "T-2", "subject": "Bad", "account": "Acme", "requester": "ana@acme.example", "team": "Support", "created_at": "2024-06-03T09:00:00Z", "events": [{"at": "2024-06-03T09:30:00Z", "kind": "status", "to": "finished"}]}"#;
const GOOD_2: &str = r#"{"external_id": 3, "subject": "Invoice", "account": {"name": "Globex", "tier": "enterprise"}, "requester": "bob@globex.example", "team": "Billing", "created_at": "2024-06-04T09:00:00Z"}"#;

fn import(url: &str, file: &std::path::Path) -> std::process::Output {
    run(&["import", file.to_str().unwrap(), "--database-url", url])
}

#[test]
fn a_file_with_a_bad_line_imports_the_rest_and_exits_1() {
    let dir = Scratch::new();
    let file = dir.0.join("cases.jsonl");
    std::fs::write(&file, format!("{GOOD_1}\n{BAD}\n\n{GOOD_2}\n")).unwrap();
    let out = import(&dir.sqlite_url(), &file);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("2 created, 0 updated, 0 unchanged, 1 rejected"), "{stdout}");
    assert!(
        stderr.contains(
            r#"line 2: events[0].to: unknown status "finished" (one of: new, open, pending, on_hold, solved, closed)"#
        ),
        "{stderr}"
    );
    assert!(stderr.contains("1 line was rejected"), "{stderr}");
    let again = import(&dir.sqlite_url(), &file);
    assert!(text(&again.stdout).contains("0 created, 0 updated, 2 unchanged, 1 rejected"), "{}", text(&again.stdout));
    std::fs::write(&file, format!("{GOOD_1}\n{GOOD_2}")).unwrap();
    let clean = import(&dir.sqlite_url(), &file);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stderr));
    assert!(text(&clean.stdout).contains("0 created, 0 updated, 2 unchanged, 0 rejected"));
}

#[test]
fn stdin_is_read_with_a_dash() {
    let dir = Scratch::new();
    let mut child = kept()
        .args(["import", "-", "--database-url", &dir.sqlite_url()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(GOOD_2.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported -: 1 created"), "{}", text(&out.stdout));
}

#[test]
fn an_unreadable_file_is_one_line_and_exit_code_2() {
    let dir = Scratch::new();
    let out = import(&dir.sqlite_url(), &dir.0.join("missing.jsonl"));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("cannot read") && err.trim_end().lines().count() == 1, "{err}");
}

#[test]
fn the_demo_customers_answer_surveys() {
    let dir = Scratch::new();
    let out = run(&["demo", "--database-url", &dir.sqlite_url(), "--cases", "400", "--days", "30"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rt = tokio_runtime();
    let store = rt.block_on(kept_store::Store::open(&dir.sqlite_url(), Default::default())).unwrap();
    let answers = rt.block_on(store.count_rows_unchecked("survey_responses")).unwrap();
    assert!(answers > 50, "a share of solved cases answered: {answers}");
    rt.block_on(store.close());
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}
