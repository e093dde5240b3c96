//! Business calendars: working windows in a time zone, holidays and overrides,
//! and the business-time arithmetic of METRICS.md §2.2.
//!
//! What belongs here: the `Calendar` value (valid by construction), its JSON
//! form (`spec`), the conversion of local working hours to UTC windows
//! (`windows`), business durations and deadlines (`arithmetic`), and holiday
//! import from iCalendar and CSV (`holidays`). What does not: where
//! calendars are stored, which promise uses which calendar (D-15), and any
//! clock read: every instant is an argument.
//!
//! Decisions beyond METRICS.md, each documented where it is implemented:
//! - A date override wins over a holiday on the same date. The override is
//!   the more specific statement ("open 10-14 on this public holiday"),
//!   while holidays are often imported in bulk.
//! - The arithmetic works in milliseconds, the precision kept stores
//!   instants in; the seconds API truncates its inputs to whole seconds
//!   first, so that additivity holds exactly in both units.
//! - Business time is antisymmetric: `business_seconds(b, a)` is
//!   `-business_seconds(a, b)`, and a negative amount makes `add_business`
//!   walk backwards.
//! - `add_business` gives up (`None`) after ten years without any working
//!   time, so a calendar that is closed for good cannot loop.

mod arithmetic;
mod error;
mod holidays;
mod schedule;
mod spec;
mod windows;

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

pub use arithmetic::{
    add_business, add_business_millis, business_millis, business_seconds, business_windows, is_business_time,
    next_business_start,
};
pub use error::CalendarError;
pub use holidays::{HolidayImportError, holidays_from_csv, holidays_from_ics};
pub use schedule::{DaySchedule, LocalInterval, TimeOfDay, WeeklySchedule};
pub use spec::{CalendarSpec, IntervalSpec, WeeklySpec};

/// A business calendar: an IANA time zone, a weekly schedule of local
/// working intervals, holidays (local dates closed all day) and date
/// overrides (a date with its own intervals, possibly none).
///
/// On a given date the schedule is: the override if there is one, else
/// closed if the date is a holiday, else the weekly schedule of its weekday.
#[derive(Clone, Debug)]
pub struct Calendar {
    time_zone: TimeZone,
    time_zone_name: String,
    weekly: WeeklySchedule,
    holidays: BTreeSet<Date>,
    overrides: BTreeMap<Date, DaySchedule>,
}

impl Calendar {
    /// A calendar in the IANA zone `time_zone` (e.g. "America/New_York"),
    /// without holidays or overrides. The zone name is stored in its
    /// canonical spelling ("america/new_york" becomes "America/New_York").
    pub fn new(time_zone: &str, weekly: WeeklySchedule) -> Result<Calendar, CalendarError> {
        let unknown = || CalendarError::UnknownTimeZone { field: "time_zone".to_owned(), name: time_zone.to_owned() };
        let zone = TimeZone::get(time_zone).map_err(|_| unknown())?;
        let time_zone_name = zone.iana_name().ok_or_else(unknown)?.to_owned();
        Ok(Calendar { time_zone: zone, time_zone_name, weekly, holidays: BTreeSet::new(), overrides: BTreeMap::new() })
    }

    /// The same calendar with `dates` added to its holidays.
    pub fn with_holidays(mut self, dates: impl IntoIterator<Item = Date>) -> Calendar {
        self.holidays.extend(dates);
        self
    }

    /// The same calendar with `date` following `day` instead of its weekday
    /// (or its holiday). A closed `day` closes the date.
    pub fn with_override(mut self, date: Date, day: DaySchedule) -> Calendar {
        self.overrides.insert(date, day);
        self
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The canonical IANA name of the time zone.
    pub fn time_zone_name(&self) -> &str {
        &self.time_zone_name
    }

    pub fn weekly(&self) -> &WeeklySchedule {
        &self.weekly
    }

    pub fn holidays(&self) -> &BTreeSet<Date> {
        &self.holidays
    }

    pub fn overrides(&self) -> &BTreeMap<Date, DaySchedule> {
        &self.overrides
    }

    /// The local working intervals of `date`: its override, else nothing on
    /// a holiday, else its weekday's schedule.
    pub fn schedule_on(&self, date: Date) -> &DaySchedule {
        static CLOSED: DaySchedule = DaySchedule::CLOSED;
        if let Some(day) = self.overrides.get(&date) {
            day
        } else if self.holidays.contains(&date) {
            &CLOSED
        } else {
            self.weekly.day(date.weekday())
        }
    }

    /// True when no date after `date` can have working time: the week is
    /// closed and no override lies beyond. Lets a walk stop early.
    pub(crate) fn closed_after(&self, date: Date) -> bool {
        self.weekly.is_closed() && self.overrides.range(date..).all(|(_, day)| day.is_closed())
    }

    /// Mirror of [`Calendar::closed_after`] for walks back in time.
    pub(crate) fn closed_before(&self, date: Date) -> bool {
        self.weekly.is_closed() && self.overrides.range(..=date).all(|(_, day)| day.is_closed())
    }

    /// The weekdays in ISO order, for code that walks the whole week.
    pub(crate) const WEEKDAYS: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
}

/// Two calendars are equal when they have the same zone and the same
/// schedules; `TimeZone` itself is compared by its canonical name.
impl PartialEq for Calendar {
    fn eq(&self, other: &Calendar) -> bool {
        self.time_zone_name == other.time_zone_name
            && self.weekly == other.weekly
            && self.holidays == other.holidays
            && self.overrides == other.overrides
    }
}

impl Eq for Calendar {}
