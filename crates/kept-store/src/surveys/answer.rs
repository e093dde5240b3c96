//! Answering through the link (the token authorises; there is no login),
//! changing an answer within the window, and closing the loop: a
//! dissatisfied answer opens a recovery task with its own promise, or joins
//! the case's open one. Re-surveying after recovery.

use super::{load_settings, reasons_from, reasons_json, token_hash};
use crate::Store;
use crate::cases::events::append;
use crate::cases::{case_now, load_for_update, lock_case};
use crate::db::{DbRow, Sql, Tx, args};
use crate::error::Result;
use jiff::{SignedDuration, Timestamp};
use kept_core::DomainError;
use kept_core::calendar::add_business_millis;
use kept_core::cases::{EventKind, NewEvent};
use kept_core::ids::CaseId;
use kept_core::permissions::{CaseScope, Principal};
use kept_core::surveys::{SurveyKind, validate_answer};
use serde_json::json;

/// What the customer sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswer {
    pub score: i64,
    pub comment: Option<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicState {
    /// Not answered yet.
    Open,
    /// Answered; may still be changed until `change_until`.
    Changeable,
}

/// The survey page's content for a valid, answerable token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicSurvey {
    pub kind: SurveyKind,
    pub question: String,
    pub comment_prompt: Option<String>,
    pub reasons: Vec<String>,
    pub language: String,
    pub case_id: Option<i64>,
    pub state: PublicState,
    pub expires_at: Option<Timestamp>,
    pub answer: Option<SurveyAnswer>,
    pub change_until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerOutcome {
    pub response_id: i64,
    /// An earlier answer was replaced (within the window).
    pub changed: bool,
    pub change_until: Timestamp,
    /// The follow-up task this answer is linked to, when dissatisfied.
    pub recovery_task_id: Option<i64>,
    pub language: String,
}

/// Expired (HTTP 410 on the page).
pub fn expired() -> DomainError {
    DomainError::conflict("expired", None, "this survey has expired")
}

/// Answered and the change window is over (HTTP 410 on the page).
pub fn already_answered() -> DomainError {
    DomainError::conflict("already_answered", None, "this survey has already been answered")
}

fn unknown() -> DomainError {
    DomainError::NotFound { entity: "survey" }
}

const INVITE_SELECT: &str = "SELECT i.id, i.definition_id, i.kind, i.case_id, i.contact_id, i.account_id, i.agent_id, i.team_id, \
    i.channel, i.case_type, i.account_tier, i.status, i.expires_at, d.question, d.comment_prompt, d.reasons, u.language, \
    r.id AS response_id, r.score, r.comment, r.reasons AS chosen, r.answered_at, r.recovery_task_id \
    FROM survey_invitations i JOIN survey_definitions d ON d.id = i.definition_id JOIN users u ON u.id = i.contact_id \
    LEFT JOIN survey_responses r ON r.invitation_id = i.id";

/// The invitation of `token` and whether it may be answered now.
fn check(r: &DbRow, window: i64, now: Timestamp) -> Result<(PublicState, Option<Timestamp>)> {
    match r.text("status")?.as_str() {
        "sent" => {
            if r.opt_time("expires_at")?.is_some_and(|e| e <= now) {
                return Err(expired().into());
            }
            Ok((PublicState::Open, None))
        }
        "answered" => {
            let until = r.time("answered_at")?.checked_add(SignedDuration::from_mins(window)).ok();
            match until {
                Some(u) if now < u => Ok((PublicState::Changeable, Some(u))),
                _ => Err(already_answered().into()),
            }
        }
        "expired" => Err(expired().into()),
        _ => Err(unknown().into()),
    }
}

fn public_from(r: &DbRow, state: PublicState, change_until: Option<Timestamp>) -> Result<PublicSurvey> {
    let answer = match r.opt_int("response_id")? {
        Some(_) => Some(SurveyAnswer {
            score: r.int("score")?,
            comment: r.opt_text("comment")?,
            reasons: reasons_from(&r.text("chosen")?)?,
        }),
        None => None,
    };
    Ok(PublicSurvey {
        kind: super::kind_from(r)?,
        question: r.text("question")?,
        comment_prompt: r.opt_text("comment_prompt")?,
        reasons: reasons_from(&r.text("reasons")?)?,
        language: r.text("language")?,
        case_id: r.opt_int("case_id")?,
        state,
        expires_at: r.opt_time("expires_at")?,
        answer,
        change_until,
    })
}

