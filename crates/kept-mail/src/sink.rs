//! A small SMTP server for tests: listens on `127.0.0.1`, port chosen by the OS, and records
//! every message it accepts.
//!
//! Speaks EHLO/HELO, MAIL FROM, RCPT TO, DATA (with dot-unstuffing), RSET, NOOP and QUIT, plus
//! AUTH PLAIN and AUTH LOGIN when credentials are configured (only then is AUTH advertised, and
//! then MAIL FROM requires it). It does **not** do TLS or STARTTLS, pipelining, SIZE enforcement,
//! BDAT/CHUNKING or real delivery: senders must use plain TCP ([`crate::outbound::Security::None`]).
//! Dropping the [`Sink`] stops the server and closes open connections.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How the sink answers `MAIL FROM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Accept and record messages.
    #[default]
    Accept,
    /// `451 4.3.0` on MAIL FROM (a transient failure).
    TempFail,
    /// `550 5.7.1` on MAIL FROM (a permanent failure).
    PermFail,
    /// Close the connection without answering MAIL FROM.
    Drop,
}

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The MAIL FROM address (without angle brackets; empty for the null sender).
    pub envelope_from: String,
    /// The RCPT TO addresses (without angle brackets).
    pub recipients: Vec<String>,
    /// The message as transmitted, dot-unstuffed, without the final `.` line.
    pub data: Vec<u8>,
    /// The user name the client authenticated as, if it did.
    pub authenticated_as: Option<String>,
}

#[derive(Default)]
struct State {
    mode: Mode,
    messages: Vec<Received>,
}

struct Shared {
    state: Mutex<State>,
    credentials: Option<(String, String)>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running test SMTP server. See the module documentation for what it does not do.
pub struct Sink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

/// Longest command line or data line the sink accepts before hanging up.
const MAX_LINE: usize = 1024 * 1024;

impl Sink {
    /// Starts a sink without authentication. Panics only if loopback cannot be bound, which in a
    /// test is a failed test.
    pub async fn start() -> Sink {
        Self::start_inner(None).await
    }

    /// Starts a sink that advertises AUTH PLAIN LOGIN and requires these credentials.
    pub async fn start_with_auth(username: &str, password: &str) -> Sink {
        Self::start_inner(Some((username.to_string(), password.to_string()))).await
    }

    #[allow(clippy::expect_used)] // test infrastructure: failing to bind loopback fails the test
    async fn start_inner(credentials: Option<(String, String)>) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0 for the SMTP sink");
        let addr = listener.local_addr().expect("local address of the SMTP sink");
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), credentials });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Sink { addr, shared, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Messages accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.shared.lock().messages.clone()
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.lock().mode = mode;
    }

    /// Waits until at least `n` messages arrived or `timeout` passed, and returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n || tokio::time::Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(serve(stream, shared.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

#[derive(Default)]
struct Transaction {
    from: Option<String>,
    recipients: Vec<String>,
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 kept-sink ESMTP test server\r\n").await?;
    let mut tx = Transaction::default();
    let mut user: Option<String> = None;

