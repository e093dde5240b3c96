//! A realistic demo organisation, generated deterministically from a seed:
//! three teams (one internal), fifteen agents and leads, a few hundred
//! customer accounts over three tiers, and cases whose arrivals follow daily
//! and weekly seasonality and whose lives include replies, waits on
//! customers, holds, internal requests, solves, reopens and closes.
//!
//! Pure: it produces plans (people by index, times as instants); the binary
//! writes them through the store's history replay.

mod cases;
mod rng;
mod surveys;
mod text;

pub use cases::{CasePlan, CaseStream, PlanAction, PlanStep, Who};
pub use rng::Rng;

use crate::people::Role;

/// The password of every demo login (printed by `kept serve --demo`).
pub const DEMO_PASSWORD: &str = "kept-demo-password";

pub struct TeamSpec {
    pub name: &'static str,
    pub internal: bool,
}

pub struct StaffSpec {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub teams: Vec<usize>,
}

pub struct ContactSpec {
    pub email: String,
    pub name: String,
}

pub struct AccountSpec {
    pub name: String,
    pub tier: &'static str,
    pub domain: String,
    pub contacts: Vec<ContactSpec>,
}

pub struct DemoOrg {
    pub teams: Vec<TeamSpec>,
    pub staff: Vec<StaffSpec>,
    pub accounts: Vec<AccountSpec>,
}

pub const SUPPORT: usize = 0;
pub const BILLING: usize = 1;
pub const IT: usize = 2;

impl DemoOrg {
    /// Staff indices of a team's members (leads included).
    pub fn members(&self, team: usize) -> Vec<usize> {
        self.staff.iter().enumerate().filter(|(_, s)| s.teams.contains(&team)).map(|(i, _)| i).collect()
    }

    /// The four logins printed for a newcomer: (role, email).
    pub fn logins(&self) -> Vec<(&'static str, String)> {
        vec![
            ("admin", self.staff[0].email.clone()),
            ("team lead", self.staff[1].email.clone()),
            ("agent", self.staff[2].email.clone()),
            ("customer", self.accounts[0].contacts[0].email.clone()),
        ]
    }
}

fn person(rng: &mut Rng) -> (String, String) {
    let first = rng.pick(text::FIRST);
    let last = rng.pick(text::LAST);
    (format!("{first} {last}"), format!("{}.{}", first.to_lowercase(), last.to_lowercase()))
}

/// The organisation for `seed`.
pub fn organisation(seed: u64) -> DemoOrg {
    let mut rng = Rng::new(seed);
    let teams = vec![
        TeamSpec { name: "Support", internal: false },
        TeamSpec { name: "Billing", internal: false },
        TeamSpec { name: "IT Operations", internal: true },
    ];
    let mut staff = vec![
        StaffSpec { email: "admin@demo.kept".into(), name: "Ada Admin".into(), role: Role::Admin, teams: vec![] },
        StaffSpec {
            email: "lead@demo.kept".into(),
            name: "Lena Lead".into(),
            role: Role::Manager,
            teams: vec![SUPPORT],
        },
        StaffSpec {
            email: "agent@demo.kept".into(),
            name: "Alex Agent".into(),
            role: Role::Agent,
            teams: vec![SUPPORT],
        },
    ];
    let mut add = |rng: &mut Rng, role: Role, team: usize| {
        let (name, handle) = person(rng);
        let email = format!("{handle}{}@demo.kept", staff.len());
        staff.push(StaffSpec { email, name, role, teams: vec![team] });
    };
    for _ in 0..6 {
        add(&mut rng, Role::Agent, SUPPORT);
    }
    add(&mut rng, Role::Manager, BILLING);
    for _ in 0..3 {
        add(&mut rng, Role::Agent, BILLING);
    }
    add(&mut rng, Role::Manager, IT);
    for _ in 0..2 {
        add(&mut rng, Role::Agent, IT);
    }
    DemoOrg { teams, staff, accounts: accounts(&mut rng) }
}

fn accounts(rng: &mut Rng) -> Vec<AccountSpec> {
    let mut names: Vec<(usize, usize)> =
        (0..text::COMPANY_A.len()).flat_map(|a| (0..text::COMPANY_B.len()).map(move |b| (a, b))).collect();
    // A deterministic shuffle (Fisher–Yates).
    for i in (1..names.len()).rev() {
        names.swap(i, rng.below(i + 1));
    }
    let mut out = vec![AccountSpec {
        name: "Northwind Traders".into(),
        tier: "enterprise",
        domain: "northwind.example".into(),
        contacts: vec![ContactSpec { email: "dana@northwind.example".into(), name: "Dana Brooks".into() }],
    }];
    for (a, b) in names.into_iter().take(299) {
        let (first, second) = (text::COMPANY_A[a], text::COMPANY_B[b]);
        let tier = ["standard", "premium", "enterprise"][rng.weighted(&[0.6, 0.3, 0.1])];
        let domain = format!("{}{}.example", first.to_lowercase(), second.to_lowercase());
        let mut contacts: Vec<ContactSpec> = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let (name, handle) = person(rng);
            if contacts.iter().any(|c| c.name == name) {
                continue;
            }
            contacts.push(ContactSpec { email: format!("{handle}@{domain}"), name });
        }
        out.push(AccountSpec { name: format!("{first} {second}"), tier, domain, contacts });
    }
    let dana = &mut out[0].contacts;
    dana.push(ContactSpec { email: "sam.okafor@northwind.example".into(), name: "Sam Okafor".into() });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_organisation_has_what_the_demo_promises() {
        let org = organisation(42);
        assert_eq!(org.teams.iter().filter(|t| t.internal).count(), 1);
        let working = org.staff.iter().filter(|s| s.role != Role::Admin).count();
        assert_eq!(working, 15, "fifteen agents and leads");
        assert_eq!(org.accounts.len(), 300);
        for tier in ["standard", "premium", "enterprise"] {
            assert!(org.accounts.iter().any(|a| a.tier == tier), "{tier}");
        }
        let emails: BTreeSet<_> = org
            .staff
            .iter()
            .map(|s| s.email.clone())
            .chain(org.accounts.iter().flat_map(|a| a.contacts.iter().map(|c| c.email.clone())))
            .collect();
        let count = org.staff.len() + org.accounts.iter().map(|a| a.contacts.len()).sum::<usize>();
        assert_eq!(emails.len(), count, "every email is unique");
        let domains: BTreeSet<_> = org.accounts.iter().map(|a| a.domain.clone()).collect();
        assert_eq!(domains.len(), 300);
    }

    #[test]
    fn the_same_seed_gives_the_same_organisation() {
        let (a, b) = (organisation(1), organisation(1));
        assert_eq!(
            a.accounts.iter().map(|x| &x.name).collect::<Vec<_>>(),
            b.accounts.iter().map(|x| &x.name).collect::<Vec<_>>()
        );
        assert_ne!(organisation(2).accounts[5].name, a.accounts[5].name);
    }
}
