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
    pub log_format: Option<String>,
    pub time_zone: Option<String>,
    pub public_url: Option<String>,
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

# Log lines as "text" or "json".
log_format = "text"

# Where your people are (IANA name): agents enter promise times ("call back
# by 15:00") in it. Business calendars carry their own zones.
time_zone = "UTC"

# The address customers use to reach kept: survey links in mail start with it.
public_url = "http://127.0.0.1:8080"
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
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }
}