    loop {
        let Some(line) = read_line(&mut reader).await? else { return Ok(()) };
        let line = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        let reply: String = match verb.as_str() {
            "EHLO" => {
                tx = Transaction::default();
                let auth = if shared.credentials.is_some() { "250-AUTH PLAIN LOGIN\r\n" } else { "" };
                format!("250-kept-sink greets {arg}\r\n250-8BITMIME\r\n{auth}250 SMTPUTF8\r\n")
            }
            "HELO" => {
                tx = Transaction::default();
                "250 kept-sink\r\n".into()
            }
            "AUTH" => match &shared.credentials {
                None => "502 5.5.1 AUTH not available\r\n".into(),
                Some(_) if user.is_some() => "503 5.5.1 Already authenticated\r\n".into(),
                Some((good_user, good_pass)) => {
                    let (mech, initial) = match arg.split_once(' ') {
                        Some((m, i)) => (m.to_ascii_uppercase(), Some(i.trim().to_string())),
                        None => (arg.to_ascii_uppercase(), None),
                    };
                    let given = match mech.as_str() {
                        "PLAIN" => {
                            let response = match initial {
                                Some(i) => i,
                                None => challenge(&mut reader, &mut write, "").await?,
                            };
                            decode(&response).and_then(|d| {
                                let mut fields = d.split(|b| *b == 0).skip(1);
                                Some((fields.next()?.to_vec(), fields.next()?.to_vec()))
                            })
                        }
                        "LOGIN" => {
                            let u = match initial {
                                Some(i) => i,
                                None => challenge(&mut reader, &mut write, "VXNlcm5hbWU6").await?,
                            };
                            let p = challenge(&mut reader, &mut write, "UGFzc3dvcmQ6").await?;
                            decode(&u).zip(decode(&p))
                        }
                        _ => None,
                    };
                    match given {
                        Some((u, p)) if u == good_user.as_bytes() && p == good_pass.as_bytes() => {
                            user = Some(good_user.clone());
                            "235 2.7.0 Authentication successful\r\n".into()
                        }
                        _ => "535 5.7.8 Authentication credentials invalid\r\n".into(),
                    }
                }
            },
            "MAIL" => {
                let mode = shared.lock().mode;
                if shared.credentials.is_some() && user.is_none() {
                    "530 5.7.0 Authentication required\r\n".into()
                } else {
                    match (mode, path_arg(&arg, "FROM:")) {
                        (Mode::Drop, _) => return Ok(()),
                        (Mode::TempFail, _) => "451 4.3.0 Temporary failure, try again later\r\n".into(),
                        (Mode::PermFail, _) => "550 5.7.1 Sender rejected\r\n".into(),
                        (Mode::Accept, None) => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".into(),
                        (Mode::Accept, Some(from)) => {
                            tx = Transaction { from: Some(from), recipients: Vec::new() };
                            "250 2.1.0 OK\r\n".into()
                        }
                    }
                }
            }
            "RCPT" => match (&tx.from, path_arg(&arg, "TO:")) {
                (None, _) => "503 5.5.1 MAIL first\r\n".into(),
                (Some(_), None) => "501 5.5.4 Syntax: RCPT TO:<address>\r\n".into(),
                (Some(_), Some(to)) if to.is_empty() => "501 5.1.3 Empty recipient\r\n".into(),
                (Some(_), Some(to)) => {
                    tx.recipients.push(to);
                    "250 2.1.5 OK\r\n".into()
                }
            },
            "DATA" => {
                if tx.from.is_none() || tx.recipients.is_empty() {
                    "503 5.5.1 RCPT first\r\n".into()
                } else {
                    write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                    let Some(data) = read_data(&mut reader).await? else { return Ok(()) };
                    let received = Received {
                        envelope_from: tx.from.take().unwrap_or_default(),
                        recipients: std::mem::take(&mut tx.recipients),
                        data,
                        authenticated_as: user.clone(),
                    };
                    let mut state = shared.lock();
                    state.messages.push(received);
                    format!("250 2.0.0 OK queued as {}\r\n", state.messages.len())
                }
            }
            "RSET" => {
                tx = Transaction::default();
                "250 2.0.0 OK\r\n".into()
            }
            "NOOP" => "250 2.0.0 OK\r\n".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognised\r\n".into(),
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

/// Reads one line including its terminator; `None` at end of stream or for an overlong line.
async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = tokio::io::AsyncReadExt::take(&mut *reader, MAX_LINE as u64).read_until(b'\n', &mut line).await?;
    if n == 0 || !line.ends_with(b"\n") {
        return Ok(None);
    }
    Ok(Some(line))
}

async fn challenge<R, W>(reader: &mut R, write: &mut W, prompt: &str) -> std::io::Result<String>
where
    R: AsyncBufReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    write.write_all(format!("334 {prompt}\r\n").as_bytes()).await?;
    let line = read_line(reader).await?.unwrap_or_default();
    Ok(String::from_utf8_lossy(&line).trim().to_string())
}

fn decode(b64: &str) -> Option<Vec<u8>> {
    STANDARD.decode(b64.trim()).ok()
}

/// `FROM:<a@b> SIZE=1` → `a@b`.
fn path_arg(arg: &str, keyword: &str) -> Option<String> {
    if arg.len() < keyword.len() || !arg.is_char_boundary(keyword.len()) {
        return None;
    }
    let (k, rest) = arg.split_at(keyword.len());
    if !k.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest.trim_start();
    let path = rest.strip_prefix('<')?;
    let end = path.find('>')?;
    Some(path[..end].to_string())
}

/// Reads DATA lines up to the lone `.` line, undoing dot-stuffing.
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    loop {
        let Some(line) = read_line(reader).await? else { return Ok(None) };
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(data));
        }
        let unstuffed = if line.starts_with(b".") { &line[1..] } else { &line[..] };
        data.extend_from_slice(unstuffed);
    }
}

#[cfg(test)]
mod tests {
    use super::path_arg;

    #[test]
    fn paths() {
        assert_eq!(path_arg("FROM:<a@b> BODY=8BITMIME", "FROM:").as_deref(), Some("a@b"));
        assert_eq!(path_arg("from: <>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_arg("TO:a@b", "TO:"), None);
        assert_eq!(path_arg("X", "FROM:"), None);
    }
}
