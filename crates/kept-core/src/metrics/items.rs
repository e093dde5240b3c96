//! What one case (or one case-less survey invitation) contributes to the
//! rollups, and how a change to it becomes a difference to apply.
//!
//! A source's items are stored with it. When the source changes, its new
//! items are computed from scratch, and the rollups receive new − old: so
//! the rollups always equal what a rebuild from the event log gives, which
//! a test checks on random histories.

use super::codec::{DecodeError, Reader, put_i, put_str, put_u};
use super::hist::Hist;
use super::measure::Measure;
use std::collections::BTreeMap;

/// Who and what a contribution is attributed to: the case's current team,
/// assignee, account tier, channel and type, or, for a survey answer, what
/// the invitation froze when it was sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Attribution {
    pub team: Option<i64>,
    pub agent: Option<i64>,
    pub account: Option<i64>,
    pub tier: String,
    pub channel: String,
    pub case_type: String,
}

/// One contribution: on `day` (days since 1970-01-01 in the organisation's
/// time zone), `n` observations totalling `total`, and for measures with a
/// histogram, the single observed `value` (n = 1) or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub attribution: usize,
    pub day: i32,
    pub measure: Measure,
    pub n: i64,
    pub total: i64,
    pub value: Option<i64>,
}

/// A source's contributions: the attributions they use and the items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Items {
    pub attributions: Vec<Attribution>,
    pub items: Vec<Item>,
}

/// The scopes a scorecard can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Org,
    Team,
    Agent,
    Tier,
    Channel,
    CaseType,
    /// Not a scorecard: which accounts were active (account retention).
    Account,
}

impl Scope {
    pub const SCORECARDS: [Scope; 6] =
        [Scope::Org, Scope::Team, Scope::Agent, Scope::Tier, Scope::Channel, Scope::CaseType];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Org => "org",
            Scope::Team => "team",
            Scope::Agent => "agent",
            Scope::Tier => "tier",
            Scope::Channel => "channel",
            Scope::CaseType => "case_type",
            Scope::Account => "account",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, crate::FieldError> {
        Self::SCORECARDS.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            crate::FieldError::new(
                "invalid_value",
                field,
                "must be one of: org, team, agent, tier, channel, case_type".to_owned(),
            )
        })
    }
}

impl Attribution {
    /// The (scope, key) pairs this attribution counts in.
    pub fn scopes(&self) -> Vec<(Scope, String)> {
        let mut out = vec![(Scope::Org, String::new())];
        if let Some(t) = self.team {
            out.push((Scope::Team, t.to_string()));
        }
        if let Some(a) = self.agent {
            out.push((Scope::Agent, a.to_string()));
        }
        if let Some(a) = self.account {
            out.push((Scope::Account, a.to_string()));
        }
        for (scope, key) in
            [(Scope::Tier, &self.tier), (Scope::Channel, &self.channel), (Scope::CaseType, &self.case_type)]
        {
            if !key.is_empty() {
                out.push((scope, key.clone()));
            }
        }
        out
    }
}

/// Where a difference goes: one rollup row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RollupKey {
    pub scope: Scope,
    pub key: String,
    pub day: i32,
    pub measure: Measure,
}

/// By scope, day and measure first, the key last: a group commit merges
/// thousands of these a use case, and most keys of a scope are equal (the
/// organisation's is empty), so comparing the strings first made `memcmp`
/// 12 % of the server's time under the write lock (BENCHMARKS.md, "Cheaper
/// rollup keys"). Nothing depends on the order but the maps' own lookups.
impl Ord for RollupKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.scope, self.day, self.measure)
            .cmp(&(other.scope, other.day, other.measure))
            .then_with(|| self.key.cmp(&other.key))
    }
}

impl PartialOrd for RollupKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What to add to one rollup row (negative to take away).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub n: i64,
    pub total: i64,
    pub hist: Hist,
}

impl Delta {
    pub fn is_zero(&self) -> bool {
        self.n == 0 && self.total == 0 && self.hist.is_empty()
    }

    /// Adds `other` to this difference.
    pub fn add(&mut self, other: &Delta) {
        self.n += other.n;
        self.total += other.total;
        self.hist.merge(&other.hist, 1);
    }
}

impl Items {
    pub fn attribution(&mut self, a: Attribution) -> usize {
        if let Some(i) = self.attributions.iter().position(|x| *x == a) {
            return i;
        }
        self.attributions.push(a);
        self.attributions.len() - 1
    }

    pub fn push(&mut self, attribution: usize, day: i32, measure: Measure, n: i64, total: i64) {
        self.items.push(Item { attribution, day, measure, n, total, value: None });
    }

    /// One observation of `value` (a duration or a score).
    pub fn observe(&mut self, attribution: usize, day: i32, measure: Measure, value: i64) {
        self.items.push(Item { attribution, day, measure, n: 1, total: value, value: Some(value) });
    }

