//! LTI Advantage state shared by every node: service keys (what each one reaches) and the
//! platforms' service access tokens.

use super::{Store, StoreError};

/// The context a service key was issued for, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceKeyRecord {
    pub platform_id: String,
    pub deployment_id: String,
    pub context_id: String,
    pub generation: i64,
    /// JSON of the context's services, as the latest launch in it said.
    pub services: Option<String>,
}

/// One service key's context, named.
#[derive(Debug, Clone, Copy)]
pub struct KeyContext<'a> {
    pub platform_id: &'a str,
    pub deployment_id: &'a str,
    pub context_id: &'a str,
}

/// A cached service access token.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub token: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

const KEY_COLUMNS: &str = "platform_id, deployment_id, context_id, generation, services";

impl Store {
    /// The service key record of a context, created (generation 0, with `key_hash_of(0)`)
    /// by the first launch that asks; its stored services are replaced when they differ.
    pub async fn service_key(
        &self,
        at: KeyContext<'_>,
        key_hash_of: impl Fn(i64) -> String,
        services: &str,
        now: i64,
    ) -> Result<ServiceKeyRecord, StoreError> {
        if let Some(existing) = self.service_key_of(at).await? {
            if existing.services.as_deref() == Some(services) {
                return Ok(existing);
            }
            sqlx::query(
                "UPDATE service_keys SET services = $4 \
                 WHERE platform_id = $1 AND deployment_id = $2 AND context_id = $3",
            )
            .bind(at.platform_id)
            .bind(at.deployment_id)
            .bind(at.context_id)
            .bind(services)
            .execute(&self.pool)
            .await?;
            return Ok(ServiceKeyRecord {
                services: Some(services.to_owned()),
                ..existing
            });
        }
        sqlx::query(
            "INSERT INTO service_keys (platform_id, deployment_id, context_id, generation, \
             key_hash, created_at, services) VALUES ($1, $2, $3, 0, $4, $5, $6) \
             ON CONFLICT DO NOTHING",
        )
        .bind(at.platform_id)
        .bind(at.deployment_id)
        .bind(at.context_id)
        .bind(key_hash_of(0))
        .bind(now)
        .bind(services)
        .execute(&self.pool)
        .await?;
        // Another launch may have created it meanwhile: read what won. No conflict target:
        // PostgreSQL handles only the target's index, and a racing insert of the same context
        // also collides on the key hash (derived from the context).
        self.service_key_of(at)
            .await?
            .ok_or_else(|| StoreError::Corrupt("service key vanished after insert".into()))
    }

    async fn service_key_of(
        &self,
        at: KeyContext<'_>,
    ) -> Result<Option<ServiceKeyRecord>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM service_keys \
             WHERE platform_id = $1 AND deployment_id = $2 AND context_id = $3"
        )))
        .bind(at.platform_id)
        .bind(at.deployment_id)
        .bind(at.context_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The context of the service key whose hash is `key_hash`.
    pub async fn service_key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<ServiceKeyRecord>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {KEY_COLUMNS} FROM service_keys WHERE key_hash = $1"
        )))
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Moves the key of a context to generation `record.generation + 1` (hash
    /// `new_key_hash`): the old key stops working. False when it was revoked meanwhile.
    pub async fn revoke_service_key(
        &self,
        record: &ServiceKeyRecord,
        new_key_hash: &str,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE service_keys SET generation = generation + 1, key_hash = $5 \
             WHERE platform_id = $1 AND deployment_id = $2 AND context_id = $3 \
             AND generation = $4",
        )
        .bind(&record.platform_id)
        .bind(&record.deployment_id)
        .bind(&record.context_id)
        .bind(record.generation)
        .bind(new_key_hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// The platform's token for `scopes` when it is still valid at `valid_at`.
    pub async fn access_token(
        &self,
        platform_id: &str,
        scopes: &str,
        valid_at: i64,
    ) -> Result<Option<StoredToken>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT token, expires_at FROM access_tokens \
             WHERE platform_id = $1 AND scopes = $2 AND expires_at > $3",
        )
        .bind(platform_id)
        .bind(scopes)
        .bind(valid_at)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(token, expires_at)| StoredToken { token, expires_at }))
    }

    pub async fn save_access_token(
        &self,
        platform_id: &str,
        scopes: &str,
        token: &StoredToken,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO access_tokens (platform_id, scopes, token, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (platform_id, scopes) \
             DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at",
        )
        .bind(platform_id)
        .bind(scopes)
        .bind(&token.token)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets `token` (the platform refused it), unless another node already replaced it.
    pub async fn drop_access_token(
        &self,
        platform_id: &str,
        scopes: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM access_tokens WHERE platform_id = $1 AND scopes = $2 AND token = $3",
        )
        .bind(platform_id)
        .bind(scopes)
        .bind(token)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
