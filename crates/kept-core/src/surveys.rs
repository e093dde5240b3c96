//! Surveys: what each kind asks on which scale (METRICS §1), which answers
//! count as dissatisfied, and the pure decisions of sending — sampling and
//! fatigue. The store sequences them; see docs/SURVEYS.md.

use crate::error::FieldError;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The three survey kinds kept sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    /// Customer satisfaction, 1–5, after a solved case.
    Csat,
    /// Customer effort (CES 2.0), 1–7 agreement with "… made it easy to handle my issue".
    Ces,
    /// Net Promoter Score, 0–10, about the relationship (on a schedule).
    Nps,
}

impl SurveyKind {
    pub const ALL: [SurveyKind; 3] = [SurveyKind::Csat, SurveyKind::Ces, SurveyKind::Nps];

    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Csat => "csat",
            SurveyKind::Ces => "ces",
            SurveyKind::Nps => "nps",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| FieldError::new("invalid_value", field, "must be one of: csat, ces, nps"))
    }

    /// The lowest and highest score, inclusive.
    pub fn scale(self) -> (i64, i64) {
        match self {
            SurveyKind::Csat => (1, 5),
            SurveyKind::Ces => (1, 7),
            SurveyKind::Nps => (0, 10),
        }
    }

    /// Sent after a case is solved (CSAT, CES), rather than on a schedule (NPS).
    pub fn is_transactional(self) -> bool {
        self != SurveyKind::Nps
    }

    pub fn label(self) -> &'static str {
        match self {
            SurveyKind::Csat => "CSAT",
            SurveyKind::Ces => "CES",
            SurveyKind::Nps => "NPS",
        }
    }

    /// The question asked when a definition does not set its own (English).
    pub fn default_question(self) -> &'static str {
        match self {
            SurveyKind::Csat => "How satisfied are you with the support you received?",
            SurveyKind::Ces => "The company made it easy for me to handle my issue.",
            SurveyKind::Nps => "How likely are you to recommend us to a friend or colleague?",
        }
    }
}

impl std::fmt::Display for SurveyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest question, comment prompt, reason and comment accepted.
pub const MAX_QUESTION: usize = 500;
pub const MAX_REASON: usize = 100;
pub const MAX_REASONS: usize = 20;
pub const MAX_COMMENT: usize = 5000;

/// A survey definition as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveySpec {
    pub kind: SurveyKind,
    pub name: String,
    pub question: String,
    /// The prompt above the comment box; `None` asks for no comment.
    pub comment_prompt: Option<String>,
    /// Reasons a customer may pick when their score is dissatisfied.
    pub reasons: Vec<String>,
    /// Minutes after the solve that a transactional survey is sent.
    pub delay_minutes: i64,
    /// The share of solved cases surveyed, in whole percent (0–100).
    pub sample_percent: i64,
    /// NPS only: days between two invitations to the same contact.
    pub every_days: Option<i64>,
    pub active: bool,
}

fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new("required", field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new("too_long", field, format!("at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new("invalid_value", field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

impl SurveySpec {
    /// The spec, trimmed, or the first field that is wrong.
    pub fn validated(self) -> Result<Self, FieldError> {
        let name = text("name", &self.name, 200)?;
        let question = text("question", &self.question, MAX_QUESTION)?;
        let comment_prompt = match self.comment_prompt.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(text("comment_prompt", p, MAX_QUESTION)?),
        };
        if self.reasons.len() > MAX_REASONS {
            return Err(FieldError::new("too_many", "reasons", format!("at most {MAX_REASONS} reasons")));
        }
        let mut reasons = Vec::new();
        for (i, r) in self.reasons.iter().enumerate() {
            let r = text(&format!("reasons[{i}]"), r, MAX_REASON)?;
            if reasons.contains(&r) {
                return Err(FieldError::new("duplicate", format!("reasons[{i}]"), "each reason once"));
            }
            reasons.push(r);
        }
        if !(0..=7 * 24 * 60).contains(&self.delay_minutes) {
            return Err(FieldError::new("out_of_range", "delay_minutes", "between 0 and 10080 (a week)"));
        }
        if !(0..=100).contains(&self.sample_percent) {
            return Err(FieldError::new("out_of_range", "sample_percent", "between 0 and 100"));
        }
        let every_days = match (self.kind, self.every_days) {
            (SurveyKind::Nps, None) => {
                return Err(FieldError::new("required", "every_days", "an NPS survey is sent every so many days"));
            }
            (SurveyKind::Nps, Some(d)) if !(1..=3650).contains(&d) => {
                return Err(FieldError::new("out_of_range", "every_days", "between 1 and 3650"));
            }
            (SurveyKind::Nps, d) => d,
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "not_allowed",
                    "every_days",
                    "only NPS surveys are sent on a schedule; CSAT and CES follow a solved case",
                ));
            }
            (_, None) => None,
        };
        Ok(Self { name, question, comment_prompt, reasons, every_days, ..self })
    }
}

