//! /scorecards/metric: one metric of a scope over a period. Its control
//! chart (p-chart or XmR, limits, target, signals), the special causes
//! found, and the cases behind the number, worst first, with CSV.

use super::charts::{ControlChart, ControlPoint, control_chart_svg};
use super::figures::{chart_unit, chart_value, direction_label, show, target_value, unit_name};
use super::scorecard_query::PageQuery;
use super::scorecards::{RowView, grouped};
use super::selectors::{Directory, Selectors};
use super::session::{Layout, PageError, PageResult, StaffUser, WebUser, refusal, render_form};
use crate::scorecard::period::Kind;
use crate::scorecard::{self, ChartData, Period};
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};
use kept_core::metrics::{MetricDef, Unit, day};
use kept_store::Drill;

pub struct SignalLine {
    pub date: String,
    pub rules: String,
    pub link: String,
}

pub struct CaseLine {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub date: String,
    pub value: String,
    pub good: Option<bool>,
}

pub struct MetricView {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub unit: &'static str,
    pub direction: &'static str,
    pub scope_label: String,
    pub period: String,
    pub row: Option<RowView>,
    pub chart: String,
    pub chart_kind: &'static str,
    pub signals: Vec<SignalLine>,
    pub all_rules: bool,
    pub rules_link: String,
    pub cases: Vec<CaseLine>,
    pub total: usize,
    /// Observations on other teams' cases: in the number, not listed.
    pub hidden: usize,
    pub csv_link: String,
    pub scorecard_link: String,
}

#[derive(Template)]
#[template(path = "metric.html")]
struct MetricPage {
    layout: Layout,
    sel: Selectors,
    error: Option<String>,
    view: Option<MetricView>,
}

/// A definition as a sentence: capitalised (catalogue entries start lower case).
fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "p" => "p-chart (limits vary with each point's sample)",
        "xmr" => "XmR chart (individuals and moving range)",
        _ => "run chart (too few points for control limits)",
    }
}

/// Each point's days: from its label to the day before the next one's.
fn point_periods(labels: &[String], period: &Period) -> Vec<Period> {
    let starts: Vec<i32> =
        labels.iter().map(|l| l.parse::<jiff::civil::Date>().map_or(period.from, day::day_number)).collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, from)| {
            let to = starts.get(i + 1).map_or(period.to, |next| next - 1);
            Period { kind: Kind::Custom, from: *from, to: to.max(*from) }
        })
        .collect()
}

fn chart(q: &PageQuery, data: &ChartData, period: &Period, rules: &str) -> (String, Vec<SignalLine>) {
    let unit = data.unit;
    let value = |v: Option<f64>| v.map(|x| chart_value(unit, x));
    let days = point_periods(&data.labels, period);
    let mut signals = Vec::new();
    let points = data
        .control
        .points
        .iter()
        .zip(&data.labels)
        .zip(&days)
        .map(|((p, label), days)| {
            let href = q.link_for("/scorecards/metric", days, &[("metric", &data.metric), ("rules", rules)]);
            let signal = (!p.signals.is_empty()).then(|| p.signals.join("; "));
            if let Some(rules) = &signal {
                signals.push(SignalLine { date: label.clone(), rules: rules.clone(), link: href.clone() });
            }
            ControlPoint {
                label: label.clone(),
                value: value(p.value),
                ucl: value(p.ucl),
                lcl: value(p.lcl),
                signal,
                href: Some(href),
            }
        })
        .collect();
    let svg = control_chart_svg(&ControlChart {
        title: format!("{} — {}", data.name, kind_label(data.control.kind)),
        unit: chart_unit(unit),
        centre: value(data.control.centre),
        points,
        target: data.target.as_ref().map(|t| target_value(unit, t)),
    });
    (svg, signals)
}

fn case_lines(def: &MetricDef, drill: &Drill) -> Vec<CaseLine> {
    drill
        .rows
        .iter()
        .map(|r| CaseLine {
            id: r.case_id,
            subject: r.subject.clone(),
            status: r.status.clone(),
            date: r.date.clone(),
            value: match def.unit {
                Unit::Seconds => show(Unit::Seconds, Some(r.value as f64)),
                _ => r.value.to_string(),
            },
            good: r.good,
        })
        .collect()
}

async fn metric_view(
    state: &AppState,
    user: &WebUser,
    q: &PageQuery,
    dir: &Directory,
) -> Result<MetricView, PageError> {
    let by = &user.principal;
    let api = q.api();
    let r = api.resolve(state).await?;
    let def = api.one_metric()?;
    let all_rules = q.all_rules()?;
    let data = scorecard::chart(&state.store, by, r.scope, &r.key, r.period, def, all_rules).await?;
    let card = scorecard::scorecard(&state.store, by, r.scope, &r.key, r.period, &[def], r.today, state.now()).await?;
    let drill = state.store.drill(by, def, r.scope, &r.key, r.period.from, r.period.to).await?;
    let rules = if all_rules { "all" } else { "default" };
    let (chart, signals) = chart(q, &data, &r.period, rules);
    let id = def.id.as_str();
    Ok(MetricView {
        id: def.id.clone(),
        name: def.name.clone(),
        definition: sentence(&def.definition),
        unit: unit_name(def.unit),
        direction: direction_label(kept_core::metrics::direction_name(def.direction)),
        scope_label: dir.scope_label(card.scope, &card.scope_key),
        period: card.period.label(),
        row: grouped(q, &card).into_iter().flat_map(|g| g.rows).next(),
        chart,
        chart_kind: kind_label(data.control.kind),
        signals,
        all_rules,
        rules_link: q
            .link("/scorecards/metric", &[("metric", id), ("rules", if all_rules { "default" } else { "all" })]),
        cases: case_lines(def, &drill),
        total: drill.total,
        hidden: drill.hidden,
        csv_link: q.link("/scorecards/cases.csv", &[("metric", id)]),
        scorecard_link: q.link("/scorecards", &[]),
    })
}

pub async fn metric_page(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let dir = Directory::load(&state, &user.principal).await?;
    let (q, result) = match PageQuery::parse(raw.as_deref()) {
        Ok(q) => {
            let result = metric_view(&state, &user, &q, &dir).await;
            (q, result)
        }
        Err(e) => (PageQuery::default(), Err(e.into())),
    };
    let (view, error) = match result {
        Ok(view) => (Some(view), None),
        Err(e) => (None, Some(refusal(e)?)),
    };
    let title = view.as_ref().map_or_else(|| "Metric".to_owned(), |v| v.name.clone());
    let refused = error.is_some();
    let page =
        MetricPage { layout: user.layout(title), sel: Selectors::new("/scorecards/metric", &q, &dir), error, view };
    render_form(&page, refused)
}
