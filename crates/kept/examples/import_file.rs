//! Writes a history-import file (JSON Lines, docs/IMPORT.md) of N synthetic
//! cases to stdout, for measuring `kept import` (BENCHMARKS.md):
//!
//!   cargo run --release -p kept --example import_file -- 20000 > /tmp/20k.jsonl
//!   target/release/kept import /tmp/20k.jsonl --database-url sqlite:///tmp/i.db
//!
//! Each case: a customer's opening message, one to four rounds of agent
//! reply and customer answer, a solve; 40 % carry a CSAT answer. 500
//! accounts, 3,000 contacts (each always in the same account), 20 agents.
//! Deterministic: the same N gives the same file.

#![expect(clippy::unwrap_used, reason = "a benchmark program")]

use jiff::{SignedDuration, Timestamp};
use kept_core::demo::Rng;
use serde_json::json;
use std::io::Write;

fn main() {
    let n: usize = std::env::args().nth(1).map_or(20_000, |a| a.parse().unwrap());
    let mut rng = Rng::new(7);
    let base: Timestamp = "2025-01-06T09:00:00Z".parse().unwrap();
    let minutes = |t: Timestamp, m: i64| t.checked_add(SignedDuration::from_mins(m)).unwrap();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for i in 0..n {
        let created = minutes(base, 7 * i as i64);
        let agent = format!("agent{}@desk.example", rng.below(20));
        let mut t = created;
        let mut events = vec![json!({"at": t.to_string(), "kind": "message", "author": "customer",
            "body": format!("Help with order {i}, it does not arrive.")})];
        for _ in 0..1 + rng.below(4) {
            t = minutes(t, 5 + rng.below(600) as i64);
            events.push(json!({"at": t.to_string(), "kind": "message", "author": "agent", "agent": agent,
                "body": "We are on it, details follow."}));
            t = minutes(t, 5 + rng.below(600) as i64);
            events.push(
                json!({"at": t.to_string(), "kind": "message", "author": "customer", "body": "Thanks, any news?"}),
            );
        }
        t = minutes(t, 30);
        events.push(json!({"at": t.to_string(), "kind": "status", "to": "solved"}));
        let team = ["Support", "Billing"][rng.below(2)];
        let priority = ["low", "normal", "high"][rng.below(3)];
        let mut line = json!({"external_id": format!("X-{i}"), "subject": format!("Order {i} missing"),
            "account": format!("Customer {}", i % 500), "requester": format!("c{}@cust{}.example", i % 3000, i % 500),
            "team": team, "assignee": agent, "channel": "email",
            "priority": priority, "created_at": created.to_string(), "events": events});
        if rng.chance(0.4) {
            line["surveys"] =
                json!([{"kind": "csat", "score": 1 + rng.below(5), "answered_at": minutes(t, 180).to_string()}]);
        }
        writeln!(out, "{line}").unwrap();
    }
}
