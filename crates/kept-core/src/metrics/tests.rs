//! METRICS.md vectors run through the rollup pipeline: case → items →
//! rollup deltas → period sums → the scorecard's values.

use super::*;
use crate::cases::{AuthorRole, Status};
use crate::promises::{ClockKind, MessageFact};
use crate::stats::Rag;
use crate::stats::spc::RuleSet;
use crate::surveys::SurveyKind;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn attribution(team: i64) -> Attribution {
    Attribution {
        team: Some(team),
        agent: Some(7),
        account: Some(1),
        tier: "standard".into(),
        channel: "email".into(),
        case_type: "question".into(),
    }
}

fn msg(at: &str, role: AuthorRole) -> MessageFact {
    MessageFact { at: t(at), role, public: true }
}

/// Sums the org-scope deltas of `items` into one period.
fn org_period(sources: &[Items]) -> PeriodData {
    let mut all = BTreeMap::new();
    for s in sources {
        s.add_to(1, &mut all);
    }
    let mut data = PeriodData::default();
    for (k, d) in all.into_iter().filter(|(k, _)| k.scope == Scope::Org) {
        data.measures.entry(k.measure).or_default().add(d.n, d.total, Some(&d.hist));
    }
    data
}

fn value(id: &str, data: &PeriodData) -> Value {
    evaluate(metric(id).unwrap(), data)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-3)
}

#[test]
fn t6_durations_through_the_pipeline() {
    // METRICS.md T6 (24×7, New York, 2024-06-03).
    let statuses = [
        (t("2024-06-03T14:00:00Z"), Status::Pending),
        (t("2024-06-03T18:00:00Z"), Status::Open),
        (t("2024-06-03T19:00:00Z"), Status::OnHold),
        (t("2024-06-03T19:30:00Z"), Status::Open),
        (t("2024-06-03T20:00:00Z"), Status::Solved),
    ];
    let messages = [
        msg("2024-06-03T13:00:00Z", AuthorRole::Customer),
        msg("2024-06-03T14:00:00Z", AuthorRole::Agent),
        msg("2024-06-03T18:00:00Z", AuthorRole::Customer),
        msg("2024-06-03T18:45:00Z", AuthorRole::Agent),
    ];
    let input = CaseInput {
        created_at: t("2024-06-03T13:00:00Z"),
        statuses: &statuses,
        messages: &messages,
        attribution: attribution(1),
        internal: false,
        repeat: false,
        team_waits: &[],
        promises: &[],
        recoveries: &[],
        answers: &[],
        delivered: &[],
        calendar: None,
    };
    let ny = TimeZone::get("America/New_York").unwrap();
    let data = org_period(&[case_items(&input, &ny)]);
    for (id, expected) in [
        ("frt_median", 3600.0),
        ("nrt_median", 2700.0),
        ("full_resolution_median", 25200.0),
        ("requester_wait_median", 10800.0),
        ("agent_work_median", 9000.0),
        ("wait_us", 9000.0),
        ("wait_customer", 14400.0),
        ("wait_third", 1800.0),
        ("wait_team", 0.0),
    ] {
        assert_eq!(value(id, &data).value, Some(expected), "{id}");
    }
    // Two replies before the solve: not a first-contact resolution.
    assert_eq!(value("fcr", &data).value, Some(0.0));
    assert_eq!(value("reopen_rate", &data).value, Some(0.0));
    assert_eq!(value("frt_business_median", &data).value, None, "no calendar, no business time");
}

#[test]
fn t7_business_time_uses_the_calendar() {
    // METRICS.md T7: NY Mon–Fri 09–17; pending 16:30 Mon → 11:00 Tue; solved Wed 10:00.
    let cal = crate::calendar::Calendar::from_json(
        r#"{"time_zone": "America/New_York", "weekly": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
            "wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}}"#,
    )
    .unwrap();
    let statuses = [
        (t("2024-06-03T20:30:00Z"), Status::Pending),
        (t("2024-06-04T15:00:00Z"), Status::Open),
        (t("2024-06-05T14:00:00Z"), Status::Solved),
    ];
    let input = CaseInput {
        created_at: t("2024-06-03T20:00:00Z"),
        statuses: &statuses,
        messages: &[],
        attribution: attribution(1),
        internal: false,
        repeat: false,
        team_waits: &[],
        promises: &[],
        recoveries: &[],
        answers: &[],
        delivered: &[],
        calendar: Some(&cal),
    };
    let data = org_period(&[case_items(&input, &TimeZone::UTC)]);
    assert_eq!(value("first_resolution_median", &data).value, Some(151_200.0));
    assert_eq!(value("first_resolution_business_median", &data).value, Some(36_000.0));
    // Requester wait pauses while pending: 27,000 business seconds.
    assert_eq!(value("requester_wait_business_median", &data).value, Some(27_000.0));
}

