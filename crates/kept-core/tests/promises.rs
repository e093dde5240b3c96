//! The promise clock engine against METRICS.md (T6, T7) and the cases
//! the issue names: DST, holidays, split shifts, pausing across nights,
//! reopen, priority change mid-flight, a promise due exactly at a window's
//! end; plus properties that the store relies on.

#![expect(clippy::unwrap_used, reason = "a test that cannot unwrap has failed")]

use jiff::Timestamp;
use kept_core::calendar::Calendar;
use kept_core::cases::{AuthorRole, Channel, Priority, Status};
use kept_core::promises::{
    Books, CalendarHistory, CaseAttrs, CaseFacts, ClockEval, ClockKind, ClockStatus, FixedClock, MessageFact,
    PolicyHistory, PolicySpec, TransitionKind, evaluate, explain,
};
use proptest::prelude::*;

const NY_9_17: &str = r#"{"time_zone": "America/New_York", "weekly": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
    "wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}}"#;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn attrs(priority: Priority) -> CaseAttrs {
    CaseAttrs { priority, tier: "standard".into(), channel: Channel::Email, case_type: "question".into(), team_id: 1 }
}

fn policy(id: i64, position: i64, json: &str) -> PolicyHistory {
    let spec: PolicySpec = serde_json::from_str(json).unwrap();
    PolicyHistory { id, position, versions: vec![(t("2000-01-01T00:00:00Z"), Some(spec.validate(id, 1).unwrap()))] }
}

fn books(policies: Vec<PolicyHistory>) -> Books {
    let cal = Calendar::from_json(NY_9_17).unwrap();
    Books { policies, calendars: vec![CalendarHistory { id: 1, versions: vec![(t("2000-01-01T00:00:00Z"), cal)] }] }
}

struct History {
    facts: CaseFacts,
}

impl History {
    fn new(created: &str, priority: Priority) -> Self {
        let created = t(created);
        History {
            facts: CaseFacts {
                created_at: created,
                internal: false,
                statuses: vec![],
                messages: vec![],
                attrs: vec![(created, attrs(priority))],
            },
        }
    }
    fn status(mut self, at: &str, s: Status) -> Self {
        self.facts.statuses.push((t(at), s));
        self
    }
    fn said(mut self, at: &str, role: AuthorRole) -> Self {
        self.facts.messages.push(MessageFact { at: t(at), role, public: true });
        self
    }
    fn priority(mut self, at: &str, p: Priority) -> Self {
        self.facts.attrs.push((t(at), attrs(p)));
        self
    }
}

fn clock(all: &[ClockEval], kind: ClockKind, ordinal: i64) -> &ClockEval {
    all.iter()
        .find(|c| c.kind == kind && c.ordinal == ordinal)
        .unwrap_or_else(|| panic!("no {kind} #{ordinal}: {all:#?}"))
}

fn kinds(c: &ClockEval) -> Vec<TransitionKind> {
    c.transitions.iter().map(|t| t.kind).collect()
}

