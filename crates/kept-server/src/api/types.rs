//! What the API sends back. Field names and shapes are the public contract
//! (docs/API.md); times are RFC 3339 in UTC with millisecond precision.

use jiff::Timestamp;
use kept_core::accounts::{Account, Team};
use kept_core::people::User;
use kept_store::{ApiToken, CaseDetail, MessageView, TimelineEntry};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// Formats an instant as RFC 3339 UTC (`2024-06-03T13:00:00.250Z`).
pub fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

/// Deserialises a field that may be absent (`None`), `null` (`Some(None)`)
/// or a value (`Some(Some(v))`), for PATCH bodies.
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ref {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: i64,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountRef {
    pub id: i64,
    pub name: String,
    pub tier: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// admin, manager, agent or contact.
    pub role: String,
    /// Set for contacts.
    pub account_id: Option<i64>,
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.to_string(),
            name: u.name.to_string(),
            role: u.role.to_string(),
            account_id: u.account_id.map(|a| a.0),
            active: u.active,
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserResponse>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamResponse {
    pub id: i64,
    pub name: String,
    /// An internal team serves other teams, not customers.
    pub internal: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Team> for TeamResponse {
    fn from(t: Team) -> Self {
        Self { id: t.id.0, name: t.name.to_string(), internal: t.internal, created_at: rfc3339(t.created_at) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    pub teams: Vec<TeamResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: i64,
    pub name: String,
    pub tier: String,
    /// Mail from these domains is attributed to this account.
    pub domains: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Account> for AccountResponse {
    fn from(a: Account) -> Self {
        Self {
            id: a.id.0,
            name: a.name.to_string(),
            tier: a.tier.to_string(),
            domains: a.domains.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(a.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    pub accounts: Vec<AccountResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseResponse {
    pub id: i64,
    pub subject: String,
    /// new, open, pending, on_hold, solved or closed.
    pub status: String,
    /// low, normal, high or urgent.
    pub priority: String,
    /// email, web, phone, chat, api or internal.
    pub channel: String,
    pub case_type: String,
    pub account: AccountRef,
    pub requester: PersonRef,
    pub team: Ref,
    pub assignee: Option<Ref>,
    /// Staff only (empty for contacts).
    pub tags: Vec<String>,
    /// For an internal request: the case it serves.
    pub parent_case_id: Option<i64>,
    /// For an internal request: the team that raised it.
    pub requesting_team: Option<Ref>,
    /// For a follow-up: the closed case it continues.
    pub follow_up_of: Option<i64>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub solved_at: Option<String>,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    /// The nearest deadline of the case's owed promises (in the past if overdue).
    #[schema(format = DateTime)]
    pub next_breach_at: Option<String>,
}

impl CaseResponse {
    /// Shapes a case for `staff` or for a customer (who does not see tags).
    pub fn new(d: CaseDetail, staff: bool) -> Self {
        let c = d.case;
        Self {
            id: c.id.0,
            subject: c.subject.to_string(),
            status: c.status.to_string(),
            priority: c.priority.to_string(),
            channel: c.channel.to_string(),
            case_type: c.case_type.to_string(),
            account: AccountRef { id: c.account_id.0, name: d.account_name, tier: d.account_tier },
            requester: PersonRef { id: c.requester_id.0, name: d.requester_name, email: d.requester_email },
            team: Ref { id: c.team_id.0, name: d.team_name },
            assignee: c.assignee_id.zip(d.assignee_name).map(|(id, name)| Ref { id: id.0, name }),
            tags: if staff { c.tags.iter().map(ToString::to_string).collect() } else { Vec::new() },
            parent_case_id: c.parent_case_id.map(|p| p.0),
            requesting_team: c.requesting_team_id.zip(d.requesting_team_name).map(|(id, name)| Ref { id: id.0, name }),
            follow_up_of: c.follow_up_of.map(|f| f.0),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            solved_at: c.solved_at.map(rfc3339),
            closed_at: c.closed_at.map(rfc3339),
            next_breach_at: d.next_breach_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseResponse>,
    /// Pass as `cursor` (with the same `sort`) for the next page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub id: i64,
    pub case_id: i64,
    pub author: Ref,
    /// customer, agent or system.
    pub author_role: String,
    /// false for internal notes (never shown to customers).
    pub public: bool,
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<MessageView> for MessageResponse {
    fn from(m: MessageView) -> Self {
        Self {
            id: m.id.0,
            case_id: m.case_id.0,
            author: Ref { id: m.author_id.0, name: m.author_name },
            author_role: m.author_role.to_string(),
            public: m.public,
            body: m.body,
            created_at: rfc3339(m.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageCreated {
    pub message: MessageResponse,
    /// The case the message landed on: a new follow-up if the case was closed.
    pub case: CaseResponse,
    pub follow_up: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub id: i64,
    pub case_id: i64,
    /// What happened: case_created, status_changed, agent_reply, ….
    pub kind: String,
    /// Who did it; absent when kept itself acted.
    pub actor: Option<Ref>,
    #[schema(format = DateTime)]
    pub at: String,
    /// The value before the change, for changes: any JSON value (a number, a string, an object, …).
    #[schema(value_type = Value)]
    pub before: Option<serde_json::Value>,
    /// The value after the change, for changes: any JSON value.
    #[schema(value_type = Value)]
    pub after: Option<serde_json::Value>,
    /// Details (message id, linked case, …); null when there are none.
    #[schema(value_type = Option<Object>)]
    pub data: serde_json::Value,
}

impl From<TimelineEntry> for EventResponse {
    fn from(t: TimelineEntry) -> Self {
        let e = t.event;
        Self {
            id: e.id.0,
            case_id: e.case_id.0,
            kind: e.kind.to_string(),
            actor: e.actor.map(|a| Ref { id: a.0, name: t.actor_name.unwrap_or_default() }),
            at: rfc3339(e.at),
            before: e.before,
            after: e.after,
            data: e.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventResponse>,
    /// For the raw log: pass as `cursor` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<ApiToken> for TokenResponse {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id.0,
            name: t.name,
            prefix: t.prefix,
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked_at: t.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    /// The secret. Shown this once; kept stores only its hash.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenResponse>,
}
