-- The metering hot path: per-minute rollups, payload fingerprints for idempotency, and
-- admin grants that apply on top of a plan.

-- Raw events, rebuilt for the ingest path:
-- - `fingerprint` is a digest of the event as the client sent it (meter, quantity,
--   timestamp, properties): the same idempotency key with another payload is a conflict;
-- - the table is clustered on its key (WITHOUT ROWID, SQLite's spelling; PostgreSQL's
--   migrations declare the same primary key), and the (meter, time) index is gone: minute
--   periods read `usage_minutely` now. Each insert touches one B-tree instead of three
--   (measured: the writer's SQLite thread was the bottleneck of batch ingest).
CREATE TABLE usage_events_v3 (
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    idempotency_key  TEXT NOT NULL,
    meter            TEXT NOT NULL,
    quantity         DOUBLE PRECISION NOT NULL,
    occurred_at      TIMESTAMP NOT NULL,
    properties       TEXT,
    fingerprint      TEXT,
    PRIMARY KEY (account_id, idempotency_key)
) WITHOUT ROWID;
INSERT INTO usage_events_v3 (account_id, idempotency_key, meter, quantity, occurred_at, properties)
    SELECT account_id, idempotency_key, meter, quantity, occurred_at, properties FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_v3 RENAME TO usage_events;

-- Per-minute rollups, for minute-period quotas and the current requests per minute.
-- Kept for two days by the retention job.
CREATE TABLE usage_minutely (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    meter       TEXT NOT NULL,
    minute      TIMESTAMP NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    observed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, meter, minute)
);

-- Overrides an operator grants an account on top of its plan:
--   kind 'limit':   `meter` gets the limit `value` (NULL: unlimited);
--   kind 'feature': `feature` is entitled;
--   kind 'bypass':  no quota or rate limit applies (usage is still metered).
CREATE TABLE grants (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    meter       TEXT,
    value       DOUBLE PRECISION,
    feature     TEXT,
    reason      TEXT NOT NULL DEFAULT '',
    expires_at  TIMESTAMP,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
CREATE INDEX grants_by_account ON grants (account_id);
