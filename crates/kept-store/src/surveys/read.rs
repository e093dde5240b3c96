//! Reading surveys back: a case's invitations, responses and verbatims
//! with their attribution (for every scorecard to slice), and kudos.

use super::reasons_from;
use crate::Store;
use crate::db::{DbRow, SqlBuilder, args};
use crate::error::Result;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::ids::CaseId;
use kept_core::people::Role;
use kept_core::permissions::Principal;
use kept_core::surveys::SurveyKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseView {
    pub id: i64,
    pub invitation_id: i64,
    pub definition_id: i64,
    pub kind: SurveyKind,
    pub score: i64,
    pub comment: Option<String>,
    pub reasons: Vec<String>,
    pub dissatisfied: bool,
    pub answered_at: Timestamp,
    pub changed_at: Option<Timestamp>,
    pub case_id: Option<i64>,
    pub contact_id: i64,
    pub contact_name: String,
    pub account_id: i64,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub channel: Option<String>,
    pub case_type: Option<String>,
    pub account_tier: String,
    pub recovery_task_id: Option<i64>,
    pub kudos: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    pub id: i64,
    pub definition_id: i64,
    pub kind: SurveyKind,
    pub case_id: Option<i64>,
    pub contact_id: i64,
    pub agent_id: Option<i64>,
    pub team_id: Option<i64>,
    pub status: String,
    pub send_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub resurvey_task_id: Option<i64>,
    pub response: Option<ResponseView>,
}

/// Filters of the responses and verbatims lists (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseFilter {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub score: Option<i64>,
    pub reason: Option<String>,
    pub kind: Option<SurveyKind>,
    /// Verbatims: only answers with a comment.
    pub with_comment: bool,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KudosView {
    pub id: i64,
    pub response_id: i64,
    pub agent_id: i64,
    pub agent_name: String,
    pub given_by_name: Option<String>,
    pub note: Option<String>,
    pub score: i64,
    pub kind: SurveyKind,
    pub comment: Option<String>,
    pub case_id: Option<i64>,
    pub created_at: Timestamp,
}

const RESPONSE_SELECT: &str = "SELECT r.id, r.invitation_id, r.definition_id, r.kind, r.score, r.comment, r.reasons, r.dissatisfied, \
    r.answered_at, r.changed_at, r.case_id, r.contact_id, cu.name AS contact_name, r.account_id, r.agent_id, au.name AS agent_name, \
    r.team_id, t.name AS team_name, r.channel, r.case_type, r.account_tier, r.recovery_task_id, k.id AS kudos_id \
    FROM survey_responses r JOIN users cu ON cu.id = r.contact_id LEFT JOIN users au ON au.id = r.agent_id \
    LEFT JOIN teams t ON t.id = r.team_id LEFT JOIN kudos k ON k.response_id = r.id";

fn response_from(r: &DbRow) -> Result<ResponseView> {
    Ok(ResponseView {
        id: r.int("id")?,
        invitation_id: r.int("invitation_id")?,
        definition_id: r.int("definition_id")?,
        kind: super::kind_from(r)?,
        score: r.int("score")?,
        comment: r.opt_text("comment")?,
        reasons: reasons_from(&r.text("reasons")?)?,
        dissatisfied: r.flag("dissatisfied")?,
        answered_at: r.time("answered_at")?,
        changed_at: r.opt_time("changed_at")?,
        case_id: r.opt_int("case_id")?,
        contact_id: r.int("contact_id")?,
        contact_name: r.text("contact_name")?,
        account_id: r.int("account_id")?,
        agent_id: r.opt_int("agent_id")?,
        agent_name: r.opt_text("agent_name")?,
        team_id: r.opt_int("team_id")?,
        team_name: r.opt_text("team_name")?,
        channel: r.opt_text("channel")?,
        case_type: r.opt_text("case_type")?,
        account_tier: r.text("account_tier")?,
        recovery_task_id: r.opt_int("recovery_task_id")?,
        kudos: r.opt_int("kudos_id")?.is_some(),
    })
}

