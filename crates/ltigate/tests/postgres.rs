//! The PostgreSQL half of the suite is the whole suite run with `LTITEST_DATABASE_URL` set
//! (see `common::database`). This file holds what only PostgreSQL has: nodes migrating one
//! fresh database together. Without PostgreSQL, the first test prints that the PostgreSQL
//! half was skipped (`LTITEST_REQUIRE_POSTGRES=1` makes that a failure).

mod common;

use common::database::{DATABASE_URL, SKIPPED};
use common::{ADMIN_KEY, TestDatabase};
use ltigate::clock::Clock;
use ltigate::config::Config;
use ltigate::secret::KeyHash;
use ltigate::server::Server;
use ltigate::store::{PendingRegistration, Store, StoredKey};

#[tokio::test]
async fn the_postgres_half_runs_or_says_it_was_skipped() {
    let Some(db) =
        TestDatabase::postgres_or_skip("the PostgreSQL half of the suite (SQLite ran)").await
    else {
        assert!(
            std::env::var(DATABASE_URL).is_err(),
            "{SKIPPED} printed only when unset"
        );
        return;
    };
    assert!(db.is_postgres());
    // The helper hands every test a database of its own.
    let other = TestDatabase::fresh().await;
    assert!(other.is_postgres());
    assert_ne!(db.url, other.url);
}

/// Several nodes starting at once on a fresh database: the migrations run once (sqlx holds a
/// PostgreSQL advisory lock while migrating), every node starts, and they agree on one tool
/// key and one set of server secrets.
#[tokio::test]
async fn nodes_starting_together_migrate_a_fresh_database_once() {
    let Some(db) =
        TestDatabase::postgres_or_skip("nodes_starting_together_migrate_a_fresh_database_once")
            .await
    else {
        return;
    };
    let mut nodes = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: db.url.clone(),
            admin_key: Some(KeyHash::of(ADMIN_KEY)),
            ..Config::default()
        };
        nodes.spawn(Server::bind(config, Clock::System));
    }
    let servers: Vec<Server> = nodes
        .join_all()
        .await
        .into_iter()
        .map(|started| started.expect("every node starts"))
        .collect();
    assert_eq!(servers.len(), 8);

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count() as i64;
    assert_eq!(
        count("SELECT COUNT(*) FROM _sqlx_migrations WHERE success").await,
        migrations
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        migrations
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM tool_keys").await,
        1,
        "one first key"
    );
    let secrets = count("SELECT COUNT(*) FROM server_secrets").await;
    assert_eq!(
        secrets,
        count("SELECT COUNT(DISTINCT name) FROM server_secrets").await
    );
    assert!(secrets > 0);
    drop(servers);
    pool.close().await;
}

/// Checks that decide a write hold when migrated nodes race: one first tool key
/// (`INSERT ... WHERE NOT EXISTS` alone lets several in on PostgreSQL), and no more parked
/// registrations than the cap.
#[tokio::test]
async fn racing_nodes_keep_one_first_tool_key_and_the_pending_cap() {
    let Some(db) =
        TestDatabase::postgres_or_skip("racing_nodes_keep_one_first_tool_key_and_the_pending_cap")
            .await
    else {
        return;
    };
    let mut stores = Vec::new();
    for _ in 0..8 {
        stores.push(Store::connect(&db.url).await.unwrap());
    }
    let mut keys = tokio::task::JoinSet::new();
    let mut registrations = tokio::task::JoinSet::new();
    for (i, store) in stores.iter().cloned().enumerate() {
        let other = store.clone();
        keys.spawn(async move {
            let key = StoredKey {
                kid: format!("kid-{i}"),
                private_key_pem: format!("pem-{i}"),
                created_at: 1_000,
                activate_at: 1_000,
                retire_at: None,
            };
            store.insert_first_tool_key(&key).await.unwrap()
        });
        registrations.spawn(async move {
            let parked = PendingRegistration {
                id: format!("registration-{i}"),
                configuration_url: "http://127.0.0.1/config".into(),
                configuration: "{}".into(),
                registration_token: None,
                expires_at: 2_000,
                completed_at: None,
            };
            other.insert_registration(&parked, 1_000, 2).await.unwrap()
        });
    }
    let stored = keys.join_all().await;
    assert_eq!(stored.iter().filter(|s| **s).count(), 1, "{stored:?}");
    assert_eq!(stores[0].live_tool_keys(1_000).await.unwrap().len(), 1);
    let parked = registrations.join_all().await;
    assert_eq!(parked.iter().filter(|p| **p).count(), 2, "{parked:?}");
    assert_eq!(stores[0].pending_count(1_000).await.unwrap(), 2);
}
