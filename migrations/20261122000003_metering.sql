-- The metering hot path: per-minute rollups, payload fingerprints for idempotency, and
-- admin grants that apply on top of a plan.

-- A digest of the event as the client sent it (meter, quantity, timestamp, properties):
-- the same idempotency key with a different payload is a conflict, not a duplicate.
ALTER TABLE usage_events ADD COLUMN fingerprint TEXT;

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
