//! Scorecards as the API and the pages show them: periods and their
//! comparisons, values with intervals, significance and RAG, control
//! charts. The numbers come from kept-core metrics over kept-store rollups.

pub mod build;
pub mod period;
pub mod strategy;

pub use build::{ChartData, Row, Scorecard, chart, pick, scorecard, status_name};
pub use period::{Period, PeriodQuery};
