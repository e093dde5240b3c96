//! The JSON form of a calendar, shared by the HTTP API and the CLI:
//!
//! ```json
//! {"time_zone": "America/New_York",
//!  "weekly": {"mon": [["09:00","17:00"]], "sun": []},
//!  "holidays": ["2024-11-28"],
//!  "overrides": {"2024-12-24": [["09:00","13:00"]]}}
//! ```
//!
//! Missing weekdays are closed; `holidays` and `overrides` are optional.
//! Unknown fields and unknown weekday keys are rejected, because a typo
//! (`"weekely"`, `"thur"`) would otherwise silently close days.
//!
//! Reading happens in two steps, each naming the field path of an error:
//! the shape (`CalendarSpec::from_value`: types, keys) and then the meaning
//! (`Calendar::from_spec`: zone, times, dates, overlaps). The shape is
//! checked by walking a `serde_json::Value` by hand rather than with
//! `#[derive(Deserialize)]`, because serde's errors do not say which field
//! failed; the `Deserialize` impl goes through the same walk, so there is
//! one reader.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::Calendar;
use super::error::CalendarError;
use super::schedule::{DaySchedule, LocalInterval, TimeOfDay, WeeklySchedule};

/// One interval as written: `["09:00", "17:00"]`.
pub type IntervalSpec = [String; 2];

/// The `weekly` object: one list of intervals per weekday key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WeeklySpec {
    pub mon: Vec<IntervalSpec>,
    pub tue: Vec<IntervalSpec>,
    pub wed: Vec<IntervalSpec>,
    pub thu: Vec<IntervalSpec>,
    pub fri: Vec<IntervalSpec>,
    pub sat: Vec<IntervalSpec>,
    pub sun: Vec<IntervalSpec>,
}

/// A calendar as written in JSON; not yet checked for meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CalendarSpec {
    pub time_zone: String,
    pub weekly: WeeklySpec,
    pub holidays: Vec<String>,
    pub overrides: BTreeMap<String, Vec<IntervalSpec>>,
}

const WEEKDAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const TOP_LEVEL_KEYS: [&str; 4] = ["time_zone", "weekly", "holidays", "overrides"];

impl WeeklySpec {
    /// The seven lists in ISO order, Monday first, with their keys.
    fn days(&self) -> [(&'static str, &Vec<IntervalSpec>); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }

    fn day_mut(&mut self, key: &str) -> Option<&mut Vec<IntervalSpec>> {
        match key {
            "mon" => Some(&mut self.mon),
            "tue" => Some(&mut self.tue),
            "wed" => Some(&mut self.wed),
            "thu" => Some(&mut self.thu),
            "fri" => Some(&mut self.fri),
            "sat" => Some(&mut self.sat),
            "sun" => Some(&mut self.sun),
            _ => None,
        }
    }
}

impl CalendarSpec {
    /// Reads the shape of a calendar from JSON text.
    pub fn from_json(text: &str) -> Result<CalendarSpec, CalendarError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| CalendarError::malformed("", format!("not valid JSON: {error}")))?;
        CalendarSpec::from_value(&value)
    }

    /// Reads the shape of a calendar from a parsed JSON value.
    pub fn from_value(value: &Value) -> Result<CalendarSpec, CalendarError> {
        let root = object(value, "")?;
        reject_unknown_keys(root, &TOP_LEVEL_KEYS, "", "field")?;
        let time_zone = string(required(root, "time_zone")?, "time_zone")?;
        let weekly = weekly(required(root, "weekly")?)?;
        let holidays = match optional(root, "holidays") {
            None => Vec::new(),
            Some(list) => array(list, "holidays")?
                .iter()
                .enumerate()
                .map(|(index, item)| string(item, &format!("holidays[{index}]")))
                .collect::<Result<_, _>>()?,
        };
        let mut overrides = BTreeMap::new();
        if let Some(map) = optional(root, "overrides") {
            for (date, day) in object(map, "overrides")? {
                overrides.insert(date.clone(), intervals(day, &format!("overrides.{date}"))?);
            }
        }
        Ok(CalendarSpec { time_zone, weekly, holidays, overrides })
    }
}

fn weekly(value: &Value) -> Result<WeeklySpec, CalendarError> {
    let mut weekly = WeeklySpec::default();
    let days = object(value, "weekly")?;
    reject_unknown_keys(days, &WEEKDAY_KEYS, "weekly", "weekday")?;
    for (key, day) in days {
        if let Some(slot) = weekly.day_mut(key) {
            *slot = intervals(day, &format!("weekly.{key}"))?;
        }
    }
    Ok(weekly)
}

fn intervals(value: &Value, field: &str) -> Result<Vec<IntervalSpec>, CalendarError> {
    let expected = "expected an interval [\"HH:MM\", \"HH:MM\"]";
    let mut out = Vec::new();
    for (index, item) in array(value, field)?.iter().enumerate() {
        let pair = match item.as_array().map(Vec::as_slice) {
            Some([Value::String(start), Value::String(end)]) => [start.clone(), end.clone()],
            _ => {
                return Err(CalendarError::malformed(format!("{field}[{index}]"), expected));
            }
        };
        out.push(pair);
    }
    Ok(out)
}

fn object<'v>(value: &'v Value, field: &str) -> Result<&'v Map<String, Value>, CalendarError> {
    value.as_object().ok_or_else(|| CalendarError::malformed(field, "expected an object"))
}

