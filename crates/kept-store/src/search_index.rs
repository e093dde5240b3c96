//! SQLite's full-text index (`search_docs`, FTS5) is written once per group
//! commit, just before the COMMIT, rather than by each use case as it runs.
//!
//! FTS5 keeps the terms of the rows written in a transaction in memory and
//! writes them out as a new index segment whenever a savepoint opens: the
//! use case's own (group commit puts each use case after the first in one)
//! and every statement's that may need undoing (an UPDATE, an upsert). So a
//! message written early in a use case became a segment of its own at the
//! next statement, and the segments were merged again later: 6–8 % of the
//! server's time under the intake bench (`perf`, BENCHMARKS.md). Written
//! last, a group's documents make one segment at its COMMIT.
//!
//! The documents are held like the rollup differences: a use case's go to
//! its group when it commits and are dropped if it rolls back, and the
//! group writes them in its transaction, so they commit with the changes
//! they index or not at all. Nothing in a write transaction reads the index.
//! PostgreSQL indexes generated columns instead and needs none of this.

use crate::db::{Arg, Tx, args};
use crate::error::Result;
use crate::writer;
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};

/// One searchable text: rowid = the message's id, or −case id for the case's
/// subject (so a changed subject replaces the old one).
struct Doc {
    body: String,
    case_id: i64,
    public: bool,
}

/// Documents waiting for their transaction's commit.
#[derive(Default)]
pub(crate) struct SearchDocs {
    /// Rowids whose stored document goes first (a replaced subject).
    removed: BTreeSet<i64>,
    /// The latest document for each rowid.
    added: BTreeMap<i64, Doc>,
}

/// Rows per INSERT: four values each, well under SQLite's parameter limit.
const ROWS_PER_INSERT: usize = 500;

impl SearchDocs {
    pub(crate) fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.removed.clear();
        self.added.clear();
    }

    /// Adds a later use case's documents: its removals and documents win.
    pub(crate) fn merge(&mut self, later: SearchDocs) {
        for rowid in later.removed {
            self.added.remove(&rowid);
            self.removed.insert(rowid);
        }
        self.added.extend(later.added);
    }

    /// Writes the documents in the connection's open transaction.
    pub(crate) fn write(&mut self, conn: &Connection) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let removed: Vec<i64> = std::mem::take(&mut self.removed).into_iter().collect();
        for chunk in removed.chunks(ROWS_PER_INSERT) {
            let marks = placeholders(chunk.len());
            let args = chunk.iter().map(|r| Arg::from(*r)).collect();
            writer::execute(conn, &format!("DELETE FROM search_docs WHERE rowid IN ({marks})"), args)?;
        }
        let added: Vec<(i64, Doc)> = std::mem::take(&mut self.added).into_iter().collect();
        for chunk in added.chunks(ROWS_PER_INSERT) {
            let values = vec![format!("({})", placeholders(4)); chunk.len()];
            let args =
                chunk.iter().flat_map(|(rowid, d)| args![*rowid, d.body.as_str(), d.case_id, d.public]).collect();
            let sql = format!("INSERT INTO search_docs (rowid, body, case_id, public) VALUES {}", values.join(", "));
            writer::execute(conn, &sql, args)?;
        }
        Ok(())
    }
}

/// `n` anonymous placeholders: SQLite finds a numbered one's name by walking
/// a list, so a statement of many `?NNN` binds in quadratic time.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Indexes `body` under `rowid` for `case_id`: at the group's commit on
/// SQLite's write connection; PostgreSQL needs nothing.
pub(crate) fn index(tx: &mut Tx, rowid: i64, body: &str, case_id: i64, public: bool) {
    if let Tx::Write(w) = tx {
        w.search_docs().added.insert(rowid, Doc { body: body.to_owned(), case_id, public });
    }
}

/// Replaces the document under `rowid` (a case's subject).
pub(crate) fn reindex(tx: &mut Tx, rowid: i64, body: &str, case_id: i64, public: bool) {
    if let Tx::Write(w) = tx {
        w.search_docs().removed.insert(rowid);
    }
    index(tx, rowid, body, case_id, public);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> Doc {
        Doc { body: body.into(), case_id: 1, public: true }
    }

    fn bodies(docs: &SearchDocs) -> Vec<(i64, &str)> {
        docs.added.iter().map(|(r, d)| (*r, d.body.as_str())).collect()
    }

    #[test]
    fn a_later_use_case_replaces_a_subject_an_earlier_one_wrote() {
        let mut group = SearchDocs::default();
        group.added.insert(-1, doc("first subject"));
        group.added.insert(7, doc("a message"));
        let mut later = SearchDocs::default();
        later.removed.insert(-1);
        later.added.insert(-1, doc("second subject"));
        group.merge(later);
        assert_eq!(bodies(&group), vec![(-1, "second subject"), (7, "a message")]);
        assert_eq!(group.removed.iter().copied().collect::<Vec<_>>(), vec![-1]);
    }

    #[test]
    fn written_documents_replace_stored_ones_and_are_searchable() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE search_docs USING fts5(body, case_id UNINDEXED, public UNINDEXED); \
             INSERT INTO search_docs (rowid, body, case_id, public) VALUES (-1, 'printer jammed', 1, 1);",
        )
        .unwrap();
        let mut docs = SearchDocs::default();
        docs.removed.insert(-1);
        docs.added.insert(-1, doc("scanner offline"));
        for id in 1..=(ROWS_PER_INSERT as i64 + 3) {
            docs.added.insert(id, Doc { body: format!("message {id} toner"), case_id: 1, public: id % 2 == 0 });
        }
        docs.write(&conn).unwrap();
        assert!(docs.is_empty(), "written documents are not written twice");
        let count = |q: &str| -> i64 {
            conn.query_row("SELECT count(*) FROM search_docs WHERE search_docs MATCH ?1", [q], |r| r.get(0)).unwrap()
        };
        assert_eq!(count("printer"), 0, "the replaced subject is gone");
        assert_eq!(count("scanner"), 1);
        assert_eq!(count("toner"), ROWS_PER_INSERT as i64 + 3, "every chunk was written");
        let public: i64 = conn.query_row("SELECT public FROM search_docs WHERE rowid = 4", [], |r| r.get(0)).unwrap();
        assert_eq!(public, 1);
    }
}
