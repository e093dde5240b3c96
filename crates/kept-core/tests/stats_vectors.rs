//! Every worked number of METRICS.md, reproduced through the public API of
//! `kept_core::stats`. Each test is named after its vector id; values are
//! the document's, compared to D-4's tolerance.

#![expect(clippy::unwrap_used, reason = "a vector test should fail loudly on a missing value")]

use kept_core::stats::spc::{self, Rule, RuleSet, Side};
use kept_core::stats::*;

/// D-4: relative 1e-9, absolute 1e-12 near 0.
#[track_caller]
fn assert_close(actual: f64, expected: f64) {
    let tolerance = (1e-9 * expected.abs()).max(1e-12);
    assert!(
        (actual - expected).abs() <= tolerance,
        "expected {expected:e}, got {actual:e} (difference {:e})",
        (actual - expected).abs()
    );
}

#[track_caller]
fn assert_interval(i: Interval, lower: f64, upper: f64) {
    assert_close(i.lower, lower);
    assert_close(i.upper, upper);
}

fn tally(k: u64, n: u64) -> Tally {
    Tally::new(k, n).unwrap()
}

fn ratio(num: u128, den: u128) -> Ratio {
    Ratio::new(num, den).unwrap()
}

const HOUR: u64 = 3600;

// ---- §0 conventions ------------------------------------------------------

#[test]
fn d2_wilson_with_z95_differs_from_1_96_in_the_sixth_decimal() {
    assert_interval(wilson(tally(74, 107)).unwrap(), 0.5987150913, 0.7711826025);
    assert_interval(wilson_with_z(tally(74, 107), 1.96).unwrap(), 0.598713317, 0.7711839057);
    assert_eq!(Z95, 1.959963984540054);
    assert_close(phi(Z95), 0.975);
}

#[test]
#[expect(clippy::float_cmp, reason = "the point is that these floats are not equal")]
fn d3_the_float_pitfall_does_not_matter_with_ppm() {
    // The pitfall, as printed in D-3.
    assert_eq!(1.0 - 0.999, 0.0010000000000000009);
    assert_eq!((100.0 - 99.9) / 100.0, 0.0009999999999999432);
    // So a burn of exactly 1 (1 bad in 1000 at 99.9 %) comes out below 1.
    assert_eq!((1.0 / 1000.0) / (1.0 - 0.999), 0.9999999999999991);

    // With Ppm the budget is exactly 1000 ppm, whichever way it is written.
    let level = Ppm::from_percent_str("99.9").unwrap();
    assert_eq!(level, Ppm::new(999_000));
    let slo = SloTarget::new(level).unwrap();
    assert_eq!(slo.budget_ppm(), 1000);
    // One bad event in 1000 is a burn of exactly 1, and exactly meets the SLO.
    assert_eq!(slo.burn_rate(tally(1, 1000)), Some(Ratio::integer(1)));
    assert_eq!(slo.is_met(tally(999, 1000)), Some(true));
    let rule = RagRule { target: level, tolerance: Ppm::ZERO, direction: Direction::HigherIsBetter, min_sample: 0 };
    assert_eq!(rule.classify(999, 1000), Rag::Green);

    // §4.3's shrinkage pitfall: 21/(1 − 0.3) is 30.000000000000004 in f64.
    assert_eq!(21.0 / (1.0 - 0.3), 30.000000000000004);
    assert_eq!(scheduled_staff(21, Ppm::new(300_000)), Ok(30));
}

// ---- §1 customer feedback ------------------------------------------------

#[test]
fn f1_csat_from_the_delighted_counts() {
    let c = csat(&CsatCounts::new([14, 9, 10, 32, 42]).unwrap()).unwrap();
    assert_eq!((c.n, c.top2.k()), (107, 74));
    assert_close(c.top2_rate, 0.691588785);
    assert_close(c.mean.mean, 400.0 / 107.0);
    assert_close(c.mean.mean, 3.738317757);
    let spread = c.mean.spread.unwrap();
    assert_close(spread.sd, 1.396332451);
    assert_close(spread.se, 0.1349885531);
    assert_interval(spread.ci, 3.473745055, 4.002890459);
    assert_interval(c.top2_ci, 0.5987150913, 0.7711826025);
    assert_close(c.bottom2_rate, 0.214953271);
}