const KUDOS_SELECT: &str = "SELECT k.id, k.response_id, k.agent_id, au.name AS agent_name, gu.name AS given_by_name, k.note, \
    r.score, r.kind, r.comment, r.case_id, k.created_at FROM kudos k JOIN survey_responses r ON r.id = k.response_id \
    JOIN users au ON au.id = k.agent_id LEFT JOIN users gu ON gu.id = k.given_by";

fn kudos_from(r: &DbRow) -> Result<KudosView> {
    Ok(KudosView {
        id: r.int("id")?,
        response_id: r.int("response_id")?,
        agent_id: r.int("agent_id")?,
        agent_name: r.text("agent_name")?,
        given_by_name: r.opt_text("given_by_name")?,
        note: r.opt_text("note")?,
        score: r.int("score")?,
        kind: super::kind_from(r)?,
        comment: r.opt_text("comment")?,
        case_id: r.opt_int("case_id")?,
        created_at: r.time("created_at")?,
    })
}

/// Who sees which answers: admins and managers all of them, agents the
/// answers attributed to them.
fn agent_scope(by: &Principal, filter: &mut ResponseFilter) -> Result<()> {
    by.require_staff()?;
    if by.role == Role::Agent {
        match filter.agent_id {
            Some(a) if a != by.user_id.0 => {
                return Err(DomainError::forbidden("agents see the answers attributed to them").into());
            }
            _ => filter.agent_id = Some(by.user_id.0),
        }
    }
    Ok(())
}

