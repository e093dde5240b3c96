//! Demo cases: arrivals with weekly and daily seasonality (New York time,
//! busier on Mondays and mid-morning, quiet at weekends, growing over the
//! period), and a plausible life for each case, with agents working
//! business hours and customers answering whenever they like.

use super::rng::Rng;
use super::surveys::{self, Outcome};
use super::{BILLING, DemoOrg, IT, SUPPORT, text};
use crate::calendar::{Calendar, add_business};
use crate::cases::{AuthorRole, Channel, Priority, Status};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Who does a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Staff(usize),
    Contact {
        account: usize,
        contact: usize,
    },
    /// kept itself (closing solved cases after four days).
    System,
}

#[derive(Debug, Clone)]
pub enum PlanAction {
    Message { role: AuthorRole, public: bool, body: &'static str, status: Option<Status> },
    Assign(usize),
    SetStatus(Status),
    SetPriority(Priority),
    InternalRequest { team: usize, subject: &'static str, body: &'static str, steps: Vec<PlanStep> },
}

#[derive(Debug, Clone)]
pub struct PlanStep {
    pub at: Timestamp,
    pub who: Who,
    pub action: PlanAction,
}

#[derive(Debug, Clone)]
pub struct CasePlan {
    pub subject: &'static str,
    pub body: &'static str,
    pub channel: Channel,
    pub priority: Priority,
    pub case_type: &'static str,
    pub tags: Vec<&'static str>,
    pub account: usize,
    pub contact: usize,
    pub team: usize,
    pub created_at: Timestamp,
    /// The agent who typed in a phone case.
    pub entered_by: Option<usize>,
    pub steps: Vec<PlanStep>,
    /// What the customer answered when surveyed about it.
    pub surveys: Vec<crate::surveys::PastAnswer>,
}

/// The cases of a demo, oldest first, generated lazily.
pub struct CaseStream<'a> {
    org: &'a DemoOrg,
    rng: Rng,
    /// Survey answers draw from their own stream: cases stay as they were.
    survey_rng: Rng,
    arrivals: std::vec::IntoIter<Timestamp>,
    end: Timestamp,
    hours: Calendar,
    account_weights: Vec<f64>,
}

const DAY_WEIGHTS: [f64; 7] = [1.35, 1.2, 1.1, 1.05, 0.9, 0.25, 0.2]; // Monday first
const HOUR_WEIGHTS: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.2, 3.4, 3.8, 3.5, 2.8, 3.0, 3.4, 3.2, 2.7, 2.0, 1.3, 0.9, 0.7, 0.5, 0.4,
    0.3,
];

impl<'a> CaseStream<'a> {
    /// `count` cases created over the `days` before `end`.
    pub fn new(org: &'a DemoOrg, seed: u64, count: usize, days: u32, end: Timestamp) -> Self {
        let mut rng = Rng::new(seed.wrapping_add(1));
        let tz = TimeZone::get("America/New_York").unwrap_or(TimeZone::UTC);
        let arrivals = arrivals(&mut rng, &tz, count, days.max(1), end);
        let hours = Calendar::from_json(
            r#"{"time_zone": "America/New_York", "weekly": {"mon": [["08:00","18:00"]], "tue": [["08:00","18:00"]],
                "wed": [["08:00","18:00"]], "thu": [["08:00","18:00"]], "fri": [["08:00","18:00"]]}}"#,
        );
        let account_weights = org
            .accounts
            .iter()
            .map(|a| match a.tier {
                "enterprise" => 5.0,
                "premium" => 2.0,
                _ => 1.0,
            })
            .collect();
        Self {
            org,
            rng,
            survey_rng: Rng::new(seed.wrapping_add(2)),
            arrivals: arrivals.into_iter(),
            end,
            hours: hours.unwrap_or_else(|_| unreachable_calendar()),
            account_weights,
        }
    }
}

