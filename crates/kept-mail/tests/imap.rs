//! Polling through kept_mail::imap against the ImapSink over real loopback TCP.

use kept_mail::imap::{Fetched, ImapConfig, ImapErrorKind, ImapSecurity, fetch_unseen, mark_seen};
use kept_mail::imap_sink::ImapSink;
use kept_mail::inbound::{Limits, parse};

const USER: &str = "desk@kept.test";
/// A quote, a backslash and a space: async-imap must quote it, the sink must unquote it.
const SECRET: &str = r#"s3cr"t\Pa55 word!"#;

fn config(port: u16, password: &str) -> ImapConfig {
    ImapConfig {
        host: "127.0.0.1".into(),
        port,
        security: ImapSecurity::None,
        username: USER.into(),
        password: password.into(),
        mailbox: "INBOX".into(),
        timeout_secs: 5,
    }
}

fn plain() -> Vec<u8> {
    b"From: Anna <anna@example.com>\r\nTo: support@kept.example\r\nSubject: Printer\r\n\
      Message-ID: <m1@example.com>\r\nDate: Tue, 03 Nov 2026 09:22:19 +0000\r\n\r\n\
      The printer on floor 2 is jammed.\r\n"
        .to_vec()
}

/// multipart/mixed with a PDF attachment, an 8-bit ISO-8859-1 part (raw 0xE9, not UTF-8) and
/// body lines that look like IMAP syntax, to prove the literal is passed through untouched.
fn with_attachment() -> Vec<u8> {
    let mut raw = b"From: Tom <tom@example.com>\r\nTo: support@kept.example\r\nSubject: Invoice\r\n\
      Message-ID: <m2@example.com>\r\nDate: Tue, 03 Nov 2026 09:30:00 +0000\r\nMIME-Version: 1.0\r\n\
      Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
      Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
      Caf"
    .to_vec();
    raw.push(0xE9);
    raw.extend_from_slice(
        b" invoice attached.\r\n)\r\n* 9 FETCH (UID 99 BODY[] {3}\r\nA0004 OK done\r\n\r\n--b1\r\n\
          Content-Type: application/pdf; name=\"invoice.pdf\"\r\n\
          Content-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
          JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK\r\n\
          --b1--\r\n",
    );
    raw
}

fn html() -> Vec<u8> {
    b"From: Eva <eva@example.com>\r\nTo: support@kept.example\r\nSubject: Access\r\n\
      Message-ID: <m3@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
      <p>Please reset my password.</p>"
        .to_vec()
}

async fn sink_with_three() -> (ImapSink, [Vec<u8>; 3]) {
    let sink = ImapSink::start(USER, SECRET).await;
    let messages = [plain(), with_attachment(), html()];
    for (i, raw) in messages.iter().enumerate() {
        assert_eq!(sink.add_message(raw), i as u32 + 1);
    }
    (sink, messages)
}

fn uids(fetched: &[Fetched]) -> Vec<u32> {
    fetched.iter().map(|f| f.uid).collect()
}

