//! SQLite's one write connection, driven directly rather than through sqlx.
//!
//! sqlx runs each SQLite connection on its own worker thread and hands every
//! statement over to it and the result back: two thread switches per
//! statement, ~40 µs on this machine, while the statement itself takes a few.
//! A use case writes ~50 statements under the single write lock, so the
//! hand-overs, not SQLite, bounded intake (the bench's perf profile: 54 % of
//! the server in kernel scheduling, 3 % in SQLite). Here the statements run on
//! the task's own thread, from a per-connection cache of prepared statements.
//!
//! The readers stay on sqlx: long scorecard reads must not hold a runtime
//! thread, and they run beside one another anyway. rusqlite 0.39 links the
//! same libsqlite3-sys as sqlx 0.9, so both use one bundled SQLite.

use crate::checkpoint::{self, Checkpointer, WRITER_AUTOCHECKPOINT};
use crate::connect::{SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_KIB, SQLITE_HEAP_BUDGET};
use crate::db::Arg;
use crate::error::{Result, StoreError};
use crate::metrics::pending::{self, Pending};
use crate::metrics::rollups::{self, Deltas};
use crate::search_index::SearchDocs;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// How long a use case waits for the write connection before giving up, as
/// sqlx's pool did.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared statements kept, as many as sqlx keeps per connection; the
/// least recently used go first (multi-row statements differ by row count).
const STATEMENT_CACHE: usize = 100;

/// A group commit ends after this many use cases or this long, even while
/// more are queued, so no acknowledgement waits on a long queue.
const GROUP_MAX: usize = 64;
const GROUP_MAX_AGE: Duration = Duration::from_millis(10);

#[derive(Clone)]
pub(crate) struct Writer {
    state: Arc<Mutex<State>>,
    /// Tasks queued for the write connection: while there are any, a use
    /// case that finishes leaves the group open for them (see [`WriteTx`]).
    waiting: Arc<AtomicUsize>,
    /// Commits made, for the tests of grouping.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
    groups: Arc<AtomicU64>,
    path: Arc<str>,
    /// Runs while any clone of the writer lives.
    _checkpoints: Option<Arc<Checkpointer>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

struct State {
    conn: Connection,
    group: Option<Group>,
    groups: Arc<AtomicU64>,
    /// What the group's finished use cases left for its commit.
    held: Held,
    pending: Pending,
}

/// What a use case leaves for its group's commit: its rollup differences,
/// stored or folded in (see [`rollups::apply`]), and its full-text
/// documents (see crate::search_index). A use case's go to the group when it
/// commits and are dropped if it rolls back.
#[derive(Default)]
struct Held {
    deltas: Deltas,
    search: SearchDocs,
}

impl Held {
    fn merge(&mut self, later: Held) {
        rollups::merge(&mut self.deltas, later.deltas);
        self.search.merge(later.search);
    }

    fn clear(&mut self) {
        self.deltas.clear();
        self.search.clear();
    }
}

/// An open SQLite transaction holding use cases that have finished but are
/// not yet durable, each waiting to hear how the commit went.
struct Group {
    started: Instant,
    members: Vec<oneshot::Sender<std::result::Result<(), String>>>,
}

impl State {
    /// Commits the open group, if any, and tells its members.
    fn flush(&mut self) {
        let Some(group) = self.group.take() else { return };
        self.groups.fetch_add(1, Ordering::Relaxed);
        let fold = self.pending.due();
        let outcome = self.commit(fold);
        for member in group.members {
            let _ = member.send(outcome.clone());
        }
    }

