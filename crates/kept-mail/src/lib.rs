//! Email for kept.
//!
//! * [`inbound`]: turn raw RFC 5322 bytes into an [`inbound::InboundMail`] (decoded text, sanitised
//!   HTML, attachments, threading headers, auto-mail detection, case reference).
//! * [`outbound`]: build kept's own messages and hand them to an SMTP relay.
//! * [`imap`]: poll a mailbox: fetch unseen messages without marking them, mark them seen once
//!   stored.
//! * `sink` (feature `sink`): a small plain-TCP SMTP server for tests; `imap_sink` (same feature):
//!   a small plain-TCP IMAP server for tests.
//!
//! No database, no clock reads: every time value is passed in by the caller.

pub mod imap;
#[cfg(feature = "sink")]
pub mod imap_sink;
pub mod inbound;
pub mod outbound;
#[cfg(feature = "sink")]
pub mod sink;

use serde::{Deserialize, Serialize};

/// One email address with an optional display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mailbox {
    /// The addr-spec, lowercased (`local@domain`).
    pub email: String,
    /// The display name, if one was given and is not blank.
    pub name: Option<String>,
}

impl Mailbox {
    /// A mailbox from an address and an optional name. The address is trimmed, lowercased and
    /// checked with [`normalize_email`]; `None` if it is not an address.
    pub fn new(email: &str, name: Option<&str>) -> Option<Mailbox> {
        let email = normalize_email(email)?;
        let name = name.map(collapse_whitespace).filter(|n| !n.is_empty());
        Some(Mailbox { email, name })
    }
}

/// Checks that `raw` looks like an addr-spec and returns it trimmed and lowercased.
///
/// The check is deliberately modest: exactly one `@`, a non-empty local part and domain, no
/// whitespace or control characters, no angle brackets, and a domain made of labels (letters,
/// digits, `-`, non-ASCII for IDNs) separated by single dots, or an address literal `[…]`.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') || email.len() > 320 {
        return None;
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',') {
        return None;
    }
    let domain_ok = if domain.starts_with('[') && domain.ends_with(']') {
        domain.len() > 2 && !domain.chars().any(|c| c.is_whitespace() || c.is_control())
    } else {
        domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    };
    domain_ok.then_some(email)
}

/// Replaces every run of whitespace (including folded line breaks) with one space and trims.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email(" Ann@Example.COM ").as_deref(), Some("ann@example.com"));
        assert_eq!(normalize_email("a@[127.0.0.1]").as_deref(), Some("a@[127.0.0.1]"));
        assert_eq!(normalize_email("user+tag@sub.example.org").as_deref(), Some("user+tag@sub.example.org"));
        for bad in ["", "@", "a@", "@b", "a@b@c", "a b@c", "a@b..c", "a@.b", "a@b.", "<a@b>", "a@-b.c"] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn mailbox_names_are_collapsed() {
        let m = Mailbox::new("X@Y.z", Some("  Ann \r\n Smith ")).unwrap();
        assert_eq!(m, Mailbox { email: "x@y.z".into(), name: Some("Ann Smith".into()) });
        assert_eq!(Mailbox::new("x@y.z", Some("  ")).unwrap().name, None);
    }
}
