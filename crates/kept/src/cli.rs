//! Subcommands and their arguments.

use crate::config::{self, DEFAULT_DATABASE_URL, DEFAULT_LISTEN, FileConfig};
use crate::demo::{self, DemoOptions};
use clap::{Args, Parser, Subcommand};
use kept_core::people::Role;
use kept_core::permissions::Principal;
use kept_core::values::{Email, Name, Password};
use kept_server::clock::{Clock, SystemClock};
use kept_server::config::ServerConfig;
use kept_server::state::AppState;
use kept_store::{NewUser, PoolSize, Store, StoreError};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Why a command failed, and the exit code to report: 2 for configuration
/// and database problems the user must fix, 1 for everything else.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Bad input from the user (a file, an argument): exit code 2.
    pub fn input(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

impl Failure {
    fn config(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
    fn other(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Config(m) => Failure::config(m),
            StoreError::Unavailable(m) => Failure::config(format!("cannot open the database: {m}")),
            StoreError::Migration(m) => Failure::config(format!("cannot migrate the database: {m}")),
            StoreError::Domain(d) => match d.field() {
                Some(f) => Failure::other(format!("{f}: {d}")),
                None => Failure::other(d.to_string()),
            },
            other => Failure::other(other.to_string()),
        }
    }
}

#[derive(Parser)]
#[command(name = "kept", version, about = "kept — the service desk that keeps its promises")]
struct Cli {
    /// A TOML configuration file (see `kept config default`).
    #[arg(long, env = "KEPT_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and API (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Generate a demo organisation with realistic history into the database.
    Demo(DemoArgs),
    /// Import case histories from another desk: JSON Lines, one case per line
    /// (docs/IMPORT.md). Exit 0: all imported; 1: some lines rejected; 2: unusable input.
    Import(ImportArgs),
    /// Manage people.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Business-time arithmetic on a calendar file (the JSON the API accepts).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Copy the SQLite database to FILE while kept serve keeps running.
    Backup(BackupArgs),
    /// Replace the SQLite database with a backup FILE (stop kept serve first).
    Restore(BackupArgs),
    /// Recompute every scorecard rollup from the event log.
    RebuildMetrics(crate::metrics_cli::RebuildArgs),
    /// Measure scorecard answer times on the database (BENCHMARKS.md).
    BenchScorecards(crate::metrics_cli::BenchArgs),
    /// Measure intake over HTTP, the storage floor and reads (BENCHMARKS.md).
    Bench(crate::bench::BenchArgs),
}

#[derive(Args)]
struct BackupArgs {
    /// The backup file: written by `backup`, read by `restore`.
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    /// Replace an existing file (backup) or database (restore).
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Print when a promise of N business minutes made at --from is due (RFC 3339, UTC).
    Due {
        #[arg(long)]
        calendar: PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        business_minutes: i64,
    },
    /// Print the business seconds between --from and --to.
    Between {
        #[arg(long)]
        calendar: PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

#[derive(Args, Clone)]
pub(crate) struct DbArgs {
    /// sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://kept-data/kept.db]
    #[arg(long, env = "KEPT_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// ADDR:PORT to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "KEPT_LISTEN")]
    listen: Option<String>,
    /// Mark cookies Secure (when users reach kept over https).
    #[arg(long, env = "KEPT_SECURE_COOKIES")]
    secure_cookies: Option<bool>,
    /// Seed a demo organisation first if the database is empty.
    #[arg(long)]
    demo: bool,
    /// Where your people are (IANA name, e.g. Europe/London) [default: UTC;
    /// America/New_York with --demo].
    #[arg(long, env = "KEPT_TIME_ZONE")]
    time_zone: Option<String>,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The organisation's IANA time zone: scorecards count its days [default: America/New_York].
    #[arg(long, env = "KEPT_TIME_ZONE")]
    time_zone: Option<String>,
    #[command(flatten)]
    options: DemoOptions,
}

#[derive(Args)]
struct ImportArgs {
    /// The JSON Lines file (`-` reads stdin).
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a person. The password is read from KEPT_PASSWORD or, if unset, from stdin.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager, agent or contact
        #[arg(long, default_value = "agent")]
        role: String,
        /// For contacts: the account id.
        #[arg(long)]
        account_id: Option<i64>,
        /// Create the person without a password (they cannot log in yet).
        #[arg(long)]
        no_password: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a person and print it (once).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The person's email.
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration file.
    Default,
}

pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

fn init_logging(format: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEPT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kept=info,kept_server=info,kept_store=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == Some("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub async fn run() -> Result<(), Failure> {
    let cli = Cli::parse();
    let file = FileConfig::load(cli.config.as_ref()).map_err(Failure::config)?;
    init_logging(file.log_format.as_deref());
    let url =
        |db: DbArgs| db.database_url.or(file.database_url.clone()).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    match cli.command {
        Command::Serve(args) => serve(args, &file, url).await,
        Command::Migrate(db) => {
            let store = Store::open(&url(db), PoolSize::default()).await?;
            store.migrate().await?;
            out("migrations applied");
            Ok(())
        }
        Command::Demo(args) => {
            let zone = parse_zone(
                &args.time_zone.clone().or(file.time_zone.clone()).unwrap_or_else(|| "America/New_York".into()),
            )?;
            let store = Store::open_and_migrate(&url(args.db), PoolSize::default())
                .await?
                .with_mail(kept_store::MailSettings { time_zone: zone, ..Default::default() });
            let summary = demo::seed(&store, &args.options, SystemClock.now()).await?;
            out(&summary.to_string());
            Ok(())
        }
        Command::Import(args) => {
            let store = Store::open_and_migrate(&url(args.db), PoolSize::default()).await?;
            let report = crate::import_cli::run(&store, &args.file, SystemClock.now()).await;
            store.close().await;
            let report = report?;
            out(&report.to_string());
            report.outcome()
        }
        Command::User(UserCommand::Create { db, email, name, role, account_id, no_password }) => {
            let store = Store::open_and_migrate(&url(db), PoolSize::default()).await?;
            create_user(&store, &email, &name, &role, account_id, no_password).await
        }
        Command::Token(TokenCommand::Create { db, user, name }) => {
            let store = Store::open_and_migrate(&url(db), PoolSize::default()).await?;
            let token = create_token(&store, &user, &name).await?;
            out(&token);
            Ok(())
        }
        Command::Calendar(cmd) => {
            out(&crate::calendar_cli::run(cmd_args(cmd))?);
            Ok(())
        }
        Command::Config(ConfigCommand::Default) => {
            out(config::EXAMPLE);
            Ok(())
        }
        Command::Backup(args) => {
            let url = url(args.db);
            backup(&args.file, &url, args.force).await
        }
        Command::RebuildMetrics(args) => {
            let store = Store::open_and_migrate(&url(args.db.clone()), PoolSize::default()).await?;
            crate::metrics_cli::rebuild(store, &args, file.time_zone.as_deref()).await
        }
        Command::Bench(args) => crate::bench::run(args).await,
        Command::BenchScorecards(args) => {
            let store = Store::open_and_migrate(&url(args.db.clone()), PoolSize::default()).await?;
            crate::metrics_cli::bench(store, &args).await
        }
        Command::Restore(args) => {
            let url = url(args.db);
            if kept_store::sqlite_path(&url)?.is_none() {
                return Err(Failure::config(postgres_advice(&url, &args.file)));
            }
            let contents = kept_store::restore_sqlite(&args.file, &url, args.force).await?;
            out(&format!("restored {} cases, {} events from {}", contents.cases, contents.events, args.file.display()));
            Ok(())
        }
    }
}

async fn backup(file: &std::path::Path, url: &str, force: bool) -> Result<(), Failure> {
    let Some(database) = kept_store::sqlite_path(url)? else {
        return Err(Failure::config(postgres_advice(url, file)));
    };
    // Opening would create an empty database, and back that up.
    if !database.is_file() {
        return Err(Failure::config(format!("no database at {}: nothing to back up", database.display())));
    }
    let store = Store::open(url, PoolSize { max: 1 }).await?;
    let result = store.backup_to(file, force).await;
    store.close().await;
    let contents = result?;
    out(&format!("backed up {} cases, {} events to {}", contents.cases, contents.events, file.display()));
    Ok(())
}

/// kept does not run pg_dump itself (its version must match the server's,
/// and it has its own authentication); it says exactly what to run.
fn postgres_advice(url: &str, file: &std::path::Path) -> String {
    let url = shell_quote(&without_password(url));
    let file = shell_quote(&file.display().to_string());
    format!(
        "PostgreSQL databases are backed up and restored with PostgreSQL's own tools (see docs/OPERATIONS.md):\n  \
         back up:  pg_dump --format=custom --file={file} --dbname={url}\n  \
         restore:  pg_restore --clean --if-exists --no-owner --dbname={url} {file}\n\
         (the password is left out: give it in PGPASSWORD or ~/.pgpass)"
    )
}

/// The URL without its password, for printing: `postgres://user:secret@host/db`
/// becomes `postgres://user@host/db`, and a `password=` parameter is dropped.
fn without_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut shown = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
            let authority = match authority.rsplit_once('@') {
                Some((user, host)) => {
                    format!("{}@{host}", user.split_once(':').map_or(user, |(name, _)| name))
                }
                None => authority.to_owned(),
            };
            match path {
                Some(path) => format!("{scheme}://{authority}/{path}"),
                None => format!("{scheme}://{authority}"),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let kept: Vec<&str> = query.split('&').filter(|p| !p.to_ascii_lowercase().starts_with("password=")).collect();
        if !kept.is_empty() {
            shown.push('?');
            shown.push_str(&kept.join("&"));
        }
    }
    shown
}

/// Single quotes for a POSIX shell, so a pasted command means what it says.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn cmd_args(cmd: CalendarCommand) -> crate::calendar_cli::Args {
    match cmd {
        CalendarCommand::Due { calendar, from, business_minutes } => {
            crate::calendar_cli::Args::Due { calendar, from, business_minutes }
        }
        CalendarCommand::Between { calendar, from, to } => crate::calendar_cli::Args::Between { calendar, from, to },
    }
}

async fn serve(args: ServeArgs, file: &FileConfig, url: impl Fn(DbArgs) -> String) -> Result<(), Failure> {
    let listen = args.listen.or(file.listen.clone()).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen = config::parse_listen(&listen).map_err(Failure::config)?;
    let store = Store::open_and_migrate(&url(args.db), PoolSize::default()).await?;
    // Bound before the configuration is complete: links in mail need the
    // real port when the listen address asks for any (port 0).
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Failure::config(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener.local_addr().map_err(|e| Failure::other(e.to_string()))?;
    let clock = Arc::new(SystemClock);
    let zone = args
        .time_zone
        .clone()
        .or(file.time_zone.clone())
        .unwrap_or_else(|| if args.demo { "America/New_York".into() } else { "UTC".into() });
    let zone = parse_zone(&zone)?;
    let mut logins = None;
    if args.demo {
        // Seeded in the organisation's zone: the scorecards count its days.
        let seeding =
            store.clone().with_mail(kept_store::MailSettings { time_zone: zone.clone(), ..Default::default() });
        logins = Some(demo::seed_if_empty(&seeding, clock.now()).await?);
    }
    let mut config = ServerConfig { listen, ..ServerConfig::default() };
    config.secure_cookies = args.secure_cookies.or(file.secure_cookies).unwrap_or(false);
    if let Some(hours) = file.session_hours {
        config.session_ttl = Duration::from_secs(hours.max(1) * 3600);
    }
    if let Some(bytes) = file.max_body_bytes {
        config.max_body_bytes = bytes.max(1024);
    }
    if let Some(bytes) = file.max_import_bytes {
        config.max_import_bytes = bytes.max(1024);
    }
    if let Some(public) = &file.public_url {
        let public = public.trim().trim_end_matches('/');
        if !(public.starts_with("http://") || public.starts_with("https://")) {
            return Err(Failure::config(format!("public_url '{public}' must start with http:// or https://")));
        }
        config.public_url = public.to_owned();
    } else {
        // Without a configured address, links point at the listening one.
        config.public_url = format!("http://{bound}");
    }
    config.time_zone = zone;
    if let Some(mail) = &file.mail {
        let (smtp, imap) = (std::env::var("KEPT_SMTP_PASSWORD").ok(), std::env::var("KEPT_IMAP_PASSWORD").ok());
        config.mail = mail.to_config(smtp, imap).map_err(Failure::config)?;
    }
    let server = kept_server::Server::from_listener(listener, AppState::new(store.clone(), clock, config));
    out(&format!("kept is running at http://{bound}"));
    if let Some(logins) = logins {
        out(&logins.to_string());
    }
    server.run_until(shutdown_signal()).await.map_err(|e| Failure::other(e.to_string()))?;
    store.close().await;
    Ok(())
}

pub(crate) fn parse_zone(name: &str) -> Result<jiff::tz::TimeZone, Failure> {
    jiff::tz::TimeZone::get(name)
        .map_err(|_| Failure::config(format!("unknown time zone '{name}' (use an IANA name like Europe/London)")))
}

/// Resolves on Ctrl-C or SIGTERM; the server then finishes in-flight requests.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn read_password() -> Result<String, Failure> {
    if let Ok(p) = std::env::var("KEPT_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Failure::other(format!("cannot read the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn create_user(
    store: &Store,
    email: &str,
    name: &str,
    role: &str,
    account: Option<i64>,
    no_password: bool,
) -> Result<(), Failure> {
    let field = |e: kept_core::FieldError| Failure::other(format!("{}: {}", e.field, e.message));
    let password_hash = if no_password {
        None
    } else {
        let password = Password::parse("password", &read_password()?).map_err(field)?;
        Some(kept_server::auth::secrets::hash_password(password.expose()).map_err(|e| Failure::other(e.to_string()))?)
    };
    let new = NewUser {
        email: Email::parse("email", email).map_err(field)?,
        name: Name::parse("name", name).map_err(field)?,
        role: Role::parse("role", role).map_err(field)?,
        account_id: account.map(kept_core::ids::AccountId),
        password_hash,
    };
    let user = store.create_user(&Principal::system(), new, SystemClock.now()).await?;
    out(&format!("created {} {} (id {})", user.role, user.email, user.id));
    Ok(())
}

pub(crate) async fn create_token(store: &Store, email: &str, name: &str) -> Result<String, Failure> {
    let email = Email::parse("user", email).map_err(|e| Failure::other(format!("user: {}", e.message)))?;
    let user =
        store.user_by_email(&email).await?.ok_or_else(|| Failure::other(format!("no person has the email {email}")))?;
    let secret = kept_server::auth::secrets::new_api_token().map_err(|e| Failure::other(e.to_string()))?;
    let prefix: String = secret.chars().take(12).collect();
    let digest = kept_server::auth::secrets::digest(&secret);
    store.create_api_token(&Principal::system(), user.id, name, &digest, &prefix, SystemClock.now()).await?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::{shell_quote, without_password};

    #[test]
    fn printed_postgres_urls_keep_the_user_and_lose_the_password() {
        assert_eq!(without_password("postgres://kept:s3cret@db:5432/kept"), "postgres://kept@db:5432/kept");
        assert_eq!(
            without_password("postgresql://kept@db/kept?sslmode=require"),
            "postgresql://kept@db/kept?sslmode=require"
        );
        assert_eq!(
            without_password("postgres://db/kept?password=s3cret&sslmode=require"),
            "postgres://db/kept?sslmode=require"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