fn answers(kind: SurveyKind, counts: &[(i64, usize)], team: i64) -> Items {
    let mut list = Vec::new();
    for (score, n) in counts {
        for _ in 0..*n {
            list.push(SurveyAnswer {
                kind,
                score: *score,
                answered_at: t("2024-06-03T12:00:00Z"),
                resurvey: false,
                attribution: attribution(team),
            });
        }
    }
    let mut items = Items::default();
    answer_items(&mut items, &list, &[], &TimeZone::UTC);
    items
}

#[test]
fn f1_csat_through_the_pipeline() {
    let data = org_period(&[answers(SurveyKind::Csat, &[(5, 42), (4, 32), (3, 10), (2, 9), (1, 14)], 1)]);
    let top2 = value("csat", &data);
    assert_eq!((top2.k, top2.n), (Some(74), 107));
    assert!(close(top2.value.unwrap(), 0.691588785));
    let ci = top2.interval.unwrap();
    assert!(close(ci.lower, 0.5987150913) && close(ci.upper, 0.7711826025));
    let mean = value("csat_mean", &data);
    assert!(close(mean.value.unwrap(), 3.738317757));
    let ci = mean.interval.unwrap();
    assert!(close(ci.lower, 3.473745055) && close(ci.upper, 4.002890459));
}

#[test]
fn f5_ces_through_the_pipeline() {
    let data = org_period(&[answers(SurveyKind::Ces, &[(7, 30), (6, 40), (5, 15), (4, 5), (3, 5), (2, 3), (1, 2)], 1)]);
    assert!(close(value("ces", &data).value.unwrap(), 5.68));
    assert!(close(value("ces_agree", &data).value.unwrap(), 0.85));
}

#[test]
fn f4_nps_through_the_pipeline() {
    let data = org_period(&[answers(SurveyKind::Nps, &[(10, 50), (9, 40), (8, 30), (7, 30), (3, 50)], 1)]);
    let v = value("nps", &data);
    assert!(close(v.value.unwrap(), 20.0));
    assert!(close(v.nps.unwrap().se, 5.744562647));
    assert_eq!(v.exact, Some((100 * 40, 200)));
}

#[test]
fn f6_organisation_csat_pools_the_teams() {
    // Teams 90/100, 150/200, 8/10 → pooled 248/310 = 0.8, not the mean of rates.
    let data = org_period(&[
        answers(SurveyKind::Csat, &[(5, 90), (1, 10)], 1),
        answers(SurveyKind::Csat, &[(4, 150), (2, 50)], 2),
        answers(SurveyKind::Csat, &[(5, 8), (3, 2)], 3),
    ]);
    let v = value("csat", &data);
    assert_eq!((v.k, v.n), (Some(248), 310));
    assert!(close(v.value.unwrap(), 0.8));
}

fn shares(id: &str, k: u64, n: u64) -> Value {
    let m = metric(id).unwrap();
    let measure = match m.formula {
        Formula::Share(measure) => measure,
        Formula::AllPromises => Measure::PromiseFirstResponse,
        _ => panic!("{id} is not a share"),
    };
    let mut data = PeriodData::default();
    data.measures.insert(measure, Agg { n: n as i64, total: k as i64, hist: Hist::new() });
    evaluate(m, &data)
}

#[test]
fn f2_wilson_intervals_on_shares() {
    for (k, n, lo, hi) in [
        (81, 263, 0.2552885199, 0.366209577),
        (15, 148, 0.06238639953, 0.1604872417),
        (0, 20, 0.0, 0.1611251581),
        (1, 29, 0.006113214293, 0.1717552188),
        (29, 29, 0.8830302015, 1.0),
    ] {
        let ci = shares("fcr", k, n).interval.unwrap();
        assert!((ci.lower - lo).abs() < 1e-9 && close(ci.upper, hi), "{k}/{n}");
    }
    assert_eq!(shares("fcr", 0, 0).value, None, "D-7: no data, not 0 %");
}

#[test]
fn o1_reopen_and_attainment() {
    let reopen = shares("reopen_rate", 22, 400);
    assert!(close(reopen.value.unwrap(), 0.055));
    let ci = reopen.interval.unwrap();
    assert!(close(ci.lower, 0.03659849415) && close(ci.upper, 0.08186744781));
    let att = shares("attainment_first_response", 228, 240);
    let ci = att.interval.unwrap();
    assert!(close(att.value.unwrap(), 0.95) && close(ci.lower, 0.9146517753) && close(ci.upper, 0.9711696967));
    assert!(close(shares("fcr", 640, 1000).value.unwrap(), 0.64));
}

