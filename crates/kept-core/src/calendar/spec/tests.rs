//! The JSON form: the documented example, round trips, and the field path
//! and reason of every kind of rejection.

use jiff::civil::{Weekday, date};
use serde_json::json;

use super::*;

const NEW_YORK: &str = r#"{
    "time_zone": "America/New_York",
    "weekly": {"mon": [["09:00","17:00"]], "tue": [["09:00","12:00"], ["13:00","17:00"]],
               "wed": [], "sun": [["20:00","24:00"]]},
    "holidays": ["2024-11-28"],
    "overrides": {"2024-12-24": [["09:00","13:00"]], "2024-12-31": []}
}"#;

fn error_of(value: serde_json::Value) -> CalendarError {
    Calendar::from_json(&value.to_string()).unwrap_err()
}

fn hm(text: &str) -> TimeOfDay {
    TimeOfDay::parse(text).unwrap()
}

#[test]
fn the_documented_example_reads_into_a_calendar() {
    let calendar = Calendar::from_json(NEW_YORK).unwrap();
    assert_eq!(calendar.time_zone_name(), "America/New_York");
    let tuesday = calendar.weekly().day(Weekday::Tuesday).intervals();
    assert_eq!(tuesday.len(), 2);
    assert_eq!((tuesday[1].start(), tuesday[1].end()), (hm("13:00"), hm("17:00")));
    assert!(calendar.weekly().day(Weekday::Saturday).is_closed());
    assert_eq!(calendar.weekly().day(Weekday::Sunday).intervals()[0].end(), TimeOfDay::END_OF_DAY);
    assert!(calendar.holidays().contains(&date(2024, 11, 28)));
    assert!(calendar.overrides()[&date(2024, 12, 31)].is_closed());
}

#[test]
fn a_calendar_survives_a_round_trip_through_its_spec_and_its_json() {
    let calendar = Calendar::from_json(NEW_YORK).unwrap();
    assert_eq!(Calendar::from_spec(&calendar.to_spec()).unwrap(), calendar);
    let text = serde_json::to_string(&calendar).unwrap();
    assert_eq!(serde_json::from_str::<Calendar>(&text).unwrap(), calendar);
    let spec = serde_json::from_str::<CalendarSpec>(&text).unwrap();
    assert_eq!(spec, calendar.to_spec());
}

#[test]
fn the_spec_is_canonical_merged_sorted_and_with_every_weekday() {
    let calendar = Calendar::from_json(
        r#"{"time_zone": "europe/london",
            "weekly": {"fri": [["12:00","13:00"], ["09:00","12:00"]]},
            "holidays": ["2024-12-26", "2024-12-25", "2024-12-25"]}"#,
    )
    .unwrap();
    let spec = calendar.to_spec();
    assert_eq!(spec.time_zone, "Europe/London");
    assert_eq!(spec.weekly.fri, vec![["09:00".to_owned(), "13:00".to_owned()]]);
    assert_eq!(spec.holidays, vec!["2024-12-25", "2024-12-26"]);
    assert_eq!(serde_json::to_value(&spec).unwrap()["weekly"]["mon"], json!([]));
}

