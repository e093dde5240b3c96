//! Property tests of business-time arithmetic (METRICS.md §2.2) over random
//! calendars: random zones (several with DST, one with a 30-minute shift,
//! two that change at midnight, one that skipped a whole day), random
//! working intervals in quarter hours including 24:00 ends, random holidays
//! and overrides, and random instants clustered around the zone's
//! transitions, where the arithmetic is most likely to go wrong.
//!
//! Besides the algebraic laws (additivity, inverse, monotonicity,
//! minimality), the windows are checked against a deliberately naive
//! reference: every date of a generous range mapped and merged at once,
//! with none of the lazy walk's bookkeeping.
#![expect(clippy::unwrap_used, reason = "a test that cannot unwrap has failed")]

use std::time::Instant;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use kept_core::calendar::{
    Calendar, DaySchedule, LocalInterval, TimeOfDay, add_business, add_business_millis, business_millis,
    business_seconds, business_windows, holidays_from_csv, holidays_from_ics, is_business_time, next_business_start,
};
use proptest::prelude::*;

const ZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "America/Santiago",
    "America/Havana",
    "Pacific/Apia",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "UTC",
];

/// Working intervals of one day in quarter hours, 0..=96 (96 = 24:00).
type Day = Vec<(u16, u16)>;

#[derive(Debug, Clone)]
struct Case {
    zone: &'static str,
    weekly: Vec<Day>,
    /// Days relative to the anchor's UTC date.
    holidays: Vec<i64>,
    overrides: Vec<(i64, Day)>,
    anchor: usize,
}

fn day() -> impl Strategy<Value = Day> {
    prop::collection::btree_set(0_u16..=96, 0..=6).prop_map(|bounds| {
        let bounds: Vec<u16> = bounds.into_iter().collect();
        bounds.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect()
    })
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(ZONES),
        prop::collection::vec(day(), 7),
        prop::collection::vec(-6_i64..=6, 0..=3),
        prop::collection::vec((-6_i64..=6, day()), 0..=3),
        0_usize..8,
    )
        .prop_map(|(zone, weekly, holidays, overrides, anchor)| Case { zone, weekly, holidays, overrides, anchor })
}

fn hhmm(quarters: u16) -> String {
    format!("{:02}:{:02}", quarters / 4, quarters % 4 * 15)
}

fn day_json(day: &Day) -> serde_json::Value {
    day.iter().map(|&(start, end)| serde_json::json!([hhmm(start), hhmm(end)])).collect()
}

impl Case {
    /// An instant near which to test: one of the zone's transitions of
    /// 2011 (Apia skipped 2011-12-30) or 2024, or a quiet day.
    fn anchor(&self) -> Timestamp {
        let zone = TimeZone::get(self.zone).unwrap();
        let mut anchors: Vec<Timestamp> = Vec::new();
        for year_start in ["2011-06-01T00:00Z", "2024-01-01T00:00Z"] {
            let from: Timestamp = year_start.parse().unwrap();
            anchors.extend(zone.following(from).take(3).map(|t| t.timestamp()));
        }
        anchors.push("2024-06-05T12:00Z".parse().unwrap());
        anchors.push("2024-01-01T00:00Z".parse().unwrap());
        anchors[self.anchor % anchors.len()]
    }

    fn calendar(&self) -> Calendar {
        let keys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let weekly: serde_json::Map<String, serde_json::Value> =
            keys.iter().zip(&self.weekly).map(|(key, day)| ((*key).to_owned(), day_json(day))).collect();
        let base = TimeZone::UTC.to_datetime(self.anchor()).date();
        let date = |offset: i64| {
            let day = base.checked_add(jiff::Span::new().days(offset)).unwrap();
            day.to_string()
        };
        let holidays: Vec<String> = self.holidays.iter().map(|&o| date(o)).collect();
        let overrides: serde_json::Map<String, serde_json::Value> =
            self.overrides.iter().map(|(offset, day)| (date(*offset), day_json(day))).collect();
        let spec = serde_json::json!({"time_zone": self.zone, "weekly": weekly,
            "holidays": holidays, "overrides": overrides});
        Calendar::from_json(&spec.to_string()).unwrap()
    }

    /// The anchor moved by `seconds`.
    fn at(&self, seconds: i64) -> Timestamp {
        self.anchor() + SignedDuration::from_secs(seconds)
    }
}

/// Seconds around an anchor: up to five days either side.
fn offset() -> impl Strategy<Value = i64> {
    -432_000_i64..=432_000
}

