//! Management by fact in a real browser: the head of service opens the
//! organisation's scorecard, finds first-response attainment red (a target
//! of 100 % it misses, on far more than 30 promises), drills into the metric
//! — control chart, the cases behind the number, missed first — and
//! downloads both CSVs within the signed-in session. Run with
//! KEPT_TEST_BROWSER=1.

use super::process::{Scratch, Served, run, text};
use super::webdriver::{Browser, skip_without_browser};
use kept_store::test_support::POSTGRES_ENV;
use serde_json::{Value, json};

fn token(desk: &Served, user: &str) -> String {
    let out = run(&["token", "create", "--database-url", &desk.url, "--user", user]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

fn api(desk: &Served, token: &str, path: &str, body: Option<Value>) -> Value {
    let url = format!("{}{path}", desk.base);
    let auth = format!("Bearer {token}");
    let mut response = match body {
        None => ureq::get(&url).header("authorization", &auth).call(),
        Some(b) => ureq::post(&url).header("authorization", &auth).send_json(b),
    }
    .unwrap_or_else(|e| panic!("{path}: {e}"));
    response.body_mut().read_json().unwrap()
}

#[expect(clippy::disallowed_methods, reason = "the kept under test reads the real clock, so its periods do too")]
fn day(offset_days: i64) -> String {
    let at = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(24 * offset_days)).unwrap();
    jiff::tz::TimeZone::UTC.to_datetime(at).date().to_string()
}

/// Fetches `href` with the page's cookies, as a click on the link would.
fn fetch_text(b: &Browser, href: &str) -> String {
    let script = "const done = arguments[arguments.length - 1]; \
                  fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(done, e => done('failed: ' + e));";
    b.execute_async(script, json!([href])).as_str().unwrap_or("").to_owned()
}

fn the_head_of_service_finds_a_red_number_and_its_cases(url: &str) {
    let out = run(&["demo", "--database-url", url, "--cases", "200", "--days", "20", "--seed", "11"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let desk = Served::start(url);
    let admin = token(&desk, "admin@demo.kept");
    // A target no period with a missed first response can meet: red.
    let target =
        json!({"metric": "attainment_first_response", "target": "100", "amber": "0", "effective_from": day(-2)});
    api(&desk, &admin, "/api/v1/targets", Some(target));
    let period = format!("period=custom&from={}&to={}", day(-45), day(2));
    let card = api(&desk, &admin, &format!("/api/v1/scorecards?metrics=attainment_first_response&{period}"), None);
    let row = &card["rows"][0];
    assert_eq!(row["status"], "red", "{card}");
    assert!(row["current"]["n"].as_u64().unwrap() >= 30, "a sample large enough to be coloured: {row}");

    let b = Browser::start();
    // An admin sees every team's cases, so every case behind the number opens.
    b.login(&desk.base, "admin@demo.kept", "kept-demo-password");
    b.wait_for_text("h1", "Queue");
    b.click("header nav a[href='/scorecards']");
    b.wait_for_text("h1", "Scorecards");
    assert!(b.text("#card-head").contains("the organisation"), "{}", b.text("#card-head"));
    b.go(&format!("{}/scorecards?scope=org&{period}", desk.base));
    b.wait_for_text("#card-head", "the organisation");
    let red = "#row-attainment_first_response td.rag-red";
    assert_eq!(b.count(red), 1, "first-response attainment is red: {}", b.text("#row-attainment_first_response"));
    assert!(b.text(red).contains("off target"));
    if let Ok(dir) = std::env::var("KEPT_SCREENSHOT_DIR") {
        b.screenshot(&format!("{dir}/scorecard.png"));
    }
    let scorecard_csv = b.attribute("#scorecard-csv", "href");

    b.click("#row-attainment_first_response a.value");
    b.wait_for_text("h1", "First response attainment");
    assert_eq!(b.count("svg.chart-control"), 1, "the control chart");
    assert!(b.text("#metric-summary").contains("off target"));
    let count = b.text("#drill-count");
    assert!(count.contains("worst first"), "{count}");
    let listed = b.count("#drill-cases tbody tr");
    assert!(listed >= 30, "the cases behind the number: {listed}");
    assert!(b.text("#drill-cases tbody tr:first-child").contains("missed"), "missed first");
    let first_case = b.text("#drill-cases tbody tr:first-child td:first-child");
    if let Ok(dir) = std::env::var("KEPT_SCREENSHOT_DIR") {
        b.screenshot(&format!("{dir}/metric-page.png"));
    }

    let csv = fetch_text(&b, &b.attribute("#cases-csv", "href"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "case_id,subject,status,date,value,good", "{csv}");
    assert_eq!(lines.len() - 1, listed, "one row per listed case");
    assert!(lines[1].starts_with(&format!("{first_case},")) && lines[1].ends_with(",false"), "{}", lines[1]);
    let csv = fetch_text(&b, &scorecard_csv);
    assert!(csv.starts_with("metric,name,unit,value,n,ci_lower,ci_upper,"), "{csv}");
    let line = csv.lines().find(|l| l.starts_with("attainment_first_response,")).unwrap_or_else(|| panic!("{csv}"));
    assert!(line.contains(",100,red,false"), "{line}");

    b.click("#drill-cases tbody tr:first-child td:first-child a");
    b.wait_for_text("#case-time", "Where time goes");
    assert!(b.count("#case-time svg.chart") >= 1);
    b.quit();
    drop(desk);
}

#[test]
fn the_head_of_service_drills_from_a_red_scorecard_number_to_its_cases_on_sqlite() {
    if skip_without_browser() {
        return;
    }
    let dir = Scratch::new();
    the_head_of_service_finds_a_red_number_and_its_cases(&dir.sqlite_url());
}

#[test]
fn the_head_of_service_drills_from_a_red_scorecard_number_to_its_cases_on_postgres() {
    if skip_without_browser() {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(kept_store::test_support::TestDb::postgres()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run the browser tests on PostgreSQL");
        return;
    };
    the_head_of_service_finds_a_red_number_and_its_cases(db.url());
}
