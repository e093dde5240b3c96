//! The base measures kept rolls up per day and scope. Every number on a
//! scorecard is computed from these (catalogue.rs says how); each is a count
//! `n`, an integer `total` and, for durations and scores, a histogram.
//!
//! The position of a measure in `Measure::ALL` is its code in stored case
//! items (items.rs): append new measures at the end, never reorder.

use crate::promises::ClockKind;
use crate::string_enum;

string_enum!(
    Measure {
        /// n = cases created.
        Created = "created",
        /// n = transitions into solved (a case solved twice counts twice).
        Solved = "solved",
        /// n = transitions out of solved or closed.
        Reopened = "reopened",
        /// n = cases resolved for the first time.
        Resolved = "resolved",
        /// Entries into and exits from the backlog (not solved, not closed);
        /// the backlog at a day's end is the running sum of in − out.
        BacklogIn = "backlog_in",
        BacklogOut = "backlog_out",
        /// The same for the actionable backlog (new, open, on hold; D-22).
        ActionableIn = "actionable_in",
        ActionableOut = "actionable_out",
        /// n = cases resolved, total = of which first-contact resolutions (D-20).
        Fcr = "fcr",
        /// n = cases resolved, total = of which reopened within 7 days (D-21).
        Reopen = "reopen",
        /// n = cases created, total = customer messages on them.
        Contacts = "contacts",
        /// n = recovery tasks closed, total = of which recovered.
        Recovery = "recovery",
        /// Durations in seconds: n, total, histogram. `_b` is business time.
        Frt = "frt",
        FrtB = "frt_b",
        Nrt = "nrt",
        NrtB = "nrt_b",
        FirstResolution = "first_resolution",
        FirstResolutionB = "first_resolution_b",
        FullResolution = "full_resolution",
        FullResolutionB = "full_resolution_b",
        RequesterWait = "requester_wait",
        RequesterWaitB = "requester_wait_b",
        AgentWork = "agent_work",
        AgentWorkB = "agent_work_b",
        /// Where time goes, per case solved: n = cases, total = seconds.
        WaitUs = "wait_us",
        WaitUsB = "wait_us_b",
        WaitCustomer = "wait_customer",
        WaitCustomerB = "wait_customer_b",
        WaitThird = "wait_third",
        WaitThirdB = "wait_third_b",
        WaitTeam = "wait_team",
        WaitTeamB = "wait_team_b",
        /// Promise instances determined (D-26): n = determined, total = met.
        PromiseFirstResponse = "promise:first_response",
        PromiseNextReply = "promise:next_reply",
        PromiseFirstResolution = "promise:first_resolution",
        PromiseTotalResolution = "promise:total_resolution",
        PromiseKeepInLoop = "promise:keep_in_loop",
        PromiseInternalHandoff = "promise:internal_handoff",
        PromiseCallback = "promise:callback",
        PromiseUpdate = "promise:update",
        PromiseRecovery = "promise:recovery",
        /// Survey answers: n, total = sum of scores, histogram of scores.
        Csat = "csat",
        Ces = "ces",
        Nps = "nps",
        /// CSAT answers to the re-survey after a recovery.
        CsatRecovered = "csat_recovered",
        /// n = invitations delivered, total = of which answered.
        SurveySent = "survey_sent",
    }
);

impl Measure {
    pub fn code(self) -> u8 {
        Self::ALL.iter().position(|m| *m == self).unwrap_or(0) as u8
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// Whether the measure keeps a histogram (durations and scores).
    pub fn has_hist(self) -> bool {
        use Measure::*;
        matches!(
            self,
            Frt | FrtB
                | Nrt
                | NrtB
                | FirstResolution
                | FirstResolutionB
                | FullResolution
                | FullResolutionB
                | RequesterWait
                | RequesterWaitB
                | AgentWork
                | AgentWorkB
                | Csat
                | Ces
                | Nps
                | CsatRecovered
        )
    }

    /// Whether the backlog reads this measure from the beginning of time.
    pub fn is_flow(self) -> bool {
        matches!(self, Measure::BacklogIn | Measure::BacklogOut | Measure::ActionableIn | Measure::ActionableOut)
    }

    pub fn promise(kind: ClockKind) -> Self {
        match kind {
            ClockKind::FirstResponse => Measure::PromiseFirstResponse,
            ClockKind::NextReply => Measure::PromiseNextReply,
            ClockKind::FirstResolution => Measure::PromiseFirstResolution,
            ClockKind::TotalResolution => Measure::PromiseTotalResolution,
            ClockKind::KeepInLoop => Measure::PromiseKeepInLoop,
            ClockKind::InternalHandoff => Measure::PromiseInternalHandoff,
            ClockKind::Callback => Measure::PromiseCallback,
            ClockKind::Update => Measure::PromiseUpdate,
            ClockKind::Recovery => Measure::PromiseRecovery,
        }
    }

    pub fn clock(self) -> Option<ClockKind> {
        ClockKind::ALL.iter().copied().find(|k| Measure::promise(*k) == self)
    }

    /// The business-time twin of a calendar-time duration measure.
    pub fn business(self) -> Option<Self> {
        use Measure::*;
        Some(match self {
            Frt => FrtB,
            Nrt => NrtB,
            FirstResolution => FirstResolutionB,
            FullResolution => FullResolutionB,
            RequesterWait => RequesterWaitB,
            AgentWork => AgentWorkB,
            WaitUs => WaitUsB,
            WaitCustomer => WaitCustomerB,
            WaitThird => WaitThirdB,
            WaitTeam => WaitTeamB,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_fit_a_byte() {
        assert!(Measure::ALL.len() < 256);
        for m in Measure::ALL {
            assert_eq!(Measure::from_code(m.code()), Some(*m));
            assert_eq!(Measure::parse("m", m.as_str()).unwrap(), *m);
        }
    }

    #[test]
    fn every_clock_has_a_measure() {
        for k in ClockKind::ALL {
            assert_eq!(Measure::promise(*k).clock(), Some(*k));
        }
    }
}
