//! A case's contributions to the rollups, computed from its history alone
//! (METRICS.md §2–§3): the same function serves every change and the
//! rebuild, so both always agree.

use super::day::day_of;
use super::items::{Attribution, Items};
use super::measure::Measure;
use crate::calendar::{Calendar, business_seconds};
use crate::cases::{AuthorRole, Status};
use crate::promises::{ClockKind, MessageFact};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// D-20, D-21: the window for repeats and reopens.
pub const REPEAT_WINDOW_SECONDS: i64 = 7 * 86_400;

/// A promise instance that has been determined (met or breached, D-26).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseOutcome {
    pub kind: ClockKind,
    pub met: bool,
    pub determined_at: Timestamp,
}

/// A survey answer, with the attribution its invitation froze.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswer {
    pub kind: crate::surveys::SurveyKind,
    pub score: i64,
    pub answered_at: Timestamp,
    /// A re-survey after recovery.
    pub resurvey: bool,
    pub attribution: Attribution,
}

/// A survey invitation that was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub sent_at: Timestamp,
    pub answered: bool,
    pub attribution: Attribution,
}

/// Everything a case contributes, as read from the store.
#[derive(Debug, Clone)]
pub struct CaseInput<'a> {
    pub created_at: Timestamp,
    /// Status changes after creation, in time order (a case starts `new`).
    pub statuses: &'a [(Timestamp, Status)],
    pub messages: &'a [MessageFact],
    /// The case as it stands (team, assignee, account, tier, channel, type).
    pub attribution: Attribution,
    /// An internal request between teams: counts as work (volume, backlog,
    /// resolution, its hand-off promise), not as customer experience.
    pub internal: bool,
    /// A new case from the same requester of the same type followed the
    /// first resolution within 7 days (D-20).
    pub repeat: bool,
    /// When the case's internal requests were open: [opened, solved).
    pub team_waits: &'a [(Timestamp, Option<Timestamp>)],
    pub promises: &'a [PromiseOutcome],
    /// Closed recovery tasks: (closed at, recovered).
    pub recoveries: &'a [(Timestamp, bool)],
    pub answers: &'a [SurveyAnswer],
    pub delivered: &'a [Delivered],
    /// For the business-time variants; none, none of those.
    pub calendar: Option<&'a Calendar>,
}

fn done(s: Status) -> bool {
    matches!(s, Status::Solved | Status::Closed)
}

fn actionable(s: Status) -> bool {
    matches!(s, Status::New | Status::Open | Status::OnHold)
}

/// The case's status intervals `[from, to)` up to `end`.
fn intervals(input: &CaseInput<'_>, end: Timestamp) -> Vec<(Timestamp, Timestamp, Status)> {
    let mut out = Vec::new();
    let (mut from, mut status) = (input.created_at, Status::New);
    for (at, to) in input.statuses {
        let at = (*at).max(from);
        if at >= end {
            break;
        }
        if at > from {
            out.push((from, at, status));
        }
        from = at;
        status = *to;
    }
    if end > from {
        out.push((from, end, status));
    }
    out
}

fn seconds(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_millisecond() - from.as_millisecond()).max(0) / 1000
}

/// Adds a duration observation in calendar and (with a calendar) business time.
fn observe_both(
    items: &mut Items,
    a: usize,
    day: i32,
    measure: Measure,
    from: Timestamp,
    to: Timestamp,
    cal: Option<&Calendar>,
) {
    items.observe(a, day, measure, seconds(from, to));
    if let (Some(cal), Some(b)) = (cal, measure.business()) {
        items.observe(a, day, b, business_seconds(cal, from, to).max(0));
    }
}

/// Sums of calendar and business seconds over intervals.
fn measure_sum(spans: &[(Timestamp, Timestamp)], cal: Option<&Calendar>) -> (i64, Option<i64>) {
    let cal_total = spans.iter().map(|(a, b)| seconds(*a, *b)).sum();
    let biz = cal.map(|c| spans.iter().map(|(a, b)| business_seconds(c, *a, *b).max(0)).sum());
    (cal_total, biz)
}

