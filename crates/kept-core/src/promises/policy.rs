//! Promise policies: what is promised, to whom, on which calendar. A policy
//! has conditions over the case (priority, account tier, channel, case type,
//! team) and targets for clocks. Policies are ordered; the first whose
//! conditions match a case applies.

use crate::cases::{Channel, Priority, Status};
use crate::error::FieldError;
use crate::string_enum;
use serde::Deserialize;
use std::collections::BTreeSet;

string_enum!(
    /// The clocks a promise can run.
    ClockKind {
        /// From the customer's first message to the first agent reply.
        FirstResponse = "first_response",
        /// From each customer message after an agent reply to the next agent reply.
        NextReply = "next_reply",
        /// From creation to the first solve.
        FirstResolution = "first_resolution",
        /// From creation to the last solve: reopening resumes it.
        TotalResolution = "total_resolution",
        /// An agent update at least every N while the case is open.
        KeepInLoop = "keep_in_loop",
        /// A team-to-team promise on an internal request: creation to solve.
        InternalHandoff = "internal_handoff",
        /// An agent's promise to call back by a time.
        Callback = "callback",
        /// An agent's promise to send an update by a time.
        Update = "update",
        /// The promise of a recovery task after a breach.
        Recovery = "recovery",
    }
);

impl ClockKind {
    /// Clocks a policy can target (the others are made by people or by recovery).
    pub const POLICY: &'static [ClockKind] = &[
        ClockKind::FirstResponse,
        ClockKind::NextReply,
        ClockKind::FirstResolution,
        ClockKind::TotalResolution,
        ClockKind::KeepInLoop,
        ClockKind::InternalHandoff,
    ];

    /// Statuses that pause the clock when a target names none: waiting on
    /// the customer or a third party pauses resolution; waiting on the
    /// customer pauses the duty to keep them informed.
    pub fn default_pauses(self) -> BTreeSet<Status> {
        match self {
            ClockKind::FirstResolution | ClockKind::TotalResolution => [Status::Pending, Status::OnHold].into(),
            ClockKind::KeepInLoop | ClockKind::InternalHandoff => [Status::Pending].into(),
            _ => BTreeSet::new(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClockKind::FirstResponse => "First response",
            ClockKind::NextReply => "Next reply",
            ClockKind::FirstResolution => "First resolution",
            ClockKind::TotalResolution => "Resolution",
            ClockKind::KeepInLoop => "Keep informed",
            ClockKind::InternalHandoff => "Internal hand-off",
            ClockKind::Callback => "Callback",
            ClockKind::Update => "Update",
            ClockKind::Recovery => "Recovery",
        }
    }
}

string_enum!(
    /// The core service (what the customer gets) or the service experience (how it feels).
    ServiceClass {
        Core = "core",
        Experience = "experience",
    }
);

/// A target: how long a clock may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: ClockKind,
    pub target_ms: i64,
    /// Business time on the policy's calendar, or calendar (wall) time.
    pub business: bool,
    pub class: ServiceClass,
    pub pause_on: BTreeSet<Status>,
    /// Warn when this share of the target is used (parts per million, D-3).
    pub warn_share_ppm: Option<u32>,
    /// Warn this long before the breach.
    pub warn_before_ms: Option<i64>,
}

impl Target {
    /// The elapsed time at which to warn, if any: the earlier of the two thresholds.
    pub fn warn_elapsed_ms(&self) -> Option<i64> {
        let share = self.warn_share_ppm.map(|ppm| (i128::from(self.target_ms) * i128::from(ppm) / 1_000_000) as i64);
        let before = self.warn_before_ms.map(|b| self.target_ms - b);
        [share, before].into_iter().flatten().filter(|w| *w > 0 && *w < self.target_ms).min()
    }
}

/// What a case looks like to policy conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseAttrs {
    pub priority: Priority,
    pub tier: String,
    pub channel: Channel,
    pub case_type: String,
    pub team_id: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub priorities: BTreeSet<Priority>,
    pub tiers: BTreeSet<String>,
    pub channels: BTreeSet<Channel>,
    pub case_types: BTreeSet<String>,
    pub team_ids: BTreeSet<i64>,
}

impl Conditions {
    /// Every listed condition must hold; an empty list means "any".
    pub fn matches(&self, a: &CaseAttrs) -> bool {
        (self.priorities.is_empty() || self.priorities.contains(&a.priority))
            && (self.tiers.is_empty() || self.tiers.contains(&a.tier))
            && (self.channels.is_empty() || self.channels.contains(&a.channel))
            && (self.case_types.is_empty() || self.case_types.contains(&a.case_type))
            && (self.team_ids.is_empty() || self.team_ids.contains(&a.team_id))
    }
}

/// What a breach sets in motion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRule {
    /// The recovery task's own promise.
    pub target_ms: i64,
    pub business: bool,
    /// Raise the case's priority one step.
    pub raise_priority: bool,
}

