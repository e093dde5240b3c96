//! "Where time goes" as stacked bars, in calendar and business time: for one
//! case (from `case_time_split`) and for a scope's period (the mean per
//! solved case of the four wait metrics).

use super::charts::{ChartUnit, Segment, stacked_bar_svg};
use kept_core::metrics::{Part, PeriodData, TimeSplit, evaluate, metric};

/// The two bars; business time only where a calendar applies.
pub struct TimeBars {
    pub calendar: String,
    pub business: Option<String>,
}

/// (metric id, label, CSS class) in the order the bar shows them.
const PARTS: [(&str, &str, &str); 4] = [
    ("wait_us", "Waiting on us", "seg-us"),
    ("wait_team", "Waiting on another team", "seg-team"),
    ("wait_customer", "Waiting on the customer", "seg-customer"),
    ("wait_third", "Waiting on a third party", "seg-third"),
];

fn bar(title: &str, values: [Option<f64>; 4]) -> String {
    let segments: Vec<Segment> = PARTS
        .iter()
        .zip(values)
        .map(|((_, label, class), v)| Segment { label: (*label).to_owned(), value: v.unwrap_or(0.0), class })
        .collect();
    stacked_bar_svg(title, ChartUnit::Seconds, &segments)
}

/// A case's time so far (to its resolution, or now).
pub fn case_bars(split: &TimeSplit) -> TimeBars {
    let parts: [&Part; 4] = [&split.us, &split.team, &split.customer, &split.third];
    let calendar = parts.map(|p| Some(p.calendar as f64));
    let business = parts.iter().all(|p| p.business.is_some()).then(|| parts.map(|p| p.business.map(|b| b as f64)));
    TimeBars {
        calendar: bar("Where this case's time went, calendar time", calendar),
        business: business.map(|b| bar("Where this case's time went, business time", b)),
    }
}

/// A scope's period: mean time per solved case in each wait.
pub fn period_bars(total: &PeriodData) -> TimeBars {
    let values = |suffix: &str| {
        PARTS.map(|(id, _, _)| metric(&format!("{id}{suffix}")).and_then(|def| evaluate(def, total).value))
    };
    let business = values("_business");
    TimeBars {
        calendar: bar("Where time goes, mean per solved case, calendar time", values("")),
        business: business
            .iter()
            .any(Option::is_some)
            .then(|| bar("Where time goes, mean per solved case, business time", business)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_without_a_calendar_has_no_business_bar() {
        let part = |c: i64, b: Option<i64>| Part { calendar: c, business: b };
        let split = TimeSplit {
            us: part(3600, Some(1800)),
            team: part(0, Some(0)),
            customer: part(7200, Some(3600)),
            third: part(0, Some(0)),
            ..TimeSplit::default()
        };
        let bars = case_bars(&split);
        assert!(bars.calendar.contains("Waiting on us") && bars.calendar.contains("1 h"), "{}", bars.calendar);
        assert!(bars.business.is_some());
        let none = TimeSplit { us: part(60, None), ..split };
        assert!(case_bars(&none).business.is_none());
    }

    #[test]
    fn every_wait_metric_exists() {
        for (id, _, _) in PARTS {
            assert!(metric(id).is_some() && metric(&format!("{id}_business")).is_some(), "{id}");
        }
        assert!(period_bars(&PeriodData::default()).calendar.contains("Nothing recorded"));
    }
}
