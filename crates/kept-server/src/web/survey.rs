//! The customer's survey page, /s/{token}: no login (the unguessable token
//! authorises), no JavaScript, in the contact's language.
//!
//! Scanner-proof: mail security scanners open every link in a message, so a
//! GET never records anything — it shows the page with the clicked score
//! preselected and one button to confirm. Only the POST records.

use crate::api::extract::ClientAddr;
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use kept_core::DomainError;
use kept_core::surveys::{Words, words};
use kept_store::{PublicState, PublicSurvey, StoreError, SurveyAnswer};
use std::time::Instant;

struct Score {
    value: i64,
    checked: bool,
}

struct Reason {
    value: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    w: &'static Words,
    token: String,
    notice: Option<String>,
    thanks: bool,
    show_form: bool,
    question: String,
    scores: Vec<Score>,
    low: String,
    high: String,
    reasons: Vec<Reason>,
    comment_prompt: Option<String>,
    comment: String,
    change_until: Option<String>,
    until_text: String,
}

impl SurveyPage {
    fn message(w: &'static Words, notice: &str) -> Self {
        Self {
            w,
            token: String::new(),
            notice: Some(notice.to_owned()),
            thanks: false,
            show_form: false,
            question: String::new(),
            scores: Vec::new(),
            low: String::new(),
            high: String::new(),
            reasons: Vec::new(),
            comment_prompt: None,
            comment: String::new(),
            change_until: None,
            until_text: String::new(),
        }
    }

    fn form(token: &str, s: &PublicSurvey, chosen: Option<&SurveyAnswer>, state: &AppState) -> Self {
        let w = words(&s.language);
        let (lo, hi) = s.kind.scale();
        let (low, high) = s.kind.anchors(&s.language);
        let chosen = chosen.or(s.answer.as_ref());
        let until = s.change_until.filter(|_| s.state == PublicState::Changeable);
        Self {
            w,
            token: token.to_owned(),
            notice: None,
            thanks: false,
            show_form: true,
            question: s.kind.question_in(&s.question, &s.language),
            scores: (lo..=hi).map(|value| Score { value, checked: chosen.is_some_and(|a| a.score == value) }).collect(),
            low: format!("{lo} = {low}"),
            high: format!("{hi} = {high}"),
            reasons: s
                .reasons
                .iter()
                .map(|r| Reason { value: r.clone(), checked: chosen.is_some_and(|a| a.reasons.contains(r)) })
                .collect(),
            // A survey without a comment prompt still takes a comment: the
            // box is the customer's, the prompt only the admin's wording.
            comment_prompt: Some(s.comment_prompt.clone().unwrap_or_else(|| w.comment_default.to_owned())),
            comment: chosen.and_then(|a| a.comment.clone()).unwrap_or_default(),
            change_until: until.map(|u| u.to_string()),
            until_text: until.map(|u| readable(state, u)).unwrap_or_default(),
        }
    }
}

fn readable(state: &AppState, t: jiff::Timestamp) -> String {
    t.to_zoned_datetime(state.config.time_zone.clone()).strftime("%-d %b %Y %H:%M %Z").to_string()
}

