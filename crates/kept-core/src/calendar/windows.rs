//! From local working hours to UTC working windows: the one place that
//! knows about time zones, DST and the order in which windows are visited.
//!
//! A local interval `[s, e)` of date D becomes the instant window
//! `[instant(D, s), instant(D, e))` exactly as in METRICS.md §2.2, where
//! `instant` follows D-16 (jiff's "compatible" disambiguation: the first
//! occurrence in a fold, the offset before the gap in a gap) and 24:00 is
//! 00:00 of D+1. A window whose end does not come after its start is dropped
//! (`max(0, …)` in the METRICS algorithm).
//!
//! One clarification of METRICS: D-16 is not monotonic inside a DST gap
//! (New York 02:30 on 2024-03-10 maps to 07:30Z, 03:00 to 07:00Z), so when an
//! interval boundary falls in a gap two windows can share instants. We take
//! the union of the windows rather than their sum, so an instant is never
//! counted twice and the windows stay a sorted, disjoint list, which the
//! deadline walk, `business_windows` and `is_business_time` rely on. Outside
//! that corner the union and the METRICS sum are the same number.
//!
//! Walks are lazy and go date by date, forward or backward, only as far as
//! the caller needs. A window is handed out once no date still to be
//! visited can produce a window touching it. That uses only the fact that
//! jiff offsets stay within ±26 h, so it holds for every zone, including
//! ones that skip a whole day (Pacific/Apia, 2011-12-30).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::Calendar;
use super::schedule::TimeOfDay;

const DAY_MS: i64 = 86_400_000;
/// More than any UTC offset jiff can represent (±25:59:59).
const MAX_OFFSET_MS: i64 = 93_600_000;
/// A walk without a limit gives up after this many consecutive dates without
/// working time (ten years), so a calendar closed for good cannot loop.
pub(crate) const HORIZON_DAYS: u32 = 3_653;

/// A half-open window `[start, end)` in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) start: i64,
    pub(crate) end: i64,
}

impl Window {
    pub(crate) fn len(self) -> i64 {
        self.end - self.start
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Forward,
    Backward,
}

/// The merged working windows of a calendar, clipped to a range and visited
/// in time order (forward) or reverse time order (backward).
pub(crate) struct Walk<'c> {
    calendar: &'c Calendar,
    direction: Direction,
    /// Where the walk starts: nothing before it (forward) or after it
    /// (backward) is yielded.
    origin: i64,
    /// Where the walk stops: forward, nothing at or after it; backward,
    /// nothing before it. `None` walks until the horizon.
    limit: Option<i64>,
    /// The next date whose windows are still to be computed.
    next_date: Option<Date>,
    /// Computed windows not yet yielded: sorted, disjoint, not touching.
    pending: Vec<Window>,
    closed_run: u32,
}

