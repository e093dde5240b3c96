//! `kept rebuild-metrics` and `kept bench-scorecards`.

use crate::cli::{DbArgs, Failure, out, parse_zone};
use clap::Args;
use kept_core::metrics::{Scope, day};
use kept_core::permissions::Principal;
use kept_server::scorecard::{Period, period::Kind, pick, scorecard};
use kept_store::Store;
use std::io::Write;
use std::time::Instant;

#[derive(Args, Clone)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Count days in this IANA zone from now on [default: the zone the rollups use already, else UTC].
    #[arg(long, env = "KEPT_TIME_ZONE")]
    pub time_zone: Option<String>,
}

#[derive(Args, Clone)]
pub struct BenchArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Timed answers per scorecard (after one warm-up answer).
    #[arg(long, default_value_t = 50)]
    pub runs: usize,
    /// Period lengths in days, ending today.
    #[arg(long, value_delimiter = ',', default_value = "90,365")]
    pub days: Vec<i32>,
}

fn err(e: impl std::fmt::Display) -> Failure {
    Failure { code: 1, message: e.to_string() }
}

pub async fn rebuild(store: Store, args: &RebuildArgs, configured: Option<&str>) -> Result<(), Failure> {
    let zone = match args.time_zone.as_deref().or(configured) {
        Some(name) => parse_zone(name)?,
        None => store.metrics_zone().await?,
    };
    let store = store.with_mail(kept_store::MailSettings { time_zone: zone.clone(), ..Default::default() });
    let started = Instant::now();
    let mut last = Instant::now();
    let rebuilt = store
        .rebuild_metrics(|done, all| {
            if last.elapsed().as_secs() >= 5 || done == all {
                last = Instant::now();
                let _ =
                    writeln!(std::io::stderr(), "  {done} / {all} cases ({:.0} s)", started.elapsed().as_secs_f64());
            }
        })
        .await?;
    out(&format!(
        "rebuilt the rollups of {} cases and {} survey invitations: {} rows, days in {}, {:.1} s",
        rebuilt.cases,
        rebuilt.invitations,
        rebuilt.rollup_rows,
        zone.iana_name().unwrap_or("UTC"),
        started.elapsed().as_secs_f64()
    ));
    store.close().await;
    Ok(())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub async fn bench(store: Store, args: &BenchArgs) -> Result<(), Failure> {
    let sys = Principal::system();
    let zone = store.metrics_zone().await?;
    let now = kept_server::clock::Clock::now(&kept_server::clock::SystemClock);
    let today = day::day_of(now, &zone);
    let team = store.list_teams(&sys).await?.into_iter().find(|t| !t.internal);
    let mut scopes = vec![(Scope::Org, String::new(), "organisation".to_owned())];
    if let Some(t) = team {
        scopes.push((Scope::Team, t.id.0.to_string(), format!("team {}", t.name)));
    }
    let defs = pick(None).map_err(|e| err(e.message))?;
    out(&format!(
        "scorecard answer times ({} headline metrics; period, previous period and last year), {} runs warm:",
        defs.len(),
        args.runs
    ));
    for (scope, key, label) in &scopes {
        for days in &args.days {
            let period = Period { kind: Kind::Custom, from: today - days + 1, to: today };
            scorecard(&store, &sys, *scope, key, period, &defs, today, now).await?;
            let mut times = Vec::with_capacity(args.runs);
            for _ in 0..args.runs {
                let t = Instant::now();
                let card = scorecard(&store, &sys, *scope, key, period, &defs, today, now).await?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(card);
            }
            times.sort_by(f64::total_cmp);
            out(&format!(
                "  {label:<28} {days:>4} days: p50 {:>7.1} ms  p95 {:>7.1} ms  max {:>7.1} ms",
                percentile(&times, 0.5),
                percentile(&times, 0.95),
                times.last().copied().unwrap_or(0.0)
            ));
        }
    }
    store.close().await;
    Ok(())
}