    /// Stores the open transaction's rollup differences, or folds them in
    /// with every waiting row, then commits; rolls back on failure.
    fn commit(&mut self, fold: bool) -> std::result::Result<(), String> {
        let deltas = std::mem::take(&mut self.held.deltas);
        let written = if fold {
            pending::fold(&self.conn, deltas, &self.pending).map(|()| None)
        } else {
            pending::record(&self.conn, deltas)
        };
        // The full-text documents last: no statement after them opens a
        // savepoint, so they make one index segment, at the COMMIT.
        let outcome = written
            .map_err(|e| format!("updating the rollups: {e}"))
            .and_then(|recorded| {
                self.held
                    .search
                    .write(&self.conn)
                    .map(|()| recorded)
                    .map_err(|e| format!("updating the search index: {e}"))
            })
            .and_then(|recorded| self.conn.execute_batch("COMMIT").map(|()| recorded).map_err(|e| e.to_string()));
        self.held.clear();
        match outcome {
            Ok(Some(stored)) => self.pending.recorded(stored),
            Ok(None) if fold => self.pending.folded(),
            Ok(None) => {}
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// SQLite rolled the whole transaction back (it does so on I/O errors,
    /// a full disk, running out of memory): the finished use cases in it are
    /// lost, so they fail rather than be acknowledged.
    fn abandon_if_rolled_back(&mut self) {
        if self.conn.is_autocommit()
            && let Some(group) = self.group.take()
        {
            self.held.clear();
            for member in group.members {
                let _ = member.send(Err("the database rolled the transaction back".into()));
            }
        }
    }
}

/// The checkpoint thread's last step (see crate::checkpoint): with the
/// write lock, and the open group committed, copy what the writer added
/// while the thread copied, so the next write transaction restarts the log.
/// Called from that thread, never from the runtime.
fn finish_checkpoints(state: std::sync::Weak<Mutex<State>>) -> checkpoint::Finish {
    Box::new(move || {
        let state = state.upgrade()?;
        let mut state = state.blocking_lock();
        state.flush();
        checkpoint::passive(&state.conn)
            .map_err(|e| tracing::warn!(error = %e, "finishing a checkpoint failed; the next one retries"))
            .ok()
    })
}

/// Counts a task as queued for the write connection until it is dropped,
/// so a request abandoned while queued stops counting.
struct Queued(Arc<AtomicUsize>);

impl Queued {
    fn new(waiting: &Arc<AtomicUsize>) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Queued(waiting.clone())
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    /// Opens (creating if missing) the database at `path` with the settings
    /// every kept SQLite connection has (see connect.rs for why).
    pub(crate) fn open(path: &str) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let unavailable = |e: rusqlite::Error| StoreError::Unavailable(format!("{path}: {e}"));
        let conn = Connection::open_with_flags(path, flags).map_err(unavailable)?;
        conn.busy_timeout(SQLITE_BUSY_TIMEOUT).map_err(unavailable)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -{SQLITE_CACHE_KIB}; PRAGMA temp_store = MEMORY; \
             PRAGMA soft_heap_limit = {SQLITE_HEAP_BUDGET}; PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT};"
        ))
        .map_err(unavailable)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        rollups::register_functions(&conn).map_err(unavailable)?;
        let groups = Arc::new(AtomicU64::new(0));
        let state = Arc::new(Mutex::new(State {
            conn,
            group: None,
            groups: groups.clone(),
            held: Held::default(),
            pending: Pending::new(),
        }));
        Ok(Self {
            _checkpoints: Checkpointer::start(path, finish_checkpoints(Arc::downgrade(&state))).map(Arc::new),
            state,
            waiting: Arc::new(AtomicUsize::new(0)),
            groups,
            path: path.into(),
        })
    }

    async fn acquire(&self) -> Result<OwnedMutexGuard<State>> {
        let _queued = Queued::new(&self.waiting);
        tokio::time::timeout(ACQUIRE_TIMEOUT, self.state.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Unavailable("timed out waiting for the database's write connection".into()))
    }

    /// The connection to itself, with any finished use cases made durable.
    async fn acquire_alone(&self) -> Result<OwnedMutexGuard<State>> {
        let mut state = self.acquire().await?;
        state.flush();
        Ok(state)
    }

    /// Runs sqlx's migrator on a connection of its own, holding the write
    /// connection meanwhile so that nothing of kept writes beside it.
    pub(crate) async fn migrate(&self, migrator: &sqlx::migrate::Migrator) -> Result<()> {
        use sqlx::{ConnectOptions, Connection as _};
        let _writer = self.acquire_alone().await?;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&*self.path)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .disable_statement_logging();
        let mut conn = options.connect().await.map_err(|e| StoreError::Unavailable(format!("{}: {e}", self.path)))?;
        migrator.run(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    /// Starts a use case's write transaction: a savepoint in the open group
    /// transaction, or in a new one. The group's transaction is IMMEDIATE:
    /// it takes the write lock up front, so a use case that reads then
    /// writes never fails on a lock upgrade.
    pub(crate) async fn begin(&self) -> Result<WriteTx> {
        let mut state = self.acquire().await?;
        if state.group.as_ref().is_some_and(|g| g.started.elapsed() >= GROUP_MAX_AGE) {
            state.flush();
        }
        self.start(state, false)
    }

    /// A write transaction committed by itself, never grouped: what a
    /// program without group commit does (the storage floor of `kept bench`).
    pub(crate) async fn begin_alone(&self) -> Result<WriteTx> {
        let state = self.acquire_alone().await?;
        self.start(state, true)
    }

    fn start(&self, mut state: OwnedMutexGuard<State>, alone: bool) -> Result<WriteTx> {
        // The first use case of a group needs no savepoint: should it fail,
        // the whole transaction, holding only it, rolls back. (A savepoint
        // copies each page it changes to a sub-journal first.)
        let savepoint = state.group.is_some();
        if savepoint {
            if let Err(e) = state.conn.execute_batch("SAVEPOINT use_case") {
                state.abandon_if_rolled_back();
                return Err(e.into());
            }
        } else {
            state.conn.execute_batch("BEGIN IMMEDIATE")?;
            state.group = Some(Group { started: Instant::now(), members: Vec::new() });
        }
        Ok(WriteTx { state: Some(state), writer: self.clone(), savepoint, alone, held: Held::default() })
    }

    /// One statement in a transaction of its own.
    pub(crate) async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let changed = tx.execute(sql, args)?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Commits what has finished (see [`crate::db::Db::settle`]).
    pub(crate) async fn settle(&self) -> Result<()> {
        self.acquire_alone().await.map(drop)
    }

    /// Adds every waiting rollup difference to the rollups, so that a read
    /// of them sees every committed change. The table, not this writer's
    /// count, says what waits: a command run beside `kept serve` (an import)
    /// writes through a writer of its own.
    pub(crate) async fn fold_rollups(&self) -> Result<()> {
        let mut state = self.acquire_alone().await?;
        state.conn.execute_batch("BEGIN IMMEDIATE")?;
        state.commit(true).map_err(|e| StoreError::Unavailable(format!("folding the rollups: {e}")))
    }

    pub(crate) async fn close(&self) {
        // Waits for a use case in flight, then commits what has finished.
        let _ = self.settle().await;
    }
}

