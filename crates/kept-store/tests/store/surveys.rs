use super::common::*;
use jiff::{SignedDuration, Timestamp};
use kept_core::cases::{CasePatch, Status};
use kept_core::ids::CaseId;
use kept_core::permissions::Principal;
use kept_core::promises::ClockKind;
use kept_core::surveys::{SurveyKind, SurveySpec, sample_bucket};
use kept_store::test_support::TestDb;
use kept_store::{ResponseFilter, Store, SurveyAnswer, SurveySettings, store_test};

const BASE: &str = "https://kept.example";

fn spec(kind: SurveyKind, delay: i64, sample: i64) -> SurveySpec {
    SurveySpec {
        kind,
        name: format!("{} survey", kind.label()),
        question: kind.default_question().into(),
        comment_prompt: Some("Tell us more".into()),
        reasons: vec!["Too slow".into(), "Not solved".into()],
        delay_minutes: delay,
        sample_percent: sample,
        every_days: (kind == SurveyKind::Nps).then_some(90),
        active: true,
    }
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// A case Ana opened, assigned to the agent and solved at `at`.
async fn solved_case(env: &Env, subject: &str, at: Timestamp) -> CaseId {
    let id = env.open_as(&env.ana, subject, at - mins(10)).await.case.id;
    let patch =
        CasePatch { status: Some(Status::Solved), assignee_id: Some(Some(env.fx.agent.id)), ..Default::default() };
    env.store.update_case(&env.agent, id, patch, at).await.unwrap();
    id
}

fn answer(score: i64, comment: Option<&str>, reasons: &[&str]) -> SurveyAnswer {
    SurveyAnswer {
        score,
        comment: comment.map(str::to_owned),
        reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
    }
}

async fn quick_settings(store: &Store, change: SurveySettings) {
    store.set_survey_settings(&Principal::system(), change, t(0)).await.unwrap();
}

fn no_fatigue() -> SurveySettings {
    SurveySettings { fatigue_days: 0, followup_business: false, followup_minutes: 60, ..Default::default() }
}

store_test!(a_solved_case_is_surveyed_after_the_delay_with_its_attribution, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let def = s.create_survey_definition(&env.admin, spec(SurveyKind::Csat, 60, 100), t(0)).await.unwrap();
    let case = solved_case(&env, "Printer", t(100)).await;
    let invites = s.case_surveys(&env.agent, case).await.unwrap();
    assert_eq!(invites.len(), 1);
    let i = &invites[0];
    assert_eq!((i.status.as_str(), i.definition_id, i.send_at), ("scheduled", def.id, t(100) + mins(60)));
    assert_eq!((i.agent_id, i.team_id), (Some(env.fx.agent.id.0), Some(env.fx.support.id.0)));

    // Not yet due.
    let tick = s.survey_tick(t(100) + mins(59), BASE).await.unwrap();
    assert!(tick.sent.is_empty());
    let tick = s.survey_tick(t(100) + mins(60), BASE).await.unwrap();
    assert_eq!(tick.sent.len(), 1);
    let token = &tick.sent[0].1;
    assert!(token.len() >= 32, "at least 128 bits");
    // The case's other mail (acknowledgement, replies) is not the survey's.
    let mail: Vec<_> = s.outbox(Some(case.0), 10).await.unwrap().into_iter().filter(|m| m.kind == "survey").collect();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].mail.to_email, env.fx.ana.email.as_str());
    for n in 1..=5 {
        assert!(mail[0].mail.text.contains(&format!("{BASE}/s/{token}?score={n}")), "{}", mail[0].mail.text);
    }
    // Only the hash is stored.
    assert!(s.case_surveys(&env.agent, case).await.unwrap()[0].status == "sent");

    // Reopening and solving again does not survey twice.
    let reopen = CasePatch { status: Some(Status::Open), ..Default::default() };
    s.update_case(&env.agent, case, reopen, t(100) + mins(70)).await.unwrap();
    let solve = CasePatch { status: Some(Status::Solved), ..Default::default() };
    s.update_case(&env.agent, case, solve, t(100) + mins(80)).await.unwrap();
    assert_eq!(s.case_surveys(&env.agent, case).await.unwrap().len(), 1);

    // The response copies the attribution, even after reassignment.
    let unassign = CasePatch { assignee_id: Some(None), ..Default::default() };
    s.update_case(&env.agent, case, unassign, t(100) + mins(85)).await.unwrap();
    s.answer_survey(token, answer(5, Some("Lovely"), &[]), t(100) + mins(90)).await.unwrap();
    let r = &s.survey_responses(&env.admin, ResponseFilter::default()).await.unwrap()[0];
    assert_eq!((r.agent_id, r.team_id, r.case_id), (Some(env.fx.agent.id.0), Some(env.fx.support.id.0), Some(case.0)));
    assert_eq!((r.channel.as_deref(), r.case_type.as_deref()), (Some("web"), Some("question")));
    assert_eq!(r.account_tier, env.fx.acme.tier.as_str());
    assert!(!r.dissatisfied);
});

