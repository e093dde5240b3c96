use super::common::*;
use kept_core::cases::{CasePatch, Priority, Status};
use kept_core::ids::{CaseId, UserId};
use kept_core::values::{MessageBody, Slug};
use kept_store::test_support::TestDb;
use kept_store::{IdempotencyKey, NewMessage, store_test};

fn reply(body: &str, public: bool, status: Option<Status>) -> NewMessage {
    NewMessage { body: MessageBody::parse("body", body).unwrap(), public, status }
}

fn status(s: Status) -> CasePatch {
    CasePatch { status: Some(s), ..CasePatch::default() }
}

store_test!(a_contact_opens_a_case_for_their_own_account, async |db: &TestDb| {
    let env = env(db).await;
    let case = env.open_as(&env.ana, "Printer on fire", t(10)).await;
    assert_eq!(case.case.status, Status::New);
    assert_eq!(case.case.account_id, env.fx.acme.id);
    assert_eq!(case.case.requester_id, env.fx.ana.id);
    assert_eq!(case.case.team_id, env.fx.support.id, "routed to the customer-facing team");
    assert_eq!(case.account_name, "Acme");
    assert_eq!(env.kinds(case.case.id).await, ["case_created", "customer_message"]);
    let messages = env.store.case_messages(&env.ana, case.case.id).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].author_role.as_str(), "customer");
});

store_test!(an_agent_opens_a_case_for_a_contact_and_the_account_follows, async |db: &TestDb| {
    let env = env(db).await;
    let mut new = new_case("Phone: invoice wrong", "Customer called about invoice 42.");
    new.requester_id = Some(env.fx.bob.id);
    new.assignee_id = Some(env.fx.agent.id);
    new.priority = Some(Priority::High);
    new.tags = [Slug::parse("t", "billing").unwrap()].into();
    let (case, created) = env.store.create_case(&env.agent, new, t(5), None).await.unwrap();
    assert!(created);
    assert_eq!(case.case.account_id, env.fx.globex.id);
    assert_eq!(case.case.assignee_id, Some(env.fx.agent.id));
    assert_eq!(case.case.tags.len(), 1);
    assert_eq!(case.case.created_by, Some(env.fx.agent.id));
});

store_test!(cases_for_unknown_or_wrong_people_are_refused, async |db: &TestDb| {
    let env = env(db).await;
    let mut new = new_case("x", "y");
    assert_eq!(code(env.store.create_case(&env.agent, new.clone(), t(1), None).await.unwrap_err()), "required");
    new.requester_id = Some(env.fx.agent.id);
    assert_eq!(
        code(env.store.create_case(&env.agent, new.clone(), t(1), None).await.unwrap_err()),
        "invalid_requester"
    );
    new.requester_id = Some(env.fx.ana.id);
    new.account_id = Some(env.fx.globex.id);
    assert_eq!(code(env.store.create_case(&env.agent, new.clone(), t(1), None).await.unwrap_err()), "account_mismatch");
    new.account_id = None;
    new.assignee_id = Some(env.fx.it_agent.id);
    assert_eq!(code(env.store.create_case(&env.agent, new, t(1), None).await.unwrap_err()), "invalid_assignee");
    let mut as_ana = new_case("x", "y");
    as_ana.account_id = Some(env.fx.globex.id);
    assert_eq!(code(env.store.create_case(&env.ana, as_ana, t(1), None).await.unwrap_err()), "not_allowed");
    let none = env.store.list_cases(&env.admin, &Default::default(), Default::default(), None, 10).await.unwrap();
    assert!(none.cases.is_empty(), "nothing half-written");
});