#[test]
fn f2_wilson_intervals_of_newcombe_1998() {
    let rows = [
        (81, 263, 0.2552885199, 0.366209577),
        (15, 148, 0.06238639953, 0.1604872417),
        (0, 20, 0.0, 0.1611251581),
        (1, 29, 0.006113214293, 0.1717552188),
        (29, 29, 0.8830302015, 1.0),
    ];
    for (k, n, lower, upper) in rows {
        assert_interval(wilson(tally(k, n)).unwrap(), lower, upper);
    }
    assert_eq!(wilson(tally(0, 20)).unwrap().lower, 0.0);
    assert_eq!(wilson(tally(29, 29)).unwrap().upper, 1.0);
}

#[test]
fn f3_newcombe_hybrid_score_interval() {
    let r = newcombe(tally(56, 70), tally(48, 80)).unwrap();
    assert_close(r.diff, 0.2);
    assert_interval(r.interval, 0.0524314724, 0.333872654);
    assert!(r.significant());
    assert!(two_proportion_z(tally(56, 70), tally(48, 80)).unwrap().p_value < 0.05);
}

#[test]
fn f4_nps_with_trinomial_se_adjusted_wald_and_sample_sizes() {
    let counts = NpsCounts::new(90, 60, 50).unwrap();
    let r = nps(&counts).unwrap();
    assert_close(r.nps, 20.0);
    assert_close(r.variance, 0.66);
    assert_close(r.se, 5.744562647);
    assert_interval(r.ci, 8.740864106, 31.25913589);

    let a = nps_adjusted_wald(&counts).unwrap();
    assert_close(a.nps, 19.7044335);
    assert_close(a.se, 5.694253715);
    assert_interval(a.ci, 8.543901297, 30.8649657);

    assert_eq!(sample_size_for_margin(1.0, 0.05), Ok(1537));
    assert_eq!(sample_size_for_margin(r.variance, 0.05), Ok(1015));
}

#[test]
fn f4_two_periods_compared() {
    let a = nps(&NpsCounts::new(90, 60, 50).unwrap()).unwrap();
    let b = nps(&NpsCounts::new(60, 60, 80).unwrap()).unwrap();
    let c = compare_nps(&a, &b).unwrap();
    assert_close(c.diff, 30.0);
    assert_close(c.se, (a.se * a.se + b.se * b.se).sqrt());
    assert_close(c.p_value, two_sided_p(c.z));
    assert!(c.significant);
}

#[test]
fn f5_ces_2_0() {
    let c = ces(&CesCounts::new([2, 3, 5, 5, 15, 40, 30]).unwrap()).unwrap();
    assert_eq!(c.n, 100);
    assert_close(c.mean.mean, 5.68);
    assert_close(c.agree, 0.85);
    assert_close(c.disagree, 0.10);
    assert_close(c.net, 0.75);
    assert_close(c.mean.spread.unwrap().sd, 1.413356203);
}

#[test]
fn f6_pooled_csat_against_the_mean_of_team_rates() {
    let teams = [tally(90, 100), tally(150, 200), tally(8, 10)];
    assert_close(pooled_rate(&teams).unwrap().unwrap(), 0.8);
    assert_close(mean_of_rates(&teams).unwrap(), 0.8166666667);
}

#[test]
fn s1_6_response_rate_fpc_and_sample_size() {
    assert_close(response_rate(107, 820).unwrap().unwrap(), 0.1304878049);
    let fpc = finite_population_correction(820, 107).unwrap().unwrap();
    assert_close(fpc, 0.9330454815);
    // "the Wald margin for 74/107 drops from 8.75 to 8.16 points" (rounded).
    let margin = 100.0 * wald_margin(tally(74, 107)).unwrap();
    assert!((margin - 8.75).abs() < 0.005 && (margin * fpc - 8.16).abs() < 0.005);
    assert_eq!(sample_size_for_proportion(0.8, 0.05), Ok(246));
}

