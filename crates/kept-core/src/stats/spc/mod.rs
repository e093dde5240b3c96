//! Statistical process control (METRICS.md §6): p-charts (with Laney p′),
//! XmR charts, the Western Electric rules and Anhøj run-chart rules.
//!
//! Charts compute their limits; `rules` turns charted points into signals.
//! Every chart hands the rules the same thing, a [`Zoned`] point carrying its
//! own zone lines, because on a p-chart the zones differ from point to point.

mod pchart;
mod rules;
mod runchart;
mod xmr;

pub use pchart::{PChart, PPoint, laney_p_chart, p_chart};
pub use rules::{Rule, RuleSet, Side, Signal, Zoned, beyond_limits_probability, signals, we1_arl};
pub use runchart::{RunChart, crossings_limit, longest_run_limit, run_chart};
pub use xmr::{BASELINE_DEFAULT, BASELINE_MIN, D4, E2, XmrLimits};
