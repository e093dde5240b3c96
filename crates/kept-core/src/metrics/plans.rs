//! What managers plan: targets per metric and scope with effective dates,
//! objectives linked to the metrics that measure them, and the costs of a
//! period. Drafts come from forms and the API; `validate` names the field
//! and the problem for anything wrong.

use super::catalogue::{Formula, MetricDef, direction_name, metric};
use super::evaluate::parse_target;
use super::items::Scope;
use crate::FieldError;
use crate::stats::Direction;
use jiff::civil::Date;
use serde::Deserialize;

fn invalid(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new("invalid_value", field, message.into())
}

fn date(field: &str, raw: &str) -> Result<Date, FieldError> {
    raw.trim().parse::<Date>().map_err(|_| invalid(field, "must be a date such as 2026-01-31"))
}

fn known_metric(field: &str, id: &str) -> Result<&'static MetricDef, FieldError> {
    metric(id.trim())
        .ok_or_else(|| invalid(field, format!("unknown metric \"{}\"; see GET /api/v1/metrics", id.trim())))
}

fn scope_and_key(scope: Option<&str>, key: Option<&str>) -> Result<(Scope, String), FieldError> {
    let scope = Scope::parse("scope", scope.unwrap_or("org").trim())?;
    let key = key.unwrap_or("").trim().to_owned();
    match (scope, key.is_empty()) {
        (Scope::Org, false) => Err(invalid("scope_key", "the organisation scope takes no key")),
        (Scope::Org, true) => Ok((scope, key)),
        (_, true) => {
            Err(invalid("scope_key", "required for this scope (a team or agent id, a tier, channel or case type)"))
        }
        (Scope::Team | Scope::Agent, false) if key.parse::<i64>().is_err() => {
            Err(invalid("scope_key", "must be the numeric id of the team or agent"))
        }
        _ if key.len() > 100 => Err(invalid("scope_key", "at most 100 characters")),
        _ => Ok((scope, key)),
    }
}

/// Whether a metric's value rests on a sample (D-8 greys small ones).
pub fn sampled(def: &MetricDef) -> bool {
    !matches!(def.formula, Formula::Volume(_) | Formula::Backlog { .. } | Formula::BacklogAge(_) | Formula::CostPerCase)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetDraft {
    pub metric: String,
    pub scope: Option<String>,
    pub scope_key: Option<String>,
    /// In the metric's display unit: "85" (%), "3600" (s), "4.2", "-10".
    pub target: String,
    pub amber: Option<String>,
    pub min_sample: Option<u64>,
    pub direction: Option<String>,
    pub effective_from: String,
    pub effective_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub metric: String,
    pub scope: Scope,
    pub scope_key: String,
    pub direction: Direction,
    pub target_micros: i64,
    pub amber_micros: i64,
    pub min_sample: u64,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
}

pub fn parse_direction(field: &str, raw: &str) -> Result<Direction, FieldError> {
    match raw.trim() {
        "higher_is_better" => Ok(Direction::HigherIsBetter),
        "lower_is_better" => Ok(Direction::LowerIsBetter),
        _ => Err(invalid(field, "must be higher_is_better or lower_is_better")),
    }
}

impl TargetDraft {
    pub fn validate(&self) -> Result<Target, FieldError> {
        let def = known_metric("metric", &self.metric)?;
        let (scope, scope_key) = scope_and_key(self.scope.as_deref(), self.scope_key.as_deref())?;
        let target_micros = parse_target(def.unit, &self.target)?;
        let amber_micros = match self.amber.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(a) => parse_target(def.unit, a).map_err(|e| invalid("amber", e.message))?,
            None => 0,
        };
        if amber_micros < 0 {
            return Err(invalid("amber", "must not be negative"));
        }
        let direction = match self.direction.as_deref() {
            Some(d) => parse_direction("direction", d)?,
            None => def.direction,
        };
        let effective_from = date("effective_from", &self.effective_from)?;
        let effective_to = self
            .effective_to
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|d| date("effective_to", d))
            .transpose()?;
        if effective_to.is_some_and(|to| to <= effective_from) {
            return Err(invalid("effective_to", "must be after effective_from"));
        }
        let min_sample = self.min_sample.unwrap_or(if sampled(def) { 30 } else { 0 });
        if min_sample > 1_000_000 {
            return Err(invalid("min_sample", "at most 1000000"));
        }
        Ok(Target {
            metric: def.id.clone(),
            scope,
            scope_key,
            direction,
            target_micros,
            amber_micros,
            min_sample,
            effective_from,
            effective_to,
        })
    }
}

