//! Managing the organisation from pages: accounts and their contacts, teams
//! and their members, staff users. The store enforces who may do what; these
//! handlers only translate forms.

use super::form::{WebForm, comma_list, form_id, given};
use super::session::{Layout, PageError, PageResult, StaffUser, WebUser, refusal, render, render_form, see_other};
use crate::api::types::{AccountResponse, UserResponse};
use crate::auth::secrets::hash_password;
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use kept_core::accounts::{SUGGESTED_TIERS, Team};
use kept_core::ids::{AccountId, TeamId, UserId};
use kept_core::people::Role;
use kept_core::values::{Email, EmailDomain, Name, Password, Slug};
use kept_store::{AccountPatch, NewAccount, NewTeam, NewUser, TeamPatch, UserFilter, UserPatch};
use serde::Deserialize;

fn domains(raw: &Option<String>) -> Result<Vec<EmailDomain>, PageError> {
    comma_list(raw).iter().map(|d| EmailDomain::parse("domains", d).map_err(PageError::from)).collect()
}

async fn hash(raw: &str) -> Result<String, PageError> {
    let password = Password::parse("password", raw)?;
    let hashed = tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(hashed.map_err(ApiError::from)?)
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    layout: Layout,
    q: String,
    accounts: Vec<AccountResponse>,
    next_url: Option<String>,
    can_edit: bool,
    tiers: &'static [&'static str],
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    q: Option<String>,
    cursor: Option<String>,
}

async fn accounts_page(state: &AppState, user: &WebUser, params: ListParams, error: Option<String>) -> PageResult {
    let after = form_id("cursor", &params.cursor)?.map(AccountId);
    let q = given(&params.q).unwrap_or("").to_owned();
    let accounts = state.store.list_accounts(&user.principal, Some(&q), after, 100).await?;
    let next_url = (accounts.len() == 100)
        .then(|| accounts.last().map(|a| format!("/admin/accounts?q={q}&cursor={}", a.id)))
        .flatten();
    let page = AccountsPage {
        layout: user.layout("Accounts"),
        q,
        accounts: accounts.into_iter().map(Into::into).collect(),
        next_url,
        can_edit: user.principal.require_account_editor().is_ok(),
        tiers: SUGGESTED_TIERS,
        error,
    };
    render_form(&page, page.error.is_some())
}

pub async fn accounts(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let params = crate::api::extract::parse_query(raw.as_deref().unwrap_or(""))?;
    accounts_page(&state, &user, params, None).await
}

#[derive(Deserialize)]
pub struct AccountForm {
    csrf: String,
    name: String,
    tier: String,
    domains: Option<String>,
}

