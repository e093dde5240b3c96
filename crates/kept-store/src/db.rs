//! One interface over two engines. Every query is written once, in SQL that
//! both SQLite and PostgreSQL accept (`$n` placeholders, `RETURNING`, row
//! values), bound from [`Arg`]s and read through [`DbRow`]. The few places
//! where the engines differ ask [`Backend`]; callers outside this crate never
//! know which engine they run on.

use crate::error::{Result, StoreError};
use crate::point::PointReaders;
use crate::writer::{self, WriteTx, Writer};
use jiff::Timestamp;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{AssertSqlSafe, Row, SqlSafeStr, SqlStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The pools. SQLite gets one writer connection (SQLite serialises writers
/// anyway; one connection avoids busy-retry storms), driven directly (see
/// writer.rs), and several readers, which WAL lets run beside the writer:
/// sqlx's pool, and a few connections for look-ups by key (point.rs).
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite { write: Writer, read: SqlitePool, point: PointReaders },
    Postgres(PgPool),
}

/// A value to bind to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Bytes(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}
impl From<Option<Vec<u8>>> for Arg {
    fn from(v: Option<Vec<u8>>) -> Self {
        Arg::Bytes(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Timestamp> for Arg {
    fn from(v: Timestamp) -> Self {
        Arg::Int(Some(v.as_millisecond()))
    }
}
impl From<Option<Timestamp>> for Arg {
    fn from(v: Option<Timestamp>) -> Self {
        Arg::Int(v.map(|t| t.as_millisecond()))
    }
}

/// Builds a `Vec<Arg>` from values of mixed types.
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::db::Arg::from($v)),*] };
}
pub(crate) use args;

/// SQL text: a literal, or a string built at run time from fixed fragments
/// (never from user input, which always goes through placeholders).
///
/// Built statements also carry a SQLite rendering with anonymous `?`
/// placeholders: SQLite looks up a numbered placeholder's name by walking a
/// list, so binding a statement with thousands of `$n` costs quadratic time
/// (a 200-row upsert spent 15 ms there, most of a storm of deadlines).
pub(crate) struct Sql {
    text: SqlStr,
    sqlite: Option<SqlStr>,
}

impl From<&'static str> for Sql {
    fn from(s: &'static str) -> Self {
        Sql { text: s.into_sql_str(), sqlite: None }
    }
}

impl Sql {
    /// SQL assembled from fixed fragments and `$n` placeholders only.
    pub(crate) fn built(s: String) -> Self {
        Sql { text: AssertSqlSafe(s).into_sql_str(), sqlite: None }
    }

    pub(crate) fn for_sqlite(self) -> SqlStr {
        self.sqlite.unwrap_or(self.text)
    }

    fn for_postgres(self) -> SqlStr {
        self.text
    }
}

/// The most placeholders one multi-row statement binds: under both engines'
/// limits (SQLite 32,766, PostgreSQL 65,535) with room to spare.
const MAX_PLACEHOLDERS: usize = 20_000;

/// Tables whose ids may be reserved ahead of a bulk write (a closed list, so
/// a table name in SQL never comes from anywhere else).
#[derive(Debug, Clone, Copy)]
pub(crate) enum IdTable {
    Cases,
    Messages,
    SurveyInvitations,
}

impl IdTable {
    fn name(self) -> &'static str {
        match self {
            IdTable::Cases => "cases",
            IdTable::Messages => "messages",
            IdTable::SurveyInvitations => "survey_invitations",
        }
    }
}

/// A result row from either engine.
pub(crate) enum DbRow {
    Sqlite(SqliteRow),
    Written(writer::Row),
    Postgres(PgRow),
}

/// Decodes a column; `$direct` reads a row of the SQLite write connection,
/// `$required` says whether NULL is an error.
macro_rules! decode {
    ($row:expr, $col:expr, $ty:ty, $direct:ident, $required:expr) => {
        match $row {
            DbRow::Sqlite(r) => r.try_get::<$ty, _>($col).map_err(StoreError::from),
            DbRow::Postgres(r) => r.try_get::<$ty, _>($col).map_err(StoreError::from),
            DbRow::Written(r) => {
                let value = r.$direct($col)?;
                #[allow(clippy::redundant_closure_call)]
                $required(value, $col)
            }
        }
    };
}

fn present<T>(value: Option<T>, col: &str) -> Result<T> {
    value.ok_or_else(|| StoreError::Corrupt(format!("unexpected NULL in column {col}")))
}

fn optional<T>(value: Option<T>, _col: &str) -> Result<Option<T>> {
    Ok(value)
}

