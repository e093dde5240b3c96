//! Who may see and do what. The store mirrors `can_see_case` in SQL for
//! lists and search; its contract tests check the two agree.
//!
//! - admin: everything;
//! - manager: the cases of their teams (served or requested), their teams'
//!   configuration, reports;
//! - agent: the cases of their teams;
//! - contact: their own account's customer cases (never internal requests),
//!   public messages only.

use crate::cases::Case;
use crate::error::DomainError;
use crate::ids::{AccountId, TeamId, UserId};
use crate::people::Role;

/// The authenticated caller of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub role: Role,
    /// Set for contacts.
    pub account_id: Option<AccountId>,
    /// The teams the person belongs to (staff only).
    pub team_ids: Vec<TeamId>,
}

/// The facts about a case that decide who may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseScope {
    pub team_id: TeamId,
    pub requesting_team_id: Option<TeamId>,
    pub account_id: AccountId,
}

impl From<&Case> for CaseScope {
    fn from(c: &Case) -> Self {
        Self { team_id: c.team_id, requesting_team_id: c.requesting_team_id, account_id: c.account_id }
    }
}

impl Principal {
    pub fn staff(user_id: UserId, role: Role, team_ids: Vec<TeamId>) -> Self {
        Self { user_id, role, account_id: None, team_ids }
    }

    pub fn contact(user_id: UserId, account_id: AccountId) -> Self {
        Self { user_id, role: Role::Contact, account_id: Some(account_id), team_ids: Vec::new() }
    }

    /// kept itself acting (the CLI, the demo seeder, jobs): an admin that is
    /// recorded as no one in the audit trail.
    pub fn system() -> Self {
        Self::staff(UserId(0), Role::Admin, Vec::new())
    }

    /// The id to record as the actor of an event; `None` for the system.
    pub fn actor(&self) -> Option<UserId> {
        (self.user_id.0 != 0).then_some(self.user_id)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    pub fn in_team(&self, team: TeamId) -> bool {
        self.team_ids.contains(&team)
    }

    /// Whether the case exists for this person at all. A `false` must be
    /// answered as "not found", so that ids of other customers' cases leak nothing.
    pub fn can_see_case(&self, case: CaseScope) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Manager | Role::Agent => {
                self.in_team(case.team_id) || case.requesting_team_id.is_some_and(|t| self.in_team(t))
            }
            Role::Contact => case.requesting_team_id.is_none() && self.account_id == Some(case.account_id),
        }
    }

    /// Whether the person works the case (status, assignment, notes): staff
    /// of the serving team, or an admin. The requesting team of an internal
    /// request sees it and writes to it as its customer, but does not work it.
    pub fn can_work_case(&self, case: CaseScope) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Manager | Role::Agent => self.in_team(case.team_id),
            Role::Contact => false,
        }
    }

    /// Staff only; contacts get "not found" so that staff routes stay invisible.
    pub fn require_staff(&self) -> Result<(), DomainError> {
        if self.is_staff() { Ok(()) } else { Err(DomainError::NotFound { entity: "resource" }) }
    }

    pub fn require_admin(&self) -> Result<(), DomainError> {
        self.require_staff()?;
        if self.is_admin() { Ok(()) } else { Err(DomainError::forbidden("only an admin may do this")) }
    }

    /// Admins, and managers of `team`.
    pub fn require_team_manager(&self, team: TeamId) -> Result<(), DomainError> {
        self.require_staff()?;
        match self.role {
            Role::Admin => Ok(()),
            Role::Manager if self.in_team(team) => Ok(()),
            _ => Err(DomainError::forbidden("only an admin or a manager of this team may do this")),
        }
    }

    /// Admins and managers maintain customer accounts; agents may add and
    /// correct contacts (they take phone calls), but not accounts.
    pub fn require_account_editor(&self) -> Result<(), DomainError> {
        self.require_staff()?;
        match self.role {
            Role::Admin | Role::Manager => Ok(()),
            _ => Err(DomainError::forbidden("only an admin or a manager may change accounts")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPPORT: TeamId = TeamId(1);
    const IT: TeamId = TeamId(2);
    const ACME: AccountId = AccountId(1);
    const GLOBEX: AccountId = AccountId(2);

    fn customer_case(account: AccountId) -> CaseScope {
        CaseScope { team_id: SUPPORT, requesting_team_id: None, account_id: account }
    }

    fn internal_request() -> CaseScope {
        CaseScope { team_id: IT, requesting_team_id: Some(SUPPORT), account_id: ACME }
    }

    #[test]
    fn a_contact_sees_only_their_own_accounts_customer_cases() {
        let ana = Principal::contact(UserId(10), ACME);
        assert!(ana.can_see_case(customer_case(ACME)));
        assert!(!ana.can_see_case(customer_case(GLOBEX)));
        assert!(!ana.can_see_case(internal_request()), "internal requests are never shown to customers");
        assert!(!ana.can_work_case(customer_case(ACME)));
    }

    #[test]
    fn agents_see_the_cases_their_teams_serve_or_requested() {
        let support_agent = Principal::staff(UserId(1), Role::Agent, vec![SUPPORT]);
        let it_agent = Principal::staff(UserId(2), Role::Agent, vec![IT]);
        assert!(support_agent.can_see_case(customer_case(GLOBEX)));
        assert!(!it_agent.can_see_case(customer_case(GLOBEX)));
        assert!(support_agent.can_see_case(internal_request()));
        assert!(!support_agent.can_work_case(internal_request()));
        assert!(it_agent.can_work_case(internal_request()));
    }

    #[test]
    fn staff_without_a_team_see_nothing_but_admins_see_everything() {
        let loner = Principal::staff(UserId(3), Role::Manager, vec![]);
        let admin = Principal::staff(UserId(4), Role::Admin, vec![]);
        assert!(!loner.can_see_case(customer_case(ACME)));
        assert!(admin.can_see_case(internal_request()));
        assert!(admin.can_work_case(customer_case(GLOBEX)));
    }

    #[test]
    fn only_admins_and_the_teams_managers_configure_a_team() {
        let manager = Principal::staff(UserId(5), Role::Manager, vec![SUPPORT]);
        assert!(manager.require_team_manager(SUPPORT).is_ok());
        assert_eq!(manager.require_team_manager(IT).unwrap_err().code(), "forbidden");
        let agent = Principal::staff(UserId(6), Role::Agent, vec![SUPPORT]);
        assert!(agent.require_team_manager(SUPPORT).is_err());
        assert_eq!(Principal::contact(UserId(7), ACME).require_staff().unwrap_err().code(), "not_found");
    }
}
