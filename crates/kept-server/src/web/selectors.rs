//! The scope and period selectors shared by the scorecard and metric pages
//! (a GET form, so it works without scripts), and how a scope is named for
//! people: "Team Support" rather than "team 3".

use super::scorecard_query::PageQuery;
use super::views::{Choice, choices};
use crate::state::AppState;
use kept_core::accounts::SUGGESTED_TIERS;
use kept_core::cases::Channel;
use kept_core::permissions::Principal;
use kept_store::UserFilter;

/// Teams and staff by id, for the selects and for naming a scope.
pub struct Directory {
    pub teams: Vec<(i64, String)>,
    pub agents: Vec<(i64, String)>,
}

impl Directory {
    pub async fn load(state: &AppState, by: &Principal) -> kept_store::Result<Self> {
        let teams = state.store.list_teams(by).await?.iter().map(|t| (t.id.0, t.name.to_string())).collect();
        let staff = UserFilter { staff: Some(true), limit: 500, ..UserFilter::default() };
        let agents = state.store.list_users(by, &staff).await?.iter().map(|u| (u.id.0, u.name.to_string())).collect();
        Ok(Self { teams, agents })
    }

    fn name(list: &[(i64, String)], key: &str) -> Option<String> {
        let id = key.parse::<i64>().ok()?;
        list.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone())
    }

    /// "the organisation", "team Support", "tier enterprise".
    pub fn scope_label(&self, scope: &str, key: &str) -> String {
        match scope {
            "org" => "the organisation".to_owned(),
            "team" => format!("team {}", Self::name(&self.teams, key).unwrap_or_else(|| key.to_owned())),
            "agent" => format!("agent {}", Self::name(&self.agents, key).unwrap_or_else(|| key.to_owned())),
            "case_type" => format!("case type {key}"),
            other => format!("{other} {key}"),
        }
    }
}

pub const SCOPES: [(&str, &str); 6] = [
    ("org", "Organisation"),
    ("team", "Team"),
    ("agent", "Agent"),
    ("tier", "Account tier"),
    ("channel", "Channel"),
    ("case_type", "Case type"),
];

pub const PERIODS: [(&str, &str); 6] = [
    ("day", "Day"),
    ("week", "Week"),
    ("month", "Month"),
    ("quarter", "Quarter"),
    ("year", "Year"),
    ("custom", "From … to"),
];

/// The form's fields as the request left them.
pub struct Selectors {
    pub action: &'static str,
    pub scopes: Vec<Choice>,
    pub teams: Vec<Choice>,
    pub agents: Vec<Choice>,
    /// The tier, channel or case type.
    pub key: String,
    /// Known tiers and channels for the key's datalist.
    pub suggestions: Vec<String>,
    pub periods: Vec<Choice>,
    pub date: String,
    pub from: String,
    pub to: String,
    /// Kept as hidden fields: the metric list, the metric, the rules.
    pub hidden: Vec<(&'static str, String)>,
}

impl Selectors {
    pub fn new(action: &'static str, q: &PageQuery, dir: &Directory) -> Self {
        let scope = q.scope();
        let key = q.key();
        let key_for = |s: &str| if scope == s { key.as_str() } else { "" };
        let none = || (String::new(), "—".to_owned());
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
        let mut suggestions: Vec<String> = SUGGESTED_TIERS.iter().map(|t| (*t).to_owned()).collect();
        suggestions.extend(Channel::ALL.iter().map(|c| c.as_str().to_owned()));
        let hidden = [("metrics", &q.metrics), ("metric", &q.metric), ("rules", &q.rules)]
            .into_iter()
            .filter_map(|(k, v)| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| (k, s.to_owned())))
            .collect();
        Self {
            action,
            scopes: choices(SCOPES, scope),
            teams: choices(
                std::iter::once(none()).chain(dir.teams.iter().map(|(i, n)| (i.to_string(), n.clone()))),
                key_for("team"),
            ),
            agents: choices(
                std::iter::once(none()).chain(dir.agents.iter().map(|(i, n)| (i.to_string(), n.clone()))),
                key_for("agent"),
            ),
            key: if matches!(scope, "tier" | "channel" | "case_type") { key.clone() } else { String::new() },
            suggestions,
            periods: choices(PERIODS, q.period.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("month")),
            date: text(&q.date),
            from: text(&q.from),
            to: text(&q.to),
            hidden,
        }
    }
}
