-- Launch state. Portable SQL (SQLite and PostgreSQL).

-- Secrets shared by every node (e.g. the key that signs login states), made at first start.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Verified launches, found by the hash of their ltik. The unique nonce is the replay check:
-- of any number of submissions of one id_token, exactly one insert succeeds. A launch row
-- outlives its login state (24 h against minutes), so a nonce cannot come back unnoticed.
CREATE TABLE launches (
    ltik_hash     TEXT PRIMARY KEY,
    nonce_hash    TEXT NOT NULL UNIQUE,
    platform_id   TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    claims        TEXT NOT NULL,
    service_key   TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX launches_expiry ON launches (expires_at);

-- Service keys: one per (platform, deployment, context). The key itself is derived from the
-- server secret and the generation, so every launch in a context hands the app the same key;
-- revoking bumps the generation. Only its hash is stored.
CREATE TABLE service_keys (
    platform_id   TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    context_id    TEXT NOT NULL,
    generation    BIGINT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (platform_id, deployment_id, context_id)
);
