//! The rollup table: applying differences, and reading a scope's days.

use crate::db::{Arg, SqlBuilder, Tx};
use crate::error::{Result, StoreError};
use kept_core::metrics::{Delta, Hist, Measure, RollupKey, Scope};
use std::collections::BTreeMap;

/// Rows per statement: 7 placeholders each, well under both engines' limits.
const CHUNK: usize = 500;

fn key_args(k: &RollupKey) -> Vec<Arg> {
    vec![k.scope.as_str().into(), k.key.clone().into(), i64::from(k.day).into(), k.measure.as_str().into()]
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(format!("metric rollups: {what}"))
}

/// One stored rollup row's values.
#[derive(Debug, Clone, Default)]
pub(crate) struct RowValues {
    pub n: i64,
    pub total: i64,
    pub hist: Hist,
}

/// The two grains: daily rows, and monthly rows keyed by the month's first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grain {
    Day,
    Month,
}

impl Grain {
    fn table(self) -> &'static str {
        match self {
            Grain::Day => "metric_rollups",
            Grain::Month => "metric_rollups_monthly",
        }
    }
}

/// The first day of the month `day` falls in.
pub(crate) fn month_of(day: i32) -> i32 {
    kept_core::metrics::day::day_number(kept_core::metrics::day::date_of(day).first_of_month())
}

/// Adds `deltas` (by day) to the daily and the monthly rollups.
pub(crate) async fn apply(tx: &mut Tx, deltas: BTreeMap<RollupKey, Delta>) -> Result<()> {
    let mut months: BTreeMap<RollupKey, Delta> = BTreeMap::new();
    for (k, d) in &deltas {
        // Account activity is read by day only.
        if k.scope == Scope::Account {
            continue;
        }
        let m = months.entry(RollupKey { day: month_of(k.day), ..k.clone() }).or_default();
        m.n += d.n;
        m.total += d.total;
        m.hist.merge(&d.hist, 1);
    }
    apply_grain(tx, Grain::Day, deltas).await?;
    apply_grain(tx, Grain::Month, months).await
}

/// Adds `deltas` to one grain's rows. Counts and totals are added by the
/// database; histograms are read, merged and written back under the rows'
/// locks (PostgreSQL; SQLite has one writer at a time), taken in key order.
async fn apply_grain(tx: &mut Tx, grain: Grain, deltas: BTreeMap<RollupKey, Delta>) -> Result<()> {
    let table = grain.table();
    let deltas: Vec<(RollupKey, Delta)> = deltas.into_iter().filter(|(_, d)| !d.is_zero()).collect();
    if deltas.is_empty() {
        return Ok(());
    }
    let postgres = tx.backend() == crate::Backend::Postgres;
    for chunk in deltas.chunks(CHUNK) {
        let with_hist: Vec<&(RollupKey, Delta)> = chunk.iter().filter(|(k, _)| k.measure.has_hist()).collect();
        let mut current: BTreeMap<RollupKey, Hist> = BTreeMap::new();
        if !with_hist.is_empty() {
            if postgres {
                // Rows must exist to be locked.
                let mut q = SqlBuilder::new(&format!(
                    "INSERT INTO {table} (scope, scope_key, day, measure, n, total, hist) VALUES "
                ));
                for (i, (k, _)) in with_hist.iter().enumerate() {
                    let mut values = key_args(k);
                    values.extend([Arg::from(0i64), Arg::from(0i64), Arg::from(Vec::<u8>::new())]);
                    q.push(if i == 0 { "" } else { ", " }).bind_list(values);
                }
                q.push(" ON CONFLICT (scope, scope_key, day, measure) DO NOTHING");
                let (sql, args) = q.finish();
                tx.execute(sql, args).await?;
            }
            let mut q = SqlBuilder::new(&format!(
                "SELECT scope, scope_key, day, measure, hist FROM {table} WHERE (scope, scope_key, day, measure) IN ("
            ));
            for (i, (k, _)) in with_hist.iter().enumerate() {
                q.push(if i == 0 { "" } else { ", " }).bind_list(key_args(k));
            }
            q.push(")");
            if postgres {
                q.push(" ORDER BY scope, scope_key, day, measure FOR UPDATE");
            }
            let (sql, args) = q.finish();
            for r in tx.fetch_all(sql, args).await? {
                let key = row_key(&r)?;
                let bytes = r.opt_bytes("hist")?.unwrap_or_default();
                let hist = if bytes.is_empty() {
                    Hist::new()
                } else {
                    Hist::decode(&bytes).map_err(|e| corrupt(e.to_string()))?
                };
                current.insert(key, hist);
            }
        }
        let mut q =
            SqlBuilder::new(&format!("INSERT INTO {table} (scope, scope_key, day, measure, n, total, hist) VALUES "));
        for (i, (k, d)) in chunk.iter().enumerate() {
            let hist: Option<Vec<u8>> = k.measure.has_hist().then(|| {
                let mut h = current.remove(k).unwrap_or_default();
                h.merge(&d.hist, 1);
                h.encode()
            });
            let mut values = key_args(k);
            values.extend([Arg::from(d.n), Arg::from(d.total), Arg::from(hist)]);
            q.push(if i == 0 { "" } else { ", " }).bind_list(values);
        }
        q.push(&format!(
            " ON CONFLICT (scope, scope_key, day, measure) DO UPDATE SET n = {table}.n + excluded.n, \
             total = {table}.total + excluded.total, hist = excluded.hist"
        ));
        let (sql, args) = q.finish();
        tx.execute(sql, args).await?;
    }
    Ok(())
}

