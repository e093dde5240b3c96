//! A small IMAP4rev1 server for tests: listens on `127.0.0.1`, port chosen by the OS, and serves
//! one mailbox, `INBOX`, holding the messages a test adds with [`ImapSink::add_message`].
//!
//! Speaks CAPABILITY, NOOP, LOGIN (one configured user), SELECT/EXAMINE `INBOX`, and the UID
//! forms of SEARCH (`ALL`, `SEEN`, `UNSEEN`), FETCH (`UID`, `FLAGS`, `RFC822.SIZE`, `BODY[]`,
//! `BODY.PEEK[]`) and STORE (`+FLAGS`, `-FLAGS`, `FLAGS`, also `.SILENT`, with `\Seen` only),
//! then LOGOUT. UID sets may use commas, ranges and `*`. Arguments may be atoms, quoted strings or
//! synchronising literals (`{n}`, answered with a `+` continuation). Everything else, including
//! the sequence-number forms of SEARCH/FETCH/STORE, is answered `BAD`. It does **not** do TLS or
//! STARTTLS (clients use [`crate::imap::ImapSecurity::None`]), AUTHENTICATE, IDLE, other
//! mailboxes, other flags, EXPUNGE or unsolicited updates to an open session.
//! Dropping the [`ImapSink`] stops the server and closes open connections.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The UIDVALIDITY of the one mailbox; it never changes.
pub const UID_VALIDITY: u32 = 1;

/// Longest command line, and longest literal, the sink accepts before hanging up.
const MAX_LINE: usize = 1024 * 1024;

struct Message {
    uid: u32,
    raw: Vec<u8>,
    seen: bool,
}

