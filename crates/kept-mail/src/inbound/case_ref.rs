//! Case references in subjects.

/// Finds a kept case number in a subject.
///
/// Accepted forms, anywhere in the subject, the first match wins:
/// * `[#123]`
/// * `[kept #123]`, also `[kept#123]` and `[Kept  #123]` (`kept` in any case, optional spaces
///   between it and `#`)
///
/// The number must be 1 to 18 digits and greater than zero. Other numbers (`#123` without
/// brackets, `[123]`, `[ticket #123]`, `[#12a]`) are ignored.
pub fn find_case_reference(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(start) = rest.find('[') {
        rest = &rest[start + 1..];
        if let Some(n) = reference_at(rest) {
            return Some(n);
        }
    }
    None
}

/// `rest` starts just after a `[`.
fn reference_at(rest: &str) -> Option<i64> {
    let mut s = rest;
    if s.len() >= 4 && s.is_char_boundary(4) && s[..4].eq_ignore_ascii_case("kept") {
        s = s[4..].trim_start_matches(' ');
    }
    let s = s.strip_prefix('#')?;
    let end = s.find(']')?;
    let digits = &s[..end];
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::find_case_reference as f;

    #[test]
    fn accepted_forms() {
        assert_eq!(f("Re: Printer broken [#123]"), Some(123));
        assert_eq!(f("[kept #42] Re: VPN"), Some(42));
        assert_eq!(f("[KEPT#7]"), Some(7));
        assert_eq!(f("AW: [Kept  #9001] Rechnung"), Some(9001));
        assert_eq!(f("Re: [ext] [#5] two brackets"), Some(5));
    }

    #[test]
    fn other_numbers_are_ignored() {
        for s in [
            "Order #123",
            "[123]",
            "[ticket #123]",
            "[#]",
            "[#12a]",
            "[#0]",
            "[# 12]",
            "[#1234567890123456789]",
            "[kept #12",
            "[",
            "[kep",
        ] {
            assert_eq!(f(s), None, "{s}");
        }
    }
}
