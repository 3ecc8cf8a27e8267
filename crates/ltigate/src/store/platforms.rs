//! Platforms (LMS registrations, keyed by issuer and client_id) and their deployments.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, FromRow, Row};

use lti::ids::{ClientId, Issuer};
use url::Url;

use super::activity::LaunchActivity;
use super::platform_cache::CacheKey;
use super::platform_key::PlatformKey;
use super::registrations::{PENDING_LOCK, pending_count_sql};
use super::{Store, StoreError};
use crate::secret::random_hex;

/// Whether a platform may launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformStatus {
    Active,
    /// Registered dynamically and awaiting an admin's approval.
    Pending,
    Inactive,
}

impl PlatformStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Inactive => "inactive",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(Self::Active),
            "pending" => Some(Self::Pending),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// A registered platform: its settings, with the deployments known so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub id: String,
    pub settings: PlatformSettings,
    pub created_at: i64,
    pub updated_at: i64,
    /// When it first and last launched (see `store::activity`); cached reads may lag.
    pub activity: LaunchActivity,
}

/// What a platform is registered with: everything needed to create one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSettings {
    pub issuer: Issuer,
    pub client_id: ClientId,
    pub name: String,
    pub auth_endpoint: Url,
    pub token_endpoint: Url,
    /// The `aud` of service token requests when it is not the token endpoint.
    pub authorization_server: Option<String>,
    pub key: PlatformKey,
    pub status: PlatformStatus,
    pub allow_new_deployments: bool,
    pub product_family: Option<String>,
    pub version: Option<String>,
    /// Scopes granted at dynamic registration.
    pub scopes: Vec<String>,
    pub deployment_ids: Vec<String>,
}

/// A platform to create is its settings.
pub type NewPlatform = PlatformSettings;

/// A partial change; `None` keeps the stored value. `deployment_ids`, when given, replaces
/// the whole list.
#[derive(Debug, Clone, Default)]
pub struct PlatformUpdate {
    pub issuer: Option<Issuer>,
    pub client_id: Option<ClientId>,
    pub name: Option<String>,
    pub auth_endpoint: Option<Url>,
    pub token_endpoint: Option<Url>,
    /// `Some(None)` clears it.
    pub authorization_server: Option<Option<String>>,
    pub key: Option<PlatformKey>,
    pub status: Option<PlatformStatus>,
    pub allow_new_deployments: Option<bool>,
    pub deployment_ids: Option<Vec<String>>,
}

/// Listing filters; all given filters must match.
#[derive(Debug, Clone, Default)]
pub struct PlatformFilter {
    pub id: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub status: Option<PlatformStatus>,
}

const PLATFORM_COLUMNS: &str = "p.id, p.issuer, p.client_id, p.name, p.auth_endpoint, \
     p.token_endpoint, p.auth_method, p.auth_key, p.status, p.allow_new_deployments, \
     p.product_family, p.version, p.scopes, p.authorization_server, p.created_at, p.updated_at, \
     p.first_launch_at, p.last_launch_at";

impl FromRow<'_, AnyRow> for Platform {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let corrupt = |what: &str| sqlx::Error::Decode(format!("invalid {what}").into());
        let method: String = row.try_get("auth_method")?;
        let status: String = row.try_get("status")?;
        let settings = PlatformSettings {
            issuer: Issuer::new(row.try_get::<String, _>("issuer")?),
            client_id: ClientId::new(row.try_get::<String, _>("client_id")?),
            name: row.try_get("name")?,
            auth_endpoint: stored_url(row, "auth_endpoint")?,
            token_endpoint: stored_url(row, "token_endpoint")?,
            authorization_server: row.try_get("authorization_server")?,
            key: PlatformKey::from_parts(&method, row.try_get("auth_key")?)
                .ok_or_else(|| corrupt("auth_method or auth_key"))?,
            status: PlatformStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
            allow_new_deployments: row.try_get::<i64, _>("allow_new_deployments")? != 0,
            product_family: row.try_get("product_family")?,
            version: row.try_get("version")?,
            scopes: split_scopes(row.try_get("scopes")?),
            deployment_ids: Vec::new(),
        };
        Ok(Self {
            id: row.try_get("id")?,
            settings,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            activity: LaunchActivity {
                first_at: row.try_get("first_launch_at")?,
                last_at: row.try_get("last_launch_at")?,
            },
        })
    }
}