impl DbRow {
    pub(crate) fn int(&self, col: &str) -> Result<i64> {
        decode!(self, col, i64, opt_int, present)
    }
    pub(crate) fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        decode!(self, col, Option<i64>, opt_int, optional)
    }
    pub(crate) fn text(&self, col: &str) -> Result<String> {
        decode!(self, col, String, opt_text, present)
    }
    pub(crate) fn opt_text(&self, col: &str) -> Result<Option<String>> {
        decode!(self, col, Option<String>, opt_text, optional)
    }
    pub(crate) fn bytes(&self, col: &str) -> Result<Vec<u8>> {
        decode!(self, col, Vec<u8>, opt_bytes, present)
    }
    pub(crate) fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        decode!(self, col, Option<Vec<u8>>, opt_bytes, optional)
    }
    pub(crate) fn flag(&self, col: &str) -> Result<bool> {
        let int_flag = |v: Option<i64>, col: &str| present(v, col).map(|v| v != 0);
        decode!(self, col, bool, opt_int, int_flag)
    }
    pub(crate) fn time(&self, col: &str) -> Result<Timestamp> {
        to_time(self.int(col)?, col)
    }
    pub(crate) fn opt_time(&self, col: &str) -> Result<Option<Timestamp>> {
        self.opt_int(col)?.map(|ms| to_time(ms, col)).transpose()
    }
}

fn to_time(ms: i64, col: &str) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|_| StoreError::Corrupt(format!("timestamp column {col}")))
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for arg in $args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }};
}

/// Runs one statement on either engine's executor, collecting rows.
macro_rules! run {
    (sqlite $exec:expr, $sql:expr, $args:expr, $method:ident) => {
        bind_all!(sqlx::query::<sqlx::Sqlite>($sql.for_sqlite()), $args).$method($exec).await
    };
    (postgres $exec:expr, $sql:expr, $args:expr, $method:ident) => {
        bind_all!(sqlx::query::<sqlx::Postgres>($sql.for_postgres()), $args).$method($exec).await
    };
}

