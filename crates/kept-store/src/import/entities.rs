//! Finding the accounts, teams and people a line names, and creating the
//! ones kept does not know yet (docs/IMPORT.md says how each is matched).
//!
//! Lookups are cached for the batch. A line that is refused is rolled back
//! to its savepoint, so whatever it created or looked up is forgotten too:
//! the cache must never hand a later line an id that was rolled back.

use super::Failure;
use crate::db::{Tx, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::FieldError;
use kept_core::ids::{AccountId, TeamId, UserId};
use kept_core::import::{AccountRef, DEFAULT_TIER, PersonRef};
use kept_core::people::Role;
use kept_core::values::Name;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy)]
struct Person {
    id: UserId,
    role: Role,
    account: Option<AccountId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Team(String),
    Person(String),
    Member(TeamId, UserId),
}

#[derive(Default)]
pub(super) struct Resolver {
    accounts: HashMap<String, (AccountId, String)>,
    teams: HashMap<String, TeamId>,
    people: HashMap<String, Person>,
    members: HashSet<(TeamId, UserId)>,
    /// What the current line added to the caches.
    fresh: Vec<Key>,
}

impl Resolver {
    /// The current line was imported: what it found stays known.
    pub fn keep(&mut self) {
        self.fresh.clear();
    }

    /// The current line was rolled back: forget what it found or created.
    pub fn forget(&mut self) {
        for key in self.fresh.drain(..) {
            match key {
                Key::Account(k) => {
                    self.accounts.remove(&k);
                }
                Key::Team(k) => {
                    self.teams.remove(&k);
                }
                Key::Person(k) => {
                    self.people.remove(&k);
                }
                Key::Member(t, u) => {
                    self.members.remove(&(t, u));
                }
            }
        }
    }

    /// The account named (regardless of case); created with the line's tier
    /// (else "standard") and no mail domains when new.
    pub async fn account(&mut self, tx: &mut Tx, a: &AccountRef, now: Timestamp) -> Result<(AccountId, String)> {
        let key = a.name.as_str().to_lowercase();
        if let Some(found) = self.accounts.get(&key) {
            return Ok(found.clone());
        }
        let row =
            tx.fetch_optional("SELECT id, name FROM accounts WHERE lower(name) = $1", args![key.as_str()]).await?;
        let found = match row {
            Some(r) => (AccountId(r.int("id")?), r.text("name")?),
            None => {
                let tier = a.tier.as_ref().map_or(DEFAULT_TIER, |t| t.as_str());
                let id = tx
                    .insert(
                        "INSERT INTO accounts (name, tier, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
                        args![a.name.as_str(), tier, now],
                    )
                    .await?;
                (AccountId(id), a.name.as_str().to_owned())
            }
        };
        self.accounts.insert(key.clone(), found.clone());
        self.fresh.push(Key::Account(key));
        Ok(found)
    }

    /// The team named (regardless of case), created when new. Internal teams
    /// serve other teams, not customers, so a customer case cannot go there.
    pub async fn team(&mut self, tx: &mut Tx, name: &Name, field: &str, now: Timestamp) -> Result<TeamId, Failure> {
        let key = name.as_str().to_lowercase();
        if let Some(id) = self.teams.get(&key) {
            return Ok(*id);
        }
        let row =
            tx.fetch_optional("SELECT id, internal FROM teams WHERE lower(name) = $1", args![key.as_str()]).await?;
        let id = match row {
            Some(r) if r.flag("internal")? => {
                return Err(Failure::Line(FieldError::new(
                    "internal_team",
                    field,
                    format!("{name:?} is an internal team; customer cases go to customer-facing teams"),
                )));
            }
            Some(r) => TeamId(r.int("id")?),
            None => TeamId(
                tx.insert(
                    "INSERT INTO teams (name, internal, created_at, updated_at) VALUES ($1, FALSE, $2, $2) RETURNING id",
                    args![name.as_str(), now],
                )
                .await?,
            ),
        };
        self.teams.insert(key.clone(), id);
        self.fresh.push(Key::Team(key));
        Ok(id)
    }

