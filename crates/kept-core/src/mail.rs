//! What kept writes to customers and staff by email: the words, in a text
//! and an HTML part, and how each message threads. Sending (SMTP, From,
//! Date) is kept-server's; this module only composes.

use serde::{Deserialize, Serialize};

/// An email waiting in the outbox. The sender adds From, Date and the
/// Message-ID recorded with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub to_email: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Set on kept's own notices (acknowledgements, notifications, surveys) so
    /// that well-behaved auto-responders do not answer them (RFC 3834).
    pub auto_submitted: bool,
}

impl Envelope {
    /// A message whose HTML part is the text, escaped, in paragraphs.
    pub fn plain(to_email: &str, to_name: Option<&str>, subject: String, text: String) -> Self {
        let html = text_to_html(&text);
        Self {
            to_email: to_email.to_owned(),
            to_name: to_name.map(str::to_owned),
            subject,
            text,
            html,
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: true,
        }
    }

    /// Threads this message after `earlier` (oldest first): In-Reply-To the
    /// newest, References all of them.
    pub fn threaded(mut self, earlier: Vec<String>) -> Self {
        self.in_reply_to = earlier.last().cloned();
        self.references = earlier;
        self
    }
}

/// The subject of mail about a case: the reference in front lets a reply
/// find its case even when a mail client drops the threading headers.
pub fn case_subject(case: i64, subject: &str) -> String {
    let tag = format!("[#{case}]");
    if subject.contains(&tag) { subject.to_owned() } else { format!("{tag} {subject}") }
}

/// An agent's public reply, sent to the requester.
pub fn reply(case: i64, subject: &str, agent: &str, body: &str) -> (String, String) {
    let subject = format!("Re: {}", case_subject(case, subject));
    let text = format!(
        "{body}\n\n-- \n{agent}\nReply to this email to add to case #{case}; please keep the [#{case}] in the subject."
    );
    (subject, text)
}

/// The acknowledgement of a new case, with the promise of a first reply.
pub fn acknowledgement(case: i64, subject: &str, reply_by: Option<&str>) -> (String, String) {
    let promise = match reply_by {
        Some(when) => format!("We will reply by {when}."),
        None => "We will reply as soon as we can.".to_owned(),
    };
    let text = format!(
        "Thank you for your message. We have opened case #{case} for it.\n\n{promise}\n\nReply to this email to add \
         to the case; please keep the [#{case}] in the subject."
    );
    (format!("Re: {}", case_subject(case, subject)), text)
}

/// A promise an agent made to the customer ("we will call you back by …").
pub fn promise_notice(case: i64, subject: &str, what: &str, by_when: &str) -> (String, String) {
    let text = format!(
        "About case #{case}: {what}, by {by_when}.\n\nWe will let you know when it is done. Reply to this email to add \
         to the case; please keep the [#{case}] in the subject."
    );
    (format!("Re: {}", case_subject(case, subject)), text)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Text as HTML: escaped, blank lines separate paragraphs, line breaks kept.
pub fn text_to_html(text: &str) -> String {
    let paragraphs: Vec<String> = text
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p.trim_matches('\n')).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body style=\"font-family: sans-serif\">\n{}\n</body></html>\n",
        paragraphs.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_case_reference_is_added_once() {
        assert_eq!(case_subject(12, "Printer on fire"), "[#12] Printer on fire");
        assert_eq!(case_subject(12, "Re: [#12] Printer on fire"), "Re: [#12] Printer on fire");
        assert_eq!(case_subject(12, "about [#13]"), "[#12] about [#13]");
    }

    #[test]
    fn html_part_escapes_and_keeps_paragraphs() {
        let html = text_to_html("Hi <b>you</b> & co\nline two\n\nsecond \"para\"");
        assert!(html.contains("<p>Hi &lt;b&gt;you&lt;/b&gt; &amp; co<br>\nline two</p>"), "{html}");
        assert!(html.contains("<p>second &quot;para&quot;</p>"), "{html}");
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn threading_points_at_the_newest_and_lists_all() {
        let e = Envelope::plain("a@b.example", None, "s".into(), "t".into()).threaded(vec!["one".into(), "two".into()]);
        assert_eq!(e.in_reply_to.as_deref(), Some("two"));
        assert_eq!(e.references, ["one", "two"]);
        let e = Envelope::plain("a@b.example", None, "s".into(), "t".into()).threaded(vec![]);
        assert_eq!(e.in_reply_to, None);
    }

    #[test]
    fn acknowledgement_states_the_promise() {
        let (subject, text) = acknowledgement(7, "Help", Some("Tue 24 Nov 2026 15:00 UTC"));
        assert_eq!(subject, "Re: [#7] Help");
        assert!(text.contains("We will reply by Tue 24 Nov 2026 15:00 UTC."));
        let (_, text) = acknowledgement(7, "Help", None);
        assert!(text.contains("as soon as we can"));
    }
}
