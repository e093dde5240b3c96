//! Customer accounts and the mail domains that identify them.

use crate::Store;
use crate::db::{SqlBuilder, Tx, args};
use crate::error::{Result, StoreError};
use crate::people::escape_like;
use jiff::Timestamp;
use kept_core::DomainError;
use kept_core::accounts::Account;
use kept_core::ids::AccountId;
use kept_core::permissions::Principal;
use kept_core::values::{EmailDomain, Name, Slug};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: Name,
    pub tier: Slug,
    pub domains: Vec<EmailDomain>,
}

#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    pub name: Option<Name>,
    pub tier: Option<Slug>,
    /// Replaces the whole list when given.
    pub domains: Option<Vec<EmailDomain>>,
}

fn name_taken() -> DomainError {
    DomainError::conflict("name_taken", Some("name"), "an account with this name already exists")
}

fn domain_taken() -> DomainError {
    DomainError::conflict("domain_taken", Some("domains"), "one of these domains already belongs to another account")
}

const CONFLICTS: crate::error::ConstraintErrors<'static> =
    &[("accounts_name_key", name_taken), ("account_domains_domain_key", domain_taken)];

pub(crate) async fn require_account(tx: &mut Tx, id: AccountId) -> Result<()> {
    match tx.fetch_optional("SELECT id FROM accounts WHERE id = $1", args![id.0]).await? {
        Some(_) => Ok(()),
        None => Err(DomainError::invalid("unknown_account", "account_id", format!("there is no account {id}")).into()),
    }
}

async fn write_domains(tx: &mut Tx, id: AccountId, domains: &[EmailDomain]) -> Result<()> {
    tx.execute("DELETE FROM account_domains WHERE account_id = $1", args![id.0]).await?;
    for d in domains {
        tx.execute("INSERT INTO account_domains (domain, account_id) VALUES ($1, $2)", args![d.as_str(), id.0])
            .await
            .map_err(|e| e.explain(CONFLICTS))?;
    }
    Ok(())
}

impl Store {
    pub async fn create_account(&self, by: &Principal, new: NewAccount, now: Timestamp) -> Result<Account> {
        by.require_account_editor()?;
        let mut tx = self.db.begin().await?;
        let id = tx
            .insert(
                "INSERT INTO accounts (name, tier, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
                args![new.name.as_str(), new.tier.as_str(), now],
            )
            .await
            .map_err(|e| e.explain(CONFLICTS))?;
        let id = AccountId(id);
        write_domains(&mut tx, id, &dedup(new.domains.clone())).await?;
        tx.commit().await?;
        Ok(Account { id, name: new.name, tier: new.tier, domains: dedup(new.domains), created_at: now })
    }

    /// An account; contacts may read only their own.
    pub async fn get_account(&self, by: &Principal, id: AccountId) -> Result<Account> {
        if !by.is_staff() && by.account_id != Some(id) {
            return Err(DomainError::NotFound { entity: "account" }.into());
        }
        let mut accounts = self.load_accounts(Some(id), None, None, 1).await?;
        accounts.pop().ok_or(DomainError::NotFound { entity: "account" }.into())
    }

    /// Accounts by name, `limit` at a time after `after` (an id).
    pub async fn list_accounts(
        &self,
        by: &Principal,
        query: Option<&str>,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<Vec<Account>> {
        by.require_staff()?;
        self.load_accounts(None, query, after, limit).await
    }

    async fn load_accounts(
        &self,
        id: Option<AccountId>,
        query: Option<&str>,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<Vec<Account>> {
        let mut q = SqlBuilder::new("SELECT id, name, tier, created_at FROM accounts WHERE 1 = 1");
        if let Some(id) = id {
            q.push(" AND id = ").bind(id.0);
        }
        if let Some(text) = query.filter(|t| !t.is_empty()) {
            q.push(" AND lower(name) LIKE ")
                .bind(format!("%{}%", escape_like(&text.to_lowercase())))
                .push(" ESCAPE '\\'");
        }
        if let Some(after) = after {
            q.push(" AND id > ").bind(after.0);
        }
        q.push(" ORDER BY id LIMIT ").bind(i64::from(limit.clamp(1, 500)));
        let (sql, args) = q.finish();
        let rows = self.db.fetch_all(sql, args).await?;
        let mut accounts = Vec::with_capacity(rows.len());
        for row in &rows {
            let corrupt = |_| StoreError::Corrupt("accounts".into());
            accounts.push(Account {
                id: AccountId(row.int("id")?),
                name: Name::parse("name", &row.text("name")?).map_err(corrupt)?,
                tier: Slug::parse("tier", &row.text("tier")?).map_err(corrupt)?,
                domains: Vec::new(),
                created_at: row.time("created_at")?,
            });
        }
        let mut domains = self.domains_of(accounts.iter().map(|a| a.id)).await?;
        for a in &mut accounts {
            a.domains = domains.remove(&a.id).unwrap_or_default();
        }
        Ok(accounts)
    }

    async fn domains_of(&self, ids: impl Iterator<Item = AccountId>) -> Result<BTreeMap<AccountId, Vec<EmailDomain>>> {
        let ids: Vec<i64> = ids.map(|a| a.0).collect();
        let mut out: BTreeMap<AccountId, Vec<EmailDomain>> = BTreeMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut q = SqlBuilder::new("SELECT account_id, domain FROM account_domains WHERE account_id IN ");
        q.bind_list(ids).push(" ORDER BY domain");
        let (sql, args) = q.finish();
        for row in self.db.fetch_all(sql, args).await? {
            let domain = EmailDomain::parse("domain", &row.text("domain")?)
                .map_err(|_| StoreError::Corrupt("account_domains".into()))?;
            out.entry(AccountId(row.int("account_id")?)).or_default().push(domain);
        }
        Ok(out)
    }

    pub async fn update_account(
        &self,
        by: &Principal,
        id: AccountId,
        patch: AccountPatch,
        now: Timestamp,
    ) -> Result<Account> {
        by.require_account_editor()?;
        let current = self.get_account(by, id).await?;
        let name = patch.name.unwrap_or(current.name);
        let tier = patch.tier.unwrap_or(current.tier);
        let mut tx = self.db.begin().await?;
        tx.execute(
            "UPDATE accounts SET name = $1, tier = $2, updated_at = $3 WHERE id = $4",
            args![name.as_str(), tier.as_str(), now, id.0],
        )
        .await
        .map_err(|e| e.explain(CONFLICTS))?;
        let domains = match patch.domains {
            Some(d) => {
                let d = dedup(d);
                write_domains(&mut tx, id, &d).await?;
                d
            }
            None => current.domains,
        };
        tx.commit().await?;
        Ok(Account { id, name, tier, domains, created_at: current.created_at })
    }

    /// The account a mail domain belongs to, if any.
    pub async fn account_for_domain(&self, domain: &EmailDomain) -> Result<Option<AccountId>> {
        let row = self
            .db
            .fetch_optional("SELECT account_id FROM account_domains WHERE domain = $1", args![domain.as_str()])
            .await?;
        row.map(|r| r.int("account_id").map(AccountId)).transpose()
    }
}

fn dedup(mut domains: Vec<EmailDomain>) -> Vec<EmailDomain> {
    domains.sort();
    domains.dedup();
    domains
}
