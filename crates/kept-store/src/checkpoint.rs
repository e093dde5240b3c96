//! Copies SQLite's write-ahead log back into the database file on a thread
//! of its own, beside the writer.
//!
//! Left to SQLite, the connection whose commit takes the log past
//! `wal_autocheckpoint` pages does the copy, and the syncs around it,
//! inside that commit: under the single write lock, while every queued use
//! case waits. Intake writes thousands of pages a second, so that was a
//! checkpoint every few commits (turning it off entirely made intake ~7 %
//! faster; BENCHMARKS.md). A PASSIVE checkpoint takes no lock a writer
//! needs, so here it runs on another core while the writer goes on.
//!
//! Copying is not enough to keep the log short: SQLite starts writing the log
//! from its beginning again only when a write transaction begins with every
//! frame already copied, and under steady writes the writer has always added
//! frames while the copy ran. The log then grew past the writer's own
//! `wal_autocheckpoint` and the writer checkpointed after its commits,
//! syncing megabytes of log under the write lock: 2–13 ms commits, the
//! p99 of intake at 16 clients (BENCHMARKS.md, "The log that never
//! restarted"). So once the log is long, this thread finishes the copy on
//! the writer's connection, under the write lock: what is left is what was
//! written during its own copy, a few frames and two small syncs, and the
//! next write transaction starts the log again.

use rusqlite::{Connection, OpenFlags};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::Duration;

/// How often the log is copied back. At intake's rate that is a few
/// thousand pages. (More often in the tests, which write for a moment.)
#[cfg(not(test))]
const EVERY: Duration = Duration::from_millis(100);
#[cfg(test)]
const EVERY: Duration = Duration::from_millis(20);

/// The log's length (frames) from which the copy is finished under the
/// write lock, so that the log restarts: 32 MB at the default page size,
/// a few tenths of a second of intake. (Lower in the tests, so that a few
/// seconds of writes restart it several times.)
#[cfg(not(test))]
const FINISH_AT: i64 = 8_192;
#[cfg(test)]
const FINISH_AT: i64 = 256;

/// The writer's own threshold (pages), only reached if this thread stops
/// or readers keep the log from restarting: 200 MB of log.
pub(crate) const WRITER_AUTOCHECKPOINT: u32 = 50_000;

/// Finishes a checkpoint on the writer's connection under its lock; returns
/// what [`passive`] returned there.
pub(crate) type Finish = Box<dyn Fn() -> Option<(i64, i64)> + Send>;

/// Runs a PASSIVE checkpoint on `conn`: the log's length and how much of it
/// is now in the database, in frames.
pub(crate) fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get(1)?, r.get(2)?)))
}

/// Stops the thread when dropped (with the last clone of the writer).
pub(crate) struct Checkpointer {
    _stop: SyncSender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode).
    /// On failure the writer's own threshold still bounds the log.
    pub(crate) fn start(path: &str, finish: Finish) -> Option<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = match Connection::open_with_flags(path, flags) {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a connection for checkpoints; the writer will checkpoint");
                return None;
            }
        };
        let (stop, stopped) = mpsc::sync_channel::<()>(0);
        let spawned = std::thread::Builder::new().name("kept-checkpoint".into()).spawn(move || {
            let mut failing = false;
            // The log's length when last finished: while it stays the same,
            // nothing was written since, and the next write restarts it.
            let mut finished = None;
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                // PASSIVE: copies what no reader still needs, never waits.
                match passive(&conn) {
                    Ok((log, copied)) => {
                        failing = false;
                        // The log's length is as it was when this copy
                        // started: the writer has gone on meanwhile.
                        if log >= FINISH_AT && finished != Some((log, copied)) {
                            finished = finish();
                        }
                    }
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "checkpoint failed; retrying");
                    }
                    Err(_) => {}
                }
            }
        });
        match spawned {
            Ok(_) => Some(Self { _stop: stop }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the checkpoint thread; the writer will checkpoint");
                None
            }
        }
    }
}