fn merged(spans: &[(Timestamp, Option<Timestamp>)], end: Timestamp) -> Vec<(Timestamp, Timestamp)> {
    let mut v: Vec<(Timestamp, Timestamp)> =
        spans.iter().map(|(a, b)| (*a, b.unwrap_or(end).min(end))).filter(|(a, b)| a < b).collect();
    v.sort();
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::new();
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn overlap(spans: &[(Timestamp, Timestamp)], others: &[(Timestamp, Timestamp)]) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    for (a, b) in spans {
        for (c, d) in others {
            let (s, e) = ((*a).max(*c), (*b).min(*d));
            if s < e {
                out.push((s, e));
            }
        }
    }
    out
}

/// The case's items. `zone` decides which local day each falls on.
pub fn case_items(input: &CaseInput<'_>, zone: &TimeZone) -> Items {
    let mut items = Items::default();
    let day = |t: Timestamp| day_of(t, zone);
    let cal = input.calendar;
    let a = items.attribution(input.attribution.clone());

    // Volume and flows.
    items.push(a, day(input.created_at), Measure::Created, 1, 0);
    items.push(a, day(input.created_at), Measure::BacklogIn, 1, 0);
    items.push(a, day(input.created_at), Measure::ActionableIn, 1, 0);
    let mut prev = Status::New;
    let (mut first_done, mut last_done, mut reopens) = (None, None, Vec::new());
    for (at, to) in input.statuses {
        let (d, to) = (day(*at), *to);
        if !done(prev) && done(to) {
            items.push(a, d, Measure::BacklogOut, 1, 0);
            first_done.get_or_insert(*at);
            last_done = Some(*at);
            if to == Status::Solved {
                items.push(a, d, Measure::Solved, 1, 0);
            }
        }
        if done(prev) && !done(to) {
            items.push(a, d, Measure::BacklogIn, 1, 0);
            items.push(a, d, Measure::Reopened, 1, 0);
            reopens.push(*at);
            last_done = None;
        }
        if actionable(prev) && !actionable(to) {
            items.push(a, d, Measure::ActionableOut, 1, 0);
        }
        if !actionable(prev) && actionable(to) {
            items.push(a, d, Measure::ActionableIn, 1, 0);
        }
        prev = to;
    }
    if let Some(fs) = first_done {
        items.push(a, day(fs), Measure::Resolved, 1, 0);
        observe_both(&mut items, a, day(fs), Measure::FirstResolution, input.created_at, fs, cal);
    }
    if let Some(ls) = last_done.filter(|_| done(prev)) {
        observe_both(&mut items, a, day(ls), Measure::FullResolution, input.created_at, ls, cal);
    }
    for p in input.promises {
        items.push(a, day(p.determined_at), Measure::promise(p.kind), 1, i64::from(p.met));
    }
    if input.internal {
        return items;
    }

    // Responsiveness (§2.3). A reply is a public message by a human agent (D-14).
    let public: Vec<&MessageFact> =
        input.messages.iter().filter(|m| m.public && m.role != AuthorRole::System).collect();
    let is_reply = |m: &MessageFact| m.role == AuthorRole::Agent;
    let started_by_customer = public.first().is_some_and(|m| m.role == AuthorRole::Customer);
    let first_reply = public.iter().find(|m| is_reply(m)).map(|m| m.at);
    if let (true, Some(r)) = (started_by_customer, first_reply) {
        observe_both(&mut items, a, day(r), Measure::Frt, input.created_at, r, cal);
    }
    // Next reply: from the first customer message after the latest reply to the next reply (D-19).
    let mut waiting_since: Option<Timestamp> = None;
    let mut replied = false;
    for m in &public {
        if is_reply(m) {
            if let Some(since) = waiting_since.take() {
                observe_both(&mut items, a, day(m.at), Measure::Nrt, since, m.at, cal);
            }
            replied = true;
        } else if replied && waiting_since.is_none() {
            waiting_since = Some(m.at);
        }
    }
    let customer_messages = public.iter().filter(|m| m.role == AuthorRole::Customer).count() as i64;
    items.push(a, day(input.created_at), Measure::Contacts, 1, customer_messages);

    // First contact resolution (D-20) and reopen rate (D-21), on the first resolution's day.
    if let Some(fs) = first_done {
        let replies_before = public.iter().filter(|m| is_reply(m) && m.at <= fs).count();
        let reopened = !reopens.is_empty();
        let one_touch = replies_before == 1 && !reopened && !input.repeat;
        items.push(a, day(fs), Measure::Fcr, 1, i64::from(one_touch));
        let soon = reopens.iter().any(|r| seconds(fs, *r) <= REPEAT_WINDOW_SECONDS);
        items.push(a, day(fs), Measure::Reopen, 1, i64::from(soon));
    }

    // Waits and where time goes, for a case that is resolved now.
    if let Some(ls) = last_done.filter(|_| done(prev)) {
        let d = day(ls);
        let split = time_split(input, ls);
        for (m, part) in [(Measure::RequesterWait, split.requester_wait), (Measure::AgentWork, split.agent_work)] {
            items.observe(a, d, m, part.calendar);
            if let (Some(b), Some(mb)) = (part.business, m.business()) {
                items.observe(a, d, mb, b);
            }
        }
        for (m, part) in [
            (Measure::WaitUs, split.us),
            (Measure::WaitTeam, split.team),
            (Measure::WaitCustomer, split.customer),
            (Measure::WaitThird, split.third),
        ] {
            items.push(a, d, m, 1, part.calendar);
            if let (Some(b), Some(mb)) = (part.business, m.business()) {
                items.push(a, d, mb, 1, b);
            }
        }
    }

    for (closed_at, recovered) in input.recoveries {
        items.push(a, day(*closed_at), Measure::Recovery, 1, i64::from(*recovered));
    }
    answer_items(&mut items, input.answers, input.delivered, zone);
    items
}