/// METRICS T6 (America/New_York, 2024-06-03, all times EDT = UTC−4), in
/// calendar time with targets sized to land on the vector's figures.
#[test]
fn t6_response_and_resolution_clocks_in_calendar_time() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "T6", "targets": [
        {"clock": "first_response", "minutes": 60, "time": "calendar"},
        {"clock": "next_reply", "minutes": 30, "time": "calendar"},
        {"clock": "first_resolution", "minutes": 150, "time": "calendar"},
        {"clock": "total_resolution", "minutes": 420, "time": "calendar", "pause_on": []},
        {"clock": "keep_in_loop", "minutes": 60, "time": "calendar"}]}"#,
    )]);
    let h = History::new("2024-06-03T13:00:00Z", Priority::Normal)
        .said("2024-06-03T13:00:00Z", AuthorRole::Customer)
        .said("2024-06-03T14:00:00Z", AuthorRole::Agent)
        .status("2024-06-03T14:00:00Z", Status::Pending)
        .said("2024-06-03T18:00:00Z", AuthorRole::Customer)
        .status("2024-06-03T18:00:00Z", Status::Open)
        .said("2024-06-03T18:45:00Z", AuthorRole::Agent)
        .status("2024-06-03T19:00:00Z", Status::OnHold)
        .status("2024-06-03T19:30:00Z", Status::Open)
        .status("2024-06-03T20:00:00Z", Status::Solved);
    let all = evaluate(&h.facts, &b, &[], t("2024-06-04T12:00:00Z"), false);
    let fr = clock(&all, ClockKind::FirstResponse, 1);
    assert_eq!(
        (fr.status, fr.elapsed_ms),
        (ClockStatus::Met, 3_600_000),
        "FRT 3600 s, met exactly at the target (D-25)"
    );
    let nr = clock(&all, ClockKind::NextReply, 1);
    assert_eq!(nr.elapsed_ms, 2_700_000, "NRT 14:00 → 14:45 = 2700 s");
    assert_eq!(nr.status, ClockStatus::Breached);
    assert_eq!(nr.breach_at, Some(t("2024-06-03T18:30:00Z")));
    assert_eq!(kinds(nr), [TransitionKind::Started, TransitionKind::Breached, TransitionKind::FulfilledLate]);
    let first = clock(&all, ClockKind::FirstResolution, 1);
    assert_eq!((first.status, first.elapsed_ms), (ClockStatus::Met, 9_000_000), "agent work time (new + open) 9000 s");
    let total = clock(&all, ClockKind::TotalResolution, 1);
    assert_eq!((total.status, total.elapsed_ms), (ClockStatus::Met, 25_200_000), "full resolution 25200 s");
    let kil1 = clock(&all, ClockKind::KeepInLoop, 1);
    assert_eq!(
        (kil1.status, kil1.elapsed_ms),
        (ClockStatus::Met, 45 * 60_000),
        "paused while pending, 45 min while open"
    );
    let kil2 = clock(&all, ClockKind::KeepInLoop, 2);
    assert_eq!(kil2.status, ClockStatus::Breached, "75 minutes without an update while open or on hold");
    assert_eq!(kil2.breach_at, Some(t("2024-06-03T19:45:00Z")));
}

/// METRICS T7: 8 business hours on Mon–Fri 09–17 New York, paused while pending.
#[test]
fn t7_business_hours_resolution_paused_while_pending_is_met() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "T7", "calendar_id": 1, "targets": [
        {"clock": "first_resolution", "minutes": 480, "warn_at_percent": 75}]}"#,
    )]);
    let h = History::new("2024-06-03T20:00:00Z", Priority::Normal)
        .status("2024-06-03T20:30:00Z", Status::Pending)
        .status("2024-06-04T15:00:00Z", Status::Open);
    let at_resume = evaluate(&h.facts, &b, &[], t("2024-06-04T15:00:00Z"), false);
    let c = clock(&at_resume, ClockKind::FirstResolution, 1);
    assert_eq!((c.status, c.elapsed_ms), (ClockStatus::Running, 1_800_000), "elapsed at resume 1800 s");
    assert_eq!(c.breach_at, Some(t("2024-06-05T14:30:00Z")), "breach_at = 2024-06-05T10:30:00-04:00");
    let while_pending = evaluate(&h.facts, &b, &[], t("2024-06-04T12:00:00Z"), false);
    let p = clock(&while_pending, ClockKind::FirstResolution, 1);
    assert_eq!(
        (p.status, p.breach_at, p.remaining_ms),
        (ClockStatus::Paused, None, 27_000_000),
        "paused: no breach_at, remaining frozen"
    );
    let solved = h.status("2024-06-05T14:00:00Z", Status::Solved);
    let all = evaluate(&solved.facts, &b, &[], t("2024-06-06T12:00:00Z"), true);
    let c = clock(&all, ClockKind::FirstResolution, 1);
    assert_eq!(
        (c.status, c.elapsed_ms, c.fulfilled_at),
        (ClockStatus::Met, 27_000_000, Some(t("2024-06-05T14:00:00Z")))
    );
    assert!(
        c.transitions.iter().any(|tr| tr.kind == TransitionKind::Warned),
        "75 % = 6 business hours, reached Tue 16:30 EDT"
    );
    let lines = explain(c, &b, &jiff::tz::TimeZone::get("America/New_York").unwrap());
    let text = lines.join("; ");
    assert!(text.contains("started Mon 03 Jun 16:00"), "{text}");
    assert!(text.contains("paused Mon 03 Jun 16:30–Tue 04 Jun 11:00 waiting on customer"), "{text}");
    assert!(text.contains("outside business hours Tue 04 Jun 17:00–Wed 05 Jun 09:00"), "{text}");
    assert!(text.contains("met Wed 05 Jun 10:00, 30 business minutes before due"), "{text}");
}

