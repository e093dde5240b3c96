//! Due jobs. Every `kept serve` process claims due jobs atomically — a lease
//! (`locked_by`, `locked_until`) taken in one statement; PostgreSQL skips
//! rows another replica holds — and runs them in a transaction that also
//! reschedules or removes the job. A replica killed mid-job leaves an
//! uncommitted transaction (nothing happened) and a lease that expires, so
//! another replica runs the job: none is lost, and the promise events'
//! unique keys make sure none is applied twice.

use crate::Store;
use crate::cases::lock_case;
use crate::db::{Backend, Sql, args};
use crate::error::Result;
use jiff::{SignedDuration, Timestamp};
use kept_core::ids::CaseId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueJob {
    pub id: i64,
    pub kind: String,
    pub case_id: i64,
    pub run_at: Timestamp,
    pub attempts: i64,
}

impl Store {
    /// Claims up to `limit` due jobs for `worker` for `lease`.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<DueJob>> {
        let skip_locked = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            // SQLite has one writer: the statement itself is the lock.
            Backend::Sqlite => "",
        };
        let sql = Sql::built(format!(
            "UPDATE jobs SET locked_by = $1, locked_until = $2 WHERE id IN (SELECT id FROM jobs WHERE run_at <= $3 \
             AND (locked_until IS NULL OR locked_until < $3) ORDER BY run_at LIMIT $4{skip_locked}) \
             RETURNING id, kind, case_id, run_at, attempts"
        ));
        let until = now.checked_add(lease).unwrap_or(now);
        let mut tx = self.db.begin().await?;
        let rows = tx.fetch_all(sql, args![worker, until, now, i64::from(limit)]).await?;
        tx.commit().await?;
        let mut jobs = rows
            .iter()
            .map(|r| {
                Ok(DueJob {
                    id: r.int("id")?,
                    kind: r.text("kind")?,
                    case_id: r.int("case_id")?,
                    run_at: r.time("run_at")?,
                    attempts: r.int("attempts")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    /// Runs a promise clock job: recomputes the case's clocks, which records
    /// what fell due and moves (or removes) the job.
    pub async fn run_job(&self, job: &DueJob, worker: &str, now: Timestamp) -> Result<crate::RecomputeOutcome> {
        let mut tx = self.db.begin().await?;
        // Another replica may have finished this job already: then there is no lease of ours.
        let mine = tx
            .fetch_optional("SELECT id FROM jobs WHERE id = $1 AND locked_by = $2", args![job.id, worker])
            .await?
            .is_some();
        if !mine {
            return Ok(crate::RecomputeOutcome::default());
        }
        lock_case(&mut tx, CaseId(job.case_id)).await?;
        let outcome = self.recompute(&mut tx, CaseId(job.case_id), now).await?;
        // The recompute rescheduled the job (clearing the lease) or removed it;
        // if it is still ours, nothing is due any more.
        tx.execute("DELETE FROM jobs WHERE id = $1 AND locked_by = $2", args![job.id, worker]).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Runs a batch of claimed jobs in one transaction: one recompute for all
    /// their cases (a storm of deadlines costs a few statements per batch, not
    /// a score per job). Jobs another replica took over meanwhile are skipped.
    pub async fn run_jobs(&self, jobs: &[DueJob], worker: &str, now: Timestamp) -> Result<crate::RecomputeOutcome> {
        if jobs.is_empty() {
            return Ok(crate::RecomputeOutcome::default());
        }
        let mut tx = self.db.begin().await?;
        let mut q = crate::db::SqlBuilder::new("SELECT id, case_id FROM jobs WHERE locked_by = ");
        q.bind(worker).push(" AND id IN ").bind_list(jobs.iter().map(|j| j.id));
        let (sql, args) = q.finish();
        let mine = tx.fetch_all(sql, args).await?;
        let mut cases: Vec<CaseId> = mine.iter().map(|r| r.int("case_id").map(CaseId)).collect::<Result<_>>()?;
        cases.sort_unstable();
        cases.dedup();
        if self.backend() == Backend::Postgres && !cases.is_empty() {
            let mut q = crate::db::SqlBuilder::new("SELECT id FROM cases WHERE id IN ");
            q.bind_list(cases.iter().map(|c| c.0)).push(" ORDER BY id FOR UPDATE");
            let (sql, args) = q.finish();
            tx.fetch_all(sql, args).await?;
        }
        let outcome = self.recompute_many(&mut tx, &cases, now).await?;
        let ids: Vec<i64> = mine.iter().map(|r| r.int("id")).collect::<Result<_>>()?;
        if !ids.is_empty() {
            let mut q = crate::db::SqlBuilder::new("DELETE FROM jobs WHERE locked_by = ");
            q.bind(worker).push(" AND id IN ").bind_list(ids);
            let (sql, args) = q.finish();
            tx.execute(sql, args).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records a failed attempt and retries later, backing off exponentially (capped at an hour).
    pub async fn fail_job(&self, job: &DueJob, worker: &str, now: Timestamp, error: &str) -> Result<()> {
        let backoff = SignedDuration::from_secs(2i64.saturating_pow(job.attempts.clamp(0, 12) as u32).min(3600));
        let retry = now.checked_add(backoff).unwrap_or(now);
        let message: String = error.chars().take(1000).collect();
        self.db
            .execute(
                "UPDATE jobs SET attempts = attempts + 1, run_at = $1, locked_by = NULL, locked_until = NULL, last_error = $2 \
                 WHERE id = $3 AND locked_by = $4",
                args![retry, message, job.id, worker],
            )
            .await?;
        Ok(())
    }

    /// When the next job falls due (for the runner to sleep until then).
    pub async fn next_job_at(&self) -> Result<Option<Timestamp>> {
        let row = self.db.fetch_one("SELECT MIN(run_at) AS t FROM jobs", args![]).await?;
        row.opt_time("t")
    }

    /// Recomputes a case's clocks now (e.g. after an import), outside any other change.
    pub async fn recompute_case(&self, case: CaseId, now: Timestamp) -> Result<crate::RecomputeOutcome> {
        let mut tx = self.db.begin().await?;
        lock_case(&mut tx, case).await?;
        let outcome = self.recompute(&mut tx, case, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Pending jobs (for tests and monitoring).
    pub async fn pending_jobs(&self) -> Result<i64> {
        self.db.fetch_one("SELECT COUNT(*) AS n FROM jobs", args![]).await?.int("n")
    }
}
