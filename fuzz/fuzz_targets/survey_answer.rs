//! A survey definition and an answer to it, built from structured input, go
//! through the checks the store applies before saving an answer
//! (kept-store surveys/answer.rs): the definition is validated as an admin
//! saves it, then the score against the kind's scale and the comment and
//! reasons against the definition. Every step returns Ok or Err, never
//! panics, and what is accepted is what the docs promise.
#![no_main]

use arbitrary::Arbitrary;
use kept_core::surveys::{
    MAX_COMMENT, SurveyKind, SurveySpec, Thresholds, is_dissatisfied, validate_answer, validate_score,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    Csat,
    Ces,
    Nps,
}

impl From<Kind> for SurveyKind {
    fn from(kind: Kind) -> SurveyKind {
        match kind {
            Kind::Csat => SurveyKind::Csat,
            Kind::Ces => SurveyKind::Ces,
            Kind::Nps => SurveyKind::Nps,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Definition {
    kind: Kind,
    name: String,
    question: String,
    comment_prompt: Option<String>,
    reasons: Vec<String>,
    delay_minutes: i64,
    sample_percent: i64,
    every_days: Option<i64>,
}

#[derive(Arbitrary, Debug)]
struct Answer {
    score: i64,
    comment: Option<String>,
    reasons: Vec<String>,
    /// Picks reasons from the definition by index, so accepted answers are
    /// reached as well as rejected ones.
    picks: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    definition: Definition,
    /// Use the definition unvalidated (as a corrupt row would be) when it
    /// does not validate.
    raw_if_invalid: bool,
    answer: Answer,
    thresholds: (i64, i64, i64),
}

fuzz_target!(|input: Input| {
    let Input { definition: d, raw_if_invalid, answer, thresholds } = input;
    let kind = SurveyKind::from(d.kind);
    let spec = SurveySpec {
        kind,
        name: d.name,
        question: d.question,
        comment_prompt: d.comment_prompt,
        reasons: d.reasons,
        delay_minutes: d.delay_minutes,
        sample_percent: d.sample_percent,
        every_days: d.every_days,
        active: true,
    };
    let offered = match spec.clone().validated() {
        Ok(valid) => {
            assert_eq!(valid.kind, kind);
            assert!(valid.reasons.len() <= kept_core::surveys::MAX_REASONS);
            for (i, reason) in valid.reasons.iter().enumerate() {
                assert!(!reason.is_empty() && reason.trim() == reason, "reason not trimmed: {reason:?}");
                assert!(!valid.reasons[..i].contains(reason), "duplicate reason {reason:?}");
            }
            assert_eq!(valid.every_days.is_some(), kind == SurveyKind::Nps);
            valid.reasons
        }
        Err(_) if raw_if_invalid => spec.reasons,
        Err(_) => return,
    };

    let mut reasons = answer.reasons;
    reasons.extend(answer.picks.iter().filter_map(|&i| offered.get(usize::from(i) % offered.len().max(1)).cloned()));

    let (lo, hi) = kind.scale();
    match validate_score(kind, answer.score) {
        Ok(()) => assert!((lo..=hi).contains(&answer.score), "score {} accepted outside {lo}..={hi}", answer.score),
        Err(_) => assert!(!(lo..=hi).contains(&answer.score), "score {} refused inside {lo}..={hi}", answer.score),
    }

    if let Ok((comment, chosen)) = validate_answer(answer.comment.as_deref(), &reasons, &offered) {
        if let Some(comment) = &comment {
            assert!(!comment.is_empty() && comment.trim() == comment, "comment not trimmed: {comment:?}");
            assert!(comment.chars().count() <= MAX_COMMENT, "comment over {MAX_COMMENT} characters");
        }
        for (i, reason) in chosen.iter().enumerate() {
            assert!(offered.contains(reason), "reason {reason:?} not offered");
            assert!(!chosen[..i].contains(reason), "reason {reason:?} chosen twice");
        }
        assert!(reasons.iter().all(|r| chosen.contains(r)), "a given reason was dropped");
    }

    let (csat, ces, nps) = thresholds;
    if let Ok(thresholds) = (Thresholds { csat, ces, nps }).validated() {
        let t = thresholds.of(kind);
        assert!((lo..hi).contains(&t), "threshold {t} outside {lo}..{hi}");
        // The top of the scale is never dissatisfied, the bottom always is.
        assert!(!is_dissatisfied(kind, hi, &thresholds));
        assert!(is_dissatisfied(kind, lo, &thresholds));
    }
});
