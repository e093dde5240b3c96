//! Deadlines fire exactly once with several replicas: three `kept serve`
//! processes share one PostgreSQL; thousands of promises fall due in the
//! same minute; one replica is killed with SIGKILL halfway through. Every
//! promise must get exactly one breach event. (PostgreSQL only: SQLite is
//! one process by design.)

use super::process::Served;
use jiff::{SignedDuration, Timestamp};
use kept_core::cases::Channel;
use kept_core::promises::ClockKind;
use kept_core::values::{MessageBody, Subject};
use kept_store::test_support::{Fixture, POSTGRES_ENV, TestDb};
use kept_store::{NewAgentPromise, NewCase, Store};
use std::time::{Duration, Instant};

const PROMISES: usize = 2000;

fn now() -> Timestamp {
    kept_server::clock::Clock::now(&kept_server::clock::SystemClock)
}

async fn seed(store: &Store, due: Timestamp) {
    let fx = Fixture::create(store, None, now()).await;
    let agent = fx.principal(store, &fx.agent).await;
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let (store, agent, ana) = (store.clone(), agent.clone(), fx.ana.id);
            tokio::spawn(async move {
                for i in (w..PROMISES).step_by(8) {
                    let new = NewCase {
                        subject: Subject::parse("s", &format!("Call me back #{i}")).unwrap(),
                        body: MessageBody::parse("b", "Please call.").unwrap(),
                        requester_id: Some(ana),
                        account_id: None,
                        team_id: None,
                        assignee_id: None,
                        channel: Channel::Phone,
                        case_type: None,
                        priority: None,
                        tags: Default::default(),
                    };
                    let case = store.create_case(&agent, new, now(), None).await.unwrap().0.case.id;
                    let promise = NewAgentPromise {
                        kind: ClockKind::Callback,
                        due_at: due,
                        description: "Call back".into(),
                        owner: None,
                    };
                    store.make_promise(&agent, case, promise, now()).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[test]
fn three_replicas_and_a_sigkill_breach_every_promise_exactly_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(TestDb::postgres()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run the multi-replica test");
        return;
    };
    let started = Instant::now();
    // Seeding 2,000 cases on a loaded 2-core machine can take most of a minute.
    let due = now().checked_add(SignedDuration::from_secs(90)).unwrap();
    rt.block_on(seed(&db.store, due));
    eprintln!("seeded {PROMISES} promises in {:?}", started.elapsed());
    assert!(now() < due, "seeding took {:?}: the promises must still be due in the future", started.elapsed());
    let mut replicas: Vec<Served> = (0..3).map(|_| Served::start(db.url())).collect();
    let count = || rt.block_on(db.store.count_events_unchecked("promise_breached")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut killed = false;
    loop {
        let (breaches, _) = count();
        if !killed && breaches >= (PROMISES / 2) as i64 {
            // SIGKILL: no shutdown, no cleanup, transactions cut mid-flight.
            replicas[0].child.kill().unwrap();
            replicas[0].child.wait().unwrap();
            killed = true;
        }
        if breaches >= PROMISES as i64 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(killed, "the kill happened while breaches were being recorded");
    eprintln!("all breached {:?} after the deadline", now().duration_since(due));
    // Let the survivors run a little longer: nothing more may appear.
    std::thread::sleep(Duration::from_secs(2));
    let (breaches, cases) = count();
    assert_eq!(cases, PROMISES as i64, "every promise breached (none missed)");
    assert_eq!(breaches, PROMISES as i64, "and exactly once");
    let pending = rt.block_on(db.store.pending_jobs()).unwrap();
    assert_eq!(pending, 0, "no job left behind");
    drop(replicas);
}
