//! Small validated values shared across the domain: email addresses, names,
//! slugs (tags, case types), free text. Each is valid by construction.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// An email address, trimmed and lower-cased, with one `@`, a non-empty local
/// part and a dotted domain. Deliberately not RFC 5322 complete: it accepts
/// what people type and refuses what cannot be a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);
string_value!(Email);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let invalid = |why: &str| FieldError::new("invalid_email", field, why.to_owned());
        if value.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if value.len() > 254 {
            return Err(invalid("must be at most 254 characters"));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(invalid("must contain @"));
        };
        if local.is_empty() || domain.contains('@') {
            return Err(invalid("must have one @ with a name before it"));
        }
        EmailDomain::parse(field, domain).map_err(|_| invalid("has an invalid domain"))?;
        if value.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c)) {
            return Err(invalid("contains characters not allowed in an address"));
        }
        Ok(Self(value))
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

/// A mail domain such as `example.com`: lower-case labels of letters, digits
/// and hyphens, at least two labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailDomain(String);
string_value!(EmailDomain);

impl EmailDomain {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().trim_start_matches('@').to_lowercase();
        let invalid = |why: &str| FieldError::new("invalid_domain", field, why.to_owned());
        if value.len() > 253 || value.is_empty() {
            return Err(invalid("must be 1 to 253 characters"));
        }
        let labels: Vec<&str> = value.split('.').collect();
        if labels.len() < 2 {
            return Err(invalid("must contain a dot, like example.com"));
        }
        for label in labels {
            let ok = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(invalid("has a label that is not letters, digits and inner hyphens"));
            }
        }
        Ok(Self(value))
    }
}

/// A human-readable name (person, team, account): trimmed, 1..=200 characters,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Name(String);
string_value!(Name);

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        bounded_line(field, raw, 200).map(Self)
    }
}

/// A case subject: one line, 1..=250 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Subject(String);
string_value!(Subject);

impl Subject {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        bounded_line(field, raw, 250).map(Self)
    }
}

/// The body of a message: 1..=65,536 characters of text. Line breaks are kept;
/// other control characters are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageBody(String);
string_value!(MessageBody);

impl MessageBody {
    pub const MAX_CHARS: usize = 65_536;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().replace("\r\n", "\n");
        if value.is_empty() {
            return Err(FieldError::new("required", field, "must not be empty"));
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("too_long", field, format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(FieldError::new("invalid_text", field, "contains control characters"));
        }
        Ok(Self(value))
    }
}

/// A short machine-friendly label: tags and case types. Lower-case letters,
/// digits, `-` and `_`, 1..=40 characters, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);
string_value!(Slug);

impl Slug {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let first_ok = value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if value.is_empty() || value.len() > 40 || !first_ok || !rest_ok {
            return Err(FieldError::new(
                "invalid_slug",
                field,
                "must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit",
            ));
        }
        Ok(Self(value))
    }
}

impl TryFrom<String> for Slug {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse("", &value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

/// A password as typed: 10..=256 characters. Never logged, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n < 10 {
            return Err(FieldError::new("weak_password", field, "must be at least 10 characters"));
        }
        if n > 256 {
            return Err(FieldError::new("too_long", field, "must be at most 256 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

fn bounded_line(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new("required", field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new("too_long", field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new("invalid_text", field, "must be one line without control characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let e = Email::parse("email", "  Ana.Smith@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ana.smith@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn an_email_without_a_dotted_domain_is_refused() {
        for bad in ["", "ana", "ana@", "@example.com", "ana@localhost", "a@b@c.com", "a b@c.com", "a@-x.com"] {
            let err = Email::parse("email", bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
            assert_eq!(err.code, "invalid_email", "{bad}");
        }
    }

    #[test]
    fn a_domain_may_be_written_with_a_leading_at() {
        assert_eq!(EmailDomain::parse("d", "@ACME.io").unwrap().as_str(), "acme.io");
        assert!(EmailDomain::parse("d", "acme").is_err());
        assert!(EmailDomain::parse("d", "ac_me.io").is_err());
    }

    #[test]
    fn names_are_one_trimmed_line_of_bounded_length() {
        assert_eq!(Name::parse("name", "  Acme  ").unwrap().as_str(), "Acme");
        assert_eq!(Name::parse("name", "   ").unwrap_err().code, "required");
        assert_eq!(Name::parse("name", &"x".repeat(201)).unwrap_err().code, "too_long");
        assert_eq!(Name::parse("name", "a\nb").unwrap_err().code, "invalid_text");
    }

    #[test]
    fn message_bodies_keep_line_breaks_but_refuse_other_control_characters() {
        let b = MessageBody::parse("body", "Hello\r\nthere\n").unwrap();
        assert_eq!(b.as_str(), "Hello\nthere");
        assert!(MessageBody::parse("body", "bell\u{7}").is_err());
        assert!(MessageBody::parse("body", "").is_err());
    }

    #[test]
    fn slugs_are_lower_case_labels() {
        assert_eq!(Slug::parse("tag", "VIP").unwrap().as_str(), "vip");
        assert!(Slug::parse("tag", "needs review").is_err());
        assert!(Slug::parse("tag", "-x").is_err());
        assert!(Slug::parse("tag", &"a".repeat(41)).is_err());
    }

    #[test]
    fn passwords_are_never_printed() {
        let p = Password::parse("password", "correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        assert!(Password::parse("password", "short").is_err());
    }
}