impl Store {
    /// The survey behind a link, for showing its page. Reads only: a GET of
    /// the link (mail scanners follow links) must never record anything.
    pub async fn public_survey(&self, token: &str, now: Timestamp) -> Result<PublicSurvey> {
        let mut tx = self.db.begin_read().await?;
        let sql = Sql::built(format!("{INVITE_SELECT} WHERE i.token_hash = $1"));
        let row = tx.fetch_optional(sql, args![token_hash(token)]).await?.ok_or_else(unknown)?;
        let settings = load_settings(&mut tx).await?;
        tx.commit().await?;
        let (state, until) = check(&row, settings.change_window_minutes, now)?;
        public_from(&row, state, until)
    }

    /// The language of the contact behind a link (for pages about a link
    /// that can no longer be answered); `None` for an unknown token.
    pub async fn survey_language(&self, token: &str) -> Result<Option<String>> {
        let row = self
            .db
            .fetch_optional(
                "SELECT u.language FROM survey_invitations i JOIN users u ON u.id = i.contact_id WHERE i.token_hash = $1",
                args![token_hash(token)],
            )
            .await?;
        row.map(|r| r.text("language")).transpose()
    }

    /// Records (or, within the change window, replaces) the answer of `token`.
    pub async fn answer_survey(&self, token: &str, answer: SurveyAnswer, now: Timestamp) -> Result<AnswerOutcome> {
        let mut tx = self.db.begin().await?;
        // The invitation row is the lock: two answers to one link go one after the other.
        let lock = match tx.backend() {
            crate::Backend::Postgres => " FOR UPDATE OF i",
            crate::Backend::Sqlite => "",
        };
        let sql = Sql::built(format!("{INVITE_SELECT} WHERE i.token_hash = $1{lock}"));
        let r = tx.fetch_optional(sql, args![token_hash(token)]).await?.ok_or_else(unknown)?;
        let settings = load_settings(&mut tx).await?;
        let state = match check(&r, settings.change_window_minutes, now) {
            Ok((state, _)) => state,
            Err(e) => {
                // Record the expiry the job would record anyway.
                if r.text("status")? == "sent" {
                    tx.execute("UPDATE survey_invitations SET status = 'expired' WHERE id = $1", args![r.int("id")?])
                        .await?;
                    tx.commit().await?;
                }
                return Err(e);
            }
        };
        let kind = super::kind_from(&r)?;
        let dissatisfied = super::verdict(kind, answer.score, &settings)?;
        let (comment, reasons) =
            validate_answer(answer.comment.as_deref(), &answer.reasons, &reasons_from(&r.text("reasons")?)?)?;
        let invitation = r.int("id")?;
        let (response, first_at, task) = match state {
            PublicState::Changeable => {
                let id = r.int("response_id")?;
                tx.execute(
                    "UPDATE survey_responses SET score = $1, comment = $2, reasons = $3, dissatisfied = $4, changed_at = $5 WHERE id = $6",
                    args![answer.score, comment.clone(), reasons_json(&reasons), dissatisfied, now, id],
                )
                .await?;
                (id, r.time("answered_at")?, r.opt_int("recovery_task_id")?)
            }
            PublicState::Open => {
                let id = tx
                    .insert(
                        "INSERT INTO survey_responses (invitation_id, definition_id, kind, score, comment, reasons, dissatisfied, \
                         answered_at, case_id, contact_id, account_id, agent_id, team_id, channel, case_type, account_tier) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                        args![
                            invitation,
                            r.int("definition_id")?,
                            kind.as_str(),
                            answer.score,
                            comment.clone(),
                            reasons_json(&reasons),
                            dissatisfied,
                            now,
                            r.opt_int("case_id")?,
                            r.int("contact_id")?,
                            r.int("account_id")?,
                            r.opt_int("agent_id")?,
                            r.opt_int("team_id")?,
                            r.opt_text("channel")?,
                            r.opt_text("case_type")?,
                            r.text("account_tier")?
                        ],
                    )
                    .await?;
                tx.execute("UPDATE survey_invitations SET status = 'answered' WHERE id = $1", args![invitation])
                    .await?;
                (id, now, None)
            }
        };
        // A changed answer that is no longer dissatisfied keeps its task:
        // someone may already be on the phone; they close it with an outcome.
        let task = match task {
            Some(t) => Some(t),
            None if dissatisfied => self.follow_up(&mut tx, &r, response, kind, answer.score, now).await?,
            None => None,
        };
        match r.opt_int("case_id")? {
            Some(case) => {
                crate::cases::lock_case(&mut tx, CaseId(case)).await?;
                self.refresh_metrics(&mut tx, &[CaseId(case)]).await?;
            }
            None => self.refresh_invitation_metrics(&mut tx, r.int("id")?).await?,
        }
        tx.commit().await?;
        let change_until =
            first_at.checked_add(SignedDuration::from_mins(settings.change_window_minutes)).unwrap_or(now);
        Ok(AnswerOutcome {
            response_id: response,
            changed: state == PublicState::Changeable,
            change_until,
            recovery_task_id: task,
            language: r.text("language")?,
        })
    }

    /// Opens the follow-up of a dissatisfied answer (or links it to the
    /// case's open recovery task). Relationship NPS has no case: its
    /// follow-up goes on the contact's most recent case, and there is none
    /// when they never had one.
    async fn follow_up(
        &self,
        tx: &mut Tx,
        inv: &DbRow,
        response: i64,
        kind: SurveyKind,
        score: i64,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let case = match inv.opt_int("case_id")? {
            Some(c) => c,
            None => {
                let latest = tx
                    .fetch_optional(
                        "SELECT id FROM cases WHERE requester_id = $1 AND requesting_team_id IS NULL ORDER BY created_at DESC, id DESC LIMIT 1",
                        args![inv.int("contact_id")?],
                    )
                    .await?;
                match latest {
                    Some(r) => r.int("id")?,
                    None => return Ok(None),
                }
            }
        };
        let case = CaseId(case);
        lock_case(tx, case).await?;
        let at = case_now(tx, case, now).await?;
        let open = tx
            .fetch_optional(
                "SELECT id, owner_id FROM recovery_tasks WHERE case_id = $1 AND closed_at IS NULL ORDER BY id LIMIT 1",
                args![case.0],
            )
            .await?;
        let reason = format!("Dissatisfied survey answer: {} {score}", kind.label());
        if let Some(open) = open {
            // One customer, one recovery: the answer joins the task already open (e.g. from a breach).
            let task = open.int("id")?;
            tx.execute("UPDATE survey_responses SET recovery_task_id = $1 WHERE id = $2", args![task, response])
                .await?;
            tx.execute(
                "UPDATE recovery_tasks SET response_id = COALESCE(response_id, $1) WHERE id = $2",
                args![response, task],
            )
            .await?;
            if let Some(owner) = open.opt_int("owner_id")? {
                let text = format!("Case {case}: {reason}; it joins the open recovery task");
                crate::mail::notices::notification(tx, &self.mail, owner, case, "survey_followup", &text, at).await?;
            }
            return Ok(Some(task));
        }
        let settings = load_settings(tx).await?;
        let c = tx.fetch_one("SELECT team_id, assignee_id FROM cases WHERE id = $1", args![case.0]).await?;
        let team = inv.opt_int("team_id")?.unwrap_or(c.int("team_id")?);
        let lead = tx
            .fetch_optional(
                "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id WHERE m.team_id = $1 AND u.role = 'manager' \
                 AND u.active = TRUE ORDER BY u.id LIMIT 1",
                args![team],
            )
            .await?
            .map(|r| r.int("id"))
            .transpose()?;
        let agent = match inv.opt_int("agent_id")? {
            Some(a) => tx
                .fetch_optional("SELECT id FROM users WHERE id = $1 AND active = TRUE", args![a])
                .await?
                .map(|r| r.int("id"))
                .transpose()?,
            None => c.opt_int("assignee_id")?,
        };
        let owner = if settings.followup_owner == "agent" { agent.or(lead) } else { lead.or(agent) };
        let due = self.followup_due(tx, case, at, &settings).await?;
        let task = tx
            .insert(
                "INSERT INTO recovery_tasks (case_id, reason, owner_id, opened_at, due_at, response_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                args![case.0, reason.as_str(), owner, at, due, response],
            )
            .await?;
        tx.execute("UPDATE survey_responses SET recovery_task_id = $1 WHERE id = $2", args![task, response]).await?;
        let opened = NewEvent::new(EventKind::RecoveryOpened, None, at).with_data(json!({
            "task_id": task, "response_id": response, "owner_id": owner, "due_at": due.to_string(), "reason": "survey"
        }));
        append(tx, case, &[opened]).await?;
        if let Some(owner) = owner {
            let text = format!("Case {case}: {reason}; contact the customer by {}", self.mail.local(due));
            crate::mail::notices::notification(tx, &self.mail, owner, case, "survey_followup", &text, at).await?;
        }
        self.recompute(tx, case, at).await?;
        Ok(Some(task))
    }

    /// When the follow-up is due: in business time on the calendar the
    /// case's promises run on, if it has one and the settings say so.
    async fn followup_due(
        &self,
        tx: &mut Tx,
        case: CaseId,
        at: Timestamp,
        settings: &super::SurveySettings,
    ) -> Result<Timestamp> {
        let millis = settings.followup_minutes * 60_000;
        if settings.followup_business {
            let cal = tx
                .fetch_optional(
                    "SELECT calendar_id FROM promise_instances WHERE case_id = $1 AND calendar_id IS NOT NULL ORDER BY id LIMIT 1",
                    args![case.0],
                )
                .await?;
            if let Some(cal) = cal {
                let books = self.books(tx).await?;
                if let Some(due) =
                    books.calendar_at(cal.int("calendar_id")?, at).and_then(|c| add_business_millis(c, at, millis))
                {
                    return Ok(due);
                }
            }
        }
        Ok(at.checked_add(SignedDuration::from_millis(millis)).unwrap_or(at))
    }

    /// Sends the customer of a recovery task a fresh invitation (the same
    /// survey they answered, else the first active CSAT or CES), regardless
    /// of sample and fatigue. Returns the invitation's id; the survey job sends it.
    pub async fn resurvey(&self, by: &Principal, task: i64, now: Timestamp) -> Result<i64> {
        by.require_staff()?;
        let mut tx = self.db.begin().await?;
        let t = tx
            .fetch_optional("SELECT case_id, response_id FROM recovery_tasks WHERE id = $1", args![task])
            .await?
            .ok_or(DomainError::NotFound { entity: "recovery task" })?;
        let case = load_for_update(&mut tx, by, CaseId(t.int("case_id")?))
            .await
            .map_err(|_| crate::StoreError::from(DomainError::NotFound { entity: "recovery task" }))?;
        if !by.can_work_case(CaseScope::from(&case)) {
            return Err(DomainError::forbidden("only the team working this case re-surveys its customer").into());
        }
        let def = match t.opt_int("response_id")? {
            Some(r) => tx
                .fetch_optional("SELECT definition_id AS id FROM survey_responses WHERE id = $1", args![r])
                .await?,
            None => {
                tx.fetch_optional(
                    "SELECT id FROM survey_definitions WHERE active = TRUE AND kind IN ('csat', 'ces') ORDER BY id LIMIT 1",
                    args![],
                )
                .await?
            }
        };
        let Some(def) = def else {
            return Err(
                DomainError::conflict("no_survey", None, "there is no active CSAT or CES survey to send").into()
            );
        };
        let def = tx.fetch_one("SELECT id, kind FROM survey_definitions WHERE id = $1", args![def.int("id")?]).await?;
        let contact = tx
            .fetch_optional(
                "SELECT u.id, u.account_id, a.tier FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1 AND u.role = 'contact'",
                args![case.requester_id.0],
            )
            .await?
            .ok_or_else(|| DomainError::conflict("no_contact", None, "the case's requester is not a customer contact"))?;
        let pending = tx
            .fetch_optional(
                "SELECT id FROM survey_invitations WHERE resurvey_task_id = $1 AND status IN ('scheduled', 'sent')",
                args![task],
            )
            .await?;
        if pending.is_some() {
            return Err(DomainError::conflict(
                "already_resurveyed",
                None,
                "a fresh invitation for this task is waiting for an answer",
            )
            .into());
        }
        let id = super::insert_case_invitation(&mut tx, &def, &case, &contact, now, Some(task), now).await?;
        tx.commit().await?;
        Ok(id)
    }
}
