//! Calendars and promise policies: the "books" every clock is evaluated
//! against. Both are versioned — an edit is a new version from that instant
//! on — so a case's clocks can always be replayed under the rules that were
//! in force. Any change bumps a generation counter (each replica's cache
//! checks it) and asks for every unsolved case's clocks to be recomputed.

use crate::Store;
use crate::db::{Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::calendar::Calendar;
use kept_core::permissions::Principal;
use kept_core::promises::{Books, CalendarHistory, PolicyHistory, PolicySpec};
use kept_core::values::Name;
use std::sync::{Arc, Mutex};

/// A calendar as listed: its current version.
#[derive(Debug, Clone)]
pub struct CalendarInfo {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub calendar: Calendar,
    pub effective_from: Timestamp,
}

/// A policy as listed: its current version.
#[derive(Debug, Clone)]
pub struct PolicyInfo {
    pub id: i64,
    pub position: i64,
    pub version: i64,
    pub active: bool,
    pub spec: PolicySpec,
    pub effective_from: Timestamp,
}

/// Each replica's copy of the books, valid for one generation.
#[derive(Debug, Default)]
pub(crate) struct BooksCache(Mutex<Option<(i64, Arc<Books>)>>);

fn corrupt<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

fn name_taken() -> DomainError {
    DomainError::conflict("name_taken", Some("name"), "a calendar with this name already exists")
}

/// Dates the first version of every policy back to `to` where it took
/// effect later, so that history older than the policies (a history import)
/// is measured under them — what the organisation's attainment would have
/// been — instead of running clocks from the day a policy was written. Later
/// versions keep their dates: time after an edit is still measured by the
/// version then in force. Calendars need nothing: before its first version a
/// calendar already counts as that version (`Books::calendar_at`).
pub(crate) async fn date_policies_back(tx: &mut Tx, to: Timestamp, now: Timestamp) -> Result<()> {
    let moved = tx
        .execute(
            "UPDATE policy_versions SET effective_from = $1 WHERE effective_from > $1 \
             AND version = (SELECT MIN(version) FROM policy_versions w WHERE w.policy_id = policy_versions.policy_id)",
            args![to],
        )
        .await?;
    if moved > 0 {
        books_changed(tx, now).await?;
    }
    Ok(())
}

/// Marks the books changed and asks for every unsolved case to be re-evaluated.
async fn books_changed(tx: &mut Tx, now: Timestamp) -> Result<()> {
    tx.execute("UPDATE books_generation SET generation = generation + 1 WHERE id = 1", args![]).await?;
    tx.execute(
        "INSERT INTO jobs (kind, case_id, run_at) SELECT 'promise_clock', id, $1 FROM cases WHERE status NOT IN ('solved', 'closed') \
         ON CONFLICT (kind, case_id) DO UPDATE SET run_at = excluded.run_at, locked_by = NULL, locked_until = NULL",
        args![now],
    )
    .await?;
    Ok(())
}

async fn next_version(tx: &mut Tx, sql: &'static str, id: i64) -> Result<i64> {
    Ok(tx.fetch_one(sql, args![id]).await?.opt_int("v")?.unwrap_or(0) + 1)
}

impl Store {
    pub async fn create_calendar(
        &self,
        by: &Principal,
        name: Name,
        calendar: &Calendar,
        now: Timestamp,
    ) -> Result<CalendarInfo> {
        by.require_admin()?;
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO calendars (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
                args![name.as_str(), now],
            )
            .await
            .map_err(|e| e.explain(&[("calendars_name_key", name_taken)]))?;
        write_calendar_version(&mut tx, id, 1, calendar, by, now).await?;
        books_changed(&mut tx, now).await?;
        tx.commit().await?;
        Ok(CalendarInfo { id, name: name.to_string(), version: 1, calendar: calendar.clone(), effective_from: now })
    }

    /// Renames and/or re-times a calendar; new hours apply from `now` on.
    pub async fn update_calendar(
        &self,
        by: &Principal,
        id: i64,
        name: Option<Name>,
        calendar: Option<&Calendar>,
        now: Timestamp,
    ) -> Result<CalendarInfo> {
        by.require_admin()?;
        let mut tx = self.db.begin().await?;
        if tx.fetch_optional("SELECT id FROM calendars WHERE id = $1", args![id]).await?.is_none() {
            return Err(DomainError::NotFound { entity: "calendar" }.into());
        }
        if let Some(name) = &name {
            tx.execute("UPDATE calendars SET name = $1, updated_at = $2 WHERE id = $3", args![name.as_str(), now, id])
                .await
                .map_err(|e| e.explain(&[("calendars_name_key", name_taken)]))?;
        }
        if let Some(calendar) = calendar {
            let version =
                next_version(&mut tx, "SELECT MAX(version) AS v FROM calendar_versions WHERE calendar_id = $1", id)
                    .await?;
            write_calendar_version(&mut tx, id, version, calendar, by, now).await?;
            books_changed(&mut tx, now).await?;
        }
        tx.commit().await?;
        self.get_calendar(by, id).await
    }

    pub async fn list_calendars(&self, by: &Principal) -> Result<Vec<CalendarInfo>> {
        by.require_staff()?;
        let rows = self
            .db
            .fetch_all(
                "SELECT c.id, c.name, v.version, v.effective_from, v.spec FROM calendars c JOIN calendar_versions v ON v.calendar_id = c.id \
                 WHERE v.version = (SELECT MAX(version) FROM calendar_versions w WHERE w.calendar_id = c.id) ORDER BY c.name",
                args![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CalendarInfo {
                    id: r.int("id")?,
                    name: r.text("name")?,
                    version: r.int("version")?,
                    calendar: Calendar::from_json(&r.text("spec")?).map_err(corrupt("calendar_versions"))?,
                    effective_from: r.time("effective_from")?,
                })
            })
            .collect()
    }

    pub async fn get_calendar(&self, by: &Principal, id: i64) -> Result<CalendarInfo> {
        self.list_calendars(by)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| DomainError::NotFound { entity: "calendar" }.into())
    }

    pub async fn create_policy(&self, by: &Principal, spec: PolicySpec, now: Timestamp) -> Result<PolicyInfo> {
        by.require_admin()?;
        spec.validate(0, 1)?;
        let mut tx = self.db.begin().await?;
        check_calendar(&mut tx, spec.calendar_id).await?;
        let position =
            tx.fetch_one("SELECT MAX(position) AS p FROM promise_policies", args![]).await?.opt_int("p")?.unwrap_or(0)
                + 1;
        let id = tx
            .insert(
                "INSERT INTO promise_policies (position, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
                args![position, now],
            )
            .await?;
        write_policy_version(&mut tx, id, 1, true, &spec, by, now).await?;
        books_changed(&mut tx, now).await?;
        tx.commit().await?;
        Ok(PolicyInfo { id, position, version: 1, active: true, spec, effective_from: now })
    }

    /// A new version of a policy (its spec and/or whether it is on), in force from `now`.
    pub async fn update_policy(
        &self,
        by: &Principal,
        id: i64,
        spec: Option<PolicySpec>,
        active: Option<bool>,
        now: Timestamp,
    ) -> Result<PolicyInfo> {
        by.require_admin()?;
        let current = self.get_policy(by, id).await?;
        let spec = spec.unwrap_or(current.spec);
        spec.validate(id, current.version + 1)?;
        let active = active.unwrap_or(current.active);
        let mut tx = self.db.begin().await?;
        check_calendar(&mut tx, spec.calendar_id).await?;
        let version =
            next_version(&mut tx, "SELECT MAX(version) AS v FROM policy_versions WHERE policy_id = $1", id).await?;
        write_policy_version(&mut tx, id, version, active, &spec, by, now).await?;
        tx.execute("UPDATE promise_policies SET updated_at = $1 WHERE id = $2", args![now, id]).await?;
        books_changed(&mut tx, now).await?;
        tx.commit().await?;
        Ok(PolicyInfo { id, position: current.position, version, active, spec, effective_from: now })
    }

    /// Sets the order in which policies are tried: `ids` first, in this order.
    pub async fn reorder_policies(&self, by: &Principal, ids: &[i64], now: Timestamp) -> Result<Vec<PolicyInfo>> {
        by.require_admin()?;
        let mut tx = self.db.begin().await?;
        for (i, id) in ids.iter().enumerate() {
            let n = tx
                .execute(
                    "UPDATE promise_policies SET position = $1, updated_at = $2 WHERE id = $3",
                    args![i as i64 + 1, now, *id],
                )
                .await?;
            if n == 0 {
                return Err(DomainError::invalid(
                    "unknown_policy",
                    format!("ids[{i}]"),
                    format!("there is no policy {id}"),
                )
                .into());
            }
        }
        books_changed(&mut tx, now).await?;
        tx.commit().await?;
        self.list_policies(by).await
    }

    pub async fn list_policies(&self, by: &Principal) -> Result<Vec<PolicyInfo>> {
        by.require_staff()?;
        let rows = self
            .db
            .fetch_all(
                "SELECT p.id, p.position, v.version, v.active, v.effective_from, v.spec FROM promise_policies p \
                 JOIN policy_versions v ON v.policy_id = p.id \
                 WHERE v.version = (SELECT MAX(version) FROM policy_versions w WHERE w.policy_id = p.id) ORDER BY p.position, p.id",
                args![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PolicyInfo {
                    id: r.int("id")?,
                    position: r.int("position")?,
                    version: r.int("version")?,
                    active: r.flag("active")?,
                    spec: serde_json::from_str(&r.text("spec")?).map_err(corrupt("policy_versions"))?,
                    effective_from: r.time("effective_from")?,
                })
            })
            .collect()
    }

    pub async fn get_policy(&self, by: &Principal, id: i64) -> Result<PolicyInfo> {
        self.list_policies(by)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| DomainError::NotFound { entity: "policy" }.into())
    }

    /// The books in force, from this replica's cache when still current.
    pub(crate) async fn books(&self, tx: &mut Tx) -> Result<Arc<Books>> {
        Ok(self.books_and_zone(tx).await?.0)
    }

    /// The books in force and the name of the zone the rollups count days
    /// in (None before the first rollup), asked in one statement: every
    /// change to a case needs both, and on PostgreSQL each statement is a
    /// round trip under the write lock.
    pub(crate) async fn books_and_zone(&self, tx: &mut Tx) -> Result<(Arc<Books>, Option<String>)> {
        let row = tx
            .fetch_one(
                "SELECT b.generation, m.time_zone FROM books_generation b LEFT JOIN metric_state m ON m.id = 1 WHERE b.id = 1",
                args![],
            )
            .await?;
        let (generation, zone) = (row.int("generation")?, row.opt_text("time_zone")?);
        if let Some((g, books)) = self.books.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && *g == generation
        {
            return Ok((books.clone(), zone));
        }
        let books = Arc::new(load_books(tx).await?);
        *self.books.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, books.clone()));
        Ok((books, zone))
    }
}

