//! Configuration, in layers: a flag wins over its `TOLLGATE_*` environment variable,
//! which wins over the optional TOML file (`--config`, `TOLLGATE_CONFIG`), which wins over
//! the default, so `tollgate serve` runs with nothing configured. Secrets never show in
//! `Debug` (a logged configuration): webhook secrets are [`Secret`]s and a database URL's
//! password is masked.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A value that must not appear in logs: `Debug` shows `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Ok(Secret(raw.to_owned()))
    }
}

/// `scheme://user:password@host/…` with the password masked, for logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{}{}:***{}", &url[..scheme_end], &rest[..colon], &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The settings a TOML file may hold, and the environment variable each one stands for.
pub const FILE_SETTINGS: [(&str, &str); 21] = [
    ("addr", "TOLLGATE_ADDR"),
    ("database_url", "TOLLGATE_DATABASE_URL"),
    ("catalog", "TOLLGATE_CATALOG"),
    ("demo", "TOLLGATE_DEMO"),
    ("signup", "TOLLGATE_SIGNUP"),
    ("public_url", "TOLLGATE_PUBLIC_URL"),
    ("billing_portal_url", "TOLLGATE_BILLING_PORTAL_URL"),
    ("log_format", "TOLLGATE_LOG_FORMAT"),
    ("service_rate_limit", "TOLLGATE_SERVICE_RATE_LIMIT"),
    ("ingest_max_future_secs", "TOLLGATE_INGEST_MAX_FUTURE_SECS"),
    ("ingest_max_age_days", "TOLLGATE_INGEST_MAX_AGE_DAYS"),
    ("whop_webhook_secret", "TOLLGATE_WHOP_WEBHOOK_SECRET"),
    ("stripe_webhook_secret", "TOLLGATE_STRIPE_WEBHOOK_SECRET"),
    ("site_root", "LEPTOS_SITE_ROOT"),
    ("metrics_token", "TOLLGATE_METRICS_TOKEN"),
    ("stripe_mode", "TOLLGATE_STRIPE_MODE"),
    ("trusted_proxies", "TOLLGATE_TRUSTED_PROXIES"),
    ("smtp_url", "TOLLGATE_SMTP_URL"),
    ("smtp_from", "TOLLGATE_SMTP_FROM"),
    ("webhook_allow_nets", "TOLLGATE_WEBHOOK_ALLOW_NETS"),
    ("delivery_retry_secs", "TOLLGATE_DELIVERY_RETRY_SECS"),
];

/// The environment a TOML settings file stands for: `(variable, value)` per setting.
/// An unknown setting or a value that is not a string, number or boolean is refused with
/// the list of known settings.
pub fn file_settings(text: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let table: toml::Table = text.parse().context("the file is not valid TOML")?;
    let mut out = Vec::with_capacity(table.len());
    for (key, value) in table {
        let Some((_, variable)) = FILE_SETTINGS.iter().find(|(name, _)| *name == key) else {
            let known: Vec<_> = FILE_SETTINGS.iter().map(|(name, _)| *name).collect();
            bail!("unknown setting `{key}`; the settings are: {}", known.join(", "));
        };
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(x) => x.to_string(),
            other => bail!("`{key}` must be a string, a number or true/false, not {}", other.type_str()),
        };
        out.push((*variable, value));
    }
    Ok(out)
}

/// Applies the TOML file named by `--config` (in `args`) or `TOLLGATE_CONFIG` as
/// environment variables that are not set already, so flags and the environment keep
/// precedence. Call it before parsing the command line, while the process has one thread.
pub fn apply_config_file(args: &[OsString]) -> anyhow::Result<()> {
    let named = args.windows(2).find(|w| w[0] == "--config").map(|w| PathBuf::from(&w[1])).or_else(|| {
        args.iter().find_map(|a| a.to_str().and_then(|a| a.strip_prefix("--config=")).map(PathBuf::from))
    });
    let Some(path) = named.or_else(|| std::env::var_os("TOLLGATE_CONFIG").map(PathBuf::from)) else { return Ok(()) };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    let settings = file_settings(&text).with_context(|| format!("in the configuration file {}", path.display()))?;
    for (variable, value) in settings {
        if std::env::var_os(variable).is_none() {
            std::env::set_var(variable, value);
        }
    }
    Ok(())
}