/// The fixed calendar above always parses; this keeps the code panic-free.
fn unreachable_calendar() -> Calendar {
    Calendar::from_json(r#"{"time_zone": "UTC", "weekly": {"mon": [["00:00","24:00"]]}}"#)
        .unwrap_or_else(|_| unreachable_calendar())
}

fn arrivals(rng: &mut Rng, tz: &TimeZone, count: usize, days: u32, end: Timestamp) -> Vec<Timestamp> {
    let end_date = end.to_zoned_datetime(tz.clone()).date();
    let first = end_date.checked_sub(jiff::Span::new().days(i64::from(days) - 1)).unwrap_or(end_date);
    let dates: Vec<Date> =
        (0..days).filter_map(|d| first.checked_add(jiff::Span::new().days(i64::from(d))).ok()).collect();
    let weights: Vec<f64> = dates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            DAY_WEIGHTS[d.weekday().to_monday_zero_offset() as usize] * (0.85 + 0.3 * i as f64 / dates.len() as f64)
        })
        .collect();
    let mut out: Vec<Timestamp> = (0..count)
        .filter_map(|_| {
            let date = dates[rng.weighted(&weights)];
            let hour = rng.weighted(&HOUR_WEIGHTS) as i8;
            let time = Time::new(hour, rng.below(60) as i8, rng.below(60) as i8, 0).ok()?;
            let at = date.to_datetime(time).to_zoned_datetime(tz.clone()).ok()?.timestamp();
            Some(if at > end {
                end.checked_sub(SignedDuration::from_secs(rng.below(3600) as i64)).unwrap_or(end)
            } else {
                at
            })
        })
        .collect();
    out.sort();
    out
}

impl Iterator for CaseStream<'_> {
    type Item = CasePlan;

    fn next(&mut self) -> Option<CasePlan> {
        let created_at = self.arrivals.next()?;
        Some(self.plan(created_at))
    }
}

/// Collects steps in time order and stops at the end of the demo period:
/// what has not happened yet is left for the live desk.
struct Steps<'a> {
    steps: Vec<PlanStep>,
    end: Timestamp,
    hours: &'a Calendar,
    done: bool,
}

impl Steps<'_> {
    fn push(&mut self, at: Timestamp, who: Who, action: PlanAction) -> bool {
        let last = self.steps.last().map(|s| s.at);
        if self.done || at > self.end || last.is_some_and(|l| at < l) {
            self.done = true;
            return false;
        }
        self.steps.push(PlanStep { at, who, action });
        true
    }

    fn last(&self, fallback: Timestamp) -> Timestamp {
        self.steps.last().map_or(fallback, |s| s.at)
    }

    /// `secs` of business time after `from` (agents work 08:00–18:00 New York).
    fn work(&self, from: Timestamp, secs: i64) -> Timestamp {
        add_business(self.hours, from, secs.max(60)).unwrap_or(from)
    }
}

fn later(t: Timestamp, secs: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs(secs.max(60))).unwrap_or(t)
}

impl CaseStream<'_> {
    fn plan(&mut self, created_at: Timestamp) -> CasePlan {
        let rng = &mut self.rng;
        let (case_type, subjects, bodies) = text::TOPICS[rng.weighted(&[35.0, 25.0, 10.0, 15.0, 10.0, 5.0])];
        let account = rng.weighted(&self.account_weights);
        let contact = rng.below(self.org.accounts[account].contacts.len());
        let team = if case_type == "billing" { BILLING } else { SUPPORT };
        let channel = [Channel::Email, Channel::Web, Channel::Phone, Channel::Chat, Channel::Api]
            [rng.weighted(&[50.0, 25.0, 15.0, 8.0, 2.0])];
        let mut priority =
            [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent][rng.weighted(&[15.0, 60.0, 20.0, 5.0])];
        if self.org.accounts[account].tier == "enterprise" && priority < Priority::Urgent && rng.chance(0.3) {
            priority = Priority::ALL[priority.rank() as usize + 1];
        }
        let members: Vec<usize> = self.org.members(team).into_iter().filter(|i| *i != 0).collect();
        let agent = rng.pick(&members);
        let mut tags = Vec::new();
        if self.org.accounts[account].tier == "enterprise" {
            tags.push("vip");
        }
        if case_type == "incident" && rng.chance(0.3) {
            tags.push("outage");
        }
        let mut plan = CasePlan {
            subject: rng.pick(subjects),
            body: rng.pick(bodies),
            channel,
            priority,
            case_type,
            tags,
            account,
            contact,
            team,
            created_at,
            entered_by: (channel == Channel::Phone).then_some(agent),
            steps: Vec::new(),
            surveys: Vec::new(),
        };
        let mut steps = Steps { steps: Vec::new(), end: self.end, hours: &self.hours, done: false };
        let outcome = life(rng, self.org, &mut plan, agent, &mut steps);
        plan.steps = steps.steps;
        plan.surveys = surveys::answers(&mut self.survey_rng, outcome, self.end);
        plan
    }
}

/// Typical business seconds to a first reply, by priority: agents work the
/// queue by its deadlines, so urgent work is answered in minutes.
fn first_reply_median(p: Priority) -> f64 {
    match p {
        Priority::Urgent => 600.0,
        Priority::High => 1800.0,
        Priority::Normal => 5400.0,
        Priority::Low => 3.0 * 3600.0,
    }
}