/// A use case's write transaction. Dropping it without [`WriteTx::commit`]
/// rolls it back, so a use case that fails or whose request is abandoned
/// leaves nothing behind.
///
/// Group commit: committing releases the use case's savepoint into the
/// group transaction and, if no other use case is queued for the write
/// connection (or the group is full or old), commits the group. Otherwise
/// the next use case runs in the same transaction and the last one commits
/// for all. Either way `commit` returns only once the changes are durable,
/// so nothing is acknowledged before it is committed — and one commit (its
/// WAL write being most of a use case's cost) serves many use cases.
pub(crate) struct WriteTx {
    state: Option<OwnedMutexGuard<State>>,
    writer: Writer,
    /// Whether this use case runs in a savepoint (see [`Writer::begin`]).
    savepoint: bool,
    /// Commits by itself (see [`Writer::begin_alone`]).
    alone: bool,
    /// What this use case leaves for the group's commit.
    held: Held,
}

impl WriteTx {
    fn conn(&self) -> Result<&Connection> {
        match &self.state {
            Some(state) => Ok(&state.conn),
            None => Err(StoreError::Unavailable("the write transaction has ended".into())),
        }
    }

    pub(crate) fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        execute(self.conn()?, sql, args)
    }

    pub(crate) fn fetch(&mut self, sql: &str, args: Vec<Arg>, limit: Option<usize>) -> Result<Vec<Row>> {
        fetch(self.conn()?, sql, args, limit)
    }

    /// Keeps rollup differences for the group's commit.
    pub(crate) fn defer(&mut self, deltas: Deltas) {
        rollups::merge(&mut self.held.deltas, deltas);
    }

    /// Full-text documents for the group's commit.
    pub(crate) fn search_docs(&mut self) -> &mut SearchDocs {
        &mut self.held.search
    }

    pub(crate) async fn commit(mut self) -> Result<()> {
        let Some(mut state) = self.state.take() else {
            return Err(StoreError::Unavailable("the write transaction has ended".into()));
        };
        state.abandon_if_rolled_back();
        if state.group.is_none() {
            return Err(StoreError::Unavailable("the database rolled the transaction back".into()));
        }
        if self.savepoint
            && let Err(e) = state.conn.execute_batch("RELEASE use_case")
        {
            rollback_use_case(&mut state, true);
            return Err(e.into());
        }
        state.held.merge(std::mem::take(&mut self.held));
        let (done, outcome) = oneshot::channel();
        let group = state.group.as_mut().map(|g| {
            g.members.push(done);
            g.members.len() >= GROUP_MAX || g.started.elapsed() >= GROUP_MAX_AGE
        });
        if self.alone || group == Some(true) || self.writer.waiting.load(Ordering::SeqCst) == 0 {
            state.flush();
        }
        drop(state);
        // The use case queued behind this one commits the group; should it
        // never come (its request abandoned in the queue), commit it here.
        let mut outcome = outcome;
        let outcome = match tokio::time::timeout(GROUP_MAX_AGE * 2, &mut outcome).await {
            Ok(outcome) => outcome,
            Err(_) => {
                self.writer.acquire_alone().await?;
                outcome.await
            }
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
            Err(_) => Err(StoreError::Unavailable("the write connection closed before the commit".into())),
        }
    }
}

