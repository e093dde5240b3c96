//! Management by fact over the API: the metric catalogue, scorecards for any
//! scope and period (with comparisons, intervals, significance and RAG),
//! control charts, the cases behind a number, CSV of every table, where a
//! case's time went, and the plans (targets, objectives, costs).

use super::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use super::surveys::csv_field;
use crate::error::{ApiResult, ErrorBody};
use crate::scorecard::{self, Period, PeriodQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kept_core::ids::CaseId;
use kept_core::metrics::{CostDraft, ObjectiveDraft, Scope, TargetDraft, catalogue, day, metric};
use kept_core::permissions::Principal;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScorecardQuery {
    /// org (default), team, agent, tier, channel or case_type.
    pub scope: Option<String>,
    /// The team or agent id, or the tier, channel or case type.
    pub scope_key: Option<String>,
    /// day, week, month (default), quarter, year or custom.
    pub period: Option<String>,
    /// A date in the period (default today in the organisation's zone).
    pub date: Option<String>,
    /// custom periods: first and last day.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Comma-separated metric ids, or "all" (default: the headline metrics).
    pub metrics: Option<String>,
    /// One metric (charts and drill-down).
    pub metric: Option<String>,
    /// "all" for every Western Electric rule (default WE1 + WE4).
    pub rules: Option<String>,
}

pub struct Resolved {
    pub scope: Scope,
    pub key: String,
    pub period: Period,
    pub today: i32,
}

fn field(name: &str, message: &str) -> kept_core::FieldError {
    kept_core::FieldError::new("invalid_value", name, message.to_owned())
}

impl ScorecardQuery {
    pub async fn resolve(&self, state: &AppState) -> ApiResult<Resolved> {
        let scope = Scope::parse("scope", self.scope.as_deref().unwrap_or("org").trim())?;
        let key = self.scope_key.as_deref().unwrap_or("").trim().to_owned();
        if scope == Scope::Org && !key.is_empty() {
            return Err(field("scope_key", "the organisation scope takes no key").into());
        }
        if scope != Scope::Org && key.is_empty() {
            return Err(field("scope_key", "required for this scope").into());
        }
        if matches!(scope, Scope::Team | Scope::Agent) && key.parse::<i64>().is_err() {
            return Err(field("scope_key", "must be the numeric id of the team or agent").into());
        }
        let zone = state.store.metrics_zone().await?;
        let today = zone.to_datetime(state.now()).date();
        let q = PeriodQuery {
            period: self.period.clone(),
            date: self.date.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
        };
        Ok(Resolved { scope, key, period: Period::resolve(&q, today)?, today: day::day_number(today) })
    }

    pub fn one_metric(&self) -> ApiResult<&'static kept_core::metrics::MetricDef> {
        let id = self.metric.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let id = id.ok_or_else(|| field("metric", "required"))?;
        Ok(metric(id).ok_or_else(|| field("metric", &format!("unknown metric \"{id}\"; see GET /api/v1/metrics")))?)
    }

    fn all_rules(&self) -> ApiResult<bool> {
        match self.rules.as_deref().map(str::trim) {
            None | Some("") | Some("default") => Ok(false),
            Some("all") => Ok(true),
            Some(_) => Err(field("rules", "must be default or all").into()),
        }
    }
}

fn csv(name: &str, header_row: &str, rows: Vec<Vec<String>>) -> Response {
    let mut out = String::from(header_row);
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"{name}.csv\"");
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], out)
        .into_response()
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// The metric catalogue: id, name, definition, unit and direction of every number.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn list_metrics(caller: Caller) -> ApiResult<Json<Value>> {
    caller.principal.require_staff()?;
    Ok(Json(json!({ "metrics": catalogue() })))
}

/// A scorecard: each metric for the period, the previous period and the same
/// period last year, with intervals, significance, target and RAG.
#[utoipa::path(get, path = "/api/v1/scorecards", tag = "metrics", params(ScorecardQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_scorecard(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<Json<Value>> {
    caller.principal.require_staff()?;
    let r = q.resolve(&state).await?;
    let defs = scorecard::pick(q.metrics.as_deref())?;
    let card =
        scorecard::scorecard(&state.store, &caller.principal, r.scope, &r.key, r.period, &defs, r.today, state.now())
            .await?;
    Ok(Json(serde_json::to_value(card).unwrap_or(Value::Null)))
}

/// The same scorecard as CSV, one row per metric.
#[utoipa::path(get, path = "/api/v1/scorecards.csv", tag = "metrics", params(ScorecardQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn scorecard_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<Response> {
    caller.principal.require_staff()?;
    let r = q.resolve(&state).await?;
    let defs = scorecard::pick(q.metrics.as_deref())?;
    let card =
        scorecard::scorecard(&state.store, &caller.principal, r.scope, &r.key, r.period, &defs, r.today, state.now())
            .await?;
    Ok(scorecard_rows_csv(&card))
}

pub fn scorecard_rows_csv(card: &scorecard::Scorecard) -> Response {
    let rows = card
        .rows
        .iter()
        .map(|row| {
            let ci = row.current.interval;
            vec![
                row.metric.clone(),
                row.name.clone(),
                format!("{:?}", row.unit).to_lowercase(),
                num(row.current.value),
                row.current.n.to_string(),
                num(ci.map(|i| i.lower)),
                num(ci.map(|i| i.upper)),
                num(row.previous.value),
                num(row.vs_previous.delta),
                row.vs_previous.significant.map(|s| s.to_string()).unwrap_or_default(),
                num(row.last_year.value),
                num(row.vs_last_year.delta),
                row.vs_last_year.significant.map(|s| s.to_string()).unwrap_or_default(),
                row.target.as_ref().map(|t| t.target.clone()).unwrap_or_default(),
                row.status.unwrap_or("").to_owned(),
                row.small_sample.to_string(),
            ]
        })
        .collect();
    csv(
        &format!("scorecard-{}-{}", card.scope, card.period.first_date()),
        "metric,name,unit,value,n,ci_lower,ci_upper,previous,change,change_significant,last_year,change_vs_last_year,\
         change_vs_last_year_significant,target,status,small_sample",
        rows,
    )
}

