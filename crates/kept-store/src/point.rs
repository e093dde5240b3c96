//! Point reads on SQLite: look-ups by a unique key (the caller's token or
//! session, their teams) run on the calling task's own thread.
//!
//! The readers' pool is sqlx's, which runs each connection on a worker
//! thread of its own: every query is handed over and its rows handed back,
//! two thread switches (writer.rs says why the writer left it). Every API
//! request authenticates with two such look-ups before it does anything
//! else; in the intake bench's profile the readers' threads took 14 % of
//! the server's CPU, three quarters of it waking and sleeping (BENCHMARKS.md,
//! "Point reads"). A look-up by a unique index takes microseconds, so it may
//! hold a runtime thread; anything that scans (lists, scorecards) stays on
//! the pool, where it cannot stall other requests.
//!
//! A few connections, each behind a mutex that is only ever tried: a task
//! that finds them all busy uses the pool instead of waiting.

use crate::connect::{SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_KIB};
use crate::db::Arg;
use crate::error::{Result, StoreError};
use crate::writer::{self, Row};
use rusqlite::{Connection, OpenFlags};
use std::sync::{Arc, Mutex, OnceLock};

/// As many as there are runtime threads to use them at once on the
/// machines kept is measured on; more would only hold memory.
const CONNECTIONS: usize = 2;

/// Prepared statements per connection: the point reads are a handful.
const STATEMENT_CACHE: usize = 16;

#[derive(Clone)]
pub(crate) struct PointReaders {
    path: Arc<str>,
    /// Opened on first use, so that a store that never serves a request
    /// (the CLI's commands) never opens them.
    conns: Arc<[OnceLock<Option<Mutex<Connection>>>; CONNECTIONS]>,
}

impl std::fmt::Debug for PointReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PointReaders")
    }
}

impl PointReaders {
    pub(crate) fn new(path: &str) -> Self {
        Self { path: path.into(), conns: Arc::new(std::array::from_fn(|_| OnceLock::new())) }
    }

    /// Runs `sql` on a free connection; gives the arguments back when every
    /// one is busy (or none could be opened), to read through the pool.
    pub(crate) fn fetch(&self, sql: &str, args: Vec<Arg>) -> std::result::Result<Result<Vec<Row>>, Vec<Arg>> {
        for slot in self.conns.iter() {
            let Some(conn) = slot.get_or_init(|| open(&self.path).ok().map(Mutex::new)) else { continue };
            // A poisoned connection (a panic while reading) is still a
            // consistent read-only connection; take it back.
            let guard = match conn.try_lock() {
                Ok(guard) => guard,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => continue,
            };
            return Ok(writer::fetch(&guard, sql, args, None));
        }
        Err(args)
    }
}

fn open(path: &str) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let unavailable = |e: rusqlite::Error| StoreError::Unavailable(format!("{path}: {e}"));
    let conn = Connection::open_with_flags(path, flags).map_err(unavailable)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT).map_err(unavailable)?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}; PRAGMA query_only = ON;"))
        .map_err(unavailable)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use crate::db::{Db, DbRow, args};
    use crate::test_support::TestDb;
    use std::sync::MutexGuard;

    fn readers(db: &TestDb) -> super::PointReaders {
        match &db.store.db {
            Db::Sqlite { point, .. } => point.clone(),
            Db::Postgres(_) => unreachable!("a SQLite test database"),
        }
    }

    async fn add_team(db: &TestDb, name: &str) {
        let mut tx = db.store.db.begin().await.unwrap();
        tx.execute("INSERT INTO teams (name, internal, created_at, updated_at) VALUES ($1, FALSE, 0, 0)", args![name])
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    const TEAM: &str = "SELECT name FROM teams WHERE name = $1";

    #[tokio::test]
    async fn a_point_read_runs_here_and_sees_every_commit_before_it() {
        let db = TestDb::sqlite().await;
        assert!(db.store.db.point_optional(TEAM, args!["Point"]).await.unwrap().is_none());
        add_team(&db, "Point").await;
        let row = db.store.db.point_optional(TEAM, args!["Point"]).await.unwrap().expect("the committed team");
        assert!(matches!(row, DbRow::Written(_)), "read on a point connection, not the pool");
        assert_eq!(row.text("name").unwrap(), "Point");
    }

    #[tokio::test]
    async fn a_point_read_goes_to_the_pool_when_every_connection_is_busy() {
        let db = TestDb::sqlite().await;
        add_team(&db, "Busy").await;
        let point = readers(&db);
        let held: Vec<MutexGuard<'_, rusqlite::Connection>> = point
            .conns
            .iter()
            .map(|slot| {
                let conn = slot.get_or_init(|| super::open(&point.path).ok().map(std::sync::Mutex::new));
                conn.as_ref().expect("opened").lock().unwrap()
            })
            .collect();
        let row = db.store.db.point_optional(TEAM, args!["Busy"]).await.unwrap().expect("the team");
        assert!(matches!(row, DbRow::Sqlite(_)), "read through the pool");
        assert_eq!(row.text("name").unwrap(), "Busy");
        drop(held);
        let row = db.store.db.point_optional(TEAM, args!["Busy"]).await.unwrap().unwrap();
        assert!(matches!(row, DbRow::Written(_)), "back on a point connection once one is free");
    }

    #[tokio::test]
    async fn a_point_read_keeps_no_snapshot_that_would_hold_the_log_back() {
        let db = TestDb::sqlite().await;
        for name in ["A1", "A2", "A3"] {
            add_team(&db, name).await;
            assert!(db.store.db.point_optional(TEAM, args![name]).await.unwrap().is_some());
        }
        // A reader that left its statement open would pin the log: a
        // truncating checkpoint could never finish (busy = 1). It is also
        // busy for a moment whenever the store's own checkpoint thread is
        // copying (every 20 ms in tests), so a few tries are allowed; a
        // pinned snapshot fails them all.
        let file = db.url().strip_prefix("sqlite://").unwrap().to_owned();
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.busy_timeout(std::time::Duration::from_millis(100)).unwrap();
        let mut busy = 1;
        for _ in 0..50 {
            busy = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)).unwrap();
            if busy == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(7));
        }
        assert_eq!(busy, 0, "no point connection holds a read snapshot");
    }
}
