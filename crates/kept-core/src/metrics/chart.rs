//! Control charts of a metric over a period's days or weeks (§6): a
//! p-chart for proportions, an XmR chart for everything else (daily
//! medians, means, counts), with the Western Electric signals.

use super::catalogue::MetricDef;
use super::evaluate::Value;
use crate::stats::Tally;
use crate::stats::spc::{BASELINE_DEFAULT, BASELINE_MIN, Rule, RuleSet, Side, XmrLimits, p_chart};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChartPoint {
    pub value: Option<f64>,
    pub n: u64,
    pub ucl: Option<f64>,
    pub lcl: Option<f64>,
    /// Rules that fired at this point, e.g. "WE1 below".
    pub signals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Control {
    /// "p" or "xmr"; "none" when there are too few points for limits.
    pub kind: &'static str,
    pub centre: Option<f64>,
    pub points: Vec<ChartPoint>,
}

fn rule_name(rule: Rule, side: Side) -> String {
    let r = match rule {
        Rule::We1 => "WE1 beyond the limit",
        Rule::We2 => "WE2 two of three beyond 2σ",
        Rule::We3 => "WE3 four of five beyond 1σ",
        Rule::We4 => "WE4 run of 8 on one side",
    };
    let s = match side {
        Side::Above => "above",
        Side::Below => "below",
    };
    format!("{r} ({s})")
}

/// The chart of `series` (one value per period, in order) under `rules`.
pub fn control(def: &MetricDef, series: &[Value], rules: &RuleSet) -> Control {
    let mut points: Vec<ChartPoint> = series
        .iter()
        .map(|v| ChartPoint { value: v.value, n: v.n, ucl: None, lcl: None, signals: Vec::new() })
        .collect();
    // Periods with no data are gaps, not points.
    let present: Vec<usize> = (0..series.len()).filter(|i| series[*i].value.is_some()).collect();
    if def.proportion {
        let tallies: Vec<Tally> =
            present.iter().filter_map(|i| Tally::new(series[*i].k.unwrap_or(0), series[*i].n).ok()).collect();
        if tallies.len() != present.len() {
            return Control { kind: "none", centre: None, points };
        }
        if let Ok(Some(chart)) = p_chart(&tallies) {
            for (pt, i) in chart.points.iter().zip(&present) {
                points[*i].ucl = Some(pt.ucl);
                points[*i].lcl = Some(pt.lcl);
            }
            for s in chart.signals(rules) {
                points[present[s.index]].signals.push(rule_name(s.rule, s.side));
            }
            return Control { kind: "p", centre: Some(chart.center), points };
        }
        return Control { kind: "none", centre: None, points };
    }
    let values: Vec<f64> = present.iter().filter_map(|i| series[*i].value).collect();
    if values.len() < BASELINE_MIN {
        return Control { kind: "none", centre: None, points };
    }
    let baseline = &values[..values.len().min(BASELINE_DEFAULT)];
    let Ok(limits) = XmrLimits::from_baseline(baseline) else { return Control { kind: "none", centre: None, points } };
    for i in &present {
        points[*i].ucl = Some(limits.unpl);
        points[*i].lcl = Some(limits.lnpl);
    }
    for s in limits.signals(&values, rules) {
        points[present[s.index]].signals.push(rule_name(s.rule, s.side));
    }
    Control { kind: "xmr", centre: Some(limits.center), points }
}
