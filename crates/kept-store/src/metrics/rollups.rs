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

/// Rollup differences by key, by day.
pub(crate) type Deltas = BTreeMap<RollupKey, Delta>;

/// Adds `from` into `into`, key by key.
pub(crate) fn merge(into: &mut Deltas, mut from: Deltas) {
    // Sums commute: walk the smaller map, and move rather than merge into an
    // empty one (a use case's first differences, a group's first use case).
    if from.len() > into.len() {
        std::mem::swap(into, &mut from);
    }
    for (k, d) in from {
        match into.get_mut(&k) {
            Some(sum) => sum.add(&d),
            None => {
                into.insert(k, d);
            }
        }
    }
}

/// Adds `deltas` (by day) to the daily and the monthly rollups.
///
/// On SQLite the write transaction keeps them, and the group commit stores
/// the sum of its use cases' differences just before it commits (see
/// writer.rs), to be added to the rollups with many other groups' later
/// (pending.rs): most of a use case's rows (the organisation's, its team's,
/// its channel's… for today) are the same rows as its neighbours', so they
/// are written once for many use cases. They commit in the same transaction
/// as the changes they count, or not at all.
pub(crate) async fn apply(tx: &mut Tx, deltas: Deltas) -> Result<()> {
    match tx {
        Tx::Write(w) => {
            w.defer(deltas);
            Ok(())
        }
        Tx::Postgres(_) => super::pending::record_in(tx, &deltas).await,
        Tx::Sqlite(_) => apply_in(tx, deltas).await,
    }
}

/// Adds `deltas` to the rollup rows now, under row locks, in `tx`.
pub(crate) async fn apply_in(tx: &mut Tx, deltas: Deltas) -> Result<()> {
    for (grain, deltas) in grains(deltas) {
        apply_grain(tx, grain, deltas).await?;
    }
    Ok(())
}

/// The same on SQLite's write connection, inside the folding transaction:
/// one cached single-row statement per row, the histogram merged by SQLite
/// itself through `kept_hist_add` ([`register_functions`]). A multi-row
/// statement is compiled anew for each row count, and the folded sums
/// rarely have the same count twice.
pub(crate) fn apply_now(conn: &rusqlite::Connection, deltas: Deltas) -> Result<()> {
    for (grain, deltas) in grains(deltas) {
        let table = grain.table();
        let sql = format!(
            "INSERT INTO {table} (scope, scope_key, day, measure, n, total, hist) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (scope, scope_key, day, measure) DO UPDATE SET n = {table}.n + excluded.n, \
             total = {table}.total + excluded.total, hist = kept_hist_add({table}.hist, excluded.hist)"
        );
        for (k, d) in nonzero(deltas) {
            let hist: Option<Vec<u8>> = k.measure.has_hist().then(|| d.hist.encode());
            let mut args = key_args(&k);
            args.extend([Arg::from(d.n), Arg::from(d.total), Arg::from(hist)]);
            crate::writer::execute(conn, &sql, args)?;
        }
    }
    Ok(())
}

/// `kept_hist_add(stored, delta)`: the stored histogram with `delta`'s
/// counts added (either may be NULL or empty, meaning none).
pub(crate) fn register_functions(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_DIRECTONLY;
    conn.create_scalar_function("kept_hist_add", 2, flags, |ctx| {
        let stored: Option<Vec<u8>> = ctx.get(0)?;
        let delta: Option<Vec<u8>> = ctx.get(1)?;
        let decode = |bytes: &[u8]| {
            Hist::decode(bytes).map_err(|e| rusqlite::Error::UserFunctionError(corrupt(e.to_string()).into()))
        };
        Ok(match (stored, delta) {
            (stored, None) => stored,
            (None, delta) => delta,
            (Some(stored), Some(delta)) if stored.is_empty() => Some(delta),
            (Some(stored), Some(delta)) => {
                let mut hist = decode(&stored)?;
                hist.merge(&decode(&delta)?, 1);
                Some(hist.encode())
            }
        })
    })
}

/// The daily differences and, from them, the monthly ones.
fn grains(days: Deltas) -> [(Grain, Deltas); 2] {
    let mut months: Deltas = BTreeMap::new();
    for (k, d) in &days {
        // Account activity is read by day only.
        if k.scope == Scope::Account {
            continue;
        }
        months.entry(RollupKey { day: month_of(k.day), ..k.clone() }).or_default().add(d);
    }
    [(Grain::Day, days), (Grain::Month, months)]
}

fn nonzero(deltas: Deltas) -> Vec<(RollupKey, Delta)> {
    deltas.into_iter().filter(|(_, d)| !d.is_zero()).collect()
}

fn hist_keys(chunk: &[(RollupKey, Delta)]) -> Vec<&RollupKey> {
    chunk.iter().filter(|(k, _)| k.measure.has_hist()).map(|(k, _)| k).collect()
}

/// Adds `deltas` to one grain's rows on PostgreSQL. Counts and totals are
/// added by the database; histograms are read, merged and written back
/// under the rows' locks, taken in key order.
async fn apply_grain(tx: &mut Tx, grain: Grain, deltas: Deltas) -> Result<()> {
    let table = grain.table();
    for chunk in nonzero(deltas).chunks(CHUNK) {
        let keys = hist_keys(chunk);
        let mut current = BTreeMap::new();
        if !keys.is_empty() {
            // Rows must exist to be locked.
            let mut q = SqlBuilder::new(&format!(
                "INSERT INTO {table} (scope, scope_key, day, measure, n, total, hist) VALUES "
            ));
            for (i, k) in keys.iter().enumerate() {
                let mut values = key_args(k);
                values.extend([Arg::from(0i64), Arg::from(0i64), Arg::from(Vec::<u8>::new())]);
                q.push(if i == 0 { "" } else { ", " }).bind_list(values);
            }
            q.push(" ON CONFLICT (scope, scope_key, day, measure) DO NOTHING");
            let (sql, args) = q.finish();
            tx.execute(sql, args).await?;
            let (sql, args) = hists_query(table, &keys);
            current = read_hists(tx.fetch_all(sql, args).await?)?;
        }
        let (sql, args) = upsert(table, chunk, current);
        tx.execute(sql, args).await?;
    }
    Ok(())
}