/// Undoes one use case, keeping the others in its group.
fn rollback_use_case(state: &mut State, savepoint: bool) {
    if !state.conn.is_autocommit() {
        let undo = if savepoint { "ROLLBACK TO use_case; RELEASE use_case" } else { "ROLLBACK" };
        if let Err(e) = state.conn.execute_batch(undo) {
            tracing::error!(error = %e, "rolling back an abandoned write transaction failed");
        }
    }
    if !savepoint {
        // The group's first use case: nothing else was in it.
        state.group = None;
        state.held.clear();
    }
    state.abandon_if_rolled_back();
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(mut state) = self.state.take() {
            rollback_use_case(&mut state, self.savepoint);
            let members = state.group.as_ref().map_or(0, |g| g.members.len());
            if members > 0 && self.writer.waiting.load(Ordering::SeqCst) == 0 {
                state.flush();
            }
        }
    }
}

/// Binds `args` by placeholder: `$n` (or `?n`) takes the n-th argument
/// wherever and however often it appears, an anonymous `?` the next one in
/// order (the two renderings of [`crate::db::Sql`]).
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for index in 1..=stmt.parameter_count() {
        let position = match stmt.parameter_name(index) {
            Some(name) => name
                .get(1..)
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(name.to_owned()))?,
            None => index,
        };
        let arg = args.get(position - 1).ok_or(rusqlite::Error::InvalidParameterCount(args.len(), position))?;
        let value = match arg {
            Arg::Int(v) => v.map_or(ValueRef::Null, ValueRef::Integer),
            Arg::Text(v) => v.as_deref().map_or(ValueRef::Null, |t| ValueRef::Text(t.as_bytes())),
            Arg::Bool(v) => ValueRef::Integer(i64::from(*v)),
            Arg::Bytes(v) => v.as_deref().map_or(ValueRef::Null, ValueRef::Blob),
        };
        stmt.raw_bind_parameter(index, rusqlite::types::ToSqlOutput::Borrowed(value))?;
    }
    Ok(())
}

pub(crate) fn execute(conn: &Connection, sql: &str, args: Vec<Arg>) -> Result<u64> {
    // The text only: arguments may hold what must not reach a log.
    tracing::trace!(sql, "execute");
    let mut stmt = match conn.prepare_cached(sql) {
        Ok(stmt) => stmt,
        // Several statements in one text (only ever fixed SQL without
        // parameters, as in tests and maintenance): run them as a batch.
        Err(rusqlite::Error::MultipleStatement) if args.is_empty() => {
            conn.execute_batch(sql)?;
            return Ok(conn.changes());
        }
        Err(e) => return Err(e.into()),
    };
    bind(&mut stmt, &args)?;
    // Stepping through the rows (rather than `execute`) also runs
    // statements with RETURNING whose rows the caller does not want.
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    Ok(conn.changes())
}

