//! Configuration: defaults, then an optional TOML file, then `KEPT_*`
//! environment variables, then flags (clap reads the last two). One typed
//! value, built at start and passed down; secrets never printed.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://kept-data/kept.db";

/// The TOML file's shape. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub secure_cookies: Option<bool>,
    pub session_hours: Option<u64>,
    pub max_body_bytes: Option<usize>,
    pub max_import_bytes: Option<usize>,
    pub log_format: Option<String>,
    pub time_zone: Option<String>,
    pub public_url: Option<String>,
    pub mail: Option<MailFile>,
}

/// `[mail]`: the support address and the SMTP server.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailFile {
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// none, starttls or tls.
    pub smtp_security: Option<String>,
    pub smtp_username: Option<String>,
    /// Better in KEPT_SMTP_PASSWORD than in a file.
    pub smtp_password: Option<String>,
    pub max_attachment_bytes: Option<usize>,
    pub max_message_bytes: Option<usize>,
    pub imap_host: Option<String>,
    pub imap_port: Option<u16>,
    /// tls (993) or none (loopback only: the password travels in clear).
    pub imap_security: Option<String>,
    pub imap_username: Option<String>,
    /// Better in KEPT_IMAP_PASSWORD than in a file.
    pub imap_password: Option<String>,
    pub imap_mailbox: Option<String>,
    pub imap_interval_secs: Option<u64>,
}

impl MailFile {
    /// The server's mail settings; `password_env` (KEPT_SMTP_PASSWORD) wins over the file.
    pub fn to_config(
        &self,
        password_env: Option<String>,
        imap_password_env: Option<String>,
    ) -> Result<kept_server::config::MailConfig, String> {
        use kept_mail::outbound::{Security, SmtpConfig};
        let mut config = kept_server::config::MailConfig::default();
        if let Some(from) = &self.from {
            config.from = kept_mail::Mailbox::new(from, self.from_name.as_deref())
                .ok_or_else(|| format!("mail.from: '{from}' is not an email address"))?;
        }
        if let Some(host) = &self.smtp_host {
            let security = match self.smtp_security.as_deref().unwrap_or("starttls") {
                "none" => Security::None,
                "starttls" => Security::StartTls,
                "tls" => Security::Tls,
                other => return Err(format!("mail.smtp_security: '{other}' is not one of none, starttls, tls")),
            };
            let port = self.smtp_port.unwrap_or(match security {
                Security::None => 25,
                Security::StartTls => 587,
                Security::Tls => 465,
            });
            config.smtp = Some(SmtpConfig {
                host: host.clone(),
                port,
                security,
                username: self.smtp_username.clone(),
                password: password_env.or_else(|| self.smtp_password.clone()),
                timeout_secs: 30,
                hello_name: None,
            });
        }
        if let Some(bytes) = self.max_attachment_bytes {
            config.limits.max_attachment_bytes = bytes;
        }
        if let Some(bytes) = self.max_message_bytes {
            config.limits.max_total_bytes = bytes.max(1024);
        }
        if let Some(host) = &self.imap_host {
            use kept_mail::imap::{ImapConfig, ImapSecurity};
            let security = match self.imap_security.as_deref().unwrap_or("tls") {
                "none" => ImapSecurity::None,
                "tls" => ImapSecurity::Tls,
                other => return Err(format!("mail.imap_security: '{other}' is not one of tls, none")),
            };
            let username = self.imap_username.clone().ok_or("mail.imap_username is required with imap_host")?;
            let password = imap_password_env
                .or_else(|| self.imap_password.clone())
                .ok_or("mail.imap_password (or KEPT_IMAP_PASSWORD) is required with imap_host")?;
            config.imap = Some(ImapConfig {
                host: host.clone(),
                port: self.imap_port.unwrap_or(if security == ImapSecurity::Tls { 993 } else { 143 }),
                security,
                username,
                password,
                mailbox: self.imap_mailbox.clone().unwrap_or_else(|| "INBOX".into()),
                timeout_secs: 30,
            });
            config.imap_interval = std::time::Duration::from_secs(self.imap_interval_secs.unwrap_or(60).max(5));
        }
        Ok(config)
    }
}

