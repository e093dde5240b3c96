//! `kept rebuild-metrics`: every rollup recomputed from the event log.
//!
//! The rollups and each source's stored contribution are emptied in one
//! transaction; then every case (and case-less invitation) is counted again
//! through the same code as a live change, a batch per transaction. A change
//! made meanwhile by `kept serve` is applied as a difference against what is
//! stored at that moment, so it is neither lost nor counted twice.

use crate::Store;
use crate::db::{SqlBuilder, args};
use crate::error::Result;
use std::collections::BTreeSet;

/// Cases per transaction.
const BATCH: i64 = 1000;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub cases: u64,
    pub invitations: u64,
    pub rollup_rows: u64,
}

impl Store {
    /// Recomputes every rollup; `progress(cases done, cases in all)` is
    /// called after each batch.
    pub async fn rebuild_metrics(&self, mut progress: impl FnMut(u64, u64)) -> Result<Rebuilt> {
        let mut tx = self.db.begin_alone().await?;
        tx.execute("DELETE FROM metric_rollups", args![]).await?;
        tx.execute("DELETE FROM metric_rollups_monthly", args![]).await?;
        tx.execute("DELETE FROM metric_sources", args![]).await?;
        // Waiting differences count changes the rebuild counts again.
        tx.execute("DELETE FROM metric_rollup_pending", args![]).await?;
        super::rollups::set_zone(&mut tx, &self.mail.time_zone).await?;
        tx.commit().await?;
        let all = self.db.fetch_one("SELECT COUNT(*) AS n FROM cases", args![]).await?.int("n")?.max(0) as u64;
        let mut done = Rebuilt::default();
        let mut after = 0i64;
        loop {
            let mut tx = self.db.begin().await?;
            let mut q = SqlBuilder::new("SELECT id FROM cases WHERE id > ");
            q.bind(after).push(" ORDER BY id LIMIT ").bind(BATCH);
            if tx.backend() == crate::Backend::Postgres {
                q.push(" FOR UPDATE");
            }
            let (sql, a) = q.finish();
            let ids: BTreeSet<i64> = tx.fetch_all(sql, a).await?.iter().map(|r| r.int("id")).collect::<Result<_>>()?;
            let Some(last) = ids.last().copied() else { break };
            done.cases += ids.len() as u64;
            self.refresh_case_metrics(&mut tx, ids, false, super::sources::Known::default()).await?;
            tx.commit().await?;
            after = last;
            progress(done.cases, all);
        }
        let invitations = self
            .db
            .fetch_all(
                "SELECT id FROM survey_invitations WHERE case_id IS NULL AND sent_at IS NOT NULL ORDER BY id",
                args![],
            )
            .await?;
        for chunk in invitations.chunks(BATCH as usize) {
            let mut tx = self.db.begin().await?;
            for r in chunk {
                self.refresh_invitation_metrics(&mut tx, r.int("id")?).await?;
                done.invitations += 1;
            }
            tx.commit().await?;
        }
        self.db.fold_rollups().await?;
        done.rollup_rows =
            self.db.fetch_one("SELECT COUNT(*) AS n FROM metric_rollups", args![]).await?.int("n")?.max(0) as u64;
        Ok(done)
    }

    /// Adds the rollup differences still waiting to the rollups: at the end
    /// of a bulk load, so that the first change after it does not fold the
    /// load's differences under the write lock (400 ms on PostgreSQL after
    /// the bench's 200-case demo).
    pub async fn fold_waiting_rollups(&self) -> Result<()> {
        self.db.fold_rollups().await
    }

    /// Every rollup row as text, in key order: for tests that compare the
    /// incremental rollups with a rebuild.
    pub async fn rollup_snapshot(&self) -> Result<Vec<String>> {
        self.db.fold_rollups().await?;
        let rows = self
            .db
            .fetch_all(
                "SELECT 'd' AS grain, scope, scope_key, day, measure, n, total, hist FROM metric_rollups WHERE n <> 0 OR total <> 0 \
                 UNION ALL SELECT 'm' AS grain, scope, scope_key, day, measure, n, total, hist FROM metric_rollups_monthly \
                 WHERE n <> 0 OR total <> 0 ORDER BY grain, scope, scope_key, day, measure",
                args![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let hist = r.opt_bytes("hist")?.unwrap_or_default();
                let hist =
                    kept_core::metrics::Hist::decode(&hist).map(|h| format!("{:?}", h.buckets())).unwrap_or_default();
                Ok(format!(
                    "{} {} {} {} {} n={} total={} {}",
                    r.text("grain")?,
                    r.text("scope")?,
                    r.text("scope_key")?,
                    r.int("day")?,
                    r.text("measure")?,
                    r.int("n")?,
                    r.int("total")?,
                    hist
                ))
            })
            .collect()
    }
}
