//! Outbound mail: kept's own messages as RFC 5322 bytes, and sending them over SMTP.

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox as LettreMailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::Mailbox;

/// One message kept wants to send. Serialisable so it can wait in an outbox table as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Without angle brackets, e.g. from [`new_message_id`].
    pub message_id: String,
    /// Without angle brackets.
    pub in_reply_to: Option<String>,
    /// Without angle brackets, oldest first.
    pub references: Vec<String>,
    /// Adds `Auto-Submitted: auto-generated` (kept's own notices, so autoresponders stay quiet).
    pub auto_submitted: bool,
    /// The `Date` header, epoch milliseconds UTC.
    pub date_ms: i64,
    /// Value of a `List-Unsubscribe` header, e.g. `<https://kept.example/unsubscribe/…>`.
    pub list_unsubscribe: Option<String>,
}

/// Builds a Message-ID (stored without brackets): `<unique>@<domain>`. The caller supplies a
/// unique token (e.g. random hex); characters not allowed in a message id are replaced by `-`.
pub fn new_message_id(domain: &str, unique: &str) -> String {
    let clean = |s: &str, extra: &[char]| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || extra.contains(&c) { c } else { '-' }).collect()
    };
    let unique = clean(unique, &['.', '-', '_', '+', '=', '$', '%']);
    let domain = clean(domain.trim(), &['.', '-']);
    let unique = if unique.is_empty() { "kept".to_string() } else { unique };
    let domain = if domain.is_empty() { "localhost".to_string() } else { domain };
    format!("{unique}@{domain}")
}

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("invalid {field} address {address:?}")]
    InvalidAddress { field: &'static str, address: String },
    #[error("the message has no recipient")]
    NoRecipient,
    #[error("invalid {field} header value")]
    InvalidHeader { field: &'static str },
    #[error("could not build the message: {0}")]
    Build(String),
}

impl OutboundError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            OutboundError::InvalidAddress { .. } => "invalid_address",
            OutboundError::NoRecipient => "no_recipient",
            OutboundError::InvalidHeader { .. } => "invalid_header",
            OutboundError::Build(_) => "build",
        }
    }
}

fn mailbox(field: &'static str, m: &Mailbox) -> Result<LettreMailbox, OutboundError> {
    let invalid = || OutboundError::InvalidAddress { field, address: m.email.clone() };
    let address = m.email.parse().map_err(|_| invalid())?;
    Ok(LettreMailbox::new(m.name.clone().filter(|n| !n.trim().is_empty()), address))
}

fn bracketed(field: &'static str, id: &str) -> Result<String, OutboundError> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>') {
        return Err(OutboundError::InvalidHeader { field });
    }
    Ok(format!("<{id}>"))
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

fn build(mail: &OutgoingMail) -> Result<Message, OutboundError> {
    if mail.to.is_empty() {
        return Err(OutboundError::NoRecipient);
    }
    let date = if mail.date_ms >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_millis(mail.date_ms.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_millis(mail.date_ms.unsigned_abs()))
    }
    .ok_or(OutboundError::InvalidHeader { field: "Date" })?;

    let mut b = Message::builder()
        .from(mailbox("From", &mail.from)?)
        .subject(mail.subject.clone())
        .date(date)
        .message_id(Some(bracketed("Message-ID", &mail.message_id)?));
    for to in &mail.to {
        b = b.to(mailbox("To", to)?);
    }
    if let Some(r) = &mail.reply_to {
        b = b.reply_to(mailbox("Reply-To", r)?);
    }
    if let Some(id) = &mail.in_reply_to {
        b = b.in_reply_to(bracketed("In-Reply-To", id)?);
    }
    if !mail.references.is_empty() {
        let refs = mail.references.iter().map(|r| bracketed("References", r)).collect::<Result<Vec<_>, _>>()?;
        b = b.references(refs.join(" "));
    }
    if mail.auto_submitted {
        b = b.raw_header(header("Auto-Submitted", "auto-generated".to_string()));
    }
    if let Some(u) = &mail.list_unsubscribe {
        if u.chars().any(|c| c.is_control()) || !u.is_ascii() {
            return Err(OutboundError::InvalidHeader { field: "List-Unsubscribe" });
        }
        b = b.raw_header(header("List-Unsubscribe", u.clone()));
    }
    b.multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| OutboundError::Build(e.to_string()))
}

/// The complete message as sent: `multipart/alternative` with UTF-8 `text/plain` and
/// `text/html` parts; non-ASCII subjects and names as RFC 2047 encoded words.
pub fn to_rfc5322(mail: &OutgoingMail) -> Result<Vec<u8>, OutboundError> {
    Ok(build(mail)?.formatted())
}

/// Transport security towards the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain text. Only for loopback or trusted networks (and the test sink).
    None,
    /// Plain connection upgraded with STARTTLS (required, not opportunistic); usually port 587.
    StartTls,
    /// TLS from the first byte; usually port 465.
    Tls,
}

/// Where and how to deliver outbound mail.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout_secs: u64,
    /// Name sent with EHLO; the machine's host name when `None`.
    pub hello_name: Option<String>,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .field("hello_name", &self.hello_name)
            .finish()
    }
}

/// A failed delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} SMTP failure{}: {message}", if *.permanent { "permanent" } else { "transient" }, .code.map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct SendError {
    /// `true`: retrying will not help (5xx reply, invalid address, authentication refused).
    /// `false`: retry with backoff (connection refused, timeout, 4xx reply, TLS trouble).
    pub permanent: bool,
    /// The SMTP reply code, if the server sent one.
    pub code: Option<u16>,
    /// What went wrong; never contains the password.
    pub message: String,
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }
}

/// Sends [`OutgoingMail`] through one relay, reusing connections (lettre's pool).
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    config: SmtpConfig,
}

impl fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSender").field("config", &self.config).finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// Prepares the transport; no connection is made until the first [`send`](Self::send).
    pub fn new(config: SmtpConfig) -> Result<SmtpSender, SendError> {
        let tls = match config.security {
            Security::None => Tls::None,
            Security::StartTls | Security::Tls => {
                let params = TlsParameters::new(config.host.clone()).map_err(|e| SendError {
                    permanent: true,
                    code: None,
                    message: format!("TLS setup failed: {e}"),
                })?;
                if config.security == Security::Tls { Tls::Wrapper(params) } else { Tls::Required(params) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        if let Some(user) = &config.username {
            builder = builder.credentials(Credentials::new(user.clone(), config.password.clone().unwrap_or_default()));
        }
        Ok(SmtpSender { transport: builder.build(), config })
    }

    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    /// Delivers one message to the relay.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let message =
            build(mail).map_err(|e| SendError { permanent: true, code: None, message: self.scrub(e.to_string()) })?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.classify(&e)),
        }
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> SendError {
        let code = e.status().map(u16::from);
        // 5xx replies are final. A client-side error means the relay and kept disagree about
        // something retrying will not change (e.g. no common AUTH mechanism). Everything else
        // (4xx, connection refused, timeouts, dropped connections, TLS handshakes) may pass.
        let permanent = e.is_permanent() || e.is_client();
        SendError { permanent, code, message: self.scrub(e.to_string()) }
    }

    /// Removes the password from a message, should any layer ever echo it.
    fn scrub(&self, message: String) -> String {
        match self.config.password.as_deref() {
            Some(p) if !p.is_empty() => message.replace(p, "<redacted>"),
            _ => message,
        }
    }
}
