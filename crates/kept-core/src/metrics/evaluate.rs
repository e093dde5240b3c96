//! From summed rollups to the numbers on a scorecard: values, intervals,
//! comparisons between periods (§1.5) and RAG against a target (§5.4).

use super::catalogue::{Formula, MetricDef, Stat, Unit};
use super::hist::Hist;
use super::measure::Measure;
use crate::stats::{
    CesCounts, CsatCounts, Direction, Interval, MeanEstimate, Nps, NpsCounts, Rag, Tally, ces, compare_nps, csat,
    newcombe, nps, two_proportion_z, two_sided_p, welch_statistic, wilson,
};
use std::collections::BTreeMap;

/// A measure summed over the days of a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agg {
    pub n: i64,
    pub total: i64,
    pub hist: Hist,
}

impl Agg {
    pub fn add(&mut self, n: i64, total: i64, hist: Option<&Hist>) {
        self.n += n;
        self.total += total;
        if let Some(h) = hist {
            self.hist.merge(h, 1);
        }
    }
}

/// Everything one period's numbers are computed from.
#[derive(Debug, Clone, Default)]
pub struct PeriodData {
    pub measures: BTreeMap<Measure, Agg>,
    /// Backlog and actionable backlog at the period's end.
    pub backlog: Option<(i64, i64)>,
    /// Costs entered for the period, in cents (pro rata).
    pub cost_cents: Option<i64>,
    /// Accounts active in the previous period, and of those, in this one.
    pub retention: Option<(u64, u64)>,
    /// Ages of the cases open now, when the period reaches today.
    pub backlog_ages: Option<BacklogAges>,
}

/// How old the open cases are: their number and the median and p90 (type 7)
/// of their ages in seconds, computed exactly by the store.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BacklogAges {
    pub n: u64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl PeriodData {
    pub fn get(&self, m: Measure) -> Agg {
        self.measures.get(&m).cloned().unwrap_or_default()
    }
}

/// One metric's value for one period. `exact` is the value as an exact
/// fraction where it has one (proportions, means, ratios), for targets (D-3).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Value {
    pub value: Option<f64>,
    /// The sample size (answers, cases, promises) behind the value.
    pub n: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    #[serde(skip)]
    pub exact: Option<(i128, i128)>,
    #[serde(skip)]
    pub nps: Option<Nps>,
    #[serde(skip)]
    pub mean: Option<MeanEstimate>,
}

fn tally(k: i64, n: i64) -> Option<Tally> {
    Tally::new(u64::try_from(k).ok()?, u64::try_from(n).ok()?).ok()
}

fn share(k: i64, n: i64) -> Value {
    let t = tally(k, n);
    Value {
        value: t.and_then(Tally::rate),
        n: n.max(0) as u64,
        k: Some(k.max(0) as u64),
        interval: t.and_then(wilson),
        exact: (n > 0).then_some((i128::from(k), i128::from(n))),
        ..Value::default()
    }
}

fn counts<const N: usize>(h: &Hist, first: i64) -> [u64; N] {
    let mut out = [0u64; N];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = h.count_of(first + i as i64).max(0) as u64;
    }
    out
}

fn mean_of(measure: Measure, agg: &Agg) -> Option<MeanEstimate> {
    match measure {
        Measure::Ces => CesCounts::new(counts::<7>(&agg.hist, 1)).ok().and_then(|c| ces(&c)).map(|c| c.mean),
        _ => CsatCounts::new(counts::<5>(&agg.hist, 1)).ok().and_then(|c| csat(&c)).map(|c| c.mean),
    }
}

fn nps_of(agg: &Agg) -> Option<Nps> {
    NpsCounts::from_scores(counts::<11>(&agg.hist, 0)).ok().and_then(|c| nps(&c))
}

