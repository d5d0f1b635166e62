-- Users, server-side sessions, API keys and the audit log.

-- `account_id` is NULL for operator staff (admins) who belong to no customer account.
CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    email                TEXT NOT NULL UNIQUE,
    password_hash        TEXT NOT NULL,
    role                 TEXT NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    password_changed_at  TIMESTAMP NOT NULL
);
CREATE INDEX users_by_account ON users (account_id);

-- The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- `account_id` is NULL for service keys, which act for any account.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    account_id    TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    expires_at    TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE INDEX api_keys_by_account ON api_keys (account_id);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    actor       TEXT NOT NULL,
    account_id  TEXT,
    action      TEXT NOT NULL,
    target      TEXT,
    before      TEXT,
    after       TEXT
);
CREATE INDEX audit_log_by_account ON audit_log (account_id, at);
