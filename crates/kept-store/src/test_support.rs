//! Test databases for this crate's and other crates' tests: a fresh SQLite
//! file, or a fresh PostgreSQL schema when `KEPT_TEST_POSTGRES_URL` is set,
//! each dropped when the test ends. Plus a small fixture organisation.
//!
//! Compiled into the library (it is small and touches nothing unless called)
//! so that kept-server and the binary's tests can share it.

use crate::{NewAccount, NewTeam, NewUser, PoolSize, Store};
use jiff::Timestamp;
use kept_core::accounts::{Account, Team};
use kept_core::people::{Role, User};
use kept_core::permissions::Principal;
use kept_core::values::{Email, EmailDomain, Name, Slug};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The environment variable that switches the PostgreSQL suite on.
pub const POSTGRES_ENV: &str = "KEPT_TEST_POSTGRES_URL";

enum Cleanup {
    File(PathBuf),
    Schema { admin_url: String, schema: String },
}

/// A throwaway database, migrated, removed on drop.
pub struct TestDb {
    pub store: Store,
    url: String,
    cleanup: Cleanup,
}

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}", std::process::id())
}

impl TestDb {
    /// A fresh SQLite database in a temporary file.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("{}.db", unique("kept_test")));
        // A crashed run with a recycled process id may have left a file behind.
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}", path.display());
        let store =
            Store::open_and_migrate(&url, PoolSize::default()).await.unwrap_or_else(|e| panic!("sqlite test db: {e}"));
        TestDb { store, url, cleanup: Cleanup::File(path) }
    }

    /// A fresh PostgreSQL schema, or `None` when the PostgreSQL suite is off.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())?;
        Some(Self::postgres_at(&admin_url).await.unwrap_or_else(|e| panic!("{POSTGRES_ENV}: {e}")))
    }

    /// A fresh schema in the PostgreSQL database at `admin_url`, migrated
    /// (also what `kept bench` measures on), dropped on drop.
    pub async fn postgres_at(admin_url: &str) -> crate::Result<TestDb> {
        let schema = unique("kept_t");
        let admin = Store::open(admin_url, PoolSize { max: 2 }).await?;
        let created = admin.db.execute(crate::db::Sql::built(format!("CREATE SCHEMA {schema}")), Vec::new()).await;
        admin.close().await;
        created?;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options[search_path]={schema}");
        let cleanup = Cleanup::Schema { admin_url: admin_url.to_owned(), schema };
        let store = Store::open_and_migrate(&url, PoolSize { max: 4 }).await?;
        Ok(TestDb { store, url, cleanup })
    }

    /// The URL a separate `kept` process can open this database with.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Schema { admin_url, schema } => {
                // Drop runs inside an async test; a thread with its own runtime
                // can wait for the drop without blocking the test's runtime.
                let (admin_url, schema, store) = (admin_url.clone(), schema.clone(), self.store.clone());
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                        return;
                    };
                    rt.block_on(async move {
                        store.close().await;
                        if let Ok(admin) = Store::open(&admin_url, PoolSize { max: 1 }).await {
                            let sql = crate::db::Sql::built(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                            let _ = admin.db.execute(sql, Vec::new()).await;
                            admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL (when switched on).
///
/// ```ignore
/// store_test!(creates_a_case, async |db: TestDb| { … });
/// ```
#[macro_export]
macro_rules! store_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::test_support::TestDb::sqlite().await;
                ($body)(&db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::test_support::TestDb::postgres().await else {
                    eprintln!("skipped: set {} to run on PostgreSQL", $crate::test_support::POSTGRES_ENV);
                    return;
                };
                ($body)(&db).await;
            }
        }
    };
}

/// A small organisation: a customer team (Support) and an internal one (IT),
/// two customer accounts with a contact each, and one person per staff role.
pub struct Fixture {
    pub support: Team,
    pub it: Team,
    pub acme: Account,
    pub globex: Account,
    pub admin: User,
    pub manager: User,
    pub agent: User,
    pub it_agent: User,
    pub ana: User,
    pub bob: User,
}

/// The password every fixture person has.
pub const FIXTURE_PASSWORD: &str = "correct horse battery staple";

fn must<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("fixture {what}: {e}"))
}

impl Fixture {
    /// Creates the fixture. `password_hash` is stored for every person (pass
    /// a real argon2 hash to test logins).
    pub async fn create(store: &Store, password_hash: Option<String>, now: Timestamp) -> Fixture {
        let sys = Principal::system();
        let team = async |name: &str, internal| {
            must(
                store.create_team(&sys, NewTeam { name: must(Name::parse("n", name), name), internal }, now).await,
                name,
            )
        };
        let support = team("Support", false).await;
        let it = team("IT", true).await;
        let account = async |name: &str, tier: &str, domain: &str| {
            let new = NewAccount {
                name: must(Name::parse("n", name), name),
                tier: must(Slug::parse("t", tier), tier),
                domains: vec![must(EmailDomain::parse("d", domain), domain)],
            };
            must(store.create_account(&sys, new, now).await, name)
        };
        let acme = account("Acme", "premium", "acme.test").await;
        let globex = account("Globex", "standard", "globex.test").await;
        let person = async |email: &str, name: &str, role: Role, account: Option<&Account>| {
            let new = NewUser {
                email: must(Email::parse("e", email), email),
                name: must(Name::parse("n", name), name),
                role,
                account_id: account.map(|a| a.id),
                password_hash: password_hash.clone(),
            };
            must(store.create_user(&sys, new, now).await, email)
        };
        let admin = person("admin@kept.test", "Ada Admin", Role::Admin, None).await;
        let manager = person("manager@kept.test", "Max Manager", Role::Manager, None).await;
        let agent = person("agent@kept.test", "Alex Agent", Role::Agent, None).await;
        let it_agent = person("it@kept.test", "Ivy Tech", Role::Agent, None).await;
        let ana = person("ana@acme.test", "Ana Acme", Role::Contact, Some(&acme)).await;
        let bob = person("bob@globex.test", "Bob Globex", Role::Contact, Some(&globex)).await;
        for (t, u) in [(&support, &manager), (&support, &agent), (&it, &it_agent)] {
            must(store.add_team_member(&sys, t.id, u.id, now).await, "membership");
        }
        Fixture { support, it, acme, globex, admin, manager, agent, it_agent, ana, bob }
    }

