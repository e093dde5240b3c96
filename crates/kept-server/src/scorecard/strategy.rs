//! The strategy tree: corporate objectives, the service objectives that
//! serve them, and each linked metric's value over the objective's period
//! so far against its target.

use super::build::{SMALL_SAMPLE, status_name};
use crate::state::AppState;
use kept_core::metrics::{Scope, Value, day, evaluate, metric, rag, sampled};
use kept_core::permissions::Principal;
use kept_store::{ObjectiveView, TargetView, target_for};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct StrategyMetric {
    pub metric: String,
    pub name: String,
    pub definition: String,
    pub unit: kept_core::metrics::Unit,
    pub scope: String,
    pub scope_key: String,
    /// The days measured: the objective's period up to today.
    pub from: String,
    pub to: String,
    pub value: Value,
    pub target: Option<TargetView>,
    pub status: Option<&'static str>,
    pub small_sample: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyNode {
    pub objective: ObjectiveView,
    pub metrics: Vec<StrategyMetric>,
    pub children: Vec<StrategyNode>,
}

async fn node(
    state: &AppState,
    o: &ObjectiveView,
    targets: &[TargetView],
    today: i32,
) -> kept_store::Result<StrategyNode> {
    let parse = |s: &str| s.parse::<jiff::civil::Date>().map(day::day_number).unwrap_or(today);
    let (from, to) = (parse(&o.period_start), parse(&o.period_end).min(today));
    let mut metrics = Vec::new();
    for link in &o.metrics {
        let (Some(def), Ok(scope)) = (metric(&link.metric), Scope::parse("scope", &link.scope)) else { continue };
        let value = if from <= to {
            let reading = state.store.period(scope, &link.scope_key, from, to).await?;
            evaluate(def, &reading.total)
        } else {
            Value::default()
        };
        let target = target_for(targets, &def.id, scope, &link.scope_key, day::date_of(to.max(from))).cloned();
        let small_sample = sampled(def) && value.value.is_some() && value.n < SMALL_SAMPLE;
        let status = target
            .as_ref()
            .and_then(TargetView::rule)
            .map(|r| if small_sample { "grey" } else { status_name(rag(&r, &value)) });
        metrics.push(StrategyMetric {
            metric: def.id.clone(),
            name: def.name.clone(),
            definition: def.definition.clone(),
            unit: def.unit,
            scope: link.scope.clone(),
            scope_key: link.scope_key.clone(),
            from: day::date_of(from).to_string(),
            to: day::date_of(to.max(from)).to_string(),
            small_sample,
            value,
            target,
            status,
        });
    }
    Ok(StrategyNode { objective: o.clone(), metrics, children: Vec::new() })
}

pub async fn strategy(state: &AppState, by: &Principal) -> kept_store::Result<Vec<StrategyNode>> {
    by.require_staff()?;
    let objectives = state.store.list_objectives(by).await?;
    let targets = state.store.list_targets(by).await?;
    let zone = state.store.metrics_zone().await?;
    let today = day::day_of(state.now(), &zone);
    let mut roots = Vec::new();
    for o in objectives.iter().filter(|o| o.parent_id.is_none()) {
        let mut root = node(state, o, &targets, today).await?;
        for child in objectives.iter().filter(|c| c.parent_id == Some(o.id)) {
            root.children.push(node(state, child, &targets, today).await?);
        }
        roots.push(root);
    }
    Ok(roots)
}
