//! `kept demo` and `kept serve --demo`: writes the demo organisation of
//! kept-core's generator through the store, in batches, with progress.

use crate::cli::Failure;
use clap::Args;
use jiff::Timestamp;
use kept_core::cases::CasePatch;
use kept_core::demo::{CasePlan, CaseStream, DEMO_PASSWORD, DemoOrg, PlanAction, PlanStep, Who, organisation};
use kept_core::ids::{AccountId, TeamId, UserId};
use kept_core::permissions::Principal;
use kept_core::values::{Email, EmailDomain, MessageBody, Name, Slug, Subject};
use kept_store::{CaseHistory, HistoryAction, HistoryStep, NewAccount, NewTeam, NewUser, Store};
use std::fmt;
use std::io::Write;
use std::time::Instant;

#[derive(Args, Clone, Debug)]
pub struct DemoOptions {
    /// How many cases to generate.
    #[arg(long, default_value_t = 3000)]
    pub cases: usize,
    /// Over how many days before now.
    #[arg(long, default_value_t = 120)]
    pub days: u32,
    /// The same seed gives the same organisation and cases.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self { cases: 3000, days: 120, seed: 42 }
    }
}

/// What a newcomer needs to log in.
pub struct Logins(Vec<(&'static str, String)>);

impl fmt::Display for Logins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Demo logins (password for all: {DEMO_PASSWORD}):")?;
        for (role, email) in &self.0 {
            writeln!(f, "  {role:<10} {email}")?;
        }
        Ok(())
    }
}

pub struct Summary {
    logins: Logins,
    cases: usize,
    seconds: f64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Generated {} cases in {:.1} s ({:.0} cases/s).",
            self.cases,
            self.seconds,
            self.cases as f64 / self.seconds.max(1e-9)
        )?;
        write!(f, "{}", self.logins)
    }
}

/// Ids of what the organisation's indices became.
struct Ids {
    teams: Vec<TeamId>,
    staff: Vec<UserId>,
    accounts: Vec<AccountId>,
    contacts: Vec<Vec<UserId>>,
}

/// Seeds the demo when the database has no one yet; either way returns the logins.
pub async fn seed_if_empty(store: &Store, now: Timestamp) -> Result<Logins, Failure> {
    let org = organisation(DemoOptions::default().seed);
    if store.has_people().await? {
        return Ok(Logins(org.logins()));
    }
    let summary = seed(store, &DemoOptions::default(), now).await?;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "Seeded the demo organisation: {} cases over the last 120 days.", summary.cases);
    Ok(summary.logins)
}

/// Cases per transaction: each batch is a few multi-row statements per table
/// and one recompute (BENCHMARKS.md has the figures behind the size).
const BATCH: usize = 2000;

pub async fn seed(store: &Store, options: &DemoOptions, now: Timestamp) -> Result<Summary, Failure> {
    if store.has_people().await? {
        return Err(Failure {
            code: 1,
            message: "the database already has people in it; seed the demo into a fresh database".into(),
        });
    }
    let started = Instant::now();
    let org = organisation(options.seed);
    let ids = create_org(store, &org, now).await?;
    // The promises were in force from the start of the history.
    let since = now.checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(options.days) + 48)).unwrap_or(now);
    create_books(store, &ids, since).await?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut written = 0;
    let mut statistics = kept_store::BulkStatistics::new();
    let step = (options.cases / 10).max(1);
    for plan in CaseStream::new(&org, options.seed, options.cases, options.days, now) {
        batch.push(history(&plan, &ids)?);
        if batch.len() == BATCH {
            written += flush(store, &mut batch, now).await?;
            statistics.after(store, written as u64).await?;
            if written % step < BATCH && options.cases >= 20_000 {
                let mut err = std::io::stderr().lock();
                let _ =
                    writeln!(err, "  {written} / {} cases ({:.0} s)", options.cases, started.elapsed().as_secs_f64());
            }
        }
    }
    written += flush(store, &mut batch, now).await?;
    crate::demo_plans::seed(store, since, now).await?;
    store.fold_waiting_rollups().await?;
    Ok(Summary { logins: Logins(org.logins()), cases: written, seconds: started.elapsed().as_secs_f64() })
}

