//! Opening a store from a URL: `sqlite://PATH` (the embedded default) or
//! `postgres://…` (for scale-out). The scheme picks the engine; anything else
//! is refused with a message that says what would work.

use crate::db::Db;
use crate::error::{Result, StoreError};
use crate::writer::Writer;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// How many connections to keep. PostgreSQL shares `max`; SQLite uses one
/// writer and `max` readers.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub max: u32,
}

impl Default for PoolSize {
    fn default() -> Self {
        Self { max: 8 }
    }
}

pub(crate) enum Target {
    Sqlite(String),
    Postgres(String),
}

pub(crate) fn parse_url(url: &str) -> Result<Target> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => {
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            if path.is_empty() {
                return Err(StoreError::Config("a sqlite:// database URL needs a file path".into()));
            }
            Ok(Target::Sqlite(path.to_owned()))
        }
        "postgres" | "postgresql" => Ok(Target::Postgres(url.to_owned())),
        "" => Err(StoreError::Config(
            "the database URL has no scheme; use sqlite://PATH or postgres://USER@HOST/DB".into(),
        )),
        other => Err(StoreError::Config(format!(
            "unsupported database URL scheme '{other}'; use sqlite://PATH or postgres://USER@HOST/DB"
        ))),
    }
}

pub(crate) async fn open(url: &str, size: PoolSize) -> Result<Db> {
    match parse_url(url)? {
        Target::Sqlite(path) => open_sqlite(&path, size).await,
        Target::Postgres(url) => {
            let options = PgConnectOptions::from_str(&url)
                .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {}", redact(&e.to_string()))))?;
            open_postgres(options, size).await
        }
    }
}

/// What every kept SQLite connection waits for another process's lock, and
/// its page cache (in KiB); writer.rs sets the same on its connection.
pub(crate) const SQLITE_CACHE_KIB: i64 = 32_000;
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What all of the process's SQLite connections may hold in memory together
/// (bytes), set once by writer.rs. The bundled SQLite is built with
/// SQLITE_ENABLE_MEMORY_MANAGEMENT, so its connections' page caches are one
/// pool with one least-recently-used list: past this soft limit SQLite
/// recycles the coldest clean page of any connection rather than grow. One
/// connection (the writer in a promise storm) may still use most of it, but
/// nine readers and a writer no longer each keep their own 32 MB of the same
/// hot pages; what falls out is read again from the OS's file cache.
/// 8 MiB: at 100,000 cases the promise storm, the scorecards and the reads
/// ran as fast as with no limit, and intake as fast as with 32 MB per
/// connection, while kept serve's peak fell from 153 to 49 MiB on the reads
/// (BENCHMARKS.md, "One memory budget for SQLite"). 4 MiB slowed the storm
/// by half.
pub(crate) const SQLITE_HEAP_BUDGET: i64 = 8 * 1024 * 1024;

pub(crate) async fn open_sqlite(path: &str, size: PoolSize) -> Result<Db> {
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
    }
    // WAL with synchronous=NORMAL: a commit survives a crash of kept (the
    // WAL is written before commit returns); only an OS crash or power loss
    // could lose the last transactions. The busy timeout covers a second
    // process (the CLI) writing beside the server.
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
        .disable_statement_logging();
    let unavailable = |e: sqlx::Error| StoreError::Unavailable(format!("{path}: {e}"));
    // The writer first: it creates the file and switches it to WAL before
    // any read-only connection opens it.
    let write = Writer::open(path)?;
    let read = SqlitePoolOptions::new()
        .max_connections(size.max.max(1))
        .connect_with(options.read_only(true))
        .await
        .map_err(unavailable)?;
    Ok(Db::Sqlite { write, read, point: crate::point::PointReaders::new(path) })
}

pub(crate) async fn open_postgres(options: PgConnectOptions, size: PoolSize) -> Result<Db> {
    let options = options.disable_statement_logging();
    // One direct connection first: a pool reports only "timed out", while
    // this says why (refused, unknown host, authentication failed).
    let probe = tokio::time::timeout(std::time::Duration::from_secs(10), PgConnection::connect_with(&options)).await;
    match probe {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
        Ok(Err(e)) => return Err(StoreError::Unavailable(redact(&e.to_string()))),
        Err(_) => return Err(StoreError::Unavailable("timed out connecting to PostgreSQL".into())),
    }
    let pool = PgPoolOptions::new()
        .max_connections(size.max.max(2))
        .acquire_timeout(Duration::from_secs(5))
        // No JIT: kept's statements are short, but a bulk statement (a
        // hundred OR'd look-ups while `kept demo` or `kept import` writes a
        // batch) is estimated costly enough to be compiled, and compiling
        // took 513 of its 578 ms at half a million cases (BENCHMARKS.md).
        // Set per session rather than as a startup option, which poolers
        // such as PgBouncer refuse.
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute("SET jit = off").await.map(drop)
            })
        })
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Unavailable(redact(&e.to_string())))?;
    Ok(Db::Postgres(pool))
}

/// Removes anything that looks like `user:password@` from a message.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        match (word.find("://"), word.find('@')) {
            (Some(s), Some(at)) if at > s => {
                out.push_str(&word[..s + 3]);
                out.push_str("***");
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_scheme_is_refused_with_the_schemes_that_work() {
        let Err(StoreError::Config(msg)) = parse_url("mysql://localhost/kept") else { panic!("accepted") };
        assert!(msg.contains("'mysql'") && msg.contains("sqlite://") && msg.contains("postgres://"), "{msg}");
        assert!(matches!(parse_url("kept.db"), Err(StoreError::Config(_))));
        assert!(matches!(parse_url("sqlite://"), Err(StoreError::Config(_))));
    }

    #[test]
    fn sqlite_urls_name_a_path_and_postgres_urls_pass_through() {
        assert!(matches!(parse_url("sqlite://kept-data/kept.db"), Ok(Target::Sqlite(p)) if p == "kept-data/kept.db"));
        assert!(matches!(parse_url("sqlite:///var/lib/kept.db"), Ok(Target::Sqlite(p)) if p == "/var/lib/kept.db"));
        assert!(matches!(parse_url("postgresql://u@h/db"), Ok(Target::Postgres(_))));
    }

    #[test]
    fn passwords_in_urls_are_redacted_from_messages() {
        assert_eq!(
            redact("cannot reach postgres://kept:s3cret@db:5432/kept now"),
            "cannot reach postgres://***@db:5432/kept now"
        );
        assert_eq!(redact("no url here"), "no url here");
    }

    /// Every pooled PostgreSQL connection has JIT off (see `open_postgres`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_connections_do_not_compile_queries() {
        let Some(db) = crate::test_support::TestDb::postgres().await else { return };
        for _ in 0..3 {
            let row = db.store.db.fetch_one("SELECT current_setting('jit') AS jit", crate::db::args![]).await.unwrap();
            assert_eq!(row.text("jit").unwrap(), "off");
        }
    }
}
