//! Management by fact in the database: the daily rollups every scorecard
//! reads, kept in the transaction of each change (sources.rs), read per
//! period (periods.rs), rebuilt from the event log (rebuild.rs); targets,
//! objectives and costs (plans.rs); and the cases behind a number (drill.rs).

mod drill;
pub(crate) mod pending;
mod periods;
mod plans;
mod rebuild;
pub(crate) mod rollups;
pub(crate) mod sources;

pub use drill::{DRILL_LIMIT, Drill, DrillRow};
pub use periods::PeriodReading;
pub use plans::{CostView, ObjectiveMetricView, ObjectiveView, TargetView, target_for};
pub use rebuild::Rebuilt;
