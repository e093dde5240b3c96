//! Polling a mailbox over IMAP: fetch the unseen messages, and mark them seen once stored.
//!
//! Each call opens its own connection (implicit TLS on 993, or plain TCP for loopback and tests),
//! logs in with `LOGIN`, selects the mailbox, does its work and logs out. There is no IDLE, no
//! STARTTLS and no connection reuse: a poller calls [`fetch_unseen`] every minute or so.
//!
//! # Delivery guarantee
//!
//! [`fetch_unseen`] reads with `BODY.PEEK[]`, which leaves `\Seen` alone. The caller stores each
//! message first and only then calls [`mark_seen`] for it. If the process dies between the two
//! steps, the message is still unseen and is fetched again on the next poll: delivery is *at least
//! once*, so the caller must deduplicate (kept does so by `Message-ID`). The opposite order could
//! lose mail and is never done here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_imap::imap_proto::{AttributeValue, MailboxDatum, Response, Status};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Transport security towards the IMAP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImapSecurity {
    /// Plain text, password included. Only for loopback or trusted networks (and the test sink);
    /// usually port 143.
    None,
    /// TLS from the first byte (rustls with ring, Mozilla's roots from webpki-roots); usually
    /// port 993. STARTTLS on port 143 is not supported.
    Tls,
}

fn default_mailbox() -> String {
    "INBOX".to_string()
}

fn default_timeout_secs() -> u64 {
    30
}

/// Which mailbox to poll and how to log in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub username: String,
    pub password: String,
    /// The mailbox to poll; `INBOX` when absent. ASCII names only (no modified UTF-7 encoding).
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// Limit for each network step (connect, TLS handshake, each command and each response
    /// line), not for the whole call; 30 when absent, at least 1.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("mailbox", &self.mailbox)
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// One message as stored on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The IMAP UID within the polled mailbox; pass it to [`mark_seen`] once the message is stored.
    pub uid: u32,
    /// The complete message (`BODY[]`), byte for byte.
    pub raw: Vec<u8>,
}

/// What kind of step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImapErrorKind {
    /// The TCP connection could not be made, or was lost or closed by the server.
    Connect,
    /// A step took longer than `timeout_secs`.
    Timeout,
    /// TLS setup or handshake failed.
    Tls,
    /// The server refused the user name or password.
    Authentication,
    /// The mailbox could not be selected (e.g. it does not exist).
    Mailbox,
    /// The server answered a command with `NO`.
    Refused,
    /// The server answered `BAD`, or sent something the client could not understand.
    Protocol,
}

impl ImapErrorKind {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            ImapErrorKind::Connect => "connect",
            ImapErrorKind::Timeout => "timeout",
            ImapErrorKind::Tls => "tls",
            ImapErrorKind::Authentication => "authentication",
            ImapErrorKind::Mailbox => "mailbox",
            ImapErrorKind::Refused => "refused",
            ImapErrorKind::Protocol => "protocol",
        }
    }
}

impl fmt::Display for ImapErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A failed IMAP call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} IMAP failure ({kind}): {message}", if *.permanent { "permanent" } else { "transient" })]
pub struct ImapError {
    /// `true`: retrying with the same configuration will not help (credentials refused, mailbox
    /// missing, `BAD` replies, invalid host name for TLS). `false`: retry with backoff
    /// (connection refused or lost, timeouts, TLS handshakes, `NO [UNAVAILABLE]`/`[INUSE]`).
    pub permanent: bool,
    pub kind: ImapErrorKind,
    /// What went wrong; never contains the password.
    pub message: String,
}

impl ImapError {
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    fn transient(kind: ImapErrorKind, message: impl Into<String>) -> ImapError {
        ImapError { permanent: false, kind, message: message.into() }
    }

    fn permanent(kind: ImapErrorKind, message: impl Into<String>) -> ImapError {
        ImapError { permanent: true, kind, message: message.into() }
    }

    /// Removes the password (as typed and as IMAP-quoted) from the message, should the server or
    /// any layer ever echo it.
    fn scrub(mut self, password: &str) -> ImapError {
        if !password.is_empty() {
            let quoted = password.replace('\\', "\\\\").replace('"', "\\\"");
            self.message = self.message.replace(&quoted, "<redacted>").replace(password, "<redacted>");
        }
        self
    }
}

