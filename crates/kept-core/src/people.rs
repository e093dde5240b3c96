//! People: staff users (admins, managers, agents) and customer contacts share
//! one identity, as in Zendesk, so that messages, sessions and tokens can name
//! any of them with one `UserId`. A contact always belongs to an account.

use crate::ids::{AccountId, UserId};
use crate::string_enum;
use crate::values::{Email, Name};
use jiff::Timestamp;

string_enum!(
    /// What a person may do in kept.
    Role {
        /// Everything, everywhere.
        Admin = "admin",
        /// A team lead: their teams' cases, reports and team configuration.
        Manager = "manager",
        /// Front line: the cases of their teams.
        Agent = "agent",
        /// A customer: their own account's cases, public messages only.
        Contact = "contact",
    }
);

impl Role {
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Contact)
    }

    /// The staff roles, for forms that create users.
    pub const STAFF: &'static [Role] = &[Role::Admin, Role::Manager, Role::Agent];
}

/// A person as kept knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: Name,
    pub role: Role,
    /// Set for contacts (and only for them).
    pub account_id: Option<AccountId>,
    pub active: bool,
    pub created_at: Timestamp,
}
