//! Periods a scorecard can be asked for, and the two it is compared with.

use jiff::ToSpan;
use jiff::civil::Date;
use kept_core::FieldError;
use kept_core::metrics::day::{date_of, day_number};
use serde::{Deserialize, Serialize};

/// The longest custom period (ten years of days).
const MAX_DAYS: i32 = 3660;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// day, week (ISO, Monday first), month, quarter, year or custom (default month).
    pub period: Option<String>,
    /// A date inside the period (default today, in the organisation's zone).
    pub date: Option<String>,
    /// custom only: the first and last day, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Custom,
}

/// Local days `from..=to` (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub kind: Kind,
    pub from: i32,
    pub to: i32,
}

fn bad(field: &str, message: &str) -> FieldError {
    FieldError::new("invalid_value", field, message.to_owned())
}

fn parse_date(field: &str, raw: Option<&str>) -> Result<Option<Date>, FieldError> {
    raw.filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<Date>().map_err(|_| bad(field, "must be a date such as 2026-11-24")))
        .transpose()
}

fn quarter_start(d: Date) -> Date {
    Date::new(d.year(), ((d.month() - 1) / 3) * 3 + 1, 1).unwrap_or(d)
}

impl Period {
    pub fn resolve(q: &PeriodQuery, today: Date) -> Result<Self, FieldError> {
        let kind = match q.period.as_deref().map(str::trim).unwrap_or("month") {
            "day" => Kind::Day,
            "week" => Kind::Week,
            "month" => Kind::Month,
            "quarter" => Kind::Quarter,
            "year" => Kind::Year,
            "custom" => Kind::Custom,
            _ => return Err(bad("period", "must be one of: day, week, month, quarter, year, custom")),
        };
        let at = parse_date("date", q.date.as_deref())?.unwrap_or(today);
        if kind == Kind::Custom {
            let from =
                parse_date("from", q.from.as_deref())?.ok_or_else(|| bad("from", "required for a custom period"))?;
            let to = parse_date("to", q.to.as_deref())?.ok_or_else(|| bad("to", "required for a custom period"))?;
            let (f, t) = (day_number(from), day_number(to));
            if t < f {
                return Err(bad("to", "must not be before from"));
            }
            if t - f >= MAX_DAYS {
                return Err(bad("to", "a period is at most 3660 days"));
            }
            return Ok(Self { kind, from: f, to: t });
        }
        let (start, end) = Self::bounds(kind, at);
        Ok(Self { kind, from: day_number(start), to: day_number(end) })
    }

    fn bounds(kind: Kind, at: Date) -> (Date, Date) {
        let last = |start: Date, span: jiff::Span| start.checked_add(span).and_then(|d| d.yesterday()).unwrap_or(start);
        match kind {
            Kind::Day | Kind::Custom => (at, at),
            Kind::Week => {
                let start = at.checked_sub(i64::from(at.weekday().to_monday_zero_offset()).days()).unwrap_or(at);
                (start, start.checked_add(6.days()).unwrap_or(start))
            }
            Kind::Month => {
                let start = at.first_of_month();
                (start, at.last_of_month())
            }
            Kind::Quarter => {
                let start = quarter_start(at);
                (start, last(start, 3.months()))
            }
            Kind::Year => {
                let start = Date::new(at.year(), 1, 1).unwrap_or(at);
                (start, last(start, 1.year()))
            }
        }
    }

    pub fn days(&self) -> i32 {
        self.to - self.from + 1
    }

    /// The period before: the previous calendar unit, or as many days before.
    pub fn previous(&self) -> Self {
        match self.kind {
            Kind::Day | Kind::Week | Kind::Custom => {
                Self { kind: self.kind, from: self.from - self.days(), to: self.from - 1 }
            }
            kind => {
                let before = date_of(self.from).yesterday().unwrap_or(date_of(self.from));
                let (s, e) = Self::bounds(kind, before);
                Self { kind, from: day_number(s), to: day_number(e) }
            }
        }
    }

