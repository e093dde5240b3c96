//! Email end to end: raw messages in through the API, mail out through a
//! real SMTP exchange on loopback (kept-mail's sink), read back with the
//! same parser customers' replies go through.

use super::app::TestApp;
use crate::app_test;
use axum::http::StatusCode;
use jiff::SignedDuration;
use kept_mail::inbound::{InboundMail, Limits, parse};
use kept_mail::outbound::{Security, SmtpConfig, SmtpSender};
use kept_mail::sink::{Mode, Sink};
use serde_json::json;
use std::time::Duration;

fn smtp(sink: &Sink) -> SmtpSender {
    SmtpSender::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: Security::None,
        username: None,
        password: None,
        timeout_secs: 5,
        hello_name: None,
    })
    .unwrap()
}

/// Sends what the outbox holds and returns what the SMTP server received since `seen`.
async fn deliver(app: &TestApp, sink: &Sink, seen: usize) -> Vec<InboundMail> {
    let sent = kept_server::mail::sender::send_due(&app.state, &smtp(sink), "test").await;
    assert!(sent > 0, "nothing was due in the outbox");
    let got = sink.wait_for(seen + sent, Duration::from_secs(5)).await;
    got[seen..].iter().map(|m| parse(&m.data, &Limits::default()).unwrap()).collect()
}

