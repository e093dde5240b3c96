//! Management by fact in the database: the daily rollups every scorecard
//! reads, kept in the transaction of each change (sources.rs), read per
//! period (periods.rs), rebuilt from the event log (rebuild.rs); targets,
//! objectives and costs (plans.rs); and the cases behind a number (drill.rs).

mod periods;
mod rebuild;
mod rollups;
mod sources;

pub use periods::PeriodReading;
pub use rebuild::Rebuilt;
