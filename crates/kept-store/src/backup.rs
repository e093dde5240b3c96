//! Online backup and restore of the embedded SQLite database.
//!
//! A backup is `VACUUM INTO`: SQLite copies one read snapshot into a fresh
//! file, so the copy is consistent (every committed transaction before the
//! snapshot, none after) while `kept serve` keeps writing through WAL.
//! PostgreSQL has its own tools for this (pg_dump / pg_restore); kept does
//! not wrap them.
//!
//! Every refusal here is a [`StoreError::Config`]: something the operator
//! must fix (a path, a flag, a running server), not a bug.

use crate::connect::{Target, parse_url};
use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::{PoolSize, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, SqlSafeStr};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a database holds, for the one-line summaries of backup and restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contents {
    pub cases: i64,
    pub events: i64,
}

/// The file a `sqlite://` URL names, or `None` for PostgreSQL.
pub fn sqlite_path(url: &str) -> Result<Option<PathBuf>> {
    Ok(match parse_url(url)? {
        Target::Sqlite(path) => Some(PathBuf::from(path)),
        Target::Postgres(_) => None,
    })
}

fn refuse(message: impl Into<String>) -> StoreError {
    StoreError::Config(message.into())
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    refuse(format!("cannot {what} {}: {e}", path.display()))
}

/// The path as SQL text for `VACUUM INTO`. SQLite takes the file name as a
/// string literal; rather than trust an escaping scheme with a file name,
/// names that would need escaping are refused. Absolute, so that a name
/// beginning with `file:` is never read as a URI and the file lands where
/// the operator's shell meant, whatever the working directory.
fn sql_literal(path: &Path) -> Result<String> {
    let absolute = std::path::absolute(path).map_err(|e| io_error("resolve", path, e))?;
    let text =
        absolute.to_str().ok_or_else(|| refuse(format!("{}: the backup path must be valid UTF-8", path.display())))?;
    if text.contains('\'') || text.contains('\0') {
        return Err(refuse(format!(
            "{}: the backup path must not contain a single quote or NUL; choose another name",
            path.display()
        )));
    }
    Ok(format!("'{text}'"))
}

/// A sibling of `path` for writing before an atomic rename: the same
/// directory, so the rename never crosses file systems.
fn sibling_temp(path: &Path, purpose: &str) -> Result<PathBuf> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| refuse(format!("{}: not a file name", path.display())))?;
    Ok(path.with_file_name(format!(".{name}.{purpose}-{}.tmp", std::process::id())))
}

fn sync_file(path: &Path) -> Result<()> {
    File::open(path).and_then(|f| f.sync_all()).map_err(|e| io_error("sync", path, e))
}

/// Makes a rename durable: the new directory entry reaches the disk.
fn sync_parent(path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => sync_file(dir),
        None => sync_file(Path::new(".")),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Store {
    /// Writes a consistent copy of the SQLite database to `path` and checks
    /// it (see [`inspect_sqlite`]). Refuses an existing `path` unless
    /// `replace`; an existing file is only replaced once the new copy has
    /// passed its check.
    pub async fn backup_to(&self, path: &Path, replace: bool) -> Result<Contents> {
        let Db::Sqlite { read, .. } = &self.db else {
            return Err(refuse("kept backup copies SQLite databases; use pg_dump for PostgreSQL"));
        };
        if path.exists() && !replace {
            return Err(refuse(format!("{} already exists; pass --force to replace it", path.display())));
        }
        let temp = sibling_temp(path, "backup")?;
        let sql = format!("VACUUM INTO {}", sql_literal(&temp)?);
        // A temporary left by a crashed run would make VACUUM INTO refuse.
        let _ = std::fs::remove_file(&temp);
        // A reader connection suffices: VACUUM INTO only reads the source,
        // so it takes no write lock and never holds up the server's writer.
        let copied = sqlx::query(AssertSqlSafe(sql).into_sql_str()).execute(read).await;
        let checked = match copied {
            Ok(_) => inspect_sqlite(&temp).await,
            Err(e) => Err(refuse(format!("cannot write the backup {}: {e}", path.display()))),
        };
        let finished = checked.and_then(|contents| {
            sync_file(&temp)?;
            std::fs::rename(&temp, path).map_err(|e| io_error("move the backup to", path, e))?;
            sync_parent(path)?;
            Ok(contents)
        });
        if finished.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        finished
    }

    /// How many cases and events the database holds.
    pub async fn contents(&self) -> Result<Contents> {
        let row = self
            .db
            .fetch_one("SELECT (SELECT COUNT(*) FROM cases) AS cases, (SELECT COUNT(*) FROM events) AS events", vec![])
            .await?;
        Ok(Contents { cases: row.int("cases")?, events: row.int("events")? })
    }
}

/// Checks that `path` is an intact kept SQLite database this kept can
/// migrate (integrity_check passes; the migrations table, `cases` and
/// `events` exist; no migration is newer than this build knows), without
/// writing to it, and counts what it holds.
pub async fn inspect_sqlite(path: &Path) -> Result<Contents> {
    if !path.is_file() {
        return Err(refuse(format!("{}: no such file", path.display())));
    }
    let shown = path.display().to_string();
    let not_kept = |why: String| refuse(format!("{shown} is not a usable kept database: {why}"));
    let options =
        SqliteConnectOptions::new().filename(path).read_only(true).create_if_missing(false).disable_statement_logging();
    let mut conn = SqliteConnection::connect_with(&options).await.map_err(|e| not_kept(e.to_string()))?;
    let result = inspect_connection(&mut conn).await.map_err(not_kept);
    let _ = conn.close().await;
    result
}

async fn inspect_connection(conn: &mut SqliteConnection) -> std::result::Result<Contents, String> {
    let text = |e: sqlx::Error| e.to_string();
    let problems: Vec<String> =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut *conn).await.map_err(text)?;
    if problems != ["ok"] {
        let first = problems.first().map(String::as_str).unwrap_or("no answer");
        return Err(format!("integrity_check failed ({first})"));
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'cases', 'events')",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(text)?;
    for needed in ["_sqlx_migrations", "cases", "events"] {
        if !tables.iter().any(|t| t == needed) {
            return Err(format!("it has no {needed} table"));
        }
    }
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&mut *conn).await.map_err(text)?;
    let known = crate::migrate::latest_version();
    if newest.unwrap_or(0) > known {
        return Err(format!(
            "it was made by a newer kept (migration {} > {known}); restore it with that version",
            newest.unwrap_or(0)
        ));
    }
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(&mut *conn).await.map_err(text)?;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&mut *conn).await.map_err(text)?;
    Ok(Contents { cases, events })
}

