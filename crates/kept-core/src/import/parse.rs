//! Reading one line. The line is read as a JSON value first and then field by
//! field, rather than deserialised into structs, so that every refusal names
//! the exact path (`events[3].to`) and says what was expected.

use super::{
    AccountRef, Author, ExternalId, ImportedAction, ImportedCase, ImportedEvent, MAX_EVENTS, MAX_EXTERNAL_ID,
    MAX_LINE_BYTES, MAX_SURVEYS, PastAnswer, PersonRef,
};
use crate::cases::{Channel, DEFAULT_CASE_TYPE, Priority, Status};
use crate::error::FieldError;
use crate::surveys::{MAX_COMMENT, SurveyKind, validate_score};
use crate::values::{Email, MessageBody, Name, Slug, Subject};
use jiff::Timestamp;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

const TOP: &[&str] = &[
    "external_id",
    "subject",
    "account",
    "requester",
    "team",
    "assignee",
    "channel",
    "priority",
    "case_type",
    "tags",
    "created_at",
    "body",
    "events",
    "surveys",
];

/// The earliest instant a history may hold. Clocks are replayed from a
/// case's creation, so a typo'd year 0024 would have them walk business days
/// across two thousand years; nothing a desk exports is older than this.
const EARLIEST: Timestamp = Timestamp::constant(631_152_000, 0); // 1990-01-01T00:00:00Z

/// Parses one line (without its newline) as of `now`: nothing in a history
/// may lie in the future.
pub fn parse_line(line: &str, now: Timestamp) -> Result<ImportedCase, FieldError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(FieldError::new("too_long", "", format!("a line may hold at most {MAX_LINE_BYTES} bytes")));
    }
    let value: Value =
        serde_json::from_str(line).map_err(|e| FieldError::new("invalid_json", "", format!("not valid JSON: {e}")))?;
    let o = Obj::new(&value, "")?;
    o.only(TOP)?;
    let created_at = o.time("created_at", now)?;
    let account = match o.req("account")? {
        Value::String(name) => AccountRef { name: Name::parse("account", name)?, tier: None },
        v @ Value::Object(_) => {
            let a = Obj::new(v, "account")?;
            a.only(&["name", "tier"])?;
            let tier = a.opt_str("tier")?.map(|t| Slug::parse(&a.path("tier"), t)).transpose()?;
            AccountRef { name: Name::parse(&a.path("name"), a.str("name")?)?, tier }
        }
        _ => return Err(o.wrong("account", "a name or an object {\"name\", \"tier\"}")),
    };
    let channel = match o.opt_str("channel")? {
        Some(c) => Channel::parse("channel", c)?,
        None => Channel::Email,
    };
    if channel == Channel::Internal {
        return Err(FieldError::new("invalid_value", "channel", "internal requests cannot be imported"));
    }
    let events = events(&o, created_at, now)?;
    let (body, first_step) = match o.opt_str("body")? {
        Some(b) => (MessageBody::parse("body", b)?, 0),
        None => opening(&events, created_at).map_or_else(
            // A subject is one line of printable text, so it is a valid body too.
            || MessageBody::parse("subject", o.str("subject")?).map(|b| (b, 0)),
            |b| Ok((b, 1)),
        )?,
    };
    Ok(ImportedCase {
        external_id: external_id(&o)?,
        subject: Subject::parse("subject", o.str("subject")?)?,
        account,
        requester: person(o.req("requester")?, "requester")?,
        team: Name::parse("team", o.str("team")?)?,
        assignee: o.opt("assignee").map(|v| person(v, "assignee")).transpose()?,
        channel,
        priority: o
            .opt_str("priority")?
            .map(|p| Priority::parse("priority", p))
            .transpose()?
            .unwrap_or(Priority::Normal),
        case_type: Slug::parse("case_type", o.opt_str("case_type")?.unwrap_or(DEFAULT_CASE_TYPE))?,
        tags: tags(&o)?,
        created_at,
        body,
        events,
        first_step,
        surveys: surveys(&o, created_at, now)?,
    })
}

/// The first event's text, when it is the customer's message at the creation instant.
fn opening(events: &[ImportedEvent], created_at: Timestamp) -> Option<MessageBody> {
    match events.first()? {
        ImportedEvent { at, action: ImportedAction::Message { author: Author::Customer, body, .. } }
            if *at == created_at =>
        {
            Some(body.clone())
        }
        _ => None,
    }
}