/// The instant of local `time` on `date` per D-16 (24:00 = next 00:00).
fn instant(zone: &TimeZone, date: Date, time: TimeOfDay) -> i64 {
    let (date, time) =
        if time == TimeOfDay::END_OF_DAY { (date.tomorrow().unwrap(), TimeOfDay::MIDNIGHT) } else { (date, time) };
    let civil = date.at(time.hour() as i8, time.minute() as i8, 0, 0);
    zone.to_timestamp(civil).unwrap().as_millisecond()
}

/// The naive reference: map every date from three days before to three
/// days after the range, merge everything, clip.
fn reference_windows(calendar: &Calendar, from: Timestamp, to: Timestamp) -> Vec<(i64, i64)> {
    let zone = calendar.time_zone();
    let first = zone.to_datetime(from).date().checked_sub(jiff::Span::new().days(3));
    let last = zone.to_datetime(to).date().checked_add(jiff::Span::new().days(3)).unwrap();
    let mut windows = Vec::new();
    for date in first.unwrap().series(jiff::Span::new().days(1)) {
        if date > last {
            break;
        }
        for interval in calendar.schedule_on(date).intervals() {
            let start = instant(zone, date, interval.start());
            let end = instant(zone, date, interval.end());
            if start < end {
                windows.push((start, end));
            }
        }
    }
    windows.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (start, end) in windows {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let (from, to) = (from.as_millisecond(), to.as_millisecond());
    merged.into_iter().map(|(start, end)| (start.max(from), end.min(to))).filter(|(start, end)| start < end).collect()
}

/// `cases` per property, unless `PROPTEST_CASES` asks for more (a deeper
/// run: `PROPTEST_CASES=5000 cargo test --release --test calendar`).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|value| value.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn business_time_is_additive(case in case(), a in offset(), b in offset(), c in offset()) {
        let calendar = case.calendar();
        let mut points = [case.at(a), case.at(b), case.at(c)];
        points.sort();
        let [a, b, c] = points;
        let whole = business_seconds(&calendar, a, c);
        prop_assert_eq!(whole, business_seconds(&calendar, a, b) + business_seconds(&calendar, b, c));
        // In any order, as a signed measure.
        prop_assert_eq!(business_seconds(&calendar, c, a), -whole);
        prop_assert_eq!(
            business_seconds(&calendar, b, a) + business_seconds(&calendar, a, c),
            business_seconds(&calendar, b, c)
        );
    }

    #[test]
    fn business_millis_is_additive_with_fractional_instants(
        case in case(), a in offset(), b in offset(), c in offset(), fractions in prop::array::uniform3(0_i64..1000),
    ) {
        let calendar = case.calendar();
        let mut points = [a, b, c].map(|s| case.at(s) + SignedDuration::from_millis(fractions[0]));
        points[1] += SignedDuration::from_millis(fractions[1]);
        points[2] += SignedDuration::from_millis(fractions[2]);
        points.sort();
        let [a, b, c] = points;
        prop_assert_eq!(
            business_millis(&calendar, a, c),
            business_millis(&calendar, a, b) + business_millis(&calendar, b, c)
        );
        prop_assert_eq!(
            business_seconds(&calendar, a, c),
            business_seconds(&calendar, a, b) + business_seconds(&calendar, b, c)
        );
    }

    #[test]
    fn business_time_is_monotonic(case in case(), a in offset(), b in offset(), step in 0_i64..200_000) {
        let calendar = case.calendar();
        let (t0, t1) = (case.at(a.min(b)), case.at(a.max(b)));
        let later = SignedDuration::from_secs(step);
        let measured = business_seconds(&calendar, t0, t1);
        prop_assert!(measured >= 0);
        prop_assert!(measured <= t1.as_second() - t0.as_second());
        prop_assert!(business_seconds(&calendar, t0 + later, t1) <= measured);
        prop_assert!(business_seconds(&calendar, t0, t1 + later) >= measured);
    }

    #[test]
    fn add_business_inverts_business_seconds_and_is_minimal(
        case in case(), start in offset(), amount in 0_i64..400_000,
    ) {
        let calendar = case.calendar();
        let t0 = case.at(start);
        match add_business(&calendar, t0, amount) {
            Some(deadline) => {
                prop_assert!(deadline >= t0);
                prop_assert_eq!(business_seconds(&calendar, t0, deadline), amount);
                if amount > 0 {
                    let earlier = deadline - SignedDuration::from_secs(1);
                    prop_assert!(business_seconds(&calendar, t0, earlier) < amount);
                }
            }
            None => {
                let far = t0 + SignedDuration::from_hours(24 * 400);
                prop_assert!(business_seconds(&calendar, t0, far) < amount);
            }
        }
    }

    #[test]
    fn add_business_backwards_inverts_and_is_the_latest_instant(
        case in case(), start in offset(), amount in 1_i64..400_000,
    ) {
        let calendar = case.calendar();
        let t0 = case.at(start);
        if let Some(earliest) = add_business(&calendar, t0, -amount) {
            prop_assert!(earliest <= t0);
            prop_assert_eq!(business_seconds(&calendar, t0, earliest), -amount);
            let later = earliest + SignedDuration::from_secs(1);
            prop_assert!(business_seconds(&calendar, later, t0) < amount);
        }
    }

    #[test]
    fn a_deadline_measured_from_a_range_lands_no_later_than_its_end(
        case in case(), a in offset(), b in offset(),
    ) {
        // Exercises D-17: amounts that run out exactly at window ends.
        let calendar = case.calendar();
        let (t0, t1) = (case.at(a.min(b)), case.at(a.max(b)));
        let amount = business_seconds(&calendar, t0, t1);
        let deadline = add_business(&calendar, t0, amount).unwrap();
        prop_assert!(deadline <= t1);
        prop_assert_eq!(business_seconds(&calendar, deadline, t1), 0);
        let millis = business_millis(&calendar, t0, t1);
        prop_assert_eq!(add_business_millis(&calendar, t0, millis), Some(deadline));
    }

    #[test]
    fn business_windows_sum_to_business_time_and_match_the_reference(
        case in case(), a in offset(), b in offset(),
    ) {
        let calendar = case.calendar();
        let (from, to) = (case.at(a.min(b)), case.at(a.max(b)));
        let windows = business_windows(&calendar, from, to);
        let total: i64 = windows
            .iter()
            .map(|(start, end)| end.as_millisecond() - start.as_millisecond())
            .sum();
        prop_assert_eq!(total, business_millis(&calendar, from, to));
        prop_assert_eq!(total / 1000, business_seconds(&calendar, from, to));
        let as_millis: Vec<(i64, i64)> = windows
            .iter()
            .map(|(start, end)| (start.as_millisecond(), end.as_millisecond()))
            .collect();
        prop_assert_eq!(as_millis, reference_windows(&calendar, from, to));
    }

    #[test]
    fn the_point_queries_agree_with_business_time(case in case(), at in offset()) {
        let calendar = case.calendar();
        let t = case.at(at);
        let second = SignedDuration::from_secs(1);
        prop_assert_eq!(is_business_time(&calendar, t), business_seconds(&calendar, t, t + second) == 1);
        if let Some(start) = next_business_start(&calendar, t) {
            prop_assert!(start >= t);
            prop_assert_eq!(business_seconds(&calendar, t, start), 0);
            prop_assert!(is_business_time(&calendar, start));
        }
    }

    #[test]
    fn a_calendar_survives_a_round_trip_through_its_spec(case in case()) {
        let calendar = case.calendar();
        let text = serde_json::to_string(&calendar.to_spec()).unwrap();
        prop_assert_eq!(Calendar::from_json(&text).unwrap(), calendar);
    }
}

