//! /admin/plans: what managers plan — targets per metric and scope, the
//! objectives they serve, the costs of each period. Admins and managers
//! change them (the store checks); other staff see them read-only. A
//! refused form comes back filled in, the reason next to its field.

use super::figures::{show, target_text, unit_name};
use super::form::{FormPairs, WebForm};
use super::selectors::{Directory, SCOPES};
use super::session::{Layout, PageError, PageResult, StaffUser, WebUser, render_form, see_other};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kept_core::FieldError;
use kept_core::metrics::{CostDraft, ObjectiveDraft, ObjectiveMetricDraft, TargetDraft, Unit, catalogue, day, metric};
use kept_core::people::Role;
use kept_store::{CostView, ObjectiveView, TargetView};
use serde::Deserialize;

/// A form the store or a draft refused: which form, the field at fault
/// (as the form names it), the reason, and what was sent.
pub struct Refused {
    form: &'static str,
    field: String,
    message: String,
    sent: Vec<(String, String)>,
}

const FIELDS: [(&str, &[&str]); 3] = [
    ("target", &["metric", "scope", "scope_key", "target", "amber", "min_sample", "effective_from", "effective_to"]),
    (
        "objective",
        &[
            "level",
            "parent_id",
            "title",
            "description",
            "owner_id",
            "period_start",
            "period_end",
            "metrics",
            "scope",
            "scope_key",
        ],
    ),
    ("cost", &["period_start", "period_end", "amount", "note"]),
];

/// The form's name for a draft's field: `metrics[2].scope_key` is the
/// objective form's one `scope_key`; the draft's cents are the form's amount.
fn form_field(field: &str) -> String {
    let field = field.split_once("].").map_or(field, |(_, rest)| rest);
    match field {
        "amount_cents" => "amount".to_owned(),
        f if f.starts_with("metrics[") => "metrics".to_owned(),
        f => f.to_owned(),
    }
}

fn refused(form: &'static str, e: PageError, sent: Vec<(String, String)>) -> Result<Refused, PageError> {
    match e {
        PageError::Api(a) if a.status.is_client_error() && a.status != StatusCode::NOT_FOUND => {
            let field = form_field(a.field.as_deref().unwrap_or(""));
            // An objective's linked metric ids arrive as "metrics[0].metric".
            let field = if form == "objective" && field == "metric" { "metrics".to_owned() } else { field };
            Ok(Refused { form, field, message: a.message, sent })
        }
        other => Err(other),
    }
}

pub struct TargetLine {
    id: i64,
    metric: String,
    name: String,
    scope: String,
    target: String,
    min_sample: i64,
    from: String,
    to: String,
}

pub struct ObjectiveLine {
    id: i64,
    title: String,
    level: String,
    parent: String,
    owner: String,
    period: String,
    metrics: String,
}

pub struct CostLine {
    id: i64,
    period: String,
    amount: String,
    note: String,
}

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansPage {
    layout: Layout,
    can_edit: bool,
    /// (id, "Name (unit)")
    metrics: Vec<(String, String)>,
    scopes: [(&'static str, &'static str); 6],
    targets: Vec<TargetLine>,
    objectives: Vec<ObjectiveLine>,
    corporate: Vec<(i64, String)>,
    staff: Vec<(i64, String)>,
    costs: Vec<CostLine>,
    today: String,
    refused: Option<Refused>,
}

impl PlansPage {
    fn mine(&self, form: &str) -> Option<&Refused> {
        self.refused.as_ref().filter(|r| r.form == form)
    }

    /// The reason next to `field` of `form`.
    fn err(&self, form: &str, field: &str) -> Option<&str> {
        self.mine(form).filter(|r| r.field == field).map(|r| r.message.as_str())
    }

    /// A reason that names no field of the form, shown above it.
    fn general(&self, form: &str) -> Option<String> {
        let r = self.mine(form)?;
        let fields = FIELDS.iter().find(|(f, _)| *f == form).map_or(&[][..], |(_, l)| *l);
        (!fields.contains(&r.field.as_str())).then(|| match r.field.as_str() {
            "" => r.message.clone(),
            f => format!("{f}: {}", r.message),
        })
    }