fn external_id(o: &Obj<'_>) -> Result<ExternalId, FieldError> {
    // Desks number their cases; a number is taken as its decimal text.
    let raw = match o.req("external_id")? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        _ => return Err(o.wrong("external_id", "a string or a whole number")),
    };
    if raw.is_empty() {
        return Err(FieldError::new("required", "external_id", "must not be empty"));
    }
    if raw.chars().count() > MAX_EXTERNAL_ID {
        return Err(FieldError::new("too_long", "external_id", format!("at most {MAX_EXTERNAL_ID} characters")));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new("invalid_text", "external_id", "contains control characters"));
    }
    Ok(ExternalId(raw))
}

/// A person: an email, or `{"email", "name"}`.
fn person(v: &Value, path: &str) -> Result<PersonRef, FieldError> {
    match v {
        Value::String(email) => Ok(PersonRef { email: Email::parse(path, email)?, name: None }),
        Value::Object(_) => {
            let p = Obj::new(v, path)?;
            p.only(&["email", "name"])?;
            let name = p.opt_str("name")?.map(|n| Name::parse(&p.path("name"), n)).transpose()?;
            Ok(PersonRef { email: Email::parse(&p.path("email"), p.str("email")?)?, name })
        }
        _ => Err(FieldError::new("invalid_type", path, "must be an email or an object {\"email\", \"name\"}")),
    }
}

fn tags(o: &Obj<'_>) -> Result<BTreeSet<Slug>, FieldError> {
    let list = o.opt_array("tags")?;
    if list.len() > crate::cases::MAX_TAGS {
        return Err(FieldError::new("too_many", "tags", format!("at most {} tags", crate::cases::MAX_TAGS)));
    }
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            let field = format!("tags[{i}]");
            t.as_str()
                .ok_or_else(|| FieldError::new("invalid_type", &field, "must be a string"))
                .and_then(|s| Slug::parse(&field, s))
        })
        .collect()
}

fn events(o: &Obj<'_>, created_at: Timestamp, now: Timestamp) -> Result<Vec<ImportedEvent>, FieldError> {
    let list = o.opt_array("events")?;
    if list.len() > MAX_EVENTS {
        return Err(FieldError::new("too_many", "events", format!("at most {MAX_EVENTS} events per case")));
    }
    let mut out: Vec<ImportedEvent> = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let e = Obj::new(v, &format!("events[{i}]"))?;
        let at = e.time("at", now)?;
        if at < created_at {
            return Err(FieldError::new("before_created", e.path("at"), "is before the case's created_at"));
        }
        if out.last().is_some_and(|prev| at < prev.at) {
            return Err(FieldError::new("out_of_order", e.path("at"), format!("is before events[{}].at", i - 1)));
        }
        let action = match e.str("kind")? {
            "message" => message(&e)?,
            "status" => {
                e.only(&["at", "kind", "to", "agent"])?;
                let raw = e.str("to")?;
                let to = Status::parse(&e.path("to"), raw).map_err(|_| {
                    let allowed: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                    FieldError::new(
                        "invalid_value",
                        e.path("to"),
                        format!("unknown status {raw:?} (one of: {})", allowed.join(", ")),
                    )
                })?;
                let agent = e.opt("agent").map(|v| person(v, &e.path("agent"))).transpose()?;
                ImportedAction::Status { to, agent }
            }
            other => {
                return Err(FieldError::new(
                    "invalid_value",
                    e.path("kind"),
                    format!("unknown event kind {other:?} (one of: message, status)"),
                ));
            }
        };
        out.push(ImportedEvent { at, action });
    }
    Ok(out)
}

fn message(e: &Obj<'_>) -> Result<ImportedAction, FieldError> {
    e.only(&["at", "kind", "author", "agent", "public", "body"])?;
    let public = match e.opt("public") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(e.wrong("public", "true or false")),
    };
    let author = match e.str("author")? {
        "customer" => {
            if e.opt("agent").is_some() {
                return Err(FieldError::new("not_allowed", e.path("agent"), "a customer's message has no agent"));
            }
            if !public {
                return Err(FieldError::new("not_allowed", e.path("public"), "a customer's message is always public"));
            }
            Author::Customer
        }
        "agent" => Author::Agent(person(e.req("agent")?, &e.path("agent"))?),
        other => {
            return Err(FieldError::new(
                "invalid_value",
                e.path("author"),
                format!("unknown author {other:?} (one of: customer, agent)"),
            ));
        }
    };
    Ok(ImportedAction::Message { author, public, body: MessageBody::parse(&e.path("body"), e.str("body")?)? })
}

