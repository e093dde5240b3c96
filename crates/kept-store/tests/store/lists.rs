use super::common::*;
use kept_core::cases::{CasePatch, Priority, Status};
use kept_core::values::{MessageBody, Slug};
use kept_store::test_support::TestDb;
use kept_store::{AssigneeFilter, CaseFilter, CaseSort, Cursor, NewMessage, store_test};
use std::collections::BTreeSet;

store_test!(cursor_pages_walk_every_case_once_in_order, async |db: &TestDb| {
    let env = env(db).await;
    for i in 0..25 {
        env.open_as(if i % 2 == 0 { &env.ana } else { &env.bob }, &format!("Case {i}"), t(i * 60)).await;
    }
    for sort in ["-created_at", "created_at", "-priority", "updated_at"] {
        let sort = CaseSort::parse(sort).unwrap();
        let (mut seen, mut cursor, mut pages) = (Vec::new(), None, 0);
        loop {
            let page = env.store.list_cases(&env.admin, &CaseFilter::default(), sort, cursor, 10).await.unwrap();
            pages += 1;
            seen.extend(page.cases.iter().map(|c| (c.case.created_at, c.case.id)));
            match page.next_cursor {
                Some(next) => cursor = Some(Cursor::decode(&next, sort).unwrap()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen.len(), 25);
        let unique: BTreeSet<_> = seen.iter().map(|(_, id)| *id).collect();
        assert_eq!(unique.len(), 25, "no case twice");
        if sort.as_param() == "-created_at" {
            assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");
        }
    }
});

store_test!(lists_show_each_person_only_what_they_may_see, async |db: &TestDb| {
    let env = env(db).await;
    env.open_as(&env.ana, "Acme 1", t(0)).await;
    env.open_as(&env.ana, "Acme 2", t(1)).await;
    let globex = env.open_as(&env.bob, "Globex 1", t(2)).await.case.id;
    env.store
        .open_internal_request(
            &env.agent,
            globex,
            kept_store::NewInternalRequest {
                team_id: env.fx.it.id,
                subject: kept_core::values::Subject::parse("s", "Internal").unwrap(),
                body: MessageBody::parse("b", "please").unwrap(),
                priority: None,
            },
            t(3),
        )
        .await
        .unwrap();
    let count = async |who| {
        env.store.list_cases(who, &CaseFilter::default(), CaseSort::default(), None, 50).await.unwrap().cases.len()
    };
    assert_eq!(count(&env.admin).await, 4);
    assert_eq!(count(&env.agent).await, 4, "support sees its cases and the request it raised");
    assert_eq!(count(&env.it_agent).await, 1, "IT sees only the request it serves");
    assert_eq!(count(&env.ana).await, 2);
    assert_eq!(count(&env.bob).await, 1, "never the internal request about Globex");
    let loner = kept_core::permissions::Principal::staff(env.fx.admin.id, kept_core::people::Role::Agent, vec![]);
    assert_eq!(count(&loner).await, 0);
});

store_test!(filters_narrow_the_list, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let a = env.open_as(&env.ana, "First", t(0)).await.case.id;
    let b = env.open_as(&env.bob, "Second", t(100)).await.case.id;
    env.open_as(&env.bob, "Third", t(200)).await;
    let patch = CasePatch {
        priority: Some(Priority::Urgent),
        assignee_id: Some(Some(env.fx.agent.id)),
        tags: Some([Slug::parse("t", "vip").unwrap()].into()),
        status: Some(Status::Pending),
        ..CasePatch::default()
    };
    s.update_case(&env.agent, a, patch, t(300)).await.unwrap();
    let ids = async |f: CaseFilter| -> Vec<i64> {
        let page = s.list_cases(&env.admin, &f, CaseSort::default(), None, 50).await.unwrap();
        page.cases.iter().map(|c| c.case.id.0).collect()
    };
    assert_eq!(ids(CaseFilter { statuses: vec![Status::Pending], ..Default::default() }).await, [a.0]);
    assert_eq!(ids(CaseFilter { priorities: vec![Priority::Urgent], ..Default::default() }).await, [a.0]);
    assert_eq!(ids(CaseFilter { tag: Some(Slug::parse("t", "vip").unwrap()), ..Default::default() }).await, [a.0]);
    assert_eq!(
        ids(CaseFilter { assignee: Some(AssigneeFilter::User(env.fx.agent.id)), ..Default::default() }).await,
        [a.0]
    );
    assert_eq!(ids(CaseFilter { assignee: Some(AssigneeFilter::Unassigned), ..Default::default() }).await.len(), 2);
    assert_eq!(ids(CaseFilter { account_id: Some(env.fx.globex.id), ..Default::default() }).await.len(), 2);
    let window = CaseFilter { created_after: Some(t(50)), created_before: Some(t(150)), ..Default::default() };
    assert_eq!(ids(window).await, [b.0]);
});

store_test!(search_finds_words_in_subjects_and_messages_within_permissions, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let acme = env.open_as(&env.ana, "Printer is jammed", t(0)).await.case.id;
    let globex = env.open_as(&env.bob, "Invoice question", t(1)).await.case.id;
    let note =
        NewMessage { body: MessageBody::parse("b", "suspect sabotage by toner").unwrap(), public: false, status: None };
    s.add_message(&env.agent, acme, note, t(2)).await.unwrap();
    let reply =
        NewMessage { body: MessageBody::parse("b", "The printer also smokes").unwrap(), public: true, status: None };
    s.add_message(&env.agent, globex, reply, t(3)).await.unwrap();
    let ids = async |who, q: &str| -> Vec<i64> {
        s.search_cases(who, q, 20).await.unwrap().iter().map(|c| c.case.id.0).collect()
    };
    assert_eq!(ids(&env.agent, "printer").await, [globex.0, acme.0]);
    assert_eq!(ids(&env.agent, "PRINTER jammed").await, [acme.0], "every word must match");
    assert_eq!(ids(&env.agent, "toner").await, [acme.0], "staff search internal notes");
    assert!(ids(&env.ana, "toner").await.is_empty(), "customers never search notes");
    assert_eq!(ids(&env.ana, "printer").await, [acme.0], "customers see only their account");
    assert!(ids(&env.it_agent, "printer").await.is_empty());
    assert_eq!(ids(&env.agent, "\"printer*\" ( ^").await, [globex.0, acme.0], "operators are only separators");
    let renamed = CasePatch {
        subject: Some(kept_core::values::Subject::parse("s", "Scanner trouble").unwrap()),
        ..Default::default()
    };
    s.update_case(&env.agent, acme, renamed, t(4)).await.unwrap();
    assert_eq!(ids(&env.agent, "scanner").await, [acme.0]);
    assert_eq!(ids(&env.agent, "jammed").await, Vec::<i64>::new(), "the old subject is gone from the index");
    assert_eq!(code(s.search_cases(&env.agent, "  ", 20).await.unwrap_err()), "required");
});