    /// Adds these items, times `sign`, to `out`.
    pub fn add_to(&self, sign: i64, out: &mut BTreeMap<RollupKey, Delta>) {
        self.add_some(self.items.iter(), sign, out);
    }

    /// Adds `items` (of these), times `sign`, to `out`.
    fn add_some<'a>(&self, items: impl Iterator<Item = &'a Item>, sign: i64, out: &mut BTreeMap<RollupKey, Delta>) {
        let scopes: Vec<Vec<(Scope, String)>> = self.attributions.iter().map(Attribution::scopes).collect();
        for item in items {
            let Some(scopes) = scopes.get(item.attribution) else { continue };
            for (scope, key) in scopes {
                // Account activity needs only the count of cases created.
                if *scope == Scope::Account && item.measure != Measure::Created {
                    continue;
                }
                let d = out
                    .entry(RollupKey { scope: *scope, key: key.clone(), day: item.day, measure: item.measure })
                    .or_default();
                d.n += sign * item.n;
                d.total += sign * item.total;
                if let Some(v) = item.value.filter(|_| item.measure.has_hist()) {
                    d.hist.add(v, sign);
                }
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.items.len() * 8);
        put_u(&mut out, 1); // format version
        put_u(&mut out, self.attributions.len() as u64);
        for a in &self.attributions {
            for id in [a.team, a.agent, a.account] {
                put_i(&mut out, id.unwrap_or(-1));
            }
            put_str(&mut out, &a.tier);
            put_str(&mut out, &a.channel);
            put_str(&mut out, &a.case_type);
        }
        put_u(&mut out, self.items.len() as u64);
        for i in &self.items {
            put_u(&mut out, i.attribution as u64);
            put_i(&mut out, i64::from(i.day));
            out.push(i.measure.code());
            put_i(&mut out, i.n);
            put_i(&mut out, i.total);
            match i.value {
                Some(v) => {
                    out.push(1);
                    put_i(&mut out, v);
                }
                None => out.push(0),
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.u()? != 1 {
            return Err(DecodeError("unknown items version"));
        }
        let id = |v: i64| (v >= 0).then_some(v);
        let count = r.u()?;
        let mut attributions = Vec::new();
        for _ in 0..count.min(1 << 16) {
            let (team, agent, account) = (id(r.i()?), id(r.i()?), id(r.i()?));
            attributions.push(Attribution {
                team,
                agent,
                account,
                tier: r.str()?,
                channel: r.str()?,
                case_type: r.str()?,
            });
        }
        let count = r.u()?;
        let mut items = Vec::new();
        for _ in 0..count.min(1 << 20) {
            let attribution = r.u()? as usize;
            let day = i32::try_from(r.i()?).map_err(|_| DecodeError("day"))?;
            let code = u8::try_from(r.u()?).map_err(|_| DecodeError("measure"))?;
            let measure = Measure::from_code(code).ok_or(DecodeError("measure"))?;
            let (n, total) = (r.i()?, r.i()?);
            let value = if r.u()? == 1 { Some(r.i()?) } else { None };
            if attribution >= attributions.len() {
                return Err(DecodeError("attribution"));
            }
            items.push(Item { attribution, day, measure, n, total, value });
        }
        Ok(Self { attributions, items })
    }
}

/// The difference that turns `old`'s contribution into `new`'s.
pub fn difference(old: &Items, new: &Items) -> BTreeMap<RollupKey, Delta> {
    // An item both hold adds and takes away the same amounts in every scope:
    // pair those off first, and spread only what changed over the scopes
    // (a reply changes a few of a case's dozens of items).
    // Which of old's attributions each of new's is, compared once here
    // rather than string by string for every pair of items.
    let old_of: Vec<Option<usize>> =
        new.attributions.iter().map(|a| old.attributions.iter().position(|o| o == a)).collect();
    let same = |o: &Item, n: &Item| {
        (o.day, o.measure, o.n, o.total, o.value) == (n.day, n.measure, n.n, n.total, n.value)
            && old_of.get(n.attribution).copied().flatten() == Some(o.attribution)
    };
    let mut kept = vec![false; old.items.len()];
    let mut added = Vec::new();
    for n in &new.items {
        match old.items.iter().enumerate().position(|(i, o)| !kept[i] && same(o, n)) {
            Some(i) => kept[i] = true,
            None => added.push(n),
        }
    }
    let mut out = BTreeMap::new();
    new.add_some(added.into_iter(), 1, &mut out);
    old.add_some(old.items.iter().zip(&kept).filter(|(_, k)| !**k).map(|(o, _)| o), -1, &mut out);
    out.retain(|_, d| !d.is_zero());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Items {
        let mut items = Items::default();
        let a = items.attribution(Attribution {
            team: Some(3),
            agent: None,
            account: Some(9),
            tier: "gold".into(),
            channel: "email".into(),
            case_type: "question".into(),
        });
        items.push(a, 20_000, Measure::Created, 1, 0);
        items.observe(a, 20_001, Measure::Frt, 3600);
        items.push(a, -3, Measure::Fcr, 1, 1);
        items
    }

    /// The hand-written order (key last) is a total order that agrees with
    /// equality, as a BTreeMap key's must.
    #[test]
    fn rollup_keys_order_totally_and_agree_with_equality() {
        let mut keys = Vec::new();
        for scope in [Scope::Org, Scope::Team, Scope::Account] {
            for key in ["", "10", "9", "gold"] {
                for day in [-1, 20_000, 20_001] {
                    for measure in [Measure::Created, Measure::Frt] {
                        keys.push(RollupKey { scope, key: key.into(), day, measure });
                    }
                }
            }
        }
        for a in &keys {
            for b in &keys {
                assert_eq!(a.cmp(b) == std::cmp::Ordering::Equal, a == b, "{a:?} {b:?}");
                assert_eq!(a.cmp(b), b.cmp(a).reverse(), "{a:?} {b:?}");
                assert_eq!(a.partial_cmp(b), Some(a.cmp(b)));
            }
        }
        let mut sorted = keys.clone();
        sorted.sort();
        for (i, a) in sorted.iter().enumerate() {
            for b in &sorted[i..] {
                assert!(a <= b, "{a:?} sorted before {b:?}");
            }
        }
        let set: std::collections::BTreeSet<&RollupKey> = keys.iter().collect();
        assert_eq!(set.len(), keys.len());
    }

    #[test]
    fn items_round_trip() {
        let items = sample();
        assert_eq!(Items::decode(&items.encode()).unwrap(), items);
    }

    #[test]
    fn an_unchanged_source_changes_nothing() {
        let items = sample();
        assert!(difference(&items, &items).is_empty());
    }

    #[test]
    fn a_new_source_counts_in_every_scope_it_names() {
        let d = difference(&Items::default(), &sample());
        let created: Vec<_> = d.keys().filter(|k| k.measure == Measure::Created).map(|k| k.scope).collect();
        assert_eq!(
            created,
            vec![Scope::Org, Scope::Team, Scope::Tier, Scope::Channel, Scope::CaseType, Scope::Account]
        );
        let frt = d.iter().find(|(k, _)| k.measure == Measure::Frt && k.scope == Scope::Org).unwrap().1;
        assert_eq!((frt.n, frt.total, frt.hist.count()), (1, 3600, 1));
        assert!(!d.keys().any(|k| k.scope == Scope::Account && k.measure != Measure::Created));
    }

    #[test]
    fn moving_a_case_to_another_team_moves_its_numbers() {
        let old = sample();
        let mut new = sample();
        new.attributions[0].team = Some(4);
        let d = difference(&old, &new);
        assert!(d.keys().all(|k| k.scope == Scope::Team));
        let to_4: i64 = d.iter().filter(|(k, _)| k.key == "4").map(|(_, v)| v.n).sum();
        let from_3: i64 = d.iter().filter(|(k, _)| k.key == "3").map(|(_, v)| v.n).sum();
        assert_eq!((to_4, from_3), (3, -3));
    }

    /// Every item spread over its scopes, old taken from new: what
    /// `difference` must equal, however it gets there.
    fn spread(old: &Items, new: &Items) -> BTreeMap<RollupKey, Delta> {
        let mut out = BTreeMap::new();
        new.add_to(1, &mut out);
        old.add_to(-1, &mut out);
        out.retain(|_, d| !d.is_zero());
        out
    }

    #[test]
    fn pairing_off_shared_items_changes_no_sum() {
        let old = sample();
        // A second attribution listed first, so the same attribution has
        // another index; an item repeated; one changed; one gone; one new.
        let mut new = Items::default();
        let other = new.attribution(Attribution { team: Some(5), ..old.attributions[0].clone() });
        let a = new.attribution(old.attributions[0].clone());
        new.push(a, 20_000, Measure::Created, 1, 0);
        new.push(a, 20_000, Measure::Created, 1, 0);
        new.observe(a, 20_001, Measure::Frt, 1800);
        new.observe(other, 20_002, Measure::Frt, 60);
        let mut twice = old.clone();
        twice.push(0, 20_000, Measure::Created, 1, 0);
        for (o, n) in
            [(&old, &new), (&new, &old), (&twice, &new), (&new, &twice), (&old, &sample()), (&Items::default(), &new)]
        {
            assert_eq!(difference(o, n), spread(o, n));
        }
        assert!(!difference(&old, &new).is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Items::decode(&[1, 5, 0]).is_err());
        assert!(Items::decode(&[]).is_err());
    }
}