#[test]
fn o1_backlog_flow_identity() {
    // 120 open at t0; 500 created, 10 reopened, 480 solved → 150 (§2.5).
    let (start, created, reopened, solved) = (120i64, 500i64, 10i64, 480i64);
    let backlog_in = start + created + reopened;
    let backlog_out = solved;
    let mut data = PeriodData { backlog: Some((backlog_in - backlog_out, 0)), ..PeriodData::default() };
    data.measures.insert(Measure::Created, Agg { n: created, ..Agg::default() });
    assert_eq!(value("backlog", &data).value, Some(150.0));
}

#[test]
fn r1_account_retention() {
    // R1: S = 1000, E = 1060, N = 150 → retained 910 → 0.91.
    let data = PeriodData { retention: Some((1000, 1060 - 150)), ..PeriodData::default() };
    assert!(close(value("account_retention", &data).value.unwrap(), 0.91));
}

#[test]
fn rag_follows_d29_in_integers() {
    // §5.4: CSAT target 85 %, amber 3 pp: 85.0 % green, 83.0 % amber, 81.9 % red, n = 12 grey.
    let rule = TargetRule {
        target_micros: parse_target(Unit::Percent, "85").unwrap(),
        amber_micros: parse_target(Unit::Percent, "3").unwrap(),
        direction: crate::stats::Direction::HigherIsBetter,
        min_sample: 30,
    };
    assert_eq!(rag(&rule, &shares("fcr", 850, 1000)), Rag::Green);
    assert_eq!(rag(&rule, &shares("fcr", 830, 1000)), Rag::Amber);
    assert_eq!(rag(&rule, &shares("fcr", 819, 1000)), Rag::Red);
    assert_eq!(rag(&rule, &shares("fcr", 12, 12)), Rag::Grey);
    assert_eq!(rag(&rule, &shares("fcr", 0, 0)), Rag::Grey);
    // Lower is better, in seconds: target 3600 s, amber 600 s.
    let rule = TargetRule {
        target_micros: parse_target(Unit::Seconds, "3600").unwrap(),
        amber_micros: parse_target(Unit::Seconds, "600").unwrap(),
        direction: crate::stats::Direction::LowerIsBetter,
        min_sample: 0,
    };
    let secs = |v: i64| Value { value: Some(v as f64), n: 5, exact: Some((i128::from(v), 1)), ..Value::default() };
    assert_eq!(rag(&rule, &secs(3600)), Rag::Green);
    assert_eq!(rag(&rule, &secs(4200)), Rag::Amber);
    assert_eq!(rag(&rule, &secs(4201)), Rag::Red);
}

#[test]
fn targets_parse_and_print_exactly() {
    assert_eq!(parse_target(Unit::Percent, "99.9").unwrap(), 999_000);
    assert_eq!(parse_target(Unit::Percent, "85").unwrap(), 850_000);
    assert_eq!(parse_target(Unit::Points, "-10").unwrap(), -10_000_000);
    assert_eq!(parse_target(Unit::Score, "4.25").unwrap(), 4_250_000);
    assert!(parse_target(Unit::Percent, "101").is_err());
    assert!(parse_target(Unit::Percent, "85.00001").is_err());
    assert!(parse_target(Unit::Seconds, "1e3").is_err());
    assert!(parse_target(Unit::Seconds, "").is_err());
    for (unit, s) in [(Unit::Percent, "99.9"), (Unit::Points, "-10"), (Unit::Score, "4.25"), (Unit::Seconds, "3600")] {
        assert_eq!(format_target(unit, parse_target(unit, s).unwrap()), s);
    }
}

#[test]
fn f3_newcombe_decides_significance() {
    let def = metric("fcr").unwrap();
    let c = compare(def, &shares("fcr", 56, 70), &shares("fcr", 48, 80));
    assert_eq!(c.test, Some("newcombe"));
    assert_eq!(c.significant, Some(true));
    let ci = c.interval.unwrap();
    assert!(close(ci.lower, 0.0524314724) && close(ci.upper, 0.333872654));
    let same = compare(def, &shares("fcr", 50, 100), &shares("fcr", 52, 100));
    assert_eq!(same.significant, Some(false));
}

#[test]
fn s1_burn_rate_of_a_promise_target() {
    // S1: s = 99.9 %, 150 bad of 10,000 → burn 15.
    let v = shares("attainment_first_response", 10_000 - 150, 10_000);
    let slo = parse_target(Unit::Percent, "99.9").unwrap();
    assert!(close(burn_rate(&v, slo).unwrap(), 15.0));
}

