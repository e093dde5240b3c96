//! Property tests of the case lifecycle: whatever sequence of changes and
//! messages people attempt, the rules hold.

#![expect(clippy::unwrap_used, reason = "a test that cannot unwrap has failed")]

use jiff::Timestamp;
use kept_core::cases::{
    AuthorRole, Case, CasePatch, Channel, EventKind, Priority, Status, apply_patch, set_status, status_after_message,
};
use kept_core::ids::{AccountId, CaseId, TeamId, UserId};
use kept_core::values::{Slug, Subject};
use proptest::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Attempt {
    SetStatus(Status),
    Priority(Priority),
    Message { role: AuthorRole, public: bool },
}

fn attempt() -> impl Strategy<Value = Attempt> {
    let status = prop::sample::select(Status::ALL.to_vec());
    let priority = prop::sample::select(Priority::ALL.to_vec());
    let role = prop::sample::select(vec![AuthorRole::Customer, AuthorRole::Agent]);
    prop_oneof![
        status.prop_map(Attempt::SetStatus),
        priority.prop_map(Attempt::Priority),
        (role, any::<bool>()).prop_map(|(role, public)| Attempt::Message { role, public }),
    ]
}

fn new_case() -> Case {
    Case {
        id: CaseId(1),
        subject: Subject::parse("s", "Subject").unwrap(),
        status: Status::New,
        priority: Priority::Normal,
        channel: Channel::Web,
        case_type: Slug::parse("t", "question").unwrap(),
        account_id: AccountId(1),
        requester_id: UserId(2),
        team_id: TeamId(1),
        assignee_id: None,
        tags: BTreeSet::new(),
        parent_case_id: None,
        requesting_team_id: None,
        follow_up_of: None,
        created_by: None,
        created_at: Timestamp::UNIX_EPOCH,
        updated_at: Timestamp::UNIX_EPOCH,
        solved_at: None,
        closed_at: None,
    }
}

fn status_of(v: &serde_json::Value) -> Status {
    Status::parse("", v.as_str().unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_recorded_status_change_is_legal_and_replaying_events_gives_the_state(attempts in prop::collection::vec(attempt(), 0..40)) {
        let mut case = new_case();
        let mut replayed = Status::New;
        let mut was_closed = false;
        for (i, a) in attempts.into_iter().enumerate() {
            let now = Timestamp::from_second(60 * (i as i64 + 1)).unwrap();
            let before = case.clone();
            let result = match a {
                Attempt::SetStatus(s) => apply_patch(&mut case, CasePatch { status: Some(s), ..CasePatch::default() }, None, now),
                Attempt::Priority(p) => apply_patch(&mut case, CasePatch { priority: Some(p), ..CasePatch::default() }, None, now),
                Attempt::Message { role, public } if case.status != Status::Closed => {
                    status_after_message(&mut case, role, public, None, now).map(|e| e.into_iter().collect())
                }
                Attempt::Message { .. } => Ok(Vec::new()),
            };
            match result {
                Err(_) => prop_assert_eq!(&case.status, &before.status, "a refusal changes nothing"),
                Ok(events) => {
                    for e in events.iter().filter(|e| e.kind == EventKind::StatusChanged) {
                        let (from, to) = (status_of(e.before.as_ref().unwrap()), status_of(e.after.as_ref().unwrap()));
                        prop_assert_eq!(from, replayed, "events chain");
                        prop_assert!(from.can_become(to), "{} -> {} recorded", from, to);
                        replayed = to;
                    }
                }
            }
            prop_assert_eq!(replayed, case.status, "replaying the events gives the current status");
            prop_assert!(!was_closed || case.status == Status::Closed, "closed is final");
            prop_assert!(case.status != Status::New || replayed == Status::New);
            prop_assert_eq!(case.solved_at.is_some(), matches!(case.status, Status::Solved | Status::Closed), "solved_at tracks solving");
            prop_assert_eq!(case.closed_at.is_some(), case.status == Status::Closed);
            was_closed = case.status == Status::Closed;
        }
    }

    #[test]
    fn explicit_transitions_agree_with_the_rule_table(from in prop::sample::select(Status::ALL.to_vec()), to in prop::sample::select(Status::ALL.to_vec())) {
        let mut case = new_case();
        case.status = from;
        let result = set_status(&mut case, to, None, Timestamp::UNIX_EPOCH);
        prop_assert_eq!(result.is_ok(), from.can_become(to));
        prop_assert_eq!(case.status, if from.can_become(to) { to } else { from });
    }
}
