//! Business time on instants (METRICS.md §2.2): how much working time lies
//! between two instants, when a number of working seconds after an instant
//! runs out, and which working windows a range contains.
//!
//! Units. kept stores instants in milliseconds, so the core works in ms:
//! `business_millis` and `add_business_millis` first truncate their
//! instants to the millisecond (towards the past). The seconds API
//! (`business_seconds`, `add_business`) truncates its instants to whole
//! seconds first and then uses the same core. Because every window boundary
//! is a whole second, a result in seconds is then exact, and additivity
//! `bs(a,c) = bs(a,b) + bs(b,c)` holds exactly in either unit. (Truncating
//! a millisecond total to seconds instead would break additivity.)
//!
//! Signs. Business time is a signed measure: `business_seconds(b, a)` is
//! `-business_seconds(a, b)`, so additivity holds for any order of a, b, c,
//! and `add_business` with a negative amount walks back in time (a breach
//! that already happened: `add_business(now, remaining)` with
//! `remaining < 0`, METRICS §3.2).
//!
//! Deadlines are the earliest instant that reaches the amount (D-17: a
//! deadline that runs out exactly at a window's end is that end, not the
//! start of the next window). For a zero amount that is the start instant
//! itself, even outside working hours: `add_business(t, 0) = t`. Backward
//! walks mirror this: the latest instant, so a window's start, not the
//! previous window's end.

use jiff::Timestamp;

use super::Calendar;
use super::windows::{Walk, Window};

/// The working time between `from` and `to` in whole seconds (the instants
/// are truncated to whole seconds first). Negative when `to` is before
/// `from`.
pub fn business_seconds(calendar: &Calendar, from: Timestamp, to: Timestamp) -> i64 {
    let millis = between(calendar, floor_second_ms(from), floor_second_ms(to));
    // Both ends and every window boundary are whole seconds: exact.
    millis / 1000
}

/// The working time between `from` and `to` in milliseconds (the instants
/// are truncated to whole milliseconds first). Negative when `to` is before
/// `from`.
pub fn business_millis(calendar: &Calendar, from: Timestamp, to: Timestamp) -> i64 {
    between(calendar, floor_ms(from), floor_ms(to))
}

fn between(calendar: &Calendar, from: i64, to: i64) -> i64 {
    if from > to {
        return -between(calendar, to, from);
    }
    if from == to {
        return 0;
    }
    Walk::forward(calendar, from, Some(to)).map(Window::len).sum()
}

/// The earliest instant at which `seconds` of working time have passed
/// since `from` (or, for a negative amount, the latest instant that much
/// working time before `from`). `add_business(cal, t, 0)` is `t`.
///
/// `None` when the calendar has no working time left: after ten years
/// without any, or beyond the range of `Timestamp`.
pub fn add_business(calendar: &Calendar, from: Timestamp, seconds: i64) -> Option<Timestamp> {
    if seconds == 0 {
        return Some(from);
    }
    let millis = seconds.checked_mul(1000)?;
    let start = floor_second_ms(from);
    Timestamp::from_millisecond(consume(calendar, start, millis)?).ok()
}

/// [`add_business`] in milliseconds, from `from` truncated to the
/// millisecond.
pub fn add_business_millis(calendar: &Calendar, from: Timestamp, millis: i64) -> Option<Timestamp> {
    if millis == 0 {
        return Some(from);
    }
    Timestamp::from_millisecond(consume(calendar, floor_ms(from), millis)?).ok()
}

/// Walks the windows from `from` and spends `amount` ms of working time.
fn consume(calendar: &Calendar, from: i64, amount: i64) -> Option<i64> {
    let mut remaining = amount.unsigned_abs();
    if amount > 0 {
        for window in Walk::forward(calendar, from, None) {
            let available = window.len().unsigned_abs();
            if remaining <= available {
                // `remaining` fits in the window, so it fits in i64.
                return Some(window.start + remaining as i64);
            }
            remaining -= available;
        }
    } else {
        for window in Walk::backward(calendar, from, None) {
            let available = window.len().unsigned_abs();
            if remaining <= available {
                return Some(window.end - remaining as i64);
            }
            remaining -= available;
        }
    }
    None
}

/// The working windows within `[from, to)`, merged (no two touch) and in
/// time order, each clipped to the range; empty when `to <= from`. Their
/// lengths add up to `business_millis(from, to)`.
pub fn business_windows(calendar: &Calendar, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
    let (from, to) = (floor_ms(from), floor_ms(to));
    if from >= to {
        return Vec::new();
    }
    Walk::forward(calendar, from, Some(to))
        .filter_map(|window| {
            let start = Timestamp::from_millisecond(window.start).ok()?;
            let end = Timestamp::from_millisecond(window.end).ok()?;
            Some((start, end))
        })
        .collect()
}

/// True when the business clock runs at `t`: `t` lies in a working window
/// (windows are half-open, so a window's end is already outside).
pub fn is_business_time(calendar: &Calendar, t: Timestamp) -> bool {
    let at = floor_ms(t);
    Walk::forward(calendar, at, Some(at + 1)).next().is_some()
}

/// The earliest instant at or after `t` at which the business clock runs:
/// `t` itself during working time, else the start of the next window.
/// `None` when there is no working time left (see [`add_business`]).
pub fn next_business_start(calendar: &Calendar, t: Timestamp) -> Option<Timestamp> {
    let window = Walk::forward(calendar, floor_ms(t), None).next()?;
    if window.start <= floor_ms(t) { Some(t) } else { Timestamp::from_millisecond(window.start).ok() }
}

/// Whole milliseconds since the epoch, rounding towards the past.
fn floor_ms(t: Timestamp) -> i64 {
    // |ns / 1e6| is within i64 for every Timestamp.
    t.as_nanosecond().div_euclid(1_000_000) as i64
}

/// Whole seconds since the epoch (towards the past), in milliseconds.
fn floor_second_ms(t: Timestamp) -> i64 {
    t.as_nanosecond().div_euclid(1_000_000_000) as i64 * 1000
}

#[cfg(test)]
mod tests;
