-- The audit log becomes a hash chain: each entry carries the SHA-256 of the one before it
-- (`prev_hash`) and its own (`hash`, over prev_hash and every field), so `tollgate audit
-- verify` can prove nothing was altered or removed. Entries written before this migration
-- are sealed, in order, when the engine next opens the database.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Append-only in the database too: no entry is deleted, and an entry is changed only
-- once, to be sealed (its two hash columns set, nothing else).
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor
  OR NEW.account_id IS NOT OLD.account_id OR NEW.action IS NOT OLD.action
  OR NEW.target IS NOT OLD.target OR NEW.before IS NOT OLD.before OR NEW.after IS NOT OLD.after
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
