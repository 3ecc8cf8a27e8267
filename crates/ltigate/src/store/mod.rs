//! Storage: the only module that speaks SQL.
//!
//! One `sqlx::AnyPool`, so the same portable queries (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`) serve SQLite and PostgreSQL. Routes call typed methods here and
//! never see SQL. Migrations are embedded and run at connect.

mod activity;
mod keys;
mod launch_batch;
mod launches;
mod platform_cache;
mod platform_key;
mod platforms;
mod registrations;
mod services;

use std::num::NonZeroU32;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, Executor};

use crate::clock::Clock;

pub use activity::{LaunchActivity, WRITE_EVERY_SECS as ACTIVITY_WRITE_EVERY_SECS};
pub use keys::StoredKey;
pub use launches::{LaunchWrite, LaunchWriteError, StoredLaunch};
pub use platform_key::{KeyMethod, PlatformKey, StaticKey};
pub use platforms::{
    NewPlatform, Platform, PlatformFilter, PlatformSettings, PlatformStatus, PlatformUpdate,
};
pub use registrations::{PendingRegistration, PlatformChange, Registered, ScopeList};
pub use services::{KeyContext, ServiceKeyRecord, StoredToken};

/// Errors from the store. Conflicts are separate so callers can answer 409.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("a record with the same unique key exists")]
    Conflict,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A stored platform whose URLs or key no longer parse.
    #[error("stored platform is invalid: {0}")]
    PlatformInvalid(String),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A database error shared by every launch of a group that could not be written.
    #[error("database error")]
    Shared(#[source] std::sync::Arc<sqlx::Error>),
    #[error("the launch writer has stopped")]
    WriterStopped,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            _ => Self::Database(e),
        }
    }
}

/// Takes, inside `tx`, a lock that every holder of `name` waits for until the holder's
/// transaction ends. It makes a check and the write that depends on it one step across
/// nodes: on PostgreSQL, `INSERT ... SELECT ... WHERE <check>` alone lets concurrent
/// transactions all pass the check (SQLite already runs one writer at a time). The lock is an
/// upsert of an empty `server_secrets` row, which locks that row on both databases.
async fn lock(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, '', $2) \
         ON CONFLICT (name) DO UPDATE SET value = server_secrets.value",
    )
    .bind(name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const RETIRED_KEY_HISTORY_SECS: i64 = 7 * 24 * 3600;

/// The database behind ltigate.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    platform_cache: platform_cache::PlatformCache,
    launches: launch_batch::LaunchBatcher,
    activity: activity::ActivityRecorder,
}

/// Applied to every SQLite connection: WAL lets readers run beside the single writer,
/// `synchronous = NORMAL` in WAL mode makes a commit durable at the next checkpoint (a power
/// loss can lose the last commits, never corrupt), and the busy timeout makes writers queue
/// instead of failing under load. A 1 MiB page cache per connection keeps memory flat; the
/// hot rows (platforms, keys) are small. The WAL file is cut back to 64 MiB after checkpoints
/// instead of keeping its high-water size on disk.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -1024; PRAGMA journal_size_limit = 67108864;";

/// How many database connections a node holds (read for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend of `url` by its scheme; `None` for schemes ltigate does not speak.
    pub fn of(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme)?;
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    /// Pool size when the configuration sets none: SQLite writes one at a time whatever the
    /// pool, so a few connections serve readers; PostgreSQL runs writers in parallel.
    pub fn default_max_connections(self) -> u32 {
        match self {
            Self::Sqlite => 4,
            Self::Postgres => 16,
        }
    }
}

