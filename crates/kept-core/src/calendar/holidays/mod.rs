//! Holiday import: lists of local dates (with an optional name) read from
//! iCalendar (`.ics`) feeds and from simple CSV files, to be added to a
//! calendar with `Calendar::with_holidays`.
//!
//! The parsers are small and hand-written (no new dependency): they read the
//! part of each format that holiday lists use and reject the rest with an
//! error naming the line, never a panic. Both return the dates sorted, one
//! entry per date; when a date appears twice the first name wins.

mod csv;
mod ics;
mod rrule;

use jiff::civil::Date;

pub use csv::holidays_from_csv;
pub use ics::holidays_from_ics;

/// A holiday file could not be read. `line` is 1-based; for an iCalendar
/// file it is the first physical line of the (unfolded) content line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolidayImportError {
    /// A date (or date-time) that does not parse or does not exist.
    #[error("line {line}: \"{value}\" is not a date ({expected})")]
    InvalidDate { line: usize, value: String, expected: &'static str },
    /// A line that is not of the expected form (no `name:value`, an
    /// unbalanced BEGIN/END, an unterminated quote, ...).
    #[error("line {line}: {reason}")]
    Malformed { line: usize, reason: String },
    /// An event without a property it needs (DTSTART).
    #[error("line {line}: event has no {property}")]
    MissingProperty { line: usize, property: &'static str },
    /// An RRULE outside the supported subset (yearly rules).
    #[error("line {line}: unsupported recurrence rule: {reason}")]
    UnsupportedRule { line: usize, reason: String },
    /// An event longer than a year, which is no holiday and would make the
    /// list huge.
    #[error("line {line}: event spans {days} days; a holiday spans at most {MAX_EVENT_DAYS}")]
    TooLong { line: usize, days: i64 },
}

/// The longest event accepted, in days.
pub(crate) const MAX_EVENT_DAYS: i64 = 366;

impl HolidayImportError {
    /// The 1-based line the problem is on.
    pub fn line(&self) -> usize {
        match self {
            Self::InvalidDate { line, .. }
            | Self::Malformed { line, .. }
            | Self::MissingProperty { line, .. }
            | Self::UnsupportedRule { line, .. }
            | Self::TooLong { line, .. } => *line,
        }
    }

    /// A stable snake_case code per kind of problem.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidDate { .. } => "invalid_date",
            Self::Malformed { .. } => "malformed_line",
            Self::MissingProperty { .. } => "missing_property",
            Self::UnsupportedRule { .. } => "unsupported_rule",
            Self::TooLong { .. } => "event_too_long",
        }
    }
}

/// Sorts by date and keeps one entry per date, the first one read.
fn sorted_unique(mut holidays: Vec<(Date, Option<String>)>) -> Vec<(Date, Option<String>)> {
    // A stable sort keeps input order within a date, so "first" is the
    // first in the file.
    holidays.sort_by_key(|&(date, _)| date);
    holidays.dedup_by_key(|&mut (date, _)| date);
    holidays
}