/// One version of a policy, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: i64,
    pub version: i64,
    pub name: String,
    pub calendar_id: Option<i64>,
    pub conditions: Conditions,
    pub targets: Vec<Target>,
    /// Only human agents' replies fulfil response clocks (D-14).
    pub human_replies_only: bool,
    pub recovery: Option<RecoveryRule>,
}

impl Policy {
    pub fn target(&self, kind: ClockKind) -> Option<&Target> {
        self.targets.iter().find(|t| t.kind == kind)
    }
}

/// The JSON form of a policy (the API and the pages speak it).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub name: String,
    #[serde(default)]
    pub calendar_id: Option<i64>,
    #[serde(default)]
    pub conditions: ConditionsSpec,
    pub targets: Vec<TargetSpec>,
    #[serde(default = "yes")]
    pub human_replies_only: bool,
    #[serde(default)]
    pub recovery: Option<RecoverySpec>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConditionsSpec {
    #[serde(default)]
    pub priorities: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub case_types: Vec<String>,
    #[serde(default)]
    pub team_ids: Vec<i64>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub clock: String,
    pub minutes: i64,
    /// "business" (on the policy's calendar) or "calendar".
    #[serde(default = "business")]
    pub time: String,
    /// "core" or "experience".
    #[serde(default)]
    pub class: Option<String>,
    /// Statuses that pause the clock; absent: the clock's default.
    #[serde(default)]
    pub pause_on: Option<Vec<String>>,
    #[serde(default)]
    pub warn_at_percent: Option<u32>,
    #[serde(default)]
    pub warn_before_minutes: Option<i64>,
}

fn business() -> String {
    "business".into()
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RecoverySpec {
    pub minutes: i64,
    #[serde(default = "business")]
    pub time: String,
    #[serde(default)]
    pub raise_priority: bool,
}

const MAX_MINUTES: i64 = 366 * 24 * 60;

fn minutes(field: &str, m: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_MINUTES).contains(&m) {
        return Err(FieldError::new("invalid_value", field, format!("must be 1 to {MAX_MINUTES} minutes")));
    }
    Ok(m * 60_000)
}

fn time_kind(field: &str, raw: &str, calendar: Option<i64>) -> Result<bool, FieldError> {
    match raw {
        "business" if calendar.is_some() => Ok(true),
        "business" => Err(FieldError::new("calendar_required", field, "business time needs the policy's calendar_id")),
        "calendar" => Ok(false),
        _ => Err(FieldError::new("invalid_value", field, "must be business or calendar")),
    }
}

impl PolicySpec {
    /// Validates the spec into a policy with the given identity.
    pub fn validate(&self, id: i64, version: i64) -> Result<Policy, FieldError> {
        let name = crate::values::Name::parse("name", &self.name)?.to_string();
        let c = &self.conditions;
        let conditions = Conditions {
            priorities: enumerate(&c.priorities, "conditions.priorities", Priority::parse)?,
            tiers: enumerate(&c.tiers, "conditions.tiers", |f, s| {
                crate::values::Slug::parse(f, s).map(|s| s.to_string())
            })?,
            channels: enumerate(&c.channels, "conditions.channels", Channel::parse)?,
            case_types: enumerate(&c.case_types, "conditions.case_types", |f, s| {
                crate::values::Slug::parse(f, s).map(|s| s.to_string())
            })?,
            team_ids: c.team_ids.iter().copied().collect(),
        };
        let mut targets: Vec<Target> = Vec::new();
        for (i, t) in self.targets.iter().enumerate() {
            let field = |f: &str| format!("targets[{i}].{f}");
            let kind = ClockKind::parse(&field("clock"), &t.clock)?;
            if !ClockKind::POLICY.contains(&kind) {
                return Err(FieldError::new(
                    "invalid_value",
                    field("clock"),
                    "callback, update and recovery clocks are not set by policies",
                ));
            }
            if targets.iter().any(|o| o.kind == kind) {
                return Err(FieldError::new("duplicate", field("clock"), "each clock has one target per policy"));
            }
            let target_ms = minutes(&field("minutes"), t.minutes)?;
            let pause_on = match &t.pause_on {
                None => kind.default_pauses(),
                Some(list) => enumerate(list, &field("pause_on"), Status::parse)?,
            };
            let warn_share_ppm = t
                .warn_at_percent
                .map(|p| {
                    if (1..=99).contains(&p) {
                        Ok(p * 10_000)
                    } else {
                        Err(FieldError::new("invalid_value", field("warn_at_percent"), "must be 1 to 99"))
                    }
                })
                .transpose()?;
            let warn_before_ms =
                t.warn_before_minutes.map(|m| minutes(&field("warn_before_minutes"), m)).transpose()?;
            let default_class =
                if matches!(kind, ClockKind::FirstResolution | ClockKind::TotalResolution | ClockKind::InternalHandoff)
                {
                    ServiceClass::Core
                } else {
                    ServiceClass::Experience
                };
            targets.push(Target {
                kind,
                target_ms,
                business: time_kind(&field("time"), &t.time, self.calendar_id)?,
                class: t
                    .class
                    .as_deref()
                    .map(|c| ServiceClass::parse(&field("class"), c))
                    .transpose()?
                    .unwrap_or(default_class),
                pause_on,
                warn_share_ppm,
                warn_before_ms,
            });
        }
        if targets.is_empty() {
            return Err(FieldError::new("required", "targets", "a policy promises at least one target"));
        }
        let recovery = self
            .recovery
            .as_ref()
            .map(|r| -> Result<RecoveryRule, FieldError> {
                Ok(RecoveryRule {
                    target_ms: minutes("recovery.minutes", r.minutes)?,
                    business: time_kind("recovery.time", &r.time, self.calendar_id)?,
                    raise_priority: r.raise_priority,
                })
            })
            .transpose()?;
        Ok(Policy {
            id,
            version,
            name,
            calendar_id: self.calendar_id,
            conditions,
            targets,
            human_replies_only: self.human_replies_only,
            recovery,
        })
    }
}

