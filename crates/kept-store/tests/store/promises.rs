use super::common::*;
use jiff::{SignedDuration, Timestamp};
use kept_core::calendar::Calendar;
use kept_core::cases::{CasePatch, Priority, Status};
use kept_core::ids::CaseId;
use kept_core::permissions::Principal;
use kept_core::promises::{ClockKind, ClockStatus, PolicySpec};
use kept_core::values::{MessageBody, Name};
use kept_store::test_support::TestDb;
use kept_store::{NewAgentPromise, NewMessage, NewRecoveryAction, Store, store_test};

/// Monday 2024-06-03 13:00 UTC = 09:00 New York.
fn at(mins: i64) -> Timestamp {
    Timestamp::from_second(1_717_419_600 + mins * 60).unwrap()
}

const NY: &str = r#"{"time_zone": "America/New_York", "weekly": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
    "wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}}"#;

async fn books(store: &Store, first_response_minutes: i64) -> i64 {
    let sys = Principal::system();
    let cal = store
        .create_calendar(
            &sys,
            Name::parse("n", "New York office").unwrap(),
            &Calendar::from_json(NY).unwrap(),
            at(-10_000),
        )
        .await
        .unwrap();
    let urgent: PolicySpec = serde_json::from_str(&format!(
        r#"{{"name": "Urgent", "calendar_id": {}, "conditions": {{"priorities": ["urgent"]}},
            "targets": [{{"clock": "first_response", "minutes": 30}}]}}"#,
        cal.id
    ))
    .unwrap();
    let everyone: PolicySpec = serde_json::from_str(&format!(
        r#"{{"name": "Standard", "calendar_id": {}, "targets": [
            {{"clock": "first_response", "minutes": {first_response_minutes}, "warn_at_percent": 50}},
            {{"clock": "first_resolution", "minutes": 480}}],
            "recovery": {{"minutes": 120, "raise_priority": true}}}}"#,
        cal.id
    ))
    .unwrap();
    store.create_policy(&sys, urgent, at(-10_000)).await.unwrap();
    store.create_policy(&sys, everyone, at(-10_000)).await.unwrap();
    cal.id
}

async fn clock(env: &Env, case: CaseId, kind: ClockKind, now: Timestamp) -> kept_store::PromiseView {
    let tz = jiff::tz::TimeZone::UTC;
    let all = env.store.case_promises(&env.admin, case, now, &tz).await.unwrap();
    all.into_iter().find(|p| p.clock.kind == kind).unwrap_or_else(|| panic!("no {kind}"))
}

/// Runs every job due at `now` in one batch, as a server's job runner does.
async fn run_due(store: &Store, worker: &str, now: Timestamp) -> usize {
    let jobs = store.claim_jobs(worker, now, SignedDuration::from_secs(30), 1000).await.unwrap();
    store.run_jobs(&jobs, worker, now).await.unwrap();
    jobs.len()
}

/// Runs every job due at `now` one at a time (the runner's fallback when a batch fails).
async fn run_due_one_by_one(store: &Store, worker: &str, now: Timestamp) -> usize {
    let jobs = store.claim_jobs(worker, now, SignedDuration::from_secs(30), 1000).await.unwrap();
    for job in &jobs {
        store.run_job(job, worker, now).await.unwrap();
    }
    jobs.len()
}

store_test!(single_jobs_and_batches_record_the_same_breaches, async |db: &TestDb| {
    let env = env(db).await;
    books(&env.store, 30).await;
    let a = env.open_as(&env.ana, "One by one", at(0)).await.case.id;
    let b = env.open_as(&env.bob, "In a batch", at(0)).await.case.id;
    let jobs = env.store.claim_jobs("w", at(30), SignedDuration::from_secs(30), 10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    let (one, rest): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|j| j.case_id == a.0);
    env.store.run_job(&one[0], "w", at(30)).await.unwrap();
    env.store.run_jobs(&rest, "w", at(30)).await.unwrap();
    for case in [a, b] {
        let kinds = env.kinds(case).await;
        assert_eq!(kinds.iter().filter(|k| *k == "promise_breached").count(), 1, "{kinds:?}");
        assert!(kinds.contains(&"recovery_opened".to_owned()));
    }
    assert_eq!(run_due_one_by_one(&env.store, "w", at(31)).await, 0, "nothing else was due");
});

fn reply(body: &str, public: bool, status: Option<Status>) -> NewMessage {
    NewMessage { body: MessageBody::parse("b", body).unwrap(), public, status }
}