async fn check_calendar(tx: &mut Tx, id: Option<i64>) -> Result<()> {
    if let Some(id) = id
        && tx.fetch_optional("SELECT id FROM calendars WHERE id = $1", args![id]).await?.is_none()
    {
        return Err(
            DomainError::invalid("unknown_calendar", "calendar_id", format!("there is no calendar {id}")).into()
        );
    }
    Ok(())
}

async fn write_calendar_version(
    tx: &mut Tx,
    id: i64,
    version: i64,
    calendar: &Calendar,
    by: &Principal,
    now: Timestamp,
) -> Result<()> {
    let spec = serde_json::to_string(&calendar.to_spec()).map_err(corrupt("calendar"))?;
    tx.execute(
        "INSERT INTO calendar_versions (calendar_id, version, effective_from, spec, created_by) VALUES ($1, $2, $3, $4, $5)",
        args![id, version, now, spec, by.actor().map(|u| u.0)],
    )
    .await?;
    Ok(())
}

async fn write_policy_version(
    tx: &mut Tx,
    id: i64,
    version: i64,
    active: bool,
    spec: &PolicySpec,
    by: &Principal,
    now: Timestamp,
) -> Result<()> {
    let text = serde_json::to_string(spec).map_err(corrupt("policy"))?;
    tx.execute(
        "INSERT INTO policy_versions (policy_id, version, effective_from, active, spec, created_by) VALUES ($1, $2, $3, $4, $5, $6)",
        args![id, version, now, active, text, by.actor().map(|u| u.0)],
    )
    .await?;
    Ok(())
}

