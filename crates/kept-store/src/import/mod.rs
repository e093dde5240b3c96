//! History import (docs/IMPORT.md): JSON Lines, one case per line, from
//! another desk. kept-core parses each line; this module finds or creates
//! the accounts, people and teams it names, replays a new case's history,
//! brings a case imported before up to date, and records survey answers.
//!
//! Lines are written in batches, one transaction each, and every line runs
//! behind a savepoint: a refused line leaves nothing behind (not even the
//! contact it created) and the rest of its batch goes on. The promise clocks
//! of a batch are recomputed once, as of the import.

mod entities;
mod lines;
mod registry;

use crate::Store;
use crate::cases::history::plan::{Ids, Plan};
use crate::db::args;
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::FieldError;
use kept_core::import::{ImportedCase, MAX_LINE_BYTES, parse_line};
use std::collections::HashSet;

pub use kept_core::import::LineError;

/// How many line errors a summary lists (all are counted).
pub const MAX_REPORTED_ERRORS: usize = 1000;

/// Lines per transaction: large enough for multi-row statements to pay,
/// small enough that a failed batch is cheap to retry line by line.
const BATCH: usize = 500;

/// Why a line was not imported: its own fault (reported, the import goes
/// on) or the database's (the import stops).
pub(crate) enum Failure {
    Line(FieldError),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// How an import went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Lines read, blank ones aside.
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    /// Lines about cases imported before that bring nothing new.
    pub unchanged: usize,
    pub rejected: usize,
    /// The first [`MAX_REPORTED_ERRORS`] refusals, in line order.
    pub errors: Vec<LineError>,
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
    Rejected(LineError),
}

/// Reads an import line by line; lines are written in batches as they come.
pub struct Importer<'a> {
    store: &'a Store,
    now: Timestamp,
    pending: Vec<(usize, ImportedCase)>,
    pending_ids: HashSet<String>,
    summary: ImportSummary,
    /// Lines refused before reaching the database, held back so that every
    /// refusal is reported in line order with those of their batch.
    held: Vec<LineError>,
    fresh_errors: Vec<LineError>,
    statistics: crate::BulkStatistics,
}

impl<'a> Importer<'a> {
    /// An import as of `now`: nothing in it may be later, and the promise
    /// clocks are computed as they stand at `now`.
    pub fn new(store: &'a Store, now: Timestamp) -> Self {
        Self {
            store,
            now,
            pending: Vec::new(),
            pending_ids: HashSet::new(),
            summary: ImportSummary::default(),
            held: Vec::new(),
            fresh_errors: Vec::new(),
            statistics: crate::BulkStatistics::new(),
        }
    }

    /// Takes line `number` (from 1), without its line break. Blank lines are
    /// skipped. Errors come back only when the database fails; a bad line is
    /// counted and reported in the summary (and by [`Self::take_errors`]).
    pub async fn line(&mut self, number: usize, bytes: &[u8]) -> Result<()> {
        if bytes.len() > MAX_LINE_BYTES {
            self.summary.lines += 1;
            let why = format!("a line may hold at most {MAX_LINE_BYTES} bytes");
            self.held.push(LineError::new(number, FieldError::new("too_long", "", why)));
            return Ok(());
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.summary.lines += 1;
            self.held.push(LineError::new(number, FieldError::new("invalid_utf8", "", "is not UTF-8 text")));
            return Ok(());
        };
        // A byte-order mark is not part of the first line's JSON.
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            return Ok(());
        }
        self.summary.lines += 1;
        match parse_line(text, self.now) {
            Err(e) => self.held.push(LineError::new(number, e)),
            Ok(case) => {
                // The same case twice in one batch: the first must be written
                // before the second can update it.
                if self.pending_ids.contains(case.external_id.as_str()) {
                    self.flush().await?;
                }
                self.pending_ids.insert(case.external_id.as_str().to_owned());
                self.pending.push((number, case));
            }
        }
        if self.pending.len() + self.held.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is still pending and returns the summary.
    pub async fn finish(&mut self) -> Result<ImportSummary> {
        self.flush().await?;
        self.store.fold_waiting_rollups().await?;
        Ok(self.summary.clone())
    }

    /// The summary so far (for progress reports).
    pub fn summary(&self) -> &ImportSummary {
        &self.summary
    }

    /// The refusals found since the last call, for reporting as they come.
    pub fn take_errors(&mut self) -> Vec<LineError> {
        std::mem::take(&mut self.fresh_errors)
    }

    fn reject(&mut self, e: LineError) {
        self.summary.rejected += 1;
        if self.summary.errors.len() < MAX_REPORTED_ERRORS {
            self.summary.errors.push(e.clone());
        }
        self.fresh_errors.push(e);
    }