// ---- §2 responsiveness and resolution -------------------------------------

#[test]
fn o1_fcr_gross_net_and_reopen() {
    assert_close(fcr_gross(640, 1000).unwrap().rate().unwrap(), 0.64);
    assert_close(fcr_net(640, 1000, 120).unwrap().rate().unwrap(), 0.7272727273);
    let reopen = reopen_rate(22, 400).unwrap();
    assert_close(reopen.rate().unwrap(), 0.055);
    assert_interval(wilson(reopen).unwrap(), 0.03659849415, 0.08186744781);
}

#[test]
fn o1_backlog_flow_identity_littles_law_and_ages() {
    assert_eq!(backlog_end(120, 500, 10, 480), Ok(150));
    assert_close(littles_law_backlog(50.0, 3.0), 150.0);
    let ages = SortedSample::new(vec![2, 5, 8, 12, 20, 26, 30, 49, 73, 120]);
    assert_close(ages.mean().unwrap(), 34.5);
    assert_close(ages.type7(Quantile::MEDIAN).unwrap(), 23.0);
    assert_close(ages.type7(Quantile::P90).unwrap(), 77.7);
    assert_eq!(ages.nearest_rank(Quantile::P90), Some(73));
    assert_close(ages.share_above(48).unwrap(), 0.3);
}

#[test]
fn sl_variants_f1_to_f5_prime() {
    let c = ServiceLevelCounts::new(1000, 60, 860, 20, 10).unwrap();
    let sl = |v| c.service_level(v).rate().unwrap();
    assert_close(sl(SlVariant::F1), 0.8301886792);
    assert_close(sl(SlVariant::F2), 0.86);
    assert_close(sl(SlVariant::F3), 0.8113207547);
    assert_close(sl(SlVariant::F4), 0.8269230769);
    assert_close(sl(SlVariant::F5Short), 0.819047619);
    assert_eq!(c.service_level(SlVariant::default()).variant, SlVariant::F3);
}

#[test]
fn o1_ops_abandonment_aht_and_asa() {
    assert_close(abandonment(60, 1000).unwrap().rate().unwrap(), 0.05660377358);
    assert_close(abandonment_short_adjusted(60, 1000, 10).unwrap().rate().unwrap(), 0.04761904762);
    assert_close(aht(36_000, 3600, 7200, 120).unwrap(), 390.0);
    assert_close(asa_measured(18_500, 1000).unwrap(), 18.5);
}

// ---- §3 promises, SLOs and error budgets -----------------------------------

#[test]
fn o1_attainment() {
    let a = attainment(228, 12).unwrap().unwrap();
    assert_close(a.rate, 0.95);
    assert_interval(a.ci, 0.9146517753, 0.9711696967);
}

#[test]
fn s3_2_probabilistic_breach() {
    // 200 historical instances, 80 open at 4 h, 20 at the 8 h target.
    assert_close(breach_probability_from_counts(20, 80).unwrap().unwrap(), 0.25);
    let (s4, s8) = (tally(80, 200).rate().unwrap(), tally(20, 200).rate().unwrap());
    assert_close(s4, 0.40);
    assert_close(s8, 0.10);
    assert_close(breach_probability(s8, s4).unwrap().unwrap(), 0.25);
}

#[test]
fn s3_3_thresholds_for_a_30_day_period() {
    let th: Vec<Ratio> = AlertWindow::SLOTH.iter().map(|w| w.threshold(720 * HOUR).unwrap()).collect();
    assert_eq!(th, [ratio(72, 5), Ratio::integer(6), Ratio::integer(3), Ratio::integer(1)]);
    assert_close(th[0].to_f64(), 14.4);
}

