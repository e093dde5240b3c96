//! SIGTERM while clients write: `kept serve` stops accepting, finishes what
//! it took, exits 0, and every case it acknowledged is there after a restart.

use super::process::{Scratch, Served, run, text};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn sigterm_under_load_loses_no_acknowledged_case() {
    let dir = Scratch::new();
    let url = dir.sqlite_url();
    let demo = run(&["demo", "--database-url", &url, "--cases", "50", "--days", "7", "--seed", "9"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let token =
        text(&run(&["token", "create", "--database-url", &url, "--user", "admin@demo.kept"]).stdout).trim().to_owned();
    let mut desk = Served::start(&url);
    let contact: Value = ureq::get(&format!("{}/api/v1/contacts?limit=1", desk.base))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let contact = contact["users"][0]["id"].as_i64().unwrap();

    // Four clients create cases until the server stops answering; each
    // records the cases the server acknowledged.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (acknowledged, base, token) = (acknowledged.clone(), desk.base.clone(), token.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    let sent = ureq::post(&format!("{base}/api/v1/cases"))
                        .header("authorization", &format!("Bearer {token}"))
                        .send_json(
                            json!({"subject": format!("Client {c} #{n}"), "message": "m", "requester_id": contact}),
                        );
                    match sent {
                        // Acknowledged = a 2xx with the whole body; a connection
                        // cut before that is not an acknowledgement.
                        Ok(mut r) => match r.body_mut().read_json::<Value>() {
                            Ok(case) => acknowledged.lock().unwrap().push(case["id"].as_i64().unwrap()),
                            Err(_) => return,
                        },
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().unwrap().len() < 40 {
        assert!(Instant::now() < deadline, "clients stalled");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = desk.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = desk.child.try_wait().unwrap() {
            break status;
        }
        assert!(stopped.elapsed() < Duration::from_secs(10), "kept serve did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "a clean stop exits 0: {status:?}");
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let again = Served::start(&url);
    for case in &acknowledged {
        let events: Value = ureq::get(&format!("{}/api/v1/cases/{case}/events", again.base))
            .header("authorization", &format!("Bearer {token}"))
            .call()
            .unwrap_or_else(|e| panic!("acknowledged case {case} is missing after the restart: {e}"))
            .body_mut()
            .read_json()
            .unwrap();
        assert_eq!(events["events"][0]["kind"], "case_created", "case {case} is whole");
    }
}
