//! Worked examples: the METRICS.md vectors (T1, T3, T4, T7, D-16, D-17)
//! and our own cases for holidays, overrides, split days, zones east of
//! UTC and DST in both directions.

use jiff::civil::date;
use serde_json::json;

use super::*;
use crate::calendar::{DaySchedule, LocalInterval, TimeOfDay, WeeklySchedule};

fn calendar(value: serde_json::Value) -> Calendar {
    Calendar::from_json(&value.to_string()).unwrap()
}

/// METRICS.md's `NY`: America/New_York, Mon–Fri 09:00–17:00.
fn new_york() -> Calendar {
    let day = json!([["09:00", "17:00"]]);
    calendar(json!({"time_zone": "America/New_York",
        "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}}))
}

fn sundays(zone: &str, start: &str, end: &str) -> Calendar {
    calendar(json!({"time_zone": zone, "weekly": {"sun": [[start, end]]}}))
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Business seconds of a whole local date: from its 00:00 to the next
/// date's 00:00 (D-16 for both).
fn whole_day(calendar: &Calendar, day: jiff::civil::Date) -> i64 {
    let zone = calendar.time_zone();
    let from = zone.to_timestamp(day.at(0, 0, 0, 0)).unwrap();
    let to = zone.to_timestamp(day.tomorrow().unwrap().at(0, 0, 0, 0)).unwrap();
    business_seconds(calendar, from, to)
}

#[test]
fn t1_a_reply_across_the_end_of_dst_takes_9000_business_seconds() {
    let created = at("2024-11-01T16:00-04:00");
    let replied = at("2024-11-04T10:30-05:00");
    assert_eq!(replied.as_second() - created.as_second(), 243_000);
    assert_eq!(business_seconds(&new_york(), created, replied), 9_000);
}

#[test]
fn t3_a_sunday_from_00_00_to_24_00_follows_the_length_of_the_day() {
    let calendar = sundays("America/New_York", "00:00", "24:00");
    assert_eq!(whole_day(&calendar, date(2024, 3, 10)), 82_800);
    assert_eq!(whole_day(&calendar, date(2024, 6, 2)), 86_400);
    assert_eq!(whole_day(&calendar, date(2024, 11, 3)), 90_000);
}

#[test]
fn t4_a_sunday_from_00_00_to_06_00_loses_or_gains_the_dst_hour() {
    let calendar = sundays("America/New_York", "00:00", "06:00");
    assert_eq!(whole_day(&calendar, date(2024, 3, 10)), 18_000);
    assert_eq!(whole_day(&calendar, date(2024, 6, 2)), 21_600);
    assert_eq!(whole_day(&calendar, date(2024, 11, 3)), 25_200);
}

#[test]
fn t7_business_time_with_and_without_the_pending_pause() {
    let ny = new_york();
    let created = at("2024-06-03T16:00-04:00");
    let pending = at("2024-06-03T16:30-04:00");
    let resumed = at("2024-06-04T11:00-04:00");
    let solved = at("2024-06-05T10:00-04:00");
    assert_eq!(solved.as_second() - created.as_second(), 151_200);
    assert_eq!(business_seconds(&ny, created, solved), 36_000);
    let paused = business_seconds(&ny, created, pending) + business_seconds(&ny, resumed, solved);
    assert_eq!(paused, 27_000);
    assert_eq!(business_seconds(&ny, created, pending), 1_800);
    let breach_at = add_business(&ny, resumed, 28_800 - 1_800).unwrap();
    assert_eq!(breach_at, at("2024-06-05T10:30:00-04:00"));
}

#[test]
fn d16_a_window_starting_in_the_spring_gap_starts_an_hour_later() {
    // 02:30 does not exist on 2024-03-10: it means 03:30 EDT (07:30Z).
    let calendar = sundays("America/New_York", "02:30", "05:00");
    let windows = business_windows(&calendar, at("2024-03-09T00:00Z"), at("2024-03-12T00:00Z"));
    assert_eq!(windows, vec![(at("2024-03-10T07:30Z"), at("2024-03-10T09:00Z"))]);
    // 03:15 EDT is inside 02:30–05:00 on the wall clock but before the window.
    assert!(!is_business_time(&calendar, at("2024-03-10T07:15Z")));
}

#[test]
fn d16_a_window_starting_in_the_autumn_fold_starts_at_the_first_occurrence() {
    let calendar = sundays("America/New_York", "01:30", "03:00");
    let windows = business_windows(&calendar, at("2024-11-02T00:00Z"), at("2024-11-05T00:00Z"));
    assert_eq!(windows, vec![(at("2024-11-03T05:30Z"), at("2024-11-03T08:00Z"))]);
}

#[test]
fn windows_that_share_instants_in_a_dst_gap_are_counted_once() {
    // 01:00–02:30 is 06:00Z–07:30Z and 03:00–04:00 is 07:00Z–08:00Z.
    let calendar = sundays("America/New_York", "01:00", "02:30");
    let day = DaySchedule::new([
        LocalInterval::new(TimeOfDay::hm(1, 0).unwrap(), TimeOfDay::hm(2, 30).unwrap()).unwrap(),
        LocalInterval::new(TimeOfDay::hm(3, 0).unwrap(), TimeOfDay::hm(4, 0).unwrap()).unwrap(),
    ])
    .unwrap();
    let calendar = calendar.with_override(date(2024, 3, 10), day);
    assert_eq!(whole_day(&calendar, date(2024, 3, 10)), 7_200);
    let windows = business_windows(&calendar, at("2024-03-10T00:00Z"), at("2024-03-11T00:00Z"));
    assert_eq!(windows, vec![(at("2024-03-10T06:00Z"), at("2024-03-10T08:00Z"))]);
}

#[test]
fn d17_a_deadline_that_runs_out_at_a_windows_end_is_that_end() {
    let ny = new_york();
    let deadline = add_business(&ny, at("2024-06-03T16:00-04:00"), 3_600).unwrap();
    assert_eq!(deadline, at("2024-06-03T17:00-04:00"));
    let one_more = add_business(&ny, at("2024-06-03T16:00-04:00"), 3_601).unwrap();
    assert_eq!(one_more, at("2024-06-04T09:00:01-04:00"));
}

#[test]
fn adding_nothing_returns_the_start_even_outside_business_hours() {
    let saturday = at("2024-06-08T12:00-04:00");
    assert_eq!(add_business(&new_york(), saturday, 0), Some(saturday));
    let fraction = at("2024-06-08T12:00:00.123456789-04:00");
    assert_eq!(add_business(&new_york(), fraction, 0), Some(fraction));
}

#[test]
fn a_deadline_from_outside_hours_starts_counting_at_the_next_window() {
    let deadline = add_business(&new_york(), at("2024-06-08T12:00-04:00"), 5_400).unwrap();
    assert_eq!(deadline, at("2024-06-10T10:30-04:00"));
}

#[test]
fn a_negative_amount_walks_back_and_stops_at_a_windows_start() {
    let ny = new_york();
    let tuesday_ten = at("2024-06-04T10:00-04:00");
    assert_eq!(add_business(&ny, tuesday_ten, -3_600), Some(at("2024-06-04T09:00-04:00")));
    assert_eq!(add_business(&ny, tuesday_ten, -7_200), Some(at("2024-06-03T16:00-04:00")));
    let weekend = at("2024-06-09T12:00-04:00");
    assert_eq!(add_business(&ny, weekend, -1), Some(at("2024-06-07T16:59:59-04:00")));
}

#[test]
fn business_time_backwards_is_negative() {
    let ny = new_york();
    let (a, b) = (at("2024-06-03T16:00-04:00"), at("2024-06-05T10:00-04:00"));
    assert_eq!(business_seconds(&ny, b, a), -36_000);
    assert_eq!(business_millis(&ny, b, a), -36_000_000);
    assert_eq!(business_seconds(&ny, a, a), 0);
}

#[test]
fn seconds_truncate_the_instants_and_milliseconds_keep_them() {
    let ny = new_york();
    let (a, b) = (at("2024-06-03T09:00:00.250-04:00"), at("2024-06-03T09:00:01.750-04:00"));
    assert_eq!(business_millis(&ny, a, b), 1_500);
    assert_eq!(business_seconds(&ny, a, b), 1);
    assert_eq!(add_business_millis(&ny, a, 500), Some(at("2024-06-03T09:00:00.750-04:00")));
    assert_eq!(add_business(&ny, a, 1), Some(at("2024-06-03T09:00:01-04:00")));
}

#[test]
fn a_holiday_closes_its_date() {
    let ny = new_york().with_holidays([date(2024, 11, 28)]);
    let wednesday = at("2024-11-27T16:00-05:00");
    assert_eq!(business_seconds(&ny, wednesday, at("2024-11-29T10:00-05:00")), 7_200);
    assert_eq!(add_business(&ny, wednesday, 7_200), Some(at("2024-11-29T10:00-05:00")));
}

#[test]
fn an_override_wins_over_a_holiday_on_the_same_date() {
    let half_day =
        DaySchedule::new([LocalInterval::new(TimeOfDay::hm(10, 0).unwrap(), TimeOfDay::hm(14, 0).unwrap()).unwrap()])
            .unwrap();
    let ny = new_york().with_holidays([date(2024, 12, 24)]).with_override(date(2024, 12, 24), half_day);
    assert_eq!(whole_day(&ny, date(2024, 12, 24)), 4 * 3_600);
}

#[test]
fn an_override_opens_a_weekend_day_and_an_empty_one_closes_a_weekday() {
    let ny = calendar(json!({"time_zone": "America/New_York",
        "weekly": {"mon": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]},
        "overrides": {"2024-06-08": [["10:00", "12:00"]], "2024-06-10": []}}));
    assert_eq!(whole_day(&ny, date(2024, 6, 8)), 7_200);
    assert_eq!(whole_day(&ny, date(2024, 6, 10)), 0);
    // Friday 16:00 + 2 h: Friday 17:00, then Saturday's override.
    let deadline = add_business(&ny, at("2024-06-07T16:00-04:00"), 7_200).unwrap();
    assert_eq!(deadline, at("2024-06-08T11:00-04:00"));
    // Past the override, the closed Monday is skipped.
    let deadline = add_business(&ny, at("2024-06-08T11:30-04:00"), 3_600).unwrap();
    assert_eq!(deadline, at("2024-06-14T09:30-04:00"));
}

#[test]
fn a_lunch_break_is_not_business_time() {
    let split = calendar(json!({"time_zone": "Europe/Berlin",
        "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}}));
    let (from, to) = (at("2024-06-03T11:00+02:00"), at("2024-06-03T14:00+02:00"));
    assert_eq!(business_seconds(&split, from, to), 7_200);
    assert_eq!(
        business_windows(&split, from, to),
        vec![(from, at("2024-06-03T12:00+02:00")), (at("2024-06-03T13:00+02:00"), to)]
    );
    let deadline = add_business(&split, at("2024-06-03T11:30+02:00"), 3_600).unwrap();
    assert_eq!(deadline, at("2024-06-03T13:30+02:00"));
    assert!(!is_business_time(&split, at("2024-06-03T12:30+02:00")));
    assert!(is_business_time(&split, at("2024-06-03T12:00+02:00") - jiff::SignedDuration::from_secs(1)));
}

#[test]
fn a_night_shift_over_local_midnight_is_one_window() {
    let nights = calendar(json!({"time_zone": "Europe/London",
        "weekly": {"mon": [["22:00", "24:00"]], "tue": [["00:00", "06:00"]]}}));
    let windows = business_windows(&nights, at("2024-06-03T00:00Z"), at("2024-06-05T00:00Z"));
    assert_eq!(windows, vec![(at("2024-06-03T21:00Z"), at("2024-06-04T05:00Z"))]);
    let deadline = add_business(&nights, at("2024-06-03T23:30+01:00"), 1_800).unwrap();
    assert_eq!(deadline, at("2024-06-04T00:00+01:00"));
}

#[test]
fn a_window_ending_at_24_00_reaches_midnight() {
    let evenings = sundays("America/New_York", "20:00", "24:00");
    let windows = business_windows(&evenings, at("2024-06-01T00:00Z"), at("2024-06-04T00:00Z"));
    assert_eq!(windows, vec![(at("2024-06-03T00:00Z"), at("2024-06-03T04:00Z"))]);
}

#[test]
fn windows_east_of_utc_cross_utc_midnight() {
    // Auckland, Monday 09:00–17:00 NZST (+12) is Sunday 21:00Z – Monday 05:00Z.
    let auckland = calendar(json!({"time_zone": "Pacific/Auckland", "weekly": {"mon": [["09:00", "17:00"]]}}));
    let windows = business_windows(&auckland, at("2024-06-02T00:00Z"), at("2024-06-04T00:00Z"));
    assert_eq!(windows, vec![(at("2024-06-02T21:00Z"), at("2024-06-03T05:00Z"))]);
    assert_eq!(business_seconds(&auckland, at("2024-06-03T00:00Z"), at("2024-06-04T00:00Z")), 18_000);
    // Tokyo, 08:00–18:00 JST (+9) is 23:00Z the day before – 09:00Z.
    let tokyo = calendar(json!({"time_zone": "Asia/Tokyo", "weekly": {"tue": [["08:00", "18:00"]]}}));
    assert!(is_business_time(&tokyo, at("2024-06-03T23:30Z")));
    assert_eq!(next_business_start(&tokyo, at("2024-06-03T12:00Z")), Some(at("2024-06-03T23:00Z")));
}

#[test]
fn a_working_week_across_the_spring_change_in_new_york() {
    let ny = new_york();
    let deadline = add_business(&ny, at("2024-03-08T16:00-05:00"), 7_200).unwrap();
    assert_eq!(deadline, at("2024-03-11T10:00-04:00"));
    assert_eq!(deadline, at("2024-03-11T14:00Z"));
}

#[test]
fn london_days_last_23_and_25_hours_when_the_clocks_change() {
    let london = sundays("Europe/London", "00:00", "24:00");
    assert_eq!(whole_day(&london, date(2024, 3, 31)), 82_800);
    assert_eq!(whole_day(&london, date(2024, 10, 27)), 90_000);
    // 01:30 on 2024-03-31 does not exist: it means 02:30 BST (01:30Z).
    let early = sundays("Europe/London", "01:30", "03:00");
    assert_eq!(whole_day(&early, date(2024, 3, 31)), 1_800);
}

#[test]
fn lord_howe_shifts_by_half_an_hour() {
    let lord_howe = sundays("Australia/Lord_Howe", "00:00", "24:00");
    assert_eq!(whole_day(&lord_howe, date(2024, 10, 6)), 84_600);
    assert_eq!(whole_day(&lord_howe, date(2024, 4, 7)), 88_200);
    assert_eq!(whole_day(&lord_howe, date(2024, 6, 2)), 86_400);
}

#[test]
fn is_business_time_treats_windows_as_half_open() {
    let ny = new_york();
    assert!(is_business_time(&ny, at("2024-06-03T09:00-04:00")));
    assert!(!is_business_time(&ny, at("2024-06-03T17:00-04:00")));
    assert!(!is_business_time(&ny, at("2024-06-08T12:00-04:00")));
}

#[test]
fn the_next_business_start_is_now_during_hours_and_the_next_window_otherwise() {
    let ny = new_york();
    let inside = at("2024-06-03T10:15:00.5-04:00");
    assert_eq!(next_business_start(&ny, inside), Some(inside));
    assert_eq!(next_business_start(&ny, at("2024-06-07T17:00-04:00")), Some(at("2024-06-10T09:00-04:00")));
}

#[test]
fn a_closed_calendar_has_no_deadline_and_no_next_start() {
    let closed = Calendar::new("America/New_York", WeeklySchedule::closed()).unwrap();
    let now = at("2024-06-03T12:00Z");
    assert_eq!(add_business(&closed, now, 1), None);
    assert_eq!(add_business(&closed, now, -1), None);
    assert_eq!(next_business_start(&closed, now), None);
    assert_eq!(business_seconds(&closed, now, at("2034-06-03T12:00Z")), 0);
}

#[test]
fn a_calendar_of_overrides_only_works_on_those_dates() {
    let one_day = DaySchedule::new([LocalInterval::whole_day()]).unwrap();
    let cal = Calendar::new("UTC", WeeklySchedule::closed()).unwrap().with_override(date(2030, 1, 1), one_day);
    let now = at("2024-06-03T12:00Z");
    assert_eq!(add_business(&cal, now, 3_600), Some(at("2030-01-01T01:00Z")));
    assert_eq!(add_business(&cal, at("2030-01-02T00:00Z"), 1), None);
    assert_eq!(add_business(&cal, at("2030-01-02T00:00Z"), -1), Some(at("2030-01-01T23:59:59Z")));
    // More than ten closed years away is beyond the horizon.
    assert_eq!(add_business(&cal, at("2019-06-03T12:00Z"), 1), None);
}

#[test]
fn ten_years_without_working_time_is_the_horizon() {
    let mondays = calendar(json!({"time_zone": "UTC", "weekly": {"mon": [["09:00", "10:00"]]}}));
    let closed_for = |years: i16| {
        let first = date(2024, 6, 3);
        let holidays = first
            .series(jiff::Span::new().weeks(1))
            .take_while(move |day| *day < first.checked_add(jiff::Span::new().years(years)).unwrap());
        mondays.clone().with_holidays(holidays)
    };
    let now = at("2024-06-01T00:00Z");
    assert!(add_business(&closed_for(9), now, 60).is_some());
    assert_eq!(add_business(&closed_for(11), now, 60), None);
    // A bounded measurement does not give up.
    assert!(business_seconds(&closed_for(11), now, at("2036-01-01T00:00Z")) > 0);
}

#[test]
fn business_windows_of_an_empty_or_reversed_range_are_empty() {
    let ny = new_york();
    let t = at("2024-06-03T12:00Z");
    assert!(business_windows(&ny, t, t).is_empty());
    assert!(business_windows(&ny, t, at("2024-06-03T11:00Z")).is_empty());
}