impl<'c> Walk<'c> {
    /// Windows within `[from, until)` (or from `from` on), earliest first.
    pub(crate) fn forward(calendar: &'c Calendar, from: i64, until: Option<i64>) -> Walk<'c> {
        let mut date = utc_date(from);
        // Step back over dates whose windows might still reach past `from`.
        while let Some(previous) = date.and_then(|d| d.yesterday().ok()) {
            if latest_end_bound(previous) <= from {
                break;
            }
            date = Some(previous);
        }
        Walk::new(calendar, Direction::Forward, from, until, date)
    }

    /// Windows within `[until, from)` (or up to `from`), latest first.
    pub(crate) fn backward(calendar: &'c Calendar, from: i64, until: Option<i64>) -> Walk<'c> {
        let mut date = utc_date(from);
        while let Some(following) = date.and_then(|d| d.tomorrow().ok()) {
            if earliest_start_bound(following) >= from {
                break;
            }
            date = Some(following);
        }
        Walk::new(calendar, Direction::Backward, from, until, date)
    }

    fn new(
        calendar: &'c Calendar,
        direction: Direction,
        origin: i64,
        limit: Option<i64>,
        next_date: Option<Date>,
    ) -> Walk<'c> {
        Walk { calendar, direction, origin, limit, next_date, pending: Vec::new(), closed_run: 0 }
    }

    /// Removes and returns the next window that no unvisited date can
    /// extend any more.
    fn take_settled(&mut self) -> Option<Window> {
        match self.direction {
            Direction::Forward => {
                let first = *self.pending.first()?;
                let settled = self.next_date.is_none_or(|date| first.end < earliest_start_bound(date));
                settled.then(|| self.pending.remove(0))
            }
            Direction::Backward => {
                let last = *self.pending.last()?;
                let settled = self.next_date.is_none_or(|date| last.start > latest_end_bound(date));
                if settled { self.pending.pop() } else { None }
            }
        }
    }

    /// Computes the windows of the next date. False when there is no date
    /// left to visit.
    fn advance(&mut self) -> bool {
        let Some(date) = self.next_date else {
            return false;
        };
        if self.past_limit(date) || self.past_horizon(date) {
            self.next_date = None;
            return false;
        }
        if push_day_windows(self.calendar, date, &mut self.pending) {
            self.closed_run = 0;
            merge(&mut self.pending);
        } else {
            self.closed_run += 1;
        }
        self.next_date = match self.direction {
            Direction::Forward => date.tomorrow().ok(),
            Direction::Backward => date.yesterday().ok(),
        };
        true
    }

    fn past_limit(&self, date: Date) -> bool {
        self.limit.is_some_and(|limit| match self.direction {
            Direction::Forward => earliest_start_bound(date) >= limit,
            Direction::Backward => latest_end_bound(date) <= limit,
        })
    }

    fn past_horizon(&self, date: Date) -> bool {
        if self.limit.is_some() {
            // A bounded walk always ends; it must not give up early on a
            // long closed stretch followed by working time.
            return false;
        }
        self.closed_run >= HORIZON_DAYS
            || match self.direction {
                Direction::Forward => self.calendar.closed_after(date),
                Direction::Backward => self.calendar.closed_before(date),
            }
    }

    /// Clips `window` to the walk's range: `Ok(None)` when it lies entirely
    /// on the near side of the origin, `Err(())` when it lies beyond the
    /// limit (and so does every later window).
    fn clip(&self, window: Window) -> Result<Option<Window>, ()> {
        let (origin, limit) = (self.origin, self.limit);
        match self.direction {
            Direction::Forward => {
                if limit.is_some_and(|limit| window.start >= limit) {
                    return Err(());
                }
                if window.end <= origin {
                    return Ok(None);
                }
                let end = limit.map_or(window.end, |limit| window.end.min(limit));
                Ok(Some(Window { start: window.start.max(origin), end }))
            }
            Direction::Backward => {
                if limit.is_some_and(|limit| window.end <= limit) {
                    return Err(());
                }
                if window.start >= origin {
                    return Ok(None);
                }
                let start = limit.map_or(window.start, |limit| window.start.max(limit));
                Ok(Some(Window { start, end: window.end.min(origin) }))
            }
        }
    }
}

impl Iterator for Walk<'_> {
    type Item = Window;

    fn next(&mut self) -> Option<Window> {
        loop {
            if let Some(window) = self.take_settled() {
                match self.clip(window) {
                    Ok(Some(clipped)) => return Some(clipped),
                    Ok(None) => continue,
                    Err(()) => {
                        self.next_date = None;
                        self.pending.clear();
                        return None;
                    }
                }
            }
            if !self.advance() && self.pending.is_empty() {
                return None;
            }
        }
    }
}

/// Appends the non-empty windows of `date`; true if there was at least one.
fn push_day_windows(calendar: &Calendar, date: Date, out: &mut Vec<Window>) -> bool {
    let zone = calendar.time_zone();
    let mut produced = false;
    for interval in calendar.schedule_on(date).intervals() {
        let start = local_instant(zone, date, interval.start());
        let end = local_instant(zone, date, interval.end());
        if let (Some(start), Some(end)) = (start, end)
            && start < end
        {
            out.push(Window { start, end });
            produced = true;
        }
    }
    produced
}

/// Sorts `windows` and merges the overlapping or touching ones.
fn merge(windows: &mut Vec<Window>) {
    windows.sort_unstable_by_key(|window| window.start);
    let mut merged: Vec<Window> = Vec::with_capacity(windows.len());
    for &window in windows.iter() {
        match merged.last_mut() {
            Some(last) if window.start <= last.end => last.end = last.end.max(window.end),
            _ => merged.push(window),
        }
    }
    *windows = merged;
}

