//! Management by fact: what every case contributes to the daily rollups,
//! the catalogue of metrics computed from them, and how a period's values
//! are compared and judged against targets. The statistics themselves are
//! in `stats`; this module decides what is counted, when and for whom.
//!
//! `measure` names the base series; `contribution` turns a case's history
//! into items; `items` diffs them into rollup deltas; `hist` keeps
//! percentiles mergeable; `catalogue` and `evaluate` make the numbers.

mod catalogue;
mod chart;
mod codec;
mod contribution;
pub mod day;
mod deltas;
mod evaluate;
mod hist;
mod items;
mod measure;
mod plans;

pub use catalogue::{Formula, HEADLINE, MetricDef, Stat, Unit, catalogue, direction_name, metric};
pub use chart::{ChartPoint, Control, control};
pub use codec::DecodeError;
pub use contribution::{
    CaseInput, Delivered, Part, PromiseOutcome, REPEAT_WINDOW_SECONDS, SurveyAnswer, TimeSplit, answer_items,
    case_items, time_split,
};
pub use deltas::{decode_deltas_into, encode_deltas};
pub use evaluate::{
    Agg, BacklogAges, Change, PeriodData, TargetRule, Value, burn_rate, compare, evaluate, format_target, parse_target,
    rag,
};
pub use hist::{Hist, bucket_bounds, bucket_of};
pub use items::{Attribution, Delta, Item, Items, RollupKey, Scope, difference};
pub use measure::Measure;
pub use plans::{
    Cost, CostDraft, Objective, ObjectiveDraft, ObjectiveMetricDraft, Target, TargetDraft, parse_direction, sampled,
};

#[cfg(test)]
mod tests;