struct State {
    messages: Vec<Message>,
    next_uid: u32,
    fail_login: bool,
    commands: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    username: String,
    password: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running test IMAP server. See the module documentation for what it does not do.
pub struct ImapSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for ImapSink {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

impl ImapSink {
    /// Starts a sink that accepts LOGIN with exactly these credentials. Panics only if loopback
    /// cannot be bound, which in a test is a failed test.
    #[allow(clippy::expect_used)] // test infrastructure: failing to bind loopback fails the test
    pub async fn start(username: &str, password: &str) -> ImapSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0 for the IMAP sink");
        let addr = listener.local_addr().expect("local address of the IMAP sink");
        let shared = Arc::new(Shared {
            state: Mutex::new(State { messages: Vec::new(), next_uid: 1, fail_login: false, commands: Vec::new() }),
            username: username.to_string(),
            password: password.to_string(),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        ImapSink { addr, shared, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Appends an unseen message to `INBOX` and returns its UID (1, 2, 3, … in order).
    pub fn add_message(&self, raw: &[u8]) -> u32 {
        let mut state = self.shared.lock();
        let uid = state.next_uid;
        state.next_uid += 1;
        state.messages.push(Message { uid, raw: raw.to_vec(), seen: false });
        uid
    }

    /// Whether the message has `\Seen`; `false` for an unknown UID.
    pub fn seen(&self, uid: u32) -> bool {
        self.shared.lock().messages.iter().any(|m| m.uid == uid && m.seen)
    }

    /// While `true`, every LOGIN is answered `NO [AUTHENTICATIONFAILED]`, even with the right
    /// credentials.
    pub fn set_fail_login(&self, fail: bool) {
        self.shared.lock().fail_login = fail;
    }

    /// Every command received so far, oldest first, as sent (tag included, final CRLF removed),
    /// except that the LOGIN password is replaced by `<password>`.
    pub fn commands(&self) -> Vec<String> {
        self.shared.lock().commands.clone()
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotAuthenticated,
    Authenticated,
    Selected,
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"* OK [CAPABILITY IMAP4rev1] kept-imap-sink ready\r\n").await?;
    let mut phase = Phase::NotAuthenticated;

    loop {
        let Some(line) = read_command(&mut reader, &mut write).await? else { return Ok(()) };
        let mut args = Args::new(&line);
        let Some(tag) = args.atom().filter(|t| !t.is_empty() && t != "*" && t != "+") else {
            write.write_all(b"* BAD Missing or invalid tag\r\n").await?;
            continue;
        };
        let mut verb = args.atom().unwrap_or_default().to_ascii_uppercase();
        if verb == "UID" {
            verb = format!("UID {}", args.atom().unwrap_or_default().to_ascii_uppercase());
        }
        shared.lock().commands.push(logged(&line, &verb));

        let reply = match (verb.as_str(), phase) {
            ("CAPABILITY", _) if args.end() => {
                format!("* CAPABILITY IMAP4rev1\r\n{tag} OK CAPABILITY completed\r\n").into_bytes()
            }
            ("NOOP", _) if args.end() => format!("{tag} OK NOOP completed\r\n").into_bytes(),
            ("LOGOUT", _) if args.end() => {
                write
                    .write_all(format!("* BYE kept-imap-sink logging out\r\n{tag} OK LOGOUT completed\r\n").as_bytes())
                    .await?;
                return Ok(());
            }
            ("LOGIN", Phase::NotAuthenticated) => match (args.astring(), args.astring(), args.end()) {
                (Some(user), Some(pass), true) => {
                    let fail = shared.lock().fail_login;
                    if !fail && user == shared.username.as_bytes() && pass == shared.password.as_bytes() {
                        phase = Phase::Authenticated;
                        format!("{tag} OK LOGIN completed\r\n").into_bytes()
                    } else {
                        format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed\r\n").into_bytes()
                    }
                }
                _ => format!("{tag} BAD Syntax: LOGIN user password\r\n").into_bytes(),
            },
            ("SELECT" | "EXAMINE", Phase::Authenticated | Phase::Selected) => match (args.astring(), args.end()) {
                (Some(name), true) if name.eq_ignore_ascii_case(b"INBOX") => {
                    phase = Phase::Selected;
                    let state = shared.lock();
                    let access = if verb == "SELECT" { "READ-WRITE" } else { "READ-ONLY" };
                    format!(
                        "* FLAGS (\\Seen)\r\n* OK [PERMANENTFLAGS (\\Seen)] Only \\Seen is kept\r\n\
                         * {} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY {UID_VALIDITY}] UIDs valid\r\n\
                         * OK [UIDNEXT {}] Predicted next UID\r\n{tag} OK [{access}] {verb} completed\r\n",
                        state.messages.len(),
                        state.next_uid,
                    )
                    .into_bytes()
                }
                (Some(_), true) => {
                    phase = Phase::Authenticated;
                    format!("{tag} NO [NONEXISTENT] No such mailbox\r\n").into_bytes()
                }
                _ => format!("{tag} BAD Syntax: {verb} mailbox\r\n").into_bytes(),
            },
            ("UID SEARCH", Phase::Selected) => match search(&shared, &mut args) {
                Some(uids) => format!("* SEARCH{uids}\r\n{tag} OK UID SEARCH completed\r\n").into_bytes(),
                None => format!("{tag} BAD Only UID SEARCH ALL, SEEN or UNSEEN\r\n").into_bytes(),
            },
            ("UID FETCH", Phase::Selected) => match fetch(&shared, &mut args) {
                Some(mut data) => {
                    data.extend_from_slice(format!("{tag} OK UID FETCH completed\r\n").as_bytes());
                    data
                }
                None => format!("{tag} BAD Syntax: UID FETCH set (UID FLAGS RFC822.SIZE BODY[] BODY.PEEK[])\r\n")
                    .into_bytes(),
            },
            ("UID STORE", Phase::Selected) => match store(&shared, &mut args) {
                Some(mut data) => {
                    data.extend_from_slice(format!("{tag} OK UID STORE completed\r\n").as_bytes());
                    data
                }
                None => format!("{tag} BAD Syntax: UID STORE set [+-]FLAGS[.SILENT] (\\Seen)\r\n").into_bytes(),
            },
            _ => format!("{tag} BAD Command not recognised or not valid now\r\n").into_bytes(),
        };
        write.write_all(&reply).await?;
    }
}

/// The command as recorded by [`ImapSink::commands`]: the LOGIN password hidden.
fn logged(line: &[u8], verb: &str) -> String {
    let line = strip_crlf(line);
    if verb != "LOGIN" {
        return String::from_utf8_lossy(line).into_owned();
    }
    // Keep the tag, the verb and the user name as sent; hide what follows.
    let mut args = Args::new(line);
    let _ = (args.atom(), args.atom(), args.astring());
    args.skip_space();
    let shown = line.len() - args.rest.len();
    format!("{}<password>", String::from_utf8_lossy(&line[..shown]))
}

fn strip_crlf(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r\n").or_else(|| line.strip_suffix(b"\n")).unwrap_or(line)
}

/// `* SEARCH` tail (` 1 3`) for the one supported key, or `None`.
fn search(shared: &Shared, args: &mut Args<'_>) -> Option<String> {
    let key = args.atom()?.to_ascii_uppercase();
    if !args.end() {
        return None;
    }
    let want: fn(&Message) -> bool = match key.as_str() {
        "ALL" => |_| true,
        "SEEN" => |m| m.seen,
        "UNSEEN" => |m| !m.seen,
        _ => return None,
    };
    let state = shared.lock();
    Some(state.messages.iter().filter(|m| want(m)).map(|m| format!(" {}", m.uid)).collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    Uid,
    Flags,
    Size,
    Body { peek: bool },
}

/// The untagged FETCH responses, or `None` for a syntax error.
fn fetch(shared: &Shared, args: &mut Args<'_>) -> Option<Vec<u8>> {
    let set = UidSet::parse(&args.atom()?)?;
    let names = match args.list() {
        Some(names) => names,
        None => vec![args.atom()?],
    };
    if !args.end() || names.is_empty() {
        return None;
    }
    let mut items = vec![Item::Uid];
    for name in names {
        let item = match name.to_ascii_uppercase().as_str() {
            "UID" => Item::Uid,
            "FLAGS" => Item::Flags,
            "RFC822.SIZE" => Item::Size,
            "BODY[]" => Item::Body { peek: false },
            "BODY.PEEK[]" => Item::Body { peek: true },
            _ => return None,
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    // Reading BODY[] sets \Seen, and the new flags must then be reported (RFC 3501, 6.4.5).
    if items.contains(&Item::Body { peek: false }) && !items.contains(&Item::Flags) {
        items.push(Item::Flags);
    }

    let mut state = shared.lock();
    let last = state.messages.last().map_or(0, |m| m.uid);
    let mut out = Vec::new();
    for (index, message) in state.messages.iter_mut().enumerate() {
        if !set.contains(message.uid, last) {
            continue;
        }
        if items.contains(&Item::Body { peek: false }) {
            message.seen = true;
        }
        let mut parts: Vec<Vec<u8>> = Vec::new();
        for item in &items {
            parts.push(match item {
                Item::Uid => format!("UID {}", message.uid).into_bytes(),
                Item::Flags => format!("FLAGS ({})", if message.seen { "\\Seen" } else { "" }).into_bytes(),
                Item::Size => format!("RFC822.SIZE {}", message.raw.len()).into_bytes(),
                Item::Body { .. } => {
                    let mut part = format!("BODY[] {{{}}}\r\n", message.raw.len()).into_bytes();
                    part.extend_from_slice(&message.raw);
                    part
                }
            });
        }
        out.extend_from_slice(format!("* {} FETCH (", index + 1).as_bytes());
        out.extend_from_slice(&parts.join(&b' '));
        out.extend_from_slice(b")\r\n");
    }
    Some(out)
}

/// Applies a flag change; the untagged FETCH responses (none with `.SILENT`), or `None`.
fn store(shared: &Shared, args: &mut Args<'_>) -> Option<Vec<u8>> {
    let set = UidSet::parse(&args.atom()?)?;
    let action = args.atom()?.to_ascii_uppercase();
    let (action, silent) = match action.strip_suffix(".SILENT") {
        Some(a) => (a.to_string(), true),
        None => (action, false),
    };
    let flags = match args.list() {
        Some(flags) => flags,
        None => vec![args.atom()?],
    };
    if !args.end() || flags.iter().any(|f| !f.eq_ignore_ascii_case("\\Seen")) {
        return None;
    }
    let set_seen = match action.as_str() {
        "+FLAGS" if !flags.is_empty() => Some(true),
        "-FLAGS" if !flags.is_empty() => Some(false),
        "FLAGS" => Some(!flags.is_empty()),
        _ => None,
    }?;

    let mut state = shared.lock();
    let last = state.messages.last().map_or(0, |m| m.uid);
    let mut out = Vec::new();
    for (index, message) in state.messages.iter_mut().enumerate() {
        if set.contains(message.uid, last) {
            message.seen = set_seen;
            if !silent {
                let flags = if message.seen { "\\Seen" } else { "" };
                out.extend_from_slice(
                    format!("* {} FETCH (UID {} FLAGS ({flags}))\r\n", index + 1, message.uid).as_bytes(),
                );
            }
        }
    }
    Some(out)
}

/// A UID set: `1`, `1:3`, `2,4:6`, `5:*`; `*` is the highest UID in the mailbox.
#[derive(Debug, PartialEq, Eq)]
struct UidSet(Vec<(Option<u32>, Option<u32>)>);

impl UidSet {
    fn parse(text: &str) -> Option<UidSet> {
        let number = |s: &str| -> Option<Option<u32>> {
            if s == "*" {
                return Some(None);
            }
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse::<u32>().ok().filter(|n| *n > 0).map(Some)
        };
        let ranges = text
            .split(',')
            .map(|part| match part.split_once(':') {
                Some((a, b)) => Some((number(a)?, number(b)?)),
                None => number(part).map(|n| (n, n)),
            })
            .collect::<Option<Vec<_>>>()?;
        Some(UidSet(ranges))
    }

    /// Whether `uid` is in the set when the mailbox's highest UID is `last`. A range is read in
    /// either order, so `7:*` still names the last message when `last` is below 7.
    fn contains(&self, uid: u32, last: u32) -> bool {
        self.0.iter().any(|(a, b)| {
            let (a, b) = (a.unwrap_or(last), b.unwrap_or(last));
            a.min(b) <= uid && uid <= a.max(b)
        })
    }
}

/// A cursor over one command's arguments (literals already inlined by [`read_command`]).
struct Args<'a> {
    rest: &'a [u8],
}

impl<'a> Args<'a> {
    fn new(line: &'a [u8]) -> Args<'a> {
        Args { rest: strip_crlf(line) }
    }

    fn skip_space(&mut self) {
        while let [b' ', rest @ ..] = self.rest {
            self.rest = rest;
        }
    }

    /// True when nothing but spaces is left.
    fn end(&mut self) -> bool {
        self.skip_space();
        self.rest.is_empty()
    }

    /// An atom; square brackets may enclose spaces (`BODY.PEEK[HEADER.FIELDS (A B)]`).
    fn atom(&mut self) -> Option<String> {
        self.skip_space();
        let mut depth = 0usize;
        let mut len = 0;
        for &b in self.rest {
            match b {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b' ' | b'(' | b')' | b'"' | b'{' if depth == 0 => break,
                _ => {}
            }
            len += 1;
        }
        if len == 0 {
            return None;
        }
        let (atom, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(String::from_utf8_lossy(atom).into_owned())
    }

    /// An atom, a quoted string (with `\\` and `\"`) or a literal `{n}\r\n` + n bytes.
    fn astring(&mut self) -> Option<Vec<u8>> {
        self.skip_space();
        match self.rest.first()? {
            b'"' => {
                let mut out = Vec::new();
                let mut i = 1;
                loop {
                    match *self.rest.get(i)? {
                        b'"' => break,
                        b'\\' => {
                            out.push(*self.rest.get(i + 1)?);
                            i += 2;
                        }
                        b => {
                            out.push(b);
                            i += 1;
                        }
                    }
                }
                self.rest = &self.rest[i + 1..];
                Some(out)
            }
            b'{' => {
                let close = self.rest.iter().position(|b| *b == b'}')?;
                let size: usize = std::str::from_utf8(&self.rest[1..close]).ok()?.trim_end_matches('+').parse().ok()?;
                let body = self.rest.get(close + 1..)?.strip_prefix(b"\r\n")?;
                let data = body.get(..size)?.to_vec();
                self.rest = &body[size..];
                Some(data)
            }
            _ => self.atom().map(String::into_bytes),
        }
    }

    /// A parenthesised list of atoms; `None` (consuming nothing) if there is no well-formed list.
    fn list(&mut self) -> Option<Vec<String>> {
        self.skip_space();
        let saved = self.rest;
        self.rest = self.rest.strip_prefix(b"(")?;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if let Some(rest) = self.rest.strip_prefix(b")") {
                self.rest = rest;
                return Some(items);
            }
            match self.atom() {
                Some(item) => items.push(item),
                None => {
                    self.rest = saved;
                    return None;
                }
            }
        }
    }
}

/// Reads one command including its terminator. A line ending in a literal marker `{n}` is
/// answered with a continuation, and the literal and the rest of the command are appended.
/// `None` at end of stream, or when the command grows past [`MAX_LINE`].
async fn read_command<R, W>(reader: &mut R, write: &mut W) -> std::io::Result<Option<Vec<u8>>>
where
    R: AsyncBufReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut command = Vec::new();
    loop {
        let budget = MAX_LINE.saturating_sub(command.len()) as u64;
        let start = command.len();
        let n = (&mut *reader).take(budget).read_until(b'\n', &mut command).await?;
        if n == 0 || !command.ends_with(b"\n") {
            return Ok(None);
        }
        let Some(size) = literal_size(&command[start..]) else { return Ok(Some(command)) };
        if command.len() + size.0 > MAX_LINE {
            return Ok(None);
        }
        if !size.1 {
            write.write_all(b"+ Ready for literal data\r\n").await?;
        }
        let mut literal = vec![0; size.0];
        reader.read_exact(&mut literal).await?;
        command.extend_from_slice(&literal);
    }
}

/// `(n, non_synchronising)` when the line ends in `{n}` or `{n+}`.
fn literal_size(line: &[u8]) -> Option<(usize, bool)> {
    let inner = strip_crlf(line).strip_suffix(b"}")?;
    let open = inner.iter().rposition(|b| *b == b'{')?;
    let digits = &inner[open + 1..];
    let (digits, plus) = match digits.strip_suffix(b"+") {
        Some(d) => (d, true),
        None => (digits, false),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((std::str::from_utf8(digits).ok()?.parse().ok()?, plus))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets() {
        let set = UidSet::parse("1,3:4,9:*").unwrap();
        let hits: Vec<u32> = (1..=12).filter(|uid| set.contains(*uid, 12)).collect();
        assert_eq!(hits, vec![1, 3, 4, 9, 10, 11, 12]);
        assert!(UidSet::parse("20:*").unwrap().contains(5, 5), "n:* names the last message");
        assert!(UidSet::parse("5:2").unwrap().contains(3, 9));
        for bad in ["", "0", "1,", "a", "1:", ":2", "1::2", "-1"] {
            assert_eq!(UidSet::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn arguments() {
        let line = b"a1 LOGIN \"us\\\"er\" {4}\r\np w \"x\"\r\n";
        let mut args = Args::new(line);
        assert_eq!(args.atom().as_deref(), Some("a1"));
        assert_eq!(args.atom().as_deref(), Some("LOGIN"));
        assert_eq!(args.astring().as_deref(), Some(&b"us\"er"[..]));
        assert_eq!(args.astring().as_deref(), Some(&b"p w "[..]));
        assert_eq!(args.astring().as_deref(), Some(&b"x"[..]));
        assert!(args.end());

        let mut args = Args::new(b"1:3 (UID BODY.PEEK[HEADER.FIELDS (FROM TO)] FLAGS)\r\n");
        assert_eq!(args.atom().as_deref(), Some("1:3"));
        assert_eq!(args.list(), Some(vec!["UID".into(), "BODY.PEEK[HEADER.FIELDS (FROM TO)]".into(), "FLAGS".into()]));
        assert!(args.end());
    }

    #[test]
    fn literal_markers() {
        assert_eq!(literal_size(b"a LOGIN {5}\r\n"), Some((5, false)));
        assert_eq!(literal_size(b"a LOGIN {12+}\r\n"), Some((12, true)));
        assert_eq!(literal_size(b"a LOGIN {}\r\n"), None);
        assert_eq!(literal_size(b"a NOOP\r\n"), None);
    }
}
