//! Targets, objectives and costs: written by managers and admins, read by
//! every scorecard.

use crate::Store;
use crate::db::{DbRow, args};
use crate::error::Result;
use jiff::Timestamp;
use jiff::civil::Date;
use kept_core::DomainError;
use kept_core::metrics::{Cost, Objective, Scope, Target, TargetRule, format_target, metric, parse_direction};
use kept_core::people::Role;
use kept_core::permissions::Principal;
use serde::Serialize;

fn require_planner(by: &Principal) -> Result<()> {
    by.require_staff()?;
    match by.role {
        Role::Admin | Role::Manager => Ok(()),
        _ => Err(DomainError::forbidden("only an admin or a manager may set targets, objectives and costs").into()),
    }
}

fn scope_of(raw: &str) -> Result<Scope> {
    Scope::parse("scope", raw).map_err(|_| crate::StoreError::Corrupt(format!("scope {raw}")))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetView {
    pub id: i64,
    pub metric: String,
    pub scope: String,
    pub scope_key: String,
    pub direction: String,
    /// In the metric's display unit, as entered ("85" for 85 %).
    pub target: String,
    pub amber: String,
    pub target_micros: i64,
    pub amber_micros: i64,
    pub min_sample: i64,
    pub effective_from: String,
    pub effective_to: Option<String>,
}

impl TargetView {
    fn from_row(r: &DbRow) -> Result<Self> {
        let m = r.text("metric")?;
        let unit = metric(&m).map(|d| d.unit).unwrap_or(kept_core::metrics::Unit::Count);
        let (t, a) = (r.int("target_micros")?, r.int("amber_micros")?);
        Ok(Self {
            id: r.int("id")?,
            metric: m,
            scope: r.text("scope")?,
            scope_key: r.text("scope_key")?,
            direction: r.text("direction")?,
            target: format_target(unit, t),
            amber: format_target(unit, a),
            target_micros: t,
            amber_micros: a,
            min_sample: r.int("min_sample")?,
            effective_from: r.text("effective_from")?,
            effective_to: r.opt_text("effective_to")?,
        })
    }

    pub fn rule(&self) -> Option<TargetRule> {
        Some(TargetRule {
            target_micros: self.target_micros,
            amber_micros: self.amber_micros,
            direction: parse_direction("direction", &self.direction).ok()?,
            min_sample: self.min_sample.max(0) as u64,
        })
    }

    /// Whether the target is in force on `date`.
    pub fn in_force(&self, date: Date) -> bool {
        let d = date.to_string();
        self.effective_from <= d && self.effective_to.as_ref().is_none_or(|to| d < *to)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveMetricView {
    pub metric: String,
    pub scope: String,
    pub scope_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveView {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub level: String,
    pub title: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub period_start: String,
    pub period_end: String,
    pub metrics: Vec<ObjectiveMetricView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostView {
    pub id: i64,
    pub period_start: String,
    pub period_end: String,
    pub amount_cents: i64,
    pub note: String,
}

const TARGET_COLUMNS: &str = "id, metric, scope, scope_key, direction, target_micros, amber_micros, min_sample, \
                              effective_from, effective_to";

impl Store {
    pub async fn create_target(&self, by: &Principal, t: Target, now: Timestamp) -> Result<TargetView> {
        require_planner(by)?;
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO metric_targets (metric, scope, scope_key, direction, target_micros, amber_micros, min_sample, \
                 effective_from, effective_to, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                args![
                    t.metric.as_str(),
                    t.scope.as_str(),
                    t.scope_key.as_str(),
                    t.direction_name(),
                    t.target_micros,
                    t.amber_micros,
                    t.min_sample as i64,
                    t.effective_from.to_string(),
                    t.effective_to.map(|d| d.to_string()),
                    by.actor().map(|u| u.0),
                    now
                ],
            )
            .await?;
        let sql = format!("SELECT {TARGET_COLUMNS} FROM metric_targets WHERE id = $1");
        let row = tx.fetch_one(crate::db::Sql::built(sql), args![id]).await?;
        tx.commit().await?;
        TargetView::from_row(&row)
    }

    pub async fn list_targets(&self, by: &Principal) -> Result<Vec<TargetView>> {
        by.require_staff()?;
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM metric_targets ORDER BY metric, scope, scope_key, effective_from, id"
        );
        self.db.fetch_all(crate::db::Sql::built(sql), args![]).await?.iter().map(TargetView::from_row).collect()
    }

    pub async fn delete_target(&self, by: &Principal, id: i64) -> Result<()> {
        require_planner(by)?;
        let n = self.db.execute("DELETE FROM metric_targets WHERE id = $1", args![id]).await?;
        if n == 0 {
            return Err(DomainError::NotFound { entity: "target" }.into());
        }
        Ok(())
    }

    pub async fn create_objective(&self, by: &Principal, o: Objective, now: Timestamp) -> Result<ObjectiveView> {
        require_planner(by)?;
        let mut tx = self.db.begin().await?;
        if let Some(parent) = o.parent_id {
            let row = tx.fetch_optional("SELECT level FROM objectives WHERE id = $1", args![parent]).await?;
            match row {
                Some(r) if r.text("level")? == "corporate" => {}
                Some(_) => {
                    return Err(
                        DomainError::invalid("invalid_value", "parent_id", "must be a corporate objective").into()
                    );
                }
                None => return Err(DomainError::invalid("not_found", "parent_id", "no such objective").into()),
            }
        }
        if let Some(owner) = o.owner_id {
            let row = tx.fetch_optional("SELECT role FROM users WHERE id = $1", args![owner]).await?;
            if !row.is_some_and(|r| r.text("role").is_ok_and(|role| role != "contact")) {
                return Err(DomainError::invalid("invalid_value", "owner_id", "must be a member of staff").into());
            }
        }
        let id = tx
            .insert(
                "INSERT INTO objectives (parent_id, level, title, description, owner_id, period_start, period_end, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                args![
                    o.parent_id,
                    if o.corporate { "corporate" } else { "service" },
                    o.title.as_str(),
                    o.description.as_str(),
                    o.owner_id,
                    o.period_start.to_string(),
                    o.period_end.to_string(),
                    now
                ],
            )
            .await?;
        for (m, scope, key) in &o.metrics {
            tx.execute(
                "INSERT INTO objective_metrics (objective_id, metric, scope, scope_key) VALUES ($1, $2, $3, $4)",
                args![id, m.as_str(), scope.as_str(), key.as_str()],
            )
            .await?;
        }
        tx.commit().await?;
        self.list_objectives(by)
            .await?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or(DomainError::NotFound { entity: "objective" }.into())
    }

    pub async fn list_objectives(&self, by: &Principal) -> Result<Vec<ObjectiveView>> {
        by.require_staff()?;
        let rows = self
            .db
            .fetch_all(
                "SELECT o.id, o.parent_id, o.level, o.title, o.description, o.owner_id, u.name AS owner_name, o.period_start, \
                 o.period_end FROM objectives o LEFT JOIN users u ON u.id = o.owner_id ORDER BY o.level, o.id",
                args![],
            )
            .await?;
        let links = self
            .db
            .fetch_all(
                "SELECT objective_id, metric, scope, scope_key FROM objective_metrics ORDER BY objective_id, metric",
                args![],
            )
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let id = r.int("id")?;
            let mut metrics = Vec::new();
            for l in links.iter().filter(|l| l.int("objective_id").ok() == Some(id)) {
                scope_of(&l.text("scope")?)?;
                metrics.push(ObjectiveMetricView {
                    metric: l.text("metric")?,
                    scope: l.text("scope")?,
                    scope_key: l.text("scope_key")?,
                });
            }
            out.push(ObjectiveView {
                id,
                parent_id: r.opt_int("parent_id")?,
                level: r.text("level")?,
                title: r.text("title")?,
                description: r.text("description")?,
                owner_id: r.opt_int("owner_id")?,
                owner_name: r.opt_text("owner_name")?,
                period_start: r.text("period_start")?,
                period_end: r.text("period_end")?,
                metrics,
            });
        }
        Ok(out)
    }

    /// Deletes an objective with its metric links; one with service
    /// objectives under it is refused.
    pub async fn delete_objective(&self, by: &Principal, id: i64) -> Result<()> {
        require_planner(by)?;
        let mut tx = self.db.begin().await?;
        let children =
            tx.fetch_one("SELECT COUNT(*) AS n FROM objectives WHERE parent_id = $1", args![id]).await?.int("n")?;
        if children > 0 {
            return Err(
                DomainError::invalid("has_children", "id", "delete the service objectives under it first").into()
            );
        }
        tx.execute("DELETE FROM objective_metrics WHERE objective_id = $1", args![id]).await?;
        if tx.execute("DELETE FROM objectives WHERE id = $1", args![id]).await? == 0 {
            return Err(DomainError::NotFound { entity: "objective" }.into());
        }
        tx.commit().await
    }

    pub async fn create_cost(&self, by: &Principal, c: Cost, now: Timestamp) -> Result<CostView> {
        require_planner(by)?;
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO costs (period_start, period_end, amount_cents, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                args![c.period_start.to_string(), c.period_end.to_string(), c.amount_cents, c.note.as_str(), by.actor().map(|u| u.0), now],
            )
            .await?;
        tx.commit().await?;
        Ok(CostView {
            id,
            period_start: c.period_start.to_string(),
            period_end: c.period_end.to_string(),
            amount_cents: c.amount_cents,
            note: c.note,
        })
    }

    pub async fn list_costs(&self, by: &Principal) -> Result<Vec<CostView>> {
        by.require_staff()?;
        let rows = self
            .db
            .fetch_all(
                "SELECT id, period_start, period_end, amount_cents, note FROM costs ORDER BY period_start, id",
                args![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CostView {
                    id: r.int("id")?,
                    period_start: r.text("period_start")?,
                    period_end: r.text("period_end")?,
                    amount_cents: r.int("amount_cents")?,
                    note: r.text("note")?,
                })
            })
            .collect()
    }

    pub async fn delete_cost(&self, by: &Principal, id: i64) -> Result<()> {
        require_planner(by)?;
        if self.db.execute("DELETE FROM costs WHERE id = $1", args![id]).await? == 0 {
            return Err(DomainError::NotFound { entity: "cost" }.into());
        }
        Ok(())
    }
}

/// The target in force on `date` for a metric in a scope: the scope's own,
/// else the organisation's (a team without its own target is held to the
/// organisation's). The newest effective_from wins.
pub fn target_for<'a>(
    targets: &'a [TargetView],
    metric: &str,
    scope: Scope,
    key: &str,
    date: Date,
) -> Option<&'a TargetView> {
    let pick = |s: Scope, k: &str| {
        targets
            .iter()
            .filter(|t| t.metric == metric && t.scope == s.as_str() && t.scope_key == k && t.in_force(date))
            .max_by(|a, b| a.effective_from.cmp(&b.effective_from).then(a.id.cmp(&b.id)))
    };
    pick(scope, key).or_else(|| if scope == Scope::Org { None } else { pick(Scope::Org, "") })
}
