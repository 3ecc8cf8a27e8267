-- Dynamic registration. Portable SQL (SQLite and PostgreSQL).

-- Scopes the platform granted at registration (space separated).
ALTER TABLE platforms ADD COLUMN scopes TEXT;

-- Registrations waiting for the app's intermediate page (sign-in, payment, terms) to complete
-- them: the validated platform configuration and the LMS's single-use registration token.
CREATE TABLE registrations (
    id                 TEXT PRIMARY KEY,
    configuration_url  TEXT NOT NULL,
    configuration      TEXT NOT NULL,
    registration_token TEXT,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    completed_at       BIGINT
);
CREATE INDEX registrations_expiry ON registrations (expires_at);

-- A dynamic registration that returned an (issuer, client_id) already stored never changes the
-- live platform: the new values wait here until an admin approves or rejects them.
CREATE TABLE platform_changes (
    platform_id    TEXT PRIMARY KEY REFERENCES platforms (id) ON DELETE CASCADE,
    auth_endpoint  TEXT NOT NULL,
    token_endpoint TEXT NOT NULL,
    jwks_uri       TEXT NOT NULL,
    deployment_id  TEXT,
    product_family TEXT,
    version        TEXT,
    scopes         TEXT,
    created_at     BIGINT NOT NULL
);