    pub async fn principal(&self, store: &Store, user: &User) -> Principal {
        must(store.principal(user).await, "principal")
    }
}

impl Store {
    /// Runs raw SQL, bypassing every rule: only for tests that must act as an
    /// intruder or inspect the schema.
    pub async fn execute_unchecked(&self, sql: &str) -> crate::Result<u64> {
        self.db.execute(crate::db::Sql::built(sql.to_owned()), Vec::new()).await
    }
}

impl Store {
    /// How many events of `kind` the log holds, and on how many distinct cases.
    pub async fn count_events_unchecked(&self, kind: &str) -> crate::Result<(i64, i64)> {
        let row = self
            .db
            .fetch_one(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT case_id) AS cases FROM events WHERE kind = $1",
                crate::db::args![kind],
            )
            .await?;
        Ok((row.int("n")?, row.int("cases")?))
    }
}

/// A stored promise clock, as `promise_instances` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClock {
    pub kind: String,
    pub ordinal: i64,
    pub status: String,
    pub elapsed_ms: i64,
    pub breach_at: Option<Timestamp>,
    pub fulfilled_at: Option<Timestamp>,
}

impl Store {
    /// The clocks stored for a case (what recompute wrote), by kind and ordinal.
    pub async fn stored_clocks_unchecked(&self, case: kept_core::ids::CaseId) -> crate::Result<Vec<StoredClock>> {
        let rows = self
            .db
            .fetch_all(
                "SELECT kind, ordinal, status, elapsed_ms, breach_at, fulfilled_at FROM promise_instances \
                 WHERE case_id = $1 ORDER BY kind, ordinal",
                crate::db::args![case.0],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredClock {
                    kind: r.text("kind")?,
                    ordinal: r.int("ordinal")?,
                    status: r.text("status")?,
                    elapsed_ms: r.int("elapsed_ms")?,
                    breach_at: r.opt_time("breach_at")?,
                    fulfilled_at: r.opt_time("fulfilled_at")?,
                })
            })
            .collect()
    }

    /// A case's id from the external id a history import gave it.
    pub async fn imported_case_unchecked(&self, external_id: &str) -> crate::Result<Option<kept_core::ids::CaseId>> {
        let row = self
            .db
            .fetch_optional("SELECT case_id FROM case_imports WHERE external_id = $1", crate::db::args![external_id])
            .await?;
        row.map(|r| r.int("case_id").map(kept_core::ids::CaseId)).transpose()
    }

    /// How many rows `table` holds (a fixed name from the schema).
    pub async fn count_rows_unchecked(&self, table: &str) -> crate::Result<i64> {
        let sql = crate::db::Sql::built(format!("SELECT COUNT(*) AS n FROM {table}"));
        self.db.fetch_one(sql, Vec::new()).await?.int("n")
    }
}

/// Rows as `rows_unchecked` returns them: each column as text, NULL as `None`.
pub type TextRows = Vec<Vec<Option<String>>>;

impl Store {
    /// Runs a raw SELECT and returns `columns` of every row as text (integers
    /// formatted, NULL as `None`): for tests that state invariants of the
    /// schema in SQL, such as "no change was left half-written by a crash".
    /// Columns must be BIGINT or text (cast booleans and integer literals to
    /// BIGINT in the query: PostgreSQL types a literal 1 as INT4).
    pub async fn rows_unchecked(&self, sql: &str, columns: &[&str]) -> crate::Result<TextRows> {
        Ok(self.snapshot_unchecked(&[(sql, columns)]).await?.remove(0))
    }

    /// Several such SELECTs in one read-only snapshot, so that they agree
    /// with each other even while something else writes.
    pub async fn snapshot_unchecked(&self, queries: &[(&str, &[&str])]) -> crate::Result<Vec<TextRows>> {
        let mut tx = self.db.begin_read().await?;
        let mut out = Vec::with_capacity(queries.len());
        for (sql, columns) in queries {
            let rows = tx.fetch_all(crate::db::Sql::built((*sql).to_owned()), Vec::new()).await?;
            let rows = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|c| match r.opt_int(c) {
                            Ok(n) => Ok(n.map(|n| n.to_string())),
                            Err(_) => r.opt_text(c),
                        })
                        .collect()
                })
                .collect::<crate::Result<TextRows>>()?;
            out.push(rows);
        }
        Ok(out)
    }
}
