//! Tool signing keys. Rotation is data: each key carries the times at which it starts
//! signing and stops being published, so every node agrees without a coordinator.

use sqlx::FromRow;

use super::{Store, StoreError};

/// The lock first-key inserts take.
const FIRST_KEY_LOCK: &str = "lock:first_tool_key";

/// A tool key row. The private key is PKCS#8 PEM.
#[derive(Clone, FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub private_key_pem: String,
    pub created_at: i64,
    pub activate_at: i64,
    pub retire_at: Option<i64>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("private_key_pem", &"[redacted]")
            .field("activate_at", &self.activate_at)
            .field("retire_at", &self.retire_at)
            .finish()
    }
}

impl Store {
    /// Every key not yet retired at `now`, oldest first.
    pub async fn live_tool_keys(&self, now: i64) -> Result<Vec<StoredKey>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kid, private_key_pem, created_at, activate_at, retire_at FROM tool_keys \
             WHERE retire_at IS NULL OR retire_at > $1 ORDER BY activate_at, created_at, kid",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every key ever stored, oldest first (for `keys list`).
    pub async fn all_tool_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kid, private_key_pem, created_at, activate_at, retire_at FROM tool_keys \
             ORDER BY activate_at, created_at, kid",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores `key` only when no key is live at its creation time, so nodes starting
    /// together keep one key. Returns whether it was stored.
    pub async fn insert_first_tool_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        // Nodes starting together would each see no key and insert one (see `lock`).
        let mut tx = self.pool.begin().await?;
        super::lock(&mut tx, FIRST_KEY_LOCK, key.created_at).await?;
        let inserted = sqlx::query(
            "INSERT INTO tool_keys (kid, private_key_pem, created_at, activate_at, retire_at) \
             SELECT $1, $2, $3, $4, NULL WHERE NOT EXISTS \
             (SELECT 1 FROM tool_keys WHERE retire_at IS NULL OR retire_at > $3)",
        )
        .bind(&key.kid)
        .bind(&key.private_key_pem)
        .bind(key.created_at)
        .bind(key.activate_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(inserted > 0)
    }

    /// Adds `next` and schedules the retirement of every other live key at `retire_at`,
    /// in one transaction.
    pub async fn rotate_tool_key(
        &self,
        next: &StoredKey,
        retire_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE tool_keys SET retire_at = $1 WHERE retire_at IS NULL")
            .bind(retire_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO tool_keys (kid, private_key_pem, created_at, activate_at, retire_at) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(&next.kid)
        .bind(&next.private_key_pem)
        .bind(next.created_at)
        .bind(next.activate_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