fn enumerate<T: Ord>(
    raw: &[String],
    field: &str,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> Result<BTreeSet<T>, FieldError> {
    raw.iter().enumerate().map(|(i, s)| parse(&format!("{field}[{i}]"), s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> PolicySpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_policy_spec_becomes_a_policy_with_defaults() {
        let p = spec(r#"{"name": "Premium", "calendar_id": 3, "conditions": {"tiers": ["premium"], "priorities": ["high", "urgent"]},
            "targets": [{"clock": "first_response", "minutes": 60, "warn_at_percent": 75},
                        {"clock": "first_resolution", "minutes": 480, "time": "business"}]}"#)
        .validate(1, 1)
        .unwrap();
        let fr = p.target(ClockKind::FirstResponse).unwrap();
        assert!(fr.business && fr.pause_on.is_empty() && fr.class == ServiceClass::Experience);
        assert_eq!(fr.warn_elapsed_ms(), Some(45 * 60_000));
        let res = p.target(ClockKind::FirstResolution).unwrap();
        assert_eq!(res.pause_on, [Status::Pending, Status::OnHold].into());
        assert_eq!(res.class, ServiceClass::Core);
        assert!(p.human_replies_only);
    }

    #[test]
    fn invalid_specs_name_the_field() {
        let cases = [
            (r#"{"name": "x", "targets": [{"clock": "first_response", "minutes": 60}]}"#, "targets[0].time"),
            (
                r#"{"name": "x", "targets": [{"clock": "first_response", "minutes": 0, "time": "calendar"}]}"#,
                "targets[0].minutes",
            ),
            (r#"{"name": "x", "targets": [{"clock": "lunch", "minutes": 5, "time": "calendar"}]}"#, "targets[0].clock"),
            (
                r#"{"name": "x", "targets": [{"clock": "callback", "minutes": 5, "time": "calendar"}]}"#,
                "targets[0].clock",
            ),
            (r#"{"name": "x", "targets": []}"#, "targets"),
            (
                r#"{"name": "x", "conditions": {"priorities": ["asap"]}, "targets": [{"clock": "first_response", "minutes": 5, "time": "calendar"}]}"#,
                "conditions.priorities[0]",
            ),
            (
                r#"{"name": "x", "targets": [{"clock": "first_response", "minutes": 5, "time": "calendar", "warn_at_percent": 100}]}"#,
                "targets[0].warn_at_percent",
            ),
            (
                r#"{"name": "x", "targets": [{"clock": "first_response", "minutes": 5, "time": "calendar"}, {"clock": "first_response", "minutes": 9, "time": "calendar"}]}"#,
                "targets[1].clock",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(spec(json).validate(1, 1).unwrap_err().field, field, "{json}");
        }
    }

    #[test]
    fn conditions_match_when_every_listed_one_holds() {
        let attrs = CaseAttrs {
            priority: Priority::High,
            tier: "premium".into(),
            channel: Channel::Email,
            case_type: "incident".into(),
            team_id: 1,
        };
        let mut c = Conditions::default();
        assert!(c.matches(&attrs), "no conditions match everything");
        c.priorities = [Priority::High, Priority::Urgent].into();
        c.tiers = ["premium".to_owned()].into();
        assert!(c.matches(&attrs));
        c.team_ids = [2].into();
        assert!(!c.matches(&attrs));
    }

    #[test]
    fn the_earlier_warning_threshold_wins() {
        let t = Target {
            kind: ClockKind::FirstResponse,
            target_ms: 3_600_000,
            business: false,
            class: ServiceClass::Experience,
            pause_on: BTreeSet::new(),
            warn_share_ppm: Some(900_000),
            warn_before_ms: Some(15 * 60_000),
        };
        assert_eq!(t.warn_elapsed_ms(), Some(45 * 60_000), "15 minutes before the hour comes before 90 %");
    }
}
