//! Launches committed in groups. One writer task takes every launch waiting when it is free
//! and stores them with one multi-row INSERT, so under load many launches share one round trip
//! to the database (one hand-off to the SQLite thread, one commit, one write of the index
//! pages) instead of one each. Each caller is answered after its group is committed, so
//! nothing acknowledged can be lost; a launch that finds the writer idle is written at once,
//! with no waiting window.
//!
//! The unique `nonce_hash` stays the replay check: `ON CONFLICT DO NOTHING RETURNING` names
//! the rows that went in, and of two submissions of one id_token in the same group only the
//! first counts.

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::{AnyPool, AssertSqlSafe};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::launches::{LaunchWrite, LaunchWriteError};

/// Most launches in one statement (8 parameters each, far below SQLite's 32,766).
const MAX_GROUP: usize = 256;
/// Launches waiting for the writer before callers wait to queue.
const QUEUE: usize = 4096;

/// A launch to store, owned so it can cross to the writer task.
#[derive(Debug)]
struct Pending {
    ltik_hash: String,
    nonce_hash: String,
    platform_id: String,
    deployment_id: String,
    claims: String,
    service_key: Option<String>,
    created_at: i64,
    expires_at: i64,
    reply: oneshot::Sender<Result<(), LaunchWriteError>>,
}

/// The queue to the writer task. Cheap to clone; the task ends with the last clone.
#[derive(Debug, Clone)]
pub(super) struct LaunchBatcher {
    queue: mpsc::Sender<Pending>,
}

impl LaunchBatcher {
    /// Starts the writer task on the current runtime.
    pub(super) fn start(pool: AnyPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(pool, waiting));
        Self { queue }
    }

    /// Stores one launch with whatever else is waiting; answers once that group committed.
    pub(super) async fn record(&self, w: &LaunchWrite<'_>) -> Result<(), LaunchWriteError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            ltik_hash: w.ltik_hash.to_owned(),
            nonce_hash: w.nonce_hash.to_owned(),
            platform_id: w.platform_id.to_owned(),
            deployment_id: w.deployment_id.to_owned(),
            claims: w.claims.to_owned(),
            service_key: w.service_key.map(str::to_owned),
            created_at: w.now,
            expires_at: w.expires_at,
            reply,
        };
        let stopped = || LaunchWriteError::Store(StoreError::WriterStopped);
        self.queue.send(pending).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer: one group at a time, each as large as what waited meanwhile.
async fn write_groups(pool: AnyPool, mut waiting: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        match insert_group(&pool, &group).await {
            Ok(inserted) => answer_group(group.drain(..), &inserted),
            Err(e) => {
                let e = Arc::new(e);
                for pending in group.drain(..) {
                    let _gone = pending
                        .reply
                        .send(Err(LaunchWriteError::Store(StoreError::Shared(e.clone()))));
                }
            }
        }
    }
}

/// One INSERT for the whole group; the nonce hashes of the rows that went in.
async fn insert_group(pool: &AnyPool, group: &[Pending]) -> Result<HashSet<String>, sqlx::Error> {
    let rows: Vec<String> = (0..group.len())
        .map(|i| {
            let p = i * 8;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO launches (ltik_hash, nonce_hash, platform_id, deployment_id, claims, \
         service_key, created_at, expires_at) VALUES {} \
         ON CONFLICT (nonce_hash) DO NOTHING RETURNING nonce_hash",
        rows.join(", ")
    );
    let mut query = sqlx::query_scalar(AssertSqlSafe(sql));
    for p in group {
        query = query
            .bind(&p.ltik_hash)
            .bind(&p.nonce_hash)
            .bind(&p.platform_id)
            .bind(&p.deployment_id)
            .bind(&p.claims)
            .bind(&p.service_key)
            .bind(p.created_at)
            .bind(p.expires_at);
    }
    let inserted: Vec<String> = query.fetch_all(pool).await?;
    Ok(inserted.into_iter().collect())
}

/// Tells each caller whether its launch went in. A nonce inserted by this group counts for
/// its first submission only: a second one in the same group is a replay.
fn answer_group(group: impl Iterator<Item = Pending>, inserted: &HashSet<String>) {
    let mut answered = HashSet::new();
    for pending in group {
        let first = answered.insert(pending.nonce_hash.clone());
        let outcome = if first && inserted.contains(&pending.nonce_hash) {
            Ok(())
        } else {
            Err(LaunchWriteError::NonceReplayed)
        };
        // A caller that gave up (its request was cancelled) needs no answer.
        let _gone = pending.reply.send(outcome);
    }
}
