//! What the HTTP server needs to know, built once at start and passed down.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Mark cookies `Secure`. On when kept is served over TLS (directly or
    /// behind a proxy that terminates it); leave off for plain http on loopback.
    pub secure_cookies: bool,
    /// How long a browser session lasts after login.
    pub session_ttl: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The largest history import accepted over the API (`POST /api/v1/import`), in bytes.
    pub max_import_bytes: usize,
    /// Failed logins allowed per email and per client address in one window.
    pub login_attempts: u32,
    pub login_window: Duration,
    /// Run due jobs (promise deadlines) in this process.
    pub run_jobs: bool,
    /// Where people are, for reading and entering local times (agent
    /// promises "by 15:00") and explaining clocks without a calendar.
    pub time_zone: jiff::tz::TimeZone,
    pub mail: MailConfig,
    /// Where customers reach this kept: survey links in mail start with it.
    pub public_url: String,
    /// Survey answers accepted per client address in one window (a flood is refused with 429).
    pub survey_posts: u32,
    pub survey_window: Duration,
}

/// Email: who kept writes as, where it sends, what it accepts.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The From of every email (the support address customers reply to).
    pub from: kept_mail::Mailbox,
    /// Where to send; without it mail waits in the outbox (nothing is lost).
    pub smtp: Option<kept_mail::outbound::SmtpConfig>,
    /// Size limits for inbound mail and its attachments.
    pub limits: kept_mail::inbound::Limits,
    /// A mailbox to poll for customer mail (besides POST /api/v1/inbound/email).
    pub imap: Option<kept_mail::imap::ImapConfig>,
    pub imap_interval: Duration,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            from: kept_mail::Mailbox { email: "support@kept.localhost".into(), name: Some("Support".into()) },
            smtp: None,
            limits: kept_mail::inbound::Limits {
                max_attachment_bytes: 10 * 1024 * 1024,
                max_total_bytes: 25 * 1024 * 1024,
            },
            imap: None,
            imap_interval: Duration::from_secs(60),
        }
    }
}

impl MailConfig {
    /// The domain of the from-address: Message-IDs kept makes end in it.
    pub fn domain(&self) -> &str {
        self.from.email.rsplit_once('@').map(|(_, d)| d).unwrap_or("kept.localhost")
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 64 * 1024 * 1024,
            login_attempts: 10,
            login_window: Duration::from_secs(15 * 60),
            run_jobs: true,
            time_zone: jiff::tz::TimeZone::UTC,
            mail: MailConfig::default(),
            public_url: "http://127.0.0.1:8080".into(),
            survey_posts: 30,
            survey_window: Duration::from_secs(10 * 60),
        }
    }
}
