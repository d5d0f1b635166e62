-- Billing identity: a provider's subscription is linked to an account only through proof.
--
-- A user's email counts as verified when its owner proved it: provisioned by the billing
-- provider itself, added by the operator (CLI, demo data), or (with the mailer) a link sent
-- to it. A self-signed-up email stays unverified and is never matched by a provider.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;
UPDATE users SET email_verified_at = created_at WHERE awaiting_first_signin OR role = 'admin';

-- The reference Tollgate puts into an account's checkout links (Stripe
-- client_reference_id, Whop metadata); a purchase carrying it links to that account.
ALTER TABLE accounts ADD COLUMN checkout_ref TEXT;
CREATE UNIQUE INDEX accounts_by_checkout_ref ON accounts (checkout_ref) WHERE checkout_ref IS NOT NULL;

-- Each subscription's own plan and status, so ending one of several does not take away
-- what another still pays for.
ALTER TABLE billing_links ADD COLUMN plan TEXT;
ALTER TABLE billing_links ADD COLUMN status TEXT;