/// The control chart of one metric (p-chart for proportions, XmR otherwise).
#[utoipa::path(get, path = "/api/v1/scorecards/chart", tag = "metrics", params(ScorecardQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn get_chart(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<Json<Value>> {
    caller.principal.require_staff()?;
    let r = q.resolve(&state).await?;
    let def = q.one_metric()?;
    let chart =
        scorecard::chart(&state.store, &caller.principal, r.scope, &r.key, r.period, def, q.all_rules()?).await?;
    Ok(Json(serde_json::to_value(chart).unwrap_or(Value::Null)))
}

async fn drill(state: &AppState, by: &Principal, q: &ScorecardQuery) -> ApiResult<kept_store::Drill> {
    by.require_staff()?;
    let r = q.resolve(state).await?;
    let def = q.one_metric()?;
    Ok(state.store.drill(by, def, r.scope, &r.key, r.period.from, r.period.to).await?)
}

/// The cases behind a metric's value, worst first (at most 500; `total` counts all).
#[utoipa::path(get, path = "/api/v1/scorecards/cases", tag = "metrics", params(ScorecardQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn drill_cases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<Json<Value>> {
    let d = drill(&state, &caller.principal, &q).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or(Value::Null)))
}

/// The same cases as CSV.
#[utoipa::path(get, path = "/api/v1/scorecards/cases.csv", tag = "metrics", params(ScorecardQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn drill_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<Response> {
    let d = drill(&state, &caller.principal, &q).await?;
    Ok(drill_rows_csv(&d))
}

pub fn drill_rows_csv(d: &kept_store::Drill) -> Response {
    let rows = d
        .rows
        .iter()
        .map(|r| {
            vec![
                r.case_id.to_string(),
                r.subject.clone(),
                r.status.clone(),
                r.date.clone(),
                r.value.to_string(),
                r.good.map(|g| g.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    csv(&format!("cases-{}", d.metric), "case_id,subject,status,date,value,good", rows)
}

/// Where a case's time went: waiting on us, the customer, a third party or
/// another team, in calendar and business seconds (to its resolution, or now).
#[utoipa::path(get, path = "/api/v1/cases/{id}/time", tag = "metrics", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn case_time(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let split = state.store.case_time_split(&caller.principal, CaseId(id), state.now()).await?;
    Ok(Json(serde_json::to_value(split).unwrap_or(Value::Null)))
}

/// Targets per metric and scope, with effective dates.
#[utoipa::path(get, path = "/api/v1/targets", tag = "metrics",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn list_targets(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let list = state.store.list_targets(&caller.principal).await?;
    Ok(Json(json!({ "targets": list })))
}

/// Sets a target (admins and managers). `target` and `amber` are written in
/// the metric's display unit ("85" for 85 %, seconds for durations).
#[utoipa::path(post, path = "/api/v1/targets", tag = "metrics", request_body = Object,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_target(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<TargetDraft>,
) -> ApiResult<impl IntoResponse> {
    caller.principal.require_staff()?;
    let target = draft.validate()?;
    let view = state.store.create_target(&caller.principal, target, state.now()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

/// Removes a target.
#[utoipa::path(delete, path = "/api/v1/targets/{id}", tag = "metrics", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_target(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_target(&caller.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Corporate and service objectives with the metrics that measure them.
#[utoipa::path(get, path = "/api/v1/objectives", tag = "metrics",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn list_objectives(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let list = state.store.list_objectives(&caller.principal).await?;
    Ok(Json(json!({ "objectives": list })))
}

/// Adds an objective (admins and managers).
#[utoipa::path(post, path = "/api/v1/objectives", tag = "metrics", request_body = Object,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_objective(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<ObjectiveDraft>,
) -> ApiResult<impl IntoResponse> {
    caller.principal.require_staff()?;
    let objective = draft.validate()?;
    let view = state.store.create_objective(&caller.principal, objective, state.now()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

/// Removes an objective (one with service objectives under it is refused).
#[utoipa::path(delete, path = "/api/v1/objectives/{id}", tag = "metrics", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn delete_objective(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_objective(&caller.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Operating costs per period (cost per case).
#[utoipa::path(get, path = "/api/v1/costs", tag = "metrics",
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn list_costs(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let list = state.store.list_costs(&caller.principal).await?;
    Ok(Json(json!({ "costs": list })))
}

/// Enters the costs of a period (admins and managers).
#[utoipa::path(post, path = "/api/v1/costs", tag = "metrics", request_body = Object,
    responses((status = 201, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_cost(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(draft): ApiJson<CostDraft>,
) -> ApiResult<impl IntoResponse> {
    caller.principal.require_staff()?;
    let cost = draft.validate()?;
    let view = state.store.create_cost(&caller.principal, cost, state.now()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

/// Removes a cost entry.
#[utoipa::path(delete, path = "/api/v1/costs/{id}", tag = "metrics", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_cost(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_cost(&caller.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The strategy: objectives as a tree, each metric's value over the
/// objective's period so far against its target, coloured per D-29.
#[utoipa::path(get, path = "/api/v1/strategy", tag = "metrics",
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub async fn strategy(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let tree = crate::scorecard::strategy::strategy(&state, &caller.principal).await?;
    Ok(Json(serde_json::to_value(tree).unwrap_or(Value::Null)))
}