store_test!(internal_requests_and_inactive_definitions_are_not_surveyed, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let mut inactive = spec(SurveyKind::Csat, 0, 100);
    inactive.active = false;
    s.create_survey_definition(&env.admin, inactive, t(0)).await.unwrap();
    let case = solved_case(&env, "Printer", t(100)).await;
    assert!(s.case_surveys(&env.agent, case).await.unwrap().is_empty());
    // NPS definitions are not transactional either.
    s.create_survey_definition(&env.admin, spec(SurveyKind::Nps, 0, 100), t(0)).await.unwrap();
    let case = solved_case(&env, "Scanner", t(200)).await;
    assert!(s.case_surveys(&env.agent, case).await.unwrap().is_empty());
});

store_test!(the_sample_share_decides_deterministically, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, no_fatigue()).await;
    let def = s.create_survey_definition(&env.admin, spec(SurveyKind::Ces, 0, 50), t(0)).await.unwrap();
    let mut cases = Vec::new();
    for i in 0..8 {
        cases.push(solved_case(&env, &format!("Case {i}"), t(100 + i)).await);
    }
    let tick = s.survey_tick(t(1000), BASE).await.unwrap();
    let expected_in = cases.iter().filter(|c| sample_bucket(c.0, def.id) < 50).count();
    assert_eq!(tick.sent.len(), expected_in);
    assert_eq!(tick.skipped_sample, cases.len() - expected_in);
    for c in &cases {
        let status = s.case_surveys(&env.agent, *c).await.unwrap()[0].status.clone();
        let want = if sample_bucket(c.0, def.id) < 50 { "sent" } else { "skipped_sample" };
        assert_eq!(status, want, "case {c}");
    }
});

store_test!(fatigue_keeps_a_contact_from_a_second_survey_within_n_days, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, SurveySettings { fatigue_days: 7, ..Default::default() }).await;
    s.create_survey_definition(&env.admin, spec(SurveyKind::Csat, 0, 100), t(0)).await.unwrap();
    let first = solved_case(&env, "One", t(100)).await;
    assert_eq!(s.survey_tick(t(100), BASE).await.unwrap().sent.len(), 1);
    let day = SignedDuration::from_hours(24);
    let second = solved_case(&env, "Two", t(100) + day * 3).await;
    let tick = s.survey_tick(t(100) + day * 3, BASE).await.unwrap();
    assert_eq!((tick.sent.len(), tick.skipped_fatigue), (0, 1));
    assert_eq!(s.case_surveys(&env.agent, second).await.unwrap()[0].status, "skipped_fatigue");
    let third = solved_case(&env, "Three", t(100) + day * 7).await;
    assert_eq!(s.survey_tick(t(100) + day * 7, BASE).await.unwrap().sent.len(), 1);
    assert_eq!(s.case_surveys(&env.agent, third).await.unwrap()[0].status, "sent");
    assert_eq!(s.case_surveys(&env.agent, first).await.unwrap()[0].status, "sent");
    assert_eq!(s.survey_tick(t(100) + day * 14, BASE).await.unwrap().expired, 1, "14 days by default");
    assert_eq!(s.case_surveys(&env.agent, first).await.unwrap()[0].status, "expired");
});

