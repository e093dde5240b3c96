//! Reading a scope's numbers for a span of days: the sums a scorecard
//! evaluates, one entry per day for the charts, the backlog from the flows,
//! costs pro rata and account retention.

use super::rollups::{Grain, RowValues, month_of, read_days};
use crate::Store;
use crate::db::args;
use crate::error::Result;
use kept_core::metrics::{BacklogAges, Measure, PeriodData, Scope, day};
use std::collections::BTreeMap;

/// A scope's period: the sums, and each point's own data (a day, or a
/// month keyed by its first day; the first and last may be partial).
#[derive(Debug, Clone, Default)]
pub struct PeriodReading {
    pub from: i32,
    pub to: i32,
    pub total: PeriodData,
    pub points: BTreeMap<i32, PeriodData>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    Days,
    Months,
}

/// The first day of the month after the one starting on `month`.
fn day_after_month(month: i32) -> i32 {
    day::day_number(day::date_of(month).last_of_month()) + 1
}

/// The first days of the first and last whole months inside `from..=to`.
fn full_months(from: i32, to: i32) -> Option<(i32, i32)> {
    let first = if month_of(from) == from { from } else { day_after_month(month_of(from)) };
    let last_month = month_of(to);
    let last = if day_after_month(last_month) == to + 1 { last_month } else { month_of(last_month - 1) };
    (first <= last).then_some((first, last))
}

fn add_rows(data: &mut PeriodData, rows: &BTreeMap<Measure, RowValues>) {
    for (m, v) in rows {
        data.measures.entry(*m).or_default().add(v.n, v.total, Some(&v.hist));
    }
}

impl Store {
    /// The zone whose local days the rollups count (the configured zone until
    /// the first rollup is written; `kept rebuild-metrics` changes it).
    pub async fn metrics_zone(&self) -> Result<jiff::tz::TimeZone> {
        if let Some(r) = self.db.fetch_optional("SELECT time_zone FROM metric_state WHERE id = 1", args![]).await? {
            let name = r.text("time_zone")?;
            return jiff::tz::TimeZone::get(&name)
                .map_err(|_| crate::StoreError::Corrupt(format!("metric time zone {name}")));
        }
        let mut tx = self.db.begin().await?;
        let zone = super::rollups::zone(&mut tx, &self.mail.time_zone).await?;
        tx.commit().await?;
        Ok(zone)
    }

    /// The numbers of `scope`/`key` for the local days `from..=to`, with
    /// one entry per day in `points` (for charts and short trends).
    pub async fn period(&self, scope: Scope, key: &str, from: i32, to: i32) -> Result<PeriodReading> {
        self.read_period(scope, key, from, to, Detail::Days).await
    }

    /// The same sums read from whole months where it can (and days only at
    /// the edges), with one entry per month in `points`: for long periods
    /// and for the periods a scorecard compares with.
    pub async fn period_by_month(&self, scope: Scope, key: &str, from: i32, to: i32) -> Result<PeriodReading> {
        self.read_period(scope, key, from, to, Detail::Months).await
    }

