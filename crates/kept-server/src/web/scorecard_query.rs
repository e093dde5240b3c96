//! The query string of the scorecard pages: what the selectors send (a scope
//! and the key that goes with it, a period) and the links the pages build
//! back to themselves, to a metric, or to CSV. Checked like the API's query:
//! unknown parameters and bad values are refused with the field named.

use super::session::PageError;
use crate::api::extract::parse_query;
use crate::api::metrics::ScorecardQuery;
use crate::error::ApiError;
use crate::scorecard::Period;
use kept_core::FieldError;
use kept_core::metrics::day::date_of;
use serde::Deserialize;

/// The selectors' form has one field per kind of key (a team select, an
/// agent select, a text box); links carry `scope_key` itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub scope: Option<String>,
    pub scope_key: Option<String>,
    pub team: Option<String>,
    pub agent: Option<String>,
    pub key: Option<String>,
    pub period: Option<String>,
    pub date: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub metrics: Option<String>,
    pub metric: Option<String>,
    pub rules: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl PageQuery {
    /// Parses a raw query string; a bad one is a refusal naming the parameter.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let q: Self = parse_query(raw.unwrap_or(""))?;
        for (name, v) in [("scope_key", &q.scope_key), ("key", &q.key), ("metrics", &q.metrics)] {
            if v.as_deref().is_some_and(|s| s.len() > 2000) {
                return Err(FieldError::new("invalid_value", name, "is too long".to_owned()).into());
            }
        }
        Ok(q)
    }

    pub fn scope(&self) -> &str {
        given(&self.scope).unwrap_or("org")
    }

    /// The key: `scope_key` when a link sent it, else the field that goes
    /// with the scope the form chose.
    pub fn key(&self) -> String {
        let field = match self.scope() {
            "team" => &self.team,
            "agent" => &self.agent,
            "org" => &None,
            _ => &self.key,
        };
        given(&self.scope_key).or(given(field)).unwrap_or("").to_owned()
    }

    /// The API's query, which resolves and checks scope, key and period.
    pub fn api(&self) -> ScorecardQuery {
        ScorecardQuery {
            scope: Some(self.scope().to_owned()),
            scope_key: Some(self.key()),
            period: self.period.clone(),
            date: self.date.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            metrics: self.metrics.clone(),
            metric: self.metric.clone(),
            rules: self.rules.clone(),
        }
    }

    /// Whether every Western Electric rule was asked for (D-33).
    pub fn all_rules(&self) -> Result<bool, PageError> {
        match given(&self.rules) {
            None | Some("default") => Ok(false),
            Some("all") => Ok(true),
            Some(_) => Err(FieldError::new("invalid_value", "rules", "must be default or all".to_owned()).into()),
        }
    }

    /// The scope, key and period part of a link, as the request named them.
    fn base(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("scope", self.scope().to_owned())];
        let key = self.key();
        if !key.is_empty() {
            out.push(("scope_key", key));
        }
        for (name, v) in [("period", &self.period), ("date", &self.date), ("from", &self.from), ("to", &self.to)] {
            if let Some(v) = given(v) {
                out.push((name, v.to_owned()));
            }
        }
        out
    }

    /// The same scope and period, with `extra` parameters.
    pub fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut pairs = self.base();
        pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        encode(path, pairs.iter().map(|(k, v)| (*k, v.as_str())).chain(extra.iter().copied()))
    }

    /// The same scope over another period (the previous one, last year's, one point of a chart).
    pub fn link_for(&self, path: &str, period: &Period, extra: &[(&str, &str)]) -> String {
        let (from, to) = (date_of(period.from).to_string(), date_of(period.to).to_string());
        let key = self.key();
        let mut pairs = vec![("scope", self.scope())];
        if !key.is_empty() {
            pairs.push(("scope_key", &key));
        }
        pairs.extend([("period", "custom"), ("from", &from), ("to", &to)]);
        pairs.extend(extra.iter().copied());
        encode(path, pairs)
    }
}

fn encode<'a>(path: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("{path}?{}", s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> PageQuery {
        PageQuery::parse(Some(raw)).unwrap()
    }

    #[test]
    fn the_key_comes_from_the_field_of_the_chosen_scope() {
        assert_eq!(q("scope=team&team=3&agent=9&key=x").key(), "3");
        assert_eq!(q("scope=agent&team=3&agent=9").key(), "9");
        assert_eq!(q("scope=tier&team=3&key=gold").key(), "gold");
        assert_eq!(q("scope=org&team=3").key(), "");
        assert_eq!(q("scope=team&scope_key=5&team=3").key(), "5", "a link's key wins");
    }

    #[test]
    fn links_keep_scope_and_period_and_encode_keys() {
        let page = q("scope=case_type&key=a%26b&period=week&date=2026-03-04");
        assert_eq!(
            page.link("/scorecards/metric", &[("metric", "csat")]),
            "/scorecards/metric?scope=case_type&scope_key=a%26b&period=week&date=2026-03-04&metric=csat"
        );
        let p = Period { kind: crate::scorecard::period::Kind::Custom, from: 0, to: 6 };
        assert_eq!(
            page.link_for("/scorecards", &p, &[]),
            "/scorecards?scope=case_type&scope_key=a%26b&period=custom&from=1970-01-01&to=1970-01-07"
        );
        assert_eq!(q("metrics=all").link("/scorecards", &[("metrics", "")]), "/scorecards?scope=org&metrics=");
    }

    #[test]
    fn unknown_and_bad_parameters_are_refused() {
        assert!(PageQuery::parse(Some("scpe=team")).unwrap_err().message.contains("scpe"));
        assert_eq!(q("rules=some").all_rules().map_err(|_| ()), Err(()));
        assert_eq!(q("rules=all").all_rules().ok(), Some(true));
    }
}