fn life(rng: &mut Rng, org: &DemoOrg, plan: &mut CasePlan, agent: usize, s: &mut Steps<'_>) -> Outcome {
    let customer = Who::Contact { account: plan.account, contact: plan.contact };
    let me = Who::Staff(agent);
    let reply = |body, status| PlanAction::Message { role: AuthorRole::Agent, public: true, body, status };
    let t = s.work(plan.created_at, rng.skewed(600.0));
    s.push(t, me, PlanAction::Assign(agent));
    if rng.chance(0.05) && plan.priority < Priority::Urgent {
        let t = later(s.last(t), rng.skewed(1800.0));
        plan.priority = Priority::ALL[plan.priority.rank() as usize + 1];
        s.push(t, me, PlanAction::SetPriority(plan.priority));
    }
    // Enterprise accounts are promised more, and agents know it.
    let speed = if org.accounts[plan.account].tier == "enterprise" { 0.4 } else { 1.0 };
    let wait = rng.skewed(first_reply_median(plan.priority) * speed);
    let first = s.work(s.last(t), wait);
    let mut outcome =
        Outcome { slow: wait as f64 > 2.0 * first_reply_median(plan.priority) * speed, ..Outcome::default() };
    let flow = rng.weighted(&[40.0, 35.0, 10.0, if plan.team == SUPPORT { 7.0 } else { 0.0 }, 8.0]);
    outcome.waited = flow == 2 || flow == 3;
    let solved = match flow {
        0 => s.push(first, me, reply(rng.pick(text::AGENT_FIXES), Some(Status::Solved))),
        1 => ask_customer(rng, s, me, customer, first),
        2 => {
            s.push(
                first,
                me,
                reply(
                    "We are waiting for our supplier and will update you as soon as we hear back.",
                    Some(Status::OnHold),
                ),
            );
            let back = later(s.last(first), rng.skewed(86_400.0));
            s.push(back, me, reply(rng.pick(text::AGENT_FIXES), Some(Status::Solved)))
        }
        3 => internal_request(rng, org, s, me, first),
        _ => {
            s.push(first, me, reply("Thanks, we are looking into it and will come back to you.", None));
            false
        }
    };
    if rng.chance(0.2) {
        let t = later(s.last(first), rng.skewed(1200.0));
        s.push(
            t,
            me,
            PlanAction::Message { role: AuthorRole::Agent, public: false, body: rng.pick(text::NOTES), status: None },
        );
    }
    if !solved {
        return outcome;
    }
    let mut solved_at = s.last(first);
    if rng.chance(0.08) {
        let again = later(solved_at, rng.skewed(86_400.0));
        let body = rng.pick(text::REOPENS);
        if s.push(again, customer, PlanAction::Message { role: AuthorRole::Customer, public: true, body, status: None })
        {
            outcome.reopened = true;
            let fix = s.work(again, rng.skewed(first_reply_median(plan.priority)));
            if !s.push(fix, me, reply(rng.pick(text::AGENT_FIXES), Some(Status::Solved))) {
                return outcome;
            }
            solved_at = fix;
        }
    }
    outcome.solved_at = Some(solved_at);
    s.push(later(solved_at, 4 * 86_400), Who::System, PlanAction::SetStatus(Status::Closed));
    outcome
}

/// The agent asks a question (pending); the customer answers; the agent solves.
fn ask_customer(rng: &mut Rng, s: &mut Steps<'_>, me: Who, customer: Who, at: Timestamp) -> bool {
    let ask = PlanAction::Message {
        role: AuthorRole::Agent,
        public: true,
        body: rng.pick(text::AGENT_QUESTIONS),
        status: Some(Status::Pending),
    };
    if !s.push(at, me, ask) {
        return false;
    }
    let answer = later(at, rng.skewed(5.0 * 3600.0));
    let body = rng.pick(text::CUSTOMER_ANSWERS);
    if !s.push(answer, customer, PlanAction::Message { role: AuthorRole::Customer, public: true, body, status: None }) {
        return false;
    }
    let fix = s.work(answer, rng.skewed(2.0 * 3600.0));
    s.push(
        fix,
        me,
        PlanAction::Message {
            role: AuthorRole::Agent,
            public: true,
            body: rng.pick(text::AGENT_FIXES),
            status: Some(Status::Solved),
        },
    )
}

