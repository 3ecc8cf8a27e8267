//! Dynamic registration records: registrations waiting for the app's intermediate page, and
//! re-registrations of live platforms waiting for an admin.

use sqlx::{AssertSqlSafe, FromRow};

use super::platforms::{insert_deployment, join_scopes, split_scopes};
use super::{NewPlatform, Platform, PlatformFilter, PlatformKey, Store, StoreError};

/// A registration started at `/lti/register` and handed to the app's intermediate page.
#[derive(Clone, FromRow)]
pub struct PendingRegistration {
    pub id: String,
    pub configuration_url: String,
    /// The validated platform configuration, JSON.
    pub configuration: String,
    /// The LMS's single-use registration token.
    pub registration_token: Option<String>,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
}

impl std::fmt::Debug for PendingRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRegistration")
            .field("id", &self.id)
            .field("configuration_url", &self.configuration_url)
            .field("expires_at", &self.expires_at)
            .field("completed_at", &self.completed_at)
            .finish_non_exhaustive()
    }
}

/// New endpoints for a live platform, proposed by a dynamic registration.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PlatformChange {
    pub platform_id: String,
    pub auth_endpoint: String,
    pub token_endpoint: String,
    pub authorization_server: Option<String>,
    pub jwks_uri: String,
    pub deployment_id: Option<String>,
    pub product_family: Option<String>,
    pub version: Option<String>,
    #[sqlx(try_from = "Option<String>")]
    pub scopes: ScopeList,
    pub created_at: i64,
}

/// Space-separated scopes as a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeList(pub Vec<String>);

impl From<Option<String>> for ScopeList {
    fn from(stored: Option<String>) -> Self {
        Self(split_scopes(stored))
    }
}

/// What storing a dynamic registration did.
#[derive(Debug)]
pub enum Registered {
    /// A new platform.
    Created(Platform),
    /// The (issuer, client_id) was already registered: the live platform is unchanged and the
    /// new values wait for an admin.
    ChangeProposed(Platform),
    /// The (issuer, client_id) was already registered and a proposed change already waits:
    /// nothing was stored (the first proposal stays until an admin acts on it).
    ChangeAlreadyPending(Platform),
    /// The platform would be pending and the cap of waiting registrations is reached:
    /// nothing was stored.
    TooManyPending,
}

/// The lock every write checked against the pending cap takes.
pub(super) const PENDING_LOCK: &str = "lock:pending_registrations";

/// SQL counting the registrations that wait for an admin at the time bound to `$now_param`:
/// pending platforms and parked registrations not yet completed or expired.
pub(super) fn pending_count_sql(now_param: &str) -> String {
    format!(
        "((SELECT COUNT(*) FROM platforms WHERE status = 'pending') + \
         (SELECT COUNT(*) FROM registrations WHERE completed_at IS NULL \
         AND expires_at > {now_param}))"
    )
}

