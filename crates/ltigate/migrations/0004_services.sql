-- LTI Advantage services. Portable SQL (SQLite and PostgreSQL).

-- The `aud` of service token requests when it is not the token endpoint (Dynamic
-- Registration's `authorization_server`).
ALTER TABLE platforms ADD COLUMN authorization_server TEXT;
ALTER TABLE platform_changes ADD COLUMN authorization_server TEXT;

-- What a service key reaches: the context's AGS and NRPS endpoints and scopes (JSON), as the
-- latest launch in the context said.
ALTER TABLE service_keys ADD COLUMN services TEXT;

-- Service access tokens, shared by every node: one per platform and set of scopes.
CREATE TABLE access_tokens (
    platform_id TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    token       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (platform_id, scopes)
);
