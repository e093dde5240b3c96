//! Recognising mail sent by machines, so kept does not open cases for bounces or answer
//! autoresponders (mail loops).
//!
//! Only headers and MIME structure count. A subject such as "Out of office" is not evidence on
//! its own: people write such subjects too.

use mail_parser::{Message, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

/// Why a message is considered automatic. Checked in the order of the variants; the first match
/// wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomaticReason {
    /// `multipart/report; report-type=delivery-status`, or a `message/delivery-status` part: a
    /// bounce or delay notice.
    DeliveryReport,
    /// `multipart/report` of another type, e.g. a read receipt (`disposition-notification`).
    OtherReport,
    /// `Auto-Submitted` with any value other than `no` (RFC 3834).
    AutoSubmitted,
    /// `X-Autoreply` or `X-Autorespond` present (older autoresponders).
    AutoReplyHeader,
    /// The sender's local part is `mailer-daemon` or `postmaster`.
    DaemonSender,
    /// `Return-Path: <>` (the null reverse path used for notifications).
    NullReturnPath,
    /// `List-Id` or `List-Unsubscribe` present.
    MailingList,
    /// `Precedence: bulk`, `junk` or `list`.
    BulkPrecedence,
}

impl AutomaticReason {
    /// Stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            AutomaticReason::DeliveryReport => "delivery_report",
            AutomaticReason::OtherReport => "other_report",
            AutomaticReason::AutoSubmitted => "auto_submitted",
            AutomaticReason::AutoReplyHeader => "auto_reply_header",
            AutomaticReason::DaemonSender => "daemon_sender",
            AutomaticReason::NullReturnPath => "null_return_path",
            AutomaticReason::MailingList => "mailing_list",
            AutomaticReason::BulkPrecedence => "bulk_precedence",
        }
    }
}

impl std::fmt::Display for AutomaticReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(super) fn detect(message: &Message<'_>) -> Option<AutomaticReason> {
    let headers: Vec<(String, String)> =
        message.headers_raw().map(|(name, value)| (name.trim().to_ascii_lowercase(), unfold(value))).collect();
    let values = |name: &'static str| headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str());
    let present = |name: &'static str| values(name).next().is_some();

    if let Some(report) = report_kind(message) {
        return Some(report);
    }
    if values("auto-submitted").any(|v| {
        let token = v.split(';').next().unwrap_or("").trim();
        !token.is_empty() && !token.eq_ignore_ascii_case("no")
    }) {
        return Some(AutomaticReason::AutoSubmitted);
    }
    if present("x-autoreply") || present("x-autorespond") {
        return Some(AutomaticReason::AutoReplyHeader);
    }
    let daemon = |addr: &str| {
        let local = addr.rsplit_once('@').map_or(addr, |(l, _)| l).trim().to_ascii_lowercase();
        local == "mailer-daemon" || local == "postmaster"
    };
    let from_daemon =
        message.from().into_iter().flat_map(|a| a.iter()).any(|a| a.address.as_deref().is_some_and(daemon));
    let sender_daemon =
        message.sender().into_iter().flat_map(|a| a.iter()).any(|a| a.address.as_deref().is_some_and(daemon));
    if from_daemon || sender_daemon {
        return Some(AutomaticReason::DaemonSender);
    }
    if values("return-path").any(|v| v.chars().filter(|c| !c.is_whitespace()).collect::<String>() == "<>") {
        return Some(AutomaticReason::NullReturnPath);
    }
    if present("list-id") || present("list-unsubscribe") {
        return Some(AutomaticReason::MailingList);
    }
    if values("precedence").any(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "bulk" || v == "junk" || v == "list"
    }) {
        return Some(AutomaticReason::BulkPrecedence);
    }
    None
}

fn unfold(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn report_kind(message: &Message<'_>) -> Option<AutomaticReason> {
    let root = message.root_part();
    let is_report = root.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let report_type = root.content_type().and_then(|ct| ct.attribute("report-type")).map(str::to_ascii_lowercase);
    let has_status_part = message.parts.iter().any(|p| {
        !matches!(p.body, PartType::Multipart(_))
            && p.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
            })
    });
    if has_status_part || (is_report && report_type.as_deref() == Some("delivery-status")) {
        Some(AutomaticReason::DeliveryReport)
    } else if is_report {
        Some(AutomaticReason::OtherReport)
    } else {
        None
    }
}
