//! The subset of RFC 5545 recurrence rules that holiday feeds use: yearly
//! rules, on a fixed date (Christmas) or on the n-th weekday of a month
//! (US Thanksgiving: `FREQ=YEARLY;BYMONTH=11;BYDAY=4TH`).
//!
//! Supported parts: `FREQ=YEARLY` (required), `INTERVAL`, `COUNT`, `UNTIL`,
//! one `BYMONTH`, one `BYMONTHDAY` (negative counts from the month's end),
//! one `BYDAY` with an ordinal (`4TH`, `-1MO`; it needs `BYMONTH`), and
//! `WKST` (irrelevant for these rules, ignored). Anything else (monthly
//! rules, lists, `BYSETPOS`, ...) is rejected with the line, rather than
//! expanded wrongly: a holiday list that is silently wrong is worse than an
//! import that asks for a simpler file. As RFC 5545 says, dates that do not
//! exist in a year (February 29) are skipped, and DTSTART itself is always
//! the first occurrence.

use std::ops::RangeInclusive;

use jiff::civil::{Date, Weekday};

use super::HolidayImportError;

/// A parsed `FREQ=YEARLY` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct YearlyRule {
    interval: i16,
    count: Option<u32>,
    until: Option<Date>,
    month: Option<i8>,
    month_day: Option<i8>,
    weekday: Option<(i8, Weekday)>,
}

impl YearlyRule {
    pub(super) fn parse(text: &str, line: usize) -> Result<YearlyRule, HolidayImportError> {
        let unsupported = |reason: String| HolidayImportError::UnsupportedRule { line, reason };
        let mut rule =
            YearlyRule { interval: 1, count: None, until: None, month: None, month_day: None, weekday: None };
        let mut yearly = false;
        for part in text.trim().split(';').filter(|part| !part.is_empty()) {
            let (key, value) =
                part.split_once('=').ok_or_else(|| unsupported(format!("\"{part}\" is not KEY=VALUE")))?;
            let bad_value = || unsupported(format!("bad {key} \"{value}\""));
            match key.to_ascii_uppercase().as_str() {
                "FREQ" if value.eq_ignore_ascii_case("YEARLY") => yearly = true,
                "FREQ" => return Err(unsupported(format!("FREQ={value} (only YEARLY)"))),
                "INTERVAL" => rule.interval = number(value, 1..=999).ok_or_else(bad_value)?,
                "COUNT" => rule.count = Some(number(value, 1..=100_000).ok_or_else(bad_value)?),
                "UNTIL" => rule.until = Some(until(value).ok_or_else(bad_value)?),
                "BYMONTH" => rule.month = Some(number(value, 1..=12).ok_or_else(bad_value)?),
                "BYMONTHDAY" => rule.month_day = Some(month_day(value).ok_or_else(bad_value)?),
                "BYDAY" => rule.weekday = Some(nth_weekday(value).ok_or_else(bad_value)?),
                "WKST" => {}
                other => return Err(unsupported(format!("{other} is not supported"))),
            }
        }
        if !yearly {
            return Err(unsupported("FREQ=YEARLY is required".to_owned()));
        }
        if rule.weekday.is_some() && (rule.month.is_none() || rule.month_day.is_some()) {
            return Err(unsupported("BYDAY needs BYMONTH and cannot be combined with BYMONTHDAY".to_owned()));
        }
        Ok(rule)
    }

    /// The first day of every occurrence from `start` (the event's DTSTART)
    /// up to the end of `years`, earlier years included so that the caller
    /// can keep the days of a long event that reach into `years`.
    pub(super) fn occurrences(&self, start: Date, years: &RangeInclusive<i16>) -> Vec<Date> {
        let mut dates = vec![start];
        let mut year = start.year();
        while year <= *years.end() {
            if self.count.is_some_and(|count| dates.len() >= count as usize) {
                break;
            }
            if let Some(date) = self.in_year(year, start).filter(|&date| date > start) {
                if self.until.is_some_and(|until| date > until) {
                    break;
                }
                dates.push(date);
            }
            let Some(next) = year.checked_add(self.interval) else {
                break;
            };
            year = next;
        }
        dates
    }

    /// This rule's date in `year`, if it has one.
    fn in_year(&self, year: i16, start: Date) -> Option<Date> {
        let month = self.month.unwrap_or(start.month());
        let first = Date::new(year, month, 1).ok()?;
        if let Some((nth, weekday)) = self.weekday {
            return first.nth_weekday_of_month(nth, weekday).ok();
        }
        let day = self.month_day.unwrap_or(start.day());
        if day > 0 {
            Date::new(year, month, day).ok()
        } else {
            // -1 is the last day of the month.
            let from_end = first.days_in_month() + 1 + day;
            (from_end >= 1).then(|| Date::new(year, month, from_end).ok())?
        }
    }
}

