//! Copies SQLite's write-ahead log back into the database file on a thread
//! of its own, beside the writer.
//!
//! Left to SQLite, the connection whose commit takes the log past
//! `wal_autocheckpoint` pages does the copy, and the syncs around it,
//! inside that commit: under the single write lock, while every queued use
//! case waits. Intake writes thousands of pages a second, so that was a
//! checkpoint every few commits (turning it off entirely made intake ~7 %
//! faster; BENCHMARKS.md). A PASSIVE checkpoint takes no lock a writer
//! needs, so here it runs on another core while the writer goes on; the
//! writer keeps a far higher `wal_autocheckpoint` of its own, should this
//! thread fall behind or fail.

use rusqlite::{Connection, OpenFlags};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::time::Duration;

/// How often the log is copied back. At intake's rate that is a few
/// thousand pages, well under [`WRITER_AUTOCHECKPOINT`].
const EVERY: Duration = Duration::from_millis(100);

/// The writer's own threshold (pages), only reached if the thread is not
/// keeping up: 40 MB of log at the default page size.
pub(crate) const WRITER_AUTOCHECKPOINT: u32 = 10_000;

/// Stops the thread when dropped (with the last clone of the writer).
pub(crate) struct Checkpointer {
    _stop: SyncSender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (already in WAL mode).
    /// On failure the writer's own threshold still bounds the log.
    pub(crate) fn start(path: &str) -> Option<Self> {
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
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                // PASSIVE: copies what no reader still needs, never waits.
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    Ok(()) => failing = false,
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
