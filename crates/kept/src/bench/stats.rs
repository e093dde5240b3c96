//! Percentiles and the figures a run reports.

use std::time::Duration;

/// Nearest-rank percentile of unsorted microsecond samples, in milliseconds.
pub fn percentile_ms(samples: &mut [u64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    let index = rank.clamp(1, samples.len()) - 1;
    samples[index] as f64 / 1000.0
}

/// Events per second over an elapsed time.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 { count as f64 / seconds } else { f64::NAN }
}

/// The fields of `/proc/PID/stat` after the parenthesised command name
/// (which may hold spaces): state, ppid, pgrp, … from the third field on.
fn stat_fields(pid: u32) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state is a letter; the numeric fields after it are what is read.
    Some(stat.rsplit_once(')')?.1.split_whitespace().skip(1).map(|f| f.parse().unwrap_or(0)).collect())
}

/// CPU time a process has used, user and system, in microseconds. /proc
/// reports it in USER_HZ ticks, which Linux fixes at 100 per second for
/// every program, so the resolution is 10 ms.
pub fn cpu_us(pid: u32) -> Option<u64> {
    // utime and stime are the fourteenth and fifteenth fields.
    let fields = stat_fields(pid)?;
    Some((fields.get(10)? + fields.get(11)?) * 10_000)
}

/// Resident memory of a process in KiB: `VmRSS` now and `VmHWM`, the peak.
pub fn resident_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Proportional memory (PSS, shared pages split between their users) of
/// every process in a process group, in KiB: a prefork server's workers
/// share most of their pages, so their RSS would count them many times.
pub fn group_pss_kib(pgid: u32) -> Option<u64> {
    let mut total = 0;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        // The process group is the fifth field.
        let group = stat_fields(pid).and_then(|f| f.get(2).copied());
        if group != Some(u64::from(pgid)) {
            continue;
        }
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { continue };
        let pss = rollup.lines().find_map(|l| l.strip_prefix("Pss:")).and_then(|v| v.split_whitespace().next());
        if let Some(kib) = pss.and_then(|v| v.parse::<u64>().ok()) {
            total += kib;
            found = true;
        }
    }
    found.then_some(total)
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s: Vec<u64> = (1..=100).map(|v| v * 1000).collect();
        assert_eq!(percentile_ms(&mut s, 50.0), 50.0);
        assert_eq!(percentile_ms(&mut s, 99.0), 99.0);
        assert_eq!(percentile_ms(&mut s, 100.0), 100.0);
        let mut one = vec![7_000];
        assert_eq!(percentile_ms(&mut one, 99.0), 7.0);
        let mut three = vec![3_000, 1_000, 2_000];
        assert_eq!(percentile_ms(&mut three, 50.0), 2.0);
        assert!(percentile_ms(&mut [], 50.0).is_nan());
    }

    #[test]
    fn reads_this_process_cpu_time() {
        let me = std::process::id();
        let before = cpu_us(me).unwrap();
        let started = std::time::Instant::now();
        let mut spent = 0;
        let mut spin = 0u64;
        // Spinning must show as CPU time within seconds however busy the
        // machine is; a misread field (a constant) never would.
        while spent < 50_000 && started.elapsed() < Duration::from_secs(10) {
            for _ in 0..100_000 {
                spin = std::hint::black_box(spin.wrapping_add(1));
            }
            spent = cpu_us(me).unwrap() - before;
        }
        assert!(spent >= 50_000 && spent % 10_000 == 0, "{spent} µs");
        assert_eq!(cpu_us(u32::MAX), None);
    }

    #[test]
    fn reads_this_process_memory() {
        let (rss, peak) = resident_kib(std::process::id()).unwrap();
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
    }

    #[test]
    fn reads_the_memory_of_this_process_group() {
        let group = u32::try_from(stat_fields(std::process::id()).unwrap()[2]).unwrap();
        assert!(group_pss_kib(group).unwrap() > 0);
        assert_eq!(group_pss_kib(u32::MAX), None);
    }
}