store_test!(invitations_expire_and_are_answered_once_then_changed_within_the_window, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, SurveySettings { change_window_minutes: 30, expiry_days: 2, ..no_fatigue() }).await;
    s.create_survey_definition(&env.admin, spec(SurveyKind::Csat, 0, 100), t(0)).await.unwrap();
    solved_case(&env, "One", t(100)).await;
    solved_case(&env, "Two", t(101)).await;
    let tick = s.survey_tick(t(200), BASE).await.unwrap();
    let (a, b) = (tick.sent[0].1.clone(), tick.sent[1].1.clone());

    // Unknown tokens are not found; scores off the scale are refused.
    assert_eq!(code(s.answer_survey("forged", answer(5, None, &[]), t(300)).await.unwrap_err()), "not_found");
    assert_eq!(code(s.public_survey("forged", t(300)).await.unwrap_err()), "not_found");
    assert_eq!(code(s.answer_survey(&a, answer(6, None, &[]), t(300)).await.unwrap_err()), "out_of_range");
    assert_eq!(code(s.answer_survey(&a, answer(4, None, &["Rude"]), t(300)).await.unwrap_err()), "invalid_value");

    // Looking does not answer.
    let page = s.public_survey(&a, t(300)).await.unwrap();
    assert_eq!((page.kind, page.answer.clone(), page.state), (SurveyKind::Csat, None, kept_store::PublicState::Open));
    assert!(s.survey_responses(&env.admin, ResponseFilter::default()).await.unwrap().is_empty());

    let first = s.answer_survey(&a, answer(4, Some("Fine"), &[]), t(300)).await.unwrap();
    assert!(!first.changed);
    let changed = s.answer_survey(&a, answer(3, Some("Meh"), &["Too slow"]), t(300) + mins(29)).await.unwrap();
    assert!(changed.changed);
    assert_eq!(changed.response_id, first.response_id);
    let page = s.public_survey(&a, t(300) + mins(29)).await.unwrap();
    assert_eq!(page.answer.map(|x| x.score), Some(3));
    let all = s.survey_responses(&env.admin, ResponseFilter::default()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].score, all[0].reasons.clone()), (3, vec!["Too slow".to_owned()]));
    assert!(all[0].changed_at.is_some());
    let late = s.answer_survey(&a, answer(5, None, &[]), t(300) + mins(30)).await.unwrap_err();
    assert_eq!(code(late), "already_answered");
    assert_eq!(code(s.public_survey(&a, t(300) + mins(31)).await.unwrap_err()), "already_answered");

    // The other invitation expires after two days.
    let two_days = t(200) + SignedDuration::from_hours(48);
    assert_eq!(code(s.answer_survey(&b, answer(5, None, &[]), two_days).await.unwrap_err()), "expired");
    assert_eq!(code(s.public_survey(&b, two_days).await.unwrap_err()), "expired");
});

