//! Staff, contacts and teams.

use crate::db::{DbRow, SqlBuilder, args};
use crate::error::{Result, StoreError};
use crate::{Store, db::Tx};
use jiff::Timestamp;
use kept_core::accounts::Team;
use kept_core::ids::{AccountId, TeamId, UserId};
use kept_core::people::{Role, User};
use kept_core::permissions::Principal;
use kept_core::values::{Email, Name};
use kept_core::{DomainError, FieldError};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: Name,
    pub role: Role,
    pub account_id: Option<AccountId>,
    /// An argon2 PHC string; `None` for people who cannot log in (yet).
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub email: Option<Email>,
    pub name: Option<Name>,
    pub role: Option<Role>,
    pub account_id: Option<AccountId>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// `Some(true)`: staff only; `Some(false)`: contacts only.
    pub staff: Option<bool>,
    pub account_id: Option<AccountId>,
    pub team_id: Option<TeamId>,
    /// Case-insensitive substring of name or email.
    pub query: Option<String>,
    pub after: Option<UserId>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: Name,
    pub internal: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TeamPatch {
    pub name: Option<Name>,
    pub internal: Option<bool>,
}

pub(crate) const USER_COLUMNS: &str = "id, email, name, role, account_id, active, created_at";

pub(crate) fn user_from_row(row: &DbRow) -> Result<User> {
    let corrupt = |_: FieldError| StoreError::Corrupt("users".into());
    Ok(User {
        id: UserId(row.int("id")?),
        email: Email::parse("email", &row.text("email")?).map_err(corrupt)?,
        name: Name::parse("name", &row.text("name")?).map_err(corrupt)?,
        role: Role::parse("role", &row.text("role")?).map_err(corrupt)?,
        account_id: row.opt_int("account_id")?.map(AccountId),
        active: row.flag("active")?,
        created_at: row.time("created_at")?,
    })
}

fn team_from_row(row: &DbRow) -> Result<Team> {
    Ok(Team {
        id: TeamId(row.int("id")?),
        name: Name::parse("name", &row.text("name")?).map_err(|_| StoreError::Corrupt("teams".into()))?,
        internal: row.flag("internal")?,
        created_at: row.time("created_at")?,
    })
}

fn email_taken() -> DomainError {
    DomainError::conflict("email_taken", Some("email"), "a person with this email already exists")
}

fn team_name_taken() -> DomainError {
    DomainError::conflict("name_taken", Some("name"), "a team with this name already exists")
}

fn check_role_account(role: Role, account: Option<AccountId>) -> Result<(), DomainError> {
    match (role, account) {
        (Role::Contact, None) => Err(DomainError::invalid("required", "account_id", "a contact belongs to an account")),
        (r, Some(_)) if r.is_staff() => {
            Err(DomainError::invalid("not_allowed", "account_id", "staff users do not belong to a customer account"))
        }
        _ => Ok(()),
    }
}

