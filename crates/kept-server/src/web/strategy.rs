//! /strategy: corporate objectives, the service objectives that serve them,
//! and each linked metric's value over the objective's period so far
//! against its target, coloured per D-29 (grey below the minimum sample).
//! /metrics: the catalogue every "?" points into.

use super::figures::{direction_label, show, shown_status, status_label, target_text, unit_name};
use super::selectors::Directory;
use super::session::{Layout, PageResult, StaffUser, render};
use crate::scorecard::strategy::{StrategyMetric, StrategyNode, strategy as strategy_tree};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use kept_core::metrics::catalogue;
use kept_core::people::Role;

pub struct MetricLine {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub scope_label: String,
    pub value: String,
    pub n: u64,
    pub small: bool,
    pub target: Option<String>,
    pub status: Option<&'static str>,
    pub status_label: &'static str,
    pub link: String,
    pub days: String,
}

pub struct ObjectiveLine {
    pub id: i64,
    pub title: String,
    pub level: String,
    pub description: String,
    pub owner: String,
    pub period: String,
    pub metrics: Vec<MetricLine>,
    pub children: Vec<ObjectiveLine>,
}

#[derive(Template)]
#[template(path = "strategy.html")]
struct StrategyPage {
    layout: Layout,
    objectives: Vec<ObjectiveLine>,
    can_plan: bool,
}

fn metric_line(m: &StrategyMetric, dir: &Directory) -> MetricLine {
    let mut link = form_urlencoded::Serializer::new(String::new());
    link.append_pair("metric", &m.metric).append_pair("scope", &m.scope);
    if !m.scope_key.is_empty() {
        link.append_pair("scope_key", &m.scope_key);
    }
    link.append_pair("period", "custom").append_pair("from", &m.from).append_pair("to", &m.to);
    let status = shown_status(m.status, m.small_sample);
    MetricLine {
        id: m.metric.clone(),
        name: m.name.clone(),
        definition: m.definition.clone(),
        scope_label: dir.scope_label(&m.scope, &m.scope_key),
        value: show(m.unit, m.value.value),
        n: m.value.n,
        small: m.small_sample,
        target: m.target.as_ref().map(|t| target_text(m.unit, t)),
        status,
        status_label: status.map_or("", |s| status_label(s, m.value.value.is_some())),
        link: format!("/scorecards/metric?{}", link.finish()),
        days: if m.from == m.to { m.from.clone() } else { format!("{} – {}", m.from, m.to) },
    }
}

fn objective_line(node: &StrategyNode, dir: &Directory) -> ObjectiveLine {
    let o = &node.objective;
    ObjectiveLine {
        id: o.id,
        title: o.title.clone(),
        level: o.level.clone(),
        description: o.description.clone(),
        owner: o.owner_name.clone().unwrap_or_else(|| "no owner".to_owned()),
        period: format!("{} – {}", o.period_start, o.period_end),
        metrics: node.metrics.iter().map(|m| metric_line(m, dir)).collect(),
        children: node.children.iter().map(|c| objective_line(c, dir)).collect(),
    }
}

pub async fn strategy(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    let tree = strategy_tree(&state, &user.principal).await?;
    let dir = Directory::load(&state, &user.principal).await?;
    render(&StrategyPage {
        layout: user.layout("Strategy"),
        objectives: tree.iter().map(|n| objective_line(n, &dir)).collect(),
        can_plan: matches!(user.principal.role, Role::Admin | Role::Manager),
    })
}

pub struct CatalogueLine {
    pub id: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    pub unit: &'static str,
    pub direction: &'static str,
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    layout: Layout,
    groups: Vec<(&'static str, Vec<CatalogueLine>)>,
}

pub async fn metrics(StaffUser(user): StaffUser) -> PageResult {
    let mut groups: Vec<(&'static str, Vec<CatalogueLine>)> = Vec::new();
    for m in catalogue() {
        let line = CatalogueLine {
            id: &m.id,
            name: &m.name,
            definition: &m.definition,
            unit: unit_name(m.unit),
            direction: direction_label(kept_core::metrics::direction_name(m.direction)),
        };
        match groups.iter_mut().find(|(g, _)| *g == m.group) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((m.group, vec![line])),
        }
    }
    render(&MetricsPage { layout: user.layout("Metrics"), groups })
}