    /// What was sent in `field`, or `default` on a fresh form.
    fn sent<'a>(&'a self, form: &str, field: &str, default: &'a str) -> &'a str {
        match self.mine(form) {
            Some(r) => r.sent.iter().find(|(k, _)| k == field).map_or("", |(_, v)| v.as_str()),
            None => default,
        }
    }

    fn chose(&self, form: &str, field: &str, value: &str) -> bool {
        self.mine(form).is_some_and(|r| r.sent.iter().any(|(k, v)| k == field && v == value))
    }
}

fn target_lines(targets: &[TargetView], dir: &Directory) -> Vec<TargetLine> {
    targets
        .iter()
        .map(|t| {
            let def = metric(&t.metric);
            TargetLine {
                id: t.id,
                metric: t.metric.clone(),
                name: def.map_or_else(|| t.metric.clone(), |d| d.name.clone()),
                scope: dir.scope_label(&t.scope, &t.scope_key),
                target: target_text(def.map_or(Unit::Count, |d| d.unit), t),
                min_sample: t.min_sample,
                from: t.effective_from.clone(),
                to: t.effective_to.clone().unwrap_or_else(|| "—".to_owned()),
            }
        })
        .collect()
}

fn objective_lines(objectives: &[ObjectiveView]) -> Vec<ObjectiveLine> {
    let title = |id: Option<i64>| {
        id.and_then(|id| objectives.iter().find(|o| o.id == id)).map_or_else(String::new, |o| o.title.clone())
    };
    objectives
        .iter()
        .map(|o| ObjectiveLine {
            id: o.id,
            title: o.title.clone(),
            level: o.level.clone(),
            parent: title(o.parent_id),
            owner: o.owner_name.clone().unwrap_or_default(),
            period: format!("{} – {}", o.period_start, o.period_end),
            metrics: o.metrics.iter().map(|m| m.metric.as_str()).collect::<Vec<_>>().join(", "),
        })
        .collect()
}

fn cost_lines(costs: &[CostView]) -> Vec<CostLine> {
    costs
        .iter()
        .map(|c| CostLine {
            id: c.id,
            period: format!("{} – {}", c.period_start, c.period_end),
            amount: show(Unit::Cents, Some(c.amount_cents as f64)),
            note: c.note.clone(),
        })
        .collect()
}

async fn plans_page(state: &AppState, user: &WebUser, refused: Option<Refused>) -> PageResult {
    let by = &user.principal;
    let dir = Directory::load(state, by).await?;
    let objectives = state.store.list_objectives(by).await?;
    let zone = state.store.metrics_zone().await?;
    let page = PlansPage {
        layout: user.layout("Plans"),
        can_edit: matches!(by.role, Role::Admin | Role::Manager),
        metrics: catalogue().iter().map(|m| (m.id.clone(), format!("{} ({})", m.name, unit_name(m.unit)))).collect(),
        scopes: SCOPES,
        targets: target_lines(&state.store.list_targets(by).await?, &dir),
        objectives: objective_lines(&objectives),
        corporate: objectives.iter().filter(|o| o.parent_id.is_none()).map(|o| (o.id, o.title.clone())).collect(),
        staff: dir.agents,
        costs: cost_lines(&state.store.list_costs(by).await?),
        today: day::date_of(day::day_of(state.now(), &zone)).to_string(),
        refused,
    };
    let is_refused = page.refused.is_some();
    render_form(&page, is_refused)
}

pub async fn plans(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    plans_page(&state, &user, None).await
}

fn invalid(field: &str, message: &str) -> PageError {
    FieldError::new("invalid_value", field, message.to_owned()).into()
}

/// Money as written ("1234.5", "1234.56") in cents.
fn cents(raw: &str) -> Result<i64, PageError> {
    let bad = || invalid("amount", "must be an amount such as 1250 or 1250.50");
    let (int, frac) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 13 || !digits(int) || !digits(frac) || frac.len() > 2 {
        return Err(bad());
    }
    let whole: i64 = int.parse().map_err(|_| bad())?;
    let part: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    whole.checked_mul(100).and_then(|c| c.checked_add(part)).ok_or_else(bad)
}

