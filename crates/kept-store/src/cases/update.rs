//! Changing a case's status, assignment, team, priority, type, subject, tags.

use super::create::index_subject;
use super::{
    CaseDetail, check_assignee, check_tags, check_team, detail_in_tx, detail_tagged, events, load_for_change, save_case,
};
use crate::Store;
use crate::db::{Tx, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::{Case, CasePatch, EventKind, NewEvent, Status, apply_patch};
use kept_core::ids::CaseId;
use kept_core::permissions::{CaseScope, Principal};

impl Store {
    pub async fn update_case(
        &self,
        by: &Principal,
        id: CaseId,
        mut patch: CasePatch,
        now: Timestamp,
    ) -> Result<CaseDetail> {
        let mut tx = self.db.begin().await?;
        let (mut case, now) = load_for_change(&mut tx, by, id, now).await?;
        if !by.can_work_case(CaseScope::from(&case)) {
            return Err(DomainError::forbidden("only the team working this case may change it").into());
        }
        if let Some(tags) = &patch.tags {
            check_tags(tags)?;
        }
        if let Some(team) = patch.team_id.filter(|t| *t != case.team_id) {
            let internal = check_team(&mut tx, team, "team_id").await?;
            if case.requesting_team_id == Some(team) {
                return Err(DomainError::invalid(
                    "same_team",
                    "team_id",
                    "an internal request cannot be served by the team that raised it",
                )
                .into());
            }
            if internal && !case.is_internal() {
                return Err(DomainError::invalid(
                    "internal_team",
                    "team_id",
                    "customer cases go to customer-facing teams; raise an internal request instead",
                )
                .into());
            }
            // Handing a case to another team drops an assignee who is not on it.
            if patch.assignee_id.is_none()
                && let Some(current) = case.assignee_id
                && check_assignee(&mut tx, current, team).await.is_err()
            {
                patch.assignee_id = Some(None);
            }
        }
        let team = patch.team_id.unwrap_or(case.team_id);
        if let Some(Some(assignee)) = patch.assignee_id {
            check_assignee(&mut tx, assignee, team).await?;
        }
        let was = case.clone();
        let new_subject = patch.subject.clone();
        let recorded = apply_patch(&mut case, patch, by.actor(), now)?;
        if recorded.is_empty() {
            let detail = detail_in_tx(&mut tx, id).await?;
            return Ok(detail);
        }
        let tags_changed = recorded.iter().any(|e| e.kind == EventKind::TagsChanged);
        save_case(&mut tx, &case, Some(&was), tags_changed).await?;
        if let Some(subject) = new_subject.filter(|_| recorded.iter().any(|e| e.kind == EventKind::SubjectChanged)) {
            index_subject(&mut tx, id, subject.as_str());
        }
        events::append(&mut tx, id, &recorded).await?;
        after_status_change(&mut tx, by, &case, was.status, now).await?;
        self.recompute(&mut tx, id, now).await?;
        let detail = detail_tagged(&mut tx, id, case.tags).await?;
        tx.commit().await?;
        Ok(detail)
    }
}

/// What a status change means beyond its case: a solved internal request
/// tells the case it was raised for; a solved customer case schedules its survey.
pub(crate) async fn after_status_change(
    tx: &mut Tx,
    by: &Principal,
    case: &Case,
    before: Status,
    now: Timestamp,
) -> Result<()> {
    if before == case.status || case.status != Status::Solved {
        return Ok(());
    }
    crate::surveys::schedule_on_solve(tx, case, now).await?;
    if let Some(parent) = case.parent_case_id {
        let event =
            NewEvent::internal_request(EventKind::InternalRequestSolved, by.actor(), now, case.id, case.team_id);
        events::append(tx, parent, &[event]).await?;
        tx.execute("UPDATE cases SET updated_at = $1 WHERE id = $2", args![now, parent.0]).await?;
    }
    Ok(())
}
