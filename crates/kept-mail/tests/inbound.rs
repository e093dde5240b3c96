//! The hand-written corpus under tests/corpus: exact values for each message, plus a proptest
//! that arbitrary bytes and mutated corpus files never make `parse` panic.

use kept_mail::Mailbox;
use kept_mail::inbound::{AutomaticReason, InboundMail, Limits, parse, strip_quoted_reply};
use proptest::prelude::*;

const PDF_LEN: usize = 125;

fn raw(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

fn ok(name: &str) -> InboundMail {
    parse(&raw(name), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn mb(email: &str, name: Option<&str>) -> Mailbox {
    Mailbox { email: email.into(), name: name.map(Into::into) }
}

fn attachments(m: &InboundMail) -> Vec<(&str, &str, usize, bool)> {
    m.attachments.iter().map(|a| (a.filename.as_str(), a.content_type.as_str(), a.bytes.len(), a.inline)).collect()
}

#[test]
fn gmail_reply_quoted_printable() {
    let m = ok("gmail_reply_qp.eml");
    assert_eq!(m.subject, "Re: Printer on floor 2 [#1041]");
    assert_eq!(m.case_reference, Some(1041));
    assert_eq!(m.from, mb("anna.schmidt@example.com", Some("Anna Schmidt")));
    assert_eq!(m.to, vec![mb("support@kept.example", Some("Kept Support"))]);
    assert_eq!(m.cc, vec![mb("tom.berger@example.com", Some("Berger, Tom")), mb("it-team@example.com", None)]);
    assert_eq!(m.message_id.as_deref(), Some("CAJx8k+QW3pn2=Yf0m_T8-4h@mail.gmail.com"));
    assert_eq!(m.in_reply_to, vec!["c1041.n2.77aa@kept.example"]);
    assert_eq!(m.references, vec!["c1041.n1.9f8e@kept.example", "c1041.n2.77aa@kept.example"]);
    assert_eq!(m.date, Some(1_793_697_739_000)); // 2026-11-03T09:22:19Z
    assert!(m.text.contains("turning it off and on again – no luck."), "{}", m.text);
    assert!(!m.text.contains('\r'));
    assert_eq!(
        strip_quoted_reply(&m.text),
        "Hi,\n\nthe printer on floor 2 is jammed again and shows error E-52. I've already tried turning it off and on again – no luck.\n\nThanks,\nAnna"
    );
    let html = m.html.clone().unwrap();
    assert!(html.contains("<blockquote>Hello Anna,"), "{html}");
    assert!(!html.contains("style="), "{html}");
    assert_eq!(m.automatic, None);
    assert!(m.attachments.is_empty() && m.skipped_attachments.is_empty());
}

#[test]
fn outlook_windows_1252() {
    let m = ok("outlook_cp1252.eml");
    assert_eq!(m.subject, "AW: Rechnung März [kept #77]");
    assert_eq!(m.case_reference, Some(77));
    assert_eq!(m.from, mb("joerg.weiss@firma.example", Some("Jörg Weiß")));
    assert_eq!(m.in_reply_to, vec!["c77.n3.1a2b@kept.example"]);
    assert!(m.references.is_empty());
    assert_eq!(
        m.text,
        "Sehr geehrte Damen und Herren,\n\nanbei die Rechnung für März – bitte um „Prüfung“. Betrag: 1.250 €.\n\nMit freundlichen Grüßen\nJörg Weiß\n"
    );
    assert_eq!(
        m.html.as_deref(),
        Some(
            "<p>Sehr geehrte Damen und Herren,</p><p>anbei die Rechnung für März – bitte um „Prüfung“. Betrag: 1.250 €.</p><p>Mit freundlichen Grüßen<br>Jörg Weiß</p>"
        )
    );
}

#[test]
fn apple_mail_base64_with_inline_image() {
    let m = ok("apple_mail_inline_image.eml");
    assert_eq!(m.from, mb("renee@example.fr", Some("Renée Dupont")));
    assert_eq!(m.subject, "Error when saving");
    assert_eq!(m.text, "Hello,\n\nscreenshot of the error below.\n\n[image: error.png]\n\nSent from my Mac\n");
    let html = m.html.clone().unwrap();
    assert!(html.contains(r#"<img src="cid:4F1C2D3E-ABCD-4E5F-9A8B-1234567890AB@home" alt="error.png">"#), "{html}");
    assert_eq!(attachments(&m), vec![("error.png", "image/png", 70, true)]);
    assert_eq!(m.attachments[0].content_id.as_deref(), Some("4F1C2D3E-ABCD-4E5F-9A8B-1234567890AB@home"));
    assert!(m.attachments[0].bytes.starts_with(b"\x89PNG\r\n"));
}

#[test]
fn apple_mail_mixed_inside_alternative() {
    let m = ok("apple_mail_mixed_in_alternative.eml");
    assert_eq!(m.text, "Hier der Vertrag:\n\nBitte bis Freitag prüfen.\n");
    assert_eq!(m.html.as_deref(), Some("<div>Hier der Vertrag:</div>\n<div>Bitte bis Freitag prüfen.</div>"));
    assert_eq!(attachments(&m), vec![("Vertrag 2027.pdf", "application/pdf", PDF_LEN, false)]);
}

#[test]
fn legacy_charsets_decode() {
    let m = ok("latin1_8bit.eml");
    assert_eq!(m.subject, "Grüße aus Köln");
    assert_eq!(m.text, "Grüße aus Köln! Das Gerät zeigt »Fehler 3« - nein, ½ Stunde gewartet.\n");

    let m = ok("iso2022jp.eml");
    assert_eq!(m.subject, "パスワードの再設定");
    assert_eq!(m.from, mb("yamada@example.jp", Some("山田")));
    assert_eq!(m.text, "お世話になっております。\nパスワードの再設定ができません。\n\n山田\n");
    assert_eq!(m.date, Some(1_794_011_400_000)); // 09:30 +0900 = 00:30Z

    let m = ok("shift_jis.eml");
    assert_eq!(m.subject, "請求書");
    assert_eq!(m.text, "請求書を添付します。\n");
    assert_eq!(m.message_id, None);

    let m = ok("koi8r.eml");
    assert_eq!(m.subject, "Принтер");
    assert_eq!(m.text, "Здравствуйте! Не работает принтер.\n");
}

#[test]
fn encoded_words_split_and_mixed() {
    let m = ok("encoded_words_mixed.eml");
    assert_eq!(m.subject, "Größe ✓ — na schön€ und plain words");
    assert_eq!(m.from, mb("zoe@example.ie", Some("Zoë O'Neil")));
    assert_eq!(m.date, Some(1_794_240_671_000)); // 11:11:11 -0500
}

#[test]
fn rfc2231_filenames_and_pdf() {
    let m = ok("rfc2231_pdf.eml");
    assert_eq!(m.text, "Please find the invoice attached.\n");
    assert_eq!(
        attachments(&m),
        vec![
            ("Rechnung Größe ✓.pdf", "application/pdf", PDF_LEN, false),
            ("Liste März.csv", "text/csv", 17, false),
            ("passwd", "application/octet-stream", 10, false),
            ("attachment-4", "application/octet-stream", 16, false),
        ]
    );
    assert!(m.attachments[0].bytes.starts_with(b"%PDF-1.4"));
    assert_eq!(m.attachments[1].bytes, "name;größe\nA;1\n".as_bytes());
}

#[test]
fn oversized_attachments_are_skipped_not_fatal() {
    let limits = Limits { max_attachment_bytes: 100, max_total_bytes: 1 << 20 };
    let m = parse(&raw("rfc2231_pdf.eml"), &limits).unwrap();
    let names: Vec<_> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, vec!["Liste März.csv", "passwd", "attachment-4"]);
    assert_eq!(m.skipped_attachments.len(), 1);
    assert_eq!(m.skipped_attachments[0].filename, "Rechnung Größe ✓.pdf");
    assert_eq!(m.skipped_attachments[0].size, PDF_LEN);
    assert_eq!(m.skipped_attachments[0].reason, "too_large");

    let raw = raw("rfc2231_pdf.eml");
    let err = parse(&raw, &Limits { max_attachment_bytes: 100, max_total_bytes: 100 }).unwrap_err();
    assert_eq!(err.code(), "too_large");
}

#[test]
fn forwarded_message_and_its_attachment() {
    let m = ok("forward_rfc822.eml");
    assert_eq!(m.subject, "Fwd: Contract renewal");
    assert_eq!(m.text, "See the forwarded message from the vendor.\n");
    assert_eq!(
        attachments(&m),
        vec![
            ("Contract renewal.eml", "message/rfc822", 670, true),
            ("contract.pdf", "application/pdf", PDF_LEN, false)
        ]
    );
    let inner = parse(&m.attachments[0].bytes, &Limits::default()).unwrap();
    assert_eq!(inner.from, mb("sales@vendor.example", Some("Vendor Sales")));
    assert_eq!(inner.text, "Your contract ends on 31 December.\n");
}

#[test]
fn html_only_is_sanitised_and_gets_text() {
    let m = ok("html_only_script.eml");
    assert_eq!(
        m.text,
        "My order **#5531** never arrived.\n\n[Order page][1] click\n\n[1]: https://shop.example/orders/5531"
    );
    let html = m.html.clone().unwrap();
    assert_eq!(
        html,
        "<p>My order <b>#5531</b> never arrived.</p>\n<p><a href=\"https://shop.example/orders/5531\" rel=\"noopener noreferrer\">Order page</a> <a rel=\"noopener noreferrer\">click</a></p>\n<img height=\"1\" width=\"1\">"
    );
}

#[test]
fn automatic_mail_is_recognised() {
    let m = ok("bounce_dsn.eml");
    assert_eq!(m.automatic, Some(AutomaticReason::DeliveryReport));
    assert_eq!(m.automatic.unwrap().as_str(), "delivery_report");
    assert_eq!(m.from, mb("mailer-daemon@mx.kept.example", Some("Mail Delivery System")));
    assert_eq!(m.case_reference, None, "the bounced subject is inside the report, not the bounce's subject");
    assert_eq!(
        attachments(&m),
        vec![
            ("attachment-1", "message/delivery-status", 215, false),
            ("attachment-2", "text/rfc822-headers", 139, false)
        ]
    );

    let m = ok("out_of_office.eml");
    assert_eq!(m.automatic, Some(AutomaticReason::AutoSubmitted));
    assert_eq!(m.automatic.unwrap().as_str(), "auto_submitted");
    assert_eq!(m.case_reference, Some(88));
    assert_eq!(m.in_reply_to, vec!["c88.n1.ff@kept.example"]);
    assert_eq!(m.text, "Ich bin bis 20.11. nicht im Büro.\n");

    let m = ok("mailing_list.eml");
    assert_eq!(m.automatic.map(AutomaticReason::as_str), Some("mailing_list"));
    assert_eq!(m.case_reference, None);

    for name in ["gmail_reply_qp.eml", "outlook_cp1252.eml", "forward_rfc822.eml", "html_only_script.eml"] {
        assert_eq!(ok(name).automatic, None, "{name}");
    }
}

fn with_headers(headers: &str) -> InboundMail {
    let raw = format!("From: Someone <someone@example.com>\r\n{headers}Subject: Out of office\r\n\r\nbody\r\n");
    parse(raw.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{headers}: {e}"))
}

#[test]
fn automatic_rules_one_by_one() {
    let code = |h: &str| with_headers(h).automatic.map(AutomaticReason::as_str);
    assert_eq!(code(""), None, "an auto-reply subject alone is not enough");
    assert_eq!(code("Auto-Submitted: no\r\n"), None);
    assert_eq!(code("Auto-Submitted: auto-generated; owner-email=\"x@y\"\r\n"), Some("auto_submitted"));
    assert_eq!(code("Precedence: bulk\r\n"), Some("bulk_precedence"));
    assert_eq!(code("Precedence: JUNK\r\n"), Some("bulk_precedence"));
    assert_eq!(code("Precedence: first-class\r\n"), None);
    assert_eq!(code("List-Unsubscribe: <mailto:x@y>\r\n"), Some("mailing_list"));
    assert_eq!(code("Return-Path: <>\r\n"), Some("null_return_path"));
    assert_eq!(code("Return-Path: <someone@example.com>\r\n"), None);
    assert_eq!(code("X-Autoreply: yes\r\n"), Some("auto_reply_header"));
    assert_eq!(code("X-Autorespond: yes\r\n"), Some("auto_reply_header"));
    assert_eq!(code("Sender: postmaster@example.com\r\n"), Some("daemon_sender"));
    assert_eq!(
        code("Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n"),
        Some("other_report")
    );
}

#[test]
fn malformed_headers_are_tolerated() {
    let m = ok("malformed_headers.eml");
    // Repeated headers: mail-parser keeps the last From and Subject.
    assert_eq!(m.from, mb("second@weird.example", None));
    assert_eq!(m.subject, "second subject");
    assert_eq!(m.to, vec![mb("support@kept.example", None), mb("also@kept.example", None)]);
    // Raw 8-bit bytes in a header are not UTF-8: they become U+FFFD, the rest survives.
    assert_eq!(m.cc, vec![mb("jose@weird.example", Some("Jos\u{fffd} Garc\u{fffd}a"))]);
    assert_eq!(m.message_id.as_deref(), Some("no-brackets-id@weird.example"));
    assert_eq!(m.references, vec!["a@x", "b@y"]);
    assert_eq!(m.date, None, "an impossible date is dropped");
    assert_eq!(m.text, "Broken =ZZ quoted = printable and raw \u{fffd} byte soft break.\n");
}

#[test]
fn truncated_base64_keeps_what_decodes() {
    let m = ok("truncated_base64.eml");
    assert_eq!(m.text, "Here are the logs.");
    assert_eq!(attachments(&m), vec![("logs.zip", "application/zip", 73, false)]);
    assert!(m.attachments[0].bytes.starts_with(b"PK\x03\x04"));
}

#[test]
fn refused_messages() {
    let err = |name: &str| parse(&raw(name), &Limits::default()).unwrap_err();
    assert_eq!(err("empty.eml").code(), "empty");
    assert_eq!(err("no_headers.eml").code(), "no_headers");
    assert_eq!(err("no_from.eml").code(), "missing_from");
    let e = err("invalid_from.eml");
    assert_eq!(e.code(), "invalid_from");
    assert_eq!(e.to_string(), "the From address \"not-an-address\" is not a valid email address");
    assert_eq!(parse(b" \r\n\r\n", &Limits::default()).unwrap_err().code(), "empty");
}

const CORPUS: &[&str] = &[
    "apple_mail_inline_image.eml",
    "apple_mail_mixed_in_alternative.eml",
    "bounce_dsn.eml",
    "encoded_words_mixed.eml",
    "forward_rfc822.eml",
    "gmail_reply_qp.eml",
    "html_only_script.eml",
    "iso2022jp.eml",
    "koi8r.eml",
    "latin1_8bit.eml",
    "mailing_list.eml",
    "malformed_headers.eml",
    "out_of_office.eml",
    "outlook_cp1252.eml",
    "rfc2231_pdf.eml",
    "shift_jis.eml",
    "truncated_base64.eml",
];

#[test]
fn corpus_list_is_complete() {
    let mut on_disk: Vec<String> = std::fs::read_dir(format!("{}/tests/corpus", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !["empty.eml", "no_from.eml", "invalid_from.eml", "no_headers.eml"].contains(&n.as_str()))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, CORPUS);
}

/// Inputs the fuzzer found (fuzz/, target `inbound_email`; see RELIABILITY.md), kept as files
/// under tests/regressions. Each must parse or be refused without a panic; the tests run with
/// debug assertions, which is where the first one (a debug assertion in mail-parser) failed.
#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = format!("{}/tests/regressions", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert!(names.contains(&"nested_rfc822_missing_part.eml".to_owned()), "{names:?}");
    for name in names {
        let data = std::fs::read(format!("{dir}/{name}")).unwrap();
        let limits = Limits { max_attachment_bytes: 512, max_total_bytes: 64 * 1024 };
        if let Ok(m) = parse(&data, &limits) {
            let _ = strip_quoted_reply(&m.text);
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = prop::sample::select(vec![
        b"\r\n".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"--".to_vec(),
        b"=?utf-8?B?".to_vec(),
        b"?=".to_vec(),
        b"=".to_vec(),
        b"\r\n ".to_vec(),
        b"Content-Type: multipart/mixed; boundary=x\r\n".to_vec(),
        b"Content-Type: message/rfc822\r\n".to_vec(),
        b"Content-Transfer-Encoding: base64\r\n".to_vec(),
        b"charset=iso-2022-jp".to_vec(),
        b"\x1b$B".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        b"filename*0*=utf-8''%".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop_oneof![tokens, prop::collection::vec(any::<u8>(), 0..16)])
            .prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(mut data: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = data.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if !data.is_empty() {
                    let i = i % data.len();
                    data[i] ^= b;
                }
            }
            Mutation::Insert(i, t) => {
                let i = i % (data.len() + 1);
                data.splice(i..i, t.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = i % len;
                let end = (i + n).min(data.len());
                if i < end {
                    data.drain(i..end);
                }
            }
            Mutation::Truncate(i) => data.truncate(i % len),
            Mutation::Duplicate(i, n) => {
                let i = i % len;
                let end = (i + n).min(data.len());
                if i < end {
                    let copy = data[i..end].to_vec();
                    data.splice(end..end, copy);
                }
            }
        }
    }
    data
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse(&bytes, &Limits::default());
    }

    #[test]
    fn mutated_corpus_never_panics(
        file in prop::sample::select(CORPUS),
        mutations in prop::collection::vec(mutation(), 1..8),
        max_attachment in 0usize..300,
    ) {
        let data = apply(raw(file), &mutations);
        let limits = Limits { max_attachment_bytes: max_attachment, max_total_bytes: 1 << 20 };
        if let Ok(m) = parse(&data, &limits) {
            prop_assert!(m.from.email.contains('@'));
            for a in &m.attachments {
                prop_assert!(a.bytes.len() <= max_attachment);
                prop_assert!(!a.filename.is_empty() && !a.filename.contains(['/', '\\']));
                prop_assert!(!a.filename.chars().any(char::is_control));
            }
            let _ = strip_quoted_reply(&m.text);
        }
    }

    #[test]
    fn strip_quoted_reply_keeps_new_text(text in "[a-zA-Z .,>\n-]{0,200}") {
        let out = strip_quoted_reply(&text);
        let has_content = text.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('>'));
        if has_content {
            prop_assert!(!out.trim().is_empty());
        }
    }
}