/// Connects, logs in, selects the mailbox and returns up to `max` unseen messages, oldest (lowest
/// UID) first, without marking them seen (`UID SEARCH UNSEEN`, then `UID FETCH … BODY.PEEK[]`).
///
/// Call [`mark_seen`] for a message only after storing it; see the module documentation. A
/// message that disappears between the search and the fetch is skipped. `max == 0` returns an
/// empty list without connecting.
pub async fn fetch_unseen(config: &ImapConfig, max: usize) -> Result<Vec<Fetched>, ImapError> {
    if max == 0 {
        return Ok(Vec::new());
    }
    fetch_inner(config, max).await.map_err(|e| e.scrub(&config.password))
}

/// Sets `\Seen` on these messages (`UID STORE … +FLAGS (\Seen)`), so [`fetch_unseen`] no longer
/// returns them. Call it only after the messages are stored: a crash in between means they are
/// fetched again, which the caller absorbs by deduplicating on `Message-ID`.
///
/// UIDs are only meaningful for the mailbox's current UIDVALIDITY: pass UIDs from a recent
/// [`fetch_unseen`] of the same mailbox. Unknown UIDs are ignored by IMAP servers. An empty
/// slice returns without connecting.
pub async fn mark_seen(config: &ImapConfig, uids: &[u32]) -> Result<(), ImapError> {
    let set = uid_set(uids);
    if set.is_empty() {
        return Ok(());
    }
    mark_inner(config, &set).await.map_err(|e| e.scrub(&config.password))
}

async fn fetch_inner(config: &ImapConfig, max: usize) -> Result<Vec<Fetched>, ImapError> {
    let limit = step_limit(config);
    let mut session = open(config).await?;

    let mut unseen = BTreeSet::new();
    command(&mut session, "UID SEARCH UNSEEN", limit, |response| {
        if let Response::MailboxData(MailboxDatum::Search(uids)) = response {
            unseen.extend(uids.iter().copied());
        }
    })
    .await?;
    let wanted: Vec<u32> = unseen.into_iter().filter(|uid| *uid > 0).take(max).collect();

    let mut found = BTreeMap::new();
    if !wanted.is_empty() {
        let cmd = format!("UID FETCH {} BODY.PEEK[]", uid_set(&wanted));
        command(&mut session, &cmd, limit, |response| {
            if let Response::Fetch(_, attributes) = response
                && let Some((uid, raw)) = uid_and_body(attributes)
                && wanted.binary_search(&uid).is_ok()
            {
                found.insert(uid, raw);
            }
        })
        .await?;
    }

    logout(&mut session, limit).await?;
    Ok(found.into_iter().map(|(uid, raw)| Fetched { uid, raw }).collect())
}

async fn mark_inner(config: &ImapConfig, set: &str) -> Result<(), ImapError> {
    let limit = step_limit(config);
    let mut session = open(config).await?;
    command(&mut session, &format!("UID STORE {set} +FLAGS (\\Seen)"), limit, |_| {}).await?;
    logout(&mut session, limit).await
}

fn step_limit(config: &ImapConfig) -> Duration {
    Duration::from_secs(config.timeout_secs.max(1))
}

