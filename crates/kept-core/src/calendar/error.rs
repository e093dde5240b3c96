//! `CalendarError`: why a calendar (or a piece of one) was rejected.
//!
//! Every error names the field it is about as a path into the JSON form
//! (`weekly.mon[1]`, `holidays[2]`, `overrides.2024-12-24[0][1]`), so the HTTP
//! layer can answer `{"code":"invalid_calendar","field":..,"message":..}` and
//! the CLI can point at the culprit. Low-level constructors (a time, an
//! interval, a day) do not know where their input came from: they leave the
//! path relative (empty, or `[i]`) and the JSON reader prefixes it with
//! [`CalendarError::within`].

use super::schedule::{LocalInterval, TimeOfDay};

/// A calendar, or part of one, is invalid. See the module docs for `field`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not JSON, or not the shape of a calendar: a wrong type, an unknown or
    /// missing field, an unknown weekday key.
    #[error("{}", describe(field, reason))]
    Malformed { field: String, reason: String },
    /// The name is not in the bundled IANA time zone database.
    #[error("{}", describe(field, &format!("unknown time zone \"{name}\"")))]
    UnknownTimeZone { field: String, name: String },
    /// A time of day that is not `HH:MM` in 00:00..=24:00, or 24:00 used as
    /// a start.
    #[error("{}", describe(field, &format!("\"{value}\" {problem}")))]
    InvalidTime { field: String, value: String, problem: &'static str },
    /// An interval whose start is not before its end.
    #[error("{}", describe(field, &format!("start {start} is not before end {end}")))]
    EmptyInterval { field: String, start: TimeOfDay, end: TimeOfDay },
    /// Two intervals of the same day share some time. Touching intervals
    /// (09:00-12:00 and 12:00-13:00) are fine.
    #[error("{}", describe(field, &format!("intervals overlap ({first} and {second})")))]
    OverlappingIntervals { field: String, first: LocalInterval, second: LocalInterval },
    /// A date that is not `YYYY-MM-DD` or does not exist (2024-02-30).
    #[error("{}", describe(field, &format!("\"{value}\" is not a date (YYYY-MM-DD)")))]
    InvalidDate { field: String, value: String },
}

fn describe(field: &str, reason: &str) -> String {
    if field.is_empty() { reason.to_owned() } else { format!("{field}: {reason}") }
}

impl CalendarError {
    /// A stable snake_case code per kind of problem, for logs and clients
    /// that want to react to one kind.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed_calendar",
            Self::UnknownTimeZone { .. } => "unknown_time_zone",
            Self::InvalidTime { .. } => "invalid_time",
            Self::EmptyInterval { .. } => "empty_interval",
            Self::OverlappingIntervals { .. } => "overlapping_intervals",
            Self::InvalidDate { .. } => "invalid_date",
        }
    }

    /// The path of the offending field in the JSON form; empty for the
    /// document as a whole.
    pub fn field(&self) -> &str {
        match self {
            Self::Malformed { field, .. }
            | Self::UnknownTimeZone { field, .. }
            | Self::InvalidTime { field, .. }
            | Self::EmptyInterval { field, .. }
            | Self::OverlappingIntervals { field, .. }
            | Self::InvalidDate { field, .. } => field,
        }
    }

    /// What is wrong, without the field path.
    pub fn reason(&self) -> String {
        // Display is "field: reason"; render it with an empty path instead
        // of parsing it back apart.
        self.clone().with_field(String::new()).to_string()
    }

    /// Puts this error inside `prefix`: an empty path becomes `prefix`, an
    /// index `[1]` becomes `prefix[1]`, a name `x` becomes `prefix.x`.
    pub fn within(self, prefix: &str) -> Self {
        let field = self.field();
        let joined = if field.is_empty() {
            prefix.to_owned()
        } else if field.starts_with('[') || prefix.is_empty() {
            format!("{prefix}{field}")
        } else {
            format!("{prefix}.{field}")
        };
        self.with_field(joined)
    }

    fn with_field(mut self, new: String) -> Self {
        match &mut self {
            Self::Malformed { field, .. }
            | Self::UnknownTimeZone { field, .. }
            | Self::InvalidTime { field, .. }
            | Self::EmptyInterval { field, .. }
            | Self::OverlappingIntervals { field, .. }
            | Self::InvalidDate { field, .. } => *field = new,
        }
        self
    }

    pub(crate) fn malformed(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Malformed { field: field.into(), reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_index_is_appended_to_the_prefix_without_a_dot() {
        let error = CalendarError::malformed("[1]", "bad").within("weekly.mon");
        assert_eq!(error.field(), "weekly.mon[1]");
    }

    #[test]
    fn a_relative_name_is_joined_to_the_prefix_with_a_dot() {
        let error = CalendarError::malformed("mon", "bad").within("weekly");
        assert_eq!(error.field(), "weekly.mon");
    }

    #[test]
    fn the_reason_leaves_out_the_field_and_the_message_includes_it() {
        let error = CalendarError::UnknownTimeZone { field: "time_zone".into(), name: "Mars/Base".into() };
        assert_eq!(error.reason(), "unknown time zone \"Mars/Base\"");
        assert_eq!(error.to_string(), "time_zone: unknown time zone \"Mars/Base\"");
        assert_eq!(error.code(), "unknown_time_zone");
    }
}
