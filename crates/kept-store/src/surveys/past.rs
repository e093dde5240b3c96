//! Survey answers given before kept held the case (a history import, the
//! demo): each becomes an invitation marked answered (sent when it was
//! answered, with no link) and its response, attributed to the case as
//! replayed and judged dissatisfied by the same rule as a live answer. They
//! open no follow-up: the moment to act on them has passed.

use super::{load_settings, reasons_json, verdict};
use crate::cases::history::plan::AnswerRow;
use crate::db::{Arg, IdTable, SqlBuilder, Tx, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::surveys::SurveyKind;
use std::collections::HashMap;

pub(crate) async fn write(tx: &mut Tx, rows: &[AnswerRow], now: Timestamp) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let settings = load_settings(tx).await?;
    let mut definitions: HashMap<SurveyKind, i64> = HashMap::new();
    for row in rows {
        let kind = row.answer.kind;
        if let std::collections::hash_map::Entry::Vacant(slot) = definitions.entry(kind) {
            slot.insert(definition(tx, kind, now).await?);
        }
    }
    let tiers = tiers(tx, rows).await?;
    let ids = tx.reserve_ids(IdTable::SurveyInvitations, rows.len()).await?;
    let mut invitations: Vec<Vec<Arg>> = Vec::with_capacity(rows.len());
    let mut responses: Vec<Vec<Arg>> = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(ids) {
        let a = &row.answer;
        let def = definitions.get(&a.kind).copied().unwrap_or_default();
        let tier = tiers.get(&row.account.0).cloned().unwrap_or_default();
        let dissatisfied = verdict(a.kind, a.score, &settings)?;
        let who = args![
            row.case.0,
            row.contact.0,
            row.account.0,
            row.agent.map(|u| u.0),
            row.team.0,
            row.channel.as_str(),
            row.case_type.as_str(),
            tier
        ];
        invitations.push(
            [
                args![id, def, a.kind.as_str()],
                who.clone(),
                args!["answered", a.answered_at, a.answered_at, a.answered_at],
            ]
            .concat(),
        );
        responses.push(
            [
                args![
                    id,
                    def,
                    a.kind.as_str(),
                    a.score,
                    a.comment.clone(),
                    reasons_json(&[]),
                    dissatisfied,
                    a.answered_at
                ],
                who,
            ]
            .concat(),
        );
    }
    tx.insert_rows(
        "INSERT INTO survey_invitations (id, definition_id, kind, case_id, contact_id, account_id, agent_id, team_id, channel, \
         case_type, account_tier, status, send_at, sent_at, created_at) VALUES ",
        "",
        &invitations,
    )
    .await?;
    tx.insert_rows(
        "INSERT INTO survey_responses (invitation_id, definition_id, kind, score, comment, reasons, dissatisfied, answered_at, \
         case_id, contact_id, account_id, agent_id, team_id, channel, case_type, account_tier) VALUES ",
        "",
        &responses,
    )
    .await
}

/// The definition past answers of `kind` belong to: the active one (the
/// first, as `schedule_on_solve` picks), else an inactive "Imported …" one,
/// created the first time it is needed, so no survey is sent because of it.
async fn definition(tx: &mut Tx, kind: SurveyKind, now: Timestamp) -> Result<i64> {
    let name = format!("Imported {}", kind.label());
    let found = tx
        .fetch_optional(
            "SELECT id FROM survey_definitions WHERE kind = $1 AND (active = TRUE OR name = $2) ORDER BY active DESC, id LIMIT 1",
            args![kind.as_str(), name.as_str()],
        )
        .await?;
    if let Some(row) = found {
        return row.int("id");
    }
    // NPS definitions need a schedule; an inactive one is never sent on it.
    let every_days = (kind == SurveyKind::Nps).then_some(365_i64);
    tx.insert(
        "INSERT INTO survey_definitions (kind, name, question, delay_minutes, sample_percent, every_days, active, created_at, updated_at) \
         VALUES ($1, $2, $3, 0, 100, $4, FALSE, $5, $5) RETURNING id",
        args![kind.as_str(), name.as_str(), kind.default_question(), every_days, now],
    )
    .await
}

async fn tiers(tx: &mut Tx, rows: &[AnswerRow]) -> Result<HashMap<i64, String>> {
    let mut accounts: Vec<i64> = rows.iter().map(|r| r.account.0).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let mut out = HashMap::new();
    for chunk in accounts.chunks(1000) {
        let mut q = SqlBuilder::new("SELECT id, tier FROM accounts WHERE id IN ");
        q.bind_list(chunk.iter().copied());
        let (sql, args) = q.finish();
        for r in tx.fetch_all(sql, args).await? {
            out.insert(r.int("id")?, r.text("tier")?);
        }
    }
    Ok(out)
}