/// An answer given before kept held the case: brought by a history import,
/// or made up by the demo generator. It is recorded as answered, with no
/// link to follow and no follow-up: the moment to act on it has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastAnswer {
    pub kind: SurveyKind,
    /// On the kind's scale (`validate_score`).
    pub score: i64,
    pub answered_at: Timestamp,
    pub comment: Option<String>,
}

/// Checks a score against the kind's scale.
pub fn validate_score(kind: SurveyKind, score: i64) -> Result<(), FieldError> {
    let (lo, hi) = kind.scale();
    if (lo..=hi).contains(&score) {
        Ok(())
    } else {
        Err(FieldError::new("out_of_range", "score", format!("a {} score is between {lo} and {hi}", kind.label())))
    }
}

/// An answer's comment (trimmed; empty is none) and reasons (each one the definition offers).
pub fn validate_answer(
    comment: Option<&str>,
    reasons: &[String],
    offered: &[String],
) -> Result<(Option<String>, Vec<String>), FieldError> {
    let comment = match comment.map(str::trim) {
        None | Some("") => None,
        Some(c) if c.chars().count() > MAX_COMMENT => {
            return Err(FieldError::new("too_long", "comment", format!("at most {MAX_COMMENT} characters")));
        }
        Some(c) => Some(c.to_owned()),
    };
    let mut chosen: Vec<String> = Vec::new();
    for r in reasons {
        if !offered.contains(r) {
            return Err(FieldError::new(
                "invalid_value",
                "reasons",
                format!("{r:?} is not one of the offered reasons"),
            ));
        }
        if !chosen.contains(r) {
            chosen.push(r.clone());
        }
    }
    Ok((comment, chosen))
}

/// Where each kind's dissatisfied answers end (inclusive): at or below it,
/// an answer opens a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub csat: i64,
    pub ces: i64,
    pub nps: i64,
}

impl Default for Thresholds {
    /// CSAT ≤ 2, CES ≤ 3 (disagreement on the 7-point scale), NPS detractors 0–6.
    fn default() -> Self {
        Self { csat: 2, ces: 3, nps: 6 }
    }
}

impl Thresholds {
    pub fn validated(self) -> Result<Self, FieldError> {
        for (kind, v, field) in [
            (SurveyKind::Csat, self.csat, "csat_threshold"),
            (SurveyKind::Ces, self.ces, "ces_threshold"),
            (SurveyKind::Nps, self.nps, "nps_threshold"),
        ] {
            let (lo, hi) = kind.scale();
            // At the top of the scale every answer would be dissatisfied.
            if !(lo..hi).contains(&v) {
                return Err(FieldError::new("out_of_range", field, format!("between {lo} and {}", hi - 1)));
            }
        }
        Ok(self)
    }

    pub fn of(&self, kind: SurveyKind) -> i64 {
        match kind {
            SurveyKind::Csat => self.csat,
            SurveyKind::Ces => self.ces,
            SurveyKind::Nps => self.nps,
        }
    }
}

pub fn is_dissatisfied(kind: SurveyKind, score: i64, thresholds: &Thresholds) -> bool {
    score <= thresholds.of(kind)
}

/// NPS categories (METRICS §1.2): 9–10 promoters, 7–8 passives, 0–6 detractors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsCategory {
    Promoter,
    Passive,
    Detractor,
}

pub fn nps_category(score: i64) -> NpsCategory {
    match score {
        9.. => NpsCategory::Promoter,
        7..=8 => NpsCategory::Passive,
        _ => NpsCategory::Detractor,
    }
}

/// Whether a case is in the sample: a stable hash of (case, definition)
/// below the share. Deterministic, so the same case is decided the same way
/// on every replica and tests can predict it; independent per definition.
pub fn sampled(case_id: i64, definition_id: i64, percent: i64) -> bool {
    if percent >= 100 {
        return true;
    }
    if percent <= 0 {
        return false;
    }
    sample_bucket(case_id, definition_id) < percent
}

