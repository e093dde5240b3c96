//! Writing whole case histories at once: the demo generator and the history
//! import. Every step goes through the same rules as a live change
//! (kept-core's lifecycle), so replayed events are indistinguishable from
//! events recorded as they happened. Many cases share one transaction, and
//! their rows share multi-row statements, for speed (BENCHMARKS.md); a
//! refused step refuses the whole batch.
//!
//! `plan` decides in memory, `write` stores what was decided,
//! `surveys::past` stores past survey answers; the promise clocks are
//! recomputed last, once per batch, when everything they read is in place.

pub(crate) mod plan;
pub(crate) mod write;

use crate::Store;
use crate::error::Result;
use jiff::Timestamp;
use kept_core::cases::{AuthorRole, CasePatch, Channel, Priority, Status};
use kept_core::ids::{AccountId, CaseId, TeamId, UserId};
use kept_core::surveys::PastAnswer;
use kept_core::values::{MessageBody, Slug, Subject};
use plan::{Ids, Plan};
use std::collections::BTreeSet;

/// A case as it was opened, and what happened to it afterwards.
#[derive(Debug, Clone)]
pub struct CaseHistory {
    pub subject: Subject,
    pub body: MessageBody,
    pub channel: Channel,
    pub priority: Priority,
    pub case_type: Slug,
    pub tags: BTreeSet<Slug>,
    pub account_id: AccountId,
    pub requester_id: UserId,
    pub team_id: TeamId,
    /// Assigned from the start (recorded in `case_created`); later
    /// assignments are steps.
    pub assignee_id: Option<UserId>,
    pub created_at: Timestamp,
    /// Who typed it in (an agent on the phone); `None` if the customer did.
    pub created_by: Option<UserId>,
    /// In time order, none before `created_at`.
    pub steps: Vec<HistoryStep>,
    /// What the customer answered when surveyed about the case; attributed
    /// to the case as it stands after its steps.
    pub surveys: Vec<PastAnswer>,
}

#[derive(Debug, Clone)]
pub struct HistoryStep {
    pub at: Timestamp,
    /// `None` when kept itself acted (e.g. closing solved cases); messages
    /// and internal requests always have an author.
    pub actor: Option<UserId>,
    pub action: HistoryAction,
}

#[derive(Debug, Clone)]
pub enum HistoryAction {
    Message {
        role: AuthorRole,
        public: bool,
        body: MessageBody,
        status: Option<Status>,
    },
    Change(CasePatch),
    /// The case's team asks `team_id`; the request's own steps happen before
    /// the parent's next step.
    InternalRequest {
        team_id: TeamId,
        subject: Subject,
        body: MessageBody,
        steps: Vec<HistoryStep>,
    },
}

impl Store {
    /// Writes `cases` in one transaction, computes their promise clocks as of
    /// `now` (what the current policies make of that history), and returns
    /// their ids.
    pub async fn import_histories(&self, cases: &[CaseHistory], now: Timestamp) -> Result<Vec<CaseId>> {
        let mut tx = self.db.begin().await?;
        let (n_cases, n_messages) = cases.iter().map(plan::needs).fold((0, 0), |(c, m), (a, b)| (c + a, m + b));
        let mut ids = Ids::reserve(&mut tx, n_cases, n_messages).await?;
        let mut plan = Plan::default();
        let mut out = Vec::with_capacity(cases.len());
        for history in cases {
            out.push(plan::plan_new(&mut plan, &mut ids, history)?);
        }
        self.write_plan(&mut tx, &plan, now).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Stores a plan and recomputes the clocks of every case it touched,
    /// under the policies as they stand (dated back to cover the history;
    /// docs/IMPORT.md). Survey answers are written first: recompute reads them.
    pub(crate) async fn write_plan(&self, tx: &mut crate::db::Tx, plan: &Plan, now: Timestamp) -> Result<()> {
        if let Some(earliest) = plan.inserted.iter().map(|c| c.created_at).min() {
            crate::books::date_policies_back(tx, earliest, now).await?;
        }
        write::write(tx, plan).await?;
        crate::surveys::past::write(tx, &plan.answers, now).await?;
        self.recompute_many(tx, &plan.touched(), now).await?;
        Ok(())
    }
}
