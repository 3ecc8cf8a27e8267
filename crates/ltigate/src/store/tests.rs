use lti::ids::{ClientId, Issuer};
use sqlx::AssertSqlSafe;

pub(crate) use super::test_database::TestDatabase;
use super::*;

/// A store on a fresh database (SQLite, or PostgreSQL when `LTITEST_DATABASE_URL` is set),
/// kept alive by the guard.
pub(crate) async fn temp_store() -> (Store, TestDatabase) {
    let db = TestDatabase::fresh().await;
    let store = Store::connect(&db.url).await.expect("store opens");
    (store, db)
}

fn url(text: &str) -> url::Url {
    url::Url::parse(text).expect("test URL")
}

fn canvas(client_id: &str) -> NewPlatform {
    NewPlatform {
        issuer: Issuer::new("https://canvas.example.edu"),
        client_id: ClientId::new(client_id),
        name: "Canvas".into(),
        auth_endpoint: url("https://canvas.example.edu/api/lti/authorize_redirect"),
        token_endpoint: url("https://canvas.example.edu/login/oauth2/token"),
        authorization_server: None,
        key: PlatformKey::JwkSet(url("https://canvas.example.edu/api/lti/security/jwks")),
        status: PlatformStatus::Active,
        allow_new_deployments: false,
        product_family: Some("canvas".into()),
        version: None,
        scopes: vec!["https://purl.imsglobal.org/spec/lti-ags/scope/score".into()],
        deployment_ids: vec!["7:abc".into(), "8:def".into(), "7:abc".into()],
    }
}

/// SQLite only: about the file.
#[tokio::test]
async fn connect_creates_the_file_and_migrates_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let url = format!("sqlite://{}", path.display());
    Store::connect(&url).await.unwrap();
    assert!(path.exists());
    let again = Store::connect(&url).await.unwrap();
    assert!(again.ping().await);
}