#[test]
fn a_priority_change_mid_flight_keeps_the_time_used_and_applies_the_new_target() {
    let b = books(vec![
        policy(
            1,
            1,
            r#"{"name": "Urgent", "conditions": {"priorities": ["urgent"]}, "targets": [{"clock": "first_response", "minutes": 60, "time": "calendar"}]}"#,
        ),
        policy(
            2,
            2,
            r#"{"name": "Everyone", "targets": [{"clock": "first_response", "minutes": 480, "time": "calendar"}]}"#,
        ),
    ]);
    let h = History::new("2024-06-03T13:00:00Z", Priority::Normal).priority("2024-06-03T13:40:00Z", Priority::Urgent);
    let all = evaluate(&h.facts, &b, &[], t("2024-06-03T13:45:00Z"), false);
    let fr = clock(&all, ClockKind::FirstResponse, 1);
    assert_eq!((fr.policy_id, fr.target_ms, fr.elapsed_ms), (Some(1), 3_600_000, 45 * 60_000));
    assert_eq!(fr.breach_at, Some(t("2024-06-03T14:00:00Z")), "40 minutes already used, 20 left");
    assert_eq!(kinds(fr), [TransitionKind::Started, TransitionKind::Retargeted]);
    // Raised at 14:10: the new target is already used up, so it breaches at once.
    let late =
        History::new("2024-06-03T13:00:00Z", Priority::Normal).priority("2024-06-03T14:10:00Z", Priority::Urgent);
    let all = evaluate(&late.facts, &b, &[], t("2024-06-03T14:20:00Z"), false);
    let fr = clock(&all, ClockKind::FirstResponse, 1);
    assert_eq!((fr.status, fr.breach_at), (ClockStatus::Breached, Some(t("2024-06-03T14:10:00Z"))));
}

#[test]
fn a_promise_due_exactly_at_a_windows_end_is_due_at_17_00_and_a_reply_then_is_met() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "BH", "calendar_id": 1, "targets": [{"clock": "first_response", "minutes": 120}]}"#,
    )]);
    let h = History::new("2024-06-03T19:00:00Z", Priority::Normal);
    let all = evaluate(&h.facts, &b, &[], t("2024-06-03T19:00:00Z"), false);
    assert_eq!(
        clock(&all, ClockKind::FirstResponse, 1).breach_at,
        Some(t("2024-06-03T21:00:00Z")),
        "17:00 EDT, not 09:00 next day (D-17)"
    );
    let replied = h.said("2024-06-03T21:00:00Z", AuthorRole::Agent);
    let all = evaluate(&replied.facts, &b, &[], t("2024-06-04T12:00:00Z"), false);
    assert_eq!(
        clock(&all, ClockKind::FirstResponse, 1).status,
        ClockStatus::Met,
        "at the breach instant is met (D-25)"
    );
}

#[test]
fn a_reply_one_second_late_breaches_at_the_deadline() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "BH", "calendar_id": 1, "targets": [{"clock": "first_response", "minutes": 120}]}"#,
    )]);
    let h = History::new("2024-06-03T19:00:00Z", Priority::Normal).said("2024-06-04T13:00:01Z", AuthorRole::Agent);
    let fr = evaluate(&h.facts, &b, &[], t("2024-06-05T00:00:00Z"), false)
        .into_iter()
        .find(|c| c.kind == ClockKind::FirstResponse)
        .unwrap();
    assert_eq!((fr.status, fr.breach_at), (ClockStatus::Breached, Some(t("2024-06-03T21:00:00Z"))));
    assert_eq!(fr.elapsed_ms, 2 * 3_600_000 + 1_000, "the night and the early morning do not count");
}

