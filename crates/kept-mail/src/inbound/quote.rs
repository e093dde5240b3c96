//! Removing the quoted previous message from a reply.

/// Returns the new text of a reply without the quoted previous message.
///
/// Cuts at the first of:
/// * a separator line such as `-----Original Message-----` (also `----- Original Message -----`,
///   `-----Ursprüngliche Nachricht-----`), or an Outlook header block (`From:` followed within
///   three lines by `Sent:`/`Date:`), optionally preceded by a line of underscores;
/// * a trailing block of `>`-quoted lines (and blank lines) at the end of the text, together with
///   the attribution line just before it ("On … wrote:", also wrapped over two lines, and the
///   German "Am … schrieb …:" and French "Le … a écrit :" forms).
///
/// Quotes interleaved with new text are left alone: only the trailing block is removed. Never
/// returns an empty string when the input has non-quoted content: if cutting would leave nothing,
/// the input is returned trimmed.
pub fn strip_quoted_reply(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    let lines: Vec<&str> = normalized.split('\n').collect();
    let mut cut = lines.len();

    if let Some(i) = separator_index(&lines) {
        cut = i;
    }

    // The trailing quote block within what is left.
    let mut start = cut;
    while start > 0 && (lines[start - 1].trim().is_empty() || is_quoted(lines[start - 1])) {
        start -= 1;
    }
    let has_quote = lines[start..cut].iter().any(|l| is_quoted(l));
    if has_quote {
        cut = start;
        if let Some(attr) = attribution_before(&lines, cut) {
            cut = attr;
        }
    } else if let Some(attr) = attribution_before(&lines, cut) {
        // An attribution line directly before a separator-cut or the end.
        if cut < lines.len() {
            cut = attr;
        }
    }

    let kept = lines[..cut].join("\n");
    let kept = kept.trim();
    if kept.is_empty() { normalized.trim().to_string() } else { kept.to_string() }
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn separator_index(lines: &[&str]) -> Option<usize> {
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let dashed = t.starts_with("-----") && t.ends_with("-----");
        let inner = t.trim_matches('-').trim().to_lowercase();
        if dashed
            && matches!(
                inner.as_str(),
                "original message" | "ursprüngliche nachricht" | "message d'origine" | "original-nachricht"
            )
        {
            return Some(i);
        }
        if starts_with_ci(t, "from:") {
            let following = lines.iter().skip(i + 1).take(3);
            if following.map(|l| l.trim()).any(|l| starts_with_ci(l, "sent:") || starts_with_ci(l, "date:")) {
                let underscores = i > 0 && {
                    let prev = lines[i - 1].trim();
                    prev.len() >= 10 && prev.chars().all(|c| c == '_')
                };
                return Some(if underscores { i - 1 } else { i });
            }
        }
    }
    None
}

/// The start of an attribution line (one line or wrapped over two) ending just before `end`,
/// skipping blank lines.
fn attribution_before(lines: &[&str], end: usize) -> Option<usize> {
    let mut j = end;
    while j > 0 && lines[j - 1].trim().is_empty() {
        j -= 1;
    }
    if j == 0 {
        return None;
    }
    let last = lines[j - 1].trim();
    if is_attribution(last) {
        return Some(j - 1);
    }
    if j >= 2 && ends_attribution(last) {
        let joined = format!("{} {}", lines[j - 2].trim(), last);
        if is_attribution(&joined) {
            return Some(j - 2);
        }
    }
    None
}

fn ends_attribution(line: &str) -> bool {
    let l = line.to_lowercase();
    l.ends_with("wrote:")
        || l.ends_with("a écrit :")
        || l.ends_with("a écrit:")
        || (l.contains("schrieb") && l.ends_with(':'))
}

fn is_attribution(line: &str) -> bool {
    (starts_with_ci(line, "on ") || starts_with_ci(line, "am ") || starts_with_ci(line, "le "))
        && ends_attribution(line)
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.is_char_boundary(prefix.len()) && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[cfg(test)]
mod tests {
    use super::strip_quoted_reply as s;

    #[test]
    fn gmail_style() {
        let t = "Thanks, that worked.\r\n\r\nOn Tue, 3 Nov 2026 at 10:00, Kept Support <support@kept.example> wrote:\r\n> Please restart.\r\n>\r\n> Kept\r\n";
        assert_eq!(s(t), "Thanks, that worked.");
    }

    #[test]
    fn wrapped_attribution() {
        let t =
            "Yes.\n\nOn Tue, Nov 3, 2026 at 10:00 AM Kept Support <\nsupport@kept.example> wrote:\n\n> Is it fixed?\n";
        assert_eq!(s(t), "Yes.");
    }

    #[test]
    fn outlook_style() {
        let t = "Still broken.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x\n\nOld text";
        assert_eq!(s(t), "Still broken.");
        let t = "Danke!\n\n________________________________\nFrom: Support <s@k.example>\nSent: Monday\nTo: me\n\nOld";
        assert_eq!(s(t), "Danke!");
    }

    #[test]
    fn interleaved_quotes_stay() {
        let t = "> Which printer?\nThe one on floor 2.\n> Since when?\nToday.";
        assert_eq!(s(t), t);
    }

    #[test]
    fn never_empty() {
        assert_eq!(s("-----Original Message-----\nOnly this"), "-----Original Message-----\nOnly this");
        assert_eq!(s("> all quoted"), "> all quoted");
        assert_eq!(s("plain"), "plain");
        assert_eq!(s(""), "");
    }

    #[test]
    fn german_attribution() {
        let t = "Passt.\n\nAm 03.11.2026 um 10:00 schrieb Kept <s@k.example>:\n> Frage\n";
        assert_eq!(s(t), "Passt.");
    }
}