#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about = "Self-hosted plans, quotas and licenses for SaaS products.")]
pub struct Cli {
    /// Log format: `text` (human-readable) or `json` (one object per line).
    #[arg(long, env = "TOLLGATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// A TOML file of settings (the flags' names, with `_` for `-`: `addr`,
    /// `database_url`, `whop_webhook_secret`…). Flags and the environment win over it.
    #[arg(long, env = "TOLLGATE_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// Which Stripe mode's events a deployment acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StripeMode {
    Live,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of `serve`'s settings costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Serve the dashboard, the REST API and the health endpoints.
    Serve(ServeArgs),
    /// Add generated accounts with usage history, e.g. to load-test a realistic database.
    Seed(SeedArgs),
    /// Operator commands for accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Operator commands for users.
    #[command(subcommand)]
    User(UserCommand),
    /// Operator commands for API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Operator commands for the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add an account with an active license on a plan; prints its id.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        name: String,
        /// A plan id of the catalog.
        #[arg(long)]
        plan: String,
        /// The account id; generated when left out.
        #[arg(long)]
        id: Option<String>,
        #[arg(long, default_value_t = 1)]
        seats: u32,
    },
    /// List accounts: id, name, plan and status.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. Prints a generated password unless TOLLGATE_USER_PASSWORD is set.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        email: String,
        /// The customer account; not needed for admins.
        #[arg(long)]
        account: Option<String>,
        /// member, owner or admin.
        #[arg(long, default_value = "member")]
        role: String,
        /// The password (at least 8 characters); from the environment so it stays out of
        /// shell history and process lists.
        #[arg(long = "password-from-env", env = "TOLLGATE_USER_PASSWORD", hide_env_values = true)]
        password: Option<Secret>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain: exits 0 when it is whole, 1 naming the first entry
    /// that was altered, removed or inserted.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print its plaintext, once.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// A service key, for the operator's backend: acts for any account.
        #[arg(long, conflicts_with = "account", required_unless_present = "account")]
        service: bool,
        /// The customer account the key belongs to.
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        name: String,
        /// For a customer key: `live` or `test`.
        #[arg(long, default_value = "live")]
        environment: String,
    },
    /// List the service keys (prefixes only, never the keys).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a service key by its id (`key_…`); the next request with it fails.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        id: String,
    },
}

