//! Rollup differences wait in `metric_rollup_pending` before they are added
//! to the rollup rows.
//!
//! A case's solve changes ~30 measures in each of its ~4 scopes, daily and
//! monthly: ~240 single-row upserts, ~0.7 ms under the write lock, most of
//! a use case's cost when commits come one at a time (BENCHMARKS.md).
//! Neighbouring groups write the same rows (today's, for the organisation,
//! the team, the channel…), so each group commit now stores its summed
//! differences as one row, in its own transaction, and a later commit adds
//! the sum of many such rows to the rollups at once ([`fold`]): when
//! [`FOLD_ROWS`] have gathered or the oldest is [`FOLD_AGE`] old, and
//! before anything reads the rollups while rows wait (`Db::fold_rollups`:
//! the table says so, since another process, such as `kept import` beside
//! `kept serve`, may have left them). The differences
//! commit with the changes they count, so nothing is lost in a crash; they
//! are folded in by the first read or commit after the restart.
//!
//! On PostgreSQL ([`record_in`], [`fold_in`]) each write transaction stores
//! its differences as a row the same way, and the one that stores every
//! [`FOLD_ROWS`]th row (by id) folds them all in; reads fold first as on
//! SQLite. There the ~240 upserts, their row locks and their unique-index
//! checks were most of a use case's time in the database (the intake
//! bench's profile of the PostgreSQL backends). Write transactions run one
//! at a time (`Db::begin`'s advisory lock), so a fold sees every waiting row
//! and none arrives while it runs.

use super::rollups::{self, Deltas};
use crate::db::{Tx, args};
use crate::error::{Result, StoreError};
use rusqlite::Connection;
use std::time::{Duration, Instant};

/// Waiting rows that make the next group commit fold them in. A fold
/// writes the same few hundred rollup rows (today's and this month's, for
/// the organisation, its teams, channels, case types and tiers) however
/// many rows wait, so its cost is spread over them: at one intake client,
/// folding every 32 rows was ~3 % of the bytes written per request
/// (BENCHMARKS.md, "Where the second core goes, and fewer folds"). Under
/// load, [`FOLD_AGE`] comes first.
pub(crate) const FOLD_ROWS: usize = 128;
/// The age of the oldest waiting row that makes the next commit fold.
const FOLD_AGE: Duration = Duration::from_millis(500);

/// This writer's own waiting rows, to decide when its commits fold: only
/// commits change it. Reads ask the table instead.
///
/// It also keeps the sum of the differences it stored since its last fold,
/// and each stored row's id and a hash of its bytes, so that a fold that
/// finds exactly those rows waiting adds the sum instead of decoding every
/// row: decoding 128 rows was ~2.5 ms of a ~3.5 ms fold under the write
/// lock, a spike in the latency of every use case queued behind it
/// (BENCHMARKS.md, "The log that never restarted, and folds from memory").
/// Rows another process wrote or folded (an import beside `kept serve`, a
/// writer before a restart) change what the table holds, and the fold
/// decodes as before.
pub(crate) struct Pending {
    /// `None` until the first fold: a crash may have left rows.
    mine: Option<Mine>,
    since: Option<Instant>,
}

#[derive(Default)]
struct Mine {
    /// Each stored row's id and the hash of its bytes, in order.
    rows: Vec<(i64, u64)>,
    sum: Deltas,
}

/// A waiting row this writer stored: its id, its bytes' hash, and the
/// differences it holds.
pub(crate) struct Stored {
    id: i64,
    hash: u64,
    deltas: Deltas,
}

impl Pending {
    pub(crate) fn new() -> Self {
        Self { mine: None, since: None }
    }

    /// Whether the next commit should fold the waiting rows in.
    pub(crate) fn due(&self) -> bool {
        self.mine.as_ref().is_none_or(|m| m.rows.len() >= FOLD_ROWS)
            || self.since.is_some_and(|t| t.elapsed() >= FOLD_AGE)
    }

    /// A commit stored a row.
    pub(crate) fn recorded(&mut self, row: Stored) {
        if let Some(mine) = &mut self.mine {
            mine.rows.push((row.id, row.hash));
            rollups::merge(&mut mine.sum, row.deltas);
        }
        self.since.get_or_insert_with(Instant::now);
    }

    /// A commit folded every row in.
    pub(crate) fn folded(&mut self) {
        self.mine = Some(Mine::default());
        self.since = None;
    }