impl Store {
    /// The survey invitations of a case, with their answers (staff who see the case).
    pub async fn case_surveys(&self, by: &Principal, case: CaseId) -> Result<Vec<InvitationView>> {
        by.require_staff()?;
        let mut tx = self.db.begin_read().await?;
        crate::cases::load_visible(&mut tx, by, case, "").await?;
        let rows = tx
            .fetch_all(
                "SELECT id, definition_id, kind, case_id, contact_id, agent_id, team_id, status, send_at, sent_at, expires_at, \
                 resurvey_task_id FROM survey_invitations WHERE case_id = $1 ORDER BY id",
                args![case.0],
            )
            .await?;
        let responses = tx
            .fetch_all(crate::db::Sql::built(format!("{RESPONSE_SELECT} WHERE r.case_id = $1")), args![case.0])
            .await?
            .iter()
            .map(response_from)
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                let id = r.int("id")?;
                Ok(InvitationView {
                    id,
                    definition_id: r.int("definition_id")?,
                    kind: super::kind_from(r)?,
                    case_id: r.opt_int("case_id")?,
                    contact_id: r.int("contact_id")?,
                    agent_id: r.opt_int("agent_id")?,
                    team_id: r.opt_int("team_id")?,
                    status: r.text("status")?,
                    send_at: r.time("send_at")?,
                    sent_at: r.opt_time("sent_at")?,
                    expires_at: r.opt_time("expires_at")?,
                    resurvey_task_id: r.opt_int("resurvey_task_id")?,
                    response: responses.iter().find(|x| x.invitation_id == id).cloned(),
                })
            })
            .collect()
    }

    /// Responses, newest first, filtered; agents see their own only.
    pub async fn survey_responses(&self, by: &Principal, mut filter: ResponseFilter) -> Result<Vec<ResponseView>> {
        agent_scope(by, &mut filter)?;
        let limit = filter.limit.unwrap_or(500).clamp(1, 5000);
        let mut q = SqlBuilder::new(RESPONSE_SELECT);
        q.push(" WHERE 1 = 1");
        if let Some(from) = filter.from {
            q.push(" AND r.answered_at >= ").bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" AND r.answered_at < ").bind(to);
        }
        if let Some(team) = filter.team_id {
            q.push(" AND r.team_id = ").bind(team);
        }
        if let Some(agent) = filter.agent_id {
            q.push(" AND r.agent_id = ").bind(agent);
        }
        if let Some(score) = filter.score {
            q.push(" AND r.score = ").bind(score);
        }
        if let Some(kind) = filter.kind {
            q.push(" AND r.kind = ").bind(kind.as_str());
        }
        if filter.with_comment {
            q.push(" AND r.comment IS NOT NULL AND r.comment <> ''");
        }
        // Reasons are a JSON list; the exact match is made below, the LIKE only narrows.
        if let Some(reason) = &filter.reason {
            q.push(" AND r.reasons LIKE ").bind(format!("%{}%", reason.replace(['%', '_'], "")));
        }
        q.push(" ORDER BY r.answered_at DESC, r.id DESC LIMIT ").bind(limit);
        let (sql, args) = q.finish();
        let rows = self.db.fetch_all(sql, args).await?;
        let mut out = rows.iter().map(response_from).collect::<Result<Vec<_>>>()?;
        if let Some(reason) = &filter.reason {
            out.retain(|r| r.reasons.contains(reason));
        }
        Ok(out)
    }

    /// Turns an answer's praise into kudos for the agent it is attributed to
    /// (admins and managers; once per answer).
    pub async fn give_kudos(
        &self,
        by: &Principal,
        response: i64,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<KudosView> {
        by.require_staff()?;
        if !matches!(by.role, Role::Admin | Role::Manager) {
            return Err(DomainError::forbidden("only an admin or a manager gives kudos").into());
        }
        let note = match note.map(str::trim) {
            None | Some("") => None,
            Some(n) if n.chars().count() > 1000 => {
                return Err(DomainError::invalid("too_long", "note", "at most 1000 characters").into());
            }
            Some(n) => Some(n.to_owned()),
        };
        let mut tx = self.db.begin().await?;
        let r = tx
            .fetch_optional("SELECT agent_id FROM survey_responses WHERE id = $1", args![response])
            .await?
            .ok_or(DomainError::NotFound { entity: "survey response" })?;
        let Some(agent) = r.opt_int("agent_id")? else {
            return Err(DomainError::invalid("no_agent", "response_id", "this answer is attributed to no agent").into());
        };
        if tx.fetch_optional("SELECT id FROM kudos WHERE response_id = $1", args![response]).await?.is_some() {
            return Err(DomainError::conflict("kudos_given", None, "kudos were already given for this answer").into());
        }
        let id = tx
            .insert(
                "INSERT INTO kudos (response_id, agent_id, given_by, note, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                args![response, agent, by.actor().map(|a| a.0), note, now],
            )
            .await?;
        tx.execute(
            "INSERT INTO notifications (user_id, case_id, kind, text, created_at) SELECT $1, case_id, 'kudos', $2, $3 \
             FROM survey_responses WHERE id = $4",
            args![agent, "A customer's praise was turned into kudos for you", now, response],
        )
        .await?;
        let view = kudos_from(
            &tx.fetch_one(crate::db::Sql::built(format!("{KUDOS_SELECT} WHERE k.id = $1")), args![id]).await?,
        )?;
        tx.commit().await?;
        Ok(view)
    }

    /// An agent's kudos, newest first (staff).
    pub async fn user_kudos(&self, by: &Principal, user: i64) -> Result<Vec<KudosView>> {
        by.require_staff()?;
        let exists =
            self.db.fetch_optional("SELECT id FROM users WHERE id = $1 AND role <> 'contact'", args![user]).await?;
        if exists.is_none() {
            return Err(DomainError::NotFound { entity: "user" }.into());
        }
        let sql = crate::db::Sql::built(format!(
            "{KUDOS_SELECT} WHERE k.agent_id = $1 ORDER BY k.created_at DESC, k.id DESC"
        ));
        self.db.fetch_all(sql, args![user]).await?.iter().map(kudos_from).collect()
    }
}