impl Store {
    /// Parks a registration unless `pending_cap` registrations already wait (then false).
    /// One statement, so concurrent calls cannot pass the cap.
    pub async fn insert_registration(
        &self,
        r: &PendingRegistration,
        now: i64,
        pending_cap: u32,
    ) -> Result<bool, StoreError> {
        // Concurrent registrations on several nodes would all pass the cap (see `lock`).
        let mut tx = self.pool.begin().await?;
        super::lock(&mut tx, PENDING_LOCK, now).await?;
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO registrations (id, configuration_url, configuration, registration_token, \
             created_at, expires_at, completed_at) SELECT $1, $2, $3, $4, $5, $6, NULL \
             WHERE {} < $7",
            pending_count_sql("$5")
        )))
        .bind(&r.id)
        .bind(&r.configuration_url)
        .bind(&r.configuration)
        .bind(&r.registration_token)
        .bind(now)
        .bind(r.expires_at)
        .bind(i64::from(pending_cap))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(inserted == 1)
    }

    /// How many registrations wait for an admin at `now`.
    pub async fn pending_count(&self, now: i64) -> Result<u64, StoreError> {
        let count: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT {}", pending_count_sql("$1"))))
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    pub async fn registration(&self, id: &str) -> Result<Option<PendingRegistration>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, configuration_url, configuration, registration_token, expires_at, \
             completed_at FROM registrations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Claims an open, unexpired registration for completion; false when it is used, expired
    /// or being completed by another request. Single use even under concurrency.
    pub async fn claim_registration(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let claimed = sqlx::query(
            "UPDATE registrations SET completed_at = $2 \
             WHERE id = $1 AND completed_at IS NULL AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Reopens a claimed registration whose completion failed, so the app can retry.
    pub async fn release_registration(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE registrations SET completed_at = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a dynamically registered platform in one transaction: a new platform, or, when
    /// its (issuer, client_id) exists, a proposed change that leaves the live platform as is.
    /// An existing proposed change is never replaced. With `pending_cap`, a new platform is
    /// stored only while fewer registrations wait.
    pub async fn store_registration(
        &self,
        new: &NewPlatform,
        now: i64,
        pending_cap: Option<u32>,
    ) -> Result<Registered, StoreError> {
        // Straight from the database, not the launch path's cache: this decides a write.
        let filter = PlatformFilter {
            issuer: Some(new.issuer.as_str().to_owned()),
            client_id: Some(new.client_id.as_str().to_owned()),
            ..Default::default()
        };
        if let Some(existing) = self.platforms(&filter).await?.pop() {
            let PlatformKey::JwkSet(jwks_uri) = &new.key else {
                return Err(StoreError::Corrupt(
                    "a registration carries a JWKS URL".into(),
                ));
            };
            let inserted = sqlx::query(
                "INSERT INTO platform_changes (platform_id, auth_endpoint, token_endpoint, \
                 jwks_uri, deployment_id, product_family, version, scopes, created_at, \
                 authorization_server) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (platform_id) DO NOTHING",
            )
            .bind(&existing.id)
            .bind(new.auth_endpoint.as_str())
            .bind(new.token_endpoint.as_str())
            .bind(jwks_uri.as_str())
            .bind(new.deployment_ids.first())
            .bind(&new.product_family)
            .bind(&new.version)
            .bind(join_scopes(&new.scopes))
            .bind(now)
            .bind(&new.authorization_server)
            .execute(&self.pool)
            .await?
            .rows_affected();
            return Ok(if inserted == 1 {
                Registered::ChangeProposed(existing)
            } else {
                Registered::ChangeAlreadyPending(existing)
            });
        }
        match self.insert_platform_within(new, now, pending_cap).await {
            Ok(Some(platform)) => Ok(Registered::Created(platform)),
            Ok(None) => Ok(Registered::TooManyPending),
            // Another registration of the same client won the race: keep its platform intact.
            Err(StoreError::Conflict) => {
                Box::pin(self.store_registration(new, now, pending_cap)).await
            }
            Err(e) => Err(e),
        }
    }

    pub async fn platform_change(
        &self,
        platform_id: &str,
    ) -> Result<Option<PlatformChange>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT platform_id, auth_endpoint, token_endpoint, authorization_server, jwks_uri, \
             deployment_id, product_family, version, scopes, created_at FROM platform_changes \
             WHERE platform_id = $1",
        )
        .bind(platform_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every waiting change, by platform id, in one query (the admin list shows them all;
    /// there is at most one per platform).
    pub async fn platform_changes(
        &self,
    ) -> Result<std::collections::HashMap<String, PlatformChange>, StoreError> {
        let changes: Vec<PlatformChange> = sqlx::query_as(
            "SELECT platform_id, auth_endpoint, token_endpoint, authorization_server, jwks_uri, \
             deployment_id, product_family, version, scopes, created_at FROM platform_changes",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(changes
            .into_iter()
            .map(|c| (c.platform_id.clone(), c))
            .collect())
    }

    /// Applies the proposed change to the platform, in one transaction. False when there is none.
    pub async fn approve_platform_change(
        &self,
        platform_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let Some(change) = self.platform_change(platform_id).await? else {
            return Ok(false);
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE platforms SET auth_endpoint = $2, token_endpoint = $3, auth_method = 'JWK_SET', \
             auth_key = $4, product_family = COALESCE($5, product_family), \
             version = COALESCE($6, version), scopes = $7, updated_at = $8, \
             authorization_server = $9 WHERE id = $1",
        )
        .bind(platform_id)
        .bind(&change.auth_endpoint)
        .bind(&change.token_endpoint)
        .bind(&change.jwks_uri)
        .bind(&change.product_family)
        .bind(&change.version)
        .bind(join_scopes(&change.scopes.0))
        .bind(now)
        .bind(&change.authorization_server)
        .execute(&mut *tx)
        .await?;
        if let Some(deployment_id) = &change.deployment_id {
            sqlx::query("DELETE FROM deployments WHERE platform_id = $1 AND deployment_id = $2")
                .bind(platform_id)
                .bind(deployment_id)
                .execute(&mut *tx)
                .await?;
            insert_deployment(&mut tx, platform_id, deployment_id, now).await?;
        }
        sqlx::query("DELETE FROM platform_changes WHERE platform_id = $1")
            .bind(platform_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.platform_cache.clear();
        Ok(true)
    }

    /// Deletes proposed changes created at or before `created_before`; returns how many.
    pub(super) async fn purge_platform_changes(
        &self,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM platform_changes WHERE created_at <= $1")
                .bind(created_before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Drops the proposed change. False when there is none.
    pub async fn reject_platform_change(&self, platform_id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM platform_changes WHERE platform_id = $1")
            .bind(platform_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }
}