fn array<'v>(value: &'v Value, field: &str) -> Result<&'v Vec<Value>, CalendarError> {
    value.as_array().ok_or_else(|| CalendarError::malformed(field, "expected an array"))
}

fn string(value: &Value, field: &str) -> Result<String, CalendarError> {
    value.as_str().map(str::to_owned).ok_or_else(|| CalendarError::malformed(field, "expected a string"))
}

fn required<'v>(object: &'v Map<String, Value>, key: &str) -> Result<&'v Value, CalendarError> {
    object.get(key).ok_or_else(|| CalendarError::malformed(key, "missing"))
}

/// An optional field; `null` counts as absent.
fn optional<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).filter(|value| !value.is_null())
}

fn reject_unknown_keys(
    object: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
    what: &str,
) -> Result<(), CalendarError> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        None => Ok(()),
        Some(key) => Err(CalendarError::malformed(
            key.as_str(),
            format!("unknown {what} (expected one of {})", allowed.join(", ")),
        )
        .within(path)),
    }
}

impl Calendar {
    /// Checks the meaning of a spec and builds the calendar. Errors name the
    /// field path, e.g. `weekly.mon[1]`, `holidays[2]`, `overrides.2024-13-01`.
    pub fn from_spec(spec: &CalendarSpec) -> Result<Calendar, CalendarError> {
        let mut calendar = Calendar::new(&spec.time_zone, WeeklySchedule::closed())?;
        for (weekday, (key, list)) in Calendar::WEEKDAYS.into_iter().zip(spec.weekly.days()) {
            let day = day_schedule(list).map_err(|e| e.within(&format!("weekly.{key}")))?;
            calendar.weekly = calendar.weekly.with(weekday, day);
        }
        for (index, text) in spec.holidays.iter().enumerate() {
            let date = parse_date(text).map_err(|e| e.within(&format!("holidays[{index}]")))?;
            calendar.holidays.insert(date);
        }
        for (key, list) in &spec.overrides {
            let field = format!("overrides.{key}");
            let date = parse_date(key).map_err(|e| e.within(&field))?;
            let day = day_schedule(list).map_err(|e| e.within(&field))?;
            calendar.overrides.insert(date, day);
        }
        Ok(calendar)
    }

    /// Reads a calendar from its JSON form (see the module docs).
    pub fn from_json(text: &str) -> Result<Calendar, CalendarError> {
        Calendar::from_spec(&CalendarSpec::from_json(text)?)
    }

    /// The JSON form of this calendar. Reading it back gives an equal
    /// calendar; it is canonical (all seven weekdays, touching intervals
    /// merged, dates sorted), so it may differ in form from the spec the
    /// calendar was read from.
    pub fn to_spec(&self) -> CalendarSpec {
        let mut weekly = WeeklySpec::default();
        for (weekday, key) in Calendar::WEEKDAYS.into_iter().zip(WEEKDAY_KEYS) {
            if let Some(slot) = weekly.day_mut(key) {
                *slot = interval_specs(self.weekly.day(weekday));
            }
        }
        CalendarSpec {
            time_zone: self.time_zone_name.clone(),
            weekly,
            holidays: self.holidays.iter().copied().map(format_date).collect(),
            overrides: self.overrides.iter().map(|(&date, day)| (format_date(date), interval_specs(day))).collect(),
        }
    }
}

fn day_schedule(list: &[IntervalSpec]) -> Result<DaySchedule, CalendarError> {
    let mut intervals = Vec::with_capacity(list.len());
    for (index, [start, end]) in list.iter().enumerate() {
        let start_time = TimeOfDay::parse(start).map_err(|e| e.within(&format!("[{index}][0]")))?;
        if start_time == TimeOfDay::END_OF_DAY {
            return Err(CalendarError::InvalidTime {
                field: format!("[{index}][0]"),
                value: start.clone(),
                problem: "is only valid as the end of an interval",
            });
        }
        let end_time = TimeOfDay::parse(end).map_err(|e| e.within(&format!("[{index}][1]")))?;
        let interval = LocalInterval::new(start_time, end_time).map_err(|e| e.within(&format!("[{index}]")))?;
        intervals.push(interval);
    }
    DaySchedule::new(intervals)
}

fn interval_specs(day: &DaySchedule) -> Vec<IntervalSpec> {
    day.intervals().iter().map(|interval| [interval.start().to_string(), interval.end().to_string()]).collect()
}

/// Parses exactly `YYYY-MM-DD` (an existing date). Other ISO 8601 forms
/// (`20241128`, `2024-W48-4`) are rejected: one spelling per date keeps
/// override keys unique.
pub(crate) fn parse_date(text: &str) -> Result<Date, CalendarError> {
    parse_date_parts(text).ok_or_else(|| CalendarError::InvalidDate { field: String::new(), value: text.to_owned() })
}

fn parse_date_parts(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i16 = digits(&text[0..4])?;
    let month: i8 = digits(&text[5..7])?;
    let day: i8 = digits(&text[8..10])?;
    Date::new(year, month, day).ok()
}

fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    // `parse` alone would accept a sign.
    if text.bytes().all(|byte| byte.is_ascii_digit()) { text.parse().ok() } else { None }
}

pub(crate) fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

impl<'de> Deserialize<'de> for CalendarSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CalendarSpec, D::Error> {
        let value = Value::deserialize(deserializer)?;
        CalendarSpec::from_value(&value).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Calendar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_spec().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Calendar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Calendar, D::Error> {
        let spec = CalendarSpec::deserialize(deserializer)?;
        Calendar::from_spec(&spec).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
