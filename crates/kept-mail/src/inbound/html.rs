//! HTML bodies: sanitising for display, and deriving text when a message has no text part.

use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::default();
    // Ammonia's defaults already drop <script>, <style> (with their content; <title> is added), event handler and
    // style attributes, forms and iframes, and add rel="noopener noreferrer" to links.
    b.add_clean_content_tags(["title"])
        .add_url_schemes(["cid"])
        .url_relative(UrlRelative::Deny)
        // Remote images are tracking pixels more often than not: only images carried in the
        // message itself (cid:) keep their source. A remote link in <a href> stays a plain link.
        .attribute_filter(|element, attribute, value| {
            if element == "img" && attribute == "src" && !value.trim_start().to_ascii_lowercase().starts_with("cid:") {
                None
            } else {
                Some(value.into())
            }
        });
    b
});

/// Sanitises an HTML body for display inside kept: no scripts, styles, event handlers, forms or
/// frames; links keep `href` (http, https, mailto, …) with `rel="noopener noreferrer"`; images
/// keep their source only for `cid:` (inline attachment) references.
pub fn sanitize_html(html: &str) -> String {
    SANITIZER.clean(html).to_string().trim().to_string()
}

/// Plain text from HTML (wrapped at 100 columns; links listed as footnotes).
pub(super) fn html_to_text(html: &str) -> String {
    match html2text::from_read(html.as_bytes(), 100) {
        Ok(text) => text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim().to_string(),
        Err(_) => Builder::empty().clean(html).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_html_is_removed() {
        let out = sanitize_html(
            r#"<p onclick="steal()" style="color:red">Hi <a href="https://ex.com/x" onmouseover="x()">link</a></p>
<script>alert(1)</script><style>p{}</style><img src="https://track.example/p.gif"><img src="cid:logo@x" alt="logo">
<a href="javascript:alert(1)">js</a><iframe src="https://ex.com"></iframe><form><input></form>"#,
        );
        for bad in [
            "onclick",
            "onmouseover",
            "script",
            "alert",
            "style",
            "track.example",
            "javascript",
            "iframe",
            "form",
            "input",
        ] {
            assert!(!out.contains(bad), "{bad} in {out}");
        }
        assert!(out.contains(r#"<a href="https://ex.com/x" rel="noopener noreferrer">link</a>"#), "{out}");
        assert!(out.contains(r#"src="cid:logo@x""#), "{out}");
    }

    #[test]
    fn text_from_html() {
        assert_eq!(html_to_text("<p>Hello <b>there</b></p><p>Second</p>"), "Hello **there**\n\nSecond");
    }
}
