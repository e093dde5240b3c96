//! Assembling a scorecard: the period, the previous one and the same one
//! last year read from the rollups, each metric evaluated, compared and
//! judged against the target in force at the period's end.

use super::period::Period;
use kept_core::metrics::{
    Change, Control, Formula, MetricDef, PeriodData, Scope, Value, burn_rate, catalogue, compare, control, evaluate,
    metric, rag, sampled,
};
use kept_core::permissions::Principal;
use kept_core::stats::Rag;
use kept_core::stats::spc::RuleSet;
use kept_store::{PeriodReading, Store, TargetView, target_for};
use serde::Serialize;

/// Survey and sample metrics below this many observations are marked small (D-8).
pub const SMALL_SAMPLE: u64 = 30;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub metric: String,
    pub name: String,
    pub group: &'static str,
    pub unit: kept_core::metrics::Unit,
    pub direction: &'static str,
    pub definition: String,
    pub current: Value,
    pub previous: Value,
    pub last_year: Value,
    pub vs_previous: Change,
    pub vs_last_year: Change,
    pub target: Option<TargetView>,
    /// green, amber, red, or grey (too small a sample, or no data); none without a target.
    pub status: Option<&'static str>,
    pub small_sample: bool,
    /// Promise metrics with a target: the burn rate of the error budget (§3.3).
    pub burn_rate: Option<f64>,
    /// One value per day (per month for periods over 92 days).
    pub trend: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    pub scope: &'static str,
    pub scope_key: String,
    pub period: Period,
    pub previous: Period,
    pub last_year: Period,
    /// Whether first-contact resolution and reopen figures can still change
    /// (the period ended less than 7 days ago, D-20/D-21).
    pub provisional: bool,
    pub rows: Vec<Row>,
}

pub fn status_name(r: Rag) -> &'static str {
    match r {
        Rag::Green => "green",
        Rag::Amber => "amber",
        Rag::Red => "red",
        Rag::Grey => "grey",
    }
}

/// Buckets of a daily reading: each day, or 7-day weeks from the period's start.
pub fn buckets(reading: &PeriodReading) -> Vec<(i32, PeriodData)> {
    let step = if reading.to - reading.from + 1 > 92 { 7 } else { 1 };
    let mut out = Vec::new();
    let mut start = reading.from;
    while start <= reading.to {
        let end = (start + step - 1).min(reading.to);
        let mut data = PeriodData::default();
        for d in start..=end {
            if let Some(day) = reading.points.get(&d) {
                for (m, agg) in &day.measures {
                    data.measures.entry(*m).or_default().add(agg.n, agg.total, Some(&agg.hist));
                }
                data.backlog = day.backlog;
            }
        }
        out.push((start, data));
        start = end + 1;
    }
    out
}

fn row(
    def: &MetricDef,
    now: &PeriodReading,
    before: &PeriodReading,
    year: &PeriodReading,
    target: Option<TargetView>,
) -> Row {
    let current = evaluate(def, &now.total);
    let previous = evaluate(def, &before.total);
    let last_year = evaluate(def, &year.total);
    let small_sample = sampled(def) && current.value.is_some() && current.n < SMALL_SAMPLE;
    let rule = target.as_ref().and_then(TargetView::rule);
    // A small sample is never red or green, whatever the target's own minimum.
    let status = rule.map(|r| if small_sample { "grey" } else { status_name(rag(&r, &current)) });
    let burn = match (def.id.starts_with("attainment"), rule) {
        (true, Some(r)) => burn_rate(&current, r.target_micros),
        _ => None,
    };
    let trend = now.points.values().map(|d| evaluate(def, d).value).collect();
    Row {
        metric: def.id.clone(),
        name: def.name.clone(),
        group: def.group,
        unit: def.unit,
        direction: kept_core::metrics::direction_name(def.direction),
        definition: def.definition.clone(),
        vs_previous: compare(def, &current, &previous),
        vs_last_year: compare(def, &current, &last_year),
        current,
        previous,
        last_year,
        target,
        status,
        small_sample,
        burn_rate: burn,
        trend,
    }
}

