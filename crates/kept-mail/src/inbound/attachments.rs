//! Collecting attachments, including those inside forwarded (message/rfc822) messages.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::{Attachment, Limits, SkippedAttachment};

/// Forwarded messages nested deeper than this are kept as `.eml` files but not opened further.
const MAX_DEPTH: usize = 8;

pub(super) fn collect(message: &Message<'_>, limits: &Limits) -> (Vec<Attachment>, Vec<SkippedAttachment>) {
    let mut out = Collector { limits, attachments: Vec::new(), skipped: Vec::new(), counter: 0 };
    out.walk(message, 0);
    (out.attachments, out.skipped)
}

struct Collector<'l> {
    limits: &'l Limits,
    attachments: Vec<Attachment>,
    skipped: Vec<SkippedAttachment>,
    counter: usize,
}

impl Collector<'_> {
    fn walk(&mut self, message: &Message<'_>, depth: usize) {
        for id in &message.attachments {
            let Some(part) = message.parts.get(*id as usize) else { continue };
            match &part.body {
                PartType::Multipart(_) => {}
                PartType::Message(nested) => {
                    // Keep the forwarded message itself (its text is often what matters), then
                    // its own attachments.
                    self.add(part, part.contents(), "message/rfc822".to_string(), nested.subject(), ".eml");
                    if depth < MAX_DEPTH {
                        self.walk(nested, depth + 1);
                    }
                }
                _ => {
                    let ctype = content_type(part);
                    let base64 =
                        part.content_transfer_encoding().is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"));
                    if part.is_encoding_problem && base64 {
                        // mail-parser keeps the undecoded text of a part it could not finish
                        // (typically a truncated message); decode what is there.
                        let decoded = lenient_base64(part.contents());
                        self.add(part, &decoded, ctype, None, "");
                    } else {
                        self.add(part, part.contents(), ctype, None, "");
                    }
                }
            }
        }
    }

    fn add(&mut self, part: &MessagePart<'_>, bytes: &[u8], content_type: String, fallback: Option<&str>, ext: &str) {
        self.counter += 1;
        let given = part.attachment_name().map(sanitize_filename).filter(|n| !n.is_empty());
        let filename = given
            .or_else(|| fallback.map(|f| sanitize_filename(&format!("{f}{ext}"))).filter(|n| n.len() > ext.len()))
            .unwrap_or_else(|| format!("attachment-{}{ext}", self.counter));
        if bytes.len() > self.limits.max_attachment_bytes {
            self.skipped.push(SkippedAttachment { filename, size: bytes.len(), reason: "too_large".to_string() });
            return;
        }
        let inline = match part.content_disposition() {
            Some(d) => d.is_inline(),
            None => part.content_id().is_some(),
        };
        let content_id = part.content_id().map(|c| c.trim().trim_start_matches('<').trim_end_matches('>').to_string());
        self.attachments.push(Attachment { filename, content_type, content_id, bytes: bytes.to_vec(), inline });
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => {
            let sub = ct.subtype().unwrap_or(match ct.ctype() {
                t if t.eq_ignore_ascii_case("text") => "plain",
                _ => "octet-stream",
            });
            format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase()
        }
        None => match part.body {
            PartType::Text(_) => "text/plain".to_string(),
            PartType::Html(_) => "text/html".to_string(),
            _ => "application/octet-stream".to_string(),
        },
    }
}

/// Decodes base64, skipping anything outside the alphabet and stopping at padding; an incomplete
/// final group is dropped.
fn lenient_base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// A file name safe to store and offer for download: the last path component only, no control
/// characters, no leading dots, whitespace collapsed, at most 200 characters. May return "".
pub(crate) fn sanitize_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') { ' ' } else { c })
        .collect();
    let collapsed = crate::collapse_whitespace(&cleaned);
    let trimmed = collapsed.trim_start_matches(['.', ' ']).trim_end_matches(['.', ' ']);
    trimmed.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::sanitize_filename as s;

    #[test]
    fn lenient_base64_decodes_what_is_there() {
        assert_eq!(super::lenient_base64(b"SGVs\r\nbG8="), b"Hello");
        assert_eq!(super::lenient_base64(b"SGVsbG8gV"), b"Hello ");
        assert_eq!(super::lenient_base64(b"!!"), b"");
    }

    #[test]
    fn filenames_are_made_safe() {
        assert_eq!(s("../../etc/passwd"), "passwd");
        assert_eq!(s("C:\\Users\\x\\report.pdf"), "report.pdf");
        assert_eq!(s("a\u{0}b\r\nc.txt"), "a b c.txt");
        assert_eq!(s(".htaccess"), "htaccess");
        assert_eq!(s(".."), "");
        assert_eq!(s("dir/"), "");
        assert_eq!(s("Größe ✓.pdf"), "Größe ✓.pdf");
        assert_eq!(s(&"x".repeat(300)).len(), 200);
    }
}