#[test]
fn pausing_across_nights_and_a_dst_change_counts_only_business_time() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "BH", "calendar_id": 1, "targets": [{"clock": "first_resolution", "minutes": 960}]}"#,
    )]);
    // Fri 2024-11-01 16:00 EDT; pending over the weekend (DST ends Sun 3 Nov); open Mon 10:00 EST.
    let h = History::new("2024-11-01T20:00:00Z", Priority::Normal)
        .status("2024-11-01T20:30:00Z", Status::Pending)
        .status("2024-11-04T15:00:00Z", Status::Open);
    let c = evaluate(&h.facts, &b, &[], t("2024-11-04T15:00:00Z"), false)
        .into_iter()
        .find(|c| c.kind == ClockKind::FirstResolution)
        .unwrap();
    assert_eq!(c.elapsed_ms, 1_800_000);
    assert_eq!(c.breach_at, Some(t("2024-11-06T14:30:00Z")), "15.5 business hours from Mon 10:00 EST: Wed 09:30 EST");
}

#[test]
fn reopening_resumes_total_resolution_but_not_first_resolution() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "R", "targets": [
        {"clock": "first_resolution", "minutes": 60, "time": "calendar"},
        {"clock": "total_resolution", "minutes": 90, "time": "calendar"}]}"#,
    )]);
    let h = History::new("2024-06-03T13:00:00Z", Priority::Normal)
        .status("2024-06-03T13:30:00Z", Status::Solved)
        .said("2024-06-03T15:00:00Z", AuthorRole::Customer)
        .status("2024-06-03T15:00:00Z", Status::Open);
    let all = evaluate(&h.facts, &b, &[], t("2024-06-03T15:10:00Z"), false);
    assert_eq!(clock(&all, ClockKind::FirstResolution, 1).status, ClockStatus::Met);
    let total = clock(&all, ClockKind::TotalResolution, 1);
    assert_eq!((total.status, total.elapsed_ms), (ClockStatus::Running, 40 * 60_000), "the solved hours do not count");
    assert_eq!(kinds(total), [TransitionKind::Started, TransitionKind::Met, TransitionKind::Reopened]);
    assert_eq!(total.breach_at, Some(t("2024-06-03T16:00:00Z")), "50 minutes left at 15:10");
}

#[test]
fn a_calendar_edit_moves_future_deadlines_but_keeps_time_already_used() {
    let mut b = books(vec![policy(
        1,
        1,
        r#"{"name": "BH", "calendar_id": 1, "targets": [{"clock": "first_resolution", "minutes": 240}]}"#,
    )]);
    // From Tue 2024-06-04 00:00 EDT the team works 09:00–12:00 only.
    let short = Calendar::from_json(&NY_9_17.replace("17:00", "12:00")).unwrap();
    b.calendars[0].versions.push((t("2024-06-04T04:00:00Z"), short));
    let h = History::new("2024-06-03T15:00:00Z", Priority::Normal); // Mon 11:00 EDT
    let c = evaluate(&h.facts, &b, &[], t("2024-06-04T13:00:00Z"), false).into_iter().next().unwrap();
    assert_eq!(c.elapsed_ms, 6 * 3_600_000, "Monday 11:00–17:00 under the old hours; Tuesday has not started at 09:00");
    assert_eq!(c.status, ClockStatus::Breached, "4 business hours ran out Monday 15:00 under the old calendar");
    assert_eq!(c.breach_at, Some(t("2024-06-03T19:00:00Z")));
    let h = History::new("2024-06-03T19:00:00Z", Priority::Normal); // Mon 15:00 EDT
    let c = evaluate(&h.facts, &b, &[], t("2024-06-03T19:00:00Z"), false).into_iter().next().unwrap();
    assert_eq!(
        c.breach_at,
        Some(t("2024-06-04T15:00:00Z")),
        "2 h Monday (old hours), then 2 h of Tuesday's 09:00–12:00: 11:00"
    );
}