store_test!(a_dissatisfied_answer_opens_a_follow_up_with_its_promise_and_can_be_resurveyed, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, SurveySettings { followup_owner: "agent".into(), ..no_fatigue() }).await;
    s.create_survey_definition(&env.admin, spec(SurveyKind::Csat, 0, 100), t(0)).await.unwrap();
    let case = solved_case(&env, "Broken", t(100)).await;
    let token = s.survey_tick(t(100), BASE).await.unwrap().sent[0].1.clone();
    let at = t(200);
    let out = s.answer_survey(&token, answer(2, Some("Still broken"), &["Not solved"]), at).await.unwrap();
    let task_id = out.recovery_task_id.expect("a follow-up");
    let tasks = s.case_recovery_tasks(&env.agent, case).await.unwrap();
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!((task.id, task.owner_id, task.response_id), (task_id, Some(env.fx.agent.id.0), Some(out.response_id)));
    assert_eq!(task.due_at, at + mins(60));
    assert!(task.reason.contains("CSAT 2"), "{}", task.reason);
    // Its promise runs on the existing clock machinery.
    let clocks = s.case_promises(&env.admin, case, at + mins(61), &jiff::tz::TimeZone::UTC).await.unwrap();
    let recovery = clocks.iter().find(|p| p.clock.kind == ClockKind::Recovery).expect("a recovery clock");
    assert_eq!(recovery.clock.breach_at, Some(at + mins(60)));
    let r = &s.survey_responses(&env.admin, ResponseFilter::default()).await.unwrap()[0];
    assert_eq!((r.dissatisfied, r.recovery_task_id), (true, Some(task_id)));

    // Changing the answer within the window opens no second task.
    let again = s.answer_survey(&token, answer(1, None, &[]), at + mins(5)).await.unwrap();
    assert_eq!(again.recovery_task_id, Some(task_id));
    assert_eq!(s.case_recovery_tasks(&env.agent, case).await.unwrap().len(), 1);

    // Recovered: a fresh invitation bypasses fatigue and sampling.
    quick_settings(s, SurveySettings { fatigue_days: 30, ..no_fatigue() }).await;
    s.close_recovery_task(&env.agent, task_id, true, "Called, fixed", at + mins(20)).await.unwrap();
    assert_eq!(code(s.resurvey(&env.it_agent, task_id, at + mins(21)).await.unwrap_err()), "not_found");
    assert_eq!(code(s.resurvey(&env.ana, task_id, at + mins(21)).await.unwrap_err()), "not_found");
    s.resurvey(&env.agent, task_id, at + mins(21)).await.unwrap();
    assert_eq!(code(s.resurvey(&env.agent, task_id, at + mins(22)).await.unwrap_err()), "already_resurveyed");
    let tick = s.survey_tick(at + mins(22), BASE).await.unwrap();
    assert_eq!(tick.sent.len(), 1);
    let fresh = &tick.sent[0].1;
    let out = s.answer_survey(fresh, answer(5, Some("Thanks for calling"), &[]), at + mins(30)).await.unwrap();
    assert_eq!(out.recovery_task_id, None);
    let invites = s.case_surveys(&env.agent, case).await.unwrap();
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[1].resurvey_task_id, Some(task_id));
});

store_test!(a_dissatisfied_answer_joins_an_open_breach_recovery_task, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, no_fatigue()).await;
    let sys = Principal::system();
    let policy = serde_json::from_value(serde_json::json!({"name": "Everyone",
        "targets": [{"clock": "first_response", "minutes": 10, "time": "calendar"}],
        "recovery": {"minutes": 600, "time": "calendar"}}))
    .unwrap();
    s.create_policy(&sys, policy, t(0)).await.unwrap();
    s.create_survey_definition(&env.admin, spec(SurveyKind::Ces, 0, 100), t(0)).await.unwrap();
    let case = env.open_as(&env.ana, "Slow", t(0)).await.case.id;
    let later = t(0) + mins(11);
    let jobs = s.claim_jobs("w", later, SignedDuration::from_secs(30), 100).await.unwrap();
    s.run_jobs(&jobs, "w", later).await.unwrap();
    let breach_task = s.case_recovery_tasks(&env.agent, case).await.unwrap()[0].id;
    let solve = CasePatch { status: Some(Status::Solved), ..Default::default() };
    s.update_case(&env.agent, case, solve, later + mins(1)).await.unwrap();
    let token = s.survey_tick(later + mins(2), BASE).await.unwrap().sent[0].1.clone();
    let out = s.answer_survey(&token, answer(3, None, &[]), later + mins(3)).await.unwrap();
    assert_eq!(out.recovery_task_id, Some(breach_task));
    let tasks = s.case_recovery_tasks(&env.agent, case).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].response_id, Some(out.response_id));
    // Closing the task, then a change to the case: each counts the answer,
    // the delivery and the closed recovery as the rebuild does.
    s.close_recovery_task(&env.agent, breach_task, true, "Called back", later + mins(4)).await.unwrap();
    let reopen = CasePatch { status: Some(Status::Open), ..Default::default() };
    s.update_case(&env.agent, case, reopen, later + mins(5)).await.unwrap();
    assert_rollups_match_a_rebuild(s).await;
});

