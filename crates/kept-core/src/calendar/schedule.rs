//! Local, zone-free building blocks of a calendar: a time of day, a
//! half-open interval of one day, one day's working intervals, a week.
//!
//! Each type is valid by construction (STYLE §2): a `TimeOfDay` is a whole
//! minute in 00:00..=24:00, a `LocalInterval` has start < end, and a
//! `DaySchedule` holds sorted intervals that do not overlap. Touching
//! intervals (09:00-12:00 and 12:00-13:00) are accepted and merged, so a day
//! has one canonical form and its meaning cannot depend on how the user cut
//! it into pieces (it would otherwise matter on a DST day whose gap contains
//! the cut, see `windows.rs`).
//!
//! Times are whole minutes because the JSON form is `HH:MM`: a finer time
//! could not be written back by `Calendar::to_spec`.

use std::fmt;

use jiff::civil::Weekday;

use super::error::CalendarError;

const SECONDS_PER_DAY: u32 = 86_400;

/// A local time of day in whole minutes, from 00:00 to 24:00 inclusive.
/// 24:00 is the end of the day (00:00 of the next date) and only valid as
/// the end of an interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// 00:00.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    /// 24:00, the end of the day.
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(SECONDS_PER_DAY);

    /// The time `hour:minute`; 24:00 is allowed, 24:01 is not.
    pub fn hm(hour: u8, minute: u8) -> Result<TimeOfDay, CalendarError> {
        let valid = (hour < 24 && minute < 60) || (hour == 24 && minute == 0);
        if !valid {
            return Err(CalendarError::InvalidTime {
                field: String::new(),
                value: format!("{hour:02}:{minute:02}"),
                problem: "is not a time (HH:MM, 00:00 to 24:00)",
            });
        }
        Ok(TimeOfDay(u32::from(hour) * 3600 + u32::from(minute) * 60))
    }

    /// Parses exactly `HH:MM` (two digits each). Looser forms such as `9:00`
    /// or `09:00:00` are rejected so that what is stored is what is shown.
    pub fn parse(text: &str) -> Result<TimeOfDay, CalendarError> {
        let invalid = || CalendarError::InvalidTime {
            field: String::new(),
            value: text.to_owned(),
            problem: "is not a time (HH:MM, 00:00 to 24:00)",
        };
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(invalid());
        }
        let hour = two_digits(bytes[0], bytes[1]).ok_or_else(invalid)?;
        let minute = two_digits(bytes[3], bytes[4]).ok_or_else(invalid)?;
        TimeOfDay::hm(hour, minute).map_err(|_| invalid())
    }

    /// Seconds since local midnight, 0..=86400.
    pub fn seconds(self) -> u32 {
        self.0
    }

    /// The hour, 0..=24.
    pub fn hour(self) -> u8 {
        // At most 24, so the cast cannot truncate.
        (self.0 / 3600) as u8
    }

    /// The minute within the hour, 0..=59.
    pub fn minute(self) -> u8 {
        // At most 59, so the cast cannot truncate.
        (self.0 % 3600 / 60) as u8
    }
}

fn two_digits(tens: u8, ones: u8) -> Option<u8> {
    if tens.is_ascii_digit() && ones.is_ascii_digit() { Some((tens - b'0') * 10 + (ones - b'0')) } else { None }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

/// A half-open local interval `[start, end)` of one day, start < end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalInterval {
    start: TimeOfDay,
    end: TimeOfDay,
}

impl LocalInterval {
    /// The interval `[start, end)`; fails unless start < end (which also
    /// rules out 24:00 as a start).
    pub fn new(start: TimeOfDay, end: TimeOfDay) -> Result<LocalInterval, CalendarError> {
        if start >= end {
            return Err(CalendarError::EmptyInterval { field: String::new(), start, end });
        }
        Ok(LocalInterval { start, end })
    }

    /// The whole day, 00:00-24:00.
    pub fn whole_day() -> LocalInterval {
        LocalInterval { start: TimeOfDay::MIDNIGHT, end: TimeOfDay::END_OF_DAY }
    }

    pub fn start(self) -> TimeOfDay {
        self.start
    }

    pub fn end(self) -> TimeOfDay {
        self.end
    }
}

impl fmt::Display for LocalInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The working intervals of one day: sorted, disjoint, and with touching
/// intervals merged. Empty means closed all day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct DaySchedule {
    intervals: Vec<LocalInterval>,
}

impl DaySchedule {
    /// Closed all day.
    pub const CLOSED: DaySchedule = DaySchedule { intervals: Vec::new() };

    /// Closed all day.
    pub fn closed() -> DaySchedule {
        DaySchedule::CLOSED
    }