/// Support asks IT Operations for help, waits on hold, then solves.
fn internal_request(rng: &mut Rng, org: &DemoOrg, s: &mut Steps<'_>, me: Who, at: Timestamp) -> bool {
    let hold = PlanAction::Message {
        role: AuthorRole::Agent,
        public: true,
        body: "We have asked our IT operations team to look into this and will update you.",
        status: Some(Status::OnHold),
    };
    if !s.push(at, me, hold) {
        return false;
    }
    let it_agent = rng.pick(&org.members(IT));
    let (subject, body) = rng.pick(text::IT_REQUESTS);
    let raised = later(at, 120);
    let picked = s.work(raised, rng.skewed(1800.0));
    let fixed = s.work(picked, rng.skewed(2.0 * 3600.0));
    let mut child = Vec::new();
    for (t, action) in [
        (picked, PlanAction::Assign(it_agent)),
        (
            fixed,
            PlanAction::Message {
                role: AuthorRole::Agent,
                public: true,
                body: rng.pick(text::IT_REPLIES),
                status: Some(Status::Solved),
            },
        ),
    ] {
        if t <= s.end {
            child.push(PlanStep { at: t, who: Who::Staff(it_agent), action });
        }
    }
    let child_done = child.len() == 2;
    if !s.push(raised, me, PlanAction::InternalRequest { team: IT, subject, body, steps: child }) || !child_done {
        s.done = true;
        return false;
    }
    // The parent's next step comes after the request is solved.
    let solve = s.work(fixed, rng.skewed(3600.0));
    s.push(
        solve,
        me,
        PlanAction::Message {
            role: AuthorRole::Agent,
            public: true,
            body: rng.pick(text::AGENT_FIXES),
            status: Some(Status::Solved),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::organisation;

    fn end() -> Timestamp {
        "2024-06-28T18:00:00Z".parse().unwrap()
    }

    #[test]
    fn cases_arrive_in_order_within_the_period_and_steps_follow_their_case() {
        let org = organisation(3);
        let start = end().checked_sub(SignedDuration::from_hours(24 * 60)).unwrap();
        let plans: Vec<CasePlan> = CaseStream::new(&org, 3, 2000, 60, end()).collect();
        assert_eq!(plans.len(), 2000);
        assert!(plans.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        for p in &plans {
            assert!(p.created_at >= start && p.created_at <= end());
            let mut last = p.created_at;
            for step in &p.steps {
                assert!(step.at >= last && step.at <= end(), "steps in order, none in the future");
                last = step.at;
            }
        }
    }

    #[test]
    fn the_demo_has_the_shape_of_a_real_desk() {
        let org = organisation(9);
        let plans: Vec<CasePlan> = CaseStream::new(&org, 9, 3000, 90, end()).collect();
        let weekend = plans
            .iter()
            .filter(|p| {
                p.created_at
                    .to_zoned_datetime(TimeZone::get("America/New_York").unwrap())
                    .weekday()
                    .to_monday_zero_offset()
                    >= 5
            })
            .count();
        assert!(weekend * 10 < plans.len(), "weekends are quiet: {weekend}");
        let has =
            |f: &dyn Fn(&PlanAction) -> bool| plans.iter().filter(|p| p.steps.iter().any(|s| f(&s.action))).count();
        let pending = has(&|a| matches!(a, PlanAction::Message { status: Some(Status::Pending), .. }));
        let internal = has(&|a| matches!(a, PlanAction::InternalRequest { .. }));
        let closed = has(&|a| matches!(a, PlanAction::SetStatus(Status::Closed)));
        let reopened = plans
            .iter()
            .filter(|p| {
                p.steps
                    .iter()
                    .filter(|s| matches!(s.action, PlanAction::Message { status: Some(Status::Solved), .. }))
                    .count()
                    > 1
            })
            .count();
        assert!(
            pending > 600 && internal > 50 && closed > 1500 && reopened > 50,
            "{pending} {internal} {closed} {reopened}"
        );
        let unsolved = plans
            .iter()
            .filter(|p| {
                !p.steps.iter().any(|s| matches!(s.action, PlanAction::Message { status: Some(Status::Solved), .. }))
            })
            .count();
        assert!(unsolved > 100, "some work is still open: {unsolved}");
    }

    #[test]
    fn a_seed_always_gives_the_same_cases() {
        let org = organisation(5);
        let a: Vec<_> =
            CaseStream::new(&org, 5, 50, 30, end()).map(|p| (p.created_at, p.subject, p.steps.len())).collect();
        let b: Vec<_> =
            CaseStream::new(&org, 5, 50, 30, end()).map(|p| (p.created_at, p.subject, p.steps.len())).collect();
        assert_eq!(a, b);
    }
}
