//! The database: connection, migrations, and the SQLite settings chosen deliberately.
//!
//! Everything that differs between SQLite and PostgreSQL lives in this module.

use crate::EngineError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// The migrations under `migrations/`, compiled into the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The default database: a SQLite file under `./data/`.
pub const DEFAULT_URL: &str = "sqlite://data/tollgate.db";

/// The database pool.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
}

impl Db {
    /// Opens (creating the file and its folder if needed) and migrates the database.
    ///
    /// SQLite runs in WAL mode with `synchronous = FULL`: a transaction that has returned
    /// is on disk, even across a power cut, and readers never block the writer.
    pub async fn connect(url: &str) -> Result<Self, EngineError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // 32 MiB of page cache per connection (the default is 2 MiB): the usage writer's
            // inserts walk the events index, and a cache that holds it keeps them off disk.
            .pragma("cache_size", "-32768");
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() && !is_memory(options.get_filename()) {
                std::fs::create_dir_all(parent).map_err(|err| EngineError::Invalid {
                    field: "database",
                    message: format!("cannot create the folder {}: {err}", parent.display()),
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        // Entries written before the audit chain existed join it, in order.
        crate::audit::seal_unsealed(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<(), EngineError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

fn is_memory(path: &Path) -> bool {
    path.as_os_str() == ":memory:"
}
