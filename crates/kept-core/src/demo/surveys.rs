//! The demo's survey answers: a share of solved cases answered CSAT, fewer
//! CES and NPS, and the scores follow how the case went — a reopened case or
//! a slow first reply is scored worse, as real customers do. They come from
//! their own random stream, so adding them changed no demo case.

use super::rng::Rng;
use super::text;
use crate::surveys::{PastAnswer, SurveyKind};
use jiff::{SignedDuration, Timestamp};

/// What mattered to the customer about a case.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Outcome {
    /// When the case was (last) solved; `None` if it is still open.
    pub solved_at: Option<Timestamp>,
    pub reopened: bool,
    /// The first reply took more than twice the usual time.
    pub slow: bool,
    /// The customer waited on a third party or another team.
    pub waited: bool,
}

impl Outcome {
    /// 0 for a smooth case, up to 1 for one that went badly.
    fn trouble(self) -> f64 {
        let t: f64 = if self.reopened { 0.6 } else { 0.0 } + if self.slow { 0.4 } else { 0.0 };
        (t + if self.waited { 0.2 } else { 0.0 }).min(1.0)
    }
}

/// (kind, share of solved cases answering, score weights low→high for a
/// smooth case, for a case that went badly)
const KINDS: [(SurveyKind, f64, &[f64], &[f64]); 3] = [
    (SurveyKind::Csat, 0.35, &[2.0, 3.0, 8.0, 27.0, 60.0], &[25.0, 25.0, 25.0, 15.0, 10.0]),
    (SurveyKind::Ces, 0.12, &[1.0, 2.0, 3.0, 6.0, 13.0, 30.0, 45.0], &[14.0, 16.0, 20.0, 18.0, 14.0, 10.0, 8.0]),
    (
        SurveyKind::Nps,
        0.05,
        &[1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 8.0, 14.0, 30.0, 35.0],
        &[10.0, 8.0, 10.0, 12.0, 12.0, 14.0, 12.0, 10.0, 6.0, 4.0, 2.0],
    ),
];

/// The answers a case's customer gave, none after `end`.
pub(crate) fn answers(rng: &mut Rng, outcome: Outcome, end: Timestamp) -> Vec<PastAnswer> {
    let Some(solved_at) = outcome.solved_at else { return Vec::new() };
    let t = outcome.trouble();
    let mut out = Vec::new();
    for (kind, share, good, bad) in KINDS {
        if !rng.chance(share) {
            continue;
        }
        let weights: Vec<f64> = good.iter().zip(bad).map(|(g, b)| g * (1.0 - t) + b * t).collect();
        let (lo, hi) = kind.scale();
        let score = lo + rng.weighted(&weights) as i64;
        // Most people answer within hours of the solve, a few days later.
        let answered_at = solved_at.checked_add(SignedDuration::from_secs(rng.skewed(4.0 * 3600.0).max(60)));
        let Some(answered_at) = answered_at.ok().filter(|a| *a <= end) else { continue };
        let position = (score - lo) as f64 / (hi - lo) as f64;
        let comment = rng.chance(0.3).then(|| {
            let pool = if position >= 0.6 { text::PRAISE } else { text::COMPLAINTS };
            rng.pick(pool).to_owned()
        });
        out.push(PastAnswer { kind, score, answered_at, comment });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn mean_csat(outcome: Outcome) -> f64 {
        let mut rng = Rng::new(11);
        let scores: Vec<i64> = (0..4000)
            .flat_map(|_| answers(&mut rng, outcome, at(10_000_000)))
            .filter(|a| a.kind == SurveyKind::Csat)
            .map(|a| a.score)
            .collect();
        scores.iter().sum::<i64>() as f64 / scores.len() as f64
    }

    #[test]
    fn cases_that_went_badly_are_scored_worse() {
        let smooth = Outcome { solved_at: Some(at(0)), ..Outcome::default() };
        let bad = Outcome { reopened: true, slow: true, ..smooth };
        let (good_mean, bad_mean) = (mean_csat(smooth), mean_csat(bad));
        assert!(good_mean > 4.2 && bad_mean < 3.0, "{good_mean} {bad_mean}");
    }

    #[test]
    fn only_solved_cases_are_answered_on_their_scales_and_never_after_the_end() {
        let mut rng = Rng::new(3);
        assert!(answers(&mut rng, Outcome::default(), at(0)).is_empty());
        let outcome = Outcome { solved_at: Some(at(0)), waited: true, ..Outcome::default() };
        let all: Vec<PastAnswer> = (0..2000).flat_map(|_| answers(&mut rng, outcome, at(6 * 3600))).collect();
        let csat = all.iter().filter(|a| a.kind == SurveyKind::Csat).count();
        assert!(csat > 300 && csat < 700, "about a third answer CSAT: {csat}");
        for a in &all {
            assert!(crate::surveys::validate_score(a.kind, a.score).is_ok());
            assert!(a.answered_at > at(0) && a.answered_at <= at(6 * 3600));
        }
    }
}