/// Every answer of these pages: never cached (the token is in the URL and
/// the page shows an answer), and the token never leaks as a referrer.
fn page(status: StatusCode, p: &SurveyPage) -> Response {
    let body = match p.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "survey page did not render");
            return (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response();
        }
    };
    let mut r = (status, Html(body)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

/// The page for a link that cannot be answered (unknown, expired, already
/// answered), in the contact's language when the token is known.
async fn refused(state: &AppState, token: &str, e: StoreError) -> Response {
    let lang = state.store.survey_language(token).await.ok().flatten().unwrap_or_else(|| "en".into());
    let w = words(&lang);
    match e {
        StoreError::Domain(DomainError::NotFound { .. }) => {
            page(StatusCode::NOT_FOUND, &SurveyPage::message(w, w.unknown))
        }
        StoreError::Domain(DomainError::Conflict { code: "expired", .. }) => {
            page(StatusCode::GONE, &SurveyPage::message(w, w.expired))
        }
        StoreError::Domain(DomainError::Conflict { code: "already_answered", .. }) => {
            page(StatusCode::GONE, &SurveyPage::message(w, w.answered))
        }
        other => {
            tracing::error!(error = %other, "survey page failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &SurveyPage::message(w, "Something went wrong; please try again later."),
            )
        }
    }
}

/// Tokens are hex; anything else is not worth a database lookup.
fn plausible(token: &str) -> bool {
    (32..=128).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn show(State(state): State<AppState>, Path(token): Path<String>, RawQuery(query): RawQuery) -> Response {
    if !plausible(&token) {
        return refused(&state, "", StoreError::Domain(DomainError::NotFound { entity: "survey" })).await;
    }
    let survey = match state.store.public_survey(&token, state.now()).await {
        Ok(s) => s,
        Err(e) => return refused(&state, &token, e).await,
    };
    // The score clicked in the mail, preselected; anything unreadable or off
    // the scale is simply not preselected.
    let clicked = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "score")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .filter(|n| kept_core::surveys::validate_score(survey.kind, *n).is_ok());
    let preselect = clicked.map(|score| SurveyAnswer {
        score,
        comment: survey.answer.as_ref().and_then(|a| a.comment.clone()),
        reasons: survey.answer.as_ref().map(|a| a.reasons.clone()).unwrap_or_default(),
    });
    page(StatusCode::OK, &SurveyPage::form(&token, &survey, preselect.as_ref(), &state))
}

pub async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientAddr(addr): ClientAddr,
    body: Bytes,
) -> Response {
    let now = Instant::now();
    let key = format!("survey:{addr}");
    if let Some(wait) = state.survey_limiter.blocked(&key, now) {
        let w = words("en");
        let mut r = page(StatusCode::TOO_MANY_REQUESTS, &SurveyPage::message(w, w.too_many));
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    // Every answer counts against the address, accepted or not: a flood is a flood.
    state.survey_limiter.record_failure(&key, now);
    if !plausible(&token) {
        return refused(&state, "", StoreError::Domain(DomainError::NotFound { entity: "survey" })).await;
    }
    let survey = match state.store.public_survey(&token, state.now()).await {
        Ok(s) => s,
        Err(e) => return refused(&state, &token, e).await,
    };
    let mut score_raw = None;
    let mut comment = None;
    let mut reasons = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "score" => score_raw = Some(v.into_owned()),
            "comment" => comment = Some(v.into_owned()),
            "reasons" => reasons.push(v.into_owned()),
            _ => {}
        }
    }
    let w = words(&survey.language);
    let score = score_raw.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::parse::<i64>);
    let sent = |score: i64| SurveyAnswer { score, comment: comment.clone(), reasons: reasons.clone() };
    let again = |notice: String, score: i64| {
        let mut p = SurveyPage::form(&token, &survey, Some(&sent(score)), &state);
        p.notice = Some(notice);
        page(StatusCode::UNPROCESSABLE_ENTITY, &p)
    };
    let score = match score {
        Some(Ok(n)) => n,
        // No score, or not a number: the form again, asking for one.
        _ => return again(w.choose_score.to_owned(), i64::MIN),
    };
    match state.store.answer_survey(&token, sent(score), state.now()).await {
        Ok(_) => {
            let mut fresh = match state.store.public_survey(&token, state.now()).await {
                Ok(s) => SurveyPage::form(&token, &s, None, &state),
                // The change window may be zero: then the thanks is all there is.
                Err(_) => SurveyPage::message(w, ""),
            };
            fresh.notice = None;
            fresh.thanks = true;
            page(StatusCode::OK, &fresh)
        }
        Err(StoreError::Domain(DomainError::Invalid(f))) => {
            let message = match f.field.as_str() {
                "score" => format!("{} ({})", w.choose_score, f.message),
                _ => format!("{}: {}", f.field, f.message),
            };
            again(message, score)
        }
        Err(e) => refused(&state, &token, e).await,
    }
}