/// The metrics asked for: ids, "all", or (none) the headline set.
pub fn pick(ids: Option<&str>) -> Result<Vec<&'static MetricDef>, kept_core::FieldError> {
    match ids.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(kept_core::metrics::HEADLINE.iter().filter_map(|id| metric(id)).collect()),
        Some("all") => Ok(catalogue().iter().collect()),
        Some(list) => list
            .split(',')
            .map(|id| {
                metric(id.trim()).ok_or_else(|| {
                    kept_core::FieldError::new("invalid_value", "metrics", format!("unknown metric \"{}\"", id.trim()))
                })
            })
            .collect(),
    }
}

#[allow(clippy::too_many_arguments, reason = "what to show, for whom, when: each is needed")]
pub async fn scorecard(
    store: &Store,
    by: &Principal,
    scope: Scope,
    key: &str,
    period: Period,
    defs: &[&'static MetricDef],
    today: i32,
    at: jiff::Timestamp,
) -> kept_store::Result<Scorecard> {
    by.require_staff()?;
    let (previous, last_year) = (period.previous(), period.last_year());
    // Short periods are read by day (the trend shows days); long ones, and
    // the periods compared with, from whole months (the trend shows months).
    let current = async {
        if period.days() <= 92 {
            store.period(scope, key, period.from, period.to).await
        } else {
            store.period_by_month(scope, key, period.from, period.to).await
        }
    };
    let wants_ages = period.to >= today && defs.iter().any(|d| matches!(d.formula, Formula::BacklogAge(_)));
    let ages = async { if wants_ages { store.open_case_ages(scope, key, at).await.map(Some) } else { Ok(None) } };
    // Independent reads, each on its own pooled connection.
    let (mut now, before, year, targets, ages) = tokio::try_join!(
        current,
        store.period_by_month(scope, key, previous.from, previous.to),
        store.period_by_month(scope, key, last_year.from, last_year.to),
        store.list_targets(by),
        ages,
    )?;
    now.total.backlog_ages = ages;
    let rows = defs
        .iter()
        .map(|def| {
            let target = target_for(&targets, &def.id, scope, key, period.last_date()).cloned();
            row(def, &now, &before, &year, target)
        })
        .collect();
    Ok(Scorecard {
        scope: scope.as_str(),
        scope_key: key.to_owned(),
        period,
        previous,
        last_year,
        provisional: today - period.to < 7,
        rows,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartData {
    pub metric: String,
    pub name: String,
    pub unit: kept_core::metrics::Unit,
    /// The first day of each point (a day, or a week for long periods).
    pub labels: Vec<String>,
    pub control: Control,
    pub target: Option<TargetView>,
}

/// The control chart of one metric over the period; `all_rules` adds WE2
/// and WE3 to the default WE1 + WE4 (D-33).
pub async fn chart(
    store: &Store,
    by: &Principal,
    scope: Scope,
    key: &str,
    period: Period,
    def: &'static MetricDef,
    all_rules: bool,
) -> kept_store::Result<ChartData> {
    by.require_staff()?;
    let reading = store.period(scope, key, period.from, period.to).await?;
    let points = buckets(&reading);
    let series: Vec<Value> = points.iter().map(|(_, d)| evaluate(def, d)).collect();
    let rules = if all_rules { RuleSet::WESTERN_ELECTRIC } else { RuleSet::MONITORING };
    let targets = store.list_targets(by).await?;
    Ok(ChartData {
        metric: def.id.clone(),
        name: def.name.clone(),
        unit: def.unit,
        labels: points.iter().map(|(d, _)| kept_core::metrics::day::date_of(*d).to_string()).collect(),
        control: control(def, &series, &rules),
        target: target_for(&targets, &def.id, scope, key, period.last_date()).cloned(),
    })
}