impl Target {
    pub fn direction_name(&self) -> &'static str {
        direction_name(self.direction)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveMetricDraft {
    pub metric: String,
    pub scope: Option<String>,
    pub scope_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveDraft {
    pub parent_id: Option<i64>,
    /// "corporate" or "service".
    pub level: String,
    pub title: String,
    pub description: Option<String>,
    pub owner_id: Option<i64>,
    pub period_start: String,
    pub period_end: String,
    #[serde(default)]
    pub metrics: Vec<ObjectiveMetricDraft>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objective {
    pub parent_id: Option<i64>,
    pub corporate: bool,
    pub title: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub period_start: Date,
    pub period_end: Date,
    pub metrics: Vec<(String, Scope, String)>,
}

impl ObjectiveDraft {
    pub fn validate(&self) -> Result<Objective, FieldError> {
        let corporate = match self.level.trim() {
            "corporate" => true,
            "service" => false,
            _ => return Err(invalid("level", "must be corporate or service")),
        };
        if corporate && self.parent_id.is_some() {
            return Err(invalid("parent_id", "a corporate objective has no parent"));
        }
        if !corporate && self.parent_id.is_none() {
            return Err(invalid("parent_id", "a service objective names the corporate objective it serves"));
        }
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(invalid("title", "1 to 200 characters"));
        }
        let description = self.description.as_deref().unwrap_or("").trim().to_owned();
        if description.chars().count() > 5000 {
            return Err(invalid("description", "at most 5000 characters"));
        }
        let (period_start, period_end) =
            (date("period_start", &self.period_start)?, date("period_end", &self.period_end)?);
        if period_end < period_start {
            return Err(invalid("period_end", "must not be before period_start"));
        }
        if self.metrics.len() > 50 {
            return Err(invalid("metrics", "at most 50"));
        }
        let mut metrics = Vec::new();
        for (i, m) in self.metrics.iter().enumerate() {
            let def = known_metric(&format!("metrics[{i}].metric"), &m.metric)?;
            let (scope, key) = scope_and_key(m.scope.as_deref(), m.scope_key.as_deref())
                .map_err(|e| invalid(&format!("metrics[{i}].{}", e.field), e.message))?;
            let entry = (def.id.clone(), scope, key);
            if !metrics.contains(&entry) {
                metrics.push(entry);
            }
        }
        Ok(Objective {
            parent_id: self.parent_id,
            corporate,
            title: title.to_owned(),
            description,
            owner_id: self.owner_id,
            period_start,
            period_end,
            metrics,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostDraft {
    pub period_start: String,
    pub period_end: String,
    pub amount_cents: i64,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    pub period_start: Date,
    pub period_end: Date,
    pub amount_cents: i64,
    pub note: String,
}

impl CostDraft {
    pub fn validate(&self) -> Result<Cost, FieldError> {
        let (period_start, period_end) =
            (date("period_start", &self.period_start)?, date("period_end", &self.period_end)?);
        if period_end < period_start {
            return Err(invalid("period_end", "must not be before period_start"));
        }
        if !(0..=1_000_000_000_000).contains(&self.amount_cents) {
            return Err(invalid("amount_cents", "must be between 0 and 10^12 cents"));
        }
        let note = self.note.as_deref().unwrap_or("").trim().to_owned();
        if note.chars().count() > 500 {
            return Err(invalid("note", "at most 500 characters"));
        }
        Ok(Cost { period_start, period_end, amount_cents: self.amount_cents, note })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> TargetDraft {
        TargetDraft {
            metric: "csat".into(),
            scope: Some("team".into()),
            scope_key: Some("3".into()),
            target: "85".into(),
            amber: Some("3".into()),
            min_sample: None,
            direction: None,
            effective_from: "2026-01-01".into(),
            effective_to: None,
        }
    }

    #[test]
    fn a_target_takes_its_unit_and_direction_from_the_catalogue() {
        let t = draft().validate().unwrap();
        assert_eq!((t.target_micros, t.amber_micros, t.min_sample), (850_000, 30_000, 30));
        assert_eq!(t.direction, Direction::HigherIsBetter);
        let frt = TargetDraft { metric: "frt_business_median".into(), target: "3600".into(), ..draft() };
        assert_eq!(frt.validate().unwrap().direction, Direction::LowerIsBetter);
        let backlog = TargetDraft { metric: "backlog".into(), target: "100".into(), ..draft() };
        assert_eq!(backlog.validate().unwrap().min_sample, 0);
    }

    #[test]
    fn bad_targets_name_the_field() {
        for (d, field) in [
            (TargetDraft { metric: "happiness".into(), ..draft() }, "metric"),
            (TargetDraft { scope: Some("galaxy".into()), ..draft() }, "scope"),
            (TargetDraft { scope_key: None, ..draft() }, "scope_key"),
            (TargetDraft { scope_key: Some("support".into()), ..draft() }, "scope_key"),
            (TargetDraft { scope: Some("org".into()), ..draft() }, "scope_key"),
            (TargetDraft { target: "eighty".into(), ..draft() }, "target"),
            (TargetDraft { target: "120".into(), ..draft() }, "target"),
            (TargetDraft { amber: Some("x".into()), ..draft() }, "amber"),
            (TargetDraft { direction: Some("up".into()), ..draft() }, "direction"),
            (TargetDraft { effective_from: "2026-13-01".into(), ..draft() }, "effective_from"),
            (TargetDraft { effective_to: Some("2025-01-01".into()), ..draft() }, "effective_to"),
        ] {
            assert_eq!(d.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn objectives_form_a_two_level_tree() {
        let corp = ObjectiveDraft {
            parent_id: None,
            level: "corporate".into(),
            title: " Keep customers ".into(),
            description: None,
            owner_id: None,
            period_start: "2026-01-01".into(),
            period_end: "2026-12-31".into(),
            metrics: vec![ObjectiveMetricDraft { metric: "account_retention".into(), scope: None, scope_key: None }],
        };
        let o = corp.validate().unwrap();
        assert_eq!((o.title.as_str(), o.corporate, o.metrics.len()), ("Keep customers", true, 1));
        assert_eq!(
            ObjectiveDraft { level: "service".into(), ..corp.clone() }.validate().unwrap_err().field,
            "parent_id"
        );
        assert_eq!(ObjectiveDraft { parent_id: Some(1), ..corp.clone() }.validate().unwrap_err().field, "parent_id");
        let bad = ObjectiveDraft {
            metrics: vec![ObjectiveMetricDraft { metric: "nope".into(), scope: None, scope_key: None }],
            ..corp.clone()
        };
        assert_eq!(bad.validate().unwrap_err().field, "metrics[0].metric");
        assert_eq!(
            ObjectiveDraft { period_end: "2025-01-01".into(), ..corp }.validate().unwrap_err().field,
            "period_end"
        );
    }

    #[test]
    fn costs_are_whole_cents_over_a_period() {
        let c = CostDraft {
            period_start: "2026-01-01".into(),
            period_end: "2026-01-31".into(),
            amount_cents: 5_000_000,
            note: None,
        };
        assert_eq!(c.validate().unwrap().amount_cents, 5_000_000);
        assert_eq!(CostDraft { amount_cents: -1, ..c.clone() }.validate().unwrap_err().field, "amount_cents");
        assert_eq!(CostDraft { period_end: "2025-12-31".into(), ..c }.validate().unwrap_err().field, "period_end");
    }
}