store_test!(a_new_case_gets_its_clocks_in_the_same_transaction, async |db: &TestDb| {
    let env = env(db).await;
    books(&env.store, 120).await;
    let id = env.open_as(&env.ana, "Printer", at(0)).await.case.id;
    let fr = clock(&env, id, ClockKind::FirstResponse, at(0)).await;
    assert_eq!((fr.clock.status, fr.clock.target_ms), (ClockStatus::Running, 7_200_000));
    assert_eq!(fr.clock.breach_at, Some(at(120)));
    assert!(fr.id.is_some(), "stored with the case");
    let kinds = env.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "promise_started").count(), 2, "{kinds:?}");
    let case = env.store.get_case(&env.admin, id).await.unwrap();
    assert_eq!(case.case.id, id);
    assert_eq!(env.store.pending_jobs().await.unwrap(), 1, "one job per case, at its next deadline or warning");
});

store_test!(a_reply_meets_the_first_response_and_pending_pauses_resolution, async |db: &TestDb| {
    let env = env(db).await;
    books(&env.store, 120).await;
    let id = env.open_as(&env.ana, "Printer", at(0)).await.case.id;
    env.store.add_message(&env.agent, id, reply("Which model?", true, Some(Status::Pending)), at(20)).await.unwrap();
    let fr = clock(&env, id, ClockKind::FirstResponse, at(30)).await;
    assert_eq!((fr.clock.status, fr.clock.fulfilled_at), (ClockStatus::Met, Some(at(20))));
    let res = clock(&env, id, ClockKind::FirstResolution, at(300)).await;
    assert_eq!((res.clock.status, res.clock.elapsed_ms, res.clock.breach_at), (ClockStatus::Paused, 20 * 60_000, None));
    assert!(res.explanation.iter().any(|l| l.contains("waiting on customer")), "{:?}", res.explanation);
    let kinds = env.kinds(id).await;
    assert!(kinds.contains(&"promise_met".to_owned()) && kinds.contains(&"promise_paused".to_owned()), "{kinds:?}");
});

store_test!(a_deadline_job_breaches_exactly_once_opens_recovery_and_raises_priority, async |db: &TestDb| {
    let env = env(db).await;
    books(&env.store, 60).await;
    let id = env.open_as(&env.ana, "Nobody answers", at(0)).await.case.id;
    let assign = CasePatch { assignee_id: Some(Some(env.fx.agent.id)), ..CasePatch::default() };
    env.store.update_case(&env.agent, id, assign, at(1)).await.unwrap();
    assert_eq!(run_due(&env.store, "w1", at(29)).await, 0, "nothing due before the warning");
    assert_eq!(run_due(&env.store, "w1", at(30)).await, 1, "the 50 % warning");
    assert!(env.kinds(id).await.contains(&"promise_warned".to_owned()));
    assert_eq!(run_due(&env.store, "w1", at(60)).await, 1, "the breach");
    for worker in ["w1", "w2"] {
        run_due(&env.store, worker, at(61)).await;
    }
    let kinds = env.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "promise_breached").count(), 1, "{kinds:?}");
    assert!(kinds.contains(&"recovery_opened".to_owned()));
    let case = env.store.get_case(&env.admin, id).await.unwrap();
    assert_eq!(case.case.priority, Priority::High, "the policy raises the priority on breach");
    let tasks = env.store.case_recovery_tasks(&env.agent, id).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].owner_id, Some(env.fx.agent.id.0), "the assignee owns the recovery");
    assert_eq!(tasks[0].due_at, at(180), "2 business hours after the breach");
    let notes = env.store.notifications(&env.agent, true).await.unwrap();
    assert!(notes.iter().any(|n| n.2 == "promise_breached"));
    let lead = env.store.notifications(&env.manager, true).await.unwrap();
    assert!(!lead.is_empty(), "the team lead hears of it too");
    let recovery = clock(&env, id, ClockKind::Recovery, at(70)).await;
    assert_eq!(recovery.clock.status, ClockStatus::Running);
    assert_clock_events_name_their_instances(&env.store, id).await;
});

/// Every clock event names the stored instance it is about: its id comes
/// from the upsert for a new instance and from the stored row afterwards.
async fn assert_clock_events_name_their_instances(store: &Store, case: CaseId) {
    let sql = format!("SELECT id, kind, ordinal FROM promise_instances WHERE case_id = {}", case.0);
    let instances = store.rows_unchecked(&sql, &["id", "kind", "ordinal"]).await.unwrap();
    let sql = format!("SELECT kind, data FROM events WHERE case_id = {} AND dedup_key IS NOT NULL", case.0);
    let events = store.rows_unchecked(&sql, &["kind", "data"]).await.unwrap();
    assert!(events.len() >= 4, "started, warned, breached, recovery: {events:?}");
    for event in events {
        let data: serde_json::Value = serde_json::from_str(event[1].as_deref().unwrap()).unwrap();
        let named = instances.iter().find(|i| i[0].as_deref() == Some(&data["promise_id"].to_string()));
        let named = named.unwrap_or_else(|| panic!("{event:?} names no instance of its case"));
        assert_eq!(named[1].as_deref(), data["clock"].as_str(), "{event:?}");
        assert_eq!(named[2].as_deref(), Some(&data["ordinal"].to_string()[..]), "{event:?}");
    }
}