fn row_key(r: &crate::db::DbRow) -> Result<RollupKey> {
    let scope = match r.text("scope")?.as_str() {
        "org" => Scope::Org,
        "team" => Scope::Team,
        "agent" => Scope::Agent,
        "tier" => Scope::Tier,
        "channel" => Scope::Channel,
        "case_type" => Scope::CaseType,
        "account" => Scope::Account,
        other => return Err(corrupt(format!("scope {other}"))),
    };
    let measure = Measure::parse("", &r.text("measure")?).map_err(|_| corrupt("measure".into()))?;
    let day = i32::try_from(r.int("day")?).map_err(|_| corrupt("day".into()))?;
    Ok(RollupKey { scope, key: r.text("scope_key")?, day, measure })
}

/// Every row of one scope for days `from..=to` (month rows: months whose
/// first day is in `from..=to`), by day.
pub(crate) async fn read_days(
    tx: &mut Tx,
    grain: Grain,
    scope: Scope,
    key: &str,
    from: i32,
    to: i32,
) -> Result<BTreeMap<i32, BTreeMap<Measure, RowValues>>> {
    if from > to {
        return Ok(BTreeMap::new());
    }
    let sql = format!(
        "SELECT scope, scope_key, day, measure, n, total, hist FROM {} \
         WHERE scope = $1 AND scope_key = $2 AND day >= $3 AND day <= $4",
        grain.table()
    );
    let rows = tx
        .fetch_all(crate::db::Sql::built(sql), crate::db::args![scope.as_str(), key, i64::from(from), i64::from(to)])
        .await?;
    let mut out: BTreeMap<i32, BTreeMap<Measure, RowValues>> = BTreeMap::new();
    for r in rows {
        let k = row_key(&r)?;
        let bytes = r.opt_bytes("hist")?.unwrap_or_default();
        let hist =
            if bytes.is_empty() { Hist::new() } else { Hist::decode(&bytes).map_err(|e| corrupt(e.to_string()))? };
        out.entry(k.day).or_default().insert(k.measure, RowValues { n: r.int("n")?, total: r.int("total")?, hist });
    }
    Ok(out)
}

/// The zone the rollups count days in (see metric_state in 0005_metrics.sql);
/// set to `configured` if no rollup was written yet.
pub(crate) async fn zone(tx: &mut Tx, configured: &jiff::tz::TimeZone) -> Result<jiff::tz::TimeZone> {
    if let Some(r) = tx.fetch_optional("SELECT time_zone FROM metric_state WHERE id = 1", crate::db::args![]).await? {
        let name = r.text("time_zone")?;
        return jiff::tz::TimeZone::get(&name).map_err(|_| corrupt(format!("time zone {name}")));
    }
    set_zone(tx, configured).await?;
    Ok(configured.clone())
}

pub(crate) fn zone_name(zone: &jiff::tz::TimeZone) -> String {
    zone.iana_name().unwrap_or("UTC").to_owned()
}

pub(crate) async fn set_zone(tx: &mut Tx, zone: &jiff::tz::TimeZone) -> Result<()> {
    tx.execute(
        "INSERT INTO metric_state (id, time_zone) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET time_zone = excluded.time_zone",
        crate::db::args![zone_name(zone)],
    )
    .await?;
    Ok(())
}