fn email(from: &str, subject: &str, message_id: &str, in_reply_to: Option<&str>, body: &str) -> String {
    let reply = in_reply_to.map(|r| format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n")).unwrap_or_default();
    format!(
        "From: Carol Customer <{from}>\r\nTo: support@kept.localhost\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         {reply}Date: Mon, 3 Jun 2024 13:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7w=\r\n--b1--\r\n"
    )
}

async fn inbound(app: &TestApp, raw: &str) -> crate::api::app::Answer {
    app.call_text("POST", "/api/v1/inbound/email", "admin", "message/rfc822", raw).await
}

app_test!(email_opens_acknowledges_threads_and_replies, async |app: &TestApp| {
    let sink = Sink::start().await;
    let first =
        inbound(app, &email("carol@acme.test", "Printer on fire", "m1@client.test", None, "It is burning.")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["outcome"], "case_opened");
    let case = first.json["case_id"].as_i64().unwrap();
    let detail = app.get(&format!("/api/v1/cases/{case}"), "admin").await;
    assert_eq!(detail.json["channel"], "email");
    assert_eq!(detail.json["account"]["id"], app.fx.acme.id.0, "a new sender joins the account owning the domain");
    // Acme's existing contact sees the new colleague's case; Globex's does not.
    assert_eq!(app.get(&format!("/api/v1/cases/{case}"), "ana").await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/cases/{case}"), "bob").await.status, StatusCode::NOT_FOUND);

    let ack = deliver(app, &sink, 0).await;
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].to[0].email, "carol@acme.test");
    assert_eq!(ack[0].subject, format!("Re: [#{case}] Printer on fire"));
    assert_eq!(ack[0].in_reply_to, ["m1@client.test"]);
    assert_eq!(ack[0].case_reference, Some(case));
    assert!(ack[0].text.contains(&format!("opened case #{case}")), "{}", ack[0].text);
    assert!(ack[0].html.is_some(), "every email has an HTML part");

    let reply =
        app.post(&format!("/api/v1/cases/{case}/messages"), "agent", json!({"body": "Unplug it, please."})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let note = app
        .post(&format!("/api/v1/cases/{case}/messages"), "agent", json!({"body": "internal only", "public": false}))
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    let out = deliver(app, &sink, 1).await;
    assert_eq!(out.len(), 1, "the note is not mailed");
    let sent = &out[0];
    assert_eq!(sent.from.email, "support@kept.localhost");
    assert!(sent.text.starts_with("Unplug it, please."), "{}", sent.text);
    assert_eq!(sent.references[0], "m1@client.test");
    assert_eq!(sent.references.len(), 2, "the customer's email and the acknowledgement");
    let agent_reply_id = sent.message_id.clone().unwrap();

    let promise =
        json!({"kind": "callback", "due_at": "2024-06-03T15:00:00Z", "description": "Call you back about the fire"});
    let made = app.post(&format!("/api/v1/cases/{case}/promises"), "agent", promise).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let notice = deliver(app, &sink, 2).await;
    assert_eq!(notice.len(), 1);
    assert!(notice[0].text.contains("Call you back about the fire, by Mon 3 Jun 2024 15:00 UTC"), "{}", notice[0].text);
    assert_eq!(notice[0].in_reply_to.last(), Some(&agent_reply_id));

    let quoted = "Done, thanks!\r\n\r\nOn Mon, Alex wrote:\r\n> Unplug it, please.\r\n";
    let raw = email("carol@acme.test", "Re: Printer on fire", "m2@client.test", Some(&agent_reply_id), quoted);
    let answer = inbound(app, &raw).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!((answer.json["outcome"].as_str(), answer.json["case_id"].as_i64()), (Some("reply_added"), Some(case)));
    let messages = app.get(&format!("/api/v1/cases/{case}/messages"), "admin").await;
    let list = messages.json["messages"].as_array().unwrap();
    assert_eq!(list.last().unwrap()["body"], "Done, thanks!", "the quoted history is not repeated");

    // Redelivered: stored once.
    let again = inbound(app, &raw).await;
    assert_eq!(again.json["outcome"], "duplicate");
    let count =
        app.get(&format!("/api/v1/cases/{case}/messages"), "admin").await.json["messages"].as_array().unwrap().len();
    assert_eq!(count, list.len());

    let files = app.get(&format!("/api/v1/cases/{case}/attachments"), "agent").await;
    let files = files.json["attachments"].as_array().unwrap().clone();
    assert_eq!(files.len(), 2, "one per email");
    assert_eq!(files[0]["filename"], "report.pdf");
    let url = files[0]["url"].as_str().unwrap();
    let download = app.get(url, "ana").await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.text.as_bytes(), b"%PDF-1.4\n%\xc3\xa4\xc3\xbc".as_slice());
    assert_eq!(download.headers["content-type"], "application/octet-stream");
    assert!(download.headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(app.get(url, "bob").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(url, "it_agent").await.status, StatusCode::NOT_FOUND);
});

app_test!(automatic_mail_opens_nothing_and_is_never_answered, async |app: &TestApp| {
    let bounce = "From: MAILER-DAEMON@mx.acme.test\r\nTo: support@kept.localhost\r\nSubject: Undelivered Mail\r\n\
                  Message-ID: <b1@mx>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
                  --r\r\nContent-Type: text/plain\r\n\r\nGone.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n\
                  Final-Recipient: rfc822; x@y\r\nAction: failed\r\nStatus: 5.1.1\r\n--r--\r\n";
    let ooo = "From: ana@acme.test\r\nTo: support@kept.localhost\r\nSubject: Out of office\r\nMessage-ID: <o1@acme>\r\n\
               Auto-Submitted: auto-replied\r\n\r\nI am away.\r\n";
    for (raw, reason) in [(bounce, "delivery_report"), (ooo, "auto_submitted")] {
        let a = inbound(app, raw).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!((a.json["outcome"].as_str(), a.json["reason"].as_str()), (Some("ignored"), Some(reason)));
        assert!(a.json["case_id"].is_null());
    }
    let outbox = app.get("/api/v1/mail/outbox", "admin").await;
    assert_eq!(outbox.json["mail"].as_array().unwrap().len(), 0, "no auto-reply to automatic mail");
});

app_test!(a_guessed_case_reference_does_not_reach_another_account, async |app: &TestApp| {
    let acme = app.case_by("ana", "Acme's secret").await;
    let raw = email("bob@globex.test", &format!("Re: [#{acme}] let me in"), "g1@globex", None, "hello");
    let a = inbound(app, &raw).await;
    assert_eq!(a.json["outcome"], "case_opened", "{}", a.text);
    assert_ne!(a.json["case_id"].as_i64(), Some(acme));
    // Senders of unknown domains get an account each: never one shared by chance.
    let x = inbound(app, &email("x@freemail.test", "one", "x1@f", None, "a")).await;
    let y = inbound(app, &email("y@freemail.test", "two", "y1@f", None, "b")).await;
    let account = |a: &crate::api::app::Answer| a.json["case_id"].as_i64().unwrap();
    let (cx, cy) = (account(&x), account(&y));
    let ax = app.get(&format!("/api/v1/cases/{cx}"), "admin").await.json["account"]["id"].clone();
    let ay = app.get(&format!("/api/v1/cases/{cy}"), "admin").await.json["account"]["id"].clone();
    assert!(ax.is_i64() && ay.is_i64());
    assert_ne!(ax, ay);
});

app_test!(smtp_failures_are_retried_and_nothing_is_lost, async |app: &TestApp| {
    let sink = Sink::start().await;
    sink.set_mode(Mode::TempFail);
    let case = app.case_by("ana", "Mail me").await;
    let reply = app.post(&format!("/api/v1/cases/{case}/messages"), "agent", json!({"body": "Here you go"})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "a broken SMTP server never fails a request");
    let sender = smtp(&sink);
    let attempted = kept_server::mail::sender::send_due(&app.state, &sender, "w").await;
    assert!(attempted >= 1);
    let queued = app.get("/api/v1/mail/outbox", "admin").await;
    let reply_mail = queued.json["mail"].as_array().unwrap().iter().find(|m| m["kind"] == "reply").unwrap().clone();
    assert_eq!(reply_mail["status"], "pending");
    assert_eq!(reply_mail["attempts"], 1);
    assert!(reply_mail["last_error"].as_str().unwrap().contains("451"), "{reply_mail}");
    // Not due again until the backoff has passed.
    assert_eq!(kept_server::mail::sender::send_due(&app.state, &sender, "w").await, 0);
    sink.set_mode(Mode::Accept);
    app.clock.advance(SignedDuration::from_mins(2));
    kept_server::mail::sender::send_due(&app.state, &sender, "w").await;
    let after = app.get(&format!("/api/v1/mail/outbox?case_id={case}"), "admin").await;
    let mail = after.json["mail"].as_array().unwrap().iter().find(|m| m["kind"] == "reply").unwrap().clone();
    assert_eq!(mail["status"], "sent", "{mail}");
    assert!(sink.messages().iter().any(|m| String::from_utf8_lossy(&m.data).contains("Here you go")));
    // A permanent refusal is recorded, not retried for ever.
    sink.set_mode(Mode::PermFail);
    app.post(&format!("/api/v1/cases/{case}/messages"), "agent", json!({"body": "Second"})).await;
    kept_server::mail::sender::send_due(&app.state, &sender, "w").await;
    let last = app.get(&format!("/api/v1/mail/outbox?case_id={case}"), "admin").await;
    assert_eq!(last.json["mail"][0]["status"], "failed", "{}", last.text);
});

app_test!(malformed_mail_is_refused_with_a_reason, async |app: &TestApp| {
    let empty = inbound(app, "").await;
    assert_eq!((empty.status, empty.code()), (StatusCode::UNPROCESSABLE_ENTITY, "empty"));
    let no_from = inbound(app, "Subject: hi\r\n\r\nbody\r\n").await;
    assert_eq!(no_from.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_from.text);
    assert_eq!(no_from.code(), "missing_from");
    let garbage = inbound(app, "\u{1}\u{2}\u{3} not a message at all").await;
    assert!(garbage.status.is_client_error(), "{}", garbage.text);
    let agent =
        app.call_text("POST", "/api/v1/inbound/email", "agent", "message/rfc822", "From: a@b.test\r\n\r\nx").await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);
});

