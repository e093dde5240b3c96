//! kept-store: the persistence of kept, on SQLite (one embedded file, the
//! default) or PostgreSQL (for several `kept serve` replicas).
//!
//! What belongs here: the schema and its migrations, the SQL, and the
//! transactional use cases — each change to a case is one transaction that
//! checks the domain rules (from kept-core), appends events, updates the
//! current state and the search index. What does not: HTTP, sessions as
//! cookies, templates (kept-server), and rules (kept-core).

mod accounts;
mod auth;
mod backup;
mod books;
mod bulk;
mod cases;
mod checkpoint;
mod connect;
mod db;
mod error;
mod floor;
mod import;
mod jobs;
mod mail;
mod metrics;
mod migrate;
mod people;
mod point;
mod promises;
mod search_index;
mod surveys;
pub mod test_support;
mod writer;

pub use accounts::{AccountPatch, NewAccount};
pub use auth::{ApiToken, SessionInfo};
pub use backup::{Contents, inspect_sqlite, restore_sqlite, sqlite_path};
pub use books::{CalendarInfo, PolicyInfo};
pub use bulk::BulkStatistics;
pub use cases::{
    AssigneeFilter, CaseDetail, CaseFilter, CaseHistory, CaseList, CaseSort, Cursor, HistoryAction, HistoryStep,
    IdempotencyKey, MAX_TAGS, MessageOutcome, MessageView, NewCase, NewInternalRequest, NewMessage, SortDirection,
    SortKey, TimelineEntry,
};
pub use connect::{PoolSize, redact};
pub use db::Backend;
pub use error::{Result, StoreError};
pub use floor::FloorRun;
pub use import::{ImportSummary, Importer, LineError, MAX_REPORTED_ERRORS};
pub use jobs::DueJob;
pub use mail::{AttachmentInfo, InboundAttachment, InboundEmail, Ingested, MailSettings, OutboxItem, OutboxStatus};
pub use metrics::{
    CostView, DRILL_LIMIT, Drill, DrillRow, ObjectiveMetricView, ObjectiveView, PeriodReading, Rebuilt, TargetView,
    target_for,
};
pub use migrate::MIGRATION_FILES;
pub use people::{NewTeam, NewUser, TeamPatch, UserFilter, UserPatch};
pub use promises::RECOVERY_ACTION_KINDS;
pub use promises::{
    NewAgentPromise, NewRecoveryAction, PromiseView, RecomputeOutcome, RecoveryActionView, RecoveryTaskView,
};

pub use surveys::{
    AnswerOutcome, FOLLOWUP_OWNERS, InvitationView, KudosView, PublicState, PublicSurvey, ResponseFilter, ResponseView,
    SurveyAnswer, SurveyDefinition, SurveySettings, SurveyTick,
};

use db::Db;

/// A handle on the database; cheap to clone (it holds pools).
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    books: std::sync::Arc<books::BooksCache>,
    mail: std::sync::Arc<MailSettings>,
}

impl Store {
    /// Opens the database named by `url` without migrating it.
    pub async fn open(url: &str, size: PoolSize) -> Result<Self> {
        Ok(Self { db: connect::open(url, size).await?, books: Default::default(), mail: Default::default() })
    }

    /// How mail written to the outbox is addressed and dated.
    pub fn with_mail(mut self, settings: MailSettings) -> Self {
        self.mail = std::sync::Arc::new(settings);
        self
    }

    /// Opens the database and applies any pending migrations.
    pub async fn open_and_migrate(url: &str, size: PoolSize) -> Result<Self> {
        let store = Self::open(url, size).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        migrate::run(&self.db).await
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}