/// The metric's value for a period.
pub fn evaluate(def: &MetricDef, data: &PeriodData) -> Value {
    match def.formula {
        Formula::Share(m) => {
            let a = data.get(m);
            share(a.total, a.n)
        }
        Formula::AllPromises => {
            let (mut k, mut n) = (0, 0);
            for kind in crate::promises::ClockKind::ALL {
                let a = data.get(Measure::promise(*kind));
                k += a.total;
                n += a.n;
            }
            share(k, n)
        }
        Formula::ScoresAtLeast(m, min) => {
            let a = data.get(m);
            share(a.hist.count_at_least(min), a.hist.count())
        }
        Formula::MeanScore(m) => {
            let a = data.get(m);
            let mean = mean_of(m, &a);
            Value {
                value: mean.map(|e| e.mean),
                n: a.n.max(0) as u64,
                interval: mean.and_then(|e| e.spread).map(|s| s.ci),
                exact: (a.n > 0).then_some((i128::from(a.total), i128::from(a.n))),
                mean,
                ..Value::default()
            }
        }
        Formula::Nps => {
            let a = data.get(Measure::Nps);
            let score = nps_of(&a);
            Value {
                value: score.map(|s| s.nps),
                n: a.n.max(0) as u64,
                interval: score.map(|s| s.ci),
                exact: score.map(|_| {
                    let (p, d) = (a.hist.count_at_least(9), a.hist.count_at_least(0) - a.hist.count_at_least(7));
                    (100 * i128::from(p - d), i128::from(a.n))
                }),
                nps: score,
                ..Value::default()
            }
        }
        Formula::Duration(m, stat) => {
            let a = data.get(m);
            let value = match stat {
                Stat::Median => a.hist.quantile(0.5),
                Stat::P90 => a.hist.quantile(0.9),
                Stat::Mean => (a.n > 0).then(|| a.total as f64 / a.n as f64),
            };
            let exact = match stat {
                Stat::Mean => (a.n > 0).then_some((i128::from(a.total), i128::from(a.n))),
                _ => value.map(|v| ((v * 1000.0).round() as i128, 1000)),
            };
            Value { value, n: a.n.max(0) as u64, exact, ..Value::default() }
        }
        Formula::Volume(m) => {
            let n = data.get(m).n;
            Value { value: Some(n as f64), n: n.max(0) as u64, exact: Some((i128::from(n), 1)), ..Value::default() }
        }
        Formula::Backlog { actionable } => match data.backlog {
            Some((all, act)) => {
                let b = if actionable { act } else { all };
                Value { value: Some(b as f64), n: b.max(0) as u64, exact: Some((i128::from(b), 1)), ..Value::default() }
            }
            None => Value::default(),
        },
        Formula::PerCase(m) => {
            let a = data.get(m);
            Value {
                value: (a.n > 0).then(|| a.total as f64 / a.n as f64),
                n: a.n.max(0) as u64,
                exact: (a.n > 0).then_some((i128::from(a.total), i128::from(a.n))),
                ..Value::default()
            }
        }
        Formula::CostPerCase => {
            let resolved = data.get(Measure::Resolved).n;
            match data.cost_cents {
                Some(cost) if resolved > 0 => Value {
                    value: Some(cost as f64 / resolved as f64),
                    n: resolved as u64,
                    exact: Some((i128::from(cost), i128::from(resolved))),
                    ..Value::default()
                },
                _ => Value { n: resolved.max(0) as u64, ..Value::default() },
            }
        }
        Formula::Retention => match data.retention {
            Some((base, kept)) => share(kept as i64, base as i64),
            None => Value::default(),
        },
        Formula::BacklogAge(stat) => match &data.backlog_ages {
            Some(ages) => {
                let value = match stat {
                    Stat::Median => ages.median,
                    Stat::P90 => ages.p90,
                    Stat::Mean => None,
                };
                Value {
                    value,
                    n: ages.n,
                    exact: value.map(|v| ((v * 1000.0).round() as i128, 1000)),
                    ..Value::default()
                }
            }
            None => Value::default(),
        },
        Formula::WaitShare(m) => {
            let a = data.get(m);
            Value {
                value: (a.n > 0).then(|| a.total as f64 / a.n as f64),
                n: a.n.max(0) as u64,
                exact: (a.n > 0).then_some((i128::from(a.total), i128::from(a.n))),
                ..Value::default()
            }
        }
    }
}

/// A change between two periods and whether it is significant (§1.5).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Change {
    /// This period minus the other, in the metric's unit (proportions as fractions).
    pub delta: Option<f64>,
    /// Relative change, as a fraction of the other period's value.
    pub relative: Option<f64>,
    /// Which test decided: "newcombe", "nps_z", "welch", or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub significant: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
}

/// `now` compared with `then`.
pub fn compare(def: &MetricDef, now: &Value, then: &Value) -> Change {
    let delta = now.value.zip(then.value).map(|(a, b)| a - b);
    let relative = now.value.zip(then.value).and_then(|(a, b)| (b != 0.0).then(|| (a - b) / b.abs()));
    let mut change = Change { delta, relative, ..Change::default() };
    if def.proportion {
        let pair =
            now.k.zip(then.k).and_then(|(k1, k2)| Some((Tally::new(k1, now.n).ok()?, Tally::new(k2, then.n).ok()?)));
        if let Some((a, b)) = pair
            && let Some(nc) = newcombe(a, b)
        {
            change.test = Some("newcombe");
            change.significant = Some(nc.significant());
            change.interval = Some(nc.interval);
            change.p_value = two_proportion_z(a, b).map(|z| z.p_value);
        }
    } else if let (Some(a), Some(b)) = (now.nps, then.nps) {
        if let Some(c) = compare_nps(&a, &b) {
            change.test = Some("nps_z");
            change.significant = Some(c.significant);
            change.p_value = Some(c.p_value);
        }
    } else if let (Some(a), Some(b)) = (now.mean, then.mean)
        && let Some(t) = welch_statistic(&a, &b)
    {
        change.test = Some("welch");
        change.significant = Some(t.abs() > crate::stats::Z95);
        change.p_value = Some(two_sided_p(t));
    }
    change
}

