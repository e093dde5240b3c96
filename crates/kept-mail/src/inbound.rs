//! Inbound mail: raw RFC 5322 bytes in, a decoded and sanitised [`InboundMail`] out.
//!
//! [`parse`] never panics on hostile input. It fails only when there is nothing usable (empty
//! input, no header block, no valid `From`, or a message over the size limit); everything else
//! (malformed headers, unknown charsets, broken base64 or quoted-printable) is decoded as well as
//! it can be.

mod attachments;
mod automatic;
mod case_ref;
mod html;
mod quote;

use mail_parser::{Address, HeaderValue, MessageParser, PartType};
use serde::{Deserialize, Serialize};

use crate::{Mailbox, collapse_whitespace};

pub use automatic::AutomaticReason;
pub use case_ref::find_case_reference;
pub use html::sanitize_html;
pub use quote::strip_quoted_reply;

/// Size limits applied while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// An attachment larger than this (decoded) is dropped and listed in
    /// [`InboundMail::skipped_attachments`].
    pub max_attachment_bytes: usize,
    /// A raw message larger than this is refused with [`InboundError::TooLarge`].
    pub max_total_bytes: usize,
}

impl Default for Limits {
    /// 25 MiB per attachment, 50 MiB per raw message.
    fn default() -> Self {
        Limits { max_attachment_bytes: 25 * 1024 * 1024, max_total_bytes: 50 * 1024 * 1024 }
    }
}

/// A parsed inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMail {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` ids without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` ids without angle brackets, oldest first.
    pub references: Vec<String>,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Decoded subject with whitespace collapsed; may be empty.
    pub subject: String,
    /// `Date` as epoch milliseconds UTC, if present and valid.
    pub date: Option<i64>,
    /// Plain-text body with `\n` line ends; derived from the (sanitised) HTML body when the
    /// message has no text part. Several text parts are joined with a newline.
    pub text: String,
    /// Sanitised HTML body (see [`sanitize_html`]), if the message has an HTML part.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    pub skipped_attachments: Vec<SkippedAttachment>,
    /// Why this message looks machine-sent, if it does (see [`AutomaticReason`]).
    pub automatic: Option<AutomaticReason>,
    /// Case number referenced in the subject (see [`find_case_reference`]).
    pub case_reference: Option<i64>,
}

/// One stored attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Sanitised file name: no path separators, no control characters; `attachment-N` when the
    /// message gave none (N counts from 1 over all attachments of the message).
    pub filename: String,
    /// Lowercased `type/subtype`.
    pub content_type: String,
    /// `Content-ID` without angle brackets (for `cid:` references in the HTML).
    pub content_id: Option<String>,
    /// Decoded bytes.
    pub bytes: Vec<u8>,
    /// Shown inline by the sender (`Content-Disposition: inline`, or a `Content-ID` without a
    /// disposition).
    pub inline: bool,
}

/// An attachment that was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedAttachment {
    pub filename: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// Stable snake_case reason, currently only `too_large`.
    pub reason: String,
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("the message is empty")]
    Empty,
    #[error("no header block could be parsed")]
    NoHeaders,
    #[error("the message has no From address")]
    MissingFrom,
    #[error("the From address {0:?} is not a valid email address")]
    InvalidFrom(String),
    #[error("the message is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
}

impl InboundError {
    /// Stable snake_case code for logs, metrics and API responses.
    pub fn code(&self) -> &'static str {
        match self {
            InboundError::Empty => "empty",
            InboundError::NoHeaders => "no_headers",
            InboundError::MissingFrom => "missing_from",
            InboundError::InvalidFrom(_) => "invalid_from",
            InboundError::TooLarge { .. } => "too_large",
        }
    }
}

/// Parses one raw message.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<InboundMail, InboundError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(InboundError::Empty);
    }
    if raw.len() > limits.max_total_bytes {
        return Err(InboundError::TooLarge { size: raw.len(), limit: limits.max_total_bytes });
    }
    let message = MessageParser::default().parse(raw).ok_or(InboundError::NoHeaders)?;
    if message.root_part().headers.is_empty() {
        return Err(InboundError::NoHeaders);
    }

    let from = match message.from().and_then(|a| a.iter().next()) {
        None => return Err(InboundError::MissingFrom),
        Some(addr) => match addr.address.as_deref() {
            None => return Err(InboundError::MissingFrom),
            Some(email) => Mailbox::new(email, addr.name.as_deref())
                .ok_or_else(|| InboundError::InvalidFrom(email.chars().take(200).collect()))?,
        },
    };

    let subject = message.subject().map(collapse_whitespace).unwrap_or_default();
    let date = message.date().filter(|d| d.is_valid()).and_then(|d| d.to_timestamp().checked_mul(1000));

    let mut text_parts = Vec::new();
    for id in &message.text_body {
        match message.parts.get(*id as usize).map(|p| &p.body) {
            Some(PartType::Text(t)) => text_parts.push(t.replace("\r\n", "\n")),
            // Text from the sanitised HTML, so links the sanitiser drops (javascript:) do not
            // come back as footnotes.
            Some(PartType::Html(h)) => text_parts.push(html::html_to_text(&sanitize_html(h))),
            _ => {}
        }
    }
    let html_parts: Vec<&str> = message
        .html_body
        .iter()
        .filter_map(|id| match message.parts.get(*id as usize).map(|p| &p.body) {
            Some(PartType::Html(h)) => Some(h.as_ref()),
            _ => None,
        })
        .collect();
    let html = (!html_parts.is_empty()).then(|| sanitize_html(&html_parts.join("\n")));

    let (attachments, skipped_attachments) = attachments::collect(&message, limits);

    Ok(InboundMail {
        message_id: message.message_id().map(strip_brackets).filter(|s| !s.is_empty()),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        from,
        reply_to: message.reply_to().and_then(|a| mailboxes(a).into_iter().next()),
        to: message.all_to().flat_map(mailboxes).collect(),
        cc: message.all_cc().flat_map(mailboxes).collect(),
        case_reference: find_case_reference(&subject),
        subject,
        date,
        text: text_parts.join("\n"),
        html,
        attachments,
        skipped_attachments,
        automatic: automatic::detect(&message),
    })
}

fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address.iter().filter_map(|a| Mailbox::new(a.address.as_deref()?, a.name.as_deref())).collect()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(t) => vec![t.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    raw.into_iter().flat_map(|s| s.split_whitespace()).map(strip_brackets).filter(|s| !s.is_empty()).collect()
}

fn strip_brackets(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}