store_test!(recovery_actions_respect_the_limits_of_each_role, async |db: &TestDb| {
    let env = env(db).await;
    books(&env.store, 60).await;
    let id = env.open_as(&env.ana, "Late", at(0)).await.case.id;
    run_due(&env.store, "w", at(30)).await;
    run_due(&env.store, "w", at(60)).await;
    let task = env.store.case_recovery_tasks(&env.agent, id).await.unwrap()[0].id;
    let credit = |cents| NewRecoveryAction {
        kind: "goodwill_credit".into(),
        amount_cents: Some(cents),
        note: "Sorry for the wait".into(),
    };
    let over = env.store.record_recovery_action(&env.agent, task, credit(9_000), at(70)).await.unwrap_err();
    assert_eq!(code(over), "forbidden", "agents may credit up to 50.00 without approval");
    let t = env.store.record_recovery_action(&env.agent, task, credit(4_000), at(71)).await.unwrap();
    assert_eq!(t.actions.len(), 1);
    env.store.record_recovery_action(&env.manager, task, credit(9_000), at(72)).await.unwrap();
    let recovery = clock(&env, id, ClockKind::Recovery, at(80)).await;
    assert_eq!(recovery.clock.status, ClockStatus::Met, "acting within two business hours keeps the recovery promise");
    env.store.close_recovery_task(&env.agent, task, true, "Customer happy again", at(90)).await.unwrap();
    assert_eq!(
        code(env.store.close_recovery_task(&env.agent, task, true, "again", at(91)).await.unwrap_err()),
        "task_closed"
    );
    let kinds = env.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "recovery_action").count(), 2);
    assert!(kinds.contains(&"recovery_closed".to_owned()));
    assert_eq!(
        code(env.store.record_recovery_action(&env.ana, task, credit(1), at(92)).await.unwrap_err()),
        "not_found"
    );
    // A later change counts the closed recovery as the rebuild does.
    let reply = NewMessage { body: MessageBody::parse("b", "All set.").unwrap(), public: true, status: None };
    env.store.add_message(&env.agent, id, reply, at(100)).await.unwrap();
    assert_rollups_match_a_rebuild(&env.store).await;
});

store_test!(raising_the_priority_mid_flight_applies_the_urgent_target_to_the_time_used, async |db: &TestDb| {
    let env = env(db).await;
    books(&env.store, 240).await;
    let id = env.open_as(&env.ana, "Escalate", at(0)).await.case.id;
    let urgent = CasePatch { priority: Some(Priority::Urgent), ..CasePatch::default() };
    env.store.update_case(&env.agent, id, urgent, at(20)).await.unwrap();
    let fr = clock(&env, id, ClockKind::FirstResponse, at(20)).await;
    assert_eq!((fr.clock.target_ms, fr.clock.elapsed_ms, fr.clock.breach_at), (30 * 60_000, 20 * 60_000, Some(at(30))));
    assert!(env.kinds(id).await.contains(&"promise_retargeted".to_owned()));
    // The job moved with the deadline.
    assert_eq!(run_due(&env.store, "w", at(29)).await, 0);
    assert_eq!(run_due(&env.store, "w", at(30)).await, 1);
    assert_eq!(clock(&env, id, ClockKind::FirstResponse, at(31)).await.clock.status, ClockStatus::Breached);
});

store_test!(a_calendar_edit_moves_running_deadlines, async |db: &TestDb| {
    let env = env(db).await;
    let cal = books(&env.store, 240).await;
    let id = env.open_as(&env.ana, "Hours change", at(0)).await.case.id;
    assert_eq!(clock(&env, id, ClockKind::FirstResponse, at(0)).await.clock.breach_at, Some(at(240)));
    let shorter = Calendar::from_json(&NY.replace("17:00", "11:00")).unwrap();
    env.store.update_calendar(&Principal::system(), cal, None, Some(&shorter), at(60)).await.unwrap();
    run_due(&env.store, "w", at(60)).await;
    let fr = clock(&env, id, ClockKind::FirstResponse, at(60)).await;
    assert_eq!(fr.clock.elapsed_ms, 60 * 60_000, "the first hour keeps its measure");
    assert_eq!(
        fr.clock.breach_at,
        Some(at(24 * 60 + 120)),
        "1 h left today (09:00–11:00 now), then Tuesday 09:00 + 2 h → 11:00"
    );
});