/// The stored histograms of `keys`, locked.
fn hists_query(table: &str, keys: &[&RollupKey]) -> (crate::db::Sql, Vec<Arg>) {
    let mut q = SqlBuilder::new(&format!(
        "SELECT scope, scope_key, day, measure, hist FROM {table} WHERE (scope, scope_key, day, measure) IN ("
    ));
    for (i, k) in keys.iter().enumerate() {
        q.push(if i == 0 { "" } else { ", " }).bind_list(key_args(k));
    }
    q.push(") ORDER BY scope, scope_key, day, measure FOR UPDATE");
    q.finish()
}

fn read_hists(rows: impl IntoIterator<Item = crate::db::DbRow>) -> Result<BTreeMap<RollupKey, Hist>> {
    let mut out = BTreeMap::new();
    for r in rows {
        let bytes = r.opt_bytes("hist")?.unwrap_or_default();
        let hist =
            if bytes.is_empty() { Hist::new() } else { Hist::decode(&bytes).map_err(|e| corrupt(e.to_string()))? };
        out.insert(row_key(&r)?, hist);
    }
    Ok(out)
}

/// Adds the chunk's counts and totals to its rows (creating them) and sets
/// their histograms to `current` merged with the chunk's.
fn upsert(
    table: &str,
    chunk: &[(RollupKey, Delta)],
    mut current: BTreeMap<RollupKey, Hist>,
) -> (crate::db::Sql, Vec<Arg>) {
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
    q.finish()
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
    let stored = tx.fetch_optional("SELECT time_zone FROM metric_state WHERE id = 1", crate::db::args![]).await?;
    let name = stored.map(|r| r.text("time_zone")).transpose()?;
    zone_of(tx, name, configured).await
}

/// The same from the stored name already read (`Store::books_and_zone`).
pub(crate) async fn zone_of(
    tx: &mut Tx,
    stored: Option<String>,
    configured: &jiff::tz::TimeZone,
) -> Result<jiff::tz::TimeZone> {
    if let Some(name) = stored {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: &[(i64, i64)]) -> Hist {
        let mut h = Hist::new();
        for (value, times) in values {
            h.add(*value, *times);
        }
        h
    }

    /// Merging walks the smaller map into the larger one: whichever side
    /// is larger, and into an empty map, the sums are the same.
    #[test]
    fn merging_differences_gives_the_same_sums_either_way() {
        let key = |scope, k: &str, day| RollupKey { scope, key: k.into(), day, measure: Measure::Frt };
        let delta = |n, total, values: &[(i64, i64)]| Delta { n, total, hist: hist(values) };
        let small: Deltas =
            [(key(Scope::Org, "", 1), delta(1, 60, &[(60, 1)])), (key(Scope::Team, "3", 1), delta(-1, -5, &[(5, -1)]))]
                .into();
        let large: Deltas = [
            (key(Scope::Org, "", 1), delta(2, 120, &[(60, 2)])),
            (key(Scope::Team, "4", 1), delta(1, 7, &[(7, 1)])),
            (key(Scope::Team, "3", 2), delta(1, 9, &[])),
        ]
        .into();
        let mut expected = large.clone();
        for (k, d) in &small {
            expected.entry(k.clone()).or_default().add(d);
        }
        let mut into_large = large.clone();
        merge(&mut into_large, small.clone());
        let mut into_small = small.clone();
        merge(&mut into_small, large.clone());
        let mut into_empty = Deltas::new();
        merge(&mut into_empty, small.clone());
        merge(&mut into_empty, large);
        assert_eq!(into_large, expected);
        assert_eq!(into_small, expected);
        assert_eq!(into_empty, expected);
        assert_eq!(expected[&key(Scope::Org, "", 1)], delta(3, 180, &[(60, 3)]));
    }

    /// SQLite's `kept_hist_add` adds as Hist::merge does, withdrawals
    /// included, and passes a missing side through.
    #[test]
    fn kept_hist_add_merges_like_the_histogram() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        let add = |a: Option<Vec<u8>>, b: Option<Vec<u8>>| -> Option<Vec<u8>> {
            conn.query_row("SELECT kept_hist_add(?1, ?2)", (a, b), |r| r.get(0)).unwrap()
        };
        let stored = hist(&[(60, 2), (3600, 1)]);
        let delta = hist(&[(60, -1), (120, 1)]);
        let mut expected = stored.clone();
        expected.merge(&delta, 1);
        let merged = add(Some(stored.encode()), Some(delta.encode())).unwrap();
        assert_eq!(Hist::decode(&merged).unwrap(), expected);
        assert_eq!(add(None, Some(delta.encode())), Some(delta.encode()));
        assert_eq!(add(Some(Vec::new()), Some(delta.encode())), Some(delta.encode()));
        assert_eq!(add(Some(stored.encode()), None), Some(stored.encode()));
        assert_eq!(add(None, None), None);
        let bad = conn.query_row("SELECT kept_hist_add(x'ff', ?1)", [delta.encode()], |r| r.get::<_, Vec<u8>>(0));
        assert!(bad.is_err(), "a corrupt stored histogram fails the statement");
    }
}