async fn load_books(tx: &mut Tx) -> Result<Books> {
    let mut books = Books::default();
    for r in tx
        .fetch_all(
            "SELECT calendar_id, effective_from, spec FROM calendar_versions ORDER BY calendar_id, version",
            args![],
        )
        .await?
    {
        let id = r.int("calendar_id")?;
        let cal = Calendar::from_json(&r.text("spec")?).map_err(corrupt("calendar_versions"))?;
        let at = r.time("effective_from")?;
        match books.calendars.last_mut().filter(|c| c.id == id) {
            Some(h) => h.versions.push((at, cal)),
            None => books.calendars.push(CalendarHistory { id, versions: vec![(at, cal)] }),
        }
    }
    let rows = tx
        .fetch_all(
            "SELECT p.id, p.position, v.version, v.effective_from, v.active, v.spec FROM promise_policies p \
             JOIN policy_versions v ON v.policy_id = p.id ORDER BY p.id, v.version",
            args![],
        )
        .await?;
    for r in rows {
        let (id, version) = (r.int("id")?, r.int("version")?);
        let spec: PolicySpec = serde_json::from_str(&r.text("spec")?).map_err(corrupt("policy_versions"))?;
        let policy = if r.flag("active")? {
            Some(spec.validate(id, version).map_err(corrupt("policy_versions"))?)
        } else {
            None
        };
        let at = r.time("effective_from")?;
        match books.policies.last_mut().filter(|p| p.id == id) {
            Some(h) => h.versions.push((at, policy)),
            None => {
                books.policies.push(PolicyHistory { id, position: r.int("position")?, versions: vec![(at, policy)] })
            }
        }
    }
    Ok(books)
}