    async fn read_period(&self, scope: Scope, key: &str, from: i32, to: i32, detail: Detail) -> Result<PeriodReading> {
        self.db.fold_rollups().await?;
        let mut tx = self.db.begin_read().await?;
        let mut reading = PeriodReading { from, to, ..PeriodReading::default() };
        let mut add = |point: i32, measures: &BTreeMap<Measure, RowValues>| {
            add_rows(&mut reading.total, measures);
            add_rows(reading.points.entry(point).or_default(), measures);
        };
        match (detail, full_months(from, to)) {
            (Detail::Months, Some((first, last))) => {
                let next = month_of(day_after_month(last));
                for (d, m) in &read_days(&mut tx, Grain::Day, scope, key, from, first - 1).await? {
                    add(month_of(*d), m);
                }
                for (d, m) in &read_days(&mut tx, Grain::Month, scope, key, first, last).await? {
                    add(*d, m);
                }
                for (d, m) in &read_days(&mut tx, Grain::Day, scope, key, next, to).await? {
                    add(month_of(*d), m);
                }
            }
            (Detail::Months, None) => {
                for (d, m) in &read_days(&mut tx, Grain::Day, scope, key, from, to).await? {
                    add(month_of(*d), m);
                }
            }
            (Detail::Days, _) => {
                for (d, m) in &read_days(&mut tx, Grain::Day, scope, key, from, to).await? {
                    add(*d, m);
                }
            }
        }
        // The backlog: every flow before the period (whole months, then the
        // days of the period's first month), then point by point.
        let flows = "AND measure IN ('backlog_in', 'backlog_out', 'actionable_in', 'actionable_out') GROUP BY measure";
        let mut open = (0i64, 0i64);
        let month = month_of(from);
        let before = [
            (
                format!(
                    "SELECT measure, CAST(SUM(n) AS BIGINT) AS n FROM metric_rollups_monthly WHERE scope = $1 AND scope_key = $2 AND day < $3 AND $4 = $4 {flows}"
                ),
                month,
                0,
            ),
            (
                format!(
                    "SELECT measure, CAST(SUM(n) AS BIGINT) AS n FROM metric_rollups WHERE scope = $1 AND scope_key = $2 AND day >= $3 AND day < $4 {flows}"
                ),
                month,
                from,
            ),
        ];
        for (sql, a, b) in before {
            for r in
                tx.fetch_all(crate::db::Sql::built(sql), args![scope.as_str(), key, i64::from(a), i64::from(b)]).await?
            {
                let n = r.int("n")?;
                match r.text("measure")?.as_str() {
                    "backlog_in" => open.0 += n,
                    "backlog_out" => open.0 -= n,
                    "actionable_in" => open.1 += n,
                    _ => open.1 -= n,
                }
            }
        }
        let points: Vec<i32> = match detail {
            Detail::Days => (from..=to).collect(),
            Detail::Months => {
                let mut v = vec![month_of(from)];
                while let Some(last) = v.last().copied().filter(|m| day_after_month(*m) <= to) {
                    v.push(day_after_month(last));
                }
                v
            }
        };
        for p in points {
            let entry = reading.points.entry(p).or_default();
            let flow = |m: Measure| entry.measures.get(&m).map_or(0, |a| a.n);
            open.0 += flow(Measure::BacklogIn) - flow(Measure::BacklogOut);
            open.1 += flow(Measure::ActionableIn) - flow(Measure::ActionableOut);
            entry.backlog = Some(open);
        }
        reading.total.backlog = Some(open);
        if scope == Scope::Org {
            reading.total.cost_cents = self.costs_between(&mut tx, from, to).await?;
        }
        if matches!(scope, Scope::Org | Scope::Tier) {
            reading.total.retention = Some(retention(&mut tx, scope, key, from, to).await?);
        }
        Ok(reading)
    }
}

/// Accounts with cases in the previous period of equal length, and of those,
/// the ones with cases in this period.
async fn retention(tx: &mut crate::db::Tx, scope: Scope, key: &str, from: i32, to: i32) -> Result<(u64, u64)> {
    let before = from - (to - from + 1);
    let tier = if scope == Scope::Tier { key } else { "" };
    // Two index seeks per account (the rollups' primary key), not a scan of
    // every account-day: the accounts table is far smaller than its activity.
    let sql = "SELECT COALESCE(SUM(CASE WHEN prev THEN 1 ELSE 0 END), 0) AS base, \
               COALESCE(SUM(CASE WHEN prev AND cur THEN 1 ELSE 0 END), 0) AS kept FROM ( \
               SELECT EXISTS (SELECT 1 FROM metric_rollups r WHERE r.scope = 'account' AND r.scope_key = CAST(a.id AS TEXT) \
               AND r.day >= $1 AND r.day < $2 AND r.n > 0) AS prev, \
               EXISTS (SELECT 1 FROM metric_rollups r WHERE r.scope = 'account' AND r.scope_key = CAST(a.id AS TEXT) \
               AND r.day >= $2 AND r.day <= $3 AND r.n > 0) AS cur \
               FROM accounts a WHERE ($4 = '' OR a.tier = $4)) t";
    let r = tx.fetch_one(sql, args![i64::from(before), i64::from(from), i64::from(to), tier]).await?;
    Ok((r.int("base")?.max(0) as u64, r.int("kept")?.max(0) as u64))
}