impl FileConfig {
    pub fn load(path: Option<&PathBuf>) -> Result<Self, String> {
        let Some(path) = path else { return Ok(Self::default()) };
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }
}

pub fn parse_listen(raw: &str) -> Result<SocketAddr, String> {
    raw.parse().map_err(|_| format!("invalid listen address '{raw}': use ADDR:PORT, e.g. 127.0.0.1:8080"))
}

/// `kept config default`: a commented example.
pub const EXAMPLE: &str = r#"# kept configuration. Every key is optional; KEPT_* environment variables
# (KEPT_LISTEN, KEPT_DATABASE_URL, ...) and command-line flags override it.

# Where to listen for HTTP.
listen = "127.0.0.1:8080"

# sqlite://PATH (embedded, the default) or postgres://USER:PASSWORD@HOST/DB.
database_url = "sqlite://kept-data/kept.db"

# Mark cookies Secure: turn on when users reach kept over https.
secure_cookies = false

# How long a browser session lasts.
session_hours = 168

# The largest request body accepted.
max_body_bytes = 1048576

# The largest history import accepted by POST /api/v1/import (kept import has no limit).
max_import_bytes = 67108864

# Log lines as "text" or "json".
log_format = "text"

# Where your people are (IANA name): agents enter promise times ("call back
# by 15:00") in it. Business calendars carry their own zones.
time_zone = "UTC"

# The address customers use to reach kept: survey links in mail start with it.
public_url = "http://127.0.0.1:8080"

# Email. Without smtp_host, mail waits in the outbox (GET /api/v1/mail/outbox)
# until an SMTP server is configured; nothing is lost.
[mail]
from = "support@example.com"
from_name = "Example Support"
# smtp_host = "smtp.example.com"
# smtp_port = 587
# smtp_security = "starttls"       # none, starttls or tls
# smtp_username = "kept"
# smtp_password: set KEPT_SMTP_PASSWORD instead of writing it here.
max_attachment_bytes = 10485760
max_message_bytes = 26214400
# Poll a mailbox for customer mail (besides POST /api/v1/inbound/email):
# imap_host = "imap.example.com"
# imap_port = 993
# imap_security = "tls"            # tls, or none on loopback only
# imap_username = "support@example.com"
# imap_password: set KEPT_IMAP_PASSWORD instead of writing it here.
# imap_mailbox = "INBOX"
# imap_interval_secs = 60
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_a_valid_config() {
        let c: FileConfig = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(c.listen.as_deref(), Some(DEFAULT_LISTEN));
        assert_eq!(c.database_url.as_deref(), Some(DEFAULT_DATABASE_URL));
    }

    #[test]
    fn mail_settings_are_checked() {
        let file: FileConfig = toml::from_str("[mail]\nfrom = \"help@acme.example\"\nsmtp_host = \"mx\"\n").unwrap();
        let mail = file.mail.unwrap().to_config(Some("s3cret".into()), None).unwrap();
        let smtp = mail.smtp.unwrap();
        assert_eq!((smtp.port, smtp.password.as_deref()), (587, Some("s3cret")));
        assert_eq!(mail.from.email, "help@acme.example");
        let bad: FileConfig = toml::from_str("[mail]\nfrom = \"nope\"\n").unwrap();
        assert!(bad.mail.unwrap().to_config(None, None).unwrap_err().contains("mail.from"));
        let bad: FileConfig = toml::from_str("[mail]\nsmtp_host = \"mx\"\nsmtp_security = \"ssl\"\n").unwrap();
        assert!(bad.mail.unwrap().to_config(None, None).unwrap_err().contains("smtp_security"));
        let imap: FileConfig = toml::from_str("[mail]\nimap_host = \"imap\"\nimap_username = \"u\"\n").unwrap();
        assert!(imap.mail.as_ref().unwrap().to_config(None, None).unwrap_err().contains("KEPT_IMAP_PASSWORD"));
        let config = imap.mail.unwrap().to_config(None, Some("pw".into())).unwrap().imap.unwrap();
        assert_eq!((config.port, config.mailbox.as_str(), config.password.as_str()), (993, "INBOX", "pw"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }
}
