//! The job runner: every `kept serve` process claims due jobs (promise
//! deadlines and warnings) and runs them. Claims are atomic and leased, so
//! several replicas share the work and a killed replica's jobs are taken
//! over when its lease ends.

use crate::state::AppState;
use jiff::SignedDuration;
use std::time::Duration;
use tokio::sync::watch;

/// How long a claimed job is ours before another replica may take it.
const LEASE: SignedDuration = SignedDuration::from_secs(15);
/// The longest the runner sleeps: new work scheduled by other replicas is
/// seen at least this often.
const MAX_NAP: Duration = Duration::from_millis(500);
/// Jobs per transaction: large enough that a storm of deadlines costs a few
/// statements per 1,000 cases, small enough that SQLite's write lock is held
/// for only tens of milliseconds (BENCHMARKS.md has 200, 500 and 1,000).
const BATCH: u32 = 1000;
/// How often the survey job runs: invitations are due minutes or hours
/// after a solve, so seconds of lateness do not matter.
const SURVEY_EVERY: Duration = Duration::from_secs(5);

pub fn worker_name() -> String {
    let random = crate::auth::secrets::random_secret().map(|s| s[..8].to_owned()).unwrap_or_default();
    format!("{}-{}", std::process::id(), random)
}

/// Runs jobs until `stop` turns true; a job in progress is finished first.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let worker = worker_name();
    tracing::info!(%worker, "job runner started");
    let mut surveys_at = tokio::time::Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        if tokio::time::Instant::now() >= surveys_at {
            surveys_at = tokio::time::Instant::now() + SURVEY_EVERY;
            run_surveys(&state).await;
        }
        let now = state.now();
        let ran = match state.store.claim_jobs(&worker, now, LEASE, BATCH).await {
            Ok(jobs) => {
                // The whole batch in one transaction; if anything in it fails,
                // each job runs alone so that one bad case cannot hold up the rest.
                if let Err(e) = state.store.run_jobs(&jobs, &worker, state.now()).await {
                    tracing::warn!(jobs = jobs.len(), error = %e, "batch failed; running its jobs one by one");
                    for job in &jobs {
                        if let Err(e) = state.store.run_job(job, &worker, state.now()).await {
                            tracing::warn!(job = job.id, case = job.case_id, error = %e, "job failed; will retry");
                            if let Err(e) = state.store.fail_job(job, &worker, state.now(), &e.to_string()).await {
                                tracing::error!(error = %e, "cannot record a job failure");
                            }
                        }
                    }
                }
                jobs.len()
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot claim jobs");
                0
            }
        };
        if ran as u32 == BATCH {
            continue;
        }
        let nap = match state.store.next_job_at().await {
            Ok(Some(next)) => {
                let wait = next.duration_since(state.now());
                if wait.is_negative() {
                    Duration::from_millis(20)
                } else {
                    Duration::try_from(wait).unwrap_or(MAX_NAP).min(MAX_NAP)
                }
            }
            _ => MAX_NAP,
        };
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            _ = stop.changed() => {}
        }
    }
    tracing::info!(%worker, "job runner stopped");
}

/// One run of the survey job (expiry, NPS schedule, sending due invitations).
/// Failures are logged and retried on the next run: nothing is half-done,
/// each batch is one transaction.
pub async fn run_surveys(state: &AppState) {
    match state.store.survey_tick(state.now(), &state.config.public_url).await {
        Ok(tick) => {
            if !tick.sent.is_empty()
                || tick.skipped_sample + tick.skipped_fatigue + tick.skipped_other > 0
                || tick.expired > 0
            {
                tracing::info!(
                    sent = tick.sent.len(),
                    skipped_sample = tick.skipped_sample,
                    skipped_fatigue = tick.skipped_fatigue,
                    skipped_other = tick.skipped_other,
                    expired = tick.expired,
                    "survey job"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "survey job failed; will retry"),
    }
}