app_test!(a_polled_mailbox_is_taken_in_once_and_marked_seen, async |app: &TestApp| {
    use kept_mail::imap::{ImapConfig, ImapSecurity};
    use kept_mail::imap_sink::ImapSink;
    let imap = ImapSink::start("support", "pw").await;
    let good = imap.add_message(email("dan@acme.test", "VPN down", "v1@acme", None, "No VPN since 9:00.").as_bytes());
    let junk = imap.add_message(b"");
    let config = ImapConfig {
        host: "127.0.0.1".into(),
        port: imap.port(),
        security: ImapSecurity::None,
        username: "support".into(),
        password: "pw".into(),
        mailbox: "INBOX".into(),
        timeout_secs: 5,
    };
    let polled = kept_server::mail::imap_poll::poll_once(&app.state, &config).await.unwrap();
    assert_eq!((polled.fetched, polled.taken_in, polled.refused), (2, 1, 1));
    assert!(imap.seen(good) && imap.seen(junk), "marked seen only after being stored (or refused for good)");
    let again = kept_server::mail::imap_poll::poll_once(&app.state, &config).await.unwrap();
    assert_eq!(again.fetched, 0);
    // The same message delivered again (a crash before marking it seen) is stored once.
    imap.add_message(email("dan@acme.test", "VPN down", "v1@acme", None, "No VPN since 9:00.").as_bytes());
    let redelivered = kept_server::mail::imap_poll::poll_once(&app.state, &config).await.unwrap();
    assert_eq!(redelivered.taken_in, 1);
    let outbox = app.get("/api/v1/mail/outbox", "admin").await;
    let acks: Vec<_> =
        outbox.json["mail"].as_array().unwrap().iter().filter(|m| m["kind"] == "acknowledgement").collect();
    assert_eq!(acks.len(), 1, "one case, one acknowledgement");
    assert_eq!(acks[0]["to"], "dan@acme.test");
});

app_test!(a_customer_email_reopens_a_solved_case, async |app: &TestApp| {
    let case = app.case_by("ana", "Broken again").await;
    let solved = app.call("PATCH", &format!("/api/v1/cases/{case}"), "agent", Some(json!({"status": "solved"}))).await;
    assert_eq!(solved.json["status"], "solved", "{}", solved.text);
    let raw = email("ana@acme.test", &format!("Re: [#{case}] Broken again"), "r1@acme", None, "Still broken.");
    let a = inbound(app, &raw).await;
    assert_eq!(
        (a.json["outcome"].as_str(), a.json["case_id"].as_i64()),
        (Some("reply_added"), Some(case)),
        "{}",
        a.text
    );
    let now = app.get(&format!("/api/v1/cases/{case}"), "agent").await;
    assert_eq!(now.json["status"], "open");
});