    /// The day made of `intervals`, given in any order. Overlapping
    /// intervals are an error whose field is the index (`[i]`) of the later
    /// of the two in the input; touching ones are merged.
    pub fn new(intervals: impl IntoIterator<Item = LocalInterval>) -> Result<DaySchedule, CalendarError> {
        let mut indexed: Vec<(usize, LocalInterval)> = intervals.into_iter().enumerate().collect();
        indexed.sort_by_key(|&(index, interval)| (interval, index));
        let mut merged: Vec<LocalInterval> = Vec::with_capacity(indexed.len());
        // The input interval that set the current merged end, to name it in
        // an overlap error.
        let mut last: Option<(usize, LocalInterval)> = None;
        for (index, interval) in indexed {
            if let (Some((last_index, last_interval)), Some(current)) = (last, merged.last_mut()) {
                if interval.start < current.end {
                    let (first, second) = if last_index < index {
                        ((last_index, last_interval), (index, interval))
                    } else {
                        ((index, interval), (last_index, last_interval))
                    };
                    return Err(CalendarError::OverlappingIntervals {
                        field: format!("[{}]", second.0),
                        first: first.1,
                        second: second.1,
                    });
                }
                if interval.start == current.end {
                    current.end = interval.end;
                    last = Some((index, interval));
                    continue;
                }
            }
            merged.push(interval);
            last = Some((index, interval));
        }
        Ok(DaySchedule { intervals: merged })
    }

    /// The intervals, sorted and disjoint (never touching).
    pub fn intervals(&self) -> &[LocalInterval] {
        &self.intervals
    }

    pub fn is_closed(&self) -> bool {
        self.intervals.is_empty()
    }
}

/// One `DaySchedule` per ISO weekday. Days not set are closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WeeklySchedule {
    // Indexed by `Weekday::to_monday_zero_offset`.
    days: [DaySchedule; 7],
}

impl WeeklySchedule {
    /// Closed every day.
    pub fn closed() -> WeeklySchedule {
        WeeklySchedule::default()
    }

    /// The same schedule with `weekday` set to `day`.
    pub fn with(mut self, weekday: Weekday, day: DaySchedule) -> WeeklySchedule {
        self.days[weekday_index(weekday)] = day;
        self
    }

    /// The same schedule with each of `weekdays` set to `day`.
    pub fn with_days(mut self, weekdays: &[Weekday], day: &DaySchedule) -> WeeklySchedule {
        for &weekday in weekdays {
            self.days[weekday_index(weekday)] = day.clone();
        }
        self
    }

    pub fn day(&self, weekday: Weekday) -> &DaySchedule {
        &self.days[weekday_index(weekday)]
    }

    /// True when no weekday has any working time.
    pub fn is_closed(&self) -> bool {
        self.days.iter().all(DaySchedule::is_closed)
    }
}

fn weekday_index(weekday: Weekday) -> usize {
    // 0..=6 by construction of `Weekday`.
    weekday.to_monday_zero_offset().unsigned_abs() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(start: &str, end: &str) -> LocalInterval {
        LocalInterval::new(TimeOfDay::parse(start).unwrap(), TimeOfDay::parse(end).unwrap()).unwrap()
    }

    #[test]
    fn times_are_read_as_exactly_two_digit_hours_and_minutes() {
        assert_eq!(TimeOfDay::parse("09:30").unwrap().seconds(), 34_200);
        assert_eq!(TimeOfDay::parse("00:00").unwrap(), TimeOfDay::MIDNIGHT);
        assert_eq!(TimeOfDay::parse("24:00").unwrap(), TimeOfDay::END_OF_DAY);
        for bad in ["9:00", "09:00:00", "24:01", "25:00", "12:60", "ab:cd", "", "12-00"] {
            let error = TimeOfDay::parse(bad).unwrap_err();
            assert_eq!(error.code(), "invalid_time", "{bad}");
        }
    }

    #[test]
    fn a_time_displays_as_it_is_written() {
        assert_eq!(TimeOfDay::hm(7, 5).unwrap().to_string(), "07:05");
        assert_eq!(TimeOfDay::END_OF_DAY.to_string(), "24:00");
    }

    #[test]
    fn an_interval_must_start_before_it_ends() {
        let nine = TimeOfDay::hm(9, 0).unwrap();
        assert!(LocalInterval::new(nine, nine).is_err());
        let error = LocalInterval::new(TimeOfDay::END_OF_DAY, nine).unwrap_err();
        assert_eq!(error.reason(), "start 24:00 is not before end 09:00");
    }

    #[test]
    fn a_day_sorts_its_intervals_and_merges_touching_ones() {
        let day =
            DaySchedule::new([interval("13:00", "17:00"), interval("09:00", "12:00"), interval("12:00", "12:30")])
                .unwrap();
        assert_eq!(day.intervals(), &[interval("09:00", "12:30"), interval("13:00", "17:00")]);
    }

    #[test]
    fn overlapping_intervals_name_the_later_one_in_the_input() {
        let error = DaySchedule::new([interval("12:00", "13:00"), interval("12:30", "14:00")]).unwrap_err();
        assert_eq!(error.field(), "[1]");
        assert_eq!(error.reason(), "intervals overlap (12:00-13:00 and 12:30-14:00)");
    }

    #[test]
    fn an_overlap_after_a_merge_names_the_interval_that_reached_furthest() {
        let error =
            DaySchedule::new([interval("09:00", "10:00"), interval("10:00", "12:00"), interval("11:00", "11:30")])
                .unwrap_err();
        assert_eq!(error.field(), "[2]");
        assert_eq!(error.reason(), "intervals overlap (10:00-12:00 and 11:00-11:30)");
    }

    #[test]
    fn a_week_without_working_time_is_closed() {
        assert!(WeeklySchedule::closed().is_closed());
        let day = DaySchedule::new([LocalInterval::whole_day()]).unwrap();
        let week = WeeklySchedule::closed().with(Weekday::Sunday, day);
        assert!(!week.is_closed());
        assert!(week.day(Weekday::Monday).is_closed());
    }
}