pub(crate) fn fetch(conn: &Connection, sql: &str, args: Vec<Arg>, limit: Option<usize>) -> Result<Vec<Row>> {
    tracing::trace!(sql, "fetch");
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, &args)?;
    let columns: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let width = columns.len();
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        if limit.is_some_and(|n| out.len() >= n) {
            // SQLite makes all of a RETURNING statement's changes on its
            // first step, so stopping early loses nothing.
            break;
        }
        let values = (0..width).map(|i| row.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>()?;
        out.push(Row { columns: columns.clone(), values });
    }
    Ok(out)
}

/// A row read on the write connection, decoded by column name as sqlx's
/// rows are (and as strictly: a NULL or a value of another type is an error).
pub(crate) struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    fn get(&self, col: &str) -> rusqlite::Result<(usize, ValueRef<'_>)> {
        let i = self
            .columns
            .iter()
            .position(|c| c == col)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(col.to_owned()))?;
        Ok((i, ValueRef::from(&self.values[i])))
    }

    pub(crate) fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        Ok(match self.get(col)? {
            (_, ValueRef::Null) => None,
            (_, ValueRef::Integer(v)) => Some(v),
            (i, other) => return Err(mismatch(i, col, other)),
        })
    }

    pub(crate) fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(match self.get(col)? {
            (_, ValueRef::Null) => None,
            (i, ValueRef::Text(t)) => Some(
                std::str::from_utf8(t)
                    .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))?
                    .to_owned(),
            ),
            (i, other) => return Err(mismatch(i, col, other)),
        })
    }

    pub(crate) fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>> {
        Ok(match self.get(col)? {
            (_, ValueRef::Null) => None,
            (_, ValueRef::Blob(b) | ValueRef::Text(b)) => Some(b.to_vec()),
            (i, other) => return Err(mismatch(i, col, other)),
        })
    }
}

fn mismatch(i: usize, col: &str, value: ValueRef<'_>) -> StoreError {
    rusqlite::Error::InvalidColumnType(i, col.to_owned(), value.data_type()).into()
}

#[cfg(test)]
mod tests {
    use crate::db::{Db, Tx, args};
    use crate::test_support::TestDb;
    use kept_core::metrics::{Delta, Measure, RollupKey, Scope};
    use std::sync::atomic::Ordering;

    fn writer(db: &TestDb) -> super::Writer {
        match &db.store.db {
            Db::Sqlite { write, .. } => write.clone(),
            Db::Postgres(_) => unreachable!("a SQLite test database"),
        }
    }

    async fn add_team(tx: &mut Tx, name: &str) {
        tx.execute("INSERT INTO teams (name, internal, created_at, updated_at) VALUES ($1, FALSE, 0, 0)", args![name])
            .await
            .unwrap();
    }

    async fn teams(db: &TestDb) -> Vec<String> {
        let rows = db.store.db.fetch_all("SELECT name FROM teams WHERE name LIKE 'G%' ORDER BY name", args![]).await;
        rows.unwrap().iter().map(|r| r.text("name").unwrap()).collect()
    }

    /// Commits `first` once both other use cases are queued behind it, and
    /// checks that the three (one failing) shared one commit.
    async fn commit_as_one_group(
        db: &TestDb,
        first: Tx,
        failing: tokio::task::JoinHandle<()>,
        last: tokio::task::JoinHandle<crate::Result<()>>,
    ) {
        let w = writer(db);
        while w.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let before = w.groups.load(Ordering::SeqCst);
        first.commit().await.unwrap();
        failing.await.unwrap();
        last.await.unwrap().unwrap();
        assert_eq!(w.groups.load(Ordering::SeqCst) - before, 1, "the three shared one commit");
    }

    #[tokio::test]
    async fn every_connection_shares_one_memory_budget() {
        let db = TestDb::sqlite().await;
        // Process-wide: what the writer set, a reader reports.
        let row = db.store.db.fetch_one("PRAGMA soft_heap_limit", args![]).await.unwrap();
        assert_eq!(row.int("soft_heap_limit").unwrap(), crate::connect::SQLITE_HEAP_BUDGET);
        let cache = db.store.db.fetch_one("PRAGMA cache_size", args![]).await.unwrap();
        assert_eq!(cache.int("cache_size").unwrap(), -crate::connect::SQLITE_CACHE_KIB);
    }

