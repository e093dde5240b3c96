//! The store's one error type. Constraint violations carry the constraint's
//! name, which both engines report alike (see the migrations' naming rule),
//! so callers can turn "users_email_key" into "that email is taken".

use kept_core::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule of the domain refused the change; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A unique or foreign-key constraint refused the change.
    #[error("constraint {constraint} violated")]
    Conflict { constraint: String },
    /// The database URL is not one kept can use.
    #[error("{0}")]
    Config(String),
    /// The database cannot be reached or opened.
    #[error("cannot open the database: {0}")]
    Unavailable(String),
    /// Anything else: a bug or an outage, logged in full by the caller.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The same, from SQLite's write connection (see writer.rs).
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value that does not decode into the domain (a bug or tampering).
    #[error("corrupt data in {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Constraint names and the domain error each one means.
pub(crate) type ConstraintErrors<'a> = &'a [(&'a str, fn() -> DomainError)];

impl From<kept_core::FieldError> for StoreError {
    fn from(e: kept_core::FieldError) -> Self {
        StoreError::Domain(DomainError::Invalid(e))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            let constraint = db.constraint().map(str::to_owned).or_else(|| sqlite_constraint_name(db.message()));
            let is_constraint = matches!(
                db.kind(),
                sqlx::error::ErrorKind::UniqueViolation | sqlx::error::ErrorKind::ForeignKeyViolation
            );
            if let (true, Some(constraint)) = (is_constraint, constraint) {
                return StoreError::Conflict { constraint };
            }
        }
        StoreError::Database(e)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        if let rusqlite::Error::SqliteFailure(code, Some(message)) = &e {
            let constraint = matches!(
                code.extended_code,
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            );
            if let (true, Some(constraint)) = (constraint, sqlite_constraint_name(message)) {
                return StoreError::Conflict { constraint };
            }
        }
        StoreError::Sqlite(e)
    }
}

impl StoreError {
    /// Turns a constraint violation into the domain error a user should see,
    /// using `known` (constraint name → error); other errors pass through.
    pub(crate) fn explain(self, known: ConstraintErrors) -> StoreError {
        match &self {
            StoreError::Conflict { constraint } => known
                .iter()
                .find(|(name, _)| name == constraint)
                .map(|(_, make)| StoreError::Domain(make()))
                .unwrap_or(self),
            _ => self,
        }
    }
}

/// SQLite does not report constraint names; it reports "UNIQUE constraint
/// failed: users.email" or "... failed: index 'accounts_name_key'". Rebuild
/// the PostgreSQL-style name from that.
fn sqlite_constraint_name(message: &str) -> Option<String> {
    let detail = message.split("constraint failed: ").nth(1)?;
    if let Some(index) = detail.strip_prefix("index '") {
        return index.strip_suffix('\'').map(str::to_owned);
    }
    let mut table = None;
    let mut columns = Vec::new();
    for part in detail.split(", ") {
        let (t, c) = part.split_once('.')?;
        table.get_or_insert(t);
        columns.push(c);
    }
    Some(format!("{}_{}_key", table?, columns.join("_")))
}

#[cfg(test)]
mod tests {
    use super::sqlite_constraint_name;

    #[test]
    fn sqlite_messages_become_postgres_style_constraint_names() {
        assert_eq!(sqlite_constraint_name("UNIQUE constraint failed: users.email").as_deref(), Some("users_email_key"));
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: team_members.team_id, team_members.user_id").as_deref(),
            Some("team_members_team_id_user_id_key")
        );
        assert_eq!(
            sqlite_constraint_name("UNIQUE constraint failed: index 'accounts_name_key'").as_deref(),
            Some("accounts_name_key")
        );
        assert_eq!(sqlite_constraint_name("FOREIGN KEY constraint failed"), None);
    }
}
