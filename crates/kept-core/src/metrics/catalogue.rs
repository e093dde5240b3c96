//! The metric catalogue: every number a scorecard shows, with its id,
//! definition, unit and direction (METRICS.md §1–§3, §5). The product shows
//! each definition behind the "?" next to the number; docs/METRICS.md lists
//! the same table.

use super::measure::Measure;
use crate::promises::ClockKind;
use crate::stats::Direction;
use std::sync::OnceLock;

/// How a value is shown, and the unit a target is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A proportion, shown as a percentage; targets in percent ("85").
    Percent,
    /// A duration; targets in seconds.
    Seconds,
    /// A mean score (CSAT 1–5, CES 1–7); targets as a decimal ("4.2").
    Score,
    /// NPS points, −100 … 100.
    Points,
    /// A count of cases.
    Count,
    /// A ratio such as contacts per case.
    Ratio,
    /// Money in cents; targets in cents.
    Cents,
}

/// A duration statistic (D-6: type 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    Median,
    P90,
    Mean,
}

/// How a metric is computed from the base measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    /// `total / n` of a measure whose total counts the good ones.
    Share(Measure),
    /// Scores at least `min` of all answers (CSAT top-2, CES agree).
    ScoresAtLeast(Measure, i64),
    /// The mean score.
    MeanScore(Measure),
    Nps,
    Duration(Measure, Stat),
    /// Attainment over every promise kind.
    AllPromises,
    /// `n` of a measure (cases created, solved).
    Volume(Measure),
    /// At the period's end, from the flows since the beginning.
    Backlog {
        actionable: bool,
    },
    /// `total / n` of a measure, not a proportion (contacts per case).
    PerCase(Measure),
    /// Entered costs of the period / cases resolved in it.
    CostPerCase,
    /// Accounts with cases in the previous period that have cases in this one.
    Retention,
    /// Mean time per solved case in one "where time goes" bucket.
    WaitShare(Measure),
    /// Ages of the cases open now (periods that end today or later).
    BacklogAge(Stat),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MetricDef {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub unit: Unit,
    #[serde(serialize_with = "direction_str")]
    pub direction: Direction,
    /// Survey-based: grey below the minimum sample (D-8).
    pub survey: bool,
    /// A proportion with a Wilson interval and a Newcombe comparison.
    pub proportion: bool,
    #[serde(skip)]
    pub formula: Formula,
    /// The group it is listed under.
    pub group: &'static str,
}

fn direction_str<S: serde::Serializer>(d: &Direction, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(direction_name(*d))
}

pub fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::HigherIsBetter => "higher_is_better",
        Direction::LowerIsBetter => "lower_is_better",
    }
}

const UP: Direction = Direction::HigherIsBetter;
const DOWN: Direction = Direction::LowerIsBetter;

#[allow(clippy::too_many_arguments)]
fn def(
    group: &'static str,
    id: &str,
    name: &str,
    definition: &str,
    unit: Unit,
    direction: Direction,
    formula: Formula,
) -> MetricDef {
    let survey = matches!(
        formula,
        Formula::ScoresAtLeast(..) | Formula::MeanScore(_) | Formula::Nps | Formula::Share(Measure::SurveySent)
    );
    let proportion = unit == Unit::Percent;
    MetricDef {
        id: id.into(),
        name: name.into(),
        definition: definition.into(),
        unit,
        direction,
        survey,
        proportion,
        formula,
        group,
    }
}

const DURATIONS: [(Measure, &str, &str, &str); 6] = [
    (
        Measure::Frt,
        "frt",
        "First response time",
        "from the customer's first message to the first public agent reply; not for cases that began with an agent's message (D-18)",
    ),
    (
        Measure::Nrt,
        "nrt",
        "Next reply time",
        "from the first customer message after an agent reply to the next agent reply, one per episode (D-19)",
    ),
    (
        Measure::FirstResolution,
        "first_resolution",
        "First resolution time",
        "from creation to the first solve, on the day of that solve",
    ),
    (
        Measure::FullResolution,
        "full_resolution",
        "Full resolution time",
        "from creation to the last solve of cases solved now, on the day of that solve",
    ),
    (
        Measure::RequesterWait,
        "requester_wait",
        "Requester wait time",
        "time a solved case spent new, open or on hold (paused while pending)",
    ),
    (
        Measure::AgentWork,
        "agent_work",
        "Agent work time",
        "time a solved case spent new or open (paused while pending or on hold)",
    ),
];

