//! Launch records: verified launches (by ltik hash, with their single-use nonce), and the
//! server secrets nodes share.

use super::{Store, StoreError};

/// A verified launch as stored: the raw claims JSON and where it came from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredLaunch {
    pub platform_id: String,
    pub deployment_id: String,
    pub claims: String,
    pub service_key: Option<String>,
    pub expires_at: i64,
}

/// Everything one launch writes.
#[derive(Debug)]
pub struct LaunchWrite<'a> {
    pub nonce_hash: &'a str,
    pub ltik_hash: &'a str,
    pub platform_id: &'a str,
    pub deployment_id: &'a str,
    /// Record this deployment for the platform (first launch of a new deployment).
    pub record_deployment: bool,
    pub claims: &'a str,
    pub service_key: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

/// Why a launch could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum LaunchWriteError {
    #[error("nonce already used")]
    NonceReplayed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LaunchWriteError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl Store {
    /// Stores the launch, consuming its nonce: one insert (shared with the launches waiting
    /// beside it, see `launch_batch`), so of any number of concurrent submissions of one
    /// id_token exactly one succeeds (the unique nonce refuses the rest). A new deployment is
    /// recorded first; recording is idempotent, so a refused replay leaves nothing wrong
    /// behind.
    pub async fn record_launch(&self, w: &LaunchWrite<'_>) -> Result<(), LaunchWriteError> {
        if w.record_deployment {
            sqlx::query(
                "INSERT INTO deployments (platform_id, deployment_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (platform_id, deployment_id) DO NOTHING",
            )
            .bind(w.platform_id)
            .bind(w.deployment_id)
            .bind(w.now)
            .execute(&self.pool)
            .await?;
            self.platform_cache.clear();
        }
        self.launches.record(w).await
    }

    /// The unexpired launch whose ltik hashes to `ltik_hash`.
    pub async fn launch(
        &self,
        ltik_hash: &str,
        now: i64,
    ) -> Result<Option<StoredLaunch>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT platform_id, deployment_id, claims, service_key, expires_at FROM launches \
             WHERE ltik_hash = $1 AND expires_at > $2",
        )
        .bind(ltik_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The named shared secret, created from `make` by the first node that asks.
    pub async fn server_secret(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
        now: i64,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(make())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
