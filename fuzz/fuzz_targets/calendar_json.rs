//! Text as a calendar's JSON form. Reading must never panic; a calendar that
//! reads must then obey the business-time rules its module documents
//! (crates/kept-core/src/calendar/arithmetic.rs):
//! - `add_business(t, 0)` is exactly `t`;
//! - between `a <= b` the business time is at least 0 and at most the wall
//!   time between the two instants truncated to whole seconds;
//! - business time is antisymmetric and additive over a <= b <= c;
//! - a deadline `add_business(a, n)` has exactly `n` business seconds
//!   between `a` and it (forward and backward);
//! - the windows of a range add up to its business milliseconds.
#![no_main]

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kept_core::calendar::{Calendar, add_business, business_millis, business_seconds, business_windows};
use libfuzzer_sys::fuzz_target;

/// Instants are taken within this many seconds of an anchor (about 40 days),
/// so a bounded walk stays short; deadlines at most a working day away.
const SPREAD_SECONDS: u64 = 40 * 86_400;
const MAX_AMOUNT_SECONDS: u64 = 8 * 3_600;

/// A small deterministic mixer, so offsets change with every input byte.
fn mix(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    *state >> 11
}

/// The anchor: the calendar's earliest override or holiday (so the fuzzer can
/// steer the instants anywhere in jiff's range), else a fixed Monday.
fn anchor(calendar: &Calendar) -> Timestamp {
    let date = calendar
        .overrides()
        .keys()
        .next()
        .or_else(|| calendar.holidays().iter().next())
        .copied()
        .unwrap_or(Date::constant(2024, 6, 3));
    TimeZone::UTC.to_timestamp(date.at(0, 0, 0, 0)).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn offset(anchor: Timestamp, state: &mut u64) -> Timestamp {
    let seconds = (next(state) % (2 * SPREAD_SECONDS)) as i64 - SPREAD_SECONDS as i64;
    let nanos = (next(state) % 1_000_000_000) as i32;
    anchor.checked_add(SignedDuration::new(seconds, nanos)).unwrap_or(anchor)
}

/// Whole seconds of `t`, rounding towards the past, as the arithmetic does.
fn floor_seconds(t: Timestamp) -> i64 {
    t.as_second() - i64::from(t.subsec_nanosecond() < 0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(calendar) = Calendar::from_json(text) else { return };

    // The JSON form read back is the same calendar.
    let spec = calendar.to_spec();
    assert_eq!(Calendar::from_spec(&spec).ok().as_ref(), Some(&calendar), "to_spec/from_spec round trip");

    let mut state = mix(data);
    let anchor = anchor(&calendar);
    let mut instants = [offset(anchor, &mut state), offset(anchor, &mut state), offset(anchor, &mut state)];
    instants.sort();
    let [a, b, c] = instants;

    for t in [a, b, c] {
        assert_eq!(add_business(&calendar, t, 0), Some(t), "adding zero moves the instant");
    }

    let ab = business_seconds(&calendar, a, b);
    let bc = business_seconds(&calendar, b, c);
    let ac = business_seconds(&calendar, a, c);
    assert!(ab >= 0, "negative business time between ordered instants");
    assert!(ab <= floor_seconds(b) - floor_seconds(a), "business time {ab}s exceeds wall time between {a} and {b}");
    assert_eq!(business_seconds(&calendar, b, a), -ab, "business time is not antisymmetric");
    assert_eq!(ab + bc, ac, "business time is not additive over {a} <= {b} <= {c}");

    let windows = business_windows(&calendar, a, b);
    let total: i64 = windows.iter().map(|(s, e)| e.as_millisecond() - s.as_millisecond()).sum();
    assert_eq!(total, business_millis(&calendar, a, b), "windows do not add up to business_millis");
    for pair in windows.windows(2) {
        assert!(pair[0].1 < pair[1].0, "windows overlap, touch or are out of order");
    }

    let amount = (next(&mut state) % MAX_AMOUNT_SECONDS) as i64 + 1;
    if let Some(due) = add_business(&calendar, a, amount) {
        assert!(due >= a || floor_seconds(due) == floor_seconds(a), "a deadline lies before its start");
        assert_eq!(business_seconds(&calendar, a, due), amount, "deadline {due} from {a} + {amount}s");
    }
    if let Some(back) = add_business(&calendar, c, -amount) {
        assert!(back <= c, "a backward deadline lies after its start");
        assert_eq!(business_seconds(&calendar, back, c), amount, "backward deadline {back} from {c} - {amount}s");
    }
});
