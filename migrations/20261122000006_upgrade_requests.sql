-- Customers' requests for a higher plan (or to talk to sales), and the admin's answer.
CREATE TABLE upgrade_requests (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- upgrade: a priced tier, approved by an admin; sales: a custom-priced tier.
    kind            TEXT NOT NULL,
    from_plan       TEXT NOT NULL,
    to_plan         TEXT NOT NULL,
    justification   TEXT NOT NULL,
    contact_email   TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    -- The last 30 days' usage and current pain points, as JSON, computed on the server
    -- when the request was made.
    evidence        TEXT NOT NULL,
    -- pending, approved, declined
    status          TEXT NOT NULL,
    decline_reason  TEXT,
    decided_by      TEXT,
    created_at      TIMESTAMP NOT NULL,
    decided_at      TIMESTAMP
);
-- At most one pending request per account, held by the database under any race.
CREATE UNIQUE INDEX upgrade_requests_one_pending ON upgrade_requests (account_id) WHERE status = 'pending';
CREATE INDEX upgrade_requests_by_account ON upgrade_requests (account_id, created_at);
CREATE INDEX upgrade_requests_by_status ON upgrade_requests (status, created_at);

-- Custom alert thresholds (the `custom_alert_thresholds` feature): the percentage of a
-- meter's limit from which the account is warned.
CREATE TABLE alert_thresholds (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    meter       TEXT NOT NULL,
    percent     REAL NOT NULL,
    PRIMARY KEY (account_id, meter)
);