/// Refuses when another process has the database open. Every connection to
/// a WAL database holds a shared lock on the file for as long as it is
/// open, and leaving WAL mode needs the exclusive lock, so the switch to
/// `DELETE` succeeds only when nobody else (a running `kept serve`) is
/// connected. It also checkpoints the WAL into the file, which is about to
/// be replaced anyway. `BEGIN EXCLUSIVE` then covers a database that was
/// not in WAL mode.
async fn ensure_unused(path: &Path) -> Result<()> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(Duration::from_millis(500))
        .disable_statement_logging();
    let in_use = || {
        refuse(format!("{} is in use (is kept serve running on it?); stop the server, then restore", path.display()))
    };
    let busy = |e: &sqlx::Error| {
        e.as_database_error()
            .and_then(|d| d.code())
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6))
    };
    let mut conn = match SqliteConnection::connect_with(&options).await {
        Ok(conn) => conn,
        Err(e) if busy(&e) => return Err(in_use()),
        // Not a readable database: nothing can be using it as one, and
        // replacing a damaged database is what --force is for.
        Err(_) => return Ok(()),
    };
    let mode: std::result::Result<String, sqlx::Error> =
        sqlx::query_scalar("PRAGMA journal_mode = DELETE").fetch_one(&mut conn).await;
    let verdict = match mode {
        Ok(mode) if mode.eq_ignore_ascii_case("delete") => {
            match sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await {
                Ok(_) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                    Ok(())
                }
                Err(e) if busy(&e) => Err(in_use()),
                Err(_) => Ok(()),
            }
        }
        Ok(_) => Err(in_use()),
        Err(e) if busy(&e) => Err(in_use()),
        Err(_) => Ok(()),
    };
    let _ = conn.close().await;
    verdict
}

/// Replaces the SQLite database named by `url` with the backup `file`, then
/// migrates it (a backup from an older kept is brought up to date) and
/// counts what it holds. Refuses a file that is not an intact kept
/// database, an existing database unless `replace`, and a database in use.
pub async fn restore_sqlite(file: &Path, url: &str, replace: bool) -> Result<Contents> {
    let Some(target) = sqlite_path(url)? else {
        return Err(refuse("kept restore writes SQLite databases; use pg_restore for PostgreSQL"));
    };
    inspect_sqlite(file).await?;
    if target.exists() {
        let same = std::fs::canonicalize(file).ok() == std::fs::canonicalize(&target).ok();
        if same {
            return Err(refuse(format!("{} is the database itself; restore from a backup file", file.display())));
        }
        if !replace {
            return Err(refuse(format!("{} already holds a database; pass --force to replace it", target.display())));
        }
        ensure_unused(&target).await?;
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    }
    let temp = sibling_temp(&target, "restore")?;
    let placed = (|| {
        std::fs::copy(file, &temp).map_err(|e| io_error("copy the backup to", &temp, e))?;
        sync_file(&temp)?;
        // The old database's WAL and shared-memory index describe the old
        // file: left beside the new one, SQLite would replay the old WAL
        // into it. They go before the rename, so no moment exists where the
        // new file sits next to them.
        for suffix in ["-wal", "-shm", "-journal"] {
            let stale = with_suffix(&target, suffix);
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("remove", &stale, e)),
            }
        }
        std::fs::rename(&temp, &target).map_err(|e| io_error("move the backup to", &target, e))?;
        sync_parent(&target)
    })();
    if placed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    placed?;
    let store = Store::open_and_migrate(url, PoolSize { max: 1 }).await?;
    let contents = store.contents().await;
    store.close().await;
    contents
}