    /// The same dates one year earlier (29 February becomes the 28th).
    pub fn last_year(&self) -> Self {
        let back = |d: i32| {
            let date = date_of(d);
            let earlier = Date::new(date.year() - 1, date.month(), date.day())
                .or_else(|_| Date::new(date.year() - 1, date.month(), date.day() - 1))
                .unwrap_or(date);
            day_number(earlier)
        };
        match self.kind {
            Kind::Week => Self { kind: self.kind, from: self.from - 364, to: self.to - 364 },
            _ => Self { kind: self.kind, from: back(self.from), to: back(self.to) },
        }
    }

    pub fn label(&self) -> String {
        let (f, t) = (date_of(self.from), date_of(self.to));
        if self.from == self.to { f.to_string() } else { format!("{f} – {t}") }
    }

    pub fn first_date(&self) -> Date {
        date_of(self.from)
    }

    pub fn last_date(&self) -> Date {
        date_of(self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Weekday;

    fn q(period: &str, date: &str) -> PeriodQuery {
        PeriodQuery { period: Some(period.into()), date: Some(date.into()), from: None, to: None }
    }

    fn dates(p: Period) -> (String, String) {
        (p.first_date().to_string(), p.last_date().to_string())
    }

    #[test]
    fn calendar_periods_and_their_comparisons() {
        let today = Date::constant(2026, 11, 24);
        let m = Period::resolve(&q("month", "2026-03-15"), today).unwrap();
        assert_eq!(dates(m), ("2026-03-01".into(), "2026-03-31".into()));
        assert_eq!(dates(m.previous()), ("2026-02-01".into(), "2026-02-28".into()));
        assert_eq!(dates(m.last_year()), ("2025-03-01".into(), "2025-03-31".into()));
        let w = Period::resolve(&q("week", "2026-11-26"), today).unwrap();
        assert_eq!(dates(w), ("2026-11-23".into(), "2026-11-29".into()));
        assert_eq!(dates(w.previous()), ("2026-11-16".into(), "2026-11-22".into()));
        assert_eq!(w.last_year().first_date().weekday(), Weekday::Monday);
        let qr = Period::resolve(&q("quarter", "2026-11-24"), today).unwrap();
        assert_eq!(dates(qr), ("2026-10-01".into(), "2026-12-31".into()));
        assert_eq!(dates(qr.previous()), ("2026-07-01".into(), "2026-09-30".into()));
        let leap = Period::resolve(&q("day", "2028-02-29"), today).unwrap();
        assert_eq!(dates(leap.last_year()), ("2027-02-28".into(), "2027-02-28".into()));
        let d = Period::resolve(&PeriodQuery::default(), today).unwrap();
        assert_eq!(dates(d), ("2026-11-01".into(), "2026-11-30".into()));
    }

    #[test]
    fn custom_periods_are_checked() {
        let today = Date::constant(2026, 11, 24);
        let c = PeriodQuery {
            period: Some("custom".into()),
            date: None,
            from: Some("2026-01-01".into()),
            to: Some("2026-03-31".into()),
        };
        let p = Period::resolve(&c, today).unwrap();
        assert_eq!(p.days(), 90);
        assert_eq!(dates(p.previous()), ("2025-10-03".into(), "2025-12-31".into()));
        for (query, field) in [
            (PeriodQuery { to: None, ..c.clone() }, "to"),
            (PeriodQuery { from: Some("2026-04-01".into()), ..c.clone() }, "to"),
            (PeriodQuery { from: Some("yesterday".into()), ..c.clone() }, "from"),
            (PeriodQuery { period: Some("fortnight".into()), ..c.clone() }, "period"),
            (PeriodQuery { from: Some("2000-01-01".into()), ..c }, "to"),
        ] {
            assert_eq!(Period::resolve(&query, today).unwrap_err().field, field);
        }
    }
}