#[test]
fn s3_3_thresholds_for_a_28_day_period_are_exact_rationals() {
    let th: Vec<Ratio> = AlertWindow::SLOTH.iter().map(|w| w.threshold(672 * HOUR).unwrap()).collect();
    assert_eq!(th, [ratio(336, 25), ratio(28, 5), ratio(14, 5), ratio(14, 15)]);
    assert_close(th[3].to_f64(), 0.9333333333);
    let google: Vec<Ratio> = AlertWindow::GOOGLE.iter().map(|w| w.threshold(672 * HOUR).unwrap()).collect();
    assert_eq!(google, [ratio(336, 25), ratio(28, 5), ratio(14, 15)]);
}

#[test]
fn s1_detection_times_budget_and_exhaustion() {
    let slo = SloTarget::new(Ppm::new(999_000)).unwrap();
    let period = 720 * HOUR;
    let page = AlertWindow::GOOGLE[0].threshold(period).unwrap();
    assert_close(detection_time(slo, Ppm::new(1_000_000), HOUR, page).unwrap(), 51.84);
    assert_close(detection_time(slo, Ppm::new(20_000), HOUR, page).unwrap(), 43.2 * 60.0);
    assert_close(detection_time(slo, Ppm::new(14_400), HOUR, page).unwrap(), 3600.0);
    assert_eq!(budget_consumed_at(page, HOUR, period), Some(ratio(1, 50)));
    for (burn, hours) in [(ratio(72, 5), 50.0), (Ratio::integer(6), 120.0), (Ratio::integer(1), 720.0)] {
        assert_close(time_to_exhaustion(period, burn).unwrap(), hours * 3600.0);
    }
}

#[test]
fn s1_a_burn_of_15_and_20_pages() {
    let slo = SloTarget::new(Ppm::new(999_000)).unwrap();
    let long = tally(150, 10_000);
    let short = tally(20, 1000);
    assert_eq!(slo.burn_rate(long), Some(Ratio::integer(15)));
    assert_eq!(slo.burn_rate(short), Some(Ratio::integer(20)));
    let fired = evaluate_alerts(slo, 720 * HOUR, &AlertWindow::GOOGLE, 10, |w| match w {
        3600 => long,
        300 => short,
        _ => tally(0, 50_000),
    });
    assert_eq!(fired, [AlertWindow::GOOGLE[0]]);
    assert_eq!(fired[0].severity, Severity::Page);
}

#[test]
fn s3_3_error_budget_and_remaining() {
    let slo = SloTarget::new(Ppm::new(950_000)).unwrap();
    assert_eq!(slo.budget_events(240), Ratio::integer(12));
    assert_close(slo.budget_remaining(tally(6, 240)).unwrap(), 0.5);
    assert_close(slo.budget_remaining(tally(18, 240)).unwrap(), -0.5);
}

// ---- §4 staffing ------------------------------------------------------------

#[test]
fn e1_erlang_c_table() {
    let q = Queue::new(100, 1800, 180.0).unwrap();
    assert_eq!(q.traffic(), 10.0);
    let rows = [
        (11, 0.6821182047, 0.3896138117, 122.7812768, 0.9090909091),
        (12, 0.4493882243, 0.6401580404, 40.44494019, 0.8333333333),
        (13, 0.285270453, 0.7955947884, 17.11622718, 0.7692307692),
        (14, 0.1741319336, 0.8883500192, 7.835937012, 0.7142857143),
        (15, 0.102042367, 0.9414528429, 3.673525212, 0.6666666667),
    ];
    for (n, p_wait, sl, asa, occupancy) in rows {
        let r = ErlangC::compute(&q, n, 20.0).unwrap();
        assert_close(r.p_wait, p_wait);
        assert_close(r.service_level, sl);
        assert_close(r.asa_s, asa);
        assert_close(r.occupancy, occupancy);
    }
}

