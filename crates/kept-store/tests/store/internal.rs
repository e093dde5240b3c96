use super::common::*;
use kept_core::cases::{CasePatch, Channel, Status};
use kept_core::values::{MessageBody, Subject};
use kept_store::test_support::TestDb;
use kept_store::{NewInternalRequest, NewMessage, store_test};

fn request(env: &Env) -> NewInternalRequest {
    NewInternalRequest {
        team_id: env.fx.it.id,
        subject: Subject::parse("s", "Reset the customer's SSO").unwrap(),
        body: MessageBody::parse("b", "Ana cannot log in; please reset SSO.").unwrap(),
        priority: None,
    }
}

store_test!(a_team_raises_an_internal_request_that_both_teams_see_but_customers_never, async |db: &TestDb| {
    let env = env(db).await;
    let parent = env.open_as(&env.ana, "Cannot log in", t(0)).await.case.id;
    let s = &env.store;
    let child = s.open_internal_request(&env.agent, parent, request(&env), t(10)).await.unwrap();
    assert_eq!(child.case.parent_case_id, Some(parent));
    assert_eq!(child.case.requesting_team_id, Some(env.fx.support.id));
    assert_eq!(child.case.team_id, env.fx.it.id);
    assert_eq!(child.case.channel, Channel::Internal);
    assert_eq!(child.case.account_id, env.fx.acme.id, "the chain to the end customer stays visible");
    let id = child.case.id;
    assert!(s.get_case(&env.agent, id).await.is_ok(), "the requesting team follows its request");
    assert!(s.get_case(&env.it_agent, id).await.is_ok());
    assert_eq!(code(s.get_case(&env.ana, id).await.unwrap_err()), "not_found");
    let first = &s.case_messages(&env.it_agent, id).await.unwrap()[0];
    assert_eq!(first.author_role.as_str(), "customer", "the requesting team is the customer here");
    // The requesting team may write, as the customer, but not work the case.
    let note = NewMessage { body: MessageBody::parse("b", "Any news?").unwrap(), public: true, status: None };
    let out = s.add_message(&env.agent, id, note, t(20)).await.unwrap();
    assert_eq!(out.message.author_role.as_str(), "customer");
    let solve = CasePatch { status: Some(Status::Solved), ..CasePatch::default() };
    assert_eq!(code(s.update_case(&env.agent, id, solve.clone(), t(30)).await.unwrap_err()), "forbidden");
    s.update_case(&env.it_agent, id, solve, t(40)).await.unwrap();
    let parent_events = env.kinds(parent).await;
    assert!(
        parent_events.ends_with(&["internal_request_opened".to_owned(), "internal_request_solved".to_owned()]),
        "{parent_events:?}"
    );
    let contact_view = s.case_events(&env.ana, parent).await.unwrap();
    assert!(contact_view.iter().all(|e| !e.event.kind.as_str().starts_with("internal_request")));
    // The parent's own change then counts the time it waited on the other team.
    let done = CasePatch { status: Some(Status::Solved), ..CasePatch::default() };
    s.update_case(&env.agent, parent, done, t(50)).await.unwrap();
    assert_rollups_match_a_rebuild(s).await;
});

store_test!(only_the_working_team_raises_requests_and_never_to_itself, async |db: &TestDb| {
    let env = env(db).await;
    let parent = env.open_as(&env.ana, "Help", t(0)).await.case.id;
    let s = &env.store;
    assert_eq!(
        code(s.open_internal_request(&env.it_agent, parent, request(&env), t(1)).await.unwrap_err()),
        "not_found"
    );
    assert_eq!(code(s.open_internal_request(&env.ana, parent, request(&env), t(1)).await.unwrap_err()), "forbidden");
    let mut to_self = request(&env);
    to_self.team_id = env.fx.support.id;
    assert_eq!(code(s.open_internal_request(&env.agent, parent, to_self, t(1)).await.unwrap_err()), "same_team");
});
