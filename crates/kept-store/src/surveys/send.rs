//! The survey job: expire old invitations, schedule relationship NPS, and
//! turn due invitations into mail (or into a recorded decision not to send).

use super::{load_settings, new_token, token_hash};
use crate::Store;
use crate::db::{Backend, Sql, args};
use crate::error::Result;
use crate::mail::{OutKind, enqueue, thread_of};
use jiff::{SignedDuration, Timestamp};
use kept_core::ids::CaseId;
use kept_core::mail::Envelope;
use kept_core::surveys::{SurveyKind, fatigued, invitation_mail, sampled};

/// Invitations handled per transaction.
const BATCH: i64 = 200;

/// What one run of the survey job did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SurveyTick {
    pub expired: u64,
    pub nps_scheduled: usize,
    /// (invitation id, token) of each invitation sent. The token is in the
    /// queued mail and nowhere else; it is returned for tests and logs of
    /// counts only — callers must not store it.
    pub sent: Vec<(i64, String)>,
    pub skipped_sample: usize,
    pub skipped_fatigue: usize,
    /// Not sent: the case was reopened before the survey was due, or the contact was deactivated.
    pub skipped_other: usize,
}

impl Store {
    /// One run of the survey job at `now`; links point at `base_url`.
    pub async fn survey_tick(&self, now: Timestamp, base_url: &str) -> Result<SurveyTick> {
        let mut tick = SurveyTick {
            expired: self
                .db
                .execute(
                    "UPDATE survey_invitations SET status = 'expired' WHERE status = 'sent' AND expires_at <= $1",
                    args![now],
                )
                .await?,
            ..Default::default()
        };
        tick.nps_scheduled = self.schedule_nps(now).await?;
        loop {
            let before = tick.sent.len() + tick.skipped_sample + tick.skipped_fatigue + tick.skipped_other;
            self.send_due_batch(now, base_url, &mut tick).await?;
            let handled = tick.sent.len() + tick.skipped_sample + tick.skipped_fatigue + tick.skipped_other - before;
            if (handled as i64) < BATCH {
                break;
            }
        }
        Ok(tick)
    }