#[test]
fn e1_required_and_scheduled_agents() {
    let q = Queue::new(100, 1800, 180.0).unwrap();
    let target = StaffingTarget {
        service_level: Ppm::new(800_000),
        within_s: 20.0,
        max_asa_s: None,
        max_occupancy: Some(Ppm::new(850_000)),
    };
    let r = required_agents(&q, &target).unwrap();
    assert_eq!(r.agents, 14);
    assert!((r.answered_immediately - 0.826).abs() < 0.0005);
    assert_close(r.beta().unwrap(), 4.0 / 10f64.sqrt());
    assert_eq!(scheduled_staff(r.agents, Ppm::new(300_000)), Ok(20));
}

#[test]
fn e4_erlang_c_exact_rationals() {
    let q = Queue::new(30, 3600, 240.0).unwrap();
    assert_close(q.traffic(), 2.0);
    assert_close(erlang_b(3, 2.0).unwrap(), 4.0 / 19.0);
    let r = ErlangC::compute(&q, 3, 240.0).unwrap();
    assert_close(r.p_wait, 4.0 / 9.0);
    assert_close(r.p_wait, 0.4444444444);
    assert_close(r.service_level, 0.8364980261);
    assert_close(r.service_level, 1.0 - (4.0 / 9.0) * (-1f64).exp());
    assert_close(r.asa_s, 106.6666667);
    assert_close(r.queue_length, 0.8888888889);
    let r4 = ErlangC::compute(&q, 4, 240.0).unwrap();
    assert_close(r4.p_wait, 4.0 / 23.0);
    assert_close(r4.p_wait, 0.1739130435);
    assert_close(r4.service_level, 0.976463429);
}

#[test]
fn ea_erlang_a_table() {
    let q = Queue::new(100, 1800, 180.0).unwrap();
    let patience = Patience::from_mean_s(120.0).unwrap();
    let rows = [
        (11, 0.3828164915, 0.09415503424, 11.29860411, 0.7422089844),
        (12, 0.2798070186, 0.061597377, 7.39168524, 0.8255826444),
        (13, 0.1937222348, 0.03842637481, 4.611164978, 0.8885504986),
        (14, 0.1269763401, 0.02283928653, 2.740714384, 0.9327295807),
    ];
    for (n, p_wait, p_abandon, wait, sl) in rows {
        let r = erlang_a(&q, n, patience, 20.0).unwrap();
        assert_close(r.p_wait, p_wait);
        assert_close(r.p_abandon, p_abandon);
        assert_close(r.mean_wait_s, wait);
        assert_close(r.service_level, sl);
    }
}

#[test]
fn ea_needs_12_agents_where_erlang_c_needs_14() {
    let q = Queue::new(100, 1800, 180.0).unwrap();
    let patience = Patience::from_mean_s(120.0).unwrap();
    let a = erlang_a_required_agents(&q, patience, Ppm::new(800_000), 20.0).unwrap();
    assert_eq!(a.agents, 12);
    let target =
        StaffingTarget { service_level: Ppm::new(800_000), within_s: 20.0, max_asa_s: None, max_occupancy: None };
    assert_eq!(required_agents(&q, &target).map(|r| r.agents), Ok(14));
}

// ---- §5 retention, cost, scorecards ------------------------------------------

#[test]
fn r1_retention_and_revenue_retention() {
    let c = CustomerRetention::new(1000, 1060, 150).unwrap();
    assert_close(c.crr().unwrap(), 0.91);
    assert_eq!(c.lost(), 90);
    assert_close(c.churn().unwrap(), 0.09);
    let r = RevenueRetention::new(100_000, 3000, 5000, 8000).unwrap();
    assert_close(r.grr().unwrap(), 0.92);
    assert_close(r.nrr().unwrap(), 1.00);
}

