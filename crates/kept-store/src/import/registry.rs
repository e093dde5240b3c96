//! `case_imports`: which case each external id became, when its history was
//! last brought up to, and the fields as the file last said them.

use crate::db::{Arg, SqlBuilder, Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::ids::CaseId;
use kept_core::import::TrackedFields;
use std::collections::HashMap;

/// An external id already imported.
#[derive(Debug, Clone)]
pub(super) struct Registered {
    pub case: CaseId,
    pub last_event_at: Timestamp,
    pub fields: TrackedFields,
}

/// What a line leaves behind for the next import of the same id.
pub(super) struct Registration {
    pub external_id: String,
    pub case: CaseId,
    pub last_event_at: Timestamp,
    pub fields: TrackedFields,
}

pub(super) async fn load(tx: &mut Tx, external_ids: &[&str]) -> Result<HashMap<String, Registered>> {
    let mut out = HashMap::new();
    for chunk in external_ids.chunks(1000) {
        let mut q = SqlBuilder::new(
            "SELECT external_id, case_id, last_event_at, fields FROM case_imports WHERE external_id IN ",
        );
        q.bind_list(chunk.iter().copied());
        let (sql, args) = q.finish();
        for r in tx.fetch_all(sql, args).await? {
            let fields = serde_json::from_str(&r.text("fields")?)
                .map_err(|e| StoreError::Corrupt(format!("case_imports.fields: {e}")))?;
            out.insert(
                r.text("external_id")?,
                Registered { case: CaseId(r.int("case_id")?), last_event_at: r.time("last_event_at")?, fields },
            );
        }
    }
    Ok(out)
}

pub(super) async fn save(tx: &mut Tx, rows: &[Registration], now: Timestamp) -> Result<()> {
    let values = rows
        .iter()
        .map(|r| {
            let fields =
                serde_json::to_string(&r.fields).map_err(|e| StoreError::Corrupt(format!("tracked fields: {e}")))?;
            Ok(args![r.external_id.as_str(), r.case.0, r.last_event_at, fields, now, now])
        })
        .collect::<Result<Vec<Vec<Arg>>>>()?;
    tx.insert_rows(
        "INSERT INTO case_imports (external_id, case_id, last_event_at, fields, created_at, updated_at) VALUES ",
        " ON CONFLICT (external_id) DO UPDATE SET last_event_at = excluded.last_event_at, fields = excluded.fields, \
         updated_at = excluded.updated_at",
        &values,
    )
    .await
}