    /// Invites each active contact whose last invitation to an active NPS
    /// survey is older than its `every_days` (or who has none).
    async fn schedule_nps(&self, now: Timestamp) -> Result<usize> {
        let mut tx = self.db.begin().await?;
        let defs = tx
            .fetch_all(
                "SELECT id, every_days FROM survey_definitions WHERE active = TRUE AND kind = 'nps' AND every_days IS NOT NULL ORDER BY id",
                args![],
            )
            .await?;
        let mut n = 0;
        for d in &defs {
            let def = d.int("id")?;
            let since = now.checked_sub(SignedDuration::from_hours(24 * d.int("every_days")?)).unwrap_or(now);
            let due = tx
                .fetch_all(
                    "SELECT u.id, u.account_id, a.tier FROM users u JOIN accounts a ON a.id = u.account_id \
                     WHERE u.role = 'contact' AND u.active = TRUE AND NOT EXISTS (SELECT 1 FROM survey_invitations i \
                     WHERE i.contact_id = u.id AND i.definition_id = $1 AND i.created_at > $2) ORDER BY u.id LIMIT 1000",
                    args![def, since],
                )
                .await?;
            for c in &due {
                tx.insert(
                    "INSERT INTO survey_invitations (definition_id, kind, contact_id, account_id, account_tier, status, send_at, created_at) \
                     VALUES ($1, 'nps', $2, $3, $4, 'scheduled', $5, $6) RETURNING id",
                    args![def, c.int("id")?, c.int("account_id")?, c.text("tier")?, now, now],
                )
                .await?;
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn send_due_batch(&self, now: Timestamp, base_url: &str, tick: &mut SurveyTick) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let settings = load_settings(&mut tx).await?;
        let lock = match self.backend() {
            // Replicas share the work: each takes the rows no one else holds.
            Backend::Postgres => " FOR UPDATE OF i SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = Sql::built(format!(
            "SELECT i.id, i.definition_id, i.kind, i.case_id, i.contact_id, i.resurvey_task_id, d.sample_percent, d.question, \
             u.email, u.name, u.language, u.active, c.status AS case_status FROM survey_invitations i \
             JOIN survey_definitions d ON d.id = i.definition_id JOIN users u ON u.id = i.contact_id \
             LEFT JOIN cases c ON c.id = i.case_id \
             WHERE i.status = 'scheduled' AND i.send_at <= $1 ORDER BY i.send_at, i.id LIMIT $2{lock}"
        ));
        let rows = tx.fetch_all(sql, args![now, BATCH]).await?;
        let mut delivered_cases = Vec::new();
        for r in &rows {
            let id = r.int("id")?;
            let case = r.opt_int("case_id")?;
            let contact = r.int("contact_id")?;
            // A re-survey after recovery is the point of the recovery: it is
            // sent whatever the sample and fatigue say.
            let resurvey = r.opt_int("resurvey_task_id")?.is_some();
            // "How did we do?" about a case that is open again would ask too
            // early; a deactivated contact is not asked at all.
            let reopened = !resurvey && r.opt_text("case_status")?.is_some_and(|s| s != "solved" && s != "closed");
            let skip = if !r.flag("active")? {
                Some("skipped_inactive")
            } else if reopened {
                Some("skipped_reopened")
            } else {
                None
            };
            if let Some(status) = skip {
                tx.execute("UPDATE survey_invitations SET status = $1 WHERE id = $2", args![status, id]).await?;
                tick.skipped_other += 1;
                continue;
            }
            if !resurvey
                && let Some(c) = case
                && !sampled(c, r.int("definition_id")?, r.int("sample_percent")?)
            {
                tx.execute("UPDATE survey_invitations SET status = 'skipped_sample' WHERE id = $1", args![id]).await?;
                tick.skipped_sample += 1;
                continue;
            }
            let last = tx
                .fetch_one(
                    "SELECT MAX(sent_at) AS t FROM survey_invitations WHERE contact_id = $1 AND sent_at IS NOT NULL",
                    args![contact],
                )
                .await?
                .opt_time("t")?;
            if !resurvey && fatigued(last, now, settings.fatigue_days) {
                tx.execute("UPDATE survey_invitations SET status = 'skipped_fatigue' WHERE id = $1", args![id]).await?;
                tick.skipped_fatigue += 1;
                continue;
            }
            let token = new_token()?;
            let expires = now.checked_add(SignedDuration::from_hours(24 * settings.expiry_days)).unwrap_or(now);
            tx.execute(
                "UPDATE survey_invitations SET status = 'sent', token_hash = $1, sent_at = $2, expires_at = $3 WHERE id = $4",
                args![token_hash(&token), now, expires, id],
            )
            .await?;
            let kind =
                SurveyKind::parse("kind", &r.text("kind")?).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
            let link = format!("{}/s/{token}", base_url.trim_end_matches('/'));
            let (subject, text, html) = invitation_mail(
                &r.text("language")?,
                kind,
                &r.text("question")?,
                case,
                &link,
                &self.mail.local(expires),
            );
            let name = r.text("name")?;
            let mut mail = Envelope::plain(&r.text("email")?, Some(&name), subject, text);
            mail.html = html;
            let case = case.map(CaseId);
            if let Some(c) = case {
                mail = mail.threaded(thread_of(&mut tx, c).await?);
            }
            enqueue(&mut tx, &self.mail, case, None, OutKind::Survey, &mail, now).await?;
            match case {
                Some(c) => delivered_cases.push(c),
                None => self.refresh_invitation_metrics(&mut tx, id).await?,
            }
            tick.sent.push((id, token));
        }
        // A delivered invitation counts towards the response rate.
        delivered_cases.sort_unstable();
        delivered_cases.dedup();
        for c in &delivered_cases {
            crate::cases::lock_case(&mut tx, *c).await?;
        }
        self.refresh_metrics(&mut tx, &delivered_cases).await?;
        tx.commit().await
    }
}