/// The instant (epoch ms) of local `time` on `date` per D-16; 24:00 is 00:00
/// of the next date. `None` only beyond jiff's supported range.
pub(crate) fn local_instant(zone: &TimeZone, date: Date, time: TimeOfDay) -> Option<i64> {
    let (date, time) =
        if time == TimeOfDay::END_OF_DAY { (date.tomorrow().ok()?, TimeOfDay::MIDNIGHT) } else { (date, time) };
    // hour() < 24 and minute() < 60 here, so the casts are exact.
    let civil = date.at(time.hour() as i8, time.minute() as i8, 0, 0);
    // `to_timestamp` is jiff's "compatible" disambiguation, which is D-16.
    let instant = zone.to_timestamp(civil).ok()?;
    Some(instant.as_millisecond())
}

/// The UTC date of an epoch-ms instant.
fn utc_date(millis: i64) -> Option<Date> {
    let instant = Timestamp::from_millisecond(millis).ok()?;
    Some(TimeZone::UTC.to_datetime(instant).date())
}

/// `date` at 00:00 read as if it were UTC, in epoch ms.
fn naive_midnight(date: Date) -> i64 {
    date.duration_since(Date::constant(1970, 1, 1)).as_secs() * 1000
}

/// No window of `date` or of any later date starts before this.
fn earliest_start_bound(date: Date) -> i64 {
    naive_midnight(date) - MAX_OFFSET_MS
}

/// No window of `date` or of any earlier date ends after this.
fn latest_end_bound(date: Date) -> i64 {
    naive_midnight(date) + DAY_MS + MAX_OFFSET_MS
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    fn utc(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_local_time_in_the_spring_gap_uses_the_offset_before_the_gap() {
        let instant = local_instant(&ny(), date(2024, 3, 10), TimeOfDay::hm(2, 30).unwrap());
        assert_eq!(instant, Some(utc("2024-03-10T07:30:00Z")));
    }

    #[test]
    fn a_repeated_local_time_in_the_autumn_fold_is_its_first_occurrence() {
        let instant = local_instant(&ny(), date(2024, 11, 3), TimeOfDay::hm(1, 30).unwrap());
        assert_eq!(instant, Some(utc("2024-11-03T05:30:00Z")));
    }

    #[test]
    fn the_example_from_rfc_5545_maps_a_gap_time_to_the_hour_after() {
        // "New York 2007-03-11 02:30 means 03:30 EDT" (METRICS §2.2).
        let instant = local_instant(&ny(), date(2007, 3, 11), TimeOfDay::hm(2, 30).unwrap());
        assert_eq!(instant, Some(utc("2007-03-11T07:30:00Z")));
    }

    #[test]
    fn twenty_four_hundred_is_midnight_of_the_next_date() {
        let instant = local_instant(&ny(), date(2024, 6, 2), TimeOfDay::END_OF_DAY);
        assert_eq!(instant, Some(utc("2024-06-03T04:00:00Z")));
    }

    #[test]
    fn merging_joins_overlapping_and_touching_windows_only() {
        let mut windows = vec![
            Window { start: 50, end: 60 },
            Window { start: 0, end: 10 },
            Window { start: 10, end: 20 },
            Window { start: 15, end: 30 },
            Window { start: 31, end: 40 },
        ];
        merge(&mut windows);
        assert_eq!(
            windows,
            vec![Window { start: 0, end: 30 }, Window { start: 31, end: 40 }, Window { start: 50, end: 60 },]
        );
    }

    #[test]
    fn the_bounds_enclose_every_offset_jiff_allows() {
        let day = date(2024, 6, 2);
        let most_east = day.at(0, 0, 0, 0).to_zoned_datetime(TimeZone::fixed(jiff::tz::Offset::MAX));
        let most_west = day.at(23, 59, 59, 0).to_zoned_datetime(TimeZone::fixed(jiff::tz::Offset::MIN));
        assert!(earliest_start_bound(day) < most_east.unwrap().timestamp().as_millisecond());
        assert!(latest_end_bound(day) > most_west.unwrap().timestamp().as_millisecond());
    }
}