async fn flush(store: &Store, batch: &mut Vec<CaseHistory>, now: Timestamp) -> Result<usize, Failure> {
    let n = batch.len();
    if n > 0 {
        store.import_histories(batch, now).await?;
        batch.clear();
    }
    Ok(n)
}

fn invalid(e: kept_core::FieldError) -> Failure {
    Failure { code: 1, message: format!("demo data is invalid ({}: {}); this is a bug", e.field, e.message) }
}

async fn create_org(store: &Store, org: &DemoOrg, now: Timestamp) -> Result<Ids, Failure> {
    let sys = Principal::system();
    // One hash for every demo login: hashing is deliberately slow.
    let hash = kept_server::auth::secrets::hash_password(DEMO_PASSWORD)
        .map_err(|e| Failure { code: 1, message: e.to_string() })?;
    let mut ids = Ids { teams: Vec::new(), staff: Vec::new(), accounts: Vec::new(), contacts: Vec::new() };
    for t in &org.teams {
        let team = store
            .create_team(
                &sys,
                NewTeam { name: Name::parse("team", t.name).map_err(invalid)?, internal: t.internal },
                now,
            )
            .await?;
        ids.teams.push(team.id);
    }
    for s in &org.staff {
        let new = NewUser {
            email: Email::parse("email", &s.email).map_err(invalid)?,
            name: Name::parse("name", &s.name).map_err(invalid)?,
            role: s.role,
            account_id: None,
            password_hash: Some(hash.clone()),
        };
        let user = store.create_user(&sys, new, now).await?;
        for t in &s.teams {
            store.add_team_member(&sys, ids.teams[*t], user.id, now).await?;
        }
        ids.staff.push(user.id);
    }
    for (i, a) in org.accounts.iter().enumerate() {
        let new = NewAccount {
            name: Name::parse("name", &a.name).map_err(invalid)?,
            tier: Slug::parse("tier", a.tier).map_err(invalid)?,
            domains: vec![EmailDomain::parse("domain", &a.domain).map_err(invalid)?],
        };
        let account = store.create_account(&sys, new, now).await?;
        let mut contacts = Vec::new();
        for (j, c) in a.contacts.iter().enumerate() {
            let new = NewUser {
                email: Email::parse("email", &c.email).map_err(invalid)?,
                name: Name::parse("name", &c.name).map_err(invalid)?,
                role: kept_core::people::Role::Contact,
                account_id: Some(account.id),
                // Only the printed customer login can sign in to the portal.
                password_hash: (i == 0 && j == 0).then(|| hash.clone()),
            };
            contacts.push(store.create_user(&sys, new, now).await?.id);
        }
        ids.accounts.push(account.id);
        ids.contacts.push(contacts);
    }
    Ok(ids)
}

fn who(ids: &Ids, w: Who) -> Option<UserId> {
    match w {
        Who::Staff(i) => Some(ids.staff[i]),
        Who::Contact { account, contact } => Some(ids.contacts[account][contact]),
        Who::System => None,
    }
}

fn steps(plan_steps: &[PlanStep], ids: &Ids) -> Result<Vec<HistoryStep>, Failure> {
    plan_steps
        .iter()
        .map(|s| {
            let action = match &s.action {
                PlanAction::Message { role, public, body, status } => HistoryAction::Message {
                    role: *role,
                    public: *public,
                    body: MessageBody::parse("body", body).map_err(invalid)?,
                    status: *status,
                },
                PlanAction::Assign(i) => {
                    HistoryAction::Change(CasePatch { assignee_id: Some(Some(ids.staff[*i])), ..CasePatch::default() })
                }
                PlanAction::SetStatus(st) => {
                    HistoryAction::Change(CasePatch { status: Some(*st), ..CasePatch::default() })
                }
                PlanAction::SetPriority(p) => {
                    HistoryAction::Change(CasePatch { priority: Some(*p), ..CasePatch::default() })
                }
                PlanAction::InternalRequest { team, subject, body, steps: child } => HistoryAction::InternalRequest {
                    team_id: ids.teams[*team],
                    subject: Subject::parse("subject", subject).map_err(invalid)?,
                    body: MessageBody::parse("body", body).map_err(invalid)?,
                    steps: steps(child, ids)?,
                },
            };
            Ok(HistoryStep { at: s.at, actor: who(ids, s.who), action })
        })
        .collect()
}

