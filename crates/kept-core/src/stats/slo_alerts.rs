//! Multiwindow, multi-burn-rate alerts on promise SLOs (METRICS.md §3.3).
//!
//! Every comparison is exact: the threshold `b·P/W` is a [`Ratio`] (13.44 is
//! 336/25) and the burn is `bad·10⁶ / (valid·budget_ppm)`, so "burn > 14.4"
//! never depends on how 0.999 rounds (D-3).

use super::slo::SloTarget;
use super::{Ppm, Ratio, Tally};

const HOUR: u64 = 3600;

/// Who gets woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Severity {
    Ticket,
    Page,
}

/// One row of the alert table: fire when `budget_consumed` of the period's
/// budget would be used within `long_s` at the current burn, confirmed by
/// the short window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AlertWindow {
    pub severity: Severity,
    pub long_s: u64,
    /// `long_s / 12` in every standard row.
    pub short_s: u64,
    pub budget_consumed: Ppm,
}

impl AlertWindow {
    const fn row(severity: Severity, long_s: u64, budget_ppm: u64) -> Self {
        Self { severity, long_s, short_s: long_s / 12, budget_consumed: Ppm::new(budget_ppm) }
    }

    /// Google SRE Workbook Table 5-8: page 1 h/2 %, page 6 h/5 %, ticket 3 d/10 %.
    pub const GOOGLE: [Self; 3] = [
        Self::row(Severity::Page, HOUR, 20_000),
        Self::row(Severity::Page, 6 * HOUR, 50_000),
        Self::row(Severity::Ticket, 72 * HOUR, 100_000),
    ];

    /// Sloth's table: Google's plus the "quick ticket", 1 d/10 %.
    pub const SLOTH: [Self; 4] = [
        Self::row(Severity::Page, HOUR, 20_000),
        Self::row(Severity::Page, 6 * HOUR, 50_000),
        Self::row(Severity::Ticket, 24 * HOUR, 100_000),
        Self::row(Severity::Ticket, 72 * HOUR, 100_000),
    ];

    /// This row's threshold for a period of `period_s`.
    pub fn threshold(&self, period_s: u64) -> Option<Ratio> {
        burn_threshold(self.budget_consumed, period_s, self.long_s)
    }
}

/// `b·P/W` exactly; `None` for an empty window.
pub fn burn_threshold(budget_consumed: Ppm, period_s: u64, window_s: u64) -> Option<Ratio> {
    Ratio::new(u128::from(budget_consumed.get()) * u128::from(period_s), 1_000_000 * u128::from(window_s))
}

/// The budget share consumed when a window fires at threshold `th`: `th·W/P`.
pub fn budget_consumed_at(threshold: Ratio, window_s: u64, period_s: u64) -> Option<Ratio> {
    threshold.checked_mul(Ratio::new(u128::from(window_s), u128::from(period_s))?)
}

/// Time in seconds until a window of `window_s` fires at threshold `th`
/// under a constant error ratio `e`: `((1 − s)/e)·W·th`; `None` at `e = 0`.
pub fn detection_time(slo: SloTarget, error_ratio: Ppm, window_s: u64, threshold: Ratio) -> Option<f64> {
    let budget_over_e = Ratio::new(u128::from(slo.budget_ppm()), u128::from(error_ratio.get()))?;
    budget_over_e.checked_mul(Ratio::integer(u128::from(window_s)))?.checked_mul(threshold).map(Ratio::to_f64)
}

/// Whether the burn over `bad_of_valid` strictly exceeds `threshold`.
/// No events, no burn: an empty window never fires.
pub fn burn_exceeds(slo: SloTarget, bad_of_valid: Tally, threshold: Ratio) -> bool {
    slo.burn_rate(bad_of_valid).is_some_and(|burn| burn > threshold)
}

/// The rows that fire: `burn(long) > th AND burn(short) > th`, each row on
/// its own ("AND within a pair, OR across pairs").
///
/// `counts(window_s)` gives bad-of-valid events determined in the trailing
/// window. A row may only fire with at least `min_valid_long` events in its
/// long window: at service-desk volumes one breach among five promises is a
/// burn of 4 and would page for nothing (§3.3).
pub fn evaluate_alerts(
    slo: SloTarget,
    period_s: u64,
    rows: &[AlertWindow],
    min_valid_long: u64,
    mut counts: impl FnMut(u64) -> Tally,
) -> Vec<AlertWindow> {
    rows.iter()
        .filter(|row| {
            let Some(th) = row.threshold(period_s) else {
                return false;
            };
            let long = counts(row.long_s);
            long.n() >= min_valid_long && burn_exceeds(slo, long, th) && burn_exceeds(slo, counts(row.short_s), th)
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo() -> SloTarget {
        SloTarget::new(Ppm::new(999_000)).unwrap()
    }

    const P30: u64 = 720 * HOUR;

    #[test]
    fn short_windows_are_a_twelfth_of_the_long_ones() {
        let shorts: Vec<u64> = AlertWindow::SLOTH.iter().map(|r| r.short_s).collect();
        assert_eq!(shorts, [300, 1800, 2 * HOUR, 6 * HOUR]);
    }

    #[test]
    fn a_burn_exactly_at_the_threshold_does_not_fire() {
        // 144 bad of 10 000 at 99.9 % is a burn of exactly 14.4.
        let th = AlertWindow::GOOGLE[0].threshold(P30).unwrap();
        assert!(!burn_exceeds(slo(), Tally::new(144, 10_000).unwrap(), th));
        assert!(burn_exceeds(slo(), Tally::new(145, 10_000).unwrap(), th));
    }

    #[test]
    fn both_windows_must_burn_for_a_row_to_fire() {
        let fired = evaluate_alerts(slo(), P30, &AlertWindow::GOOGLE, 10, |w| {
            if w == HOUR { Tally::new(150, 10_000).unwrap() } else { Tally::new(0, 800).unwrap() }
        });
        assert!(fired.is_empty());
    }

    #[test]
    fn the_volume_guard_silences_tiny_windows() {
        let all_bad = |_| Tally::new(5, 5).unwrap();
        assert!(evaluate_alerts(slo(), P30, &AlertWindow::GOOGLE, 10, all_bad).is_empty());
        assert_eq!(evaluate_alerts(slo(), P30, &AlertWindow::GOOGLE, 5, all_bad).len(), 3);
    }

    #[test]
    fn empty_windows_never_fire() {
        let empty = |_| Tally::new(0, 0).unwrap();
        assert!(evaluate_alerts(slo(), P30, &AlertWindow::SLOTH, 0, empty).is_empty());
    }

    #[test]
    fn no_errors_means_no_detection() {
        let th = Ratio::integer(1);
        assert_eq!(detection_time(slo(), Ppm::ZERO, HOUR, th), None);
    }
}
