//! /scorecards: the scorecard of a scope over a period, grouped by metric
//! group. Every number has its definition one "?" away and links to its
//! metric page; the period is compared with the one before and the same one
//! last year, honestly (intervals, significance, small samples in grey).

use super::figures::{
    ChangeView, change_view, chart_unit, chart_value, show, show_interval, shown_status, status_label, target_text,
};
use super::scorecard_query::PageQuery;
use super::selectors::{Directory, Selectors};
use super::session::{Layout, PageError, PageResult, StaffUser, WebUser, refusal, render_form};
use super::time_bars::{TimeBars, period_bars};
use crate::scorecard::{self, Row, Scorecard};
use crate::state::AppState;
use askama::Template;
use axum::extract::{RawQuery, State};

pub struct RowView {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub value: String,
    pub link: String,
    pub interval: Option<String>,
    pub n: u64,
    pub small: bool,
    pub previous: String,
    pub previous_link: String,
    pub vs_previous: Option<ChangeView>,
    pub last_year: String,
    pub last_year_link: String,
    pub vs_last_year: Option<ChangeView>,
    pub target: Option<String>,
    /// green, amber, red or grey; none without a target.
    pub status: Option<&'static str>,
    pub status_label: &'static str,
    pub burn: Option<String>,
    pub spark: String,
}

pub struct GroupView {
    pub name: &'static str,
    pub rows: Vec<RowView>,
}

pub struct CardView {
    pub scope_label: String,
    pub period: String,
    pub previous: String,
    pub last_year: String,
    pub provisional: bool,
    pub groups: Vec<GroupView>,
    pub csv_link: String,
    /// The other metric set: (link, words).
    pub other_set: (String, &'static str),
    pub time: TimeBars,
}

#[derive(Template)]
#[template(path = "scorecards.html")]
struct ScorecardsPage {
    layout: Layout,
    sel: Selectors,
    error: Option<String>,
    card: Option<CardView>,
}

fn row_view(q: &PageQuery, card: &Scorecard, row: &Row) -> RowView {
    let unit = row.unit;
    let metric = [("metric", row.metric.as_str())];
    let status = shown_status(row.status, row.small_sample);
    RowView {
        id: row.metric.clone(),
        name: row.name.clone(),
        definition: row.definition.clone(),
        value: show(unit, row.current.value),
        link: q.link("/scorecards/metric", &metric),
        interval: show_interval(unit, row.current.interval),
        n: row.current.n,
        small: row.small_sample,
        previous: show(unit, row.previous.value),
        previous_link: q.link_for("/scorecards/metric", &card.previous, &metric),
        vs_previous: change_view(unit, row.direction, &row.vs_previous),
        last_year: show(unit, row.last_year.value),
        last_year_link: q.link_for("/scorecards/metric", &card.last_year, &metric),
        vs_last_year: change_view(unit, row.direction, &row.vs_last_year),
        target: row.target.as_ref().map(|t| target_text(unit, t)),
        status,
        status_label: status.map_or("", |s| status_label(s, row.current.value.is_some())),
        burn: row.burn_rate.filter(|b| b.is_finite()).map(|b| format!("{b:.2}×")),
        spark: super::charts::sparkline_svg(
            &row.trend.iter().map(|v| v.map(|x| chart_value(unit, x))).collect::<Vec<_>>(),
            chart_unit(unit),
        ),
    }
}

/// Rows under their group, groups in the order they first appear.
pub fn grouped(q: &PageQuery, card: &Scorecard) -> Vec<GroupView> {
    let mut groups: Vec<GroupView> = Vec::new();
    for row in &card.rows {
        let view = row_view(q, card, row);
        match groups.iter_mut().find(|g| g.name == row.group) {
            Some(g) => g.rows.push(view),
            None => groups.push(GroupView { name: row.group, rows: vec![view] }),
        }
    }
    groups
}

async fn card_view(state: &AppState, user: &WebUser, q: &PageQuery, dir: &Directory) -> Result<CardView, PageError> {
    let by = &user.principal;
    let r = q.api().resolve(state).await?;
    let defs = scorecard::pick(q.metrics.as_deref())?;
    let card = scorecard::scorecard(&state.store, by, r.scope, &r.key, r.period, &defs, r.today, state.now()).await?;
    // Only the period's sums are needed: whole months where it can.
    let reading = state.store.period_by_month(r.scope, &r.key, r.period.from, r.period.to).await?;
    let metrics = q.metrics.as_deref().map(str::trim).unwrap_or("");
    let csv_extra: Vec<(&str, &str)> = if metrics.is_empty() { Vec::new() } else { vec![("metrics", metrics)] };
    let other_set = if metrics == "all" {
        (q.link("/scorecards", &[]), "Headline metrics only")
    } else {
        (q.link("/scorecards", &[("metrics", "all")]), "All metrics")
    };
    Ok(CardView {
        scope_label: dir.scope_label(card.scope, &card.scope_key),
        period: card.period.label(),
        previous: card.previous.label(),
        last_year: card.last_year.label(),
        provisional: card.provisional,
        groups: grouped(q, &card),
        csv_link: q.link("/scorecards.csv", &csv_extra),
        other_set,
        time: period_bars(&reading.total),
    })
}

pub async fn scorecards(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let dir = Directory::load(&state, &user.principal).await?;
    let (q, result) = match PageQuery::parse(raw.as_deref()) {
        Ok(q) => {
            let result = card_view(&state, &user, &q, &dir).await;
            (q, result)
        }
        Err(e) => (PageQuery::default(), Err(e.into())),
    };
    let (card, error) = match result {
        Ok(card) => (Some(card), None),
        Err(e) => (None, Some(refusal(e)?)),
    };
    let refused = error.is_some();
    let page =
        ScorecardsPage { layout: user.layout("Scorecards"), sel: Selectors::new("/scorecards", &q, &dir), error, card };
    render_form(&page, refused)
}
