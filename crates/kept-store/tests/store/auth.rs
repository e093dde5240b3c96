use super::common::*;
use kept_core::people::Role;
use kept_core::values::{Email, EmailDomain, Name, Slug};
use kept_store::test_support::TestDb;
use kept_store::{AccountPatch, NewAccount, NewUser, UserPatch, store_test};

store_test!(a_token_works_until_revoked_or_its_owner_deactivated, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let token = s.create_api_token(&env.agent, env.fx.agent.id, "laptop", "hash-1", "kept_ab", t(0)).await.unwrap();
    let (user, principal) = s.token_user("hash-1", t(1)).await.unwrap().unwrap();
    assert_eq!(user.id, env.fx.agent.id);
    assert_eq!(principal.team_ids, [env.fx.support.id]);
    assert!(s.token_user("hash-2", t(1)).await.unwrap().is_none());
    assert_eq!(s.list_api_tokens(&env.agent, env.fx.agent.id).await.unwrap()[0].last_used_at, Some(t(1)));
    // Someone else's token is not theirs to revoke.
    assert_eq!(code(s.revoke_api_token(&env.manager, token.id, t(2)).await.unwrap_err()), "not_found");
    s.revoke_api_token(&env.agent, token.id, t(2)).await.unwrap();
    assert!(s.token_user("hash-1", t(3)).await.unwrap().is_none());
    s.create_api_token(&env.agent, env.fx.agent.id, "desk", "hash-3", "kept_cd", t(4)).await.unwrap();
    s.update_user(&env.admin, env.fx.agent.id, UserPatch { active: Some(false), ..Default::default() }, t(5))
        .await
        .unwrap();
    assert!(s.token_user("hash-3", t(6)).await.unwrap().is_none(), "deactivation revokes access at once");
    assert_eq!(
        code(s.create_api_token(&env.agent, env.fx.manager.id, "x", "h", "p", t(7)).await.unwrap_err()),
        "forbidden"
    );
});

store_test!(sessions_expire_and_end_at_logout, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    s.create_session(env.fx.ana.id, "sess-1", "csrf-1", t(0), t(100)).await.unwrap();
    let live = s.session("sess-1", t(50)).await.unwrap().unwrap();
    assert_eq!(live.csrf_token, "csrf-1");
    assert_eq!(live.principal.account_id, Some(env.fx.acme.id));
    assert!(s.session("sess-1", t(100)).await.unwrap().is_none(), "expired at expires_at");
    s.create_session(env.fx.ana.id, "sess-2", "csrf-2", t(0), t(100)).await.unwrap();
    s.delete_session("sess-2").await.unwrap();
    assert!(s.session("sess-2", t(1)).await.unwrap().is_none());
});

store_test!(unique_names_and_emails_are_reported_by_field, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let dup = NewUser {
        email: Email::parse("e", "ANA@acme.test").unwrap(),
        name: Name::parse("n", "Other Ana").unwrap(),
        role: Role::Contact,
        account_id: Some(env.fx.acme.id),
        password_hash: None,
    };
    assert_eq!(code(s.create_user(&env.admin, dup, t(1)).await.unwrap_err()), "email_taken");
    let account = |name: &str, domain: &str| NewAccount {
        name: Name::parse("n", name).unwrap(),
        tier: Slug::parse("t", "standard").unwrap(),
        domains: vec![EmailDomain::parse("d", domain).unwrap()],
    };
    assert_eq!(code(s.create_account(&env.admin, account("ACME", "new.test"), t(1)).await.unwrap_err()), "name_taken");
    assert_eq!(
        code(s.create_account(&env.admin, account("Initech", "acme.test"), t(1)).await.unwrap_err()),
        "domain_taken"
    );
    assert_eq!(
        s.account_for_domain(&EmailDomain::parse("d", "acme.test").unwrap()).await.unwrap(),
        Some(env.fx.acme.id)
    );
    let patch =
        AccountPatch { domains: Some(vec![EmailDomain::parse("d", "acme.example").unwrap()]), ..Default::default() };
    let acme = s.update_account(&env.manager, env.fx.acme.id, patch, t(2)).await.unwrap();
    assert_eq!(acme.domains.len(), 1);
    assert_eq!(s.account_for_domain(&EmailDomain::parse("d", "acme.test").unwrap()).await.unwrap(), None);
});

store_test!(roles_decide_who_manages_people_and_teams, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let staff = NewUser {
        email: Email::parse("e", "new@kept.test").unwrap(),
        name: Name::parse("n", "New Agent").unwrap(),
        role: Role::Agent,
        account_id: None,
        password_hash: None,
    };
    assert_eq!(code(s.create_user(&env.manager, staff.clone(), t(1)).await.unwrap_err()), "forbidden");
    assert_eq!(code(s.create_user(&env.ana, staff.clone(), t(1)).await.unwrap_err()), "not_found");
    let new = s.create_user(&env.admin, staff, t(1)).await.unwrap();
    // A manager staffs their own team, not another.
    s.add_team_member(&env.manager, env.fx.support.id, new.id, t(2)).await.unwrap();
    assert_eq!(code(s.add_team_member(&env.manager, env.fx.it.id, new.id, t(2)).await.unwrap_err()), "forbidden");
    assert_eq!(code(s.add_team_member(&env.admin, env.fx.it.id, env.fx.ana.id, t(2)).await.unwrap_err()), "not_staff");
    let members = s.team_members(&env.manager, env.fx.support.id).await.unwrap();
    assert_eq!(members.len(), 3);
    // Agents may create contacts but not give them a staff role.
    let contact = NewUser {
        email: Email::parse("e", "cleo@acme.test").unwrap(),
        name: Name::parse("n", "Cleo").unwrap(),
        role: Role::Contact,
        account_id: Some(env.fx.acme.id),
        password_hash: None,
    };
    let cleo = s.create_user(&env.agent, contact, t(3)).await.unwrap();
    let promote = UserPatch { role: Some(Role::Admin), ..Default::default() };
    assert_eq!(code(s.update_user(&env.agent, cleo.id, promote, t(4)).await.unwrap_err()), "forbidden");
    let no_account = UserPatch { role: Some(Role::Agent), ..Default::default() };
    let promoted = s.update_user(&env.admin, cleo.id, no_account, t(5)).await.unwrap();
    assert_eq!(promoted.account_id, None, "staff lose their customer account");
});
