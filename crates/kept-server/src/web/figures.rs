//! How the numbers of management by fact are written on pages: each unit in
//! its own way (percentages, durations, scores, NPS points, counts, money),
//! changes with their sign, intervals, targets and the RAG class a cell
//! wears. Pure functions; the pages only call them.

use super::charts::{ChartUnit, format_value};
use kept_core::metrics::{Change, Unit};
use kept_core::stats::Interval;
use kept_store::TargetView;

/// The chart unit a metric is drawn in.
pub fn chart_unit(unit: Unit) -> ChartUnit {
    match unit {
        Unit::Percent => ChartUnit::Percent,
        Unit::Seconds => ChartUnit::Seconds,
        _ => ChartUnit::Number,
    }
}

/// A value as charts take it: money in whole currency units, not cents.
pub fn chart_value(unit: Unit, v: f64) -> f64 {
    if unit == Unit::Cents { v / 100.0 } else { v }
}

/// Cents as money with two decimals and thousands separated: "1,234.50".
fn money(cents: f64) -> String {
    let sign = if cents < 0.0 { "-" } else { "" };
    let whole = cents.abs().round() / 100.0;
    let text = format!("{whole:.2}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// A value in its unit; "—" when there is none.
pub fn show(unit: Unit, value: Option<f64>) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else { return "—".to_owned() };
    match unit {
        Unit::Percent => format_value(v, ChartUnit::Percent),
        Unit::Seconds => format_value(v, ChartUnit::Seconds),
        Unit::Count => format!("{v:.0}"),
        Unit::Cents => money(v),
        Unit::Score | Unit::Points | Unit::Ratio => format_value(v, ChartUnit::Number),
    }
}

/// The interval around a value: "88.1 % – 93.4 %".
pub fn show_interval(unit: Unit, interval: Option<Interval>) -> Option<String> {
    let i = interval.filter(|i| i.lower.is_finite() && i.upper.is_finite())?;
    Some(format!("{} – {}", show(unit, Some(i.lower)), show(unit, Some(i.upper))))
}

/// A difference with its sign: "+2.3 pp", "-5 min", "+0.12".
pub fn show_delta(unit: Unit, delta: f64) -> String {
    if !delta.is_finite() {
        return "—".to_owned();
    }
    let body = match unit {
        Unit::Percent => format!("{} pp", format_value(delta.abs() * 100.0, ChartUnit::Number)),
        _ => show(unit, Some(delta.abs())),
    };
    let zero = body.trim_start_matches(['0', '.', ',']).chars().next().is_none_or(|c| !c.is_ascii_digit());
    match () {
        _ if zero => body,
        _ if delta > 0.0 => format!("+{body}"),
        _ if delta < 0.0 => format!("-{body}"),
        _ => body,
    }
}

/// What each significance test is, for the marker's title.
pub fn test_name(test: &str) -> &'static str {
    match test {
        "newcombe" => "Newcombe's interval for a difference of two proportions",
        "nps_z" => "a z test on the difference of two NPS scores",
        "welch" => "Welch's t test on the difference of two means",
        _ => "a significance test",
    }
}

/// A comparison with an earlier period, ready for a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeView {
    /// "+2.3 pp (+2.8 %)".
    pub text: String,
    /// "better", "worse" or "same", for the class of the cell.
    pub trend: &'static str,
    /// Some(true) significant, Some(false) not, None when no test applies.
    pub significant: Option<bool>,
    /// Names the test and its p-value.
    pub title: String,
}

pub fn change_view(unit: Unit, direction: &str, change: &Change) -> Option<ChangeView> {
    let delta = change.delta.filter(|d| d.is_finite())?;
    let mut text = show_delta(unit, delta);
    if let Some(r) = change.relative.filter(|r| r.is_finite()) {
        let pct = format_value(r.abs() * 100.0, ChartUnit::Number);
        let sign = if r > 0.0 && pct != "0" {
            "+"
        } else if r < 0.0 && pct != "0" {
            "-"
        } else {
            ""
        };
        text.push_str(&format!(" ({sign}{pct} %)"));
    }
    let higher = direction != "lower_is_better";
    let trend = match delta.partial_cmp(&0.0) {
        Some(std::cmp::Ordering::Greater) if higher => "better",
        Some(std::cmp::Ordering::Less) if !higher => "better",
        Some(std::cmp::Ordering::Equal) | None => "same",
        _ => "worse",
    };
    let title = match (change.test, change.significant) {
        (Some(test), Some(sig)) => {
            let p = change.p_value.map(|p| format!(", p = {p:.3}")).unwrap_or_default();
            let verdict = if sig { "Significant at 95 %" } else { "Not significant at 95 %" };
            format!("{verdict}: {}{p}", test_name(test))
        }
        _ => "No significance test for this metric or sample".to_owned(),
    };
    Some(ChangeView { text, trend, significant: change.significant.filter(|_| change.test.is_some()), title })
}

