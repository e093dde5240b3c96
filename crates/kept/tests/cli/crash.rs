//! Nothing acknowledged is lost: clients create cases and add replies as fast
//! as `kept serve` takes them; the server is killed with SIGKILL at a random
//! moment and started again on the same database, round after round. After
//! every kill, every request that got a 2xx is there with all its events,
//! nothing half-written is visible, the promise clocks agree with their
//! events and jobs; every few kills (and after the last) the rollups equal a
//! rebuild from the event log.
//!
//! `KEPT_CRASH_KILLS` sets the number of kills (default 20), `KEPT_CRASH_SEED`
//! replays a run (the seed is printed). PostgreSQL runs when
//! `KEPT_TEST_POSTGRES_URL` is set.

use super::process::{Served, get};
use jiff::Timestamp;
use kept_core::permissions::Principal;
use kept_store::Backend;
use kept_store::Store;
use kept_store::test_support::{Fixture, POSTGRES_ENV, TestDb, TextRows};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: u64 = 6;
/// The kill comes this long after the clients start (uniformly, in ms).
const KILL_AFTER_MS: std::ops::Range<u64> = 100..800;
/// Rollups are compared with a rebuild after every this many kills (and the last).
const REBUILD_EVERY: usize = 5;
/// No round starts after this (a slow machine does fewer kills, and says so).
const BUDGET: Duration = Duration::from_secs(100);

#[test]
fn sigkill_under_load_loses_nothing_acknowledged_on_sqlite() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(TestDb::sqlite());
    crash_rounds(&rt, &db, "SQLite");
}

#[test]
fn sigkill_under_load_loses_nothing_acknowledged_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = rt.block_on(TestDb::postgres()) else {
        eprintln!("skipped: set {POSTGRES_ENV} to run the crash test on PostgreSQL");
        return;
    };
    crash_rounds(&rt, &db, "PostgreSQL");
}

/// A small deterministic generator (xorshift), so a printed seed replays the
/// clients' choices and the kill delays (not the interleaving).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A case the server acknowledged: its id and the first message sent.
#[derive(Debug, Clone)]
struct AckCase {
    id: i64,
    message: String,
}

/// A message the server acknowledged, and the status change it reported.
#[derive(Debug, Clone)]
struct AckReply {
    case_id: i64,
    message_id: i64,
    body: String,
    /// The event kind the message must have: customer_message, agent_reply or internal_note.
    kind: &'static str,
    status_change: Option<String>,
}

#[derive(Debug, Default)]
struct Acked {
    cases: Vec<AckCase>,
    replies: Vec<AckReply>,
    /// 4xx answers (an illegal status change, say): refused, not lost.
    refused: usize,
}

struct Desk {
    staff_token: String,
    customer_token: String,
    contact: i64,
}

fn now() -> Timestamp {
    kept_server::clock::Clock::now(&kept_server::clock::SystemClock)
}

async fn token(store: &Store, user: kept_core::ids::UserId) -> String {
    use kept_server::auth::secrets::{digest, new_api_token};
    let secret = new_api_token().unwrap();
    let prefix: String = secret.chars().take(12).collect();
    store.create_api_token(&Principal::system(), user, "crash", &digest(&secret), &prefix, now()).await.unwrap();
    secret
}

/// The fixture's people, tokens for an admin and a contact, and a promise
/// policy on wall-clock time whose deadlines are hours away (so every case
/// has running clocks and a job, and no deadline falls due during the test).
async fn setup(store: &Store) -> Desk {
    let fx = Fixture::create(store, None, now()).await;
    let spec = serde_json::from_value(json!({
        "name": "Crash",
        "targets": [
            {"clock": "first_response", "minutes": 240, "time": "calendar"},
            {"clock": "first_resolution", "minutes": 1440, "time": "calendar"},
        ],
    }))
    .unwrap();
    store.create_policy(&Principal::system(), spec, now()).await.unwrap();
    Desk {
        staff_token: token(store, fx.admin.id).await,
        customer_token: token(store, fx.ana.id).await,
        contact: fx.ana.id.0,
    }
}

