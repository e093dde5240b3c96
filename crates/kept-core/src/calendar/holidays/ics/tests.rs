//! The iCalendar reader on small feeds: all-day and multi-day events,
//! folding and escaping, yearly rules, what is ignored, and errors.

use jiff::civil::date;

use super::*;

fn named(date: Date, name: &str) -> (Date, Option<String>) {
    (date, Some(name.to_owned()))
}

fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{line}\r\n")).collect()
}

#[test]
fn an_all_day_event_is_one_holiday_with_its_summary() {
    let text = crlf(&[
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20241128",
        "DTEND;VALUE=DATE:20241129",
        "SUMMARY:Thanksgiving Day",
        "END:VEVENT",
        "END:VCALENDAR",
    ]);
    assert_eq!(holidays_from_ics(&text, 2024..=2024).unwrap(), vec![named(date(2024, 11, 28), "Thanksgiving Day")]);
}

#[test]
fn a_multi_day_event_yields_each_day_before_its_exclusive_end() {
    let text = crlf(&[
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20241224",
        "DTEND;VALUE=DATE:20241227",
        "SUMMARY:Christmas break",
        "END:VEVENT",
    ]);
    let days: Vec<Date> = holidays_from_ics(&text, 2024..=2024).unwrap().into_iter().map(|(day, _)| day).collect();
    assert_eq!(days, vec![date(2024, 12, 24), date(2024, 12, 25), date(2024, 12, 26)]);
}

#[test]
fn a_duration_in_days_or_weeks_also_spans_days() {
    let text = "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240101\nDURATION:P2D\nEND:VEVENT\n\
                BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240601\nDURATION:P1W\nEND:VEVENT\n";
    assert_eq!(holidays_from_ics(text, 2024..=2024).unwrap().len(), 9);
}

#[test]
fn a_date_time_start_is_taken_by_its_written_date() {
    let text = "BEGIN:VEVENT\nDTSTART:20241128T000000\nSUMMARY:Thanksgiving\nEND:VEVENT\n\
                BEGIN:VEVENT\nDTSTART;TZID=\"America/New_York\":20241225T000000\nDTEND;TZID=America/New_York:20241226T000000\nEND:VEVENT\n";
    assert_eq!(
        holidays_from_ics(text, 2024..=2024).unwrap(),
        vec![named(date(2024, 11, 28), "Thanksgiving"), (date(2024, 12, 25), None)]
    );
}

#[test]
fn folded_lines_are_unfolded_and_text_is_unescaped() {
    let text = crlf(&[
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20240101",
        "SUMMARY:New Year\\, the",
        "  first day\\; of the year",
        "END:VEVENT",
    ]);
    assert_eq!(
        holidays_from_ics(&text, 2024..=2024).unwrap(),
        vec![named(date(2024, 1, 1), "New Year, the first day; of the year")]
    );
}

#[test]
fn a_yearly_rule_is_expanded_over_the_requested_years_only() {
    let text = crlf(&[
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20201225",
        "RRULE:FREQ=YEARLY",
        "EXDATE;VALUE=DATE:20251225",
        "SUMMARY:Christmas Day",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20191128",
        "SUMMARY:an old one-off",
        "END:VEVENT",
    ]);
    assert_eq!(
        holidays_from_ics(&text, 2024..=2026).unwrap(),
        vec![named(date(2024, 12, 25), "Christmas Day"), named(date(2026, 12, 25), "Christmas Day"),]
    );
}

#[test]
fn time_zone_rules_alarms_and_cancelled_events_are_ignored() {
    let text = crlf(&[
        "BEGIN:VCALENDAR",
        "BEGIN:VTIMEZONE",
        "TZID:America/New_York",
        "BEGIN:DAYLIGHT",
        "DTSTART:20070311T020000",
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20240704",
        "SUMMARY:Independence Day",
        "BEGIN:VALARM",
        "SUMMARY:reminder",
        "DTSTART:20240703T090000",
        "END:VALARM",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "DTSTART;VALUE=DATE:20240705",
        "STATUS:CANCELLED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]);
    assert_eq!(holidays_from_ics(&text, 2024..=2024).unwrap(), vec![named(date(2024, 7, 4), "Independence Day")]);
}

#[test]
fn an_event_without_a_start_names_the_line_of_its_begin() {
    let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n";
    let error = holidays_from_ics(text, 2024..=2024).unwrap_err();
    assert_eq!(error.line(), 2);
    assert_eq!(error.code(), "missing_property");
}

#[test]
fn malformed_input_is_an_error_with_its_line() {
    let cases: [(&str, usize, &str); 7] = [
        ("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20241328\nEND:VEVENT\n", 2, "invalid_date"),
        ("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20241128T120000\nEND:VEVENT\n", 2, "invalid_date"),
        ("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20241128\n", 1, "malformed_line"),
        ("END:VEVENT\n", 1, "malformed_line"),
        ("BEGIN:VEVENT\nno colon here\nEND:VEVENT\n", 2, "malformed_line"),
        ("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240101\nRRULE:FREQ=WEEKLY\nEND:VEVENT\n", 3, "unsupported_rule"),
        ("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20240101\nDTEND;VALUE=DATE:20260101\nEND:VEVENT\n", 1, "event_too_long"),
    ];
    for (text, line, code) in cases {
        let error = holidays_from_ics(text, 2024..=2024).unwrap_err();
        assert_eq!((error.line(), error.code()), (line, code), "{text}");
    }
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        ":",
        ";;;:",
        "\u{feff}BEGIN:VEVENT\n DTSTART:é\nEND:VEVENT",
        "BEGIN:VEVENT\nDTSTART:2024112\nEND:VEVENT",
        "BEGIN:VEVENT\nDTSTART:20241128T9\nEND:VEVENT",
        "BEGIN:VEVENT\nDTSTART:20240101\nRRULE:UNTIL=2024010é\nEND:VEVENT",
    ] {
        let _ = holidays_from_ics(text, 2024..=2024);
    }
}
