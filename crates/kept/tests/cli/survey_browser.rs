//! The voice of the customer in a real browser: a solved case sends a CSAT
//! survey by real SMTP (to kept-mail's sink); the customer opens the emailed
//! link — the page alone records nothing — confirms a low score, and the
//! team lead finds the follow-up task. Run with KEPT_TEST_BROWSER=1.

use super::process::{Scratch, Served, run, text};
use super::webdriver::{Browser, skip_without_browser};
use kept_mail::inbound::{Limits, parse};
use kept_mail::sink::Sink;
use kept_store::test_support::POSTGRES_ENV;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn token(desk: &Served, user: &str) -> String {
    let out = run(&["token", "create", "--database-url", &desk.url, "--user", user]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn call(desk: &Served, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let url = format!("{}{path}", desk.base);
    let auth = format!("Bearer {token}");
    let mut response = match (method, body) {
        ("GET", None) => ureq::get(&url).header("authorization", &auth).call(),
        ("POST", Some(b)) => ureq::post(&url).header("authorization", &auth).send_json(b),
        ("PATCH", Some(b)) => ureq::patch(&url).header("authorization", &auth).send_json(b),
        other => panic!("unsupported call {other:?}"),
    }
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    response.body_mut().read_json().unwrap()
}

/// The survey link for `score` in the first survey mail the sink received.
fn emailed_link(rt: &tokio::runtime::Runtime, sink: &Sink, score: u8) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let mails: Vec<_> = sink.messages().iter().map(|m| parse(&m.data, &Limits::default()).unwrap()).collect();
        if let Some(survey) = mails.iter().find(|m| m.text.contains("/s/")) {
            assert_eq!(survey.to[0].email, "dana@northwind.example");
            let wanted = format!("?score={score}");
            let link = survey
                .text
                .split_whitespace()
                .find(|w| w.contains("/s/") && w.ends_with(&wanted))
                .unwrap_or_else(|| panic!("no link for {score}: {}", survey.text));
            return link.trim_matches(|c| c == '<' || c == '>').to_owned();
        }
        assert!(Instant::now() < deadline, "no survey mail arrived; got {} mails", mails.len());
        rt.block_on(tokio::time::sleep(Duration::from_millis(250)));
    }
}

fn survey_status(desk: &Served, admin: &str, case: i64) -> String {
    let surveys = call(desk, "GET", &format!("/api/v1/cases/{case}/surveys"), admin, None);
    surveys["invitations"][0]["status"].as_str().unwrap_or_else(|| panic!("{surveys}")).to_owned()
}

fn a_detractor_is_heard(url: &str, dir: &Scratch) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = rt.block_on(Sink::start());
    let _inside = rt.enter();
    let config = dir.0.join("kept.toml");
    std::fs::write(
        &config,
        format!(
            "[mail]\nfrom = \"help@demo.kept\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_security = \"none\"\n",
            sink.port()
        ),
    )
    .unwrap();
    let out = run(&["demo", "--database-url", url, "--cases", "60", "--days", "7", "--seed", "5"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let desk = Served::start_with(url, &["--config", config.to_str().unwrap()]);
    let (admin, lead, dana) =
        (token(&desk, "admin@demo.kept"), token(&desk, "lead@demo.kept"), token(&desk, "dana@northwind.example"));
    let definition = json!({"kind": "csat", "name": "After each case", "reasons": ["Too slow", "Not solved"]});
    call(&desk, "POST", "/api/v1/survey-definitions", &admin, Some(definition));
    let me = call(&desk, "GET", "/api/v1/me", &lead, None);
    let teams = call(&desk, "GET", "/api/v1/me/teams", &lead, None);
    let team = teams[0]["id"].as_i64().unwrap_or_else(|| panic!("{teams}"));
    let case = call(
        &desk,
        "POST",
        "/api/v1/cases",
        &dana,
        Some(json!({"subject": "Survey test: badge reader", "message": "The badge reader rejects my badge."})),
    )["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/cases/{case}");
    call(&desk, "PATCH", &path, &admin, Some(json!({"team_id": team, "assignee_id": me["id"], "status": "open"})));
    call(&desk, "PATCH", &path, &admin, Some(json!({"status": "solved"})));

    let link = emailed_link(&rt, &sink, 1);
    assert!(link.starts_with(&desk.base), "links point at this kept: {link}");
    let b = Browser::start();
    b.go(&link);
    b.wait_for_text("#survey-form", "How satisfied");
    assert!(b.is_selected("#score-1"), "the clicked score is preselected");
    assert_eq!(survey_status(&desk, &admin, case), "sent", "opening the link records nothing");
    b.fill("#comment", "Nobody told me it was fixed.");
    b.click("#survey-submit");
    b.wait_for_text("#survey-thanks", "");
    assert!(!b.text("#survey-thanks").is_empty());
    assert_eq!(survey_status(&desk, &admin, case), "answered");
    b.quit();

    let b = Browser::start();
    b.login(&desk.base, "lead@demo.kept", "kept-demo-password");
    b.wait_for_text("h1", "Queue");
    b.go(&format!("{}/recovery", desk.base));
    b.wait_for_text("main", "Dissatisfied survey answer");
    b.click(&format!("main a[href='/cases/{case}']"));
    b.wait_for_text("h1", "badge reader");
    assert!(b.text("main").contains("Nobody told me it was fixed."), "the verbatim is on the case");
    b.quit();
    drop(desk);
}

#[test]
fn a_detractor_answers_from_the_email_and_the_lead_follows_up_on_sqlite() {
    if skip_without_browser() {
        return;
    }
    let dir = Scratch::new();
    a_detractor_is_heard(&dir.sqlite_url(), &dir);
}

#[test]
fn a_detractor_answers_from_the_email_and_the_lead_follows_up_on_postgres() {
    if skip_without_browser() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(kept_store::test_support::TestDb::postgres()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run the browser tests on PostgreSQL");
        return;
    };
    let dir = Scratch::new();
    a_detractor_is_heard(db.url(), &dir);
}
