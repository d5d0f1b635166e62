-- `upgrade_required` refusals per account, feature and day: repeated ones suggest the plan
-- that unlocks the feature.
CREATE TABLE feature_refusals (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    feature     TEXT NOT NULL,
    day         DATE NOT NULL,
    refusals    INTEGER NOT NULL,
    PRIMARY KEY (account_id, feature, day)
);