/// Pieces of iCalendar text, glued at random: enough structure to get past
/// the first checks, enough junk to reach every error path.
const ICS_PIECES: &[&str] = &[
    "BEGIN:VEVENT",
    "END:VEVENT",
    "BEGIN:VCALENDAR",
    "END:VCALENDAR",
    "BEGIN:VALARM",
    "END:VALARM",
    "DTSTART;VALUE=DATE:",
    "DTSTART:",
    "DTEND;VALUE=DATE:",
    "DURATION:P",
    "RRULE:FREQ=YEARLY",
    ";BYMONTH=",
    ";BYDAY=",
    ";BYMONTHDAY=-",
    ";COUNT=",
    ";UNTIL=",
    ";INTERVAL=",
    "EXDATE:",
    "SUMMARY:",
    "STATUS:CANCELLED",
    "20241128",
    "20240229",
    "99999999",
    "T120000",
    "Z",
    "4TH",
    "-1MO",
    "W",
    "D",
    "12",
    "0",
    ",",
    ";",
    ":",
    "\"",
    "\\",
    "=",
    " ",
    "\t",
    "é",
    "\r\n",
    "\n",
    "\r\n ",
];

fn ics_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ICS_PIECES), 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_ics_reader_never_panics_and_names_a_real_line(text in ics_text()) {
        if let Err(error) = holidays_from_ics(&text, 2020..=2030) {
            prop_assert!(error.line() >= 1);
            prop_assert!(error.line() <= text.lines().count().max(1));
        }
    }

    #[test]
    fn the_readers_never_panic_on_arbitrary_text(text in any::<String>()) {
        let _ = holidays_from_ics(&text, 2020..=2030);
        if let Err(error) = holidays_from_csv(&text) {
            prop_assert!(error.line() >= 1 && error.line() <= text.lines().count());
        }
        let _ = Calendar::from_json(&text);
    }
}

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/calendar/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn a_published_style_ics_feed_imports_with_rules_folds_and_exclusions() {
    let holidays = holidays_from_ics(&data("us-holidays.ics"), 2024..=2025).unwrap();
    let listed: Vec<(String, Option<&str>)> =
        holidays.iter().map(|(date, name)| (date.to_string(), name.as_deref())).collect();
    assert_eq!(
        listed,
        vec![
            ("2024-01-01".to_owned(), Some("New Year break")),
            ("2024-07-04".to_owned(), Some("Independence Day")),
            ("2024-11-28".to_owned(), Some("Thanksgiving Day")),
            ("2024-11-29".to_owned(), Some("Day after Thanksgiving (company holiday)")),
            ("2024-12-25".to_owned(), Some("Christmas Day")),
            ("2024-12-31".to_owned(), Some("New Year break")),
            ("2025-01-01".to_owned(), Some("New Year break")),
            ("2025-11-27".to_owned(), Some("Thanksgiving (rule)")),
            ("2025-12-25".to_owned(), Some("Christmas Day")),
            ("2025-12-31".to_owned(), Some("New Year break")),
        ]
    );
}

