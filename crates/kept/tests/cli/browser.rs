//! Golden paths in a real browser (headless Debian Chromium via
//! chromedriver) against the real binary. Run with KEPT_TEST_BROWSER=1.

use super::process::{Scratch, Served, run, text};
use super::webdriver::{Browser, skip_without_browser};
use kept_store::test_support::POSTGRES_ENV;

fn seeded_desk(url: &str) -> Served {
    let out = run(&["demo", "--database-url", url, "--cases", "120", "--days", "14", "--seed", "11"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    Served::start(url)
}

/// The agent's golden path; returns the id of the case they opened.
fn agent_works_a_case(desk: &Served) -> String {
    let b = Browser::start();
    b.login(&desk.base, "agent@demo.kept", "kept-demo-password");
    b.wait_for_text("h1", "Queue");
    // Open a case on the phone for a customer.
    b.go(&format!("{}/cases/new", desk.base));
    b.fill("#n-requester", "dana@northwind.example");
    b.fill("#n-subject", "Browser test: badge printer offline");
    b.fill("#n-message", "Dana called: the badge printer at reception is offline.");
    b.click("main form button[type=submit]");
    b.wait_for_text("h1", "badge printer offline");
    let case = b.current_url().rsplit('/').next().unwrap().to_owned();
    // Northwind is an enterprise account: its promises show, with their clocks.
    let promises = b.text(".promises");
    assert!(promises.contains("First response") && promises.contains("First resolution"), "{promises}");
    assert!(promises.contains("due in") || promises.contains("paused"), "a countdown: {promises}");
    b.click(".promises details summary");
    b.wait_for_text(".promises .explain", "started");
    // The agent promises a callback; it becomes a clock of its own.
    b.click("details.make-promise summary");
    b.fill("#pm-desc", "Call Dana back about the badge printer");
    b.click("details.make-promise button[type=submit]");
    b.wait_for_text(".promises", "Call Dana back about the badge printer");
    assert!(b.text(".timeline").contains("promised a callback"), "{}", b.text(".timeline"));
    // Reply, asking a question, and set it pending.
    b.fill("#reply-body", "Could you tell us the printer's model?");
    b.click("#reply-status option[value=pending]");
    b.click("form.reply button[type=submit]");
    b.wait_for_text(".conversation", "printer's model");
    assert!(b.text(".case-head .meta").contains("Waiting on you"), "{}", b.text(".case-head .meta"));
    // Change the status from the side panel.
    b.click("#p-status option[value=solved]");
    b.click("#p-priority option[value=high]");
    b.click("#case-props button[type=submit]");
    b.wait_for_text(".case-head .meta", "Solved");
    assert!(
        b.text(".timeline").contains("changed the status from Waiting on you to Solved"),
        "{}",
        b.text(".timeline")
    );
    if let Ok(dir) = std::env::var("KEPT_SCREENSHOT_DIR") {
        b.go(&format!("{}/cases/{case}", desk.base));
        b.wait_for_text("h1", "badge printer offline");
        b.screenshot(&format!("{dir}/case-page.png"));
    }
    b.quit();
    case
}

fn contact_sees_only_their_cases(desk: &Served, promised_case: &str) {
    let b = Browser::start();
    b.login(&desk.base, "dana@northwind.example", "kept-demo-password");
    b.wait_for_text("h1", "Your cases");
    b.go(&format!("{}/portal/cases/{promised_case}", desk.base));
    b.wait_for_text(".promises", "Call Dana back about the badge printer");
    assert!(b.text(".promises").contains("Alex Agent"), "who keeps the promise");
    assert!(!b.text("main").contains("First response"), "internal targets stay internal");
    b.go(&format!("{}/portal/new", desk.base));
    b.fill("#pn-subject", "Browser test: need a new badge");
    b.fill("#pn-message", "My badge stopped working.");
    b.click("main form button[type=submit]");
    b.wait_for_text("h1", "need a new badge");
    b.go(&format!("{}/portal", desk.base));
    let table = b.text("table.cases");
    assert!(table.contains("need a new badge"));
    // Every case listed belongs to Northwind: another account's case is not found.
    let token = text(&run(&["token", "create", "--database-url", &desk_url(desk), "--user", "admin@demo.kept"]).stdout)
        .trim()
        .to_owned();
    let all: serde_json::Value = ureq::get(&format!("{}/api/v1/cases?limit=200", desk.base))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let cases = all["cases"].as_array().unwrap();
    let foreign =
        cases.iter().find(|c| c["account"]["name"] != "Northwind Traders" && c["channel"] != "internal").unwrap();
    assert!(
        !table.contains(foreign["subject"].as_str().unwrap())
            || cases.iter().any(|c| c["subject"] == foreign["subject"] && c["account"]["name"] == "Northwind Traders")
    );
    let rows = b.count("table.cases tbody tr");
    let northwind =
        cases.iter().filter(|c| c["account"]["name"] == "Northwind Traders" && c["channel"] != "internal").count();
    assert_eq!(rows, northwind.min(50), "the portal lists exactly the account's cases");
    b.go(&format!("{}/portal/cases/{}", desk.base, foreign["id"]));
    b.wait_for_text("h1", "Not found");
    b.quit();
}

fn desk_url(desk: &Served) -> String {
    desk.url.clone()
}

#[test]
fn golden_paths_in_a_real_browser_on_sqlite() {
    if skip_without_browser() {
        return;
    }
    let dir = Scratch::new();
    let desk = seeded_desk(&dir.sqlite_url());
    let case = agent_works_a_case(&desk);
    contact_sees_only_their_cases(&desk, &case);
}

#[test]
fn golden_paths_in_a_real_browser_on_postgres() {
    if skip_without_browser() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(kept_store::test_support::TestDb::postgres()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run the browser tests on PostgreSQL");
        return;
    };
    let desk = seeded_desk(db.url());
    let case = agent_works_a_case(&desk);
    contact_sees_only_their_cases(&desk, &case);
    drop(desk);
}