store_test!(an_agent_promise_is_shown_kept_or_breached_by_its_deadline, async |db: &TestDb| {
    let env = env(db).await;
    let id = env.open_as(&env.ana, "Call me", at(0)).await.case.id;
    let promise = |due| NewAgentPromise {
        kind: ClockKind::Callback,
        due_at: due,
        description: "Call Ana back about the printer".into(),
        owner: None,
    };
    let past = env.store.make_promise(&env.agent, id, promise(at(-1)), at(0)).await.unwrap_err();
    assert_eq!(code(past), "in_the_past");
    assert_eq!(code(env.store.make_promise(&env.ana, id, promise(at(60)), at(0)).await.unwrap_err()), "forbidden");
    let kept = env.store.make_promise(&env.agent, id, promise(at(60)), at(1)).await.unwrap();
    let missed = env.store.make_promise(&env.agent, id, promise(at(90)), at(2)).await.unwrap();
    let seen = env.store.case_promises(&env.ana, id, at(3), &jiff::tz::TimeZone::UTC).await.unwrap();
    assert_eq!(seen.len(), 2, "the customer sees the promises made to them");
    assert_eq!(seen[0].description.as_deref(), Some("Call Ana back about the printer"));
    assert_eq!(seen[0].owner_name.as_deref(), Some("Alex Agent"));
    env.store.settle_promise(&env.agent, id, kept, true, at(50)).await.unwrap();
    assert_eq!(
        code(env.store.settle_promise(&env.agent, id, kept, true, at(51)).await.unwrap_err()),
        "already_settled"
    );
    run_due(&env.store, "w", at(90)).await;
    let all = env.store.case_promises(&env.agent, id, at(91), &jiff::tz::TimeZone::UTC).await.unwrap();
    let status = |pid: i64| all.iter().find(|p| p.clock.ordinal == pid).unwrap().clock.status;
    assert_eq!((status(kept), status(missed)), (ClockStatus::Met, ClockStatus::Breached));
    assert!(env.kinds(id).await.contains(&"promise_made".to_owned()));
    assert_rollups_match_a_rebuild(&env.store).await;
});

store_test!(competing_workers_never_run_a_job_twice, async |db: &TestDb| {
    let env = env(db).await;
    books(&env.store, 30).await;
    for i in 0..40 {
        env.open_as(if i % 2 == 0 { &env.ana } else { &env.bob }, &format!("Storm {i}"), at(0)).await;
    }
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let store = env.store.clone();
            tokio::spawn(async move {
                let mut done = 0;
                for minute in [15, 30, 31] {
                    done += run_due(&store, &format!("worker-{w}"), at(minute)).await;
                }
                done
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let log = env.store.event_log(&env.admin, None, 10_000).await.unwrap();
    let breaches = log.iter().filter(|e| e.kind.as_str() == "promise_breached").count();
    assert_eq!(breaches, 40, "every promise breached exactly once");
    let mut keys: Vec<_> = log.iter().filter(|e| e.kind.as_str() == "promise_breached").map(|e| e.case_id).collect();
    keys.dedup();
    assert_eq!(keys.len(), 40);
});

store_test!(a_change_stamped_before_the_last_clock_evaluation_cannot_rewrite_a_recorded_breach, async |db: &TestDb| {
    // Replica B's clock runs 11 minutes behind replica A's, which already recorded the breach.
    let env = env(db).await;
    books(&env.store, 10).await;
    let id = env.open_as(&env.ana, "Skewed clocks", at(0)).await.case.id;
    run_due(&env.store, "replica-a", at(11)).await;
    assert!(env.kinds(id).await.contains(&"promise_breached".to_owned()));
    for who in [&env.admin, &env.manager, &env.agent] {
        let high = CasePatch { priority: Some(Priority::High), ..CasePatch::default() };
        env.store.update_case(who, id, high, at(0)).await.unwrap();
        env.store.add_message(who, id, reply("hello", true, None), at(0)).await.unwrap();
    }
    let fr = clock(&env, id, ClockKind::FirstResponse, at(12)).await;
    assert_eq!(fr.clock.status, ClockStatus::Breached, "the recorded breach stands");
    let events = env.store.case_events(&env.admin, id).await.unwrap();
    let breach = events.iter().find(|e| e.event.kind.as_str() == "promise_breached").unwrap().event.at;
    let reply_at = events.iter().find(|e| e.event.kind.as_str() == "agent_reply").unwrap().event.at;
    assert!(reply_at >= breach, "the late replica's reply is stamped after what is already recorded");
    let kinds = env.kinds(id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "promise_breached").count(), 1);
    assert!(kinds.contains(&"promise_fulfilled_late".to_owned()), "{kinds:?}");
});