fn history(plan: &CasePlan, ids: &Ids) -> Result<CaseHistory, Failure> {
    Ok(CaseHistory {
        subject: Subject::parse("subject", plan.subject).map_err(invalid)?,
        body: MessageBody::parse("body", plan.body).map_err(invalid)?,
        channel: plan.channel,
        priority: plan.priority,
        case_type: Slug::parse("case_type", plan.case_type).map_err(invalid)?,
        tags: plan.tags.iter().map(|t| Slug::parse("tag", t)).collect::<Result<_, _>>().map_err(invalid)?,
        account_id: ids.accounts[plan.account],
        requester_id: ids.contacts[plan.account][plan.contact],
        team_id: ids.teams[plan.team],
        assignee_id: None,
        created_at: plan.created_at,
        created_by: plan.entered_by.map(|i| ids.staff[i]),
        steps: steps(&plan.steps, ids)?,
        surveys: plan.surveys.clone(),
    })
}

/// The demo's service strategy made concrete: a New York office calendar
/// and four policies (internal requests, urgent cases, enterprise accounts,
/// everyone else).
async fn create_books(store: &Store, ids: &Ids, since: Timestamp) -> Result<(), Failure> {
    let sys = Principal::system();
    let calendar = kept_core::calendar::Calendar::from_json(
        r#"{"time_zone": "America/New_York", "weekly": {"mon": [["08:00","18:00"]], "tue": [["08:00","18:00"]],
            "wed": [["08:00","18:00"]], "thu": [["08:00","18:00"]], "fri": [["08:00","18:00"]]},
            "holidays": ["2025-12-25", "2026-01-01", "2026-05-25", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25", "2027-01-01"]}"#,
    )
    .map_err(|e| Failure { code: 1, message: format!("demo calendar: {}", e.reason()) })?;
    let cal = store
        .create_calendar(&sys, Name::parse("name", "New York office").map_err(invalid)?, &calendar, since)
        .await?
        .id;
    let it = ids.teams[kept_core::demo::IT].0;
    let policies = [
        format!(
            r#"{{"name": "Internal requests", "calendar_id": {cal}, "conditions": {{"team_ids": [{it}]}},
            "targets": [{{"clock": "internal_handoff", "minutes": 240, "warn_at_percent": 75}}]}}"#
        ),
        format!(
            r#"{{"name": "Urgent", "calendar_id": {cal}, "conditions": {{"priorities": ["urgent"]}},
            "targets": [{{"clock": "first_response", "minutes": 30, "time": "calendar", "warn_at_percent": 50}},
                        {{"clock": "next_reply", "minutes": 60, "time": "calendar"}},
                        {{"clock": "first_resolution", "minutes": 480, "class": "core"}}],
            "recovery": {{"minutes": 60}}}}"#
        ),
        format!(
            r#"{{"name": "Enterprise accounts", "calendar_id": {cal}, "conditions": {{"tiers": ["enterprise"]}},
            "targets": [{{"clock": "first_response", "minutes": 60, "warn_at_percent": 75}},
                        {{"clock": "next_reply", "minutes": 240}},
                        {{"clock": "first_resolution", "minutes": 1200, "class": "core"}},
                        {{"clock": "keep_in_loop", "minutes": 1440, "time": "calendar"}}],
            "recovery": {{"minutes": 120, "raise_priority": true}}}}"#
        ),
        format!(
            r#"{{"name": "Everyone", "calendar_id": {cal},
            "targets": [{{"clock": "first_response", "minutes": 240, "warn_at_percent": 75}},
                        {{"clock": "next_reply", "minutes": 480}},
                        {{"clock": "first_resolution", "minutes": 3000, "class": "core"}}]}}"#
        ),
    ];
    for json in policies {
        let spec: kept_core::promises::PolicySpec =
            serde_json::from_str(&json).map_err(|e| Failure { code: 1, message: format!("demo policy: {e}") })?;
        store.create_policy(&sys, spec, since).await?;
    }
    Ok(())
}