    async fn person(&mut self, tx: &mut Tx, p: &PersonRef) -> Result<Option<Person>> {
        if let Some(found) = self.people.get(p.email.as_str()) {
            return Ok(Some(*found));
        }
        let row = tx
            .fetch_optional("SELECT id, role, account_id FROM users WHERE email = $1", args![p.email.as_str()])
            .await?;
        let Some(r) = row else { return Ok(None) };
        let role =
            Role::parse("role", &r.text("role")?).map_err(|_| crate::StoreError::Corrupt("users.role".into()))?;
        let found = Person { id: UserId(r.int("id")?), role, account: r.opt_int("account_id")?.map(AccountId) };
        self.remember(p, found);
        Ok(Some(found))
    }

    fn remember(&mut self, p: &PersonRef, person: Person) {
        self.people.insert(p.email.as_str().to_owned(), person);
        self.fresh.push(Key::Person(p.email.as_str().to_owned()));
    }

    async fn create(
        &mut self,
        tx: &mut Tx,
        p: &PersonRef,
        role: Role,
        account: Option<AccountId>,
        now: Timestamp,
    ) -> Result<UserId> {
        let id = UserId(
            tx.insert(
                "INSERT INTO users (email, name, role, account_id, password_hash, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, NULL, TRUE, $5, $5) RETURNING id",
                args![p.email.as_str(), p.display_name(), role.as_str(), account.map(|a| a.0), now],
            )
            .await?,
        );
        self.remember(p, Person { id, role, account });
        Ok(id)
    }

    /// The requester: a contact of the line's account, created there when
    /// new. The file says which account a case belongs to, so a new contact
    /// joins it even when their mail domain is another account's (domains
    /// only route mail from unknown senders). A known contact of another
    /// account, or a staff member, is refused.
    pub async fn contact(
        &mut self,
        tx: &mut Tx,
        p: &PersonRef,
        account: (AccountId, &str),
        field: &str,
        now: Timestamp,
    ) -> Result<UserId, Failure> {
        match self.person(tx, p).await? {
            None => Ok(self.create(tx, p, Role::Contact, Some(account.0), now).await?),
            Some(found) if found.role != Role::Contact => Err(Failure::Line(FieldError::new(
                "invalid_requester",
                field,
                format!("{} is a staff member, not a customer contact", p.email),
            ))),
            Some(found) if found.account != Some(account.0) => Err(Failure::Line(FieldError::new(
                "account_mismatch",
                field,
                format!("{} is a contact of another account than {:?}", p.email, account.1),
            ))),
            Some(found) => Ok(found.id),
        }
    }

    /// A staff member (an assignee, a message's agent), created as an agent
    /// without a password when new (they cannot log in until given one).
    pub async fn staff(&mut self, tx: &mut Tx, p: &PersonRef, field: &str, now: Timestamp) -> Result<UserId, Failure> {
        match self.person(tx, p).await? {
            None => Ok(self.create(tx, p, Role::Agent, None, now).await?),
            Some(found) if found.role == Role::Contact => Err(Failure::Line(FieldError::new(
                "not_staff",
                field,
                format!("{} is a customer contact, not a staff member", p.email),
            ))),
            Some(found) => Ok(found.id),
        }
    }

    /// Makes an assignee a member of the case's team (they worked its cases).
    pub async fn member(&mut self, tx: &mut Tx, team: TeamId, user: UserId, now: Timestamp) -> Result<()> {
        if self.members.contains(&(team, user)) {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO team_members (team_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            args![team.0, user.0, now],
        )
        .await?;
        self.members.insert((team, user));
        self.fresh.push(Key::Member(team, user));
        Ok(())
    }
}
