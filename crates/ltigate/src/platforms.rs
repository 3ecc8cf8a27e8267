//! The administrator's platform service, used by the admin API and the CLI: what they ask
//! of the store and the key ring, with domain errors that `http` maps to answers.

use crate::clock::Clock;
use crate::code::Code;
use crate::keys::{KeyError, KeyRing};
use crate::platform_input::InvalidInput;
use crate::store::{
    NewPlatform, Platform, PlatformChange, PlatformFilter, PlatformStatus, PlatformUpdate, Store,
    StoreError,
};

/// Why a platform operation was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlatformsError {
    #[error("no platform has this id")]
    NotFound,
    #[error("this platform has no re-registration waiting for approval")]
    NoPendingChange,
    #[error("a platform with this issuer (url) and clientId is already registered")]
    Exists,
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("storage failed")]
    Store(#[source] StoreError),
    #[error("the tool's signing key is unavailable")]
    Keys(#[from] KeyError),
}

impl PlatformsError {
    /// The stable code of the refusal.
    pub fn code(&self) -> Code {
        match self {
            Self::NotFound => Code::PlatformNotFound,
            Self::NoPendingChange => Code::NoPendingChange,
            Self::Exists => Code::PlatformExists,
            Self::Invalid(e) => e.code(),
            Self::Store(_) | Self::Keys(_) => Code::InternalError,
        }
    }
}

impl From<StoreError> for PlatformsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Self::Exists,
            other => Self::Store(other),
        }
    }
}

/// A platform as the admin sees it: with its waiting change.
#[derive(Debug)]
pub struct PlatformRecord {
    pub platform: Platform,
    pub change: Option<PlatformChange>,
}

/// Platform management for administrators. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Platforms {
    store: Store,
    keys: KeyRing,
    clock: Clock,
}

impl Platforms {
    pub fn new(store: Store, keys: KeyRing, clock: Clock) -> Self {
        Self { store, keys, clock }
    }

    /// The platforms matching `filter`, each with its waiting change: two queries whatever
    /// the number of platforms.
    pub async fn list(
        &self,
        filter: &PlatformFilter,
    ) -> Result<Vec<PlatformRecord>, PlatformsError> {
        let platforms = self.store.platforms(filter).await?;
        let mut changes = self.store.platform_changes().await?;
        Ok(platforms
            .into_iter()
            .map(|platform| PlatformRecord {
                change: changes.remove(&platform.id),
                platform,
            })
            .collect())
    }

    /// One platform, read from the database: the launch path's cache does not serve the
    /// admin, whose view carries the launch activity and other nodes' changes.
    pub async fn get(&self, id: &str) -> Result<PlatformRecord, PlatformsError> {
        let filter = PlatformFilter {
            id: Some(id.to_owned()),
            ..Default::default()
        };
        let platform = self
            .store
            .platforms(&filter)
            .await?
            .pop()
            .ok_or(PlatformsError::NotFound)?;
        self.record(platform).await
    }

    pub async fn create(&self, new: &NewPlatform) -> Result<PlatformRecord, PlatformsError> {
        let platform = self.store.insert_platform(new, self.clock.now()).await?;
        tracing::info!(platform = %platform.id, "platform registered");
        self.record(platform).await
    }

    pub async fn update(
        &self,
        id: &str,
        update: &PlatformUpdate,
    ) -> Result<PlatformRecord, PlatformsError> {
        let platform = self
            .store
            .update_platform(id, update, self.clock.now())
            .await?
            .ok_or(PlatformsError::NotFound)?;
        tracing::info!(platform = %platform.id, status = platform.settings.status.as_str(), "platform updated");
        self.record(platform).await
    }

    /// Turns the platform on or off.
    pub async fn set_status(
        &self,
        id: &str,
        status: PlatformStatus,
    ) -> Result<PlatformRecord, PlatformsError> {
        let update = PlatformUpdate {
            status: Some(status),
            ..Default::default()
        };
        self.update(id, &update).await
    }

    pub async fn delete(&self, id: &str) -> Result<(), PlatformsError> {
        if !self.store.delete_platform(id).await? {
            return Err(PlatformsError::NotFound);
        }
        tracing::info!(platform = %id, "platform removed");
        Ok(())
    }

    /// Applies the endpoints a re-registration proposed.
    pub async fn approve_change(&self, id: &str) -> Result<PlatformRecord, PlatformsError> {
        if !self
            .store
            .approve_platform_change(id, self.clock.now())
            .await?
        {
            return Err(PlatformsError::NoPendingChange);
        }
        tracing::info!(platform = %id, "re-registration approved");
        self.get(id).await
    }

    /// Drops the endpoints a re-registration proposed; the platform stays as it is.
    pub async fn reject_change(&self, id: &str) -> Result<PlatformRecord, PlatformsError> {
        if !self.store.reject_platform_change(id).await? {
            return Err(PlatformsError::NoPendingChange);
        }
        tracing::info!(platform = %id, "re-registration rejected");
        self.get(id).await
    }

    /// The tool's current public key (PEM), which the admin's platform view carries.
    pub async fn public_key(&self) -> Result<String, PlatformsError> {
        Ok(self.keys.signing_key().await?.public_pem)
    }

    async fn record(&self, platform: Platform) -> Result<PlatformRecord, PlatformsError> {
        let change = self.store.platform_change(&platform.id).await?;
        Ok(PlatformRecord { platform, change })
    }
}