fn build() -> Vec<MetricDef> {
    let mut out = vec![
        def(
            "Customer",
            "csat",
            "CSAT",
            "share of CSAT answers that are 4 or 5 on the 1–5 scale (top-2 box, §1.1), with its Wilson interval",
            Unit::Percent,
            UP,
            Formula::ScoresAtLeast(Measure::Csat, 4),
        ),
        def(
            "Customer",
            "csat_mean",
            "CSAT mean",
            "mean CSAT score, 1–5, with its z interval (§1.1)",
            Unit::Score,
            UP,
            Formula::MeanScore(Measure::Csat),
        ),
        def(
            "Customer",
            "ces",
            "CES mean",
            "mean answer to \"made it easy to handle my issue\", 1–7 (CES 2.0, higher is easier, §1.3)",
            Unit::Score,
            UP,
            Formula::MeanScore(Measure::Ces),
        ),
        def(
            "Customer",
            "ces_agree",
            "CES agree",
            "share of CES answers 5–7 (§1.3)",
            Unit::Percent,
            UP,
            Formula::ScoresAtLeast(Measure::Ces, 5),
        ),
        def(
            "Customer",
            "nps",
            "NPS",
            "promoters (9–10) minus detractors (0–6), in points of 100, with its trinomial standard error and interval (§1.2)",
            Unit::Points,
            UP,
            Formula::Nps,
        ),
        def(
            "Customer",
            "response_rate",
            "Survey response rate",
            "answered invitations of those delivered in the period, by the day they were sent (§1.6)",
            Unit::Percent,
            UP,
            Formula::Share(Measure::SurveySent),
        ),
        def(
            "Recovery",
            "recovery_rate",
            "Recovery rate",
            "recovery tasks closed as recovered of all closed in the period",
            Unit::Percent,
            UP,
            Formula::Share(Measure::Recovery),
        ),
        def(
            "Recovery",
            "csat_after_recovery",
            "Satisfaction after recovery",
            "share of re-survey answers after a recovery that are 4 or 5",
            Unit::Percent,
            UP,
            Formula::ScoresAtLeast(Measure::CsatRecovered, 4),
        ),
        def(
            "Promises",
            "attainment",
            "Promise attainment (all)",
            "promises met of those determined in the period — met when fulfilled in time, breached at the deadline even while the case is open (D-26)",
            Unit::Percent,
            UP,
            Formula::AllPromises,
        ),
    ];
    for kind in ClockKind::ALL {
        out.push(def(
            "Promises",
            &format!("attainment_{}", kind.as_str()),
            &format!("{} attainment", kind.label()),
            &format!("{} promises met of those determined in the period (D-26)", kind.label().to_lowercase()),
            Unit::Percent,
            UP,
            Formula::Share(Measure::promise(*kind)),
        ));
    }
    for (measure, id, name, text) in DURATIONS {
        for (business, suffix, basis) in [(false, "", "calendar time"), (true, "_business", "business time")] {
            let m = if business { measure.business().unwrap_or(measure) } else { measure };
            for (stat, sid, sname) in
                [(Stat::Median, "median", "median"), (Stat::P90, "p90", "p90"), (Stat::Mean, "mean", "mean")]
            {
                out.push(def(
                    "Responsiveness",
                    &format!("{id}{suffix}_{sid}"),
                    &format!("{name}, {sname} ({basis})"),
                    &format!("{sname} of the {}: {text}; in {basis}", name.to_lowercase()),
                    Unit::Seconds,
                    DOWN,
                    Formula::Duration(m, stat),
                ));
            }
        }
    }
    out.extend([
        def("Resolution", "fcr", "First contact resolution (operational)", "cases resolved in the period with exactly one agent reply before the first solve, never reopened, and no new case of the same type from the requester within 7 days (D-20); provisional for 7 days", Unit::Percent, UP, Formula::Share(Measure::Fcr)),
        def("Resolution", "reopen_rate", "Reopen rate", "cases first resolved in the period that were reopened within 7 days of that (D-21); provisional for 7 days", Unit::Percent, DOWN, Formula::Share(Measure::Reopen)),
        def("Workload", "created", "Cases created", "cases opened in the period", Unit::Count, UP, Formula::Volume(Measure::Created)),
        def("Workload", "solved", "Cases solved", "transitions to solved in the period (a case solved twice counts twice)", Unit::Count, UP, Formula::Volume(Measure::Solved)),
        def("Workload", "backlog", "Backlog", "cases neither solved nor closed at the end of the period (§2.5)", Unit::Count, DOWN, Formula::Backlog { actionable: false }),
        def("Workload", "actionable_backlog", "Actionable backlog", "the backlog without cases pending on the customer (D-22)", Unit::Count, DOWN, Formula::Backlog { actionable: true }),
        def("Workload", "backlog_age_median", "Backlog age, median", "median age (calendar time since creation) of the cases open now; shown for periods that end today or later (§2.5)", Unit::Seconds, DOWN, Formula::BacklogAge(Stat::Median)),
        def("Workload", "backlog_age_p90", "Backlog age, p90", "p90 (type 7) of the ages of the cases open now; shown for periods that end today or later (§2.5)", Unit::Seconds, DOWN, Formula::BacklogAge(Stat::P90)),
        def("Workload", "contacts_per_case", "Contacts per case", "customer messages per case created in the period", Unit::Ratio, DOWN, Formula::PerCase(Measure::Contacts)),
        def("Cost", "cost_per_case", "Cost per case", "entered operating costs of the period (pro rata by day) per case resolved in it (§5.2)", Unit::Cents, DOWN, Formula::CostPerCase),
        def("Cost", "account_retention", "Account retention", "accounts with cases in the previous period of equal length that also have cases in this one", Unit::Percent, UP, Formula::Retention),
    ]);
    for (m, id, name) in [
        (Measure::WaitUs, "wait_us", "Waiting on us"),
        (Measure::WaitCustomer, "wait_customer", "Waiting on the customer"),
        (Measure::WaitThird, "wait_third", "Waiting on a third party"),
        (Measure::WaitTeam, "wait_team", "Waiting on another team"),
    ] {
        for (business, suffix, basis) in [(false, "", "calendar time"), (true, "_business", "business time")] {
            let m = if business { m.business().unwrap_or(m) } else { m };
            out.push(def(
                "Where time goes",
                &format!("{id}{suffix}"),
                &format!("{name} ({basis})"),
                &format!("mean time per solved case spent {} — {basis}", name.to_lowercase()),
                Unit::Seconds,
                DOWN,
                Formula::WaitShare(m),
            ));
        }
    }
    out
}