#[test]
fn missing_weekdays_holidays_and_overrides_mean_closed_and_none() {
    let calendar = Calendar::from_json(r#"{"time_zone": "UTC", "weekly": {}}"#).unwrap();
    assert!(calendar.weekly().is_closed());
    assert!(calendar.holidays().is_empty() && calendar.overrides().is_empty());
    let nulls = r#"{"time_zone": "UTC", "weekly": {}, "holidays": null, "overrides": null}"#;
    assert!(Calendar::from_json(nulls).is_ok());
}

#[test]
fn overlapping_intervals_name_the_day_and_index() {
    let error = error_of(json!({"time_zone": "UTC", "weekly": {"mon": [["12:00","13:00"], ["12:30","14:00"]]}}));
    assert_eq!(error.field(), "weekly.mon[1]");
    assert_eq!(error.reason(), "intervals overlap (12:00-13:00 and 12:30-14:00)");
    assert_eq!(error.code(), "overlapping_intervals");
}

#[test]
fn touching_intervals_are_accepted() {
    let calendar = Calendar::from_json(
        &json!({"time_zone": "UTC", "weekly": {"mon": [["09:00","12:00"], ["12:00","13:00"]]}}).to_string(),
    )
    .unwrap();
    assert_eq!(calendar.weekly().day(Weekday::Monday).intervals().len(), 1);
}

#[test]
fn an_unknown_time_zone_is_named() {
    let error = error_of(json!({"time_zone": "Mars/Base", "weekly": {}}));
    assert_eq!(error.field(), "time_zone");
    assert_eq!(error.reason(), "unknown time zone \"Mars/Base\"");
}

#[test]
fn bad_times_name_the_start_or_end_they_are_in() {
    let cases = [
        (json!([["9:00", "17:00"]]), "weekly.tue[0][0]", "invalid_time"),
        (json!([["09:00", "24:30"]]), "weekly.tue[0][1]", "invalid_time"),
        (json!([["24:00", "24:00"]]), "weekly.tue[0][0]", "invalid_time"),
        (json!([["08:00", "09:00"], ["17:00", "09:00"]]), "weekly.tue[1]", "empty_interval"),
        (json!([["09:00"]]), "weekly.tue[0]", "malformed_calendar"),
        (json!([["09:00", 17]]), "weekly.tue[0]", "malformed_calendar"),
        (json!("09:00-17:00"), "weekly.tue", "malformed_calendar"),
    ];
    for (tuesday, field, code) in cases {
        let error = error_of(json!({"time_zone": "UTC", "weekly": {"tue": tuesday}}));
        assert_eq!((error.field(), error.code()), (field, code), "{tuesday}");
    }
}

#[test]
fn twenty_four_hundred_as_a_start_says_it_is_only_an_end() {
    let error = error_of(json!({"time_zone": "UTC", "weekly": {"tue": [["24:00", "24:00"]]}}));
    assert_eq!(error.reason(), "\"24:00\" is only valid as the end of an interval");
}

#[test]
fn bad_dates_name_the_holiday_index_or_override_key() {
    let error =
        error_of(json!({"time_zone": "UTC", "weekly": {}, "holidays": ["2024-01-01", "2024-01-02", "2024-02-30"]}));
    assert_eq!(error.field(), "holidays[2]");
    assert_eq!(error.reason(), "\"2024-02-30\" is not a date (YYYY-MM-DD)");
    let error = error_of(json!({"time_zone": "UTC", "weekly": {}, "overrides": {"2024-13-01": []}}));
    assert_eq!(error.field(), "overrides.2024-13-01");
    let error = error_of(json!({"time_zone": "UTC", "weekly": {}, "overrides": {"2024-12-24": [["13:00", "12:00"]]}}));
    assert_eq!(error.field(), "overrides.2024-12-24[0]");
    for other_form in ["20241128", "2024-1-28", "+2024-11-28", "2024-11-28T00:00"] {
        let error = error_of(json!({"time_zone": "UTC", "weekly": {}, "holidays": [other_form]}));
        assert_eq!(error.code(), "invalid_date", "{other_form}");
    }
}

#[test]
fn unknown_fields_and_weekdays_are_rejected() {
    let error = error_of(json!({"time_zone": "UTC", "weekly": {}, "weekely": {}}));
    assert_eq!(error.field(), "weekely");
    assert!(error.reason().starts_with("unknown field"), "{}", error.reason());
    let error = error_of(json!({"time_zone": "UTC", "weekly": {"thur": []}}));
    assert_eq!(error.field(), "weekly.thur");
    assert!(error.reason().starts_with("unknown weekday"), "{}", error.reason());
}

#[test]
fn wrong_types_and_missing_fields_are_named() {
    let cases = [
        (json!({"weekly": {}}), "time_zone", "missing"),
        (json!({"time_zone": "UTC"}), "weekly", "missing"),
        (json!({"time_zone": 1, "weekly": {}}), "time_zone", "expected a string"),
        (json!({"time_zone": "UTC", "weekly": []}), "weekly", "expected an object"),
        (json!({"time_zone": "UTC", "weekly": {}, "holidays": [1]}), "holidays[0]", "expected a string"),
        (json!({"time_zone": "UTC", "weekly": {}, "overrides": []}), "overrides", "expected an object"),
        (json!([]), "", "expected an object"),
    ];
    for (value, field, reason) in cases {
        let error = error_of(value.clone());
        assert_eq!((error.field(), error.reason().as_str()), (field, reason), "{value}");
    }
}

#[test]
fn text_that_is_not_json_is_malformed() {
    let error = Calendar::from_json("{\"time_zone\": ").unwrap_err();
    assert_eq!(error.code(), "malformed_calendar");
    assert_eq!(error.field(), "");
    assert!(error.reason().starts_with("not valid JSON"));
}

#[test]
fn serde_deserialisation_reports_the_same_field_paths() {
    let text = r#"{"time_zone": "UTC", "weekly": {"mon": [["12:00","13:00"], ["12:30","14:00"]]}}"#;
    let error = serde_json::from_str::<Calendar>(text).unwrap_err();
    assert!(error.to_string().starts_with("weekly.mon[1]: intervals overlap"), "{error}");
}