// A team member's queue by last update is read team by team and status by
// status; every page must still be the one a single sorted read gives.
store_test!(a_team_members_queue_by_update_pages_like_one_sorted_read, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let mut ids = Vec::new();
    for i in 0..9 {
        ids.push(
            env.open_as(if i % 2 == 0 { &env.ana } else { &env.bob }, &format!("Case {i}"), t(i * 60)).await.case.id,
        );
    }
    for (n, id) in ids.iter().enumerate() {
        let status = [Status::Open, Status::Pending, Status::Solved][n % 3];
        let patch = CasePatch { status: Some(status), ..CasePatch::default() };
        s.update_case(&env.agent, *id, patch, t(10_000 - n as i64 * 7)).await.unwrap();
    }
    for (n, parent) in ids.iter().take(2).enumerate() {
        let request = kept_store::NewInternalRequest {
            team_id: env.fx.it.id,
            subject: kept_core::values::Subject::parse("s", &format!("Internal {n}")).unwrap(),
            body: MessageBody::parse("b", "please").unwrap(),
            priority: None,
        };
        s.open_internal_request(&env.agent, *parent, request, t(20_000 + n as i64)).await.unwrap();
    }
    let mut both = env.agent.clone();
    both.team_ids = vec![env.fx.support.id, env.fx.it.id];
    let filters = [
        CaseFilter::default(),
        CaseFilter { statuses: vec![Status::Open, Status::New], ..CaseFilter::default() },
        CaseFilter { team_id: Some(env.fx.support.id), ..CaseFilter::default() },
        CaseFilter { team_id: Some(env.fx.it.id), statuses: vec![Status::New], ..CaseFilter::default() },
    ];
    let mut compared = 0;
    for who in [&env.agent, &env.it_agent, &both, &env.manager] {
        for filter in &filters {
            for sort in ["-updated_at", "updated_at"] {
                let sort = CaseSort::parse(sort).unwrap();
                let all = s.list_cases(&env.admin, filter, sort, None, 200).await.unwrap().cases;
                let expected: Vec<_> = all
                    .iter()
                    .filter(|c| who.can_see_case(kept_core::permissions::CaseScope::from(&c.case)))
                    .map(|c| c.case.id)
                    .collect();
                let (mut seen, mut cursor) = (Vec::new(), None);
                loop {
                    let page = s.list_cases(who, filter, sort, cursor, 2).await.unwrap();
                    assert!(page.cases.len() <= 2);
                    seen.extend(page.cases.iter().map(|c| c.case.id));
                    match page.next_cursor {
                        Some(next) => cursor = Some(Cursor::decode(&next, sort).unwrap()),
                        None => break,
                    }
                }
                assert_eq!(seen, expected, "{:?} {filter:?} {}", who.team_ids, sort.as_param());
                compared += expected.len();
            }
        }
    }
    assert!(compared > 40, "the queues held cases to compare ({compared})");
});
