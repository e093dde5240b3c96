//! Surveys: definitions and settings, invitations scheduled when a case is
//! solved (or on an NPS schedule) and sent by a job, answers through an
//! unguessable link, and closing the loop on dissatisfied answers with a
//! recovery task. The rules are kept-core's (`kept_core::surveys`); this
//! module sequences them in transactions. docs/SURVEYS.md explains the rules.

mod answer;
pub(crate) mod past;
mod read;
mod send;

use crate::Store;
use crate::db::{DbRow, Tx, args};
use crate::error::{Result, StoreError};
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::cases::Case;
use kept_core::permissions::Principal;
use kept_core::surveys::{SurveyKind, SurveySpec, Thresholds, is_dissatisfied, validate_score};
use sha2::{Digest, Sha256};

pub use answer::{AnswerOutcome, PublicState, PublicSurvey, SurveyAnswer};
pub use read::{InvitationView, KudosView, ResponseFilter, ResponseView};
pub use send::SurveyTick;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyDefinition {
    pub id: i64,
    pub spec: SurveySpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who owns the follow-up of a dissatisfied answer.
pub const FOLLOWUP_OWNERS: [&str; 2] = ["lead", "agent"];

/// The organisation's survey rules (one row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveySettings {
    /// No contact receives more than one survey within this many days.
    pub fatigue_days: i64,
    pub thresholds: Thresholds,
    /// "lead" (a manager of the case's team, else the agent) or "agent" (else a lead).
    pub followup_owner: String,
    /// The follow-up's promise: contact the customer within this many minutes…
    pub followup_minutes: i64,
    /// … of business time on the case's calendar (calendar time when it has none).
    pub followup_business: bool,
    /// How long after the first answer it may still be changed.
    pub change_window_minutes: i64,
    /// How long a sent invitation can be answered.
    pub expiry_days: i64,
}

impl Default for SurveySettings {
    fn default() -> Self {
        Self {
            fatigue_days: 30,
            thresholds: Thresholds::default(),
            followup_owner: "lead".into(),
            followup_minutes: 480,
            followup_business: true,
            change_window_minutes: 60,
            expiry_days: 14,
        }
    }
}

impl SurveySettings {
    pub fn validated(self) -> std::result::Result<Self, DomainError> {
        let range = |v: i64, lo: i64, hi: i64, field: &str| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(DomainError::invalid("out_of_range", field, format!("between {lo} and {hi}")))
            }
        };
        range(self.fatigue_days, 0, 365, "fatigue_days")?;
        range(self.followup_minutes, 1, 60 * 24 * 30, "followup_minutes")?;
        range(self.change_window_minutes, 0, 60 * 24 * 7, "change_window_minutes")?;
        range(self.expiry_days, 1, 365, "expiry_days")?;
        if !FOLLOWUP_OWNERS.contains(&self.followup_owner.as_str()) {
            return Err(DomainError::invalid("invalid_value", "followup_owner", "must be one of: lead, agent"));
        }
        let thresholds = self.thresholds.validated()?;
        Ok(Self { thresholds, ..self })
    }
}

/// The hex SHA-256 of a survey token: all the database keeps of it.
pub(crate) fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes as hex: 256 bits, far beyond guessing.
pub(crate) fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Corrupt(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn reasons_from(json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("survey reasons: {e}")))
}

fn reasons_json(reasons: &[String]) -> String {
    serde_json::to_string(reasons).unwrap_or_else(|_| "[]".into())
}

fn kind_from(r: &DbRow) -> Result<SurveyKind> {
    SurveyKind::parse("kind", &r.text("kind")?).map_err(|e| StoreError::Corrupt(e.to_string()))
}

const DEF_SELECT: &str = "SELECT id, kind, name, question, comment_prompt, reasons, delay_minutes, sample_percent, every_days, \
    active, created_at, updated_at FROM survey_definitions";