#[test]
fn r3_balanced_score() {
    let kpi = |actual, worst, best, weight| Kpi { actual, worst, best, weight: Ppm::new(weight) };
    let card = BalancedScorecard::new(vec![
        kpi(0.86, 0.70, 0.95, 300_000),
        kpi(0.72, 0.50, 0.85, 250_000),
        kpi(20.0, 35.0, 12.0, 250_000),
        kpi(0.95, 0.80, 0.99, 200_000),
    ])
    .unwrap();
    let scores: Vec<f64> = card.kpis().iter().map(Kpi::score).collect();
    for (s, e) in scores.iter().zip([0.64, 0.6285714286, 0.652173913, 0.7894736842]) {
        assert_close(*s, e);
    }
    assert_close(card.balanced(), 1_024_889.0 / 1_529_500.0);
    assert_close(card.balanced(), 0.6700810722);
}

#[test]
fn rag_example_of_section_5_4() {
    let rule = RagRule {
        target: Ppm::from_percent_str("85").unwrap(),
        tolerance: Ppm::from_percent_str("3").unwrap(),
        direction: Direction::HigherIsBetter,
        min_sample: 30,
    };
    assert_eq!(rule.classify(850, 1000), Rag::Green);
    assert_eq!(rule.classify(830, 1000), Rag::Amber);
    assert_eq!(rule.classify(819, 1000), Rag::Red);
    assert_eq!(rule.classify(12, 12), Rag::Grey);
    assert_eq!(rule.classify(0, 0), Rag::Grey);
}

// ---- §6 statistical process control -------------------------------------------

#[test]
fn c1_textbook_p_chart() {
    let defects = [40, 44, 22, 34, 24, 32, 28, 32, 34, 30];
    let samples: Vec<Tally> = defects.iter().map(|&k| tally(k, 200)).collect();
    let chart = spc::p_chart(&samples).unwrap().unwrap();
    assert_close(chart.center, 0.16);
    for p in &chart.points {
        assert_close(p.ucl, 0.2377688884);
        assert_close(p.lcl, 0.08223111162);
    }
    assert!(chart.signals(&RuleSet::WESTERN_ELECTRIC).is_empty());
}

#[test]
fn c2_promise_kept_per_week() {
    let n = [120, 135, 110, 150, 140, 125, 130, 145, 115, 160];
    let kept = [114, 129, 104, 141, 133, 118, 124, 137, 98, 152];
    let samples: Vec<Tally> = kept.iter().zip(n).map(|(&k, n)| tally(k, n)).collect();
    let chart = spc::p_chart(&samples).unwrap().unwrap();
    assert_close(chart.center, 1250.0 / 1330.0);
    assert_close(chart.center, 0.9398496241);

    let week9 = chart.points[8];
    assert_close(week9.p, 0.852173913);
    assert_close(week9.lcl, 0.8733344559);
    let week4 = chart.points[3];
    assert_close(week4.lcl, 0.881609273);
    assert_close(week4.ucl, 0.9980899751);
    for p in chart.points.iter().filter(|p| p.tally.n() <= 140) {
        assert_eq!(p.ucl, 1.0);
    }

    let week9_low = spc::Signal { index: 8, rule: Rule::We1, side: Side::Below };
    let all = chart.signals(&RuleSet::WESTERN_ELECTRIC);
    let we1: Vec<_> = all.iter().filter(|s| s.rule == Rule::We1).copied().collect();
    assert_eq!(we1, [week9_low]);
    // Not in the vector, but implied by it: weeks 1–8 are all above p̄ (week 9
    // pulls p̄ down), so the WE4 run of 8 also fires, at week 8.
    let we4_week8 = spc::Signal { index: 7, rule: Rule::We4, side: Side::Above };
    assert_eq!(chart.signals(&RuleSet::MONITORING), [we4_week8, week9_low]);
    assert!(chart.signals(&RuleSet::MONITORING.with_nelson_run()) == [week9_low]);
}

#[test]
fn we1_average_run_length() {
    assert_close(spc::beyond_limits_probability(3.0), 0.002699796063);
    assert_close(spc::we1_arl(), 370.3983473);
}
