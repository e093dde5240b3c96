//! Rollups kept in the transaction of each change: what a scorecard reads
//! after live changes, and that a rebuild from the event log gives exactly
//! the same rows.

use super::common::*;
use jiff::{SignedDuration, Timestamp};
use kept_core::cases::{CasePatch, Status};
use kept_core::ids::CaseId;
use kept_core::metrics::{Scope, day, evaluate, metric};
use kept_core::permissions::Principal;
use kept_core::promises::PolicySpec;
use kept_core::values::{MessageBody, Name};
use kept_store::test_support::TestDb;
use kept_store::{NewMessage, Store, store_test};

/// Monday 2024-06-03 13:00 UTC.
fn at(mins: i64) -> Timestamp {
    Timestamp::from_second(1_717_419_600 + mins * 60).unwrap()
}

fn today() -> i32 {
    day::day_of(at(0), &jiff::tz::TimeZone::UTC)
}

async fn policy(store: &Store) {
    let sys = Principal::system();
    let cal = kept_core::calendar::Calendar::from_json(
        r#"{"time_zone": "UTC", "weekly": {"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
            "wed": [["09:00","17:00"]], "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}}"#,
    )
    .unwrap();
    let cal = store.create_calendar(&sys, Name::parse("n", "Office").unwrap(), &cal, at(-10_000)).await.unwrap();
    let spec: PolicySpec = serde_json::from_str(&format!(
        r#"{{"name": "Standard", "calendar_id": {}, "targets": [
            {{"clock": "first_response", "minutes": 30, "time": "calendar"}},
            {{"clock": "first_resolution", "minutes": 480}}]}}"#,
        cal.id
    ))
    .unwrap();
    store.create_policy(&sys, spec, at(-10_000)).await.unwrap();
}

fn msg(body: &str, public: bool, status: Option<Status>) -> NewMessage {
    NewMessage { body: MessageBody::parse("b", body).unwrap(), public, status }
}

async fn value(store: &Store, id: &str, from: i32, to: i32) -> kept_core::metrics::Value {
    let reading = store.period(Scope::Org, "", from, to).await.unwrap();
    evaluate(metric(id).unwrap(), &reading.total)
}

store_test!(live_changes_reach_the_scorecard_in_the_same_transaction, async |db: &TestDb| {
    let env = env(db).await;
    policy(&env.store).await;
    // Case 1: one reply after 20 minutes, solved by it: a first-contact resolution.
    let a = env.open_as(&env.ana, "Printer", at(0)).await.case.id;
    env.store.add_message(&env.agent, a, msg("Fixed.", true, Some(Status::Solved)), at(20)).await.unwrap();
    // Case 2: answered late (45 min > 30), then pending, then solved after a second reply.
    let b = env.open_as(&env.bob, "VPN", at(10)).await.case.id;
    env.store.add_message(&env.agent, b, msg("Which client?", true, Some(Status::Pending)), at(55)).await.unwrap();
    env.store.add_message(&env.bob, b, msg("The new one.", true, None), at(70)).await.unwrap();
    env.store.add_message(&env.agent, b, msg("Done.", true, Some(Status::Solved)), at(100)).await.unwrap();
    // Case 3: still open, no reply: its first response breaches at 30 minutes past opening.
    // (Opened by bob before his VPN case was solved, so it is no repeat of it.)
    let c = env.open_as(&env.bob, "Email", at(60)).await.case.id;
    let jobs = env.store.claim_jobs("w", at(200), SignedDuration::from_secs(30), 100).await.unwrap();
    env.store.run_jobs(&jobs, "w", at(200)).await.unwrap();

    let d = today();
    assert_eq!(value(&env.store, "created", d, d).await.value, Some(3.0));
    assert_eq!(value(&env.store, "solved", d, d).await.value, Some(2.0));
    assert_eq!(value(&env.store, "backlog", d, d).await.value, Some(1.0));
    // FRT: 20 min and 45 min → median 32.5 min.
    assert_eq!(value(&env.store, "frt_median", d, d).await.value, Some(1950.0));
    // NRT: the customer wrote at 70, the agent replied at 100.
    assert_eq!(value(&env.store, "nrt_median", d, d).await.value, Some(1800.0));
    // First response: a met; b breached (answered at 45); c breached while open (D-26).
    let fr = value(&env.store, "attainment_first_response", d, d).await;
    assert_eq!((fr.k, fr.n), (Some(1), 3));
    let fcr = value(&env.store, "fcr", d, d).await;
    assert_eq!((fcr.k, fcr.n), (Some(1), 2));
    // Where time goes for b: 55 min ours before the reply, 15 pending, 30 ours after.
    assert_eq!(value(&env.store, "wait_customer", d, d).await.value, Some(450.0));
    let _ = (a, c);
    // A reopen moves the backlog and undoes the first-contact resolution.
    env.store.add_message(&env.ana, a, msg("It broke again.", true, None), at(300)).await.unwrap();
    assert_eq!(value(&env.store, "backlog", d, d).await.value, Some(2.0));
    let fcr = value(&env.store, "fcr", d, d).await;
    assert_eq!((fcr.k, fcr.n), (Some(0), 2));
    assert_eq!(value(&env.store, "reopen_rate", d, d).await.k, Some(1));
    // The next day starts with the flows before it: the backlog carries over.
    assert_eq!(value(&env.store, "backlog", d + 1, d + 1).await.value, Some(2.0));
    assert_eq!(value(&env.store, "created", d + 1, d + 40).await.value, Some(0.0));
    let by_month = env.store.period_by_month(Scope::Org, "", d + 1, d + 40).await.unwrap();
    assert_eq!(by_month.total.backlog.map(|b| b.0), Some(2));
    // Rebuilding from the log gives the same rows.
    let live = env.store.rollup_snapshot().await.unwrap();
    let rebuilt = env.store.rebuild_metrics(|_, _| {}).await.unwrap();
    assert_eq!(rebuilt.cases, 3);
    assert_eq!(env.store.rollup_snapshot().await.unwrap(), live);
});

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