store_test!(relationship_nps_goes_to_every_active_contact_on_schedule, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, no_fatigue()).await;
    s.create_survey_definition(&env.admin, spec(SurveyKind::Nps, 0, 100), t(0)).await.unwrap();
    s.set_contact_language(&env.admin, env.fx.bob.id.0, "de").await.unwrap();
    let tick = s.survey_tick(t(10), BASE).await.unwrap();
    assert_eq!((tick.nps_scheduled, tick.sent.len()), (2, 2));
    let mail = s.outbox(None, 10).await.unwrap();
    let bob = mail.iter().find(|m| m.mail.to_email == env.fx.bob.email.as_str()).unwrap();
    assert!(bob.mail.text.contains("Wie wahrscheinlich"), "{}", bob.mail.text);
    assert!(bob.mail.text.contains("score=0") && bob.mail.text.contains("score=10"));
    // Nothing more until every_days (90) have passed.
    let tick = s.survey_tick(t(10) + SignedDuration::from_hours(24 * 89), BASE).await.unwrap();
    assert_eq!(tick.nps_scheduled, 0);
    let tick = s.survey_tick(t(11) + SignedDuration::from_hours(24 * 90), BASE).await.unwrap();
    assert_eq!(tick.nps_scheduled, 2);
    // A detractor without any case gets no follow-up (there is no case to hang it on).
    let out = s.answer_survey(&tick.sent[0].1, answer(3, None, &[]), t(20) + SignedDuration::from_hours(24 * 90)).await;
    assert_eq!(out.unwrap().recovery_task_id, None);
    assert_eq!(code(s.set_contact_language(&env.admin, env.fx.bob.id.0, "xx").await.unwrap_err()), "invalid_value");
});

store_test!(verbatims_filter_and_kudos_reach_the_agent, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, no_fatigue()).await;
    s.create_survey_definition(&env.admin, spec(SurveyKind::Csat, 0, 100), t(0)).await.unwrap();
    for i in 0..3 {
        solved_case(&env, &format!("Case {i}"), t(100 + i)).await;
    }
    let tick = s.survey_tick(t(200), BASE).await.unwrap();
    s.answer_survey(&tick.sent[0].1, answer(5, Some("Wonderful help"), &[]), t(300)).await.unwrap();
    s.answer_survey(&tick.sent[1].1, answer(2, Some("Too slow"), &["Too slow"]), t(400)).await.unwrap();
    s.answer_survey(&tick.sent[2].1, answer(4, None, &[]), t(500)).await.unwrap();
    let verbatims = |f: ResponseFilter| {
        let by = env.manager.clone();
        async move { s.survey_responses(&by, ResponseFilter { with_comment: true, ..f }).await.unwrap() }
    };
    assert_eq!(verbatims(ResponseFilter::default()).await.len(), 2);
    assert_eq!(verbatims(ResponseFilter { score: Some(5), ..Default::default() }).await.len(), 1);
    assert_eq!(verbatims(ResponseFilter { reason: Some("Too slow".into()), ..Default::default() }).await.len(), 1);
    assert_eq!(verbatims(ResponseFilter { from: Some(t(350)), ..Default::default() }).await.len(), 1);
    assert_eq!(verbatims(ResponseFilter { to: Some(t(350)), ..Default::default() }).await.len(), 1);
    let team = Some(env.fx.it.id.0);
    assert_eq!(verbatims(ResponseFilter { team_id: team, ..Default::default() }).await.len(), 0);
    let agent = Some(env.fx.agent.id.0);
    assert_eq!(verbatims(ResponseFilter { agent_id: agent, ..Default::default() }).await.len(), 2);
    // Agents see their own; asking for someone else's is refused; contacts see nothing.
    assert_eq!(s.survey_responses(&env.agent, ResponseFilter::default()).await.unwrap().len(), 3);
    assert_eq!(s.survey_responses(&env.it_agent, ResponseFilter::default()).await.unwrap().len(), 0);
    let other = ResponseFilter { agent_id: Some(env.fx.manager.id.0), ..Default::default() };
    assert_eq!(code(s.survey_responses(&env.agent, other).await.unwrap_err()), "forbidden");
    assert_eq!(code(s.survey_responses(&env.ana, ResponseFilter::default()).await.unwrap_err()), "not_found");

    let praise = verbatims(ResponseFilter { score: Some(5), ..Default::default() }).await[0].id;
    assert_eq!(code(s.give_kudos(&env.agent, praise, None, t(600)).await.unwrap_err()), "forbidden");
    let k = s.give_kudos(&env.manager, praise, Some("Well done"), t(600)).await.unwrap();
    assert_eq!((k.agent_id, k.score, k.comment.as_deref()), (env.fx.agent.id.0, 5, Some("Wonderful help")));
    assert_eq!(code(s.give_kudos(&env.manager, praise, None, t(601)).await.unwrap_err()), "kudos_given");
    let mine = s.user_kudos(&env.agent, env.fx.agent.id.0).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(verbatims(ResponseFilter { score: Some(5), ..Default::default() }).await[0].kudos);
});