/// Survey answers and deliveries, each under its frozen attribution.
pub fn answer_items(items: &mut Items, answers: &[SurveyAnswer], delivered: &[Delivered], zone: &TimeZone) {
    use crate::surveys::SurveyKind;
    for s in answers {
        let a = items.attribution(s.attribution.clone());
        let measure = match (s.kind, s.resurvey) {
            (SurveyKind::Csat, true) => Measure::CsatRecovered,
            (SurveyKind::Csat, false) => Measure::Csat,
            (SurveyKind::Ces, _) => Measure::Ces,
            (SurveyKind::Nps, _) => Measure::Nps,
        };
        items.observe(a, day_of(s.answered_at, zone), measure, s.score);
    }
    for d in delivered {
        let a = items.attribution(d.attribution.clone());
        items.push(a, day_of(d.sent_at, zone), Measure::SurveySent, 1, i64::from(d.answered));
    }
}

/// Seconds in calendar time and, with a calendar, in business time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Part {
    pub calendar: i64,
    pub business: Option<i64>,
}

/// Where a case's time went from creation to `end`: waiting on us (new,
/// open), on another team (open internal requests while ours was new or
/// open: taken out of "us"), on the customer (pending), on a third party
/// (on hold); and the two waits of §2.3.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TimeSplit {
    pub us: Part,
    pub team: Part,
    pub customer: Part,
    pub third: Part,
    pub requester_wait: Part,
    pub agent_work: Part,
}

pub fn time_split(input: &CaseInput<'_>, end: Timestamp) -> TimeSplit {
    let cal = input.calendar;
    let spans = intervals(input, end);
    let pick = |set: &[Status]| -> Vec<(Timestamp, Timestamp)> {
        spans.iter().filter(|(_, _, s)| set.contains(s)).map(|(x, y, _)| (*x, *y)).collect()
    };
    let part = |s: &[(Timestamp, Timestamp)]| {
        let (calendar, business) = measure_sum(s, cal);
        Part { calendar, business }
    };
    let ours = pick(&[Status::New, Status::Open]);
    let team = part(&overlap(&ours, &merged(input.team_waits, end)));
    let all_ours = part(&ours);
    TimeSplit {
        us: Part {
            calendar: all_ours.calendar - team.calendar,
            business: all_ours.business.zip(team.business).map(|(x, y)| x - y),
        },
        team,
        customer: part(&pick(&[Status::Pending])),
        third: part(&pick(&[Status::OnHold])),
        requester_wait: part(&pick(&[Status::New, Status::Open, Status::OnHold])),
        agent_work: all_ours,
    }
}