/// A database URL fit to print (logs, errors, `ltigate check`): the password replaced.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot carry a password, which this one does.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Connects with the backend's default pool size (see [`Self::connect_with`]).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, None).await
    }

    /// Connects to SQLite (creating the file, owner-only, when missing) or PostgreSQL, with
    /// at most `max_connections` (default: per backend), and runs the migrations. On
    /// PostgreSQL the migrator holds an advisory lock, so nodes starting together on a fresh
    /// database apply each migration once; the others wait and then find them applied.
    pub async fn connect_with(
        url: &str,
        max_connections: Option<NonZeroU32>,
    ) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::of(url).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Configuration(
                "the database URL must start with sqlite:, postgres: or postgresql:".into(),
            ))
        })?;
        let is_sqlite = backend == Backend::Sqlite;
        if is_sqlite {
            // The Any driver cannot create a file; the SQLite driver can.
            let opts = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            // (`to_url_lossy` panics on `sqlite::memory:`, so read the URL as given.)
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                make_private(opts.get_filename()).map_err(sqlx::Error::Io)?;
            }
            sqlx::ConnectOptions::connect(&opts).await?;
        }
        let max_connections =
            max_connections.map_or(backend.default_max_connections(), NonZeroU32::get);
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // A pooled connection is used at once; pinging it first doubled every round trip.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if is_sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(e.into()))?;
        Ok(Self {
            launches: launch_batch::LaunchBatcher::start(pool.clone()),
            pool,
            platform_cache: Default::default(),
            activity: Default::default(),
        })
    }

    /// Caches platform lookups by id and by (issuer, client_id) for `ttl` (zero: off).
    /// Writes through this store clear the cache; other nodes' writes show within `ttl`.
    pub fn with_platform_cache(mut self, ttl: Duration, clock: Clock) -> Self {
        self.platform_cache = platform_cache::PlatformCache::new(ttl, clock);
        self
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The connection pool's use now: open connections, idle ones, and the most allowed.
    pub fn pool_use(&self) -> PoolUse {
        PoolUse {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Deletes rows whose life is over at `now`; returns how many. Pending platforms and
    /// proposed changes nobody approved within `pending_platform_ttl` go too (zero: kept).
    pub async fn purge_expired(
        &self,
        now: i64,
        pending_platform_ttl: Duration,
    ) -> Result<u64, StoreError> {
        // Retired keys are kept a week so `keys list` can show what happened.
        let mut deleted = sqlx::query("DELETE FROM tool_keys WHERE retire_at <= $1")
            .bind(now - RETIRED_KEY_HISTORY_SECS)
            .execute(&self.pool)
            .await?
            .rows_affected();
        // Used registrations answer 410 for a day after expiry, then are forgotten.
        deleted += sqlx::query("DELETE FROM registrations WHERE expires_at <= $1")
            .bind(now - 24 * 3600)
            .execute(&self.pool)
            .await?
            .rows_affected();
        deleted += sqlx::query("DELETE FROM launches WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        deleted += sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if !pending_platform_ttl.is_zero() {
            let cutoff = now
                .saturating_sub(i64::try_from(pending_platform_ttl.as_secs()).unwrap_or(i64::MAX));
            deleted += self.purge_pending_platforms(cutoff).await?;
            deleted += self.purge_platform_changes(cutoff).await?;
        }
        Ok(deleted)
    }

    /// Stores the hash of an API key that ltigate generated.
    pub async fn insert_api_key(&self, key_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_keys (key_hash, created_at) VALUES ($1, $2)")
            .bind(key_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Hashes of the API keys ltigate generated.
    pub async fn api_key_hashes(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT key_hash FROM api_keys")
            .fetch_all(&self.pool)
            .await?)
    }
}

/// Creates the SQLite file owner-only (0600) before SQLite opens it: it holds the tool's
/// private keys, the login-state HMAC key and launches with their claims. SQLite creates the
/// `-wal` and `-shm` files with the database file's mode. An existing file (or WAL/SHM) that
/// others may read is tightened to 0600, with a warning, rather than left open.
#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::io::ErrorKind;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    const PRIVATE: u32 = 0o600;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for file in files {
        let mode = match std::fs::metadata(&file) {
            Ok(meta) => meta.permissions().mode() & 0o777,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %file.display(),
                mode = format_args!("{mode:o}"),
                "the database file was open to other users; restricting it to the owner (0600)"
            );
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(PRIVATE))?;
        }
    }
    Ok(())
}

/// File modes are a Unix notion; elsewhere the directory's access rules apply.
#[cfg(not(unix))]
fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The integration tests' database helper, so unit tests pick their database the same way.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../tests/common/database.rs"]
pub(crate) mod test_database;
#[cfg(test)]
pub(crate) mod tests;