store_test!(the_full_lifecycle_records_every_step, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Cannot log in", t(0)).await.case.id;
    let s = &env.store;
    // The first agent reply opens the case; an explicit status wins.
    let out = s.add_message(&env.agent, id, reply("Which browser?", true, Some(Status::Pending)), t(60)).await.unwrap();
    assert_eq!(out.case.case.status, Status::Pending);
    // The customer answers: back to open.
    let out = s.add_message(&env.ana, id, reply("Firefox", true, None), t(120)).await.unwrap();
    assert_eq!(out.case.case.status, Status::Open);
    s.add_message(&env.agent, id, reply("Customer seems legit", false, None), t(130)).await.unwrap();
    let solved = s.update_case(&env.agent, id, status(Status::Solved), t(180)).await.unwrap();
    assert_eq!(solved.case.solved_at, Some(t(180)));
    // A customer reply reopens a solved case.
    let out = s.add_message(&env.ana, id, reply("Still broken", true, None), t(240)).await.unwrap();
    assert_eq!(out.case.case.status, Status::Open);
    assert_eq!(out.case.case.solved_at, None);
    s.update_case(&env.agent, id, status(Status::Solved), t(300)).await.unwrap();
    s.update_case(&env.agent, id, status(Status::Closed), t(360)).await.unwrap();
    assert_eq!(
        env.kinds(id).await,
        [
            "case_created",
            "customer_message",
            "agent_reply",
            "status_changed",
            "customer_message",
            "status_changed",
            "internal_note",
            "status_changed",
            "customer_message",
            "status_changed",
            "status_changed",
            "status_changed",
        ]
    );
    let events = s.case_events(&env.admin, id).await.unwrap();
    let first_change = &events[3].event;
    assert_eq!(first_change.before.as_ref().unwrap(), "new");
    assert_eq!(first_change.after.as_ref().unwrap(), "pending");
    assert_eq!(first_change.actor, Some(env.fx.agent.id));
});

store_test!(a_closed_case_is_final_and_a_customer_message_opens_a_follow_up, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Order 7 late", t(0)).await.case.id;
    let s = &env.store;
    s.update_case(&env.agent, id, status(Status::Solved), t(10)).await.unwrap();
    s.update_case(&env.agent, id, status(Status::Closed), t(20)).await.unwrap();
    assert_eq!(code(s.update_case(&env.agent, id, status(Status::Open), t(30)).await.unwrap_err()), "case_closed");
    assert_eq!(code(s.add_message(&env.agent, id, reply("hi", true, None), t(30)).await.unwrap_err()), "case_closed");
    let out = s.add_message(&env.ana, id, reply("It is late again", true, None), t(40)).await.unwrap();
    assert!(out.follow_up);
    assert_ne!(out.case.case.id, id);
    assert_eq!(out.case.case.follow_up_of, Some(id));
    assert_eq!(out.case.case.status, Status::New);
    assert_eq!(out.message.body, "It is late again");
    let closed = s.get_case(&env.ana, id).await.unwrap();
    assert_eq!(closed.case.status, Status::Closed);
    assert_eq!(env.kinds(id).await.last().unwrap(), "follow_up_created");
});

store_test!(an_illegal_transition_is_refused_and_writes_nothing, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Refuse me", t(0)).await.case.id;
    let patch = CasePatch { priority: Some(Priority::Urgent), status: Some(Status::Closed), ..CasePatch::default() };
    let err = env.store.update_case(&env.agent, id, patch, t(5)).await.unwrap_err();
    assert_eq!(code(err), "illegal_transition");
    let case = env.store.get_case(&env.admin, id).await.unwrap();
    assert_eq!(case.case.priority, Priority::Normal, "the priority change was rolled back too");
    assert_eq!(env.kinds(id).await.len(), 2);
});

store_test!(customers_cannot_write_notes_or_set_status_and_cannot_see_notes, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Notes", t(0)).await.case.id;
    let s = &env.store;
    assert_eq!(code(s.add_message(&env.ana, id, reply("secret", false, None), t(1)).await.unwrap_err()), "not_allowed");
    assert_eq!(
        code(s.add_message(&env.ana, id, reply("x", true, Some(Status::Solved)), t(1)).await.unwrap_err()),
        "not_allowed"
    );
    assert_eq!(code(s.update_case(&env.ana, id, status(Status::Solved), t(1)).await.unwrap_err()), "forbidden");
    s.add_message(&env.agent, id, reply("internal only", false, None), t(2)).await.unwrap();
    let seen = s.case_messages(&env.ana, id).await.unwrap();
    assert!(seen.iter().all(|m| m.public));
    assert_eq!(seen.len(), 1);
    assert_eq!(s.case_messages(&env.agent, id).await.unwrap().len(), 2);
    let timeline = s.case_events(&env.ana, id).await.unwrap();
    assert!(timeline.iter().all(|e| e.event.kind.as_str() != "internal_note"));
});

