//! Migrations, embedded in the binary. Each engine has its own folder with
//! the same file names (a test checks it); applied migrations are never edited.

use crate::db::Db;
use crate::error::Result;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;

/// (version, description, sqlite SQL, postgres SQL)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "promises",
        include_str!("../migrations/sqlite/0002_promises.sql"),
        include_str!("../migrations/postgres/0002_promises.sql"),
    ),
    (
        3,
        "mail",
        include_str!("../migrations/sqlite/0003_mail.sql"),
        include_str!("../migrations/postgres/0003_mail.sql"),
    ),
    (
        4,
        "surveys",
        include_str!("../migrations/sqlite/0004_surveys.sql"),
        include_str!("../migrations/postgres/0004_surveys.sql"),
    ),
    (
        5,
        "metrics",
        include_str!("../migrations/sqlite/0005_metrics.sql"),
        include_str!("../migrations/postgres/0005_metrics.sql"),
    ),
    (
        6,
        "import",
        include_str!("../migrations/sqlite/0006_import.sql"),
        include_str!("../migrations/postgres/0006_import.sql"),
    ),
    (
        7,
        "case answers",
        include_str!("../migrations/sqlite/0007_case_answers.sql"),
        include_str!("../migrations/postgres/0007_case_answers.sql"),
    ),
    (
        8,
        "rollup pending",
        include_str!("../migrations/sqlite/0008_rollup_pending.sql"),
        include_str!("../migrations/postgres/0008_rollup_pending.sql"),
    ),
];

/// The file names of each engine's migrations, for the twin-folder test.
pub const MIGRATION_FILES: &[&str] = &[
    "0001_foundation.sql",
    "0002_promises.sql",
    "0003_mail.sql",
    "0004_surveys.sql",
    "0005_metrics.sql",
    "0006_import.sql",
    "0007_case_answers.sql",
    "0008_rollup_pending.sql",
];

/// The newest migration this build knows: a database past it was written
/// by a newer kept, which this one must not touch.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0)
}

fn migrator(postgres: bool) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, pg)| {
            let sql = if postgres { pg } else { sqlite };
            Migration::new(*version, Cow::Borrowed(description), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

pub(crate) async fn run(db: &Db) -> Result<()> {
    match db {
        Db::Sqlite { write, .. } => write.migrate(&migrator(false)).await?,
        Db::Postgres(pool) => migrator(true).run(pool).await?,
    }
    Ok(())
}