/// The UID and the whole-message body section of one FETCH response, if it has both.
fn uid_and_body(attributes: &[AttributeValue<'_>]) -> Option<(u32, Vec<u8>)> {
    let uid = attributes.iter().find_map(|a| match a {
        AttributeValue::Uid(uid) => Some(*uid),
        _ => None,
    })?;
    let raw = attributes.iter().find_map(|a| match a {
        AttributeValue::BodySection { section: None, index: None, data: Some(data) } => Some(data.to_vec()),
        AttributeValue::Rfc822(Some(data)) => Some(data.to_vec()),
        _ => None,
    })?;
    Some((uid, raw))
}

/// A sorted IMAP UID set with runs folded into ranges: `[5, 1, 2, 3, 9]` → `1:3,5,9`. UID 0 (not
/// a valid UID) is dropped.
fn uid_set(uids: &[u32]) -> String {
    let sorted: BTreeSet<u32> = uids.iter().copied().filter(|uid| *uid > 0).collect();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for uid in sorted {
        match runs.last_mut() {
            Some((_, end)) if end.checked_add(1) == Some(uid) => *end = uid,
            _ => runs.push((uid, uid)),
        }
    }
    runs.iter()
        .map(|(start, end)| if start == end { start.to_string() } else { format!("{start}:{end}") })
        .collect::<Vec<_>>()
        .join(",")
}

/// Any byte stream async-imap can run over: plain TCP or TLS over TCP.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Transport for T {}

type Session = async_imap::Session<Box<dyn Transport>>;

/// Runs one step under the per-step time limit.
async fn within<T>(limit: Duration, what: &str, step: impl Future<Output = T>) -> Result<T, ImapError> {
    tokio::time::timeout(limit, step).await.map_err(|_| {
        ImapError::transient(ImapErrorKind::Timeout, format!("{what} timed out after {} s", limit.as_secs()))
    })
}

/// Connect, read the greeting, LOGIN and SELECT.
async fn open(config: &ImapConfig) -> Result<Session, ImapError> {
    let limit = step_limit(config);
    let address = format!("{}:{}", config.host, config.port);
    // Checked before connecting: a host name TLS cannot verify is a configuration error.
    let tls = match config.security {
        ImapSecurity::None => None,
        ImapSecurity::Tls => {
            let name = ServerName::try_from(config.host.clone()).map_err(|e| {
                ImapError::permanent(ImapErrorKind::Tls, format!("invalid TLS server name {:?}: {e}", config.host))
            })?;
            Some((name, tls_connector()?))
        }
    };
    let tcp = within(limit, "connect", TcpStream::connect((config.host.as_str(), config.port)))
        .await?
        .map_err(|e| ImapError::transient(ImapErrorKind::Connect, format!("connect to {address}: {e}")))?;
    let stream: Box<dyn Transport> = match tls {
        None => Box::new(tcp),
        Some((name, connector)) => {
            let tls = within(limit, "TLS handshake", connector.connect(name, tcp))
                .await?
                .map_err(|e| ImapError::transient(ImapErrorKind::Tls, format!("TLS handshake with {address}: {e}")))?;
            Box::new(tls)
        }
    };

    let mut client = async_imap::Client::new(stream);
    let greeting = within(limit, "greeting", client.read_response()).await?.map_err(io_error)?;
    match greeting.as_ref().map(|g| g.parsed()) {
        Some(Response::Data { status: Status::Ok, .. }) => {}
        Some(Response::Data { status: Status::Bye, outcome }) => {
            return Err(ImapError::transient(
                ImapErrorKind::Connect,
                format!("server refused the connection: {}", outcome.information.as_deref().unwrap_or("BYE")),
            ));
        }
        Some(other) => {
            return Err(ImapError::permanent(ImapErrorKind::Protocol, format!("unexpected greeting: {other:?}")));
        }
        None => return Err(connection_lost()),
    }

    let mut session = within(limit, "LOGIN", client.login(&config.username, &config.password))
        .await?
        .map_err(|(e, _)| classify(e, ImapErrorKind::Authentication))?;
    within(limit, "SELECT", session.select(&config.mailbox)).await?.map_err(|e| classify(e, ImapErrorKind::Mailbox))?;
    Ok(session)
}

fn tls_connector() -> Result<TlsConnector, ImapError> {
    let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::permanent(ImapErrorKind::Tls, format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Sends one tagged command, hands every untagged response to `each`, and checks the tagged
/// status. Unlike async-imap's helpers for SEARCH and FETCH, a `NO`/`BAD` or a dropped connection
/// is an error here rather than a silently shorter result.
async fn command(
    session: &mut Session,
    cmd: &str,
    limit: Duration,
    mut each: impl FnMut(&Response<'_>),
) -> Result<(), ImapError> {
    let verb = cmd.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let tag = within(limit, &verb, session.run_command(cmd)).await?.map_err(|e| classify(e, ImapErrorKind::Refused))?;
    loop {
        let Some(response) = within(limit, &verb, session.read_response()).await?.map_err(io_error)? else {
            return Err(connection_lost());
        };
        match response.parsed() {
            Response::Done { tag: done, status, outcome } if *done == tag => {
                let info = outcome.information.as_deref().unwrap_or("");
                return match status {
                    Status::Ok => Ok(()),
                    Status::No => {
                        let code = outcome.code.as_ref().map(|c| format!("{c:?} ")).unwrap_or_default();
                        Err(refused(&verb, &format!("{code}{info}"), ImapErrorKind::Refused))
                    }
                    _ => Err(ImapError::permanent(ImapErrorKind::Protocol, format!("{verb}: {status:?} {info}"))),
                };
            }
            Response::Data { status: Status::Bye, outcome } => {
                return Err(ImapError::transient(
                    ImapErrorKind::Connect,
                    format!(
                        "server closed the connection during {verb}: {}",
                        outcome.information.as_deref().unwrap_or("")
                    ),
                ));
            }
            other => each(other),
        }
    }
}

/// LOGOUT; a failure here still fails the call, since a connection that broke during the
/// previous command may have ended a response early. Both operations are safe to repeat.
async fn logout(session: &mut Session, limit: Duration) -> Result<(), ImapError> {
    within(limit, "LOGOUT", session.logout()).await?.map_err(|e| classify(e, ImapErrorKind::Protocol))
}

fn connection_lost() -> ImapError {
    ImapError::transient(ImapErrorKind::Connect, "connection closed by the server")
}

fn io_error(e: std::io::Error) -> ImapError {
    ImapError::transient(ImapErrorKind::Connect, format!("connection failed: {e}"))
}

/// A `NO`: permanent with `kind`, except for the RFC 5530 codes that promise a later success.
fn refused(what: &str, detail: &str, kind: ImapErrorKind) -> ImapError {
    let upper = detail.to_ascii_uppercase();
    let message = format!("{what} refused: {}", detail.trim());
    if upper.contains("UNAVAILABLE") || upper.contains("INUSE") {
        ImapError::transient(ImapErrorKind::Refused, message)
    } else {
        ImapError::permanent(kind, message)
    }
}

/// Maps an async-imap error; `no_kind` says what a `NO` reply means at this step.
fn classify(e: async_imap::error::Error, no_kind: ImapErrorKind) -> ImapError {
    use async_imap::error::Error;
    let what = match no_kind {
        ImapErrorKind::Authentication => "LOGIN",
        ImapErrorKind::Mailbox => "SELECT",
        _ => "command",
    };
    match e {
        Error::Io(e) => io_error(e),
        Error::ConnectionLost => connection_lost(),
        Error::No(detail) => refused(what, &detail, no_kind),
        // async-imap refuses user names, passwords and mailbox names containing CR or LF.
        Error::Validate(e) => ImapError::permanent(no_kind, format!("{what}: {e}")),
        other => ImapError::permanent(ImapErrorKind::Protocol, format!("{what}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_fold_runs() {
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[0]), "");
        assert_eq!(uid_set(&[7]), "7");
        assert_eq!(uid_set(&[5, 1, 2, 3, 9, 3]), "1:3,5,9");
        assert_eq!(uid_set(&[u32::MAX, u32::MAX - 1, 1]), format!("1,{}:{}", u32::MAX - 1, u32::MAX));
    }

    #[test]
    fn scrub_removes_plain_and_quoted_password() {
        let e = ImapError::permanent(ImapErrorKind::Protocol, r#"BAD LOGIN "u" "a\"b" and a"b"#);
        let e = e.scrub(r#"a"b"#);
        assert_eq!(e.message, r#"BAD LOGIN "u" "<redacted>" and <redacted>"#);
    }

    #[test]
    fn config_defaults_and_debug() {
        let config: ImapConfig = serde_json::from_value(serde_json::json!({
            "host": "imap.example.com", "port": 993, "security": "tls",
            "username": "desk", "password": "hunter2-secret"
        }))
        .unwrap();
        assert_eq!(config.mailbox, "INBOX");
        assert_eq!(config.timeout_secs, 30);
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2-secret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn no_replies_are_permanent_unless_unavailable() {
        assert!(refused("LOGIN", "[AUTHENTICATIONFAILED] bad", ImapErrorKind::Authentication).permanent);
        let busy = refused("LOGIN", "[UNAVAILABLE] try later", ImapErrorKind::Authentication);
        assert!(!busy.permanent);
        assert_eq!(busy.kind, ImapErrorKind::Refused);
    }
}