#[tokio::test]
async fn platform_round_trip_with_deduplicated_deployments() {
    let (store, _dir) = temp_store().await;
    let created = store.insert_platform(&canvas("1000"), 100).await.unwrap();
    assert_eq!(created.settings.deployment_ids, ["7:abc", "8:def"]);
    assert_eq!(created.created_at, 100);
    let found = store
        .platform_by_client("https://canvas.example.edu", "1000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert!(store.platform("missing").await.unwrap().is_none());
}

#[tokio::test]
async fn one_issuer_may_have_several_client_ids_but_not_the_same_twice() {
    let (store, _dir) = temp_store().await;
    store.insert_platform(&canvas("1000"), 1).await.unwrap();
    store.insert_platform(&canvas("2000"), 2).await.unwrap();
    let err = store.insert_platform(&canvas("1000"), 3).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    let all = store.platforms(&PlatformFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2, "the refused insert left nothing behind");
}

#[tokio::test]
async fn a_failed_insert_writes_no_deployments() {
    let (store, _dir) = temp_store().await;
    let first = store.insert_platform(&canvas("1000"), 1).await.unwrap();
    let mut dup = canvas("1000");
    dup.deployment_ids = vec!["new".into()];
    store.insert_platform(&dup, 2).await.unwrap_err();
    let after = store.platform(&first.id).await.unwrap().unwrap();
    assert_eq!(after.settings.deployment_ids, ["7:abc", "8:def"]);
}

#[tokio::test]
async fn filters_combine() {
    let (store, _dir) = temp_store().await;
    store.insert_platform(&canvas("1000"), 1).await.unwrap();
    let mut pending = canvas("2000");
    pending.status = PlatformStatus::Pending;
    store.insert_platform(&pending, 2).await.unwrap();
    let only_pending = store
        .platforms(&PlatformFilter {
            status: Some(PlatformStatus::Pending),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only_pending.len(), 1);
    assert_eq!(only_pending[0].settings.client_id.as_str(), "2000");
    assert_eq!(only_pending[0].settings.deployment_ids, ["7:abc", "8:def"]);
    let none = store
        .platforms(&PlatformFilter {
            client_id: Some("1000".into()),
            status: Some(PlatformStatus::Pending),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn partial_update_keeps_other_fields_and_replaces_deployments() {
    let (store, _dir) = temp_store().await;
    let p = store.insert_platform(&canvas("1000"), 1).await.unwrap();
    let update = PlatformUpdate {
        name: Some("Renamed".into()),
        status: Some(PlatformStatus::Inactive),
        deployment_ids: Some(vec!["9".into()]),
        ..Default::default()
    };
    let updated = store
        .update_platform(&p.id, &update, 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.settings.name, "Renamed");
    assert_eq!(updated.settings.status, PlatformStatus::Inactive);
    assert_eq!(updated.settings.deployment_ids, ["9"]);
    assert_eq!(updated.settings.issuer, p.settings.issuer);
    assert_eq!(updated.settings.key, p.settings.key);
    assert_eq!(updated.updated_at, 50);
    assert!(
        store
            .update_platform("missing", &update, 51)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn update_into_an_existing_client_is_a_conflict_and_changes_nothing() {
    let (store, _dir) = temp_store().await;
    store.insert_platform(&canvas("1000"), 1).await.unwrap();
    let other = store.insert_platform(&canvas("2000"), 2).await.unwrap();
    let update = PlatformUpdate {
        client_id: Some(ClientId::new("1000")),
        deployment_ids: Some(vec![]),
        ..Default::default()
    };
    let err = store
        .update_platform(&other.id, &update, 3)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict));
    assert_eq!(store.platform(&other.id).await.unwrap().unwrap(), other);
}

#[tokio::test]
async fn delete_removes_the_platform_and_its_deployments() {
    let (store, _dir) = temp_store().await;
    let p = store.insert_platform(&canvas("1000"), 1).await.unwrap();
    assert!(store.delete_platform(&p.id).await.unwrap());
    assert!(!store.delete_platform(&p.id).await.unwrap());
    // Re-creating the same client starts with only the new deployments.
    let mut again = canvas("1000");
    again.deployment_ids = vec![];
    let p2 = store.insert_platform(&again, 2).await.unwrap();
    assert!(p2.settings.deployment_ids.is_empty());
}

#[tokio::test]
async fn purge_drops_keys_retired_over_a_week_ago_only() {
    let (store, _dir) = temp_store().await;
    let key = |kid: &str, retire_at| StoredKey {
        kid: kid.into(),
        private_key_pem: "pem".into(),
        created_at: 0,
        activate_at: 0,
        retire_at,
    };
    store
        .insert_first_tool_key(&key("old", None))
        .await
        .unwrap();
    store
        .rotate_tool_key(&key("new", None), 1000)
        .await
        .unwrap();
    assert_eq!(store.purge_expired(1000, Duration::ZERO).await.unwrap(), 0);
    assert_eq!(
        store
            .purge_expired(1000 + RETIRED_KEY_HISTORY_SECS, Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    let left: Vec<String> = store
        .all_tool_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(left, ["new"]);
}

#[tokio::test]
async fn generated_api_key_hashes_are_stored() {
    let (store, _dir) = temp_store().await;
    store.insert_api_key("sha256:aa", 1).await.unwrap();
    assert_eq!(store.api_key_hashes().await.unwrap(), ["sha256:aa"]);
}

#[tokio::test]
async fn the_platform_cache_is_cleared_by_own_writes_and_expires_for_others() {
    let (store, db) = temp_store().await;
    let url = db.url.clone();
    let clock = Clock::manual(1_000);
    let node = store.with_platform_cache(std::time::Duration::from_secs(5), clock.clone());
    let other_node = Store::connect(&url).await.unwrap();
    let p = node.insert_platform(&canvas("1000"), 1).await.unwrap();
    assert_eq!(
        node.platform(&p.id).await.unwrap().unwrap().settings.status,
        PlatformStatus::Active
    );

    let deactivate = PlatformUpdate {
        status: Some(PlatformStatus::Inactive),
        ..Default::default()
    };
    node.update_platform(&p.id, &deactivate, 2).await.unwrap();
    let seen = node
        .platform_by_client(p.settings.issuer.as_str(), p.settings.client_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        seen.settings.status,
        PlatformStatus::Inactive,
        "own writes show at once"
    );

    let activate = PlatformUpdate {
        status: Some(PlatformStatus::Active),
        ..Default::default()
    };
    other_node
        .update_platform(&p.id, &activate, 3)
        .await
        .unwrap();
    let stale = node.platform(&p.id).await.unwrap().unwrap();
    assert_eq!(
        stale.settings.status,
        PlatformStatus::Inactive,
        "cached within the TTL"
    );
    clock.advance(4);
    let still = node.platform(&p.id).await.unwrap().unwrap();
    assert_eq!(
        still.settings.status,
        PlatformStatus::Inactive,
        "cached until the TTL is over"
    );
    clock.advance(1);
    let fresh = node.platform(&p.id).await.unwrap().unwrap();
    assert_eq!(
        fresh.settings.status,
        PlatformStatus::Active,
        "another node's write shows after the TTL"
    );
}

#[tokio::test]
async fn registrations_respect_the_pending_cap_keep_the_first_change_and_expire() {
    let (store, _dir) = temp_store().await;
    let pending = |client_id: &str| NewPlatform {
        status: PlatformStatus::Pending,
        deployment_ids: Vec::new(),
        ..canvas(client_id)
    };
    let created = |r: Registered| match r {
        Registered::Created(p) => p,
        other => panic!("not created: {other:?}"),
    };
    let old = created(
        store
            .store_registration(&pending("1"), 100, Some(2))
            .await
            .unwrap(),
    );
    created(
        store
            .store_registration(&pending("2"), 200, Some(2))
            .await
            .unwrap(),
    );
    assert!(matches!(
        store
            .store_registration(&pending("3"), 200, Some(2))
            .await
            .unwrap(),
        Registered::TooManyPending
    ));
    assert_eq!(store.pending_count(200).await.unwrap(), 2);

    // A re-registration proposes a change once; a later one changes nothing.
    let moved = NewPlatform {
        token_endpoint: url("https://elsewhere.example/token"),
        authorization_server: None,
        ..pending("2")
    };
    assert!(matches!(
        store
            .store_registration(&pending("2"), 300, Some(2))
            .await
            .unwrap(),
        Registered::ChangeProposed(_)
    ));
    assert!(matches!(
        store
            .store_registration(&moved, 400, Some(2))
            .await
            .unwrap(),
        Registered::ChangeAlreadyPending(_)
    ));
    let young = store.platforms(&Default::default()).await.unwrap()[1]
        .id
        .clone();
    let change = store.platform_change(&young).await.unwrap().unwrap();
    assert_eq!(
        (change.token_endpoint.as_str(), change.created_at),
        (canvas("2").token_endpoint.as_str(), 300)
    );

    // An activated platform never expires; its proposed change does. With a 1000 s TTL at
    // 1150 the pending platform from 100 goes and the change from 300 stays; at 1300 the
    // change goes too. Zero keeps everything.
    let activate = PlatformUpdate {
        status: Some(PlatformStatus::Active),
        ..Default::default()
    };
    store.update_platform(&young, &activate, 500).await.unwrap();
    assert_eq!(store.purge_expired(5000, Duration::ZERO).await.unwrap(), 0);
    assert_eq!(
        store
            .purge_expired(1150, Duration::from_secs(1000))
            .await
            .unwrap(),
        1
    );
    assert!(store.platform(&old.id).await.unwrap().is_none());
    assert!(store.platform_change(&young).await.unwrap().is_some());
    assert_eq!(
        store
            .purge_expired(1300, Duration::from_secs(1000))
            .await
            .unwrap(),
        1
    );
    assert!(store.platform_change(&young).await.unwrap().is_none());
    assert!(store.platform(&young).await.unwrap().is_some());
}

#[tokio::test]
async fn a_stored_platform_that_no_longer_parses_fails_its_read_with_a_code() {
    let (store, _dir) = temp_store().await;
    for (column, value) in [
        ("auth_endpoint", "not a url"),
        ("auth_method", "RSA_KEY"),
        (
            "auth_key",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ),
    ] {
        let fresh = store.insert_platform(&canvas(column), 100).await.unwrap();
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE platforms SET {column} = $1 WHERE id = $2"
        )))
        .bind(value)
        .bind(&fresh.id)
        .execute(&store.pool)
        .await
        .unwrap();
        store.platform_cache.clear();
        let err = store.platform(&fresh.id).await.unwrap_err();
        assert!(
            matches!(err, StoreError::PlatformInvalid(_)),
            "{column}: {err:?}"
        );
        // The launch path names it: the registration is misconfigured, not an outage.
        assert_eq!(
            crate::launch::LaunchFailure::from(err).code(),
            crate::code::Code::PlatformMisconfigured
        );
        sqlx::query("DELETE FROM platforms WHERE id = $1")
            .bind(&fresh.id)
            .execute(&store.pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn access_tokens_are_shared_until_expiry_and_dropped_only_when_unchanged() {
    let (store, _dir) = temp_store().await;
    let platform = store.insert_platform(&canvas("1000"), 100).await.unwrap();
    let token = |t: &str, expires_at| StoredToken {
        token: t.into(),
        expires_at,
    };
    store
        .save_access_token(&platform.id, "a b", &token("t1", 1_000))
        .await
        .unwrap();
    assert_eq!(
        store.access_token(&platform.id, "a b", 999).await.unwrap(),
        Some(token("t1", 1_000))
    );
    assert_eq!(
        store
            .access_token(&platform.id, "a b", 1_000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.access_token(&platform.id, "a", 0).await.unwrap(),
        None
    );
    // A newer token replaces it; dropping the old one leaves the newer in place.
    store
        .save_access_token(&platform.id, "a b", &token("t2", 2_000))
        .await
        .unwrap();
    store
        .drop_access_token(&platform.id, "a b", "t1")
        .await
        .unwrap();
    assert_eq!(
        store.access_token(&platform.id, "a b", 0).await.unwrap(),
        Some(token("t2", 2_000))
    );
    store
        .drop_access_token(&platform.id, "a b", "t2")
        .await
        .unwrap();
    assert_eq!(
        store.access_token(&platform.id, "a b", 0).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_service_key_records_services_and_revocation_moves_its_generation() {
    let (store, _dir) = temp_store().await;
    let platform = store.insert_platform(&canvas("1000"), 100).await.unwrap();
    let at = KeyContext {
        platform_id: &platform.id,
        deployment_id: "7:abc",
        context_id: "course-1",
    };
    let hash = |g: i64| format!("hash-{g}");
    let first = store.service_key(at, hash, "{\"v\":1}", 100).await.unwrap();
    assert_eq!(first.generation, 0);
    assert_eq!(first.services.as_deref(), Some("{\"v\":1}"));
    let changed = store.service_key(at, hash, "{\"v\":2}", 101).await.unwrap();
    assert_eq!(
        (changed.generation, changed.services.as_deref()),
        (0, Some("{\"v\":2}"))
    );
    let found = store.service_key_by_hash("hash-0").await.unwrap().unwrap();
    assert_eq!(found, changed);

    assert!(store.revoke_service_key(&found, "hash-1").await.unwrap());
    assert!(
        !store.revoke_service_key(&found, "hash-1").await.unwrap(),
        "a second revocation of the same generation changes nothing"
    );
    assert_eq!(store.service_key_by_hash("hash-0").await.unwrap(), None);
    let next = store.service_key(at, hash, "{\"v\":2}", 102).await.unwrap();
    assert_eq!(next.generation, 1);
}

/// The first launches of a context arriving together on several nodes all get its key: the
/// losers of the insert read the winner's row (on PostgreSQL a conflict on the key hash,
/// not only on the context, must not fail the launch).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_launches_of_a_context_share_one_service_key() {
    let (store, db) = temp_store().await;
    let platform = store.insert_platform(&canvas("1000"), 100).await.unwrap();
    let mut nodes = vec![store];
    for _ in 1..4 {
        nodes.push(Store::connect(&db.url).await.unwrap());
    }
    for course in 0..40 {
        let context_id = format!("course-{course}");
        let mut first = tokio::task::JoinSet::new();
        for i in 0..32 {
            let (node, platform_id, context_id) = (
                nodes[i % 4].clone(),
                platform.id.clone(),
                context_id.clone(),
            );
            first.spawn(async move {
                let at = KeyContext {
                    platform_id: &platform_id,
                    deployment_id: "7:abc",
                    context_id: &context_id,
                };
                let hash = |g: i64| format!("{context_id}-{g}");
                node.service_key(at, hash, "{}", 100).await
            });
        }
        for record in first.join_all().await {
            assert_eq!(record.unwrap().generation, 0);
        }
    }
}

/// Launches written in groups: of 200 concurrent launches carrying 50 distinct nonces, exactly
/// one per nonce is stored (replays in the same group and in later groups are refused), and
/// each stored launch reads back under its own ltik.
#[tokio::test]
async fn grouped_launch_writes_store_one_launch_per_nonce() {
    let (store, _dir) = temp_store().await;
    let platform = store.insert_platform(&canvas("1000"), 100).await.unwrap();
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..200 {
        let store = store.clone();
        let platform_id = platform.id.clone();
        writes.spawn(async move {
            let ltik = format!("ltik-{i}");
            let outcome = store
                .record_launch(&LaunchWrite {
                    nonce_hash: &format!("nonce-{}", i % 50),
                    ltik_hash: &ltik,
                    platform_id: &platform_id,
                    deployment_id: "7:abc",
                    record_deployment: false,
                    claims: "{}",
                    service_key: None,
                    now: 100,
                    expires_at: 1_000,
                })
                .await;
            (ltik, outcome)
        });
    }
    let mut stored = Vec::new();
    for (ltik, outcome) in writes.join_all().await {
        match outcome {
            Ok(()) => stored.push(ltik),
            Err(LaunchWriteError::NonceReplayed) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(stored.len(), 50, "one launch per nonce");
    for ltik in &stored {
        assert!(store.launch(ltik, 100).await.unwrap().is_some(), "{ltik}");
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM launches")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(rows, 50);
}

/// `sqlite::memory:` (used for quick trials) opens instead of panicking in sqlx's URL
/// rendering, and leaves no file behind.
#[tokio::test]
async fn an_in_memory_sqlite_database_opens() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    assert!(store.ping().await);
    assert!(!std::path::Path::new(":memory:").exists());
}

#[test]
fn printed_database_urls_hide_the_password() {
    assert_eq!(
        redacted_url("postgres://ltigate:s3cret@db.internal:5432/ltigate"),
        "postgres://ltigate:***@db.internal:5432/ltigate"
    );
    assert_eq!(redacted_url("sqlite://ltigate.db"), "sqlite://ltigate.db");
}

/// The launch activity as stored, read past the platform cache.
async fn stored_activity(store: &Store, id: &str) -> LaunchActivity {
    let filter = PlatformFilter {
        id: Some(id.to_owned()),
        ..Default::default()
    };
    store.platforms(&filter).await.unwrap().remove(0).activity
}

fn launched(first_at: i64, last_at: i64) -> LaunchActivity {
    LaunchActivity {
        first_at: Some(first_at),
        last_at: Some(last_at),
    }
}

#[tokio::test]
async fn launch_activity_is_written_at_once_then_at_most_once_a_minute() {
    let (store, _db) = temp_store().await;
    let id = store
        .insert_platform(&canvas("1000"), 100)
        .await
        .unwrap()
        .id;
    let other = store
        .insert_platform(&canvas("1001"), 100)
        .await
        .unwrap()
        .id;
    assert_eq!(
        stored_activity(&store, &id).await,
        LaunchActivity::default()
    );

    store.note_launch(&id, 1_000).await;
    let first = launched(1_000, 1_000);
    assert_eq!(stored_activity(&store, &id).await, first);
    assert_eq!(
        stored_activity(&store, &other).await,
        LaunchActivity::default()
    );
    store
        .note_launch(&id, 1_000 + ACTIVITY_WRITE_EVERY_SECS - 1)
        .await;
    assert_eq!(stored_activity(&store, &id).await, first, "throttled");
    store
        .note_launch(&id, 1_000 + ACTIVITY_WRITE_EVERY_SECS)
        .await;
    assert_eq!(
        stored_activity(&store, &id).await,
        launched(1_000, 1_000 + ACTIVITY_WRITE_EVERY_SECS)
    );
}

#[tokio::test]
async fn another_node_never_moves_launch_activity_back() {
    let (store, db) = temp_store().await;
    let id = store
        .insert_platform(&canvas("1000"), 100)
        .await
        .unwrap()
        .id;
    store.note_launch(&id, 5_000).await;
    // A second node (its own throttle) whose launch was earlier, or whose clock is behind.
    let node_b = Store::connect(&db.url).await.unwrap();
    node_b.note_launch(&id, 4_000).await;
    assert_eq!(stored_activity(&store, &id).await, launched(5_000, 5_000));
    node_b.note_launch(&id, 6_000).await;
    assert_eq!(stored_activity(&store, &id).await, launched(5_000, 6_000));
}
