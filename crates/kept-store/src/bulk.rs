//! Planner statistics during a bulk load (`kept demo`, `kept import`).
//!
//! PostgreSQL plans from statistics that autovacuum refreshes when it gets
//! to them. Seeding a million cases it had not once analysed `events`,
//! `cases` or `messages` after 500,000 inserts, and a batch's
//! `events WHERE case_id IN (…2,000 ids)` became a parallel sequential scan
//! of 8 million rows: ~100 cases/s instead of ~680 (BENCHMARKS.md). So a
//! bulk load analyses the database itself each time what it wrote has
//! doubled. SQLite's planner here uses no statistics; nothing to do there.

use crate::Store;
use crate::error::Result;

/// Below this many cases written, the statistics from before do.
const FIRST: u64 = 50_000;

/// Tracks when a bulk load last analysed.
#[derive(Debug, Default)]
pub struct BulkStatistics {
    analysed_at: u64,
}

impl BulkStatistics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `written` cases in all call for fresh statistics.
    fn due(&self, written: u64) -> bool {
        written >= FIRST && written >= self.analysed_at.saturating_mul(2)
    }

    /// Called after each batch with the cases written so far.
    pub async fn after(&mut self, store: &Store, written: u64) -> Result<()> {
        if !self.due(written) {
            return Ok(());
        }
        self.analysed_at = written;
        store.refresh_planner_statistics().await
    }
}

impl Store {
    /// Refreshes the planner's statistics of every table (PostgreSQL;
    /// nothing on SQLite). A few seconds at a million cases.
    pub async fn refresh_planner_statistics(&self) -> Result<()> {
        if self.db.backend() == crate::Backend::Postgres {
            self.db.execute("ANALYZE", Vec::new()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_refreshed_each_time_the_load_doubles() {
        let mut s = BulkStatistics::new();
        assert!(!s.due(2_000) && !s.due(49_999));
        assert!(s.due(50_000));
        s.analysed_at = 50_000;
        assert!(!s.due(98_000));
        assert!(s.due(100_000));
        s.analysed_at = 100_000;
        assert!(!s.due(198_000) && s.due(200_000));
    }
}
