use super::process::{Scratch, Served, kept, run, text};
use std::io::Write;
use std::process::Stdio;

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["demo", "--help"],
        &["import", "--help"],
        &["user", "create", "--help"],
        &["token", "create", "--help"],
        &["config", "default", "--help"],
        &["backup", "--help"],
        &["restore", "--help"],
        &["rebuild-metrics", "--help"],
        &["bench-scorecards", "--help"],
        &["bench", "--help"],
        &["bench", "reads", "--help"],
        &["bench", "load", "--help"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage"), "{args:?}");
    }
}

#[test]
fn an_unknown_scheme_or_unreachable_database_is_one_line_and_exit_code_2() {
    for (url, says) in [
        ("mysql://localhost/kept", "unsupported database URL scheme 'mysql'"),
        ("postgres://kept@127.0.0.1:1/kept", "cannot open the database"),
    ] {
        for command in ["serve", "migrate"] {
            let out = run(&[command, "--database-url", url]);
            assert_eq!(out.status.code(), Some(2), "{command} {url}");
            let err = text(&out.stderr);
            assert!(err.contains(says), "{err}");
            assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
            assert!(!err.contains("panicked"));
        }
    }
    let out = kept().args(["serve", "--listen", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_environment_configures_the_database() {
    let dir = Scratch::new();
    let out = kept().arg("migrate").env("KEPT_DATABASE_URL", dir.sqlite_url()).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.0.join("kept.db").exists());
}

#[test]
fn a_config_file_is_read_and_its_example_is_valid() {
    let dir = Scratch::new();
    let example = run(&["config", "default"]);
    let file = dir.0.join("kept.toml");
    let config = text(&example.stdout).replace("sqlite://kept-data/kept.db", &dir.sqlite_url());
    std::fs::write(&file, config).unwrap();
    let out = run(&["--config", file.to_str().unwrap(), "migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.0.join("kept.db").exists());
    std::fs::write(&file, "lisen = 1").unwrap();
    let bad = run(&["--config", file.to_str().unwrap(), "migrate"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn users_and_tokens_made_on_the_command_line_work_against_the_served_desk() {
    let dir = Scratch::new();
    let url = dir.sqlite_url();
    let mut create = kept()
        .args([
            "user",
            "create",
            "--database-url",
            &url,
            "--email",
            "ops@example.com",
            "--name",
            "Ops Admin",
            "--role",
            "admin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(b"a strong admin password\n").unwrap();
    let out = create.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    let token = run(&["token", "create", "--database-url", &url, "--user", "ops@example.com"]);
    assert!(token.status.success());
    let token = text(&token.stdout).trim().to_owned();
    assert!(token.starts_with("kept_"));
    let weak = kept()
        .args(["user", "create", "--database-url", &url, "--email", "x@example.com", "--name", "X"])
        .env("KEPT_PASSWORD", "short")
        .output()
        .unwrap();
    assert_eq!(weak.status.code(), Some(1));
    assert!(text(&weak.stderr).contains("password"));
    let served = Served::start(&url);
    let me: serde_json::Value = ureq::get(&format!("{}/api/v1/me", served.base))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(me["role"], "admin");
}

/// What `serve --demo` seeds (the README's first command): 3,000 cases in
/// batches of a thousand, with hundreds of requesters per batch. A query
/// built per requester once grew past SQLite's expression depth here.
#[test]
fn the_default_demo_seeds() {
    let dir = Scratch::new();
    let out = run(&["demo", "--database-url", &dir.sqlite_url()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("Generated 3000 cases"), "{}", text(&out.stdout));
}

#[test]
fn the_demo_is_deterministic_for_a_seed_and_serves_its_logins() {
    let (a, b) = (Scratch::new(), Scratch::new());
    for dir in [&a, &b] {
        let out = run(&["demo", "--database-url", &dir.sqlite_url(), "--cases", "150", "--days", "20", "--seed", "7"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("agent@demo.kept"));
    }
    let again = run(&["demo", "--database-url", &a.sqlite_url(), "--cases", "10"]);
    assert_eq!(again.status.code(), Some(1), "a second demo into a full database is refused");
    let subjects = |dir: &Scratch| {
        let served = Served::start(&dir.sqlite_url());
        let token =
            text(&run(&["token", "create", "--database-url", &dir.sqlite_url(), "--user", "admin@demo.kept"]).stdout)
                .trim()
                .to_owned();
        let list: serde_json::Value = ureq::get(&format!("{}/api/v1/cases?limit=200&sort=created_at", served.base))
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        list["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["subject"].as_str().unwrap().to_owned(), c["status"].as_str().unwrap().to_owned()))
            .collect::<Vec<_>>()
    };
    let (sa, sb) = (subjects(&a), subjects(&b));
    assert!(sa.len() >= 150, "{} cases (internal requests included)", sa.len());
    assert_eq!(sa, sb);
}

#[test]
fn calendar_due_and_between_answer_in_utc_and_business_seconds() {
    let dir = Scratch::new();
    let file = dir.0.join("ny.json");
    std::fs::write(
        &file,
        r#"{"time_zone": "America/New_York", "weekly": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
        "wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]], "sun": []},
        "holidays": ["2024-11-28"], "overrides": {"2024-12-24": [["09:00","13:00"]]}}"#,
    )
    .unwrap();
    let cal = file.to_str().unwrap();
    let due = run(&[
        "calendar",
        "due",
        "--calendar",
        cal,
        "--from",
        "2024-06-04T11:00:00-04:00",
        "--business-minutes",
        "450",
    ]);
    assert_eq!(text(&due.stdout).trim(), "2024-06-05T14:30:00Z", "METRICS T7");
    let t1 = run(&[
        "calendar",
        "between",
        "--calendar",
        cal,
        "--from",
        "2024-11-01T16:00:00-04:00",
        "--to",
        "2024-11-04T10:30:00-05:00",
    ]);
    assert_eq!(text(&t1.stdout).trim(), "9000", "METRICS T1");
    let end = run(&[
        "calendar",
        "due",
        "--calendar",
        cal,
        "--from",
        "2024-06-03T15:00:00-04:00",
        "--business-minutes",
        "120",
    ]);
    assert_eq!(text(&end.stdout).trim(), "2024-06-03T21:00:00Z", "due exactly at 17:00 (D-17)");
    let holiday = run(&[
        "calendar",
        "due",
        "--calendar",
        cal,
        "--from",
        "2024-11-27T16:00:00-05:00",
        "--business-minutes",
        "120",
    ]);
    assert_eq!(text(&holiday.stdout).trim(), "2024-11-29T15:00:00Z", "Thanksgiving is closed");
    let eve = run(&[
        "calendar",
        "due",
        "--calendar",
        cal,
        "--from",
        "2024-12-24T12:00:00-05:00",
        "--business-minutes",
        "120",
    ]);
    assert_eq!(
        text(&eve.stdout).trim(),
        "2024-12-25T15:00:00Z",
        "Christmas Eve closes at 13:00; the weekly schedule has Christmas open"
    );
    std::fs::write(&file, r#"{"time_zone": "UTC", "weekly": {"mon": [["09:00","12:00"], ["11:00","13:00"]]}}"#)
        .unwrap();
    let bad = run(&["calendar", "due", "--calendar", cal, "--from", "2024-06-04T11:00:00Z", "--business-minutes", "5"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("weekly.mon"), "{}", text(&bad.stderr));
    std::fs::write(&file, r#"{"time_zone": "UTC", "weekly": {"mon": [["09:00","12:00"]]}}"#).unwrap();
    let bad_time =
        run(&["calendar", "between", "--calendar", cal, "--from", "yesterday", "--to", "2024-06-04T11:00:00Z"]);
    assert_eq!(bad_time.status.code(), Some(2));
    assert!(text(&bad_time.stderr).contains("--from"));
}