#[test]
fn imported_holidays_and_an_override_shape_the_deadlines() {
    let day = serde_json::json!([["09:00", "17:00"]]);
    let spec = serde_json::json!({"time_zone": "America/New_York",
        "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}});
    let ics = holidays_from_ics(&data("us-holidays.ics"), 2024..=2025).unwrap();
    let csv = holidays_from_csv(&data("holidays.csv")).unwrap();
    assert_eq!(csv.len(), 4);
    let morning =
        DaySchedule::new([LocalInterval::new(TimeOfDay::hm(9, 0).unwrap(), TimeOfDay::hm(13, 0).unwrap()).unwrap()])
            .unwrap();
    let calendar = Calendar::from_json(&spec.to_string())
        .unwrap()
        .with_holidays(ics.iter().chain(&csv).map(|(date, _)| *date))
        .with_override(csv[0].0, morning);
    let at = |text: &str| text.parse::<Timestamp>().unwrap();
    // Thursday and Friday of Thanksgiving week are closed.
    assert_eq!(add_business(&calendar, at("2024-11-27T16:00-05:00"), 7_200), Some(at("2024-12-02T10:00-05:00")));
    // Christmas Eve is a half day (the override beats the CSV holiday),
    // then nothing until Friday the 27th.
    assert_eq!(add_business(&calendar, at("2024-12-24T12:00-05:00"), 7_200), Some(at("2024-12-27T10:00-05:00")));
}

/// Timing, not a check: run with
/// `cargo test --release -p kept-core --test calendar -- --ignored --nocapture`.
#[test]
#[ignore = "a timing report, not a test"]
fn report_the_cost_of_typical_calls() {
    let day = serde_json::json!([["09:00", "12:00"], ["13:00", "17:00"]]);
    let calendar = Calendar::from_json(
        &serde_json::json!({"time_zone": "America/New_York",
            "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
            "holidays": ["2024-11-28", "2024-12-25", "2025-01-01"]})
        .to_string(),
    )
    .unwrap();
    let start: Timestamp = "2024-06-03T14:00Z".parse().unwrap();
    let time = |label: &str, runs: u32, call: &dyn Fn(u32) -> i64| {
        let begun = Instant::now();
        let mut sink = 0_i64;
        for run in 0..runs {
            sink = sink.wrapping_add(call(run));
        }
        let each = begun.elapsed() / runs;
        eprintln!("{label}: {each:?} per call ({sink})");
    };
    let minute = |run: u32| start + SignedDuration::from_mins(i64::from(run % 10_000));
    time("add_business 8 business hours", 100_000, &|run| {
        add_business(&calendar, minute(run), 8 * 3600).map_or(0, |t| t.as_second())
    });
    time("add_business 1,000 business hours", 10_000, &|run| {
        add_business(&calendar, minute(run), 1_000 * 3600).map_or(0, |t| t.as_second())
    });
    time("business_seconds over 3 days", 100_000, &|run| {
        business_seconds(&calendar, minute(run), minute(run) + SignedDuration::from_hours(72))
    });
    time("business_seconds over a year", 1_000, &|run| {
        business_seconds(&calendar, minute(run), minute(run) + SignedDuration::from_hours(24 * 365))
    });
    time("is_business_time", 100_000, &|run| i64::from(is_business_time(&calendar, minute(run))));
}
