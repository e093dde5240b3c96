//! The cases behind a number: every case whose stored contribution put an
//! observation of the metric's measures into the scope on a day of the period.

use crate::Store;
use crate::db::SqlBuilder;
use crate::error::{Result, StoreError};
use kept_core::ids::{AccountId, TeamId};
use kept_core::metrics::{Formula, Items, Measure, MetricDef, Scope, day};
use kept_core::permissions::{CaseScope, Principal};
use serde::Serialize;

/// At most this many cases are listed (the count says how many there were).
pub const DRILL_LIMIT: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillRow {
    pub case_id: i64,
    pub subject: String,
    pub status: String,
    /// The local date the observation counts on.
    pub date: String,
    /// The observed value: seconds for durations, the score for surveys,
    /// 1/0 for met/missed, a count for volumes.
    pub value: i64,
    /// For proportions: whether the case counts as good (met, satisfied, …).
    pub good: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drill {
    pub metric: String,
    /// Observations listed (at most DRILL_LIMIT of them are in `rows`).
    pub total: usize,
    /// Observations on cases the caller may not see (other teams' cases):
    /// counted in the number, not listed.
    pub hidden: usize,
    pub rows: Vec<DrillRow>,
}

fn measures(def: &MetricDef) -> (Vec<Measure>, Option<i64>) {
    match def.formula {
        Formula::Share(m) | Formula::MeanScore(m) | Formula::Duration(m, _) | Formula::Volume(m) => (vec![m], None),
        Formula::PerCase(m) | Formula::WaitShare(m) => (vec![m], None),
        Formula::ScoresAtLeast(m, min) => (vec![m], Some(min)),
        Formula::Nps => (vec![Measure::Nps], Some(9)),
        Formula::AllPromises => (Measure::ALL.iter().copied().filter(|m| m.clock().is_some()).collect(), None),
        Formula::CostPerCase => (vec![Measure::Resolved], None),
        Formula::Backlog { .. } | Formula::BacklogAge(_) | Formula::Retention => (Vec::new(), None),
    }
}

pub(crate) fn scope_filter(q: &mut SqlBuilder, scope: Scope, key: &str) {
    let id = key.parse::<i64>().unwrap_or(-1);
    match scope {
        Scope::Org | Scope::Account => {}
        Scope::Team => {
            q.push(" AND c.team_id = ").bind(id);
        }
        Scope::Agent => {
            q.push(" AND c.assignee_id = ").bind(id);
        }
        Scope::Tier => {
            q.push(" AND a.tier = ").bind(key);
        }
        Scope::Channel => {
            q.push(" AND c.channel = ").bind(key);
        }
        Scope::CaseType => {
            q.push(" AND c.case_type = ").bind(key);
        }
    }
}

impl Store {
    /// The cases behind `def` for `scope`/`key` over local days `from..=to`,
    /// worst first (missed before met, longest first).
    pub async fn drill(
        &self,
        by: &Principal,
        def: &MetricDef,
        scope: Scope,
        key: &str,
        from: i32,
        to: i32,
    ) -> Result<Drill> {
        by.require_staff()?;
        let zone = &self.metrics_zone().await?;
        let (start, end) = (day::day_start(from, zone), day::day_start(to + 1, zone));
        let (wanted, good_from) = measures(def);
        let proportion = def.proportion;
        let mut q = SqlBuilder::new(
            "SELECT c.id, c.subject, c.status, c.team_id, c.requesting_team_id, c.account_id, s.items FROM cases c JOIN accounts a ON a.id = c.account_id \
             JOIN metric_sources s ON s.source_kind = 'case' AND s.source_id = c.id WHERE c.created_at < ",
        );
        q.bind(end);
        if matches!(def.formula, Formula::Backlog { .. } | Formula::BacklogAge(_)) {
            let actionable = matches!(def.formula, Formula::Backlog { actionable: true });
            // The backlog as it stands: open cases created before the period's end.
            q.push(if actionable {
                " AND c.status IN ('new', 'open', 'on_hold')"
            } else {
                " AND c.status NOT IN ('solved', 'closed')"
            });
        } else {
            q.push(" AND (c.updated_at >= ").bind(start).push(" OR c.clocks_at >= ").bind(start);
            q.push(" OR c.status NOT IN ('solved', 'closed') OR EXISTS (SELECT 1 FROM survey_invitations i WHERE i.case_id = c.id AND i.sent_at >= ");
            q.bind(start).push("))");
        }
        scope_filter(&mut q, scope, key);
        q.push(" ORDER BY c.id");
        let (sql, a) = q.finish();
        let mut rows = Vec::new();
        let mut hidden = 0;
        for r in self.db.fetch_all(sql, a).await? {
            let case_id = r.int("id")?;
            let visible = by.can_see_case(CaseScope {
                team_id: TeamId(r.int("team_id")?),
                requesting_team_id: r.opt_int("requesting_team_id")?.map(TeamId),
                account_id: AccountId(r.int("account_id")?),
            });
            if matches!(def.formula, Formula::Backlog { .. } | Formula::BacklogAge(_)) {
                if !visible {
                    hidden += 1;
                    continue;
                }
                rows.push(DrillRow {
                    case_id,
                    subject: r.text("subject")?,
                    status: r.text("status")?,
                    date: String::new(),
                    value: 1,
                    good: None,
                });
                continue;
            }
            let items = Items::decode(&r.bytes("items")?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            for item in &items.items {
                if !wanted.contains(&item.measure) || item.day < from || item.day > to {
                    continue;
                }
                let in_scope = items
                    .attributions
                    .get(item.attribution)
                    .is_some_and(|a| a.scopes().iter().any(|(s, k)| *s == scope && (scope == Scope::Org || k == key)));
                if !in_scope {
                    continue;
                }
                if !visible {
                    hidden += 1;
                    continue;
                }
                let value = item.value.unwrap_or(item.total);
                let good = match good_from {
                    Some(min) => Some(value >= min),
                    None if proportion => Some(item.total > 0),
                    None => None,
                };
                rows.push(DrillRow {
                    case_id,
                    subject: r.text("subject")?,
                    status: r.text("status")?,
                    date: day::date_of(item.day).to_string(),
                    value,
                    good,
                });
            }
        }
        let lower_better = def.direction == kept_core::stats::Direction::LowerIsBetter;
        rows.sort_by(|a, b| {
            a.good
                .cmp(&b.good)
                .then_with(|| if lower_better { b.value.cmp(&a.value) } else { a.value.cmp(&b.value) })
                .then(a.case_id.cmp(&b.case_id))
        });
        let total = rows.len();
        rows.truncate(DRILL_LIMIT);
        Ok(Drill { metric: def.id.clone(), total, hidden, rows })
    }
}