/// Where the data lives and which plans exist; shared by every subcommand.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Database URL. The default SQLite file (and its folder) is created and migrated on
    /// first start.
    #[arg(long = "database", env = "TOLLGATE_DATABASE_URL", default_value = engine::db::DEFAULT_URL)]
    pub database_url: String,

    /// Plan catalog (TOML). Without one, the built-in demo catalog of four tiers is used.
    #[arg(long, env = "TOLLGATE_CATALOG")]
    pub catalog: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TOLLGATE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Seed demo accounts with 35 days of history when the database is empty.
    #[arg(long, env = "TOLLGATE_DEMO", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub demo: bool,

    /// Whether visitors may create accounts (on the entry plan): `on` or `off`.
    #[arg(long, env = "TOLLGATE_SIGNUP", value_parser = clap::builder::BoolishValueParser::new(), default_value = "on")]
    pub signup: bool,

    /// The URL people use to reach this server. State-changing browser requests must come
    /// from this origin; an `https` URL marks the session cookie `Secure`.
    /// Defaults to `http://` and the listen address.
    #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Billing portal link for "Upgrade" and "Renew"; overrides the catalog's.
    #[arg(long, env = "TOLLGATE_BILLING_PORTAL_URL")]
    pub billing_portal_url: Option<String>,

    /// Requests per second each service key may make to ingest, consume, entitlements and
    /// grants. Customers' own traffic falls under their plan's rate limits instead.
    #[arg(long, env = "TOLLGATE_SERVICE_RATE_LIMIT", default_value_t = engine::DEFAULT_SERVICE_RATE_PER_SECOND)]
    pub service_rate_limit: u64,

    /// How far in the future an ingested event's timestamp may be, in seconds.
    #[arg(long, env = "TOLLGATE_INGEST_MAX_FUTURE_SECS", default_value_t = 300)]
    pub ingest_max_future_secs: u32,

    /// How far in the past an ingested event's timestamp may be, in days.
    #[arg(long, env = "TOLLGATE_INGEST_MAX_AGE_DAYS", default_value_t = 35)]
    pub ingest_max_age_days: u32,

    /// Whop webhook signing secret(s), comma-separated while rotating. Without one,
    /// `/api/webhooks/whop` answers 503.
    #[arg(long, env = "TOLLGATE_WHOP_WEBHOOK_SECRET", hide_env_values = true)]
    pub whop_webhook_secret: Option<Secret>,

    /// Stripe webhook signing secret(s) (`whsec_…`), comma-separated while rotating.
    /// Without one, `/api/webhooks/stripe` answers 503.
    #[arg(long, env = "TOLLGATE_STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<Secret>,

    /// Which Stripe events to act on: `live` (the default) or `test` (a staging
    /// deployment). Events of the other mode are recorded and ignored.
    #[arg(long, env = "TOLLGATE_STRIPE_MODE", value_enum, default_value_t = StripeMode::Live)]
    pub stripe_mode: StripeMode,

    /// Proxies in front of Tollgate (TLS termination), as comma-separated CIDRs, e.g.
    /// `10.0.0.0/8,127.0.0.1/32`. Their `X-Forwarded-For` names the client for the
    /// per-address throttles; nobody else's is believed.
    #[arg(long, env = "TOLLGATE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_cidr)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// A bearer token `/metrics` requires; without one `/metrics` is open to whoever can
    /// reach the listen address (loopback by default).
    #[arg(long, env = "TOLLGATE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,

    /// The SMTP server alert and password-reset emails go through, as lettre reads it:
    /// `smtp://127.0.0.1:2525` (plain), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://user:password@host:465` (TLS). Without it, email is off.
    #[arg(long, env = "TOLLGATE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<Secret>,

    /// The sender of those emails, e.g. `Tollgate <alerts@example.com>`.
    #[arg(long, env = "TOLLGATE_SMTP_FROM", default_value = "Tollgate <tollgate@localhost>")]
    pub smtp_from: String,

    /// Networks outgoing webhooks may reach although they are not public (loopback,
    /// private, link-local), as comma-separated CIDRs. `http://` URLs are accepted only
    /// for these. Empty by default: webhooks go to public HTTPS endpoints only.
    #[arg(long, env = "TOLLGATE_WEBHOOK_ALLOW_NETS", value_delimiter = ',', value_parser = parse_cidr)]
    pub webhook_allow_nets: Vec<ipnet::IpNet>,

    /// Seconds to wait before each delivery attempt of an email or webhook, the first
    /// counted from the alert and each next one from the failure before it,
    /// comma-separated. The number of entries is the number of attempts.
    #[arg(long, env = "TOLLGATE_DELIVERY_RETRY_SECS", value_delimiter = ',', default_value = "0,5,300,1800,7200,18000,36000,86400")]
    pub delivery_retry_secs: Vec<u64>,

    /// Folder holding the built site (`pkg/`, vendored scripts, static files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

/// The database URL's password never shows.
impl fmt::Debug for StoreArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreArgs").field("database_url", &redact_url(&self.database_url)).field("catalog", &self.catalog).finish()
    }
}

