//! Files that came with messages, readable by whoever may see the case.

use crate::Store;
use crate::db::args;
use crate::error::Result;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::ids::CaseId;
use kept_core::permissions::Principal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub id: i64,
    pub case_id: i64,
    pub message_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

fn info(r: &crate::db::DbRow) -> Result<AttachmentInfo> {
    Ok(AttachmentInfo {
        id: r.int("id")?,
        case_id: r.int("case_id")?,
        message_id: r.opt_int("message_id")?,
        filename: r.text("filename")?,
        content_type: r.text("content_type")?,
        size: r.int("size")?,
        sha256: r.text("sha256")?,
        created_at: r.time("created_at")?,
    })
}

const COLUMNS: &str = "id, case_id, message_id, filename, content_type, size, sha256, created_at";

impl Store {
    /// The attachments of a case `by` may see (all of them come with public
    /// messages: email from the customer).
    pub async fn case_attachments(&self, by: &Principal, case: CaseId) -> Result<Vec<AttachmentInfo>> {
        let mut tx = self.db.begin_read().await?;
        crate::cases::load_visible(&mut tx, by, case, "").await?;
        let sql = crate::db::Sql::built(format!("SELECT {COLUMNS} FROM attachments WHERE case_id = $1 ORDER BY id"));
        let rows = tx.fetch_all(sql, args![case.0]).await?;
        rows.iter().map(info).collect()
    }

    /// One attachment with its content; a case `by` may not see has none.
    pub async fn attachment(&self, by: &Principal, case: CaseId, id: i64) -> Result<(AttachmentInfo, Vec<u8>)> {
        let mut tx = self.db.begin_read().await?;
        crate::cases::load_visible(&mut tx, by, case, "").await?;
        let sql =
            crate::db::Sql::built(format!("SELECT {COLUMNS}, content FROM attachments WHERE id = $1 AND case_id = $2"));
        let row = tx.fetch_optional(sql, args![id, case.0]).await?;
        let row = row.ok_or(DomainError::NotFound { entity: "attachment" })?;
        Ok((info(&row)?, row.bytes("content")?))
    }
}