/// The bucket 0–99 of (case, definition): splitmix64 of both ids.
pub fn sample_bucket(case_id: i64, definition_id: i64) -> i64 {
    let mut z = (case_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (definition_id as u64).rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % 100) as i64
}

/// Whether a contact last surveyed at `last_sent` may not be surveyed again
/// at `now`: fewer than `fatigue_days` whole days have passed.
pub fn fatigued(last_sent: Option<Timestamp>, now: Timestamp, fatigue_days: i64) -> bool {
    match last_sent {
        None => false,
        Some(t) => now.duration_since(t) < SignedDuration::from_hours(24 * fatigue_days.max(0)),
    }
}

/// The words of survey mail and pages in one language. English and German
/// ship; any other language falls back to English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub lang: &'static str,
    pub title: &'static str,
    pub intro_case: &'static str,
    pub intro_relationship: &'static str,
    pub subject_case: &'static str,
    pub subject_relationship: &'static str,
    pub comment_default: &'static str,
    pub reasons_label: &'static str,
    pub confirm: &'static str,
    pub thanks: &'static str,
    pub change_until: &'static str,
    pub expired: &'static str,
    pub answered: &'static str,
    pub unknown: &'static str,
    pub too_many: &'static str,
    pub choose_score: &'static str,
    pub expires: &'static str,
}

const EN: Words = Words {
    lang: "en",
    title: "Your feedback",
    intro_case: "Your case #{case} is solved. One click tells us how we did:",
    intro_relationship: "We would like to know what you think of us. One click is enough:",
    subject_case: "[#{case}] How did we do?",
    subject_relationship: "A quick question from your support team",
    comment_default: "Anything you would like to add?",
    reasons_label: "What went wrong? (optional)",
    confirm: "Send my answer",
    thanks: "Thank you for your answer.",
    change_until: "You can change your answer until",
    expired: "This survey has expired. Thank you all the same.",
    answered: "This survey has already been answered. Thank you!",
    unknown: "This survey link is not valid. Please check that you copied all of it.",
    too_many: "Too many answers from your address. Please try again in a few minutes.",
    choose_score: "Please choose a score.",
    expires: "This link works until",
};

const DE: Words = Words {
    lang: "de",
    title: "Ihr Feedback",
    intro_case: "Ihr Anliegen #{case} ist gelöst. Ein Klick sagt uns, wie wir waren:",
    intro_relationship: "Wir möchten wissen, was Sie von uns halten. Ein Klick genügt:",
    subject_case: "[#{case}] Wie zufrieden waren Sie?",
    subject_relationship: "Eine kurze Frage von Ihrem Support-Team",
    comment_default: "Möchten Sie noch etwas hinzufügen?",
    reasons_label: "Was lief schief? (optional)",
    confirm: "Antwort senden",
    thanks: "Vielen Dank für Ihre Antwort.",
    change_until: "Sie können Ihre Antwort ändern bis",
    expired: "Diese Umfrage ist abgelaufen. Trotzdem vielen Dank.",
    answered: "Diese Umfrage wurde bereits beantwortet. Vielen Dank!",
    unknown: "Dieser Umfrage-Link ist ungültig. Bitte prüfen Sie, ob Sie ihn vollständig kopiert haben.",
    too_many: "Zu viele Antworten von Ihrer Adresse. Bitte versuchen Sie es in einigen Minuten erneut.",
    choose_score: "Bitte wählen Sie eine Bewertung.",
    expires: "Dieser Link gilt bis",
};

/// The languages survey mail and pages are written in.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

pub fn words(lang: &str) -> &'static Words {
    if lang == "de" { &DE } else { &EN }
}

impl SurveyKind {
    /// The question in `lang`: a definition that kept its default English
    /// question is asked in the customer's language; a question the admin
    /// wrote is asked as written.
    pub fn question_in(self, written: &str, lang: &str) -> String {
        if lang == "de" && written == self.default_question() {
            match self {
                SurveyKind::Csat => "Wie zufrieden sind Sie mit der Unterstützung, die Sie erhalten haben?",
                SurveyKind::Ces => "Das Unternehmen hat es mir leicht gemacht, mein Anliegen zu erledigen.",
                SurveyKind::Nps => "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?",
            }
            .to_owned()
        } else {
            written.to_owned()
        }
    }