fn number<T: TryFrom<i64> + PartialOrd>(text: &str, range: RangeInclusive<T>) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || text.len() > 9 {
        return None;
    }
    let value = T::try_from(text.parse::<i64>().ok()?).ok()?;
    range.contains(&value).then_some(value)
}

fn month_day(text: &str) -> Option<i8> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let day: i8 = number(digits, 1..=31)?;
    Some(if negative { -day } else { day })
}

/// `4TH`, `+4TH`, `-1MO`: an ordinal and a weekday.
fn nth_weekday(text: &str) -> Option<(i8, Weekday)> {
    if text.len() < 3 || !text.is_ascii() {
        return None;
    }
    let (ordinal, code) = text.split_at(text.len() - 2);
    let weekday = match code.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    };
    let (negative, digits) = match ordinal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, ordinal.strip_prefix('+').unwrap_or(ordinal)),
    };
    let nth: i8 = number(digits, 1..=5)?;
    Some((if negative { -nth } else { nth }, weekday))
}

/// `UNTIL` as a date or a date-time; only its date matters here.
fn until(text: &str) -> Option<Date> {
    if !text.is_ascii() {
        return None;
    }
    let date = text.get(0..8)?;
    let rest = &text[8..];
    let time_ok = rest.is_empty()
        || (rest.len() >= 7
            && rest.starts_with('T')
            && rest[1..7].bytes().all(|b| b.is_ascii_digit())
            && matches!(&rest[7..], "" | "Z"));
    if !time_ok || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = date[0..4].parse().ok()?;
    let month = date[4..6].parse().ok()?;
    let day = date[6..8].parse().ok()?;
    Date::new(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn rule(text: &str) -> YearlyRule {
        YearlyRule::parse(text, 7).unwrap()
    }

    #[test]
    fn a_plain_yearly_rule_repeats_the_start_date() {
        let dates = rule("FREQ=YEARLY").occurrences(date(2022, 12, 25), &(2024..=2025));
        assert_eq!(dates, vec![date(2022, 12, 25), date(2023, 12, 25), date(2024, 12, 25), date(2025, 12, 25)]);
    }

    #[test]
    fn the_fourth_thursday_of_november_is_thanksgiving() {
        let dates = rule("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH").occurrences(date(2023, 11, 23), &(2024..=2026));
        assert_eq!(dates, vec![date(2023, 11, 23), date(2024, 11, 28), date(2025, 11, 27), date(2026, 11, 26)]);
    }

    #[test]
    fn the_last_monday_of_may_counts_from_the_end() {
        let dates = rule("FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO").occurrences(date(2024, 5, 27), &(2025..=2025));
        assert_eq!(dates, vec![date(2024, 5, 27), date(2025, 5, 26)]);
    }

    #[test]
    fn february_29_is_skipped_in_years_without_it() {
        let dates = rule("FREQ=YEARLY").occurrences(date(2024, 2, 29), &(2024..=2028));
        assert_eq!(dates, vec![date(2024, 2, 29), date(2028, 2, 29)]);
    }

    #[test]
    fn count_until_and_interval_limit_the_occurrences() {
        let start = date(2020, 7, 4);
        let counted = rule("FREQ=YEARLY;COUNT=2").occurrences(start, &(2020..=2030));
        assert_eq!(counted, vec![date(2020, 7, 4), date(2021, 7, 4)]);
        let until = rule("FREQ=YEARLY;UNTIL=20220704T000000Z").occurrences(start, &(2020..=2030));
        assert_eq!(until.len(), 3);
        let every_other = rule("FREQ=YEARLY;INTERVAL=2").occurrences(start, &(2020..=2024));
        assert_eq!(every_other, vec![start, date(2022, 7, 4), date(2024, 7, 4)]);
    }

    #[test]
    fn the_last_day_of_a_month_is_minus_one() {
        let dates = rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1").occurrences(date(2023, 2, 28), &(2024..=2024));
        assert_eq!(dates, vec![date(2023, 2, 28), date(2024, 2, 29)]);
    }

    #[test]
    fn rules_outside_the_subset_are_rejected_with_their_line() {
        for text in [
            "FREQ=MONTHLY",
            "FREQ=YEARLY;BYSETPOS=1",
            "FREQ=YEARLY;BYDAY=TH",
            "FREQ=YEARLY;BYDAY=4TH",
            "FREQ=YEARLY;BYMONTH=11,12",
            "BYMONTH=11",
            "FREQ=YEARLY;INTERVAL=0",
        ] {
            let error = YearlyRule::parse(text, 7).unwrap_err();
            assert_eq!(error.line(), 7, "{text}");
            assert_eq!(error.code(), "unsupported_rule", "{text}");
        }
    }
}