    /// The sum of the waiting rows, if they are exactly the ones this
    /// writer stored since its last fold (`waiting`: each row's id and
    /// bytes, in id order).
    fn sum_of(&self, waiting: &[(i64, Vec<u8>)]) -> Option<&Deltas> {
        let mine = self.mine.as_ref()?;
        let same = mine.rows.len() == waiting.len()
            && mine.rows.iter().zip(waiting).all(|((id, hash), (row, bytes))| id == row && *hash == hash_of(bytes));
        same.then_some(&mine.sum)
    }
}

fn hash_of(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

/// Stores `deltas` to be folded in later; `None` if they change nothing.
pub(crate) fn record(conn: &Connection, deltas: Deltas) -> Result<Option<Stored>> {
    let Some(bytes) = encoded(&deltas) else { return Ok(None) };
    let hash = hash_of(&bytes);
    crate::writer::execute(conn, "INSERT INTO metric_rollup_pending (deltas) VALUES ($1)", vec![bytes.into()])?;
    Ok(Some(Stored { id: conn.last_insert_rowid(), hash, deltas }))
}

/// Adds every waiting row, and `deltas`, to the rollups, and empties the
/// table: in the caller's transaction. `pending` may know their sum.
pub(crate) fn fold(conn: &Connection, mut deltas: Deltas, pending: &Pending) -> Result<()> {
    let mut waiting = Vec::new();
    for row in crate::writer::fetch(conn, "SELECT id, deltas FROM metric_rollup_pending ORDER BY id", Vec::new(), None)?
    {
        let id = row.opt_int("id")?.ok_or_else(|| corrupt("a waiting row without an id".into()))?;
        waiting.push((id, row.opt_bytes("deltas")?.unwrap_or_default()));
    }
    match pending.sum_of(&waiting) {
        Some(sum) => rollups::merge(&mut deltas, sum.clone()),
        None => {
            for (_, bytes) in waiting {
                add_waiting(Some(bytes), &mut deltas)?;
            }
        }
    }
    rollups::apply_now(conn, deltas)?;
    crate::writer::execute(conn, "DELETE FROM metric_rollup_pending", Vec::new())?;
    Ok(())
}

/// PostgreSQL: stores `deltas` as a waiting row in `tx`, and folds every
/// waiting row in when this one is the [`FOLD_ROWS`]th. (Ids that rolled
/// back are skipped, so a fold may come a little later; reads fold anyway.)
pub(crate) async fn record_in(tx: &mut Tx, deltas: &Deltas) -> Result<()> {
    let Some(bytes) = encoded(deltas) else { return Ok(()) };
    let id = tx.insert("INSERT INTO metric_rollup_pending (deltas) VALUES ($1) RETURNING id", args![bytes]).await?;
    if id % FOLD_ROWS as i64 == 0 {
        fold_in(tx).await?;
    }
    Ok(())
}

/// PostgreSQL: adds every waiting row to the rollups and deletes them, in
/// `tx` (a write transaction, so no other writer runs meanwhile).
pub(crate) async fn fold_in(tx: &mut Tx) -> Result<()> {
    let rows = tx.fetch_all("SELECT id, deltas FROM metric_rollup_pending ORDER BY id", args![]).await?;
    let Some(last) = rows.last().map(|r| r.int("id")).transpose()? else { return Ok(()) };
    let mut deltas = Deltas::new();
    for row in &rows {
        add_waiting(row.opt_bytes("deltas")?, &mut deltas)?;
    }
    rollups::apply_in(tx, deltas).await?;
    tx.execute("DELETE FROM metric_rollup_pending WHERE id <= $1", args![last]).await?;
    Ok(())
}

/// A waiting row's bytes for `deltas`; None if they change nothing.
fn encoded(deltas: &Deltas) -> Option<Vec<u8>> {
    (!deltas.values().all(kept_core::metrics::Delta::is_zero)).then(|| kept_core::metrics::encode_deltas(deltas))
}

/// Adds a waiting row's differences to `deltas`.
fn add_waiting(bytes: Option<Vec<u8>>, deltas: &mut Deltas) -> Result<()> {
    kept_core::metrics::decode_deltas_into(&bytes.unwrap_or_default(), deltas).map_err(|e| corrupt(e.to_string()))
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(format!("waiting rollup differences: {what}"))
}