/// A target for one metric: the value in millionths of the metric's unit
/// (85 % → 850 000; 3 600 s → 3 600 000 000; NPS 20 → 20 000 000), an amber
/// tolerance in the same unit, a direction and a minimum sample (D-3, D-29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TargetRule {
    pub target_micros: i64,
    pub amber_micros: i64,
    #[serde(serialize_with = "dir")]
    pub direction: Direction,
    pub min_sample: u64,
}

fn dir<S: serde::Serializer>(d: &Direction, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(super::catalogue::direction_name(*d))
}

const MICRO: i128 = 1_000_000;

/// D-29 in exact integers: `num/den` against the target. Signed, because
/// an NPS target may be below zero.
pub fn rag(rule: &TargetRule, value: &Value) -> Rag {
    let Some((num, den)) = value.exact.filter(|(_, d)| *d > 0) else { return Rag::Grey };
    if value.n < rule.min_sample {
        return Rag::Grey;
    }
    let x = num * MICRO;
    let at = |limit: i64| i128::from(limit) * den;
    let (t, a) = (rule.target_micros, rule.amber_micros.max(0));
    match rule.direction {
        Direction::HigherIsBetter if x >= at(t) => Rag::Green,
        Direction::HigherIsBetter if x >= at(t - a) => Rag::Amber,
        Direction::LowerIsBetter if x <= at(t) => Rag::Green,
        Direction::LowerIsBetter if x <= at(t + a) => Rag::Amber,
        _ => Rag::Red,
    }
}

/// How a value is stored in a target's unit: percentages are fractions ×100.
pub fn unit_scale(unit: Unit) -> i64 {
    match unit {
        Unit::Percent => 100,
        _ => 1,
    }
}

/// Parses a decimal written in the metric's display unit ("85", "99.9",
/// "-10", "4.25") into millionths of the stored unit, exactly.
pub fn parse_target(unit: Unit, raw: &str) -> Result<i64, crate::FieldError> {
    let bad = |m: &str| crate::FieldError::new("invalid_value", "target", m.to_owned());
    let s = raw.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let ok = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !ok(int) || !ok(frac) || (digits.contains('.') && frac.is_empty()) {
        return Err(bad("must be a decimal number such as 85 or 99.9"));
    }
    let scale = unit_scale(unit);
    // The stored value is value/scale in millionths: value · 10⁶ / scale.
    let places = if scale == 100 { 4 } else { 6 };
    if frac.len() > places {
        return Err(bad(&format!("at most {places} decimals")));
    }
    let int: i64 = int.parse().map_err(|_| bad("too large"))?;
    let frac_micro: i64 = format!("{frac:0<6}").parse().map_err(|_| bad("too large"))?;
    let micros = int.checked_mul(1_000_000).and_then(|v| v.checked_add(frac_micro)).ok_or_else(|| bad("too large"))?;
    let v = micros / scale;
    if unit == Unit::Percent && !(0..=1_000_000).contains(&v) {
        return Err(bad("a percentage must be between 0 and 100"));
    }
    Ok(if neg { -v } else { v })
}

/// The inverse of `parse_target`, for forms and the API.
pub fn format_target(unit: Unit, micros: i64) -> String {
    let v = i128::from(micros) * i128::from(unit_scale(unit));
    let (sign, v) = if v < 0 { ("-", -v) } else { ("", v) };
    let (int, frac) = (v / MICRO, v % MICRO);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let frac = format!("{frac:06}");
    format!("{sign}{int}.{}", frac.trim_end_matches('0'))
}

/// The burn rate of a promise metric against its target as an SLO (§3.3):
/// `(bad/valid)/(1 − s)`; `None` without data or for a 100 % target.
pub fn burn_rate(value: &Value, slo_micros: i64) -> Option<f64> {
    let (k, n) = (value.k?, value.n);
    let budget = MICRO - i128::from(slo_micros);
    if n == 0 || budget <= 0 {
        return None;
    }
    // bad/n ÷ budget/10⁶, formed from integers once.
    Some(((n - k) as f64 * MICRO as f64) / (n as f64 * budget as f64))
}
