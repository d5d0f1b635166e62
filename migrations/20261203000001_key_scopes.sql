-- What a customer key may do beyond metering: a space-separated list of scopes.
-- `manage_keys` lets a key create and revoke the account's keys; without it a key only
-- meters. Existing keys get none: key management is for owners (by session) unless a key
-- is created with the scope.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