    #[tokio::test]
    async fn the_log_is_copied_back_beside_the_writer() {
        let db = TestDb::sqlite().await;
        let file = db.url().strip_prefix("sqlite://").unwrap().to_owned();
        let size = || std::fs::metadata(&file).unwrap().len();
        let before = size();
        let w = writer(&db);
        w.execute("CREATE TABLE filler (b BLOB)", vec![]).await.unwrap();
        // ~250 pages: far below the writer's own threshold, so only the
        // checkpoint thread can move them into the database file.
        for _ in 0..100 {
            w.execute("INSERT INTO filler VALUES (zeroblob(8192))", vec![]).await.unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while size() < before + 800_000 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(size() >= before + 800_000, "the database file grew from {before} to {} bytes", size());
    }

    /// Under writes that never pause, the log still starts again from its
    /// beginning: the checkpoint thread finishes its copy under the write
    /// lock. (Without that, it grew until the writer's own threshold, and
    /// the writer then synced megabytes inside its commits.) Each restart
    /// bumps the checkpoint sequence number in the log's header.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_restarts_while_writes_never_pause() {
        let db = TestDb::sqlite().await;
        let wal = format!("{}-wal", db.url().strip_prefix("sqlite://").unwrap());
        let restarts = move || {
            let header = std::fs::read(&wal).unwrap_or_default();
            header.get(12..16).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let w = writer(&db);
        w.execute("CREATE TABLE filler (b BLOB)", vec![]).await.unwrap();
        let first = restarts();
        // Four writers keep a group always open; each commit adds about
        // 8 pages per member. They stop once the log has restarted three
        // times, or after ~40,000 pages, short of the writer's own
        // threshold (which would restart it too).
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut writers = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let (w, stop) = (w.clone(), stop.clone());
            writers.spawn(async move {
                let mut commits = 0u32;
                while !stop.load(Ordering::SeqCst) && commits < 1_250 {
                    w.execute("INSERT INTO filler VALUES (zeroblob(32000))", vec![]).await.unwrap();
                    commits += 1;
                }
            });
        }
        let watch = tokio::spawn({
            let stop = stop.clone();
            async move {
                while !stop.load(Ordering::SeqCst) && restarts() < first + 3 {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                stop.store(true, Ordering::SeqCst);
                restarts() - first
            }
        });
        while writers.join_next().await.is_some() {}
        stop.store(true, Ordering::SeqCst);
        let restarted = watch.await.unwrap();
        assert!(restarted >= 3, "the log restarted {restarted} times");
    }

    /// Use cases that queue for the writer share commits, and each returns
    /// only once its change is visible to the readers.
    #[tokio::test]
    async fn queued_use_cases_share_a_commit_and_return_once_durable() {
        let db = TestDb::sqlite().await;
        let before = writer(&db).groups.load(Ordering::SeqCst);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let store = db.store.clone();
            tasks.spawn(async move {
                let mut tx = store.db.begin().await.unwrap();
                // Holding the writer across a yield lets the others queue.
                tokio::task::yield_now().await;
                add_team(&mut tx, &format!("G{i:02}")).await;
                tx.commit().await.unwrap();
                let seen = store.db.fetch_optional("SELECT id FROM teams WHERE name = $1", args![format!("G{i:02}")]);
                assert!(seen.await.unwrap().is_some(), "G{i:02} acknowledged but not visible");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        let groups = writer(&db).groups.load(Ordering::SeqCst) - before;
        assert!((1..20).contains(&groups), "20 use cases took {groups} commits");
        assert_eq!(teams(&db).await.len(), 20);
    }

    /// A use case that fails inside a group rolls back alone: the ones
    /// before and after it in the same commit keep their changes.
    #[tokio::test]
    async fn a_failed_use_case_in_a_group_takes_only_itself_back() {
        let db = TestDb::sqlite().await;
        let mut first = db.store.db.begin().await.unwrap();
        add_team(&mut first, "G1").await;
        crate::search_index::index(&mut first, 1, "first words", 1, true);
        let store = db.store.clone();
        let failing = tokio::spawn(async move {
            let mut tx = store.db.begin().await.unwrap();
            add_team(&mut tx, "G2").await;
            crate::search_index::index(&mut tx, 2, "failed words", 2, true);
            // A duplicate name breaks the teams' unique name: the use case fails.
            let dup = tx.execute(
                "INSERT INTO teams (name, internal, created_at, updated_at) VALUES ('G2', FALSE, 0, 0)",
                args![],
            );
            assert!(dup.await.is_err());
            drop(tx);
        });
        let store = db.store.clone();
        let last = tokio::spawn(async move {
            let mut tx = store.db.begin().await.unwrap();
            add_team(&mut tx, "G3").await;
            crate::search_index::index(&mut tx, 3, "last words", 3, true);
            tx.commit().await
        });
        commit_as_one_group(&db, first, failing, last).await;
        assert_eq!(teams(&db).await, ["G1", "G3"]);
        // The full-text documents, written at the group's commit, likewise.
        let indexed = db
            .store
            .db
            .fetch_all("SELECT rowid AS id FROM search_docs WHERE search_docs MATCH 'words' ORDER BY rowid", args![]);
        let indexed: Vec<i64> = indexed.await.unwrap().iter().map(|r| r.int("id").unwrap()).collect();
        assert_eq!(indexed, [1, 3]);
    }

    /// One response time of `seconds` for the organisation on day 20,000.
    fn response(seconds: i64) -> crate::metrics::rollups::Deltas {
        let mut hist = kept_core::metrics::Hist::new();
        hist.add(seconds, 1);
        let key = RollupKey { scope: Scope::Org, key: String::new(), day: 20_000, measure: Measure::Frt };
        [(key, Delta { n: 1, total: seconds, hist })].into_iter().collect()
    }

    /// The organisation's first responses: counted in the daily rollups, and
    /// waiting to be folded in.
    async fn org_frt(db: &TestDb) -> (i64, i64) {
        let sql = "SELECT COALESCE(SUM(n), 0) AS n FROM metric_rollups WHERE scope = 'org' AND measure = 'frt'";
        let counted = db.store.db.fetch_one(sql, args![]).await.unwrap().int("n").unwrap();
        let mut waiting = crate::metrics::rollups::Deltas::new();
        for r in db.store.db.fetch_all("SELECT deltas FROM metric_rollup_pending", args![]).await.unwrap() {
            kept_core::metrics::decode_deltas_into(&r.bytes("deltas").unwrap(), &mut waiting).unwrap();
        }
        (counted, waiting.values().map(|d| d.n).sum())
    }

    /// Commits one use case adding one response of `seconds`.
    async fn respond(db: &TestDb, seconds: i64) {
        let mut tx = db.store.db.begin().await.unwrap();
        crate::metrics::rollups::apply(&mut tx, response(seconds)).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// A group's use cases' rollup differences are stored once, summed, in
    /// its commit; those of a use case that failed are not.
    #[tokio::test]
    async fn a_group_stores_its_members_rollups_once_at_commit() {
        let db = TestDb::sqlite().await;
        // Until the writer has looked, rows may wait from before a restart:
        // its first commit would fold them in.
        writer(&db).fold_rollups().await.unwrap();
        let mut first = db.store.db.begin().await.unwrap();
        crate::metrics::rollups::apply(&mut first, response(60)).await.unwrap();
        let store = db.store.clone();
        let failing = tokio::spawn(async move {
            let mut tx = store.db.begin().await.unwrap();
            crate::metrics::rollups::apply(&mut tx, response(999)).await.unwrap();
            drop(tx);
        });
        let store = db.store.clone();
        let last = tokio::spawn(async move {
            let mut tx = store.db.begin().await.unwrap();
            crate::metrics::rollups::apply(&mut tx, response(120)).await.unwrap();
            tx.commit().await
        });
        commit_as_one_group(&db, first, failing, last).await;
        assert_eq!(org_frt(&db).await, (0, 2), "the group's sum waits as one row");
        db.store.db.fold_rollups().await.unwrap();
        assert_eq!(org_frt(&db).await, (2, 0), "folded before a read");
        for table in ["metric_rollups", "metric_rollups_monthly"] {
            let sql = crate::db::Sql::built(format!("SELECT n, total, hist FROM {table} WHERE scope = 'org'"));
            let rows = db.store.db.fetch_all(sql, args![]).await.unwrap();
            assert_eq!(rows.len(), 1, "{table}");
            assert_eq!((rows[0].int("n").unwrap(), rows[0].int("total").unwrap()), (2, 180), "{table}");
            let hist = kept_core::metrics::Hist::decode(&rows[0].bytes("hist").unwrap()).unwrap();
            let mut expected = kept_core::metrics::Hist::new();
            expected.add(60, 1);
            expected.add(120, 1);
            assert_eq!(hist, expected, "{table}");
        }
    }

    /// Waiting differences are folded in many at a time: every committed
    /// one is either counted or waiting, never both or neither.
    #[tokio::test]
    async fn waiting_rollups_are_folded_in_by_later_commits() {
        let db = TestDb::sqlite().await;
        writer(&db).fold_rollups().await.unwrap();
        let commits = 2 * super::pending::FOLD_ROWS as i64 + 6;
        let mut most = 0;
        for i in 1..=commits {
            respond(&db, 60).await;
            let (counted, waiting) = org_frt(&db).await;
            assert_eq!(counted + waiting, i, "after commit {i}");
            most = most.max(waiting);
        }
        assert!(most <= super::pending::FOLD_ROWS as i64, "{most} rows waited at once");
        let (counted, _) = org_frt(&db).await;
        assert!(counted >= 2 * super::pending::FOLD_ROWS as i64, "commits folded ({counted} counted)");
        db.store.db.fold_rollups().await.unwrap();
        assert_eq!(org_frt(&db).await, (commits, 0));
    }

    /// A fold adds this writer's own sum only when the table holds exactly
    /// the rows it stored: here another writer folds them in and stores a
    /// row of its own under the same id (SQLite reuses the ids of an
    /// emptied table), and that row, not this writer's sum, is counted.
    #[tokio::test]
    async fn a_fold_counts_what_waits_even_where_another_writer_reused_an_id() {
        let db = TestDb::sqlite().await;
        writer(&db).fold_rollups().await.unwrap();
        respond(&db, 30).await;
        let id = |db: &TestDb| {
            let db = db.store.db.clone();
            async move { db.fetch_one("SELECT MAX(id) AS id FROM metric_rollup_pending", args![]).await.unwrap().int("id") }
        };
        let mine = id(&db).await.unwrap();
        let file = db.url().strip_prefix("sqlite://").unwrap().to_owned();
        let other = super::Writer::open(&file).unwrap();
        other.fold_rollups().await.unwrap();
        let mut tx = Tx::Write(other.begin().await.unwrap());
        crate::metrics::rollups::apply(&mut tx, response(60)).await.unwrap();
        tx.commit().await.unwrap();
        drop(other);
        assert_eq!(id(&db).await.unwrap(), mine, "the other writer's row took the same id");
        db.store.db.fold_rollups().await.unwrap();
        let sql = "SELECT SUM(n) AS n, SUM(total) AS total FROM metric_rollups WHERE scope = 'org' AND measure = 'frt'";
        let row = db.store.db.fetch_one(sql, args![]).await.unwrap();
        assert_eq!((row.int("n").unwrap(), row.int("total").unwrap()), (2, 90));
    }

    /// Differences left waiting by another writer (kept killed and started
    /// again, or `kept import` run beside `kept serve`) are folded in before
    /// this one reads, although its own commits left nothing waiting.
    #[tokio::test]
    async fn rollups_left_waiting_by_another_writer_are_folded_before_a_read() {
        let db = TestDb::sqlite().await;
        writer(&db).fold_rollups().await.unwrap();
        respond(&db, 30).await;
        db.store.db.fold_rollups().await.unwrap();
        let file = db.url().strip_prefix("sqlite://").unwrap().to_owned();
        let other = super::Writer::open(&file).unwrap();
        other.fold_rollups().await.unwrap();
        for seconds in [60, 120] {
            let mut tx = Tx::Write(other.begin().await.unwrap());
            crate::metrics::rollups::apply(&mut tx, response(seconds)).await.unwrap();
            tx.commit().await.unwrap();
        }
        drop(other);
        assert_eq!(org_frt(&db).await.1, 2, "the other writer's differences wait");
        let reading = db.store.period(Scope::Org, "", 20_000, 20_000).await.unwrap();
        assert_eq!(reading.total.measures[&Measure::Frt].n, 3, "a read of the rollups counts them");
        assert_eq!(org_frt(&db).await, (3, 0));
    }
}