/// The status a cell shows: a small sample is never red or green (D-8),
/// whatever minimum sample the target was given.
pub fn shown_status(status: Option<&'static str>, small_sample: bool) -> Option<&'static str> {
    status.map(|s| if small_sample { "grey" } else { s })
}

/// The words that go with a status, so colour is never the only key.
pub fn status_label(status: &str, has_value: bool) -> &'static str {
    match status {
        "green" => "on target",
        "amber" => "near target",
        "red" => "off target",
        _ if !has_value => "no data",
        _ => "too few to judge",
    }
}

/// A value in millionths of the metric's stored unit, as a number.
fn micros(m: i64) -> f64 {
    m as f64 / 1_000_000.0
}

/// A target's figure: as `show`, but percentages as written ("85 %", not "85.0 %").
fn show_target(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Percent => format!("{} %", format_value(v * 100.0, ChartUnit::Number)),
        _ => show(unit, Some(v)),
    }
}

/// The target as a sentence fragment: "≥ 85 % (amber from 82 %)".
pub fn target_text(unit: Unit, t: &TargetView) -> String {
    let higher = t.direction != "lower_is_better";
    let goal = micros(t.target_micros);
    let mut out = format!("{} {}", if higher { "≥" } else { "≤" }, show_target(unit, goal));
    if t.amber_micros > 0 {
        let edge = if higher { goal - micros(t.amber_micros) } else { goal + micros(t.amber_micros) };
        out.push_str(&format!(" (amber to {})", show_target(unit, edge)));
    }
    out
}

/// The target's value as charts take it.
pub fn target_value(unit: Unit, t: &TargetView) -> f64 {
    chart_value(unit, micros(t.target_micros))
}

/// A unit named for a table's header or a catalogue.
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Percent => "percent",
        Unit::Seconds => "duration",
        Unit::Score => "score",
        Unit::Points => "NPS points",
        Unit::Count => "count",
        Unit::Ratio => "ratio",
        Unit::Cents => "money",
    }
}

pub fn direction_label(direction: &str) -> &'static str {
    if direction == "lower_is_better" { "lower is better" } else { "higher is better" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_is_written_its_own_way() {
        assert_eq!(show(Unit::Percent, Some(0.9123)), "91.2 %");
        assert_eq!(show(Unit::Seconds, Some(5400.0)), "1.5 h");
        assert_eq!(show(Unit::Score, Some(4.256)), "4.26");
        assert_eq!(show(Unit::Points, Some(-12.5)), "-12.5");
        assert_eq!(show(Unit::Count, Some(42.0)), "42");
        assert_eq!(show(Unit::Cents, Some(123_456_789.0)), "1,234,567.89");
        assert_eq!(show(Unit::Cents, Some(-5.0)), "-0.05");
        assert_eq!(show(Unit::Ratio, None), "—");
        assert_eq!(show(Unit::Ratio, Some(f64::NAN)), "—");
    }

    #[test]
    fn changes_carry_their_sign_and_direction() {
        assert_eq!(show_delta(Unit::Percent, 0.023), "+2.3 pp");
        assert_eq!(show_delta(Unit::Seconds, -300.0), "-5 min");
        assert_eq!(show_delta(Unit::Count, 0.0), "0");
        let c = Change {
            delta: Some(-0.05),
            relative: Some(-0.0625),
            test: Some("newcombe"),
            significant: Some(true),
            p_value: Some(0.01),
            interval: None,
        };
        let v = change_view(Unit::Percent, "higher_is_better", &c).unwrap();
        assert_eq!((v.text.as_str(), v.trend, v.significant), ("-5 pp (-6.25 %)", "worse", Some(true)));
        assert!(v.title.contains("Newcombe") && v.title.contains("p = 0.010"), "{}", v.title);
        let v = change_view(Unit::Seconds, "lower_is_better", &Change { delta: Some(-60.0), ..Change::default() });
        assert_eq!(v.map(|v| (v.trend, v.significant)), Some(("better", None)));
        assert!(change_view(Unit::Count, "higher_is_better", &Change::default()).is_none());
    }

    #[test]
    fn a_small_sample_is_never_red_or_green() {
        assert_eq!(shown_status(Some("red"), true), Some("grey"));
        assert_eq!(shown_status(Some("green"), true), Some("grey"));
        assert_eq!(shown_status(Some("red"), false), Some("red"));
        assert_eq!(shown_status(None, true), None);
    }

    #[test]
    fn targets_read_with_their_direction_and_amber_band() {
        let t = TargetView {
            id: 1,
            metric: "csat".into(),
            scope: "org".into(),
            scope_key: String::new(),
            direction: "higher_is_better".into(),
            target: "85".into(),
            amber: "3".into(),
            target_micros: 850_000,
            amber_micros: 30_000,
            min_sample: 30,
            effective_from: "2026-01-01".into(),
            effective_to: None,
        };
        assert_eq!(target_text(Unit::Percent, &t), "≥ 85 % (amber to 82 %)");
        let frt = TargetView {
            direction: "lower_is_better".into(),
            target_micros: 3_600_000_000,
            amber_micros: 0,
            ..t.clone()
        };
        assert_eq!(target_text(Unit::Seconds, &frt), "≤ 1 h");
        let cost = TargetView { target_micros: 2_500_000_000, amber_micros: 0, ..frt };
        assert_eq!(target_value(Unit::Cents, &cost), 25.0);
    }
}