fn kills() -> usize {
    std::env::var("KEPT_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(20).max(1)
}

fn seed() -> u64 {
    std::env::var("KEPT_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| now().as_nanosecond() as u64)
}

fn crash_rounds(rt: &tokio::runtime::Runtime, db: &TestDb, engine: &str) {
    let started = Instant::now();
    let desk = Arc::new(rt.block_on(setup(&db.store)));
    let (kills, seed) = (kills(), seed());
    eprintln!("{engine}: {kills} kills, KEPT_CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    // The server's PostgreSQL sessions carry a name, to tell when they are gone.
    let app = (db.store.backend() == Backend::Postgres).then(|| format!("kept-crash-{}", std::process::id()));
    let url = match &app {
        Some(app) => format!("{}{}application_name={app}", db.url(), if db.url().contains('?') { '&' } else { '?' }),
        None => db.url().to_owned(),
    };
    let mut acked = Acked::default();
    // Writes the database holds that no client was told about (answers cut by a kill).
    let mut unanswered = 0;
    let mut done = 0;
    for round in 0..kills {
        let delay = Duration::from_millis(KILL_AFTER_MS.start + rng.below(KILL_AFTER_MS.end - KILL_AFTER_MS.start));
        let before = (acked.cases.len(), acked.replies.len());
        let got = load_and_kill(&url, &desk, round, seed ^ rng.below(u64::MAX), delay);
        let settled = app.as_ref().map(|app| rt.block_on(settle(&db.store, app)));
        acked.refused += got.refused;
        acked.cases.extend(got.cases);
        acked.replies.extend(got.replies);
        let checking = Instant::now();
        // The last round: the kills asked for, or the time budget spent.
        let last = round + 1 == kills || started.elapsed() > BUDGET;
        let rebuild = (round + 1) % REBUILD_EVERY == 0 || last;
        let totals = rt.block_on(check(&db.store, &acked, rebuild)).unwrap_or_else(|problems| {
            panic!("{engine}, kill {} (KEPT_CRASH_SEED={seed}):\n{}", round + 1, problems.join("\n"))
        });
        let landed = totals.messages - acked.cases.len() - acked.replies.len();
        eprintln!(
            "{engine} kill {:>2}: after {:>3} ms; acknowledged {:>3} cases, {:>3} replies; {} writes landed unanswered; \
             database {} cases, {} messages, {} events; {}checked in {} ms{}",
            round + 1,
            delay.as_millis(),
            acked.cases.len() - before.0,
            acked.replies.len() - before.1,
            landed - unanswered,
            totals.cases,
            totals.messages,
            totals.events,
            settled.map(|d| format!("sessions gone {} ms after the kill; ", d.as_millis())).unwrap_or_default(),
            checking.elapsed().as_millis(),
            if rebuild { " (rollups = rebuild)" } else { "" },
        );
        unanswered = landed;
        if last {
            done = round + 1;
            break;
        }
    }
    if done < kills {
        eprintln!("{engine}: the time budget ({} s) was spent after {done} of {kills} kills", BUDGET.as_secs());
    }
    // A restarted server serves what was acknowledged (a sample, over HTTP).
    let served = Served::start(&url);
    let mut sample: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for case in acked.cases.iter().step_by((acked.cases.len() / 20).max(1)) {
        sample.entry(case.id).or_default().push(&case.message);
    }
    for reply in &acked.replies {
        if let Some(bodies) = sample.get_mut(&reply.case_id) {
            bodies.push(&reply.body);
        }
    }
    for (case, bodies) in &sample {
        let messages = get(&served.base, &desk.staff_token, &format!("/api/v1/cases/{case}/messages"));
        let messages = messages["messages"].as_array().unwrap();
        let texts: Vec<&str> = messages.iter().map(|m| m["body"].as_str().unwrap()).collect();
        for body in bodies {
            assert!(texts.contains(body), "case {case} serves the acknowledged message {body:?}: {texts:?}");
        }
        let events = get(&served.base, &desk.staff_token, &format!("/api/v1/cases/{case}/events"));
        let events = events["events"].as_array().unwrap();
        assert_eq!(events[0]["kind"], "case_created", "case {case}");
        let said = events.iter().filter(|e| MESSAGE_KINDS.contains(&e["kind"].as_str().unwrap())).count();
        assert_eq!(said, messages.len(), "case {case}: one event per message");
    }
    drop(served);
    // The check is not vacuous: a lost acknowledged message and a status that
    // its events do not explain are both reported.
    // (Not a public agent reply: its queued email refers to it.)
    let note = acked.replies.iter().rev().find(|r| r.kind != "agent_reply").map(|r| r.message_id);
    let case = acked.cases[0].id;
    rt.block_on(async {
        if let Some(note) = note {
            db.store.execute_unchecked(&format!("DELETE FROM messages WHERE id = {note}")).await.unwrap();
        }
        let flip = "CASE WHEN status = 'pending' THEN 'on_hold' ELSE 'pending' END";
        db.store.execute_unchecked(&format!("UPDATE cases SET status = {flip} WHERE id = {case}")).await.unwrap();
    });
    let problems = rt.block_on(check(&db.store, &acked, false)).err().expect("the sabotage is seen").join("\n");
    if let Some(note) = note {
        assert!(problems.contains(&format!("acknowledged message {note} on case")), "{problems}");
    }
    assert!(problems.contains(&format!("case {case} is ")), "{problems}");
    eprintln!(
        "{engine}: {done} kills, {} cases and {} replies acknowledged, {} refused, in {:.1} s",
        acked.cases.len(),
        acked.replies.len(),
        acked.refused,
        started.elapsed().as_secs_f64()
    );
    assert!(acked.cases.len() >= done, "the clients got work done between the kills");
}

/// On PostgreSQL a killed server's sessions outlive it until the database
/// notices the closed socket, and a COMMIT one had already received still
/// lands. The checks wait for them to be gone, so that nothing changes under
/// them. (SQLite has no such afterlife: the killed process was the writer.)
async fn settle(store: &Store, app: &str) -> Duration {
    let sql = format!("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = '{app}'");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(10);
    loop {
        let left = store.rows_unchecked(&sql, &["n"]).await.unwrap();
        if int(&left[0][0]) == 0 {
            return started.elapsed();
        }
        assert!(Instant::now() < deadline, "the killed server's sessions are still there after 10 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Starts the server, lets the clients loose, kills the server after
/// `delay` and returns what the clients were told succeeded.
fn load_and_kill(url: &str, desk: &Arc<Desk>, round: usize, seed: u64, delay: Duration) -> Acked {
    let mut served = Served::start(url);
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (desk, base, stop, answered) = (desk.clone(), served.base.clone(), stop.clone(), answered.clone());
            let rng = Rng::new(seed.wrapping_add(c.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
            std::thread::spawn(move || client(&base, &desk, (round, c), rng, &stop, &answered))
        })
        .collect();
    // The load has started when the first write is acknowledged (the first
    // requests also open the server's connections).
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline, "no write acknowledged within 20 s of the start");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(delay);
    // SIGKILL: no shutdown, no cleanup, transactions cut mid-flight.
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Acked::default();
    for client in clients {
        let got = client.join().unwrap();
        acked.cases.extend(got.cases);
        acked.replies.extend(got.replies);
        acked.refused += got.refused;
    }
    acked
}

/// How the server answered a request.
enum Answer {
    /// A 2xx with its whole body: the server promised the write is done.
    Acknowledged(Value),
    /// A 4xx: the server refused, nothing was written.
    Refused,
    /// No answer (the server died): the write may or may not have happened.
    Unknown,
}

fn post(agent: &ureq::Agent, url: &str, token: &str, body: Value) -> Answer {
    match agent.post(url).header("authorization", &format!("Bearer {token}")).send_json(body) {
        Ok(mut r) if r.status().is_success() => match r.body_mut().read_json::<Value>() {
            Ok(v) => Answer::Acknowledged(v),
            Err(_) => Answer::Unknown,
        },
        Ok(r) if r.status().is_client_error() => Answer::Refused,
        Ok(mut r) => panic!("{url}: {} {}", r.status(), r.body_mut().read_to_string().unwrap_or_default()),
        Err(_) => Answer::Unknown,
    }
}

/// One client: opens cases for the contact and writes on its own cases —
/// agent replies and internal notes (some changing the status) and customer
/// messages — until the server stops answering.
fn client(
    base: &str,
    desk: &Desk,
    (round, c): (usize, u64),
    mut rng: Rng,
    stop: &AtomicBool,
    answered: &AtomicUsize,
) -> Acked {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    // This client's cases and their status as last acknowledged: nobody
    // else writes on them, so a status change in an answer is this write's.
    let mut mine: Vec<(i64, String)> = Vec::new();
    let mut acked = Acked::default();
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let tag = format!("r{round}c{c}n{n}");
        if mine.is_empty() || rng.below(3) == 0 {
            let message = format!("{tag}: the printer is on fire");
            let body = json!({"subject": format!("Crash {tag}"), "message": message, "requester_id": desk.contact});
            match post(&agent, &format!("{base}/api/v1/cases"), &desk.staff_token, body) {
                Answer::Acknowledged(case) => {
                    let id = case["id"].as_i64().unwrap();
                    mine.push((id, case["status"].as_str().unwrap().to_owned()));
                    acked.cases.push(AckCase { id, message });
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                Answer::Refused => acked.refused += 1,
                Answer::Unknown => break,
            }
        } else {
            let pick = rng.below(mine.len() as u64) as usize;
            let (case, before) = mine[pick].clone();
            let body = format!("{tag}: reply");
            let (token, kind, request) = if rng.below(5) == 0 {
                (&desk.customer_token, "customer_message", json!({"body": body}))
            } else {
                let status =
                    [None, None, Some("open"), Some("pending"), Some("on_hold"), Some("solved")][rng.below(6) as usize];
                let public = rng.below(4) > 0;
                let kind = if public { "agent_reply" } else { "internal_note" };
                (&desk.staff_token, kind, json!({"body": body, "public": public, "status": status}))
            };
            match post(&agent, &format!("{base}/api/v1/cases/{case}/messages"), token, request) {
                Answer::Acknowledged(out) => {
                    assert_eq!(out["follow_up"], false, "no case is ever closed here");
                    assert_eq!(out["message"]["case_id"], case);
                    let after = out["case"]["status"].as_str().unwrap().to_owned();
                    acked.replies.push(AckReply {
                        case_id: case,
                        message_id: out["message"]["id"].as_i64().unwrap(),
                        body,
                        kind,
                        status_change: (after != before).then(|| after.clone()),
                    });
                    mine[pick].1 = after;
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                Answer::Refused => acked.refused += 1,
                Answer::Unknown => break,
            }
        }
    }
    acked
}

const MESSAGE_KINDS: [&str; 3] = ["customer_message", "agent_reply", "internal_note"];

/// What the database holds after a check.
struct Totals {
    cases: usize,
    messages: usize,
    events: usize,
}

type Query = (&'static str, &'static [&'static str]);

const CASES: Query = ("SELECT id, status FROM cases", &["id", "status"]);
const MESSAGES: Query = (
    "SELECT id, case_id, author_role, CAST(CASE WHEN public THEN 1 ELSE 0 END AS BIGINT) AS public, body, created_at \
     FROM messages",
    &["id", "case_id", "author_role", "public", "body", "created_at"],
);
const EVENTS: Query = (
    "SELECT case_id, kind, at, after_value, data, dedup_key FROM events ORDER BY id",
    &["case_id", "kind", "at", "after_value", "data", "dedup_key"],
);
const CLOCKS: Query = (
    "SELECT case_id, kind, ordinal, transitions FROM promise_instances",
    &["case_id", "kind", "ordinal", "transitions"],
);
/// Running clocks whose deadline is ahead but no job is due by then.
const UNSCHEDULED: Query = (
    "SELECT p.case_id, p.kind, p.breach_at FROM promise_instances p JOIN cases c ON c.id = p.case_id \
     WHERE p.status = 'running' AND p.breach_at > c.clocks_at AND NOT EXISTS \
     (SELECT 1 FROM jobs j WHERE j.kind = 'promise_clock' AND j.case_id = p.case_id AND j.run_at <= p.breach_at)",
    &["case_id", "kind", "breach_at"],
);
/// Public agent replies to a customer without their email in the outbox.
const UNMAILED: Query = (
    "SELECT m.id FROM messages m JOIN cases c ON c.id = m.case_id JOIN users u ON u.id = c.requester_id \
     WHERE m.author_role = 'agent' AND m.public = TRUE AND u.active = TRUE AND m.author_id <> c.requester_id \
     AND c.channel <> 'internal' AND NOT EXISTS (SELECT 1 FROM mail_messages mm JOIN outbox o ON o.mail_id = mm.id \
     WHERE mm.message_row_id = m.id AND mm.direction = 'out')",
    &["id"],
);
/// SQLite only: messages (by id) and subjects (minus the case id) missing from the search index.
const UNINDEXED: Query = (
    "SELECT m.id FROM messages m WHERE NOT EXISTS (SELECT 1 FROM search_docs s WHERE s.rowid = m.id) \
     UNION ALL SELECT -c.id FROM cases c WHERE NOT EXISTS (SELECT 1 FROM search_docs s WHERE s.rowid = -c.id)",
    &["id"],
);

/// The database at one instant, as the checks read it.
struct Snapshot {
    cases: TextRows,
    messages: TextRows,
    events: TextRows,
    clocks: TextRows,
    unscheduled: TextRows,
    unmailed: TextRows,
    unindexed: TextRows,
}

async fn read(store: &Store) -> Snapshot {
    let mut queries = vec![CASES, MESSAGES, EVENTS, CLOCKS, UNSCHEDULED, UNMAILED];
    if store.backend() == Backend::Sqlite {
        queries.push(UNINDEXED);
    }
    let mut all = store.snapshot_unchecked(&queries).await.unwrap().into_iter();
    let mut next = || all.next().unwrap_or_default();
    Snapshot {
        cases: next(),
        messages: next(),
        events: next(),
        clocks: next(),
        unscheduled: next(),
        unmailed: next(),
        unindexed: next(),
    }
}

fn int(v: &Option<String>) -> i64 {
    v.as_deref().unwrap_or_else(|| panic!("NULL where a number was expected")).parse().unwrap()
}

fn opt_int(v: &Option<String>) -> Option<i64> {
    v.as_deref().map(|t| t.parse().unwrap())
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn parse(v: &Option<String>) -> Value {
    v.as_deref().map(|t| serde_json::from_str(t).unwrap()).unwrap_or(Value::Null)
}

struct Message {
    case_id: i64,
    role: String,
    public: bool,
    body: String,
    created_at: i64,
}

/// The event kind a stored message must have.
fn message_kind(m: &Message) -> &'static str {
    match (m.role.as_str(), m.public) {
        ("customer", _) => "customer_message",
        (_, true) => "agent_reply",
        (_, false) => "internal_note",
    }
}

struct Event {
    case_id: i64,
    kind: String,
    at: i64,
    after: Value,
    data: Value,
    dedup: Option<String>,
}

/// Everything a kill must leave true; the problems found, if any.
async fn check(store: &Store, acked: &Acked, rebuild: bool) -> Result<Totals, Vec<String>> {
    let mut problems = Vec::new();
    let snap = read(store).await;
    let cases: BTreeMap<i64, String> = snap.cases.iter().map(|r| (int(&r[0]), text(&r[1]))).collect();
    let messages: BTreeMap<i64, Message> = snap
        .messages
        .iter()
        .map(|r| {
            let m = Message {
                case_id: int(&r[1]),
                role: text(&r[2]),
                public: int(&r[3]) == 1,
                body: text(&r[4]),
                created_at: int(&r[5]),
            };
            (int(&r[0]), m)
        })
        .collect();
    let events: Vec<Event> = snap
        .events
        .iter()
        .map(|r| Event {
            case_id: int(&r[0]),
            kind: text(&r[1]),
            at: int(&r[2]),
            after: parse(&r[3]),
            data: parse(&r[4]),
            dedup: r[5].clone(),
        })
        .collect();

    // Nothing half-written: every event and message belongs to a case ...
    for e in &events {
        if !cases.contains_key(&e.case_id) {
            problems.push(format!("a {} event of case {} whose case row is missing", e.kind, e.case_id));
        }
    }
    for (id, m) in &messages {
        if !cases.contains_key(&m.case_id) {
            problems.push(format!("message {id} of case {} whose case row is missing", m.case_id));
        }
    }
    // ... every case starts with its created event and its customer's first
    // message, and its status is what its events say ...
    let mut by_case: HashMap<i64, Vec<&Event>> = HashMap::new();
    for e in &events {
        by_case.entry(e.case_id).or_default().push(e);
    }
    let mut first_message: HashMap<i64, i64> = HashMap::new();
    for (id, m) in &messages {
        first_message.entry(m.case_id).or_insert(*id);
    }
    for (case, status) in &cases {
        let log = by_case.get(case).map(Vec::as_slice).unwrap_or_default();
        let created = log.iter().filter(|e| e.kind == "case_created").count();
        if created != 1 || log[0].kind != "case_created" {
            problems.push(format!(
                "case {case} has {created} case_created events (first: {:?})",
                log.first().map(|e| &e.kind)
            ));
            continue;
        }
        let folded = log
            .iter()
            .filter(|e| e.kind == "status_changed")
            .fold(log[0].data["status"].clone(), |_, e| e.after.clone());
        if folded != json!(status) {
            problems.push(format!("case {case} is {status} but its events say {folded}"));
        }
        match first_message.get(case).map(|m| &messages[m]) {
            Some(m) if m.role == "customer" => {}
            Some(m) => problems.push(format!("case {case} starts with a message by a {}", m.role)),
            None => problems.push(format!("case {case} has no message")),
        }
    }
    // ... and every message has exactly one event, of its kind, at its time.
    let mut said: HashMap<i64, usize> = HashMap::new();
    for e in events.iter().filter(|e| MESSAGE_KINDS.contains(&e.kind.as_str())) {
        let Some(id) = e.data["message_id"].as_i64() else {
            problems.push(format!("a {} event of case {} names no message", e.kind, e.case_id));
            continue;
        };
        *said.entry(id).or_default() += 1;
        let Some(m) = messages.get(&id) else {
            problems.push(format!("a {} event of case {} names message {id}, which is missing", e.kind, e.case_id));
            continue;
        };
        let kind = message_kind(m);
        if (m.case_id, kind, m.created_at) != (e.case_id, e.kind.as_str(), e.at) {
            problems.push(format!(
                "message {id} ({kind} on case {}) has a {} event on case {}",
                m.case_id, e.kind, e.case_id
            ));
        }
    }
    for id in messages.keys() {
        if said.get(id) != Some(&1) {
            problems.push(format!("message {id} has {} events", said.get(id).unwrap_or(&0)));
        }
    }

    // Every acknowledged case is there with the message it was opened with.
    for ack in &acked.cases {
        match first_message.get(&ack.id).map(|m| &messages[m]) {
            Some(m) if m.body == ack.message => {}
            Some(m) => {
                problems.push(format!("acknowledged case {} starts with {:?}, not {:?}", ack.id, m.body, ack.message))
            }
            None => problems.push(format!("acknowledged case {} is lost", ack.id)),
        }
    }
    // Every acknowledged message is there, with the status change it made.
    let status_changes: BTreeSet<(i64, i64, String)> = events
        .iter()
        .filter(|e| e.kind == "status_changed")
        .map(|e| (e.case_id, e.at, e.after.as_str().unwrap_or_default().to_owned()))
        .collect();
    for ack in &acked.replies {
        let Some(m) = messages.get(&ack.message_id) else {
            problems.push(format!("acknowledged message {} on case {} is lost", ack.message_id, ack.case_id));
            continue;
        };
        if (m.case_id, m.body.as_str()) != (ack.case_id, ack.body.as_str()) {
            problems.push(format!(
                "message {} is {:?} on case {}, not the acknowledged {:?}",
                ack.message_id, m.body, m.case_id, ack.body
            ));
        }
        if message_kind(m) != ack.kind {
            problems.push(format!(
                "message {} was acknowledged as a {}, it is stored as a {}",
                ack.message_id,
                ack.kind,
                message_kind(m)
            ));
        }
        if let Some(to) = &ack.status_change
            && !status_changes.contains(&(ack.case_id, m.created_at, to.clone()))
        {
            problems.push(format!(
                "acknowledged message {} set case {} to {to}, but no event says so",
                ack.message_id, ack.case_id
            ));
        }
    }

    promises_and_jobs(&snap, &cases, &events, &mut problems);
    side_effects(&snap, &mut problems);

    if rebuild && problems.is_empty() {
        let live = store.rollup_snapshot().await.unwrap();
        store.rebuild_metrics(|_, _| {}).await.unwrap();
        let rebuilt = store.rollup_snapshot().await.unwrap();
        if live != rebuilt {
            let diff: Vec<_> = live.iter().zip(&rebuilt).filter(|(a, b)| a != b).take(3).collect();
            problems.push(format!(
                "rollups ({} rows) differ from a rebuild ({} rows): {diff:?}",
                live.len(),
                rebuilt.len()
            ));
        }
    }
    if problems.is_empty() {
        Ok(Totals { cases: cases.len(), messages: messages.len(), events: events.len() })
    } else {
        let more = problems.len().saturating_sub(20);
        problems.truncate(20);
        if more > 0 {
            problems.push(format!("… and {more} more"));
        }
        Err(problems)
    }
}

/// The promise clocks agree with the log and the job queue: each clock's
/// count of recorded transitions equals its promise events (each appended
/// once, keyed `promise:{case}:{clock}:{ordinal}:{i}`), every case has its
/// clocks (the policy covers every case), and every running clock whose
/// deadline is still ahead has a job due no later than that deadline.
fn promises_and_jobs(snap: &Snapshot, cases: &BTreeMap<i64, String>, events: &[Event], problems: &mut Vec<String>) {
    let mut logged: HashMap<String, BTreeSet<i64>> = HashMap::new();
    for e in events {
        if let Some(key) = &e.dedup
            && let Some((clock, i)) = key.rsplit_once(':')
        {
            logged.entry(clock.to_owned()).or_default().insert(i.parse().unwrap());
        }
    }
    let mut with_clocks = BTreeSet::new();
    for r in &snap.clocks {
        let key = format!("promise:{}:{}:{}", int(&r[0]), text(&r[1]), int(&r[2]));
        with_clocks.insert(int(&r[0]));
        let transitions = int(&r[3]);
        let recorded = logged.remove(&key).unwrap_or_default();
        if recorded != (0..transitions).collect() {
            problems.push(format!("clock {key} counts {transitions} transitions, the log holds {recorded:?}"));
        }
    }
    for key in logged.keys() {
        problems.push(format!("promise events {key}:* belong to no stored clock"));
    }
    for case in cases.keys().filter(|c| !with_clocks.contains(c)) {
        problems.push(format!("case {case} has no promise clocks"));
    }
    for r in &snap.unscheduled {
        problems.push(format!(
            "running {} clock of case {} due at {:?} has no job",
            text(&r[1]),
            int(&r[0]),
            opt_int(&r[2])
        ));
    }
}

/// What a write does besides the case's own rows, in the same transaction:
/// a public agent reply queues its email to the requester; on SQLite every
/// message and subject is in the search index.
fn side_effects(snap: &Snapshot, problems: &mut Vec<String>) {
    for r in &snap.unmailed {
        problems.push(format!("public reply {} has no email queued", int(&r[0])));
    }
    for r in &snap.unindexed {
        problems.push(format!("search index lacks row {} (message id, or minus a case id)", int(&r[0])));
    }
}