    /// What the two ends of the scale mean, in `lang`.
    pub fn anchors(self, lang: &str) -> (&'static str, &'static str) {
        match (self, lang == "de") {
            (SurveyKind::Csat, false) => ("very dissatisfied", "very satisfied"),
            (SurveyKind::Csat, true) => ("sehr unzufrieden", "sehr zufrieden"),
            (SurveyKind::Ces, false) => ("strongly disagree", "strongly agree"),
            (SurveyKind::Ces, true) => ("stimme überhaupt nicht zu", "stimme voll zu"),
            (SurveyKind::Nps, false) => ("not at all likely", "extremely likely"),
            (SurveyKind::Nps, true) => ("sehr unwahrscheinlich", "sehr wahrscheinlich"),
        }
    }
}

/// The invitation email: subject, text and HTML parts. Each score is a link
/// (`{link}?score=N`) that opens the survey page with it preselected; the
/// page, not the link, records the answer (mail scanners follow links).
pub fn invitation_mail(
    lang: &str,
    kind: SurveyKind,
    question: &str,
    case: Option<i64>,
    link: &str,
    expires: &str,
) -> (String, String, String) {
    let w = words(lang);
    let case_ref = case.map(|c| c.to_string()).unwrap_or_default();
    let (subject, intro) = match case {
        Some(_) => (w.subject_case.replace("{case}", &case_ref), w.intro_case.replace("{case}", &case_ref)),
        None => (w.subject_relationship.to_owned(), w.intro_relationship.to_owned()),
    };
    let question = kind.question_in(question, lang);
    let (lo, hi) = kind.scale();
    let (low, high) = kind.anchors(lang);
    let mut text = format!("{intro}\n\n{question}\n({lo} = {low}, {hi} = {high})\n\n");
    for n in lo..=hi {
        text.push_str(&format!("{n}: {link}?score={n}\n"));
    }
    text.push_str(&format!("\n{} {expires}.\n", w.expires));
    let cells: String = (lo..=hi)
        .map(|n| {
            format!(
                "<td style=\"padding:4px\"><a href=\"{}?score={n}\" style=\"display:inline-block;min-width:2em;padding:8px;\
                 border:1px solid #888;border-radius:4px;text-align:center;text-decoration:none\">{n}</a></td>",
                crate::mail::escape_html(link)
            )
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head><body style=\"font-family: sans-serif\">\n\
         <p>{}</p>\n<p><strong>{}</strong></p>\n<table role=\"presentation\"><tr>{cells}</tr></table>\n\
         <p style=\"color:#555\">{lo} = {}, {hi} = {}</p>\n<p style=\"color:#555\">{} {}.</p>\n</body></html>\n",
        crate::mail::escape_html(&intro),
        crate::mail::escape_html(&question),
        crate::mail::escape_html(low),
        crate::mail::escape_html(high),
        crate::mail::escape_html(w.expires),
        crate::mail::escape_html(expires),
        lang = w.lang,
    );
    (subject, text, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: SurveyKind) -> SurveySpec {
        SurveySpec {
            kind,
            name: " After solve ".into(),
            question: kind.default_question().into(),
            comment_prompt: Some("  ".into()),
            reasons: vec!["Too slow".into(), "Not solved".into()],
            delay_minutes: 60,
            sample_percent: 50,
            every_days: (kind == SurveyKind::Nps).then_some(90),
            active: true,
        }
    }

    #[test]
    fn scales_follow_the_metrics() {
        assert_eq!(SurveyKind::Csat.scale(), (1, 5));
        assert_eq!(SurveyKind::Ces.scale(), (1, 7));
        assert_eq!(SurveyKind::Nps.scale(), (0, 10));
        assert!(validate_score(SurveyKind::Csat, 0).is_err());
        assert!(validate_score(SurveyKind::Csat, 6).is_err());
        assert!(validate_score(SurveyKind::Ces, 7).is_ok());
        assert!(validate_score(SurveyKind::Nps, 0).is_ok());
        let e = validate_score(SurveyKind::Nps, 11).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("out_of_range", "score"));
    }

    #[test]
    fn specs_are_trimmed_and_checked() {
        let s = spec(SurveyKind::Csat).validated().unwrap();
        assert_eq!((s.name.as_str(), s.comment_prompt), ("After solve", None));
        let e = SurveySpec { sample_percent: 101, ..spec(SurveyKind::Csat) }.validated().unwrap_err();
        assert_eq!(e.field, "sample_percent");
        let e = SurveySpec { every_days: Some(30), ..spec(SurveyKind::Ces) }.validated().unwrap_err();
        assert_eq!(e.field, "every_days");
        let e = SurveySpec { every_days: None, ..spec(SurveyKind::Nps) }.validated().unwrap_err();
        assert_eq!((e.code, e.field.as_str()), ("required", "every_days"));
        let e = SurveySpec { reasons: vec!["a".into(), "a".into()], ..spec(SurveyKind::Csat) }.validated().unwrap_err();
        assert_eq!(e.field, "reasons[1]");
        let e = SurveySpec { question: " ".into(), ..spec(SurveyKind::Csat) }.validated().unwrap_err();
        assert_eq!(e.field, "question");
    }

    #[test]
    fn answers_pick_only_offered_reasons() {
        let offered = vec!["Too slow".to_owned()];
        let (c, r) = validate_answer(Some("  "), &["Too slow".into(), "Too slow".into()], &offered).unwrap();
        assert_eq!((c, r), (None, vec!["Too slow".to_owned()]));
        assert_eq!(validate_answer(None, &["Rude".into()], &offered).unwrap_err().field, "reasons");
        let long = "x".repeat(MAX_COMMENT + 1);
        assert_eq!(validate_answer(Some(&long), &[], &offered).unwrap_err().field, "comment");
    }

    #[test]
    fn dissatisfaction_and_nps_categories() {
        let t = Thresholds::default();
        assert!(is_dissatisfied(SurveyKind::Csat, 2, &t));
        assert!(!is_dissatisfied(SurveyKind::Csat, 3, &t));
        assert!(is_dissatisfied(SurveyKind::Ces, 3, &t));
        assert!(!is_dissatisfied(SurveyKind::Ces, 4, &t));
        assert!(is_dissatisfied(SurveyKind::Nps, 6, &t));
        assert!(!is_dissatisfied(SurveyKind::Nps, 7, &t));
        assert_eq!(nps_category(6), NpsCategory::Detractor);
        assert_eq!(nps_category(8), NpsCategory::Passive);
        assert_eq!(nps_category(9), NpsCategory::Promoter);
        assert!(Thresholds { csat: 5, ..t }.validated().is_err());
        assert!(Thresholds { nps: -1, ..t }.validated().is_err());
    }

    #[test]
    fn sampling_is_deterministic_and_near_the_share() {
        assert!(sampled(1, 1, 100));
        assert!(!sampled(1, 1, 0));
        let hits = (1..=10_000).filter(|c| sampled(*c, 3, 30)).count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
        for c in 1..100 {
            assert_eq!(sampled(c, 3, 30), sample_bucket(c, 3) < 30);
        }
    }

    #[test]
    fn fatigue_counts_whole_days() {
        let t0 = Timestamp::from_second(1_700_000_000).unwrap();
        let day = SignedDuration::from_hours(24);
        assert!(!fatigued(None, t0, 30));
        assert!(fatigued(Some(t0), t0 + day * 29, 30));
        assert!(!fatigued(Some(t0), t0 + day * 30, 30));
        assert!(!fatigued(Some(t0), t0, 0));
    }

    #[test]
    fn invitations_link_every_score_in_the_language() {
        let (subject, text, html) = invitation_mail(
            "de",
            SurveyKind::Csat,
            SurveyKind::Csat.default_question(),
            Some(7),
            "https://k.example/s/abc",
            "1. Dez",
        );
        assert_eq!(subject, "[#7] Wie zufrieden waren Sie?");
        assert!(text.contains("Wie zufrieden sind Sie"), "{text}");
        for n in 1..=5 {
            assert!(text.contains(&format!("https://k.example/s/abc?score={n}")));
            assert!(html.contains(&format!("https://k.example/s/abc?score={n}\"")));
        }
        assert!(!text.contains("score=6") && !text.contains("score=0"));
        let (subject, text, _) = invitation_mail("fr", SurveyKind::Nps, "Recommend us?", None, "https://k/s/t", "x");
        assert_eq!(subject, "A quick question from your support team");
        assert!(text.contains("Recommend us?") && text.contains("score=0") && text.contains("score=10"));
    }
}