impl ServeArgs {
    /// The engine's settings from these flags; `public_url` is where people reach the
    /// server (links in emails). Refuses an SMTP URL or sender that cannot work.
    pub fn engine_config(&self, public_url: &str) -> anyhow::Result<engine::EngineConfig> {
        let mailer = match &self.smtp_url {
            Some(url) => Some(engine::alerts::mail::Mailer::new(url.expose(), &self.smtp_from).map_err(anyhow::Error::msg)?),
            None => None,
        };
        if self.delivery_retry_secs.is_empty() || self.delivery_retry_secs.len() > 20 {
            bail!("TOLLGATE_DELIVERY_RETRY_SECS must list 1 to 20 waits in seconds, e.g. 0,5,300");
        }
        Ok(engine::EngineConfig {
            public_url: public_url.to_owned(),
            delivery: engine::DeliveryConfig {
                mailer,
                net_policy: engine::alerts::webhooks::NetPolicy { allow: self.webhook_allow_nets.clone() },
                retry_schedule: self.delivery_retry_secs.iter().map(|s| std::time::Duration::from_secs(*s)).collect(),
            },
            billing_portal_url: self.billing_portal_url.clone(),
            service_rate_per_second: self.service_rate_limit,
            ingest_window: engine::metering::IngestWindow {
                max_future: chrono::Duration::seconds(i64::from(self.ingest_max_future_secs)),
                max_age: chrono::Duration::days(i64::from(self.ingest_max_age_days)),
            },
            whop_webhook_secrets: split_secrets(self.whop_webhook_secret.as_ref().map(Secret::expose)),
            stripe_webhook_secrets: split_secrets(self.stripe_webhook_secret.as_ref().map(Secret::expose)),
            stripe_live: self.stripe_mode == StripeMode::Live,
            ..engine::EngineConfig::default()
        })
    }
}

/// A CIDR (`10.0.0.0/8`) or a single address (`127.0.0.1`, as `/32` or `/128`).
fn parse_cidr(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{raw}` is not a CIDR such as 10.0.0.0/8 or an address such as 127.0.0.1"))
}

/// `a,b` -> `["a", "b"]`, ignoring blanks.
fn split_secrets(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[derive(Debug, Args, Clone)]
pub struct SeedArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// How many accounts to add.
    #[arg(long, default_value_t = 1000)]
    pub accounts: u32,

    /// Days of history per account, ending today.
    #[arg(long, default_value_t = 90)]
    pub days: u32,

    /// Random seed, so a generated database can be reproduced.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret_or_a_database_password() {
        let args = Cli::try_parse_from([
            "tollgate", "serve",
            "--database", "postgres://tollgate:dbpassword@db.internal/tollgate",
            "--whop-webhook-secret", "whop_signing_value",
            "--stripe-webhook-secret", "whsec_stripe_value",
        ])
        .expect("parse");
        let shown = format!("{args:?}");
        for secret in ["dbpassword", "whop_signing_value", "whsec_stripe_value"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("postgres://tollgate:***@db.internal/tollgate"), "{shown}");
        let Command::Serve(serve) = args.command else { panic!("serve") };
        assert_eq!(serve.engine_config("http://127.0.0.1:3000").expect("valid").whop_webhook_secrets, ["whop_signing_value"], "the value itself is kept");
    }

    #[test]
    fn a_settings_file_maps_to_the_environment_and_refuses_what_it_does_not_know() {
        let settings = file_settings("addr = \"127.0.0.1:4000\"\ndemo = true\nservice_rate_limit = 10\n").expect("valid");
        assert_eq!(settings, [("TOLLGATE_ADDR", "127.0.0.1:4000".to_owned()), ("TOLLGATE_DEMO", "true".to_owned()), ("TOLLGATE_SERVICE_RATE_LIMIT", "10".to_owned())]);
        let unknown = file_settings("adress = \"x\"").expect_err("a misspelt setting");
        assert!(format!("{unknown:#}").contains("unknown setting `adress`; the settings are: addr,"), "{unknown:#}");
        assert!(file_settings("addr = [1]").is_err());
        assert!(file_settings("addr = ").is_err(), "not TOML");
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses() {
        let args = Cli::try_parse_from(["tollgate", "serve", "--trusted-proxies", "10.0.0.0/8, 127.0.0.1,::1"]).expect("parse");
        let Command::Serve(serve) = args.command else { panic!("serve") };
        let shown: Vec<String> = serve.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        let bad = Cli::try_parse_from(["tollgate", "serve", "--trusted-proxies", "10.0.0.0/33"]).expect_err("not a CIDR");
        assert!(bad.to_string().contains("is not a CIDR"), "{bad}");
    }

    #[test]
    fn urls_without_a_password_are_shown_as_they_are() {
        assert_eq!(redact_url("sqlite://data/tollgate.db"), "sqlite://data/tollgate.db");
        assert_eq!(redact_url("postgres://user@host/db"), "postgres://user@host/db");
        assert_eq!(redact_url("redis://:pw@host:6379"), "redis://:***@host:6379");
    }
}