#[test]
fn only_human_replies_fulfil_response_clocks_by_default() {
    for (human_only, expected) in [(true, ClockStatus::Running), (false, ClockStatus::Met)] {
        let json = format!(
            r#"{{"name": "H", "human_replies_only": {human_only}, "targets": [{{"clock": "first_response", "minutes": 60, "time": "calendar"}}]}}"#
        );
        let b = books(vec![policy(1, 1, &json)]);
        let h = History::new("2024-06-03T13:00:00Z", Priority::Normal).said("2024-06-03T13:01:00Z", AuthorRole::System);
        let fr = evaluate(&h.facts, &b, &[], t("2024-06-03T13:10:00Z"), false).into_iter().next().unwrap();
        assert_eq!(fr.status, expected, "human_replies_only = {human_only}");
    }
}

#[test]
fn closing_cancels_response_promises_still_owed_but_never_hides_a_breach() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "C", "targets": [{"clock": "first_response", "minutes": 60, "time": "calendar"}]}"#,
    )]);
    let quick = History::new("2024-06-03T13:00:00Z", Priority::Normal)
        .status("2024-06-03T13:10:00Z", Status::Solved)
        .status("2024-06-03T13:20:00Z", Status::Closed);
    assert_eq!(evaluate(&quick.facts, &b, &[], t("2024-06-04T00:00:00Z"), false)[0].status, ClockStatus::Cancelled);
    let slow = History::new("2024-06-03T13:00:00Z", Priority::Normal)
        .status("2024-06-03T15:10:00Z", Status::Solved)
        .status("2024-06-03T15:20:00Z", Status::Closed);
    assert_eq!(evaluate(&slow.facts, &b, &[], t("2024-06-04T00:00:00Z"), false)[0].status, ClockStatus::Breached);
}

#[test]
fn no_policy_no_promise_and_a_policy_that_stops_applying_cancels() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "Urgent only", "conditions": {"priorities": ["urgent"]}, "targets": [{"clock": "first_response", "minutes": 60, "time": "calendar"}]}"#,
    )]);
    let h = History::new("2024-06-03T13:00:00Z", Priority::Normal);
    assert!(evaluate(&h.facts, &b, &[], t("2024-06-03T14:00:00Z"), false).is_empty());
    let up_down = History::new("2024-06-03T13:00:00Z", Priority::Normal)
        .priority("2024-06-03T13:10:00Z", Priority::Urgent)
        .priority("2024-06-03T13:20:00Z", Priority::Low);
    let fr = evaluate(&up_down.facts, &b, &[], t("2024-06-03T14:00:00Z"), false).into_iter().next().unwrap();
    assert_eq!(fr.started_at, t("2024-06-03T13:10:00Z"), "the promise starts when it is made");
    assert_eq!((fr.status, fr.elapsed_ms), (ClockStatus::Cancelled, 10 * 60_000));
}

#[test]
fn an_internal_request_runs_a_hand_off_clock_until_solved() {
    let b = books(vec![policy(
        1,
        1,
        r#"{"name": "Internal", "targets": [{"clock": "internal_handoff", "minutes": 120, "time": "calendar"}]}"#,
    )]);
    let mut h = History::new("2024-06-03T13:00:00Z", Priority::Normal).status("2024-06-03T14:00:00Z", Status::Solved);
    h.facts.internal = true;
    let c = evaluate(&h.facts, &b, &[], t("2024-06-03T15:00:00Z"), false).into_iter().next().unwrap();
    assert_eq!((c.kind, c.status, c.elapsed_ms), (ClockKind::InternalHandoff, ClockStatus::Met, 3_600_000));
}

