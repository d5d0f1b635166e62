-- What an account was told about its usage and license, and when it read it. The unique
-- key is the durable dedupe: at most one notification per (account, subject, threshold,
-- UTC day), whichever process or restart raises it.
CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- quota.threshold_crossed, quota.exceeded, license.expiring, license.status_changed
    kind        TEXT NOT NULL,
    -- a meter's key, daily_requests, or license
    subject     TEXT NOT NULL,
    -- a percentage of the limit; days ahead for license.expiring; 0 otherwise
    threshold   REAL NOT NULL,
    day         DATE NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    read_at     TIMESTAMP,
    UNIQUE (account_id, subject, threshold, day)
);
CREATE INDEX notifications_by_account ON notifications (account_id, created_at);