async fn random_history(env: &Env, rng: &mut Rng, cases: usize) {
    let mut ids: Vec<CaseId> = Vec::new();
    let mut now = 0;
    for _ in 0..cases {
        now += rng.next(90) as i64;
        let who = if rng.next(2) == 0 { &env.ana } else { &env.bob };
        ids.push(env.open_as(who, "Something", at(now)).await.case.id);
        for _ in 0..rng.next(4) {
            now += rng.next(600) as i64;
            let id = ids[rng.next(ids.len() as u64) as usize];
            let status =
                [None, Some(Status::Pending), Some(Status::Solved), Some(Status::OnHold)][rng.next(4) as usize];
            // Refusals (a closed case, say) are part of a random history.
            let _ = match rng.next(5) {
                0 | 1 => env
                    .store
                    .add_message(&env.agent, id, msg("Reply", rng.next(4) > 0, status), at(now))
                    .await
                    .map(|_| ()),
                2 => env.store.add_message(who, id, msg("More", true, None), at(now)).await.map(|_| ()),
                3 => {
                    let patch = CasePatch { assignee_id: Some(Some(env.fx.agent.id)), ..CasePatch::default() };
                    env.store.update_case(&env.agent, id, patch, at(now)).await.map(|_| ())
                }
                _ => {
                    let to = [Status::Solved, Status::Closed, Status::Open][rng.next(3) as usize];
                    let patch = CasePatch { status: Some(to), ..CasePatch::default() };
                    env.store.update_case(&env.agent, id, patch, at(now)).await.map(|_| ())
                }
            };
        }
        if rng.next(5) == 0 {
            let jobs = env.store.claim_jobs("w", at(now), SignedDuration::from_secs(30), 100).await.unwrap();
            env.store.run_jobs(&jobs, "w", at(now)).await.unwrap();
        }
    }
    let jobs = env.store.claim_jobs("w", at(now + 10_000), SignedDuration::from_secs(30), 1000).await.unwrap();
    env.store.run_jobs(&jobs, "w", at(now + 10_000)).await.unwrap();
}

store_test!(incremental_rollups_equal_a_rebuild_on_random_histories, async |db: &TestDb| {
    let env = env(db).await;
    policy(&env.store).await;
    for seed in [0x9e37_79b9_7f4a_7c15u64, 42, 7] {
        let mut rng = Rng(seed);
        random_history(&env, &mut rng, 25).await;
        let live = env.store.rollup_snapshot().await.unwrap();
        assert!(live.len() > 50, "the history produced rollups: {}", live.len());
        env.store.rebuild_metrics(|_, _| {}).await.unwrap();
        let rebuilt = env.store.rollup_snapshot().await.unwrap();
        let diff: Vec<_> = live.iter().zip(&rebuilt).filter(|(a, b)| a != b).take(3).collect();
        assert_eq!(live.len(), rebuilt.len(), "seed {seed}: {diff:?}");
        assert!(diff.is_empty(), "seed {seed}: {diff:?}");
        // Whole months and edge days add up to the same as every day.
        let (from, to) = (today() - 14, today() + 37);
        let days = env.store.period(Scope::Org, "", from, to).await.unwrap();
        let months = env.store.period_by_month(Scope::Org, "", from, to).await.unwrap();
        assert_eq!(days.total.measures, months.total.measures, "seed {seed}");
        assert_eq!(days.total.backlog, months.total.backlog, "seed {seed}");
        assert_eq!(months.points.len(), 3, "May, June, July");
    }
});