impl Store {
    /// How old the cases of a scope open now are: the count, and the median
    /// and p90 (type 7) of their ages at `now`, exactly: the order statistics
    /// are read from the open-case indexes (0005_metrics.sql), not by loading
    /// every open case.
    pub async fn open_case_ages(&self, scope: Scope, key: &str, now: jiff::Timestamp) -> Result<BacklogAges> {
        let base = |head: &str| {
            let join = if scope == Scope::Tier { " JOIN accounts a ON a.id = c.account_id" } else { "" };
            let mut q = crate::db::SqlBuilder::new(&format!(
                "{head} FROM cases c{join} WHERE c.status NOT IN ('solved', 'closed')"
            ));
            super::drill::scope_filter(&mut q, scope, key);
            q
        };
        // Counted through the ordered index scan the order statistics use.
        let mut count = base("SELECT COUNT(*) AS n FROM (SELECT c.created_at");
        count.push(" ORDER BY c.created_at) t");
        let (sql, a) = count.finish();
        let n = self.db.fetch_one(sql, a).await?.int("n")?.max(0);
        let mut ages = BacklogAges { n: n as u64, median: None, p90: None };
        let age = |created: i64| (now.as_millisecond() - created).max(0) as f64 / 1000.0;
        for (q, slot) in [(0.5, &mut ages.median), (0.9, &mut ages.p90)] {
            if n == 0 {
                break;
            }
            // Youngest first, so rank r is the r-th smallest age.
            let h = (n - 1) as f64 * q;
            let low = h.floor() as i64;
            let mut query = base("SELECT c.created_at");
            query.push(" ORDER BY c.created_at DESC LIMIT 2 OFFSET ").bind(low);
            let (sql, a) = query.finish();
            let rows = self.db.fetch_all(sql, a).await?;
            let x: Vec<f64> = rows.iter().map(|r| r.int("created_at").map(age)).collect::<Result<_>>()?;
            *slot = match x.as_slice() {
                [x0, x1, ..] => Some(x0 + (h - low as f64) * (x1 - x0)),
                [x0] => Some(*x0),
                [] => None,
            };
        }
        Ok(ages)
    }

    /// Costs entered for periods overlapping `from..=to`, each counted for
    /// the share of its days inside (whole cents, rounded down per entry).
    async fn costs_between(&self, tx: &mut crate::db::Tx, from: i32, to: i32) -> Result<Option<i64>> {
        let (a, b) = (day::date_of(from).to_string(), day::date_of(to).to_string());
        let sql =
            "SELECT period_start, period_end, amount_cents FROM costs WHERE period_start <= $1 AND period_end >= $2";
        let rows = tx.fetch_all(sql, args![b, a]).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut total: i128 = 0;
        for r in rows {
            let parse = |s: String| s.parse::<jiff::civil::Date>().map(day::day_number).ok();
            let (Some(s), Some(e)) = (parse(r.text("period_start")?), parse(r.text("period_end")?)) else { continue };
            let len = i128::from(e - s + 1);
            let inside = i128::from(e.min(to) - s.max(from) + 1);
            if len > 0 && inside > 0 {
                total += i128::from(r.int("amount_cents")?) * inside / len;
            }
        }
        Ok(Some(total as i64))
    }
}
