//! Sending through SmtpSender to the Sink over real loopback TCP, then parsing what arrived.

use std::time::Duration;

use kept_mail::Mailbox;
use kept_mail::inbound::{self, AutomaticReason, Limits};
use kept_mail::outbound::{OutgoingMail, Security, SmtpConfig, SmtpSender, new_message_id, to_rfc5322};
use kept_mail::sink::{Mode, Sink};

const SECRET: &str = "s3cr3t-Pa55word!";

fn mail() -> OutgoingMail {
    OutgoingMail {
        from: Mailbox { email: "support@kept.example".into(), name: Some("Kept Support – Größe".into()) },
        to: vec![Mailbox { email: "jürgen@example.com".replace('ü', "u"), name: Some("Jürgen Müller".into()) }],
        reply_to: Some(Mailbox { email: "reply+42@kept.example".into(), name: None }),
        subject: "Ihre Anfrage – Größe ✓ [kept #42]".into(),
        text: "Hallo Jürgen,\n\nwir haben Ihre Anfrage erhalten.\n.\n.. dot lines survive\n".into(),
        html: "<p>Hallo J&uuml;rgen,</p><p>wir haben Ihre Anfrage <b>erhalten</b>.</p>".into(),
        message_id: new_message_id("kept.example", "c42.n7.ab12cd"),
        in_reply_to: Some("CAF=orig@mail.gmail.com".into()),
        references: vec!["first@example.com".into(), "CAF=orig@mail.gmail.com".into()],
        auto_submitted: true,
        date_ms: 1_790_000_000_123,
        list_unsubscribe: Some("<https://kept.example/u/abc>".into()),
    }
}

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        username: None,
        password: None,
        timeout_secs: 5,
        hello_name: Some("kept.test".into()),
    }
}

#[test]
fn message_ids() {
    assert_eq!(new_message_id("kept.example", "abc123"), "abc123@kept.example");
    assert_eq!(new_message_id(" kept.example ", "a b<c>"), "a-b-c-@kept.example");
    assert_eq!(new_message_id("", ""), "kept@localhost");
}

#[test]
fn rfc5322_round_trips_through_the_parser() {
    let raw = to_rfc5322(&mail()).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.is_ascii(), "headers and bodies are 7-bit safe");
    assert!(text.contains("Message-ID: <c42.n7.ab12cd@kept.example>"), "{text}");
    assert!(text.contains("In-Reply-To: <CAF=orig@mail.gmail.com>"), "{text}");
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    assert!(text.contains("List-Unsubscribe: <https://kept.example/u/abc>"), "{text}");
    assert!(text.contains("Subject: Ihre Anfrage =?utf-8?b?"), "encoded-word subject: {text}");
    assert!(text.contains("multipart/alternative"), "{text}");

    let parsed = inbound::parse(&raw, &Limits::default()).unwrap();
    assert_eq!(parsed.subject, "Ihre Anfrage – Größe ✓ [kept #42]");
    assert_eq!(parsed.case_reference, Some(42));
    assert_eq!(parsed.from.email, "support@kept.example");
    assert_eq!(parsed.from.name.as_deref(), Some("Kept Support – Größe"));
    assert_eq!(parsed.to[0].name.as_deref(), Some("Jürgen Müller"));
    assert_eq!(parsed.reply_to.unwrap().email, "reply+42@kept.example");
    assert_eq!(parsed.date, Some(1_790_000_000_000), "Date has second precision");
    assert_eq!(parsed.automatic, Some(AutomaticReason::AutoSubmitted));
}

#[test]
fn invalid_input_is_refused() {
    let mut m = mail();
    m.to[0].email = "not an address".into();
    assert_eq!(to_rfc5322(&m).unwrap_err().code(), "invalid_address");
    let mut m = mail();
    m.to.clear();
    assert_eq!(to_rfc5322(&m).unwrap_err().code(), "no_recipient");
    let mut m = mail();
    m.in_reply_to = Some("a b".into());
    assert_eq!(to_rfc5322(&m).unwrap_err().code(), "invalid_header");
    let mut m = mail();
    m.list_unsubscribe = Some("<x>\r\nBcc: victim@example.com".into());
    assert_eq!(to_rfc5322(&m).unwrap_err().code(), "invalid_header");
}

#[test]
fn outgoing_mail_is_json_storable() {
    let m = mail();
    let json = serde_json::to_string(&m).unwrap();
    assert_eq!(serde_json::from_str::<OutgoingMail>(&json).unwrap(), m);
}