/// A write transaction. Dropping it without `commit` rolls back, so an error
/// anywhere in a use case leaves nothing half-written.
pub(crate) enum Tx {
    /// A read snapshot on SQLite.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// A write transaction on SQLite.
    Write(WriteTx),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) | Tx::Write(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn execute(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64> {
        let sql = sql.into();
        Ok(match self {
            Tx::Write(t) => t.execute(sql.for_sqlite().as_str(), args)?,
            Tx::Sqlite(t) => run!(sqlite &mut **t, sql, args, execute)?.rows_affected(),
            Tx::Postgres(t) => run!(postgres &mut **t, sql, args, execute)?.rows_affected(),
        })
    }

    pub(crate) async fn fetch_all(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Vec<DbRow>> {
        let sql = sql.into();
        Ok(match self {
            Tx::Write(t) => t.fetch(sql.for_sqlite().as_str(), args, None)?.into_iter().map(DbRow::Written).collect(),
            Tx::Sqlite(t) => run!(sqlite &mut **t, sql, args, fetch_all)?.into_iter().map(DbRow::Sqlite).collect(),
            Tx::Postgres(t) => {
                run!(postgres &mut **t, sql, args, fetch_all)?.into_iter().map(DbRow::Postgres).collect()
            }
        })
    }

    pub(crate) async fn fetch_optional(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Option<DbRow>> {
        let sql = sql.into();
        Ok(match self {
            Tx::Write(t) => t.fetch(sql.for_sqlite().as_str(), args, Some(1))?.pop().map(DbRow::Written),
            Tx::Sqlite(t) => run!(sqlite &mut **t, sql, args, fetch_optional)?.map(DbRow::Sqlite),
            Tx::Postgres(t) => run!(postgres &mut **t, sql, args, fetch_optional)?.map(DbRow::Postgres),
        })
    }

    pub(crate) async fn fetch_one(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<DbRow> {
        self.fetch_optional(sql, args).await?.ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// `INSERT … RETURNING id` and hand back the id.
    pub(crate) async fn insert(&mut self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<i64> {
        self.fetch_one(sql, args).await?.int("id")
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Write(t) => t.commit().await?,
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Inserts rows of values (all of one width) with multi-row statements:
    /// `head` names the table and columns and ends in `VALUES `, `tail`
    /// follows the values (`ON CONFLICT …`, or empty). A bulk write of a
    /// thousand rows is then a statement or two instead of a thousand round
    /// trips.
    pub(crate) async fn insert_rows(&mut self, head: &str, tail: &str, rows: &[Vec<Arg>]) -> Result<()> {
        let width = rows.first().map_or(1, Vec::len).max(1);
        for chunk in rows.chunks((MAX_PLACEHOLDERS / width).max(1)) {
            let mut q = SqlBuilder::new(head);
            for (i, row) in chunk.iter().enumerate() {
                q.push(if i == 0 { "" } else { ", " }).bind_list(row.iter().cloned());
            }
            q.push(tail);
            let (sql, args) = q.finish();
            self.execute(sql, args).await?;
        }
        Ok(())
    }

    /// Reserves `n` fresh ids of `table` (whose `id` is SQLite's rowid or a
    /// PostgreSQL identity column), for writing many rows that refer to each
    /// other in a few multi-row statements. Rows inserted with these ids are
    /// in this order, whatever order an engine returns `RETURNING` rows in.
    ///
    /// SQLite: the next ids after the largest, safe because this write
    /// transaction holds the database's only write lock until commit.
    /// PostgreSQL: values drawn from the column's sequence, so concurrent
    /// inserts elsewhere never collide with them (gaps are harmless).
    pub(crate) async fn reserve_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let name = table.name();
        match self.backend() {
            Backend::Sqlite => {
                let sql = Sql::built(format!("SELECT COALESCE(MAX(id), 0) AS id FROM {name}"));
                let max = self.fetch_one(sql, Vec::new()).await?.int("id")?;
                Ok((1..=n as i64).map(|i| max + i).collect())
            }
            Backend::Postgres => {
                let sql = Sql::built(format!(
                    "SELECT nextval(pg_get_serial_sequence('{name}', 'id')) AS id FROM generate_series(1, $1)"
                ));
                self.fetch_all(sql, args![n as i64]).await?.iter().map(|r| r.int("id")).collect()
            }
        }
    }

    /// The clause that locks selected rows until commit. SQLite needs none:
    /// its write transactions start `IMMEDIATE`, holding the database lock.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            // IMMEDIATE takes the write lock up front, so a transaction that
            // reads then writes can never fail half-way on a lock upgrade.
            Db::Sqlite { write, .. } => Tx::Write(write.begin().await?),
            // One write transaction at a time per schema, as on SQLite. The
            // rollups derive one case's figures from its requester's other
            // cases (a new case makes an earlier solve a repeat); under READ
            // COMMITTED two concurrent writers each miss the other's change
            // (write skew) and the rollups drift from a rebuild — the SIGKILL
            // test found it. Taken first, before any row lock, so it cannot
            // deadlock with them.
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema()))").execute(&mut *tx).await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// A write transaction that SQLite commits on its own rather than in a
    /// group with others (see writer.rs), after the group before it: the
    /// storage floor's, which stands for a program without group commit,
    /// and one that rewrites the rollups wholesale (no group's deferred
    /// differences may land on top of it).
    pub(crate) async fn begin_alone(&self) -> Result<Tx> {
        match self {
            Db::Sqlite { write, .. } => Ok(Tx::Write(write.begin_alone().await?)),
            Db::Postgres(_) => self.begin().await,
        }
    }

    /// Waits until every change made so far through [`Db::begin`] is
    /// committed, so the readers see it. A use case that fails on another's
    /// change (a unique key) may have met it before it was durable: on
    /// SQLite that change may wait in a group commit (writer.rs).
    pub(crate) async fn settle(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => write.settle().await,
            Db::Postgres(_) => Ok(()),
        }
    }

    /// Adds the rollup differences still waiting (metrics/pending.rs) to the
    /// rollups, before a read of them. A look at the table first, so
    /// that reads wait for the writer only when something waits.
    pub(crate) async fn fold_rollups(&self) -> Result<()> {
        let sql = "SELECT 1 AS waiting FROM metric_rollup_pending LIMIT 1";
        if self.fetch_optional(sql, args![]).await?.is_none() {
            return Ok(());
        }
        match self {
            Db::Sqlite { write, .. } => write.fold_rollups().await,
            Db::Postgres(_) => {
                let mut tx = self.begin().await?;
                crate::metrics::pending::fold_in(&mut tx).await?;
                tx.commit().await
            }
        }
    }

    /// A read-only snapshot for reads that span several queries. On SQLite it
    /// comes from the readers' pool, so it never waits for (or blocks) writers.
    /// On PostgreSQL it must ask for REPEATABLE READ: the default, READ
    /// COMMITTED, gives each statement its own snapshot, so a change that
    /// commits between two queries would be seen by one and not the other.
    /// (A read-only transaction at this level never fails to serialize.)
    pub(crate) async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            Db::Postgres(pool) => {
                Tx::Postgres(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?)
            }
        })
    }

    pub(crate) async fn fetch_all(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Vec<DbRow>> {
        let sql = sql.into();
        Ok(match self {
            Db::Sqlite { read, .. } => {
                run!(sqlite read, sql, args, fetch_all)?.into_iter().map(DbRow::Sqlite).collect()
            }
            Db::Postgres(p) => run!(postgres p, sql, args, fetch_all)?.into_iter().map(DbRow::Postgres).collect(),
        })
    }

    pub(crate) async fn fetch_optional(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Option<DbRow>> {
        let sql = sql.into();
        Ok(match self {
            Db::Sqlite { read, .. } => run!(sqlite read, sql, args, fetch_optional)?.map(DbRow::Sqlite),
            Db::Postgres(p) => run!(postgres p, sql, args, fetch_optional)?.map(DbRow::Postgres),
        })
    }

    pub(crate) async fn fetch_one(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<DbRow> {
        self.fetch_optional(sql, args).await?.ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    /// [`Db::fetch_all`] for a look-up by a unique key (or a few rows found
    /// through one index entry): on SQLite it runs on the calling thread
    /// (point.rs), so only statements that never scan belong here.
    pub(crate) async fn point_all(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Vec<DbRow>> {
        let Db::Sqlite { point, .. } = self else { return self.fetch_all(sql, args).await };
        let text = sql.into().for_sqlite();
        match point.fetch(text.as_str(), args) {
            Ok(rows) => Ok(rows?.into_iter().map(DbRow::Written).collect()),
            Err(args) => self.fetch_all(Sql { text, sqlite: None }, args).await,
        }
    }

    /// [`Db::point_all`] for at most one row.
    pub(crate) async fn point_optional(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<Option<DbRow>> {
        Ok(self.point_all(sql, args).await?.into_iter().next())
    }

    /// A write outside a use case (e.g. touching a token's last use).
    pub(crate) async fn execute(&self, sql: impl Into<Sql>, args: Vec<Arg>) -> Result<u64> {
        let sql = sql.into();
        Ok(match self {
            Db::Sqlite { write, .. } => write.execute(sql.for_sqlite().as_str(), args).await?,
            Db::Postgres(p) => run!(postgres p, sql, args, execute)?.rows_affected(),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// Builds SQL with numbered placeholders while collecting their values, for
/// queries whose shape depends on the request (filters, cursors).
#[derive(Default)]
pub(crate) struct SqlBuilder {
    text: String,
    /// The same text with `?` for each placeholder (see [`Sql`]); every
    /// placeholder is bound once, in order, so the two mean the same.
    sqlite: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    pub(crate) fn new(start: &str) -> Self {
        Self { text: start.to_owned(), sqlite: start.to_owned(), args: Vec::new() }
    }

    /// Appends a fixed fragment of SQL (never user input).
    pub(crate) fn push(&mut self, fragment: &str) -> &mut Self {
        self.text.push_str(fragment);
        self.sqlite.push_str(fragment);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self.sqlite.push('?');
        self
    }

    /// Appends `(p1, p2, …)` for a non-empty list.
    pub(crate) fn bind_list<T: Into<Arg>>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self.push(")")
    }

    pub(crate) fn finish(self) -> (Sql, Vec<Arg>) {
        let sqlite = Some(AssertSqlSafe(self.sqlite).into_sql_str());
        (Sql { text: AssertSqlSafe(self.text).into_sql_str(), sqlite }, self.args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_sql_has_numbered_and_anonymous_renderings_that_agree() {
        let mut q = SqlBuilder::new("SELECT id FROM cases WHERE team_id = ");
        q.bind(7).push(" AND id IN ").bind_list([1, 2, 3]);
        let (sql, args) = q.finish();
        assert_eq!(args.len(), 4);
        assert_eq!(sql.text.as_str(), "SELECT id FROM cases WHERE team_id = $1 AND id IN ($2, $3, $4)");
        assert_eq!(sql.for_sqlite().as_str(), "SELECT id FROM cases WHERE team_id = ? AND id IN (?, ?, ?)");
    }

    #[test]
    fn literal_sql_is_the_same_on_both_engines() {
        let sql = Sql::from("SELECT $1, $1");
        assert_eq!(sql.for_sqlite().as_str(), "SELECT $1, $1");
    }

    /// A read transaction sees one instant: a change committed between two
    /// of its queries is seen by neither (PostgreSQL's default isolation
    /// would show it to the second).
    async fn a_read_transaction_is_one_snapshot(db: &crate::test_support::TestDb) {
        let count = "SELECT COUNT(*) AS n FROM teams";
        let mut read = db.store.db.begin_read().await.unwrap();
        let before = read.fetch_one(count, args![]).await.unwrap().int("n").unwrap();
        db.store
            .execute_unchecked(
                "INSERT INTO teams (name, internal, created_at, updated_at) VALUES ('Late', FALSE, 0, 0)",
            )
            .await
            .unwrap();
        assert_eq!(read.fetch_one(count, args![]).await.unwrap().int("n").unwrap(), before, "the snapshot holds");
        drop(read);
        assert_eq!(db.store.db.fetch_one(count, args![]).await.unwrap().int("n").unwrap(), before + 1);
    }

    crate::store_test!(read_snapshots, async |db: &crate::test_support::TestDb| {
        a_read_transaction_is_one_snapshot(db).await;
    });
}
