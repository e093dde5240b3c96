//! Raw RFC 5322 in, the store's `InboundEmail` out.

use kept_mail::inbound::{InboundError, InboundMail, Limits, parse, strip_quoted_reply};
use kept_store::{InboundAttachment, InboundEmail};

/// Parses `raw` (refusing only what cannot be a message: no headers, no
/// usable From, too large) and shapes it for the store.
pub fn convert(raw: &[u8], limits: &Limits) -> Result<InboundEmail, InboundError> {
    Ok(shape(parse(raw, limits)?))
}

fn shape(mail: InboundMail) -> InboundEmail {
    let mut thread = mail.references.clone();
    for id in &mail.in_reply_to {
        if !thread.contains(id) {
            thread.push(id.clone());
        }
    }
    // A reply carries the whole conversation below it; the case has that
    // already. A first message keeps everything (it may be a forward).
    let continues = !thread.is_empty() || mail.case_reference.is_some();
    let text = if continues { strip_quoted_reply(&mail.text) } else { mail.text.clone() };
    InboundEmail {
        message_id: mail.message_id,
        thread,
        from_email: mail.from.email,
        from_name: mail.from.name,
        subject: mail.subject,
        text,
        automatic: mail.automatic.map(|a| a.as_str().to_owned()),
        case_reference: mail.case_reference,
        attachments: mail
            .attachments
            .into_iter()
            .map(|a| InboundAttachment { filename: a.filename, content_type: a.content_type, bytes: a.bytes })
            .collect(),
        skipped: mail.skipped_attachments.into_iter().map(|s| format!("{} ({} bytes)", s.filename, s.size)).collect(),
    }
}