store_test!(definitions_and_settings_are_validated_and_admin_only, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    let bad = SurveySpec { sample_percent: 120, ..spec(SurveyKind::Csat, 0, 100) };
    let e = s.create_survey_definition(&env.admin, bad, t(0)).await.unwrap_err();
    assert_eq!(code(e), "out_of_range");
    let e = s.create_survey_definition(&env.manager, spec(SurveyKind::Csat, 0, 100), t(0)).await.unwrap_err();
    assert_eq!(code(e), "forbidden");
    let d = s.create_survey_definition(&env.admin, spec(SurveyKind::Csat, 0, 100), t(0)).await.unwrap();
    let e = s.update_survey_definition(&env.admin, d.id, spec(SurveyKind::Ces, 0, 100), t(1)).await.unwrap_err();
    assert_eq!(code(e), "immutable");
    let updated = SurveySpec { name: "Renamed".into(), ..spec(SurveyKind::Csat, 5, 40) };
    let u = s.update_survey_definition(&env.admin, d.id, updated, t(1)).await.unwrap();
    assert_eq!((u.spec.name.as_str(), u.spec.sample_percent), ("Renamed", 40));
    let bad = SurveySettings { followup_owner: "boss".into(), ..Default::default() };
    assert_eq!(code(s.set_survey_settings(&env.admin, bad, t(2)).await.unwrap_err()), "invalid_value");
    let bad = SurveySettings { expiry_days: 0, ..Default::default() };
    assert_eq!(code(s.set_survey_settings(&env.admin, bad, t(2)).await.unwrap_err()), "out_of_range");
    assert_eq!(
        code(s.set_survey_settings(&env.agent, SurveySettings::default(), t(2)).await.unwrap_err()),
        "forbidden"
    );
    assert_eq!(s.survey_settings(&env.agent).await.unwrap(), SurveySettings::default());
});

store_test!(a_reopened_case_or_a_deactivated_contact_is_not_asked, async |db: &TestDb| {
    let env = env(db).await;
    let s = &env.store;
    quick_settings(s, no_fatigue()).await;
    s.create_survey_definition(&env.admin, spec(SurveyKind::Csat, 60, 100), t(0)).await.unwrap();
    let reopened = solved_case(&env, "Reopened", t(100)).await;
    let open = CasePatch { status: Some(Status::Open), ..Default::default() };
    s.update_case(&env.agent, reopened, open, t(100) + mins(5)).await.unwrap();
    let tick = s.survey_tick(t(100) + mins(60), BASE).await.unwrap();
    assert_eq!((tick.sent.len(), tick.skipped_other), (0, 1));
    assert_eq!(s.case_surveys(&env.agent, reopened).await.unwrap()[0].status, "skipped_reopened");

    let solved = solved_case(&env, "Solved", t(200)).await;
    let deactivate = kept_store::UserPatch { active: Some(false), ..Default::default() };
    s.update_user(&Principal::system(), env.fx.ana.id, deactivate, t(201)).await.unwrap();
    let tick = s.survey_tick(t(200) + mins(60), BASE).await.unwrap();
    assert_eq!((tick.sent.len(), tick.skipped_other), (0, 1));
    assert_eq!(s.case_surveys(&env.agent, solved).await.unwrap()[0].status, "skipped_inactive");
});
