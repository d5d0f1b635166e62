-- Accounts, their licenses, and metered usage.
-- Kept to portable SQL: SQLite is the embedded default, PostgreSQL shares state across instances.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE licenses (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
    plan_id      TEXT NOT NULL,
    status       TEXT NOT NULL,
    seats        INTEGER NOT NULL,
    starts_at    TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    source       TEXT NOT NULL DEFAULT 'manual',
    external_id  TEXT,
    updated_at   TIMESTAMP NOT NULL
);

-- Raw events; the idempotency key is unique per account.
CREATE TABLE usage_events (
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    idempotency_key  TEXT NOT NULL,
    meter            TEXT NOT NULL,
    quantity         DOUBLE PRECISION NOT NULL,
    occurred_at      TIMESTAMP NOT NULL,
    properties       TEXT,
    PRIMARY KEY (account_id, idempotency_key)
);

-- For `sum` meters the day's total; for `last` the level at the end of the day;
-- for `max` the day's highest value.
CREATE TABLE usage_daily (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    meter       TEXT NOT NULL,
    day         DATE NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    observed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, meter, day)
);

-- `month` is the first day of the UTC month. `observed_at` is the time of the latest
-- event counted in a rollup row, so "last" keeps the newest level even when events
-- arrive out of order.
CREATE TABLE usage_monthly (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    meter       TEXT NOT NULL,
    month       DATE NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    observed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, meter, month)
);

CREATE INDEX usage_events_by_meter_time ON usage_events (account_id, meter, occurred_at);
CREATE INDEX accounts_by_creation ON accounts (created_at, id);
