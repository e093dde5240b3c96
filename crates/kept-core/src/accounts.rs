//! Customer accounts (organisations) and teams.

use crate::ids::{AccountId, TeamId};
use crate::values::{EmailDomain, Name, Slug};
use jiff::Timestamp;

/// A customer organisation. The tier (standard, premium, enterprise, or any
/// label the organisation uses) is what promise policies select on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: Name,
    pub tier: Slug,
    /// Mail from these domains is attributed to this account.
    pub domains: Vec<EmailDomain>,
    pub created_at: Timestamp,
}

/// The tiers offered in forms; any slug is accepted through the API.
pub const SUGGESTED_TIERS: &[&str] = &["standard", "premium", "enterprise"];

/// A team of agents. An internal team serves other teams rather than
/// customers (IT serves Support), and its cases are internal requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: Name,
    pub internal: bool,
    pub created_at: Timestamp,
}
