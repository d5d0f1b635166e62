-- Billing providers' webhooks: the deduplication record, the link from a membership or
-- subscription to an account, and the history of plan changes.

-- One row per provider event received with a valid signature. The primary key is the
-- deduplication: a retried or replayed event cannot be applied twice.
CREATE TABLE provider_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    occurred_at  TIMESTAMP,
    subject      TEXT,
    account_id   TEXT,
    -- applied, provisioned, ignored, stale, unmatched
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    -- How many times the provider delivered it (retries and copies are counted, not applied).
    deliveries   INTEGER NOT NULL DEFAULT 1,
    -- The raw body, kept for a bounded time by the retention job.
    body         TEXT,
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX provider_events_by_time ON provider_events (received_at);

-- A Whop membership or Stripe subscription, and the account it pays for. `last_event_at`
-- is the time of the newest event applied: an older one never rolls the state back.
CREATE TABLE billing_links (
    provider              TEXT NOT NULL,
    subject               TEXT NOT NULL,
    account_id            TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    last_event_at         TIMESTAMP NOT NULL,
    manage_url            TEXT,
    cancel_at_period_end  BOOLEAN NOT NULL DEFAULT FALSE,
    period_end            TIMESTAMP,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX billing_links_by_account ON billing_links (account_id);

CREATE TABLE plan_history (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at           TIMESTAMP NOT NULL,
    from_plan    TEXT,
    to_plan      TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    source       TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX plan_history_by_account ON plan_history (account_id, at);

-- When a past_due license's grace period ends (then it is suspended).
ALTER TABLE licenses ADD COLUMN grace_ends_at TIMESTAMP;

-- Single-use links that let a provisioned owner set a password and sign in. Only the
-- SHA-256 of the token is stored; an admin issues a link and sees it once.
CREATE TABLE signin_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX signin_links_by_user ON signin_links (user_id);

-- Set for owners created by a purchase, until they first set a password through a link.
ALTER TABLE users ADD COLUMN awaiting_first_signin BOOLEAN NOT NULL DEFAULT FALSE;