pub async fn create_account(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(form): WebForm<AccountForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<AccountId, PageError> = async {
        let new = NewAccount {
            name: Name::parse("name", &form.name)?,
            tier: Slug::parse("tier", &form.tier)?,
            domains: domains(&form.domains)?,
        };
        Ok(state.store.create_account(&user.principal, new, state.now()).await?.id)
    }
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!("/admin/accounts/{id}"))),
        Err(e) => accounts_page(&state, &user, ListParams::default(), Some(refusal(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    account: AccountResponse,
    contacts: Vec<UserResponse>,
    can_edit: bool,
    error: Option<String>,
}

async fn account_page(state: &AppState, user: &WebUser, id: AccountId, error: Option<String>) -> PageResult {
    let account = state.store.get_account(&user.principal, id).await?;
    let filter = UserFilter { staff: Some(false), account_id: Some(id), limit: 500, ..UserFilter::default() };
    let contacts = state.store.list_users(&user.principal, &filter).await?;
    let page = AccountPage {
        layout: user.layout(account.name.to_string()),
        account: account.into(),
        contacts: contacts.into_iter().map(Into::into).collect(),
        can_edit: user.principal.require_account_editor().is_ok(),
        error,
    };
    render_form(&page, page.error.is_some())
}

pub async fn account(State(state): State<AppState>, StaffUser(user): StaffUser, Path(id): Path<i64>) -> PageResult {
    account_page(&state, &user, AccountId(id), None).await
}

pub async fn update_account(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<AccountForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = AccountId(id);
    let result: Result<(), PageError> = async {
        let patch = AccountPatch {
            name: Some(Name::parse("name", &form.name)?),
            tier: Some(Slug::parse("tier", &form.tier)?),
            domains: Some(domains(&form.domains)?),
        };
        state.store.update_account(&user.principal, id, patch, state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/accounts/{id}"))),
        Err(e) => account_page(&state, &user, id, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    csrf: String,
    name: String,
    email: String,
}

pub async fn add_contact(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<ContactForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = AccountId(id);
    let result: Result<(), PageError> = async {
        let new = NewUser {
            email: Email::parse("email", &form.email)?,
            name: Name::parse("name", &form.name)?,
            role: Role::Contact,
            account_id: Some(id),
            password_hash: None,
        };
        state.store.create_user(&user.principal, new, state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/accounts/{id}"))),
        Err(e) => account_page(&state, &user, id, Some(refusal(e)?)).await,
    }
}

#[derive(Template)]
#[template(path = "teams.html")]
struct TeamsPage {
    layout: Layout,
    teams: Vec<Team>,
    error: Option<String>,
}

pub async fn teams(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    let teams = state.store.list_teams(&user.principal).await?;
    render(&TeamsPage { layout: user.layout("Teams"), teams, error: None })
}

#[derive(Deserialize)]
pub struct TeamForm {
    csrf: String,
    name: String,
    internal: Option<String>,
}

pub async fn create_team(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(form): WebForm<TeamForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<TeamId, PageError> = async {
        let new = NewTeam { name: Name::parse("name", &form.name)?, internal: given(&form.internal).is_some() };
        Ok(state.store.create_team(&user.principal, new, state.now()).await?.id)
    }
    .await;
    match result {
        Ok(id) => Ok(see_other(&format!("/admin/teams/{id}"))),
        Err(e) => {
            let message = refusal(e)?;
            let teams = state.store.list_teams(&user.principal).await?;
            let page = TeamsPage { layout: user.layout("Teams"), teams, error: Some(message) };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    layout: Layout,
    team: Team,
    members: Vec<UserResponse>,
    candidates: Vec<(i64, String)>,
    can_manage: bool,
    error: Option<String>,
}

async fn team_page(state: &AppState, user: &WebUser, id: TeamId, error: Option<String>) -> PageResult {
    let by = &user.principal;
    let team = state.store.get_team(by, id).await?;
    let members = state.store.team_members(by, id).await?;
    let staff =
        state.store.list_users(by, &UserFilter { staff: Some(true), limit: 500, ..UserFilter::default() }).await?;
    let candidates = staff
        .iter()
        .filter(|u| u.active && !members.iter().any(|m| m.id == u.id))
        .map(|u| (u.id.0, u.name.to_string()))
        .collect();
    let page = TeamPage {
        layout: user.layout(team.name.to_string()),
        members: members.into_iter().map(Into::into).collect(),
        candidates,
        can_manage: by.require_team_manager(id).is_ok(),
        error,
        team,
    };
    render_form(&page, page.error.is_some())
}

pub async fn team(State(state): State<AppState>, StaffUser(user): StaffUser, Path(id): Path<i64>) -> PageResult {
    team_page(&state, &user, TeamId(id), None).await
}

pub async fn update_team(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<TeamForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = TeamId(id);
    let result: Result<(), PageError> = async {
        let patch =
            TeamPatch { name: Some(Name::parse("name", &form.name)?), internal: Some(given(&form.internal).is_some()) };
        state.store.update_team(&user.principal, id, patch, state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/teams/{id}"))),
        Err(e) => team_page(&state, &user, id, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    csrf: String,
    user_id: Option<String>,
}

pub async fn add_member(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<MemberForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = TeamId(id);
    let result: Result<(), PageError> = async {
        let member = form_id("user_id", &form.user_id)?
            .ok_or_else(|| kept_core::FieldError::new("required", "user_id", "choose a person"))?;
        state.store.add_team_member(&user.principal, id, UserId(member), state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/teams/{id}"))),
        Err(e) => team_page(&state, &user, id, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn remove_member(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path((id, member)): Path<(i64, i64)>,
    WebForm(form): WebForm<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = TeamId(id);
    match state.store.remove_team_member(&user.principal, id, UserId(member)).await {
        Ok(()) => Ok(see_other(&format!("/admin/teams/{id}"))),
        Err(e) => team_page(&state, &user, id, Some(refusal(e.into())?)).await,
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserResponse>,
    roles: Vec<&'static str>,
    error: Option<String>,
}

async fn users_page(state: &AppState, user: &WebUser, error: Option<String>) -> PageResult {
    user.principal.require_admin()?;
    let users = state
        .store
        .list_users(&user.principal, &UserFilter { staff: Some(true), limit: 500, ..UserFilter::default() })
        .await?;
    let page = UsersPage {
        layout: user.layout("Users"),
        users: users.into_iter().map(Into::into).collect(),
        roles: Role::STAFF.iter().map(|r| r.as_str()).collect(),
        error,
    };
    render_form(&page, page.error.is_some())
}

pub async fn users(State(state): State<AppState>, StaffUser(user): StaffUser) -> PageResult {
    users_page(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    csrf: String,
    name: String,
    email: String,
    role: String,
    password: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    WebForm(form): WebForm<NewUserForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<(), PageError> = async {
        let role = Role::parse("role", &form.role)?;
        if !role.is_staff() {
            return Err(kept_core::FieldError::new(
                "invalid_value",
                "role",
                "contacts are added on their account's page",
            )
            .into());
        }
        let new = NewUser {
            email: Email::parse("email", &form.email)?,
            name: Name::parse("name", &form.name)?,
            role,
            account_id: None,
            password_hash: Some(hash(&form.password).await?),
        };
        state.store.create_user(&user.principal, new, state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(e) => users_page(&state, &user, Some(refusal(e)?)).await,
    }
}

#[derive(Deserialize)]
pub struct EditUserForm {
    csrf: String,
    role: String,
    active: Option<String>,
}

pub async fn update_user(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    Path(id): Path<i64>,
    WebForm(form): WebForm<EditUserForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let result: Result<(), PageError> = async {
        let role = Role::parse("role", &form.role)?;
        if !role.is_staff() {
            return Err(kept_core::FieldError::new("invalid_value", "role", "staff cannot become contacts").into());
        }
        let patch = UserPatch { role: Some(role), active: Some(given(&form.active).is_some()), ..UserPatch::default() };
        state.store.update_user(&user.principal, UserId(id), patch, state.now()).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other("/admin/users")),
        Err(e) => users_page(&state, &user, Some(refusal(e)?)).await,
    }
}