#[tokio::test]
async fn delivers_to_the_sink() {
    let sink = Sink::start().await;
    let sender = SmtpSender::new(config(sink.port())).unwrap();
    sender.send(&mail()).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].envelope_from, "support@kept.example");
    assert_eq!(got[0].recipients, vec!["jurgen@example.com".to_string()]);
    assert_eq!(got[0].authenticated_as, None);

    let parsed = inbound::parse(&got[0].data, &Limits::default()).unwrap();
    assert_eq!(parsed.subject, "Ihre Anfrage – Größe ✓ [kept #42]");
    assert_eq!(parsed.message_id.as_deref(), Some("c42.n7.ab12cd@kept.example"));
    assert_eq!(parsed.in_reply_to, vec!["CAF=orig@mail.gmail.com"]);
    assert_eq!(parsed.references, vec!["first@example.com", "CAF=orig@mail.gmail.com"]);
    assert_eq!(parsed.automatic, Some(AutomaticReason::AutoSubmitted));
    assert_eq!(
        parsed.text.replace("\r\n", "\n"),
        "Hallo Jürgen,\n\nwir haben Ihre Anfrage erhalten.\n.\n.. dot lines survive\n"
    );
    let html = parsed.html.unwrap();
    assert!(html.contains("<b>erhalten</b>") && html.contains("Jürgen"), "{html}");
    assert!(parsed.attachments.is_empty());

    // The connection is pooled; a second message goes through as well.
    let mut second = mail();
    second.auto_submitted = false;
    second.list_unsubscribe = None;
    second.message_id = new_message_id("kept.example", "second");
    sender.send(&second).await.unwrap();
    let got = sink.wait_for(2, Duration::from_secs(5)).await;
    let parsed = inbound::parse(&got[1].data, &Limits::default()).unwrap();
    assert_eq!(parsed.automatic, None);
    assert_eq!(parsed.message_id.as_deref(), Some("second@kept.example"));
}

#[tokio::test]
async fn temporary_failure_is_transient() {
    let sink = Sink::start().await;
    sink.set_mode(Mode::TempFail);
    let err = SmtpSender::new(config(sink.port())).unwrap().send(&mail()).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert_eq!(err.code, Some(451));
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn permanent_failure_is_permanent() {
    let sink = Sink::start().await;
    sink.set_mode(Mode::PermFail);
    let err = SmtpSender::new(config(sink.port())).unwrap().send(&mail()).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(err.code, Some(550));
}

#[tokio::test]
async fn dropped_connection_is_transient() {
    let sink = Sink::start().await;
    sink.set_mode(Mode::Drop);
    let err = SmtpSender::new(config(sink.port())).unwrap().send(&mail()).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
}

#[tokio::test]
async fn closed_port_is_transient() {
    let port = {
        let sink = Sink::start().await;
        sink.port()
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut cfg = config(port);
    cfg.username = Some("kept".into());
    cfg.password = Some(SECRET.into());
    let err = SmtpSender::new(cfg).unwrap().send(&mail()).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert!(!format!("{err} {err:?}").contains(SECRET));
}

#[tokio::test]
async fn invalid_recipient_is_permanent() {
    let sink = Sink::start().await;
    let mut m = mail();
    m.to[0].email = "no-at-sign".into();
    let err = SmtpSender::new(config(sink.port())).unwrap().send(&m).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
}

#[tokio::test]
async fn authenticates_when_configured() {
    let sink = Sink::start_with_auth("kept", SECRET).await;
    let mut cfg = config(sink.port());
    cfg.username = Some("kept".into());
    cfg.password = Some(SECRET.into());
    let sender = SmtpSender::new(cfg.clone()).unwrap();
    assert!(!format!("{sender:?} {cfg:?}").contains(SECRET));
    sender.send(&mail()).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].authenticated_as.as_deref(), Some("kept"));

    cfg.password = Some("wrong-password".into());
    let err = SmtpSender::new(cfg.clone()).unwrap().send(&mail()).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(err.code, Some(535));
    assert!(!format!("{err} {err:?}").contains("wrong-password"));

    // Without credentials the sink refuses MAIL FROM with 530.
    let err = SmtpSender::new(config(sink.port())).unwrap().send(&mail()).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn sink_speaks_smtp_by_hand() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let sink = Sink::start().await;
    let stream = tokio::net::TcpStream::connect(sink.addr()).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    let mut expect = async |send: &str, code: &str| {
        if !send.is_empty() {
            w.write_all(send.as_bytes()).await.unwrap();
        }
        loop {
            line.clear();
            r.read_line(&mut line).await.unwrap();
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        assert!(line.starts_with(code), "{send:?} -> {line:?}");
    };
    expect("", "220").await;
    expect("HELO me\r\n", "250").await;
    expect("RCPT TO:<x@y>\r\n", "503").await;
    expect("NOOP\r\n", "250").await;
    expect("MAIL FROM:<>\r\n", "250").await;
    expect("RSET\r\n", "250").await;
    expect("DATA\r\n", "503").await;
    expect("MAIL FROM:<a@b>\r\n", "250").await;
    expect("RCPT TO:<c@d>\r\n", "250").await;
    expect("RCPT TO:<e@f>\r\n", "250").await;
    expect("DATA\r\n", "354").await;
    expect("Subject: x\r\n\r\n..leading dot\r\n.\r\n", "250").await;
    expect("AUTH PLAIN AGtlcHQAcw==\r\n", "502").await;
    expect("BOGUS\r\n", "502").await;
    expect("QUIT\r\n", "221").await;
    let got = sink.messages();
    assert_eq!(got[0].envelope_from, "a@b");
    assert_eq!(got[0].recipients, vec!["c@d", "e@f"]);
    assert_eq!(got[0].data, b"Subject: x\r\n\r\n.leading dot\r\n");
}
