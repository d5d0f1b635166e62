//! The command line. Every flag has a `TOLLGATE_*` environment variable and a default,
//! so `tollgate serve` runs with nothing configured.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about = "Self-hosted plans, quotas and licenses for SaaS products.")]
pub struct Cli {
    /// Log format: `text` (human-readable) or `json` (one object per line).
    #[arg(long, env = "TOLLGATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
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
        password: Option<String>,
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
}

/// Where the data lives and which plans exist; shared by every subcommand.
#[derive(Debug, Args, Clone)]
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
    pub whop_webhook_secret: Option<String>,

    /// Stripe webhook signing secret(s) (`whsec_…`), comma-separated while rotating.
    /// Without one, `/api/webhooks/stripe` answers 503.
    #[arg(long, env = "TOLLGATE_STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,

    /// Folder holding the built site (`pkg/`, vendored scripts, static files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

impl ServeArgs {
    /// The engine's settings from these flags.
    pub fn engine_config(&self) -> engine::EngineConfig {
        engine::EngineConfig {
            billing_portal_url: self.billing_portal_url.clone(),
            service_rate_per_second: self.service_rate_limit,
            ingest_window: engine::metering::IngestWindow {
                max_future: chrono::Duration::seconds(i64::from(self.ingest_max_future_secs)),
                max_age: chrono::Duration::days(i64::from(self.ingest_max_age_days)),
            },
            whop_webhook_secrets: split_secrets(self.whop_webhook_secret.as_deref()),
            stripe_webhook_secrets: split_secrets(self.stripe_webhook_secret.as_deref()),
            ..engine::EngineConfig::default()
        }
    }
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
