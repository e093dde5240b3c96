//! Text as an iCalendar file and as a CSV holiday list. Both readers must
//! return Ok or an error naming a line, never panic; what they return is
//! sorted by date with each date once.
#![no_main]

use jiff::civil::Date;
use kept_core::calendar::{holidays_from_csv, holidays_from_ics};
use libfuzzer_sys::fuzz_target;

fn check(what: &str, text: &str, result: Result<Vec<(Date, Option<String>)>, kept_core::calendar::HolidayImportError>) {
    match result {
        Ok(holidays) => {
            for pair in holidays.windows(2) {
                assert!(pair[0].0 < pair[1].0, "{what}: dates not sorted and unique: {pair:?}");
            }
        }
        Err(error) => {
            let lines = text.lines().count().max(1);
            assert!(error.line() <= lines + 1, "{what}: error line {} past the end ({lines} lines)", error.line());
            let _ = error.code();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The server asks for four years around the current one; the edges of
    // jiff's range (-9999..=9999) are where date arithmetic can overflow.
    for years in [2023..=2026, 9996..=9999, -9999..=-9996] {
        check("ics", text, holidays_from_ics(text, years));
    }
    check("csv", text, holidays_from_csv(text));
});