    async fn flush(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.pending);
        self.pending_ids.clear();
        let outcomes = match self.store.import_batch(&batch, self.now).await {
            Ok(outcomes) => outcomes,
            // A failure no savepoint caught (a conflict with a concurrent
            // import while writing the batch): one line per transaction
            // finds the line to blame, and the others still go in.
            Err(_) if batch.len() > 1 => {
                let mut outcomes = Vec::with_capacity(batch.len());
                for line in batch.chunks(1) {
                    outcomes.extend(self.one(line).await?);
                }
                outcomes
            }
            Err(_) => self.one(&batch).await?,
        };
        let mut refused = std::mem::take(&mut self.held);
        for outcome in outcomes {
            match outcome {
                Outcome::Created => self.summary.created += 1,
                Outcome::Updated => self.summary.updated += 1,
                Outcome::Unchanged => self.summary.unchanged += 1,
                Outcome::Rejected(e) => refused.push(e),
            }
        }
        refused.sort_by_key(|e| e.line);
        for e in refused {
            self.reject(e);
        }
        let written = (self.summary.created + self.summary.updated) as u64;
        self.statistics.after(self.store, written).await
    }

    async fn one(&self, line: &[(usize, ImportedCase)]) -> Result<Vec<Outcome>> {
        match self.store.import_batch(line, self.now).await {
            Ok(outcomes) => Ok(outcomes),
            Err(e) => match line_fault(e) {
                Ok(fault) => {
                    Ok(line.iter().map(|(n, _)| Outcome::Rejected(LineError::new(*n, fault.clone()))).collect())
                }
                Err(e) => Err(e),
            },
        }
    }
}

/// A store error a line can cause (as a field error), or one it cannot.
fn line_fault(e: StoreError) -> std::result::Result<FieldError, StoreError> {
    match e {
        StoreError::Domain(d) => {
            let field = d.field().unwrap_or_default().to_owned();
            let message = match &d {
                kept_core::DomainError::Invalid(f) => f.message.clone(),
                other => other.to_string(),
            };
            Ok(FieldError::new(d.code(), field, message))
        }
        StoreError::Conflict { constraint } => {
            Ok(FieldError::new("conflict", "", format!("conflicts with what the database holds ({constraint})")))
        }
        other => Err(other),
    }
}

impl Store {
    /// Imports parsed lines in one transaction, each behind a savepoint.
    async fn import_batch(&self, batch: &[(usize, ImportedCase)], now: Timestamp) -> Result<Vec<Outcome>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.db.begin().await?;
        let external: Vec<&str> = batch.iter().map(|(_, c)| c.external_id.as_str()).collect();
        let known = registry::load(&mut tx, &external).await?;
        let (cases, messages) = batch
            .iter()
            .map(|(_, c)| lines::needs(c, known.contains_key(c.external_id.as_str())))
            .fold((0, 0), |(c, m), (a, b)| (c + a, m + b));
        let mut ids = Ids::reserve(&mut tx, cases, messages).await?;
        let mut who = entities::Resolver::default();
        let (mut plan, mut registrations, mut outcomes) = (Plan::default(), Vec::new(), Vec::new());
        for (number, case) in batch {
            tx.execute("SAVEPOINT import_line", args![]).await?;
            let planned = match known.get(case.external_id.as_str()) {
                None => lines::plan_new(&mut tx, &mut who, &mut ids, case, now).await.map(|p| Some((p, true))),
                Some(k) => {
                    lines::plan_update(&mut tx, &mut who, &mut ids, case, k, now).await.map(|p| p.map(|p| (p, false)))
                }
            };
            let fault = match planned {
                Ok(planned) => {
                    tx.execute("RELEASE SAVEPOINT import_line", args![]).await?;
                    who.keep();
                    outcomes.push(match planned {
                        Some((p, new)) => {
                            plan.append(p.plan);
                            registrations.push(p.registration);
                            if new { Outcome::Created } else { Outcome::Updated }
                        }
                        None => Outcome::Unchanged,
                    });
                    continue;
                }
                Err(Failure::Line(e)) => e,
                Err(Failure::Store(e)) => line_fault(e)?,
            };
            tx.execute("ROLLBACK TO SAVEPOINT import_line", args![]).await?;
            tx.execute("RELEASE SAVEPOINT import_line", args![]).await?;
            who.forget();
            outcomes.push(Outcome::Rejected(LineError::new(*number, fault)));
        }
        self.write_plan(&mut tx, &plan, now).await?;
        registry::save(&mut tx, &registrations, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }
}
