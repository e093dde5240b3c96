//! Holidays from iCalendar (RFC 5545) feeds, as published by governments
//! and calendar providers.
//!
//! Read: VEVENTs (anywhere, with or without a VCALENDAR around them) with
//! `DTSTART;VALUE=DATE:20241128` (all day). A multi-day event yields each
//! day up to its exclusive `DTEND;VALUE=DATE` or its `DURATION:PnD`/`PnW`.
//! A date-time `DTSTART:20241128T000000[Z]` is taken by its written date
//! (the feed's own zone is not applied: a holiday is a local date, and
//! feeds that use date-times put them at local midnight). `SUMMARY` is the
//! name, `STATUS:CANCELLED` events are skipped, `EXDATE` removes
//! occurrences and yearly `RRULE`s are expanded (see `rrule.rs`). Lines may
//! end in CRLF or LF and may be folded.
//!
//! Only dates whose year lies in `years` are returned, for single events as
//! well as recurring ones, so the caller gets exactly the years it asked for.
//! Properties of components nested in an event (VALARM) and of other
//! components (VTIMEZONE, whose DTSTART/RRULE describe DST rules) are
//! ignored.

use std::ops::RangeInclusive;

use jiff::civil::Date;

use super::rrule::YearlyRule;
use super::{HolidayImportError, MAX_EVENT_DAYS, sorted_unique};

/// Reads the all-day events of an iCalendar text as holidays, keeping the
/// dates whose year is in `years`. Errors name the 1-based line.
pub fn holidays_from_ics(
    text: &str,
    years: RangeInclusive<i16>,
) -> Result<Vec<(Date, Option<String>)>, HolidayImportError> {
    let mut holidays = Vec::new();
    // Open components with the line of their BEGIN.
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut event: Option<Event> = None;
    for (line, content) in unfold(text) {
        if content.trim().is_empty() {
            continue;
        }
        let property = Property::parse(&content, line)?;
        match property.name.as_str() {
            "BEGIN" => {
                let component = property.value.trim().to_ascii_uppercase();
                if component == "VEVENT" && event.is_none() {
                    event = Some(Event::new(line));
                }
                open.push((component, line));
            }
            "END" => {
                let component = property.value.trim().to_ascii_uppercase();
                match open.pop() {
                    Some((begun, _)) if begun == component => {}
                    _ => {
                        return Err(HolidayImportError::Malformed {
                            line,
                            reason: format!("END:{component} without a matching BEGIN"),
                        });
                    }
                }
                let closes_event = component == "VEVENT" && !open.iter().any(|(c, _)| c == "VEVENT");
                if let Some(finished) = event.take_if(|_| closes_event) {
                    holidays.extend(finished.expand(&years)?);
                }
            }
            _ => {
                let directly_in_event = open.last().is_some_and(|(c, _)| c == "VEVENT");
                if let Some(current) = event.as_mut().filter(|_| directly_in_event) {
                    current.read(property, line)?;
                }
            }
        }
    }
    if let Some((component, line)) = open.pop() {
        return Err(HolidayImportError::Malformed {
            line,
            reason: format!("BEGIN:{component} without END:{component}"),
        });
    }
    Ok(sorted_unique(holidays))
}

/// Joins folded lines (RFC 5545 §3.1: a line break followed by a space or a
/// tab continues the previous line). Yields (first physical line, content).
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (index, physical) in text.lines().enumerate() {
        let continued = physical.strip_prefix([' ', '\t']);
        match (continued, lines.last_mut()) {
            (Some(rest), Some((_, content))) => content.push_str(rest),
            _ => lines.push((index + 1, physical.to_owned())),
        }
    }
    lines
}

/// One content line: `NAME;PARAM=VALUE;...:value`.
struct Property {
    /// Upper-cased.
    name: String,
    /// Upper-cased names, values without quotes.
    params: Vec<(String, String)>,
    value: String,
}

impl Property {
    fn parse(content: &str, line: usize) -> Result<Property, HolidayImportError> {
        // The value starts at the first colon outside double quotes
        // (parameter values such as TZID may be quoted and hold colons).
        let mut in_quotes = false;
        let colon = content.char_indices().find_map(|(at, c)| {
            if c == '"' {
                in_quotes = !in_quotes;
            }
            (c == ':' && !in_quotes).then_some(at)
        });
        let Some(colon) = colon else {
            return Err(HolidayImportError::Malformed { line, reason: "expected NAME:value".to_owned() });
        };
        let (head, value) = (&content[..colon], &content[colon + 1..]);
        let mut parts = split_unquoted(head, ';').into_iter();
        let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
        if name.is_empty() {
            return Err(HolidayImportError::Malformed { line, reason: "a property without a name".to_owned() });
        }
        let params = parts
            .map(|param| {
                let (key, val) = param.split_once('=').unwrap_or((param, ""));
                (key.trim().to_ascii_uppercase(), val.trim().trim_matches('"').to_owned())
            })
            .collect();
        Ok(Property { name, params, value: value.to_owned() })
    }

    fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }
}

fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut in_quotes, mut from) = (false, 0);
    for (at, c) in text.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if c == separator && !in_quotes {
            parts.push(&text[from..at]);
            from = at + c.len_utf8();
        }
    }
    parts.push(&text[from..]);
    parts
}

/// A DTSTART or DTEND: its date, and whether it had a time after midnight.
#[derive(Clone, Copy)]
struct Moment {
    date: Date,
    after_midnight: bool,
}

/// The properties of one VEVENT that matter for holidays.
struct Event {
    line: usize,
    start: Option<Moment>,
    end: Option<Moment>,
    duration_days: Option<i64>,
    summary: Option<String>,
    rule: Option<YearlyRule>,
    excluded: Vec<Date>,
    cancelled: bool,
}