store_test!(a_repeat_chain_counts_each_solved_case_once, async |db: &TestDb| {
    let env = env(db).await;
    policy(&env.store).await;
    // ana's three questions, each opened after the one before was solved:
    // the second makes the first a repeat, the third the second. When the
    // third opens, the first is already a repeat (of the second) and is not
    // looked at again; its result must not change either way.
    let solve = |id, t| env.store.add_message(&env.agent, id, msg("Done.", true, Some(Status::Solved)), at(t));
    let a = env.open_as(&env.ana, "Printer", at(0)).await.case.id;
    solve(a, 10).await.unwrap();
    let d = today();
    assert_eq!((value(&env.store, "fcr", d, d).await.k, value(&env.store, "fcr", d, d).await.n), (Some(1), 1));
    let b = env.open_as(&env.ana, "Printer again", at(20)).await.case.id;
    solve(b, 30).await.unwrap();
    let fcr = value(&env.store, "fcr", d, d).await;
    assert_eq!((fcr.k, fcr.n), (Some(1), 2), "a is a repeat, b a first-contact resolution so far");
    let c = env.open_as(&env.ana, "Printer, third time", at(40)).await.case.id;
    solve(c, 50).await.unwrap();
    let fcr = value(&env.store, "fcr", d, d).await;
    assert_eq!((fcr.k, fcr.n), (Some(1), 3), "a and b are repeats, c resolved at first contact");
    // bob's case in between changes nothing for ana's.
    let other = env.open_as(&env.bob, "VPN", at(60)).await.case.id;
    solve(other, 70).await.unwrap();
    assert_eq!(value(&env.store, "fcr", d, d).await.k, Some(2));
    let live = env.store.rollup_snapshot().await.unwrap();
    env.store.rebuild_metrics(|_, _| {}).await.unwrap();
    assert_eq!(env.store.rollup_snapshot().await.unwrap(), live);
});

store_test!(a_repeat_counts_by_when_the_earlier_case_was_solved_not_opened, async |db: &TestDb| {
    let env = env(db).await;
    policy(&env.store).await;
    const DAY: i64 = 24 * 60;
    let solve = |id, t| env.store.add_message(&env.agent, id, msg("Done.", true, Some(Status::Solved)), at(t));
    let fcr =
        async |solved_on: i64| value(&env.store, "fcr", today() + solved_on as i32, today() + solved_on as i32).await;
    // ana's printer case lives nine days; her next one, a day after its
    // solve, makes it a repeat although it was opened ten days before.
    let long = env.open_as(&env.ana, "Printer", at(0)).await.case.id;
    solve(long, 9 * DAY).await.unwrap();
    assert_eq!((fcr(9).await.k, fcr(9).await.n), (Some(1), 1));
    // bob's case, solved on day 1, is nine days old when his next opens:
    // outside the 7-day window, it stays a first-contact resolution.
    let early = env.open_as(&env.bob, "VPN", at(0)).await.case.id;
    solve(early, DAY).await.unwrap();
    let again = env.open_as(&env.bob, "VPN again", at(10 * DAY)).await.case.id;
    let next = env.open_as(&env.ana, "Printer again", at(10 * DAY)).await.case.id;
    assert_eq!((fcr(1).await.k, fcr(1).await.n), (Some(1), 1), "bob's early solve is out of the window");
    assert_eq!((fcr(9).await.k, fcr(9).await.n), (Some(0), 1), "ana's long case is now a repeat");
    // Solving the new cases changes neither verdict.
    solve(again, 10 * DAY + 30).await.unwrap();
    solve(next, 10 * DAY + 40).await.unwrap();
    assert_eq!(fcr(1).await.k, Some(1));
    assert_eq!(fcr(9).await.k, Some(0));
    let live = env.store.rollup_snapshot().await.unwrap();
    env.store.rebuild_metrics(|_, _| {}).await.unwrap();
    assert_eq!(env.store.rollup_snapshot().await.unwrap(), live);
});

store_test!(waiting_rollup_differences_are_folded_in_every_128_rows, async |db: &TestDb| {
    let env = env(db).await;
    policy(&env.store).await;
    // Each change leaves its rollup differences waiting as a row; the
    // change that brings the 128th adds them all to the rollups. (On
    // SQLite, rows 500 ms old are folded in sooner: a slow run folds more
    // often, never less.)
    let store = &env.store;
    let waiting = async || {
        let rows = store.rows_unchecked("SELECT COUNT(*) AS n FROM metric_rollup_pending", &["n"]).await.unwrap();
        rows[0][0].as_deref().unwrap().parse::<i64>().unwrap()
    };
    let mut most = 0;
    for i in 0..140 {
        env.open_as(&env.ana, "Printer", at(i)).await;
        most = most.max(waiting().await);
    }
    assert!((2..=128).contains(&most), "140 changes: at most 128 rows wait, and rows do wait ({most})");
    assert!(waiting().await < 128, "140 changes, at least one fold");
    // A read folds in what waits first, and sees every change.
    let created = value(&env.store, "created", today(), today()).await;
    assert_eq!(created.value, Some(140.0));
    assert_eq!(waiting().await, 0);
    assert_rollups_match_a_rebuild(&env.store).await;
});
