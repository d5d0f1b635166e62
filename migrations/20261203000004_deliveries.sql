-- Where an account's alerts go beyond the dashboard, and the durable queue that takes them
-- there: one row per message (its id is the `webhook-id`, the same for every attempt), and
-- one row per attempt, which is the delivery log the customer sees.

-- An account's channel settings; no row means the defaults (email on, to the owners).
CREATE TABLE alert_settings (
    account_id     TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    email_enabled  BOOLEAN NOT NULL DEFAULT TRUE,
    -- the address alerts go to instead of the owners'
    email_to       TEXT,
    updated_at     TIMESTAMP NOT NULL
);

-- HTTPS endpoints an account registered for signed outgoing webhooks.
CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    -- space-separated event types; empty means every type
    events           TEXT NOT NULL,
    -- whsec_<base64>: kept to sign with, shown to the customer once
    secret           TEXT NOT NULL,
    -- the secret before the last roll, also signed with until previous_until
    previous_secret  TEXT,
    previous_until   TIMESTAMP,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason  TEXT,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints (account_id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    -- email | webhook
    channel          TEXT NOT NULL,
    endpoint_id      TEXT REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    -- the email address, for email
    recipient        TEXT,
    event_type       TEXT NOT NULL,
    -- the event as JSON: the webhook's body, the email's facts
    payload          TEXT NOT NULL,
    -- pending | delivered | failed
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_by_account ON deliveries (account_id, created_at);

CREATE TABLE delivery_attempts (
    delivery_id  TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at           TIMESTAMP NOT NULL,
    -- the HTTP status or SMTP reply code; absent when no answer came
    status       INTEGER,
    latency_ms   INTEGER NOT NULL,
    -- delivered | retry | failed | disabled
    outcome      TEXT NOT NULL,
    -- the first 500 characters of the answer, or the error
    detail       TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- A sign-in link is a welcome (a purchase's new owner sets a password) or a password reset.
ALTER TABLE signin_links ADD COLUMN purpose TEXT NOT NULL DEFAULT 'welcome';

-- An account may warn several times per meter, each at a percentage of the limit or at an
-- absolute amount of the meter's unit.
CREATE TABLE alert_rules (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    meter       TEXT NOT NULL,
    value       REAL NOT NULL,
    absolute    BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (account_id, meter, absolute, value)
);
INSERT INTO alert_rules (account_id, meter, value, absolute) SELECT account_id, meter, percent, FALSE FROM alert_thresholds;
DROP TABLE alert_thresholds;

-- A notification's threshold is a percentage, an absolute amount, or days ahead; the
-- dedupe key tells them apart, so 50% and 50 calls are two alerts.
CREATE TABLE notifications_next (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    threshold       REAL NOT NULL,
    -- percent | absolute | days | none
    threshold_unit  TEXT NOT NULL,
    day             DATE NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    read_at         TIMESTAMP,
    UNIQUE (account_id, subject, threshold, threshold_unit, day)
);
INSERT INTO notifications_next (id, account_id, kind, subject, threshold, threshold_unit, day, title, body, created_at, read_at)
    SELECT id, account_id, kind, subject, threshold,
           CASE kind WHEN 'license.expiring' THEN 'days' WHEN 'license.status_changed' THEN 'none' ELSE 'percent' END,
           day, title, body, created_at, read_at
    FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_next RENAME TO notifications;
CREATE INDEX notifications_by_account ON notifications (account_id, created_at);