store_test!(a_case_of_another_account_does_not_exist_for_a_contact, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Acme only", t(0)).await.case.id;
    let s = &env.store;
    assert_eq!(code(s.get_case(&env.bob, id).await.unwrap_err()), "not_found");
    assert_eq!(code(s.case_messages(&env.bob, id).await.unwrap_err()), "not_found");
    assert_eq!(code(s.add_message(&env.bob, id, reply("hi", true, None), t(1)).await.unwrap_err()), "not_found");
    assert_eq!(code(s.get_case(&env.it_agent, id).await.unwrap_err()), "not_found");
    assert_eq!(code(s.get_case(&env.bob, CaseId(999_999)).await.unwrap_err()), "not_found");
});

store_test!(a_retried_create_with_the_same_key_returns_the_first_case, async |db: &TestDb| {
    let env = env(db).await;
    let key = |fp: &str| Some(IdempotencyKey { key: "abc-123".into(), fingerprint: fp.into() });
    let s = &env.store;
    let (first, created) = s.create_case(&env.ana, new_case("Once", "only"), t(0), key("f1")).await.unwrap();
    assert!(created);
    let (again, created) = s.create_case(&env.ana, new_case("Once", "only"), t(5), key("f1")).await.unwrap();
    assert!(!created);
    assert_eq!(again.case.id, first.case.id);
    let err = s.create_case(&env.ana, new_case("Other", "body"), t(6), key("f2")).await.unwrap_err();
    assert_eq!(code(err), "idempotency_key_reused");
    // Keys belong to their user: Bob may use the same key string.
    let (bobs, created) = s.create_case(&env.bob, new_case("Bob", "b"), t(7), key("f1")).await.unwrap();
    assert!(created);
    assert_ne!(bobs.case.id, first.case.id);
});

store_test!(concurrent_retries_with_one_key_create_one_case, async |db: &TestDb| {
    let env = env(db).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (s, ana) = (env.store.clone(), env.ana.clone());
            tokio::spawn(async move {
                let key = Some(IdempotencyKey { key: "race".into(), fingerprint: "same".into() });
                s.create_case(&ana, new_case("Race", "one"), t(1), key).await.unwrap().0.case.id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
});

store_test!(concurrent_replies_on_one_case_are_all_kept, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Busy case", t(0)).await.case.id;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (s, agent) = (env.store.clone(), env.agent.clone());
            tokio::spawn(async move {
                s.add_message(&agent, id, reply(&format!("reply {i}"), true, None), t(10 + i)).await.unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(env.store.case_messages(&env.agent, id).await.unwrap().len(), 21);
    let kinds = env.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "agent_reply").count(), 20);
    assert_eq!(kinds.iter().filter(|k| *k == "status_changed").count(), 1, "only the first reply opens the case");
});

store_test!(moving_a_case_to_another_team_drops_an_assignee_who_is_not_on_it, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Route me", t(0)).await.case.id;
    let s = &env.store;
    let assigned = CasePatch { assignee_id: Some(Some(env.fx.agent.id)), ..CasePatch::default() };
    s.update_case(&env.agent, id, assigned, t(1)).await.unwrap();
    let sys = kept_core::permissions::Principal::system();
    let billing = s
        .create_team(
            &sys,
            kept_store::NewTeam { name: kept_core::values::Name::parse("n", "Billing").unwrap(), internal: false },
            t(2),
        )
        .await
        .unwrap();
    let moved = s
        .update_case(&env.admin, id, CasePatch { team_id: Some(billing.id), ..CasePatch::default() }, t(3))
        .await
        .unwrap();
    assert_eq!(moved.case.team_id, billing.id);
    assert_eq!(moved.case.assignee_id, None);
    let to_internal = CasePatch { team_id: Some(env.fx.it.id), ..CasePatch::default() };
    assert_eq!(code(s.update_case(&env.admin, id, to_internal, t(4)).await.unwrap_err()), "internal_team");
    let bad = CasePatch { assignee_id: Some(Some(UserId(424_242))), ..CasePatch::default() };
    assert_eq!(code(s.update_case(&env.admin, id, bad, t(5)).await.unwrap_err()), "invalid_assignee");
});