/// Every metric, in display order.
pub fn catalogue() -> &'static [MetricDef] {
    static CATALOGUE: OnceLock<Vec<MetricDef>> = OnceLock::new();
    CATALOGUE.get_or_init(build)
}

pub fn metric(id: &str) -> Option<&'static MetricDef> {
    catalogue().iter().find(|m| m.id == id)
}

/// The metrics a scorecard shows by default (the catalogue has more).
pub const HEADLINE: &[&str] = &[
    "csat",
    "csat_mean",
    "ces",
    "nps",
    "response_rate",
    "attainment",
    "attainment_first_response",
    "attainment_next_reply",
    "attainment_first_resolution",
    "frt_business_median",
    "frt_business_p90",
    "nrt_business_median",
    "first_resolution_business_median",
    "full_resolution_median",
    "requester_wait_business_median",
    "agent_work_business_median",
    "fcr",
    "reopen_rate",
    "recovery_rate",
    "csat_after_recovery",
    "created",
    "solved",
    "backlog",
    "actionable_backlog",
    "backlog_age_median",
    "contacts_per_case",
    "cost_per_case",
    "account_retention",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_headlines_exist() {
        let mut ids: Vec<&str> = catalogue().iter().map(|m| m.id.as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for h in HEADLINE {
            assert!(metric(h).is_some(), "{h}");
        }
        assert!(catalogue().iter().all(|m| !m.definition.is_empty() && !m.name.is_empty()));
    }

    #[test]
    fn every_duration_has_both_bases_and_three_statistics() {
        for (_, id, _, _) in DURATIONS {
            for s in ["median", "p90", "mean"] {
                assert!(metric(&format!("{id}_{s}")).is_some());
                assert!(metric(&format!("{id}_business_{s}")).is_some());
            }
        }
    }
}

#[cfg(test)]
mod docs {
    use super::*;

    /// docs/METRICS.md lists every metric of the catalogue.
    #[test]
    fn the_documentation_lists_every_metric() {
        let doc = include_str!("../../../../docs/METRICS.md");
        for m in catalogue() {
            assert!(doc.contains(&format!("`{}`", m.id)), "docs/METRICS.md does not list {}", m.id);
        }
    }

    /// Prints the table for docs/METRICS.md (`cargo test -p kept-core catalogue_table -- --ignored --nocapture`).
    #[test]
    #[ignore]
    #[allow(clippy::print_stdout, reason = "prints the table for the documentation")]
    fn catalogue_table() {
        println!("| id | name | unit | direction | definition |\n|---|---|---|---|---|");
        for m in catalogue() {
            println!(
                "| `{}` | {} | {:?} | {} | {} |",
                m.id,
                m.name,
                m.unit,
                direction_name(m.direction).replace('_', " "),
                m.definition.replace('|', "/")
            );
        }
    }
}
