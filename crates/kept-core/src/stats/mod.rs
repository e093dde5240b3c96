//! The statistics behind every number kept shows (METRICS.md §1–§6).
//!
//! What belongs here: pure functions from counts and durations to ratios,
//! intervals, tests, staffing figures and control-chart signals, computed
//! exactly as METRICS.md specifies. What does not: collecting the counts
//! (cases, surveys, promises), rounding for display, or deciding what to show.
//!
//! Conventions that hold in every submodule:
//! - Counts are integers and stay integers until the final division (D-1).
//! - An empty denominator gives `None`, never 0 % or 100 % (D-7).
//! - Invalid input (k > n, negative rates, zero agents) gives `Err`.
//! - Targets and thresholds are exact integers ([`Ppm`]) or exact rationals
//!   ([`Ratio`]), so "at least the target" never depends on float rounding (D-3).
//! - Results are unrounded `f64`; rounding is the presentation layer's job (D-4).
//!
//! The file tree is the table of contents: `survey`/`nps` (§1.1–§1.3,
//! §1.6), `proportion` (§1.4–§1.6), `ops` (§2.4–§2.6), `percentile` (D-6),
//! `slo`/`slo_alerts` (§3), `staffing`/`erlang_a` (§4), `retention` and
//! `targets` (§5), `spc` (§6).

mod erlang_a;
mod error;
mod normal;
mod nps;
mod ops;
mod percentile;
mod proportion;
mod ratio;
mod retention;
mod slo;
mod slo_alerts;
pub mod spc;
mod staffing;
mod survey;
mod targets;

pub use erlang_a::{ErlangA, Patience, erlang_a, erlang_a_required_agents};
pub use error::StatsError;
pub use normal::{Z95, phi, two_sided_p};
pub use nps::{Nps, NpsAdjusted, NpsComparison, NpsCounts, NpsScore, compare_nps, nps, nps_adjusted_wald};
pub use ops::{
    ServiceLevel, ServiceLevelCounts, SlVariant, abandonment, abandonment_short_adjusted, aht, asa_measured,
    backlog_end, fcr_gross, fcr_net, littles_law_backlog, occupancy_measured, reopen_rate, shrinkage_measured,
};
pub use percentile::{Quantile, SortedSample};
pub use proportion::{
    Interval, Newcombe, ZTest, finite_population_correction, newcombe, sample_size_for_margin,
    sample_size_for_proportion, two_proportion_z, wald_margin, wilson, wilson_with_z,
};
pub use ratio::{Ratio, Tally};
pub use retention::{
    CostSnapshot, CustomerRetention, LogDecomposition, RevenueRetention, cost_log_decomposition, per_unit,
};
pub use slo::{
    Attainment, RiskStatus, SloTarget, attainment, breach_probability, breach_probability_from_counts, risk_status,
    time_to_exhaustion,
};
pub use slo_alerts::{
    AlertWindow, Severity, budget_consumed_at, burn_exceeds, burn_threshold, detection_time, evaluate_alerts,
};
pub use staffing::{ErlangC, Queue, StaffingTarget, erlang_b, erlang_c, required_agents, scheduled_staff};
pub use survey::{
    Ces, CesCounts, CesScore, Csat, CsatCounts, CsatScore, MeanEstimate, Spread, ces, csat, mean_of_rates, pooled_rate,
    response_rate, welch_statistic,
};
pub use targets::{BalancedScorecard, Direction, Kpi, Ppm, Rag, RagRule};
