//! The case lifecycle: new → open ↔ pending ↔ on_hold → solved → closed.
//!
//! `new` means nobody has acted yet; `pending` waits on the customer,
//! `on_hold` on a third party or another team; `solved` can still be reopened
//! (by the customer replying, or by an agent); `closed` is final — a new
//! message on a closed case opens a follow-up case instead.

use crate::error::DomainError;
use crate::string_enum;

string_enum!(
    /// Where a case is in its life.
    Status {
        New = "new",
        Open = "open",
        Pending = "pending",
        OnHold = "on_hold",
        Solved = "solved",
        Closed = "closed",
    }
);

impl Status {
    /// Still needs work from someone (not solved or closed).
    pub fn is_unsolved(self) -> bool {
        !matches!(self, Status::Solved | Status::Closed)
    }

    /// Whether an explicit change from `self` to `to` is allowed. Staying in
    /// the same status is not a transition and is handled by the caller.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (New, Open | Pending | OnHold | Solved)
                | (Open, Pending | OnHold | Solved)
                | (Pending, Open | OnHold | Solved)
                | (OnHold, Open | Pending | Solved)
                | (Solved, Open | Closed)
        )
    }

    /// Checks an explicit transition and explains a refusal.
    pub fn transition(self, to: Status) -> Result<Status, DomainError> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(DomainError::IllegalTransition { from: self.as_str(), to: to.as_str() })
        }
    }

    /// The status after the customer writes, if it changes. A closed case is
    /// not reopened: the caller opens a follow-up instead.
    pub fn after_customer_message(self) -> Option<Status> {
        match self {
            Status::Pending | Status::OnHold | Status::Solved => Some(Status::Open),
            Status::New | Status::Open | Status::Closed => None,
        }
    }

    /// The status after an agent's public reply, if it changes: the first
    /// reply takes a new case into work.
    pub fn after_agent_reply(self) -> Option<Status> {
        match self {
            Status::New => Some(Status::Open),
            _ => None,
        }
    }

    /// Plain words for people, e.g. in the portal.
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Open => "Open",
            Status::Pending => "Waiting on you",
            Status::OnHold => "On hold",
            Status::Solved => "Solved",
            Status::Closed => "Closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    #[test]
    fn nothing_leaves_closed_and_nothing_returns_to_new() {
        for s in Status::ALL {
            assert!(!Closed.can_become(*s), "closed -> {s}");
            assert!(!s.can_become(New), "{s} -> new");
        }
    }

    #[test]
    fn only_a_solved_case_can_be_closed() {
        for s in Status::ALL {
            assert_eq!(s.can_become(Closed), *s == Solved, "{s} -> closed");
        }
    }

    #[test]
    fn unsolved_statuses_move_freely_between_each_other_and_to_solved() {
        for from in [Open, Pending, OnHold] {
            for to in [Open, Pending, OnHold, Solved] {
                assert_eq!(from.can_become(to), from != to, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn a_refused_transition_names_both_ends() {
        let err = Closed.transition(Open).unwrap_err();
        assert_eq!(err.code(), "illegal_transition");
        assert_eq!(err.to_string(), "a case cannot go from closed to open");
    }

    #[test]
    fn a_customer_reply_reopens_waiting_and_solved_cases_but_not_closed_ones() {
        assert_eq!(Pending.after_customer_message(), Some(Open));
        assert_eq!(OnHold.after_customer_message(), Some(Open));
        assert_eq!(Solved.after_customer_message(), Some(Open));
        assert_eq!(Closed.after_customer_message(), None);
        assert_eq!(New.after_customer_message(), None);
    }

    #[test]
    fn the_first_agent_reply_opens_a_new_case() {
        assert_eq!(New.after_agent_reply(), Some(Open));
        assert_eq!(Pending.after_agent_reply(), None);
    }
}
