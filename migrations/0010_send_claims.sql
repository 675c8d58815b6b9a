-- Sending a notice once (issue 10, follow-up).
--
-- The alerts consumer records each notice (a staff alert, a back-in-stock
-- email, a cart's recovery email) and marks it sent after the provider took
-- it. A queue may deliver one message twice at the same time; both
-- deliveries would find it unsent and send it. Before sending, a delivery
-- now claims the notice for a short lease (`sending_until`): a second
-- delivery finds it busy and tries again after the lease, when the notice is
-- sent (nothing to do) or the first delivery gave up (its claim has lapsed).
-- Functions: alert_claim (shared/orders/sql/alerts.sql) and
-- cart_recovery_claim (shared/cart/sql/cart_recovery.sql).
ALTER TABLE alerts ADD COLUMN sending_until timestamptz;
ALTER TABLE cart_recovery ADD COLUMN sending_until timestamptz;
