//! Sessions and API tokens. The store only ever sees SHA-256 hashes of the
//! secrets; the server makes and hashes them.

use crate::Store;
use crate::db::{DbRow, Sql, args};
use crate::error::Result;
use crate::people::user_from_row;
use jiff::{SignedDuration, Timestamp};
use kept_core::DomainError;
use kept_core::ids::{TokenId, UserId};
use kept_core::people::User;
use kept_core::permissions::Principal;

/// A live browser session.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

fn token_from_row(row: &DbRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId(row.int("id")?),
        user_id: UserId(row.int("user_id")?),
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        created_at: row.time("created_at")?,
        last_used_at: row.opt_time("last_used_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

/// Recording every use of a token would make every API call a write; a
/// minute's precision is enough to tell whether a token is still in use.
const LAST_USED_PRECISION: SignedDuration = SignedDuration::from_secs(60);

const USER_COLS: &str = "u.id, u.email, u.name, u.role, u.account_id, u.active, u.created_at";

impl Store {
    pub async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        // Expired sessions are swept at each login rather than by a job.
        tx.execute("DELETE FROM sessions WHERE expires_at <= $1", args![now]).await?;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            args![token_hash, user.0, csrf_token, now, expires_at],
        )
        .await?;
        tx.commit().await
    }

    /// The session with this hash if it is live and its person still active.
    pub async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionInfo>> {
        let sql = format!(
            "SELECT {USER_COLS}, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = TRUE"
        );
        let Some(row) = self.db.point_optional(Sql::built(sql), args![token_hash, now]).await? else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let principal = self.principal(&user).await?;
        Ok(Some(SessionInfo {
            user,
            principal,
            csrf_token: row.text("csrf_token")?,
            expires_at: row.time("expires_at")?,
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.db.execute("DELETE FROM sessions WHERE token_hash = $1", args![token_hash]).await?;
        Ok(())
    }

    /// Creates a token for `owner`: for oneself, or by an admin for anyone.
    pub async fn create_api_token(
        &self,
        by: &Principal,
        owner: UserId,
        name: &str,
        token_hash: &str,
        prefix: &str,
        now: Timestamp,
    ) -> Result<ApiToken> {
        if owner != by.user_id {
            by.require_admin()?;
        }
        let mut tx = self.db.begin().await?;
        let active = tx.fetch_optional("SELECT active FROM users WHERE id = $1", args![owner.0]).await?;
        match active.map(|r| r.flag("active")).transpose()? {
            Some(true) => {}
            Some(false) => {
                return Err(DomainError::invalid("inactive_user", "user_id", "this person is deactivated").into());
            }
            None => return Err(DomainError::NotFound { entity: "user" }.into()),
        }
        let row = tx
            .fetch_one(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id, user_id, name, prefix, created_at, last_used_at, revoked_at",
                args![owner.0, name, token_hash, prefix, now],
            )
            .await?;
        let token = token_from_row(&row)?;
        tx.commit().await?;
        Ok(token)
    }

    pub async fn list_api_tokens(&self, by: &Principal, owner: UserId) -> Result<Vec<ApiToken>> {
        if owner != by.user_id {
            by.require_admin()?;
        }
        let rows = self
            .db
            .fetch_all(
                "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens \
                 WHERE user_id = $1 ORDER BY id",
                args![owner.0],
            )
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token of one's own (admins: anyone's). Revoking twice is fine.
    pub async fn revoke_api_token(&self, by: &Principal, id: TokenId, now: Timestamp) -> Result<ApiToken> {
        let mut tx = self.db.begin().await?;
        let row = tx
            .fetch_optional(
                "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1",
                args![id.0],
            )
            .await?;
        let mut token =
            row.map(|r| token_from_row(&r)).transpose()?.ok_or(DomainError::NotFound { entity: "token" })?;
        if token.user_id != by.user_id && !by.is_admin() {
            return Err(DomainError::NotFound { entity: "token" }.into());
        }
        if token.revoked_at.is_none() {
            tx.execute("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2", args![now, id.0]).await?;
            token.revoked_at = Some(now);
        }
        tx.commit().await?;
        Ok(token)
    }

    /// The active person a live token belongs to, noting its use.
    pub async fn token_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<(User, Principal)>> {
        let sql = format!(
            "SELECT {USER_COLS}, t.id AS token_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = TRUE"
        );
        let Some(row) = self.db.point_optional(Sql::built(sql), args![token_hash]).await? else {
            return Ok(None);
        };
        let stale = row.opt_time("last_used_at")?.is_none_or(|t| now.duration_since(t) >= LAST_USED_PRECISION);
        if stale {
            self.db
                .execute("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", args![now, row.int("token_id")?])
                .await?;
        }
        let user = user_from_row(&row)?;
        let principal = self.principal(&user).await?;
        Ok(Some((user, principal)))
    }
}
