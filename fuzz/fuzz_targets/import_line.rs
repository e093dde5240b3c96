//! One line of the import format (docs/IMPORT.md). `parse_line` must return
//! a case or an error naming a field, never panic; what it accepts keeps the
//! promises the importer relies on: nothing in the future or before 1990,
//! events in time order from the case's creation, at most MAX_EVENTS of
//! them, scores on their kind's scale, one answer per kind and instant.
#![no_main]

use jiff::Timestamp;
use kept_core::import::{MAX_EVENTS, parse_line};
use kept_core::surveys::validate_score;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else { return };
    // A fixed "now", so a run is reproducible: 2026-01-01T00:00:00Z.
    let now = Timestamp::from_second(1_767_225_600).unwrap();
    match parse_line(line, now) {
        Ok(case) => {
            let earliest = Timestamp::from_second(631_152_000).unwrap();
            assert!(case.created_at >= earliest && case.created_at <= now, "created_at {}", case.created_at);
            assert!(case.events.len() <= MAX_EVENTS);
            assert!(case.first_step <= 1 && case.first_step <= case.events.len());
            let mut last = case.created_at;
            for event in &case.events {
                assert!(event.at >= last && event.at <= now, "event at {} after {last}", event.at);
                last = event.at;
            }
            for (i, answer) in case.surveys.iter().enumerate() {
                assert!(validate_score(answer.kind, answer.score).is_ok(), "score {} off scale", answer.score);
                assert!(answer.answered_at <= now && answer.answered_at >= case.created_at);
                for other in &case.surveys[i + 1..] {
                    assert!((other.kind, other.answered_at) != (answer.kind, answer.answered_at), "duplicate answer");
                }
            }
        }
        Err(error) => {
            assert!(!error.code.is_empty() && !error.message.is_empty(), "an error without a code or message");
        }
    }
});