fn definition_from(r: &DbRow) -> Result<SurveyDefinition> {
    Ok(SurveyDefinition {
        id: r.int("id")?,
        spec: SurveySpec {
            kind: kind_from(r)?,
            name: r.text("name")?,
            question: r.text("question")?,
            comment_prompt: r.opt_text("comment_prompt")?,
            reasons: reasons_from(&r.text("reasons")?)?,
            delay_minutes: r.int("delay_minutes")?,
            sample_percent: r.int("sample_percent")?,
            every_days: r.opt_int("every_days")?,
            active: r.flag("active")?,
        },
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

/// Checks a score against its kind's scale and says whether it is
/// dissatisfied under the organisation's thresholds: the one judgement for
/// answers given through a link and answers brought by a history.
pub(crate) fn verdict(kind: SurveyKind, score: i64, settings: &SurveySettings) -> Result<bool> {
    validate_score(kind, score).map_err(DomainError::from)?;
    Ok(is_dissatisfied(kind, score, &settings.thresholds))
}

pub(crate) async fn load_settings(tx: &mut Tx) -> Result<SurveySettings> {
    let r = tx.fetch_one("SELECT * FROM survey_settings WHERE id = 1", args![]).await?;
    Ok(SurveySettings {
        fatigue_days: r.int("fatigue_days")?,
        thresholds: Thresholds {
            csat: r.int("csat_threshold")?,
            ces: r.int("ces_threshold")?,
            nps: r.int("nps_threshold")?,
        },
        followup_owner: r.text("followup_owner")?,
        followup_minutes: r.int("followup_minutes")?,
        followup_business: r.flag("followup_business")?,
        change_window_minutes: r.int("change_window_minutes")?,
        expiry_days: r.int("expiry_days")?,
    })
}

/// When a case becomes solved: schedules its transactional survey (the first
/// active CSAT or CES definition), once per case, for the requester if they
/// are a customer contact. Internal requests are not surveyed. The
/// attribution is fixed now: the agent is the assignee at solve time.
pub(crate) async fn schedule_on_solve(tx: &mut Tx, case: &Case, now: Timestamp) -> Result<()> {
    if case.is_internal() || case.parent_case_id.is_some() {
        return Ok(());
    }
    let Some(def) = tx
        .fetch_optional(
            "SELECT id, kind, delay_minutes FROM survey_definitions WHERE active = TRUE AND kind IN ('csat', 'ces') ORDER BY id LIMIT 1",
            args![],
        )
        .await?
    else {
        return Ok(());
    };
    let already = tx
        .fetch_optional(
            "SELECT id FROM survey_invitations WHERE case_id = $1 AND resurvey_task_id IS NULL",
            args![case.id.0],
        )
        .await?;
    if already.is_some() {
        return Ok(());
    }
    let Some(contact) = tx
        .fetch_optional(
            "SELECT u.id, u.account_id, a.tier FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1 AND u.role = 'contact'",
            args![case.requester_id.0],
        )
        .await?
    else {
        return Ok(());
    };
    let delay = jiff::SignedDuration::from_mins(def.int("delay_minutes")?);
    let send_at = now.checked_add(delay).unwrap_or(now);
    insert_case_invitation(tx, &def, case, &contact, send_at, None, now).await?;
    Ok(())
}

/// A scheduled invitation about `case`, its attribution fixed now (the
/// assignee and team at this moment; see docs/SURVEYS.md).
pub(super) async fn insert_case_invitation(
    tx: &mut Tx,
    def: &DbRow,
    case: &Case,
    contact: &DbRow,
    send_at: Timestamp,
    resurvey_task: Option<i64>,
    now: Timestamp,
) -> Result<i64> {
    tx.insert(
        "INSERT INTO survey_invitations (definition_id, kind, case_id, contact_id, account_id, agent_id, team_id, channel, \
         case_type, account_tier, status, send_at, resurvey_task_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'scheduled', $11, $12, $13) RETURNING id",
        args![
            def.int("id")?,
            def.text("kind")?,
            case.id.0,
            contact.int("id")?,
            contact.int("account_id")?,
            case.assignee_id.map(|a| a.0),
            case.team_id.0,
            case.channel.as_str(),
            case.case_type.as_str(),
            contact.text("tier")?,
            send_at,
            resurvey_task,
            now
        ],
    )
    .await
}

/// A definition's editable columns, in the order the INSERT and UPDATE name them.
fn spec_values(s: &SurveySpec) -> Vec<crate::db::Arg> {
    args![
        s.name.as_str(),
        s.question.as_str(),
        s.comment_prompt.clone(),
        reasons_json(&s.reasons),
        s.delay_minutes,
        s.sample_percent,
        s.every_days,
        s.active
    ]
}

impl Store {
    pub async fn survey_definitions(&self, by: &Principal) -> Result<Vec<SurveyDefinition>> {
        by.require_staff()?;
        let sql = crate::db::Sql::built(format!("{DEF_SELECT} ORDER BY id"));
        self.db.fetch_all(sql, args![]).await?.iter().map(definition_from).collect()
    }

    pub async fn survey_definition(&self, by: &Principal, id: i64) -> Result<SurveyDefinition> {
        by.require_staff()?;
        let sql = crate::db::Sql::built(format!("{DEF_SELECT} WHERE id = $1"));
        let row = self.db.fetch_optional(sql, args![id]).await?;
        definition_from(&row.ok_or(DomainError::NotFound { entity: "survey definition" })?)
    }

    pub async fn create_survey_definition(
        &self,
        by: &Principal,
        spec: SurveySpec,
        now: Timestamp,
    ) -> Result<SurveyDefinition> {
        by.require_admin()?;
        let s = spec.validated()?;
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO survey_definitions (kind, name, question, comment_prompt, reasons, delay_minutes, sample_percent, \
                 every_days, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                [args![s.kind.as_str()], spec_values(&s), args![now, now]].concat(),
            )
            .await?;
        tx.commit().await?;
        Ok(SurveyDefinition { id, spec: s, created_at: now, updated_at: now })
    }

    /// Replaces a definition. Its kind stays: answers already given were on its scale.
    pub async fn update_survey_definition(
        &self,
        by: &Principal,
        id: i64,
        spec: SurveySpec,
        now: Timestamp,
    ) -> Result<SurveyDefinition> {
        by.require_admin()?;
        let s = spec.validated()?;
        let mut tx = self.db.begin().await?;
        let sql = crate::db::Sql::built(format!("{DEF_SELECT} WHERE id = $1"));
        let old = definition_from(
            &tx.fetch_optional(sql, args![id]).await?.ok_or(DomainError::NotFound { entity: "survey definition" })?,
        )?;
        if old.spec.kind != s.kind {
            return Err(DomainError::invalid(
                "immutable",
                "kind",
                "a definition keeps its kind; create a new definition instead",
            )
            .into());
        }
        tx.execute(
            "UPDATE survey_definitions SET name = $1, question = $2, comment_prompt = $3, reasons = $4, delay_minutes = $5, \
             sample_percent = $6, every_days = $7, active = $8, updated_at = $9 WHERE id = $10",
            [spec_values(&s), args![now, id]].concat(),
        )
        .await?;
        tx.commit().await?;
        Ok(SurveyDefinition { id, spec: s, created_at: old.created_at, updated_at: now })
    }

    pub async fn survey_settings(&self, by: &Principal) -> Result<SurveySettings> {
        by.require_staff()?;
        let mut tx = self.db.begin_read().await?;
        let s = load_settings(&mut tx).await?;
        tx.commit().await?;
        Ok(s)
    }

    pub async fn set_survey_settings(
        &self,
        by: &Principal,
        s: SurveySettings,
        now: Timestamp,
    ) -> Result<SurveySettings> {
        by.require_admin()?;
        let s = s.validated()?;
        let mut tx = self.db.begin().await?;
        tx.execute(
            "UPDATE survey_settings SET fatigue_days = $1, csat_threshold = $2, ces_threshold = $3, nps_threshold = $4, \
             followup_owner = $5, followup_minutes = $6, followup_business = $7, change_window_minutes = $8, expiry_days = $9, \
             updated_at = $10 WHERE id = 1",
            args![
                s.fatigue_days,
                s.thresholds.csat,
                s.thresholds.ces,
                s.thresholds.nps,
                s.followup_owner.as_str(),
                s.followup_minutes,
                s.followup_business,
                s.change_window_minutes,
                s.expiry_days,
                now
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Sets a contact's language for survey mail and pages ("en" or "de").
    pub async fn set_contact_language(&self, by: &Principal, contact: i64, language: &str) -> Result<()> {
        by.require_staff()?;
        if !kept_core::surveys::LANGUAGES.contains(&language) {
            return Err(DomainError::invalid("invalid_value", "language", "must be one of: en, de").into());
        }
        let n = self
            .db
            .execute("UPDATE users SET language = $1 WHERE id = $2 AND role = 'contact'", args![language, contact])
            .await?;
        if n == 0 {
            return Err(DomainError::NotFound { entity: "contact" }.into());
        }
        Ok(())
    }
}