impl Event {
    fn new(line: usize) -> Event {
        Event {
            line,
            start: None,
            end: None,
            duration_days: None,
            summary: None,
            rule: None,
            excluded: Vec::new(),
            cancelled: false,
        }
    }

    fn read(&mut self, property: Property, line: usize) -> Result<(), HolidayImportError> {
        match property.name.as_str() {
            "DTSTART" => self.start = Some(moment(&property, line)?),
            "DTEND" => self.end = Some(moment(&property, line)?),
            "DURATION" => self.duration_days = Some(duration_days(&property.value, line)?),
            "SUMMARY" => self.summary = Some(unescape(&property.value)),
            "RRULE" => self.rule = Some(YearlyRule::parse(&property.value, line)?),
            "EXDATE" => {
                for item in property.value.split(',') {
                    self.excluded.push(parse_moment(item.trim(), line)?.date);
                }
            }
            "STATUS" => self.cancelled = property.value.trim().eq_ignore_ascii_case("CANCELLED"),
            _ => {}
        }
        Ok(())
    }

    /// Every day the event covers, with its name, within `years`.
    fn expand(self, years: &RangeInclusive<i16>) -> Result<Vec<(Date, Option<String>)>, HolidayImportError> {
        if self.cancelled {
            return Ok(Vec::new());
        }
        let start = self.start.ok_or(HolidayImportError::MissingProperty { line: self.line, property: "DTSTART" })?;
        let days = self.span_days(start);
        if days > MAX_EVENT_DAYS {
            return Err(HolidayImportError::TooLong { line: self.line, days });
        }
        let firsts = match &self.rule {
            None => vec![start.date],
            Some(rule) => rule.occurrences(start.date, years),
        };
        let name = self.summary.clone().filter(|name| !name.is_empty());
        let mut out = Vec::new();
        for first in firsts.into_iter().filter(|date| !self.excluded.contains(date)) {
            let mut day = Some(first);
            for _ in 0..days {
                let Some(current) = day else { break };
                if years.contains(&current.year()) {
                    out.push((current, name.clone()));
                }
                day = current.tomorrow().ok();
            }
        }
        Ok(out)
    }

    /// How many days the event covers, at least one. DTEND is exclusive
    /// unless it has a time after midnight (then its date is covered too).
    fn span_days(&self, start: Moment) -> i64 {
        let days = match (self.end, self.duration_days) {
            (Some(end), _) => {
                let whole = i64::from(start.date.until(end.date).map_or(0, |span| span.get_days()));
                whole + i64::from(end.after_midnight)
            }
            (None, Some(days)) => days,
            (None, None) => 1,
        };
        days.max(1)
    }
}

fn moment(property: &Property, line: usize) -> Result<Moment, HolidayImportError> {
    let moment = parse_moment(property.value.trim(), line)?;
    let is_date = property.param("VALUE").is_some_and(|value| value.eq_ignore_ascii_case("DATE"));
    if is_date && moment.after_midnight {
        return Err(invalid_date(&property.value, line));
    }
    Ok(moment)
}

/// `YYYYMMDD` or `YYYYMMDDTHHMMSS` with an optional `Z`.
fn parse_moment(text: &str, line: usize) -> Result<Moment, HolidayImportError> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i32> {
        let part = bytes.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0_i32, |acc, digit| acc * 10 + i32::from(digit - b'0')))
    };
    let date = (|| {
        let year = i16::try_from(digits(0..4)?).ok()?;
        let month = i8::try_from(digits(4..6)?).ok()?;
        let day = i8::try_from(digits(6..8)?).ok()?;
        Date::new(year, month, day).ok()
    })()
    .ok_or_else(|| invalid_date(text, line))?;
    let after_midnight = match bytes.len() {
        8 => false,
        15 | 16 if bytes[8] == b'T' && (bytes.len() == 15 || bytes[15] == b'Z') => {
            let time = digits(9..15).ok_or_else(|| invalid_date(text, line))?;
            let (hour, minute, second) = (time / 10_000, time / 100 % 100, time % 100);
            if hour > 23 || minute > 59 || second > 60 {
                return Err(invalid_date(text, line));
            }
            time != 0
        }
        _ => return Err(invalid_date(text, line)),
    };
    Ok(Moment { date, after_midnight })
}

fn invalid_date(text: &str, line: usize) -> HolidayImportError {
    HolidayImportError::InvalidDate { line, value: text.to_owned(), expected: "YYYYMMDD or YYYYMMDDTHHMMSS" }
}

/// `PnD`, `PnW`, or a duration under a day (`PT…`, counted as one day).
fn duration_days(text: &str, line: usize) -> Result<i64, HolidayImportError> {
    let malformed = || HolidayImportError::Malformed {
        line,
        reason: format!("unsupported DURATION \"{text}\" (expected PnD or PnW)"),
    };
    let rest = text.trim().strip_prefix('P').ok_or_else(malformed)?;
    if rest.starts_with('T') {
        return Ok(1);
    }
    let (number, factor) = if let Some(days) = rest.strip_suffix('D') {
        (days, 1)
    } else if let Some(weeks) = rest.strip_suffix('W') {
        (weeks, 7)
    } else {
        return Err(malformed());
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let count: i64 = number.parse().map_err(|_| malformed())?;
    count.checked_mul(factor).ok_or_else(malformed)
}

/// Undoes RFC 5545 TEXT escaping; a line break becomes a space, since a
/// holiday name is one line.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push(' '),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests;
