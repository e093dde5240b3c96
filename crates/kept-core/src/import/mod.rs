//! History import: what one line of a JSON Lines file says about one case
//! from another desk, validated. Parsing is pure (time comes in as `now`) so
//! that every rule about the format is tested here in milliseconds; the store
//! resolves the people and teams named and replays the history through the
//! case lifecycle. docs/IMPORT.md describes the format for people.
//!
//! What does not belong here: finding or creating accounts, contacts, agents
//! and teams (kept-store), reading files or HTTP bodies (the binary, the server).

mod parse;
#[cfg(test)]
mod tests;

pub use parse::parse_line;

use crate::cases::{Channel, Priority, Status};
pub use crate::surveys::PastAnswer;
use crate::values::{Email, MessageBody, Name, Slug, Subject};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// The longest line accepted: a case with thousands of long messages fits;
/// a runaway line (a whole file without newlines) does not.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// The most events one case may carry.
pub const MAX_EVENTS: usize = 10_000;
/// The most survey answers one case may carry.
pub const MAX_SURVEYS: usize = 100;
/// The longest external id, in characters.
pub const MAX_EXTERNAL_ID: usize = 255;

/// The case's id in the desk it comes from: the key that makes re-importing
/// a file update cases instead of duplicating them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person named by email, with the name to give them if they are new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRef {
    pub email: Email,
    pub name: Option<Name>,
}

impl PersonRef {
    /// The name for a person created by the import: the one given, else the
    /// mailbox part of the address (`dana.brooks@…` → `dana.brooks`).
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) => n.as_str().to_owned(),
            None => self.email.as_str().split('@').next().unwrap_or_default().to_owned(),
        }
    }
}

/// The customer account, by name; `tier` applies when the import creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    pub name: Name,
    pub tier: Option<Slug>,
}

/// The tier given to accounts the import creates without one.
pub const DEFAULT_TIER: &str = "standard";

/// Who wrote an imported message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The case's requester.
    Customer,
    Agent(PersonRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportedAction {
    Message {
        author: Author,
        public: bool,
        body: MessageBody,
    },
    /// `agent` is who changed the status, when the source knows.
    Status {
        to: Status,
        agent: Option<PersonRef>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedEvent {
    pub at: Timestamp,
    pub action: ImportedAction,
}

/// One valid line: a case as it was opened, what happened to it, and what
/// the customer said about it afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedCase {
    pub external_id: ExternalId,
    pub subject: Subject,
    pub account: AccountRef,
    pub requester: PersonRef,
    pub team: Name,
    pub assignee: Option<PersonRef>,
    pub channel: Channel,
    pub priority: Priority,
    pub case_type: Slug,
    pub tags: BTreeSet<Slug>,
    pub created_at: Timestamp,
    /// The opening message. A case opens with the customer speaking: the
    /// line's `body`; else its first event when that is the customer's
    /// message at `created_at`; else the subject stands for the request.
    pub body: MessageBody,
    /// In time order, none before `created_at` or after the import.
    pub events: Vec<ImportedEvent>,
    /// 1 when the first event became the opening message, else 0.
    pub first_step: usize,
    /// Distinct by (kind, answered_at).
    pub surveys: Vec<PastAnswer>,
}

/// The fields a re-import may change, as the file last said them. The store
/// keeps them per external id and changes a case only where a newer file
/// says something different, so kept's own later changes (a priority raised
/// by recovery) are not undone by re-importing an unchanged line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TrackedFields {
    pub subject: String,
    pub priority: Priority,
    pub team: String,
    pub assignee: Option<String>,
    pub case_type: String,
}

impl ImportedCase {
    pub fn tracked(&self) -> TrackedFields {
        TrackedFields {
            subject: self.subject.as_str().to_owned(),
            priority: self.priority,
            team: self.team.as_str().to_lowercase(),
            assignee: self.assignee.as_ref().map(|a| a.email.as_str().to_owned()),
            case_type: self.case_type.as_str().to_owned(),
        }
    }

    /// The events after the opening message, with their index in the line.
    pub fn steps(&self) -> impl Iterator<Item = (usize, &ImportedEvent)> {
        self.events.iter().enumerate().skip(self.first_step)
    }
}

/// A refused line: where in the file, which field, a stable code, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    /// The JSON path of the field at fault (`events[3].to`); `None` when the
    /// line as a whole is (not JSON, not an object, too long).
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

impl LineError {
    pub fn new(line: usize, e: crate::FieldError) -> Self {
        let field = Some(e.field).filter(|f| !f.is_empty());
        Self { line, field, code: e.code.to_owned(), message: e.message }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}