fn surveys(o: &Obj<'_>, created_at: Timestamp, now: Timestamp) -> Result<Vec<PastAnswer>, FieldError> {
    let list = o.opt_array("surveys")?;
    if list.len() > MAX_SURVEYS {
        return Err(FieldError::new("too_many", "surveys", format!("at most {MAX_SURVEYS} surveys per case")));
    }
    let mut out: Vec<PastAnswer> = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let s = Obj::new(v, &format!("surveys[{i}]"))?;
        s.only(&["kind", "score", "answered_at", "comment"])?;
        let kind = SurveyKind::parse(&s.path("kind"), s.str("kind")?)?;
        let score = match s.req("score")? {
            Value::Number(n) => n.as_i64().ok_or_else(|| s.wrong("score", "a whole number"))?,
            _ => return Err(s.wrong("score", "a whole number")),
        };
        validate_score(kind, score).map_err(|e| e.within(&s.path("")))?;
        let answered_at = s.time("answered_at", now)?;
        if answered_at < created_at {
            return Err(FieldError::new("before_created", s.path("answered_at"), "is before the case's created_at"));
        }
        let comment = match s.opt_str("comment")?.map(str::trim) {
            None | Some("") => None,
            Some(c) if c.chars().count() > MAX_COMMENT => {
                return Err(FieldError::new(
                    "too_long",
                    s.path("comment"),
                    format!("at most {MAX_COMMENT} characters"),
                ));
            }
            Some(c) => Some(c.to_owned()),
        };
        if out.iter().any(|x| x.kind == kind && x.answered_at == answered_at) {
            return Err(FieldError::new(
                "duplicate",
                s.path("answered_at"),
                format!("another {} answer has the same answered_at", kind.label()),
            ));
        }
        out.push(PastAnswer { kind, score, answered_at, comment });
    }
    Ok(out)
}

/// A JSON object and its path in the line, for reading fields with errors
/// that name them.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    at: String,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, at: &str) -> Result<Self, FieldError> {
        match v {
            Value::Object(map) => Ok(Self { map, at: at.to_owned() }),
            _ => Err(FieldError::new("invalid_type", at, "must be a JSON object")),
        }
    }

    /// The path of a field of this object (`""` is the object itself).
    fn path(&self, name: &str) -> String {
        match (self.at.is_empty(), name.is_empty()) {
            (_, true) => self.at.clone(),
            (true, false) => name.to_owned(),
            (false, false) => format!("{}.{name}", self.at),
        }
    }

    fn wrong(&self, name: &str, expected: &str) -> FieldError {
        FieldError::new("invalid_type", self.path(name), format!("must be {expected}"))
    }

    /// Refuses fields the format does not have, so a typo never passes silently.
    fn only(&self, allowed: &[&str]) -> Result<(), FieldError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(FieldError::new("unknown_field", self.path(k), "is not a field of the import format")),
            None => Ok(()),
        }
    }

    /// A field that is present and not null.
    fn opt(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn req(&self, name: &str) -> Result<&'a Value, FieldError> {
        self.opt(name).ok_or_else(|| FieldError::new("required", self.path(name), "is required"))
    }

    fn str(&self, name: &str) -> Result<&'a str, FieldError> {
        self.req(name)?.as_str().ok_or_else(|| self.wrong(name, "a string"))
    }

    fn opt_str(&self, name: &str) -> Result<Option<&'a str>, FieldError> {
        self.opt(name).map(|v| v.as_str().ok_or_else(|| self.wrong(name, "a string"))).transpose()
    }

    fn opt_array(&self, name: &str) -> Result<&'a [Value], FieldError> {
        match self.opt(name) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.wrong(name, "an array")),
        }
    }

    /// An RFC 3339 instant with an offset, not after `now`.
    fn time(&self, name: &str, now: Timestamp) -> Result<Timestamp, FieldError> {
        let raw = self.str(name)?;
        let at: Timestamp = raw.trim().parse().map_err(|_| {
            FieldError::new(
                "invalid_time",
                self.path(name),
                format!("{raw:?} is not an RFC 3339 time with an offset (2024-06-03T13:00:00Z)"),
            )
        })?;
        if at > now {
            return Err(FieldError::new("in_future", self.path(name), "is after the time of the import"));
        }
        if at < EARLIEST {
            return Err(FieldError::new("too_old", self.path(name), "is before 1990; no desk history is that old"));
        }
        Ok(at)
    }
}

#[cfg(test)]
pub(super) const TOP_FOR_TESTS: &[&str] = TOP;
