//! Days in the organisation's time zone, the grain of every rollup.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// Days since 1970-01-01 of the local date of `t` in `zone`.
pub fn day_of(t: Timestamp, zone: &TimeZone) -> i32 {
    day_number(zone.to_datetime(t).date())
}

/// Days since 1970-01-01 of a date.
pub fn day_number(date: Date) -> i32 {
    let days = TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .map(|t| t.as_second().div_euclid(86_400))
        .unwrap_or(0);
    days as i32
}

/// The date `day` stands for.
pub fn date_of(day: i32) -> Date {
    Timestamp::from_second(i64::from(day) * 86_400)
        .map(|t| TimeZone::UTC.to_datetime(t).date())
        .unwrap_or(Date::constant(1970, 1, 1))
}

/// The instant a local day begins (the first instant of that date, D-16 for gaps).
pub fn day_start(day: i32, zone: &TimeZone) -> Timestamp {
    zone.to_timestamp(date_of(day).to_datetime(jiff::civil::Time::midnight())).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_local() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let t: Timestamp = "2024-06-04T02:00:00Z".parse().unwrap(); // 22:00 on the 3rd in New York
        assert_eq!(date_of(day_of(t, &ny)), Date::constant(2024, 6, 3));
        assert_eq!(date_of(day_of(t, &TimeZone::UTC)), Date::constant(2024, 6, 4));
        assert_eq!(day_number(Date::constant(1970, 1, 2)), 1);
        assert_eq!(day_number(Date::constant(1969, 12, 31)), -1);
        assert_eq!(day_start(day_of(t, &ny), &ny), "2024-06-03T04:00:00Z".parse().unwrap());
    }
}