impl Store {
    /// Creates a person. Admins create anyone; other staff create contacts only.
    pub async fn create_user(&self, by: &Principal, new: NewUser, now: Timestamp) -> Result<User> {
        by.require_staff()?;
        if new.role.is_staff() {
            by.require_admin()?;
        }
        check_role_account(new.role, new.account_id)?;
        let mut tx = self.db.begin().await?;
        if let Some(account) = new.account_id {
            crate::accounts::require_account(&mut tx, account).await?;
        }
        let row = tx
            .fetch_one(
                "INSERT INTO users (email, name, role, account_id, password_hash, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id, email, name, role, account_id, active, created_at",
                args![
                    new.email.as_str(),
                    new.name.as_str(),
                    new.role.as_str(),
                    new.account_id.map(|a| a.0),
                    new.password_hash,
                    now
                ],
            )
            .await
            .map_err(|e| e.explain(&[("users_email_key", email_taken)]))?;
        let user = user_from_row(&row)?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn get_user(&self, by: &Principal, id: UserId) -> Result<User> {
        if by.user_id != id {
            by.require_staff()?;
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = self.db.fetch_optional(crate::db::Sql::built(sql), args![id.0]).await?;
        row.map(|r| user_from_row(&r)).transpose()?.ok_or(DomainError::NotFound { entity: "user" }.into())
    }

    pub async fn list_users(&self, by: &Principal, filter: &UserFilter) -> Result<Vec<User>> {
        by.require_staff()?;
        let mut q = SqlBuilder::new(&format!("SELECT {USER_COLUMNS} FROM users u WHERE 1 = 1"));
        match filter.staff {
            Some(true) => q.push(" AND role <> 'contact'"),
            Some(false) => q.push(" AND role = 'contact'"),
            None => &mut q,
        };
        if let Some(account) = filter.account_id {
            q.push(" AND account_id = ").bind(account.0);
        }
        if let Some(team) = filter.team_id {
            q.push(" AND EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = u.id AND m.team_id = ")
                .bind(team.0)
                .push(")");
        }
        if let Some(text) = filter.query.as_deref().filter(|t| !t.is_empty()) {
            let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
            q.push(" AND (lower(name) LIKE ").bind(pattern.clone()).push(" ESCAPE '\\' OR email LIKE ");
            q.bind(pattern).push(" ESCAPE '\\')");
        }
        if let Some(after) = filter.after {
            q.push(" AND id > ").bind(after.0);
        }
        q.push(" ORDER BY id LIMIT ").bind(i64::from(filter.limit.clamp(1, 500)));
        let (sql, args) = q.finish();
        self.db.fetch_all(sql, args).await?.iter().map(user_from_row).collect()
    }

    pub async fn update_user(&self, by: &Principal, id: UserId, patch: UserPatch, now: Timestamp) -> Result<User> {
        let mut tx = self.db.begin().await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1{}", tx.for_update());
        let current = tx.fetch_optional(crate::db::Sql::built(sql), args![id.0]).await?;
        let current =
            current.map(|r| user_from_row(&r)).transpose()?.ok_or(DomainError::NotFound { entity: "user" })?;
        authorize_user_edit(by, &current, &patch)?;
        let role = patch.role.unwrap_or(current.role);
        let account = if role.is_staff() { None } else { patch.account_id.or(current.account_id) };
        check_role_account(role, account)?;
        if let Some(a) = account {
            crate::accounts::require_account(&mut tx, a).await?;
        }
        let email = patch.email.unwrap_or(current.email);
        let name = patch.name.unwrap_or(current.name);
        let active = patch.active.unwrap_or(current.active);
        tx.execute(
            "UPDATE users SET email = $1, name = $2, role = $3, account_id = $4, active = $5, \
             password_hash = COALESCE($6, password_hash), updated_at = $7 WHERE id = $8",
            args![
                email.as_str(),
                name.as_str(),
                role.as_str(),
                account.map(|a| a.0),
                active,
                patch.password_hash,
                now,
                id.0
            ],
        )
        .await
        .map_err(|e| e.explain(&[("users_email_key", email_taken)]))?;
        if !active || !role.is_staff() {
            // Deactivated people lose their sessions and tokens at once.
            revoke_access(&mut tx, id, now, !active).await?;
        }
        tx.commit().await?;
        Ok(User { id, email, name, role, account_id: account, active, created_at: current.created_at })
    }

    /// The active person with this email and their password hash, for login.
    pub async fn user_for_login(&self, email: &Email) -> Result<Option<(User, Option<String>)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1 AND active = TRUE");
        let row = self.db.fetch_optional(crate::db::Sql::built(sql), args![email.as_str()]).await?;
        row.map(|r| Ok((user_from_row(&r)?, r.opt_text("password_hash")?))).transpose()
    }

    /// Looks a person up by email (CLI and seeding).
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = self.db.fetch_optional(crate::db::Sql::built(sql), args![email.as_str()]).await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    /// Whether anyone exists yet (a fresh database has no one).
    pub async fn has_people(&self) -> Result<bool> {
        Ok(self.db.fetch_optional("SELECT id FROM users LIMIT 1", args![]).await?.is_some())
    }

    /// Everything needed to authorise a person's requests.
    pub async fn principal(&self, user: &User) -> Result<Principal> {
        if user.role == Role::Contact {
            let account = user.account_id.ok_or(StoreError::Corrupt("contact without account".into()))?;
            return Ok(Principal::contact(user.id, account));
        }
        let teams = self
            .db
            .point_all("SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id", args![user.id.0])
            .await?
            .iter()
            .map(|r| r.int("team_id").map(TeamId))
            .collect::<Result<Vec<_>>>()?;
        Ok(Principal::staff(user.id, user.role, teams))
    }

    pub async fn create_team(&self, by: &Principal, new: NewTeam, now: Timestamp) -> Result<Team> {
        by.require_admin()?;
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO teams (name, internal, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
                args![new.name.as_str(), new.internal, now],
            )
            .await
            .map_err(|e| e.explain(&[("teams_name_key", team_name_taken)]))?;
        tx.commit().await?;
        Ok(Team { id: TeamId(id), name: new.name, internal: new.internal, created_at: now })
    }

    pub async fn list_teams(&self, by: &Principal) -> Result<Vec<Team>> {
        by.require_staff()?;
        let rows = self.db.fetch_all("SELECT id, name, internal, created_at FROM teams ORDER BY name", args![]).await?;
        rows.iter().map(team_from_row).collect()
    }

    pub async fn get_team(&self, by: &Principal, id: TeamId) -> Result<Team> {
        by.require_staff()?;
        let row = self
            .db
            .fetch_optional("SELECT id, name, internal, created_at FROM teams WHERE id = $1", args![id.0])
            .await?;
        row.map(|r| team_from_row(&r)).transpose()?.ok_or(DomainError::NotFound { entity: "team" }.into())
    }

    pub async fn update_team(&self, by: &Principal, id: TeamId, patch: TeamPatch, now: Timestamp) -> Result<Team> {
        by.require_team_manager(id)?;
        let current = self.get_team(by, id).await?;
        let name = patch.name.unwrap_or(current.name);
        let internal = patch.internal.unwrap_or(current.internal);
        let mut tx = self.db.begin().await?;
        tx.execute(
            "UPDATE teams SET name = $1, internal = $2, updated_at = $3 WHERE id = $4",
            args![name.as_str(), internal, now, id.0],
        )
        .await
        .map_err(|e| e.explain(&[("teams_name_key", team_name_taken)]))?;
        tx.commit().await?;
        Ok(Team { id, name, internal, created_at: current.created_at })
    }

    pub async fn team_members(&self, by: &Principal, team: TeamId) -> Result<Vec<User>> {
        self.list_users(by, &UserFilter { team_id: Some(team), limit: 500, ..UserFilter::default() }).await
    }

    /// Adds a staff member to a team (admins, and the team's managers).
    pub async fn add_team_member(&self, by: &Principal, team: TeamId, user: UserId, now: Timestamp) -> Result<()> {
        by.require_team_manager(team)?;
        self.get_team(by, team).await?;
        let member = self.get_user(by, user).await?;
        if !member.role.is_staff() {
            return Err(DomainError::invalid("not_staff", "user_id", "only staff users can be team members").into());
        }
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO team_members (team_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            args![team.0, user.0, now],
        )
        .await?;
        tx.commit().await
    }

    pub async fn remove_team_member(&self, by: &Principal, team: TeamId, user: UserId) -> Result<()> {
        by.require_team_manager(team)?;
        let mut tx = self.db.begin().await?;
        let removed =
            tx.execute("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", args![team.0, user.0]).await?;
        if removed == 0 {
            return Err(DomainError::NotFound { entity: "team member" }.into());
        }
        tx.commit().await
    }
}

/// Who may change whom: admins anyone; everyone their own name and
/// password; staff may correct contacts' names and emails (not roles).
fn authorize_user_edit(by: &Principal, target: &User, patch: &UserPatch) -> Result<(), DomainError> {
    if by.is_admin() {
        return Ok(());
    }
    let only_profile = patch.role.is_none() && patch.active.is_none() && patch.account_id.is_none();
    if by.user_id == target.id && only_profile && patch.email.is_none() {
        return Ok(());
    }
    by.require_staff()?;
    if target.role == Role::Contact && only_profile && patch.password_hash.is_none() {
        return Ok(());
    }
    Err(DomainError::forbidden("only an admin may change this person"))
}

async fn revoke_access(tx: &mut Tx, user: UserId, now: Timestamp, tokens_too: bool) -> Result<()> {
    tx.execute("DELETE FROM sessions WHERE user_id = $1", args![user.0]).await?;
    if tokens_too {
        tx.execute(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            args![now, user.0],
        )
        .await?;
    }
    Ok(())
}

pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
