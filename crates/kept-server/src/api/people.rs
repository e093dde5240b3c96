//! /api/v1/users, /contacts, /me, /tokens and /auth/tokens.

use super::extract::{ApiJson, ApiPath, ApiQuery, Caller, ClientAddr};
use super::types::{TeamResponse, TokenCreated, TokenList, TokenResponse, UserList, UserResponse};
use crate::auth::login::{LoginOutcome, check_password};
use crate::auth::secrets::{digest, hash_password, new_api_token};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kept_core::ids::{AccountId, TeamId, TokenId, UserId};
use kept_core::people::{Role, User};
use kept_core::permissions::Principal;
use kept_core::values::{Email, Name, Password};
use kept_store::{NewUser, UserFilter, UserPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Part of a name or email.
    pub q: Option<String>,
    pub team_id: Option<i64>,
    pub account_id: Option<i64>,
    pub cursor: Option<String>,
    /// 1 to 500, default 100.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    /// admin, manager or agent.
    pub role: String,
    /// At least 10 characters. Without one the person cannot log in yet.
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContactRequest {
    pub email: String,
    pub name: String,
    pub account_id: i64,
    /// Lets the contact log in to the portal.
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePersonRequest {
    pub email: Option<String>,
    pub name: Option<String>,
    /// Users only: admin, manager or agent.
    pub role: Option<String>,
    /// Contacts only.
    pub account_id: Option<i64>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    #[serde(flatten)]
    pub user: UserResponse,
    pub team_ids: Vec<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for, e.g. "mail relay".
    pub name: String,
    /// Admins may create tokens for others.
    pub user_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginTokenRequest {
    pub email: String,
    pub password: String,
    pub name: String,
}

async fn password_hash(raw: Option<&str>) -> ApiResult<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let password = Password::parse("password", raw)?;
    let hash = tokio::task::spawn_blocking(move || hash_password(password.expose()))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    Ok(Some(hash))
}

fn cursor(raw: Option<&str>) -> ApiResult<Option<UserId>> {
    raw.filter(|c| !c.is_empty())
        .map(|c| {
            c.parse()
                .map(UserId)
                .map_err(|_| ApiError::bad_request("invalid_cursor", "cursor", "is not a cursor from a previous page"))
        })
        .transpose()
}

fn people_page(users: Vec<User>, limit: u32) -> UserList {
    let next_cursor = (users.len() == limit as usize).then(|| users.last().map(|u| u.id.to_string())).flatten();
    UserList { users: users.into_iter().map(Into::into).collect(), next_cursor }
}

async fn list_people(state: &AppState, by: &Principal, q: PeopleQuery, staff: bool) -> ApiResult<UserList> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let filter = UserFilter {
        staff: Some(staff),
        account_id: q.account_id.map(AccountId),
        team_id: q.team_id.map(TeamId),
        query: q.q,
        after: cursor(q.cursor.as_deref())?,
        limit,
    };
    Ok(people_page(state.store.list_users(by, &filter).await?, limit))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "people", params(PeopleQuery), responses((status = 200, body = UserList), (status = 404, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> ApiResult<Json<UserList>> {
    Ok(Json(list_people(&state, &caller.principal, q, true).await?))
}

#[utoipa::path(get, path = "/api/v1/contacts", tag = "people", params(PeopleQuery), responses((status = 200, body = UserList), (status = 404, body = ErrorBody)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> ApiResult<Json<UserList>> {
    Ok(Json(list_people(&state, &caller.principal, q, false).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "people", request_body = CreateUserRequest,
    responses((status = 201, body = UserResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserResponse>)> {
    let role = Role::parse("role", &req.role)?;
    if !role.is_staff() {
        return Err(ApiError::from(kept_core::FieldError::new(
            "invalid_value",
            "role",
            "must be admin, manager or agent; contacts are created under /contacts",
        )));
    }
    let new = NewUser {
        email: Email::parse("email", &req.email)?,
        name: Name::parse("name", &req.name)?,
        role,
        account_id: None,
        password_hash: password_hash(req.password.as_deref()).await?,
    };
    let user = state.store.create_user(&caller.principal, new, state.now()).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "people", request_body = CreateContactRequest,
    responses((status = 404, body = ErrorBody), (status = 201, body = UserResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateContactRequest>,
) -> ApiResult<(StatusCode, Json<UserResponse>)> {
    let new = NewUser {
        email: Email::parse("email", &req.email)?,
        name: Name::parse("name", &req.name)?,
        role: Role::Contact,
        account_id: Some(AccountId(req.account_id)),
        password_hash: password_hash(req.password.as_deref()).await?,
    };
    let user = state.store.create_user(&caller.principal, new, state.now()).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

async fn get_person(state: &AppState, by: &Principal, id: i64, contact: bool) -> ApiResult<User> {
    let user = state.store.get_user(by, UserId(id)).await?;
    if (user.role == Role::Contact) != contact {
        return Err(ApiError::not_found(if contact { "contact" } else { "user" }));
    }
    Ok(user)
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "people", params(("id" = i64, Path)), responses((status = 200, body = UserResponse), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(get_person(&state, &caller.principal, id, false).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "people", params(("id" = i64, Path)), responses((status = 200, body = UserResponse), (status = 404, body = ErrorBody)))]
pub async fn get_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(get_person(&state, &caller.principal, id, true).await?.into()))
}

async fn update_person(
    state: &AppState,
    by: &Principal,
    id: i64,
    req: UpdatePersonRequest,
    contact: bool,
) -> ApiResult<UserResponse> {
    get_person(state, by, id, contact).await?;
    let role = super::parse::opt(req.role.as_deref(), |s| Role::parse("role", s))?;
    if contact && role.is_some() {
        return Err(kept_core::FieldError::new("not_allowed", "role", "a contact's role is contact").into());
    }
    if !contact && (req.account_id.is_some() || role == Some(Role::Contact)) {
        return Err(
            kept_core::FieldError::new("not_allowed", "account_id", "staff users do not belong to an account").into()
        );
    }
    let patch = UserPatch {
        email: super::parse::opt(req.email.as_deref(), |s| Email::parse("email", s))?,
        name: super::parse::opt(req.name.as_deref(), |s| Name::parse("name", s))?,
        role,
        account_id: req.account_id.map(AccountId),
        active: req.active,
        password_hash: password_hash(req.password.as_deref()).await?,
    };
    Ok(state.store.update_user(by, UserId(id), patch, state.now()).await?.into())
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "people", params(("id" = i64, Path)), request_body = UpdatePersonRequest,
    responses((status = 200, body = UserResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdatePersonRequest>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(update_person(&state, &caller.principal, id, req, false).await?))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "people", params(("id" = i64, Path)), request_body = UpdatePersonRequest,
    responses((status = 200, body = UserResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_contact(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdatePersonRequest>,
) -> ApiResult<Json<UserResponse>> {
    Ok(Json(update_person(&state, &caller.principal, id, req, true).await?))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "people", responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Json<MeResponse> {
    let team_ids = caller.principal.team_ids.iter().map(|t| t.0).collect();
    Json(MeResponse { user: caller.user.into(), team_ids })
}

/// Lists the teams of the caller (convenience for agents' tools).
#[utoipa::path(get, path = "/api/v1/me/teams", tag = "people", responses((status = 200, body = Vec<TeamResponse>), (status = 401, body = ErrorBody)))]
pub async fn my_teams(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TeamResponse>>> {
    if !caller.principal.is_staff() {
        return Ok(Json(Vec::new()));
    }
    let teams = state.store.list_teams(&caller.principal).await?;
    Ok(Json(teams.into_iter().filter(|t| caller.principal.in_team(t.id)).map(Into::into).collect()))
}

async fn issue_token(state: &AppState, by: &Principal, owner: UserId, name: &str) -> ApiResult<TokenCreated> {
    let name = Name::parse("name", name)?;
    let secret = new_api_token()?;
    let prefix: String = secret.chars().take(12).collect();
    let info = state.store.create_api_token(by, owner, name.as_str(), &digest(&secret), &prefix, state.now()).await?;
    Ok(TokenCreated { token: secret, info: info.into() })
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = TokenList), (status = 401, body = ErrorBody)))]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TokenList>> {
    let tokens = state.store.list_api_tokens(&caller.principal, caller.user.id).await?;
    Ok(Json(TokenList { tokens: tokens.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest,
    responses((status = 201, body = TokenCreated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let owner = req.user_id.map_or(caller.user.id, UserId);
    Ok((StatusCode::CREATED, Json(issue_token(&state, &caller.principal, owner, &req.name).await?)))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 200, body = TokenResponse), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TokenResponse>> {
    Ok(Json(state.store.revoke_api_token(&caller.principal, TokenId(id), state.now()).await?.into()))
}

/// Exchanges an email and password for an API token (for scripts that
/// start from a person's credentials). Rate-limited like the login page.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "tokens", request_body = LoginTokenRequest, security(()),
    responses((status = 201, body = TokenCreated), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login_token(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(req): ApiJson<LoginTokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    match check_password(&state, &req.email, &req.password, &client.0).await? {
        LoginOutcome::Ok(user) => {
            let principal = state.store.principal(&user).await?;
            Ok((StatusCode::CREATED, Json(issue_token(&state, &principal, user.id, &req.name).await?)))
        }
        LoginOutcome::Refused => {
            Err(ApiError::unauthenticated("invalid_credentials", "the email or password is wrong"))
        }
        LoginOutcome::Locked(wait) => Err(ApiError::too_many(wait)),
    }
}