fn number(f: &FormPairs, field: &str) -> Result<Option<i64>, PageError> {
    f.get(field).map(|s| s.parse::<i64>().map_err(|_| invalid(field, "must be a whole number"))).transpose()
}

async fn after(
    state: &AppState,
    user: &WebUser,
    form: &'static str,
    f: FormPairs,
    r: Result<(), PageError>,
) -> PageResult {
    match r {
        Ok(()) => Ok(see_other(&format!("/admin/plans#{form}s"))),
        Err(e) => plans_page(state, user, Some(refused(form, e, f.0)?)).await,
    }
}

pub async fn create_target(State(state): State<AppState>, StaffUser(user): StaffUser, f: FormPairs) -> PageResult {
    user.check_csrf(f.get("csrf").unwrap_or(""))?;
    let result = async {
        let min_sample = match f.get("min_sample") {
            Some(s) => Some(s.parse::<u64>().map_err(|_| invalid("min_sample", "must be a whole number, 0 or more"))?),
            None => None,
        };
        let draft = TargetDraft {
            metric: f.text("metric"),
            scope: f.opt("scope"),
            scope_key: f.opt("scope_key"),
            target: f.text("target"),
            amber: f.opt("amber"),
            min_sample,
            direction: None,
            effective_from: f.text("effective_from"),
            effective_to: f.opt("effective_to"),
        };
        let target = draft.validate()?;
        state.store.create_target(&user.principal, target, state.now()).await?;
        Ok(())
    }
    .await;
    after(&state, &user, "target", f, result).await
}

pub async fn create_objective(State(state): State<AppState>, StaffUser(user): StaffUser, f: FormPairs) -> PageResult {
    user.check_csrf(f.get("csrf").unwrap_or(""))?;
    let result = async {
        let draft = ObjectiveDraft {
            parent_id: number(&f, "parent_id")?,
            level: f.text("level"),
            title: f.text("title"),
            description: f.opt("description"),
            owner_id: number(&f, "owner_id")?,
            period_start: f.text("period_start"),
            period_end: f.text("period_end"),
            metrics: f
                .all("metrics")
                .into_iter()
                .map(|m| ObjectiveMetricDraft {
                    metric: m.to_owned(),
                    scope: f.opt("scope"),
                    scope_key: f.opt("scope_key"),
                })
                .collect(),
        };
        let objective = draft.validate()?;
        state.store.create_objective(&user.principal, objective, state.now()).await?;
        Ok(())
    }
    .await;
    after(&state, &user, "objective", f, result).await
}

pub async fn create_cost(State(state): State<AppState>, StaffUser(user): StaffUser, f: FormPairs) -> PageResult {
    user.check_csrf(f.get("csrf").unwrap_or(""))?;
    let result = async {
        let draft = CostDraft {
            period_start: f.text("period_start"),
            period_end: f.text("period_end"),
            amount_cents: cents(f.get("amount").unwrap_or(""))?,
            note: f.opt("note"),
        };
        let cost = draft.validate()?;
        state.store.create_cost(&user.principal, cost, state.now()).await?;
        Ok(())
    }
    .await;
    after(&state, &user, "cost", f, result).await
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn delete_target(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(f): WebForm<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    state.store.delete_target(&user.principal, id).await?;
    Ok(see_other("/admin/plans#targets"))
}

pub async fn delete_objective(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(f): WebForm<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    let result = state.store.delete_objective(&user.principal, id).await.map_err(PageError::from);
    after(&state, &user, "objective", FormPairs(Vec::new()), result).await
}

pub async fn delete_cost(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(f): WebForm<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    state.store.delete_cost(&user.principal, id).await?;
    Ok(see_other("/admin/plans#costs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_read_in_cents_exactly() {
        assert_eq!(cents("1250").ok(), Some(125_000));
        assert_eq!(cents("1250.5").ok(), Some(125_050));
        assert_eq!(cents("0.07").ok(), Some(7));
        for bad in ["", "-5", "1.234", "12,50", "1e3", ".5"] {
            assert!(cents(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn draft_fields_become_the_form_fields() {
        assert_eq!(form_field("metrics[2].scope_key"), "scope_key");
        assert_eq!(form_field("amount_cents"), "amount");
        assert_eq!(form_field("effective_to"), "effective_to");
    }
}
