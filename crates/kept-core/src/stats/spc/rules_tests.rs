use super::*;

/// Points on a chart with centre 0, σ = 1 and limits at ±3, given in σ.
fn chart(values: &[f64]) -> Vec<Zoned> {
    values.iter().map(|&value| Zoned { value, center: 0.0, sigma: 1.0, three_sigma: 3.0 }).collect()
}

fn fired(values: &[f64], rules: &RuleSet) -> Vec<(usize, Rule, Side)> {
    signals(&chart(values), rules).into_iter().map(|s| (s.index, s.rule, s.side)).collect()
}

const ALL: RuleSet = RuleSet::WESTERN_ELECTRIC;
const ONLY_WE2: RuleSet = RuleSet { we1: false, we2: true, we3: false, run_length: None };
const ONLY_WE3: RuleSet = RuleSet { we1: false, we2: false, we3: true, run_length: None };

#[test]
fn a_point_exactly_on_a_control_limit_is_not_a_we1_signal() {
    assert!(fired(&[3.0, -3.0], &ALL).is_empty());
    assert_eq!(fired(&[0.5, 3.0000001], &ALL), [(1, Rule::We1, Side::Above)]);
    assert_eq!(fired(&[0.5, -3.5], &ALL), [(1, Rule::We1, Side::Below)]);
}

#[test]
fn points_exactly_on_the_two_sigma_line_belong_to_zone_b() {
    assert!(fired(&[2.0, 2.0, 2.0], &ONLY_WE2).is_empty());
    assert_eq!(fired(&[2.0, 2.1, 2.1], &ONLY_WE2), [(2, Rule::We2, Side::Above)]);
}

#[test]
fn points_exactly_on_the_one_sigma_line_belong_to_zone_c() {
    assert!(fired(&[1.0, 1.0, 1.0, 1.0, 1.0], &ONLY_WE3).is_empty());
    assert_eq!(fired(&[1.0, 1.5, 1.5, 1.5, 1.5], &ONLY_WE3), [(4, Rule::We3, Side::Above)]);
}

#[test]
fn we2_fires_only_when_point_i_is_one_of_the_two() {
    // The window ending at 3 still holds both zone-A points, but point 3 is
    // not one of them: the signal belongs to point 2 alone.
    assert_eq!(fired(&[0.0, 2.5, 2.5, 0.5, 0.5], &ONLY_WE2), [(2, Rule::We2, Side::Above)]);
    assert_eq!(fired(&[2.5, 0.0, 2.5], &ONLY_WE2), [(2, Rule::We2, Side::Above)]);
    assert!(fired(&[2.5, 2.5, 0.5], &ONLY_WE2).is_empty());
}

#[test]
fn we3_fires_only_when_point_i_is_one_of_the_four() {
    assert_eq!(fired(&[1.5, 1.5, 1.5, 1.5, 0.5], &ONLY_WE3), []);
    assert_eq!(fired(&[1.5, 1.5, 0.5, 1.5, 1.5], &ONLY_WE3), [(4, Rule::We3, Side::Above)]);
    assert_eq!(fired(&[-1.5, -1.5, -1.5, 0.5, -1.5, 0.0], &ONLY_WE3), [(4, Rule::We3, Side::Below)]);
}

#[test]
fn windows_must_be_complete_before_a_rule_can_fire() {
    assert!(fired(&[2.5, 2.5], &ONLY_WE2).is_empty());
    assert!(fired(&[1.5; 4], &ONLY_WE3).is_empty());
    assert!(fired(&[0.5; 7], &ALL).is_empty());
}

#[test]
fn rules_two_to_four_count_one_side_at_a_time() {
    assert!(fired(&[2.5, -2.5, 0.1], &ONLY_WE2).is_empty());
    assert!(fired(&[2.5, -2.5, 2.5], &ONLY_WE2).iter().all(|s| s.2 == Side::Above));
    assert!(fired(&[0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5], &ALL).is_empty());
}

#[test]
fn a_point_exactly_on_the_centre_line_breaks_a_run() {
    let mut v = vec![0.5; 4];
    v.push(0.0);
    v.extend([0.5; 4]);
    assert!(fired(&v, &RuleSet::MONITORING).is_empty());
    v.push(0.5);
    v.extend([0.5; 3]);
    assert_eq!(fired(&v, &RuleSet::MONITORING), [(12, Rule::We4, Side::Above)]);
}

#[test]
fn a_run_of_eight_signals_under_western_electric_but_not_under_nelson() {
    let v = [-0.2; 8];
    assert_eq!(fired(&v, &RuleSet::MONITORING), [(7, Rule::We4, Side::Below)]);
    assert!(fired(&v, &RuleSet::MONITORING.with_nelson_run()).is_empty());
    let v9 = [-0.2; 9];
    assert_eq!(fired(&v9, &RuleSet::MONITORING.with_nelson_run()), [(8, Rule::We4, Side::Below)]);
    // A longer run keeps signalling at every point that ends a full run.
    assert_eq!(fired(&v9, &RuleSet::MONITORING).len(), 2);
}

#[test]
fn monitoring_ignores_we2_and_we3() {
    assert!(fired(&[2.5, 2.5, 2.5, 1.5, 1.5], &RuleSet::MONITORING).is_empty());
    assert!(!fired(&[2.5, 2.5, 2.5, 1.5, 1.5], &ALL).is_empty());
}

#[test]
fn zones_follow_each_points_own_sigma() {
    // The same value is inside the limits of a wide point and beyond those
    // of a narrow one.
    let wide = Zoned { value: 0.9, center: 0.5, sigma: 0.2, three_sigma: 0.6000000000000001 };
    let narrow = Zoned { sigma: 0.1, three_sigma: 0.30000000000000004, ..wide };
    let s = signals(&[wide, narrow], &ALL);
    assert_eq!(s, [Signal { index: 1, rule: Rule::We1, side: Side::Above }]);
}

#[test]
fn signals_are_ordered_by_index_then_rule() {
    let v = [2.5, 2.5, 2.5, 2.5, 3.5, 2.5, 2.5, 2.5];
    let s = signals(&chart(&v), &ALL);
    assert!(s.windows(2).all(|w| (w[0].index, w[0].rule as u8) <= (w[1].index, w[1].rule as u8)));
    assert!(s.contains(&Signal { index: 4, rule: Rule::We1, side: Side::Above }));
    assert!(s.contains(&Signal { index: 7, rule: Rule::We4, side: Side::Above }));
}

#[test]
fn the_we1_false_alarm_rate_is_two_phi_of_minus_three() {
    assert!((beyond_limits_probability(3.0) - 0.002699796063).abs() < 1e-12);
    assert!(we1_arl() > 370.39 && we1_arl() < 370.40);
}