#[test]
fn an_agents_callback_promise_is_met_breached_or_cancelled_by_its_deadline() {
    let f = |fulfilled: Option<&str>, cancelled: Option<&str>| FixedClock {
        id: 7,
        kind: ClockKind::Callback,
        start: t("2024-06-03T13:00:00Z"),
        due: t("2024-06-03T15:00:00Z"),
        fulfilled_at: fulfilled.map(t),
        cancelled_at: cancelled.map(t),
    };
    let facts = History::new("2024-06-03T12:00:00Z", Priority::Normal).facts;
    let eval = |c: FixedClock, now: &str| evaluate(&facts, &Books::default(), &[c], t(now), false).pop().unwrap();
    assert_eq!(eval(f(None, None), "2024-06-03T14:00:00Z").status, ClockStatus::Running);
    assert_eq!(eval(f(Some("2024-06-03T14:50:00Z"), None), "2024-06-03T16:00:00Z").status, ClockStatus::Met);
    assert_eq!(eval(f(Some("2024-06-03T15:00:00Z"), None), "2024-06-03T16:00:00Z").status, ClockStatus::Met);
    let late = eval(f(Some("2024-06-03T15:30:00Z"), None), "2024-06-03T16:00:00Z");
    assert_eq!(
        (late.status, kinds(&late)),
        (ClockStatus::Breached, vec![TransitionKind::Started, TransitionKind::Breached, TransitionKind::FulfilledLate])
    );
    assert_eq!(eval(f(None, None), "2024-06-03T15:00:00Z").status, ClockStatus::Breached);
    assert_eq!(eval(f(None, Some("2024-06-03T14:00:00Z")), "2024-06-03T16:00:00Z").status, ClockStatus::Cancelled);
}

fn arb_history() -> impl Strategy<Value = (Vec<(u32, u8)>, u32)> {
    (prop::collection::vec((1u32..600, 0u8..6), 0..14), 1u32..4000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The store appends each evaluation's new transitions as events. That is
    /// only sound if what is known at one moment is a prefix of what is known
    /// later, and if a decided promise stays decided.
    #[test]
    fn transitions_only_grow_and_decisions_stand((steps, extra) in arb_history()) {
        let b = books(vec![policy(1, 1, r#"{"name": "P", "calendar_id": 1, "targets": [
            {"clock": "first_response", "minutes": 90, "warn_at_percent": 50},
            {"clock": "next_reply", "minutes": 120},
            {"clock": "first_resolution", "minutes": 600},
            {"clock": "keep_in_loop", "minutes": 240},
            {"clock": "total_resolution", "minutes": 900, "time": "calendar"}]}"#)]);
        let start = t("2024-03-08T14:00:00Z");
        let mut full = History::new("2024-03-08T14:00:00Z", Priority::Normal).facts;
        let mut at = start;
        let mut status = Status::New;
        for (gap, action) in steps {
            at = at.checked_add(jiff::SignedDuration::from_mins(i64::from(gap))).unwrap();
            match action {
                0 => full.messages.push(MessageFact { at, role: AuthorRole::Customer, public: true }),
                1 => full.messages.push(MessageFact { at, role: AuthorRole::Agent, public: true }),
                n => {
                    let to = [Status::Open, Status::Pending, Status::OnHold, Status::Solved][usize::from(n - 2)];
                    if status.can_become(to) { status = to; full.statuses.push((at, to)); }
                }
            }
        }
        let end = at.checked_add(jiff::SignedDuration::from_mins(i64::from(extra))).unwrap();
        let known_at = |now: Timestamp| {
            let mut f = full.clone();
            f.messages.retain(|m| m.at <= now);
            f.statuses.retain(|(t, _)| *t <= now);
            evaluate(&f, &b, &[], now, false)
        };
        let mut earlier: Vec<ClockEval> = Vec::new();
        let mut now = start;
        while now <= end {
            let later = known_at(now);
            for e in &earlier {
                let l = later.iter().find(|c| c.kind == e.kind && c.ordinal == e.ordinal).unwrap();
                prop_assert!(l.transitions.starts_with(&e.transitions), "{:?} #{}: {:?} then {:?}", e.kind, e.ordinal, e.transitions, l.transitions);
                if e.status == ClockStatus::Breached { prop_assert_eq!(l.status, ClockStatus::Breached); }
                if e.status == ClockStatus::Met && e.kind != ClockKind::TotalResolution { prop_assert_eq!(l.status, ClockStatus::Met); }
                prop_assert!(l.elapsed_ms >= e.elapsed_ms);
            }
            earlier = later;
            now = now.checked_add(jiff::SignedDuration::from_mins(37)).unwrap();
        }
    }
}
