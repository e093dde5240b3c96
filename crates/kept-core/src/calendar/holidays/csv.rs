//! Holidays from CSV: one `date[,name]` per line, dates as `YYYY-MM-DD`.
//!
//! An optional header row `date,name` (or just `date`) is skipped, as are
//! blank lines and lines starting with `#`. Everything after the first comma
//! is the name, so a name may contain commas without quoting; a name (or a
//! date) in double quotes is unquoted, with `""` read as `"`, which is what
//! spreadsheets write.

use jiff::civil::Date;

use super::{HolidayImportError, sorted_unique};
use crate::calendar::spec::parse_date;

/// Reads a CSV holiday list. Errors name the 1-based line.
pub fn holidays_from_csv(text: &str) -> Result<Vec<(Date, Option<String>)>, HolidayImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut holidays = Vec::new();
    let mut header_allowed = true;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (date_field, name_field) = match trimmed.split_once(',') {
            Some((date, name)) => (date.trim(), Some(name.trim())),
            None => (trimmed, None),
        };
        if std::mem::take(&mut header_allowed) && is_header(date_field, name_field) {
            continue;
        }
        let date_text = unquote(date_field, line)?;
        let date = parse_date(&date_text).map_err(|_| HolidayImportError::InvalidDate {
            line,
            value: date_text.clone(),
            expected: "YYYY-MM-DD",
        })?;
        let name = match name_field {
            Some(field) => Some(unquote(field, line)?).filter(|name| !name.trim().is_empty()),
            None => None,
        };
        holidays.push((date, name.map(|name| name.trim().to_owned())));
    }
    Ok(sorted_unique(holidays))
}

fn is_header(date: &str, name: Option<&str>) -> bool {
    date.eq_ignore_ascii_case("date") && name.is_none_or(|name| name.eq_ignore_ascii_case("name"))
}

/// Removes surrounding double quotes and undoubles inner ones; a field
/// without a leading quote is taken as it is.
fn unquote(field: &str, line: usize) -> Result<String, HolidayImportError> {
    let Some(rest) = field.strip_prefix('"') else {
        return Ok(field.to_owned());
    };
    let inner = rest
        .strip_suffix('"')
        .ok_or_else(|| HolidayImportError::Malformed { line, reason: format!("unterminated quoted field {field}") })?;
    Ok(inner.replace("\"\"", "\""))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn dates_with_and_without_names_are_read_in_date_order() {
        let text = "2024-12-25,Christmas Day\n2024-11-28\n";
        assert_eq!(
            holidays_from_csv(text).unwrap(),
            vec![(date(2024, 11, 28), None), (date(2024, 12, 25), Some("Christmas Day".to_owned())),]
        );
    }

    #[test]
    fn a_header_comments_blank_lines_and_crlf_are_skipped() {
        let text = "\u{feff}Date,Name\r\n# public holidays\r\n\r\n2024-01-01 , New Year \r\n";
        assert_eq!(holidays_from_csv(text).unwrap(), vec![(date(2024, 1, 1), Some("New Year".to_owned()))]);
    }

    #[test]
    fn quoted_names_may_hold_commas_and_quotes() {
        let text = "\"2024-12-26\",\"Boxing Day, \"\"St Stephen's\"\"\"\n2024-12-31,Eve, observed";
        assert_eq!(
            holidays_from_csv(text).unwrap(),
            vec![
                (date(2024, 12, 26), Some("Boxing Day, \"St Stephen's\"".to_owned())),
                (date(2024, 12, 31), Some("Eve, observed".to_owned())),
            ]
        );
    }

    #[test]
    fn a_bad_date_is_reported_with_its_line_number() {
        let error = holidays_from_csv("date,name\n2024-11-28,ok\n\n2024-02-30,bad\n").unwrap_err();
        assert_eq!(error.line(), 4);
        assert_eq!(error.code(), "invalid_date");
        assert_eq!(error.to_string(), "line 4: \"2024-02-30\" is not a date (YYYY-MM-DD)");
    }

    #[test]
    fn a_header_is_only_recognised_before_the_first_date() {
        let error = holidays_from_csv("2024-01-01\ndate,name\n").unwrap_err();
        assert_eq!(error.line(), 2);
    }

    #[test]
    fn an_unterminated_quote_is_an_error_not_a_guess() {
        let error = holidays_from_csv("2024-01-01,\"New Year\n").unwrap_err();
        assert_eq!(error.code(), "malformed_line");
        assert_eq!(error.line(), 1);
    }

    #[test]
    fn a_repeated_date_keeps_its_first_name() {
        let text = "2024-01-01,New Year\n2024-01-01,Jour de l'an\n";
        assert_eq!(holidays_from_csv(text).unwrap(), vec![(date(2024, 1, 1), Some("New Year".to_owned()))]);
    }
}