#[test]
fn c2_p_chart_flags_week_nine() {
    let n = [120u64, 135, 110, 150, 140, 125, 130, 145, 115, 160];
    let kept = [114u64, 129, 104, 141, 133, 118, 124, 137, 98, 152];
    let series: Vec<Value> = n.iter().zip(kept).map(|(n, k)| shares("attainment", k, *n)).collect();
    let chart = control(metric("attainment_first_response").unwrap(), &series, &RuleSet::MONITORING);
    assert_eq!(chart.kind, "p");
    assert!(close(chart.centre.unwrap(), 1250.0 / 1330.0));
    let we1: Vec<usize> = (0..10).filter(|i| chart.points[*i].signals.iter().any(|s| s.starts_with("WE1"))).collect();
    assert_eq!(we1, vec![8]);
    assert!(chart.points[8].signals[0].contains("below"));
    // Weeks 1–8 all sit above p̄ = 0.9398: a run of eight (WE4) ends at week 8.
    assert_eq!(chart.points[7].signals, vec!["WE4 run of 8 on one side (above)".to_owned()]);
    assert!(close(chart.points[8].lcl.unwrap(), 0.8733344559));
    assert!(close(chart.points[3].lcl.unwrap(), 0.881609273));
}

#[test]
fn c1_p_chart_without_signals() {
    let defectives = [40u64, 44, 22, 34, 24, 32, 28, 32, 34, 30];
    let series: Vec<Value> = defectives.iter().map(|d| shares("reopen_rate", *d, 200)).collect();
    let chart = control(metric("reopen_rate").unwrap(), &series, &RuleSet::MONITORING);
    assert!(close(chart.centre.unwrap(), 0.16));
    assert!(close(chart.points[0].ucl.unwrap(), 0.2377688884));
    assert!(close(chart.points[0].lcl.unwrap(), 0.08223111162));
    assert!(chart.points.iter().all(|p| p.signals.is_empty()));
}

#[test]
fn promises_count_when_determined_even_on_open_cases() {
    let promises = [
        PromiseOutcome { kind: ClockKind::FirstResponse, met: false, determined_at: t("2024-06-03T14:00:00Z") },
        PromiseOutcome { kind: ClockKind::NextReply, met: true, determined_at: t("2024-06-04T14:00:00Z") },
    ];
    let input = CaseInput {
        created_at: t("2024-06-03T13:00:00Z"),
        statuses: &[],
        messages: &[msg("2024-06-03T13:00:00Z", AuthorRole::Customer)],
        attribution: attribution(1),
        internal: false,
        repeat: false,
        team_waits: &[],
        promises: &promises,
        recoveries: &[],
        answers: &[],
        delivered: &[],
        calendar: None,
    };
    let items = case_items(&input, &TimeZone::UTC);
    let data = org_period(std::slice::from_ref(&items));
    assert_eq!(value("attainment", &data).k, Some(1));
    assert_eq!(value("attainment", &data).n, 2);
    assert_eq!(value("backlog", &data).value, None, "the store supplies the backlog");
    let days: Vec<i32> = items.items.iter().filter(|i| i.measure.clock().is_some()).map(|i| i.day).collect();
    assert_eq!(
        days,
        vec![day::day_number(jiff::civil::date(2024, 6, 3)), day::day_number(jiff::civil::date(2024, 6, 4))]
    );
}

#[test]
fn r3_balanced_score_from_scorecard_values() {
    use crate::stats::{BalancedScorecard, Kpi, Ppm};
    // METRICS.md R3: CSAT 0.86, FCR 0.72, cost/contact 20, attainment 0.95.
    let csat = org_period(&[answers(SurveyKind::Csat, &[(5, 50), (4, 36), (2, 14)], 1)]);
    let mut cost = PeriodData { cost_cents: Some(2000 * 50), ..PeriodData::default() };
    cost.measures.insert(Measure::Resolved, Agg { n: 50, ..Agg::default() });
    let actual = [
        value("csat", &csat).value.unwrap(),
        shares("fcr", 72, 100).value.unwrap(),
        value("cost_per_case", &cost).value.unwrap() / 100.0,
        shares("attainment", 95, 100).value.unwrap(),
    ];
    let kpi = |actual: f64, worst: f64, best: f64, w: u64| Kpi { actual, worst, best, weight: Ppm::new(w) };
    let card = BalancedScorecard::new(vec![
        kpi(actual[0], 0.70, 0.95, 300_000),
        kpi(actual[1], 0.50, 0.85, 250_000),
        kpi(actual[2], 35.0, 12.0, 250_000),
        kpi(actual[3], 0.80, 0.99, 200_000),
    ])
    .unwrap();
    assert!(close(card.balanced(), 1_024_889.0 / 1_529_500.0), "{}", card.balanced());
}