#[tokio::test]
async fn fetch_returns_exact_bytes_oldest_first_and_leaves_them_unseen() {
    let (sink, messages) = sink_with_three().await;
    let cfg = config(sink.port(), SECRET);

    let first = fetch_unseen(&cfg, 10).await.unwrap();
    assert_eq!(uids(&first), vec![1, 2, 3]);
    for (fetched, raw) in first.iter().zip(&messages) {
        assert_eq!(&fetched.raw, raw, "uid {} arrives byte for byte", fetched.uid);
    }
    assert!((1..=3).all(|uid| !sink.seen(uid)), "BODY.PEEK[] must not set \\Seen");

    let again = fetch_unseen(&cfg, 10).await.unwrap();
    assert_eq!(again, first, "nothing was marked, so the same three come back");

    let mail = parse(&first[1].raw, &Limits::default()).unwrap();
    assert_eq!(mail.message_id.as_deref(), Some("m2@example.com"));
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(mail.attachments[0].filename, "invoice.pdf");
    assert!(mail.text.contains("Café invoice attached."), "{}", mail.text);

    // What async-imap sends: no CAPABILITY or ID first, tags A0001…, quoted strings, and the
    // UID set as kept_mail folds it.
    let expected = [
        format!(r#"A0001 LOGIN "{USER}" <password>"#),
        "A0002 SELECT \"INBOX\"".into(),
        "A0003 UID SEARCH UNSEEN".into(),
        "A0004 UID FETCH 1:3 BODY.PEEK[]".into(),
        "A0005 LOGOUT".into(),
    ];
    let commands = sink.commands();
    assert_eq!(commands.len(), 10, "{commands:#?}");
    assert_eq!(commands[..5], expected, "{commands:#?}");
    assert_eq!(commands[5..], expected, "{commands:#?}");
}

#[tokio::test]
async fn mark_seen_hides_messages_from_the_next_fetch() {
    let (sink, messages) = sink_with_three().await;
    let cfg = config(sink.port(), SECRET);
    let fetched = fetch_unseen(&cfg, 10).await.unwrap();

    mark_seen(&cfg, &[fetched[1].uid, fetched[0].uid]).await.unwrap();
    assert!(sink.seen(1) && sink.seen(2) && !sink.seen(3));
    assert_eq!(
        sink.commands().iter().filter(|c| c.contains("STORE")).collect::<Vec<_>>(),
        ["A0003 UID STORE 1:2 +FLAGS (\\Seen)"]
    );

    let rest = fetch_unseen(&cfg, 10).await.unwrap();
    assert_eq!(rest, vec![Fetched { uid: 3, raw: messages[2].clone() }]);

    mark_seen(&cfg, &[3, 3]).await.unwrap();
    assert_eq!(fetch_unseen(&cfg, 10).await.unwrap(), vec![]);
    assert!(
        !sink.commands().last().is_some_and(|c| c.contains("FETCH")),
        "an empty search sends no FETCH: {:#?}",
        sink.commands()
    );

    // Nothing to do: no connection at all.
    let before = sink.commands().len();
    mark_seen(&cfg, &[]).await.unwrap();
    assert_eq!(sink.commands().len(), before);
}

#[tokio::test]
async fn max_limits_the_batch_to_the_oldest_unseen() {
    let sink = ImapSink::start(USER, SECRET).await;
    for i in 1..=6 {
        sink.add_message(format!("Subject: {i}\r\nFrom: a@example.com\r\n\r\nbody {i}\r\n").as_bytes());
    }
    let cfg = config(sink.port(), SECRET);
    mark_seen(&cfg, &[2, 4]).await.unwrap();

    let batch = fetch_unseen(&cfg, 3).await.unwrap();
    assert_eq!(uids(&batch), vec![1, 3, 5]);
    assert_eq!(batch[2].raw, b"Subject: 5\r\nFrom: a@example.com\r\n\r\nbody 5\r\n");
    assert!(sink.commands().iter().any(|c| c.ends_with("UID FETCH 1,3,5 BODY.PEEK[]")), "{:#?}", sink.commands());

    assert_eq!(uids(&fetch_unseen(&cfg, 1).await.unwrap()), vec![1]);
    let before = sink.commands().len();
    assert_eq!(fetch_unseen(&cfg, 0).await.unwrap(), vec![]);
    assert_eq!(sink.commands().len(), before, "max 0 does not connect");
}

#[tokio::test]
async fn refused_login_is_permanent_and_never_shows_the_password() {
    let (sink, _) = sink_with_three().await;
    let wrong = r#"wr"ong\Secret 42"#;
    let cfg = config(sink.port(), wrong);
    let err = fetch_unseen(&cfg, 10).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(err.kind, ImapErrorKind::Authentication);
    for shown in [err.to_string(), format!("{err:?}"), format!("{cfg:?}")] {
        assert!(!shown.contains(wrong) && !shown.contains("Secret 42"), "{shown}");
    }
    assert!(err.to_string().starts_with("permanent IMAP failure (authentication)"), "{err}");

    let err = mark_seen(&cfg, &[1]).await.unwrap_err();
    assert!(err.is_permanent() && err.kind == ImapErrorKind::Authentication, "{err}");
    assert!(!sink.seen(1));

    // The right password, but the server refuses anyway.
    sink.set_fail_login(true);
    let err = fetch_unseen(&config(sink.port(), SECRET), 10).await.unwrap_err();
    assert!(err.is_permanent() && err.kind == ImapErrorKind::Authentication, "{err}");
    assert!(!format!("{err} {err:?}").contains(SECRET));
    sink.set_fail_login(false);
    assert_eq!(fetch_unseen(&config(sink.port(), SECRET), 10).await.unwrap().len(), 3);
}

#[tokio::test]
async fn missing_mailbox_is_permanent() {
    let (sink, _) = sink_with_three().await;
    let cfg = ImapConfig { mailbox: "Support".into(), ..config(sink.port(), SECRET) };
    let err = fetch_unseen(&cfg, 10).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(err.kind, ImapErrorKind::Mailbox);
    assert!(err.message.contains("NONEXISTENT"), "{err}");
}

#[tokio::test]
async fn closed_port_is_transient() {
    let port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = fetch_unseen(&config(port, SECRET), 10).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert_eq!(err.kind, ImapErrorKind::Connect);
    assert!(err.to_string().starts_with("transient IMAP failure (connect)"), "{err}");
    let err = mark_seen(&config(port, SECRET), &[1]).await.unwrap_err();
    assert!(!err.is_permanent() && err.kind == ImapErrorKind::Connect, "{err}");
}

#[tokio::test]
async fn tls_against_a_plain_server_fails_the_handshake_transiently() {
    let (sink, _) = sink_with_three().await;
    let cfg = ImapConfig { security: ImapSecurity::Tls, ..config(sink.port(), SECRET) };
    let err = fetch_unseen(&cfg, 10).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert_eq!(err.kind, ImapErrorKind::Tls);
    assert!(sink.commands().iter().all(|c| !c.contains("LOGIN")), "no password sent: {:#?}", sink.commands());

    // A host name that cannot be a TLS server name is a configuration error, found before any
    // connection is tried.
    let cfg = ImapConfig { host: "imap example.com".into(), ..cfg };
    let err = fetch_unseen(&cfg, 10).await.unwrap_err();
    assert!(err.is_permanent() && err.kind == ImapErrorKind::Tls, "{err}");
}

#[tokio::test]
async fn silent_server_times_out_as_transient() {
    // Accepts the connection but never sends a greeting.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let cfg = ImapConfig { timeout_secs: 1, ..config(port, SECRET) };
    let err = fetch_unseen(&cfg, 10).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert_eq!(err.kind, ImapErrorKind::Timeout);
    assert!(err.message.contains("greeting"), "{err}");
    hold.abort();
}

/// The sink itself, spoken to by hand: literals, `*` ranges, BODY[] setting \Seen, .SILENT,
/// and BAD for what it does not implement.
#[tokio::test]
async fn sink_protocol_by_hand() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    let sink = ImapSink::start("u", "p w").await;
    sink.add_message(b"Subject: one\r\n\r\nx\r\n");
    sink.add_message(b"Subject: two\r\n\r\nyz\r\n");
    let stream = tokio::net::TcpStream::connect(sink.addr()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();

    // Reads up to and including the tagged reply, literals included.
    async fn until_tagged<R: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<R>, tag: &str) -> String {
        let mut all = Vec::new();
        loop {
            let mut line = Vec::new();
            reader.read_until(b'\n', &mut line).await.unwrap();
            assert!(!line.is_empty(), "connection closed: {}", String::from_utf8_lossy(&all));
            all.extend_from_slice(&line);
            if line.starts_with(format!("{tag} ").as_bytes()) {
                return String::from_utf8(all).unwrap();
            }
        }
    }

    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("* OK [CAPABILITY IMAP4rev1]"), "{line}");

    write.write_all(b"t1 CAPABILITY\r\nt2 SELECT INBOX\r\n").await.unwrap();
    assert_eq!(until_tagged(&mut reader, "t1").await, "* CAPABILITY IMAP4rev1\r\nt1 OK CAPABILITY completed\r\n");
    assert!(until_tagged(&mut reader, "t2").await.starts_with("t2 BAD"), "SELECT before LOGIN");

    // A synchronising literal for the password (it contains a space).
    write.write_all(b"t3 LOGIN u {3}\r\n").await.unwrap();
    line.clear();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("+ "), "{line}");
    write.write_all(b"p w\r\n").await.unwrap();
    assert_eq!(until_tagged(&mut reader, "t3").await, "t3 OK LOGIN completed\r\n");
    assert_eq!(sink.commands()[2], "t3 LOGIN u <password>");

    write.write_all(b"t4 select inbox\r\n").await.unwrap();
    let select = until_tagged(&mut reader, "t4").await;
    for part in ["* 2 EXISTS\r\n", "[UIDVALIDITY 1]", "[UIDNEXT 3]", "t4 OK [READ-WRITE]"] {
        assert!(select.contains(part), "{part} in {select}");
    }

    write.write_all(b"t5 UID FETCH 2:* (UID RFC822.SIZE BODY[])\r\n").await.unwrap();
    assert_eq!(
        until_tagged(&mut reader, "t5").await,
        "* 2 FETCH (UID 2 RFC822.SIZE 20 BODY[] {20}\r\nSubject: two\r\n\r\nyz\r\n FLAGS (\\Seen))\r\n\
         t5 OK UID FETCH completed\r\n"
    );
    assert!(sink.seen(2), "BODY[] without PEEK sets \\Seen");

    write.write_all(b"t6 UID STORE 1,2 -FLAGS.SILENT (\\Seen)\r\nt7 UID SEARCH UNSEEN\r\n").await.unwrap();
    assert_eq!(until_tagged(&mut reader, "t6").await, "t6 OK UID STORE completed\r\n");
    assert_eq!(until_tagged(&mut reader, "t7").await, "* SEARCH 1 2\r\nt7 OK UID SEARCH completed\r\n");

    write.write_all(b"t8 UID STORE 1 +FLAGS (\\Seen)\r\n").await.unwrap();
    assert_eq!(
        until_tagged(&mut reader, "t8").await,
        "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\nt8 OK UID STORE completed\r\n"
    );

    for bad in [
        "FETCH 1 BODY[]",
        "UID FETCH 1 ENVELOPE",
        "UID STORE 1 +FLAGS (\\Deleted)",
        "UID SEARCH FROM x",
        "IDLE",
        "STARTTLS",
    ] {
        write.write_all(format!("b1 {bad}\r\n").as_bytes()).await.unwrap();
        assert!(until_tagged(&mut reader, "b1").await.starts_with("b1 BAD"), "{bad}");
    }

    write.write_all(b"t9 LOGOUT\r\n").await.unwrap();
    assert_eq!(until_tagged(&mut reader, "t9").await, "* BYE kept-imap-sink logging out\r\nt9 OK LOGOUT completed\r\n");
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "closed after LOGOUT");
}