/// A stored URL column; one that no longer parses fails the read, never a later launch.
fn stored_url(row: &AnyRow, column: &str) -> Result<Url, sqlx::Error> {
    Url::parse(&row.try_get::<String, _>(column)?)
        .map_err(|_| sqlx::Error::Decode(format!("invalid {column}").into()))
}

impl Store {
    /// Creates a platform and its deployments in one transaction.
    /// A second platform with the same (issuer, client_id) is a `Conflict`.
    pub async fn insert_platform(
        &self,
        new: &NewPlatform,
        now: i64,
    ) -> Result<Platform, StoreError> {
        self.insert_platform_within(new, now, None)
            .await?
            .ok_or_else(|| StoreError::Corrupt("an uncapped insert stored nothing".into()))
    }

    /// As [`Self::insert_platform`]; with `pending_cap`, stores nothing (None) when that many
    /// registrations already wait. The cap is checked by the insert itself, so concurrent
    /// registrations cannot pass it.
    pub(super) async fn insert_platform_within(
        &self,
        new: &NewPlatform,
        now: i64,
        pending_cap: Option<u32>,
    ) -> Result<Option<Platform>, StoreError> {
        // Hex, not base64url: an id may be a command-line argument, and one starting with
        // `-` would read as an option.
        let id = random_hex(12);
        let mut tx = self.pool.begin().await?;
        if pending_cap.is_some() {
            // Concurrent registrations on several nodes would all pass the cap (see `lock`).
            super::lock(&mut tx, PENDING_LOCK, now).await?;
        }
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO platforms (id, issuer, client_id, name, auth_endpoint, token_endpoint, \
             auth_method, auth_key, status, allow_new_deployments, product_family, version, \
             scopes, authorization_server, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $16, $14, $14 \
             WHERE $15 IS NULL OR {} < $15",
            pending_count_sql("$14")
        )))
        .bind(&id)
        .bind(new.issuer.as_str())
        .bind(new.client_id.as_str())
        .bind(&new.name)
        .bind(new.auth_endpoint.as_str())
        .bind(new.token_endpoint.as_str())
        .bind(new.key.method())
        .bind(new.key.key())
        .bind(new.status.as_str())
        .bind(i64::from(new.allow_new_deployments))
        .bind(&new.product_family)
        .bind(&new.version)
        .bind(join_scopes(&new.scopes))
        .bind(now)
        .bind(pending_cap.map(i64::from))
        .bind(&new.authorization_server)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        for deployment_id in dedup(&new.deployment_ids) {
            insert_deployment(&mut tx, &id, deployment_id, now).await?;
        }
        tx.commit().await?;
        self.platform_cache.clear();
        self.platform(&id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("platform vanished after insert".into()))
            .map(Some)
    }

    /// One platform by id, with its deployments.
    pub async fn platform(&self, id: &str) -> Result<Option<Platform>, StoreError> {
        let key = CacheKey::Id(id.to_owned());
        self.cached_platform(
            key,
            PlatformFilter {
                id: Some(id.to_owned()),
                ..Default::default()
            },
        )
        .await
    }

    /// The platform registered for (issuer, client_id).
    pub async fn platform_by_client(
        &self,
        issuer: &str,
        client_id: &str,
    ) -> Result<Option<Platform>, StoreError> {
        let key = CacheKey::Client(issuer.to_owned(), client_id.to_owned());
        self.cached_platform(
            key,
            PlatformFilter {
                issuer: Some(issuer.to_owned()),
                client_id: Some(client_id.to_owned()),
                ..Default::default()
            },
        )
        .await
    }

    async fn cached_platform(
        &self,
        key: CacheKey,
        filter: PlatformFilter,
    ) -> Result<Option<Platform>, StoreError> {
        if let Some(platform) = self.platform_cache.get(&key) {
            return Ok(Some(platform));
        }
        let found = self.platforms(&filter).await?.pop();
        if let Some(platform) = &found {
            self.platform_cache.put(platform);
        }
        Ok(found)
    }

    /// Platforms matching `filter`, oldest first, with their deployments.
    pub async fn platforms(&self, filter: &PlatformFilter) -> Result<Vec<Platform>, StoreError> {
        // One round trip: a row per (platform, deployment), folded below. Each filter is
        // optional: `$n IS NULL OR column = $n` keeps one static query.
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PLATFORM_COLUMNS}, d.deployment_id FROM platforms p \
             LEFT JOIN deployments d ON d.platform_id = p.id \
             WHERE ($1 IS NULL OR p.id = $1) AND ($2 IS NULL OR p.issuer = $2) \
             AND ($3 IS NULL OR p.client_id = $3) AND ($4 IS NULL OR p.status = $4) \
             ORDER BY p.created_at, p.id, d.created_at, d.deployment_id"
        )))
        .bind(&filter.id)
        .bind(&filter.issuer)
        .bind(&filter.client_id)
        .bind(filter.status.map(PlatformStatus::as_str))
        .fetch_all(&self.pool)
        .await?;
        let mut platforms: Vec<Platform> = Vec::new();
        for row in &rows {
            let deployment: Option<String> = row.try_get("deployment_id")?;
            let id: String = row.try_get("id")?;
            if platforms.last().is_none_or(|p| p.id != id) {
                platforms.push(Platform::from_row(row).map_err(|e| match e {
                    sqlx::Error::Decode(why) => StoreError::PlatformInvalid(why.to_string()),
                    other => other.into(),
                })?);
            }
            if let (Some(deployment), Some(platform)) = (deployment, platforms.last_mut()) {
                platform.settings.deployment_ids.push(deployment);
            }
        }
        Ok(platforms)
    }

    /// Applies a partial update in one transaction; `None` when the platform does not exist.
    pub async fn update_platform(
        &self,
        id: &str,
        update: &PlatformUpdate,
        now: i64,
    ) -> Result<Option<Platform>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE platforms SET \
             issuer = COALESCE($2, issuer), client_id = COALESCE($3, client_id), \
             name = COALESCE($4, name), auth_endpoint = COALESCE($5, auth_endpoint), \
             token_endpoint = COALESCE($6, token_endpoint), \
             auth_method = COALESCE($7, auth_method), auth_key = COALESCE($8, auth_key), \
             status = COALESCE($9, status), \
             allow_new_deployments = COALESCE($10, allow_new_deployments), updated_at = $11, \
             authorization_server = CASE WHEN $12 = 1 THEN $13 ELSE authorization_server END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(update.issuer.as_ref().map(Issuer::as_str))
        .bind(update.client_id.as_ref().map(ClientId::as_str))
        .bind(&update.name)
        .bind(update.auth_endpoint.as_ref().map(Url::as_str))
        .bind(update.token_endpoint.as_ref().map(Url::as_str))
        .bind(update.key.as_ref().map(PlatformKey::method))
        .bind(update.key.as_ref().map(PlatformKey::key))
        .bind(update.status.map(PlatformStatus::as_str))
        .bind(update.allow_new_deployments.map(i64::from))
        .bind(now)
        .bind(i64::from(update.authorization_server.is_some()))
        .bind(update.authorization_server.clone().flatten())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        if let Some(deployment_ids) = &update.deployment_ids {
            sqlx::query("DELETE FROM deployments WHERE platform_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for deployment_id in dedup(deployment_ids) {
                insert_deployment(&mut tx, id, deployment_id, now).await?;
            }
        }
        tx.commit().await?;
        self.platform_cache.clear();
        self.platform(id).await
    }

    /// Deletes platforms still pending that were registered at or before `created_before`
    /// (never activated by an admin), with everything that hangs on them; returns how many.
    pub(super) async fn purge_pending_platforms(
        &self,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        let deleted =
            sqlx::query("DELETE FROM platforms WHERE status = 'pending' AND created_at <= $1")
                .bind(created_before)
                .execute(&self.pool)
                .await?
                .rows_affected();
        if deleted > 0 {
            self.platform_cache.clear();
        }
        Ok(deleted)
    }

    /// Deletes a platform and its deployments; false when it did not exist.
    pub async fn delete_platform(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM platforms WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        self.platform_cache.clear();
        Ok(deleted > 0)
    }
}

/// Scopes are stored space separated, as OAuth writes them.
pub(super) fn join_scopes(scopes: &[String]) -> Option<String> {
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

pub(super) fn split_scopes(stored: Option<String>) -> Vec<String> {
    stored
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

pub(super) async fn insert_deployment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    platform_id: &str,
    deployment_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deployments (platform_id, deployment_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(platform_id)
    .bind(deployment_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The ids in order of first appearance, without repeats.
fn dedup(ids: &[String]) -> impl Iterator<Item = &str> {
    ids.iter()
        .enumerate()
        .filter(|(i, id)| !ids[..*i].contains(id))
        .map(|(_, id)| id.as_str())
}
