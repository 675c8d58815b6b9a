-- Payments: the provider payments of each order, every provider event
-- recorded once, refunds with their cap enforced here, and review flags.
-- The functions that write them live in shared/payments/sql/.

-- Orders can now be partly refunded.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (
    'pending', 'pending_payment', 'paid', 'partially_refunded', 'refunded',
    'fulfilling', 'shipped', 'delivered', 'cancelled'));

CREATE TABLE payments (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id            bigint NOT NULL REFERENCES orders (id),
    provider            text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    -- The PaymentIntent id (pi_...) or the PayPal order id.
    provider_payment_id text NOT NULL CHECK (length(provider_payment_id) BETWEEN 1 AND 255),
    -- What refunds name: the Stripe charge or the PayPal capture.
    capture_id          text CHECK (length(capture_id) BETWEEN 1 AND 255),
    amount              numeric(12,2) NOT NULL CHECK (amount >= 0),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- created: waiting for the shopper; failed / canceled: the last attempt;
    -- succeeded: the money was captured (`captured`).
    status              text NOT NULL DEFAULT 'created'
                        CHECK (status IN ('created', 'failed', 'canceled', 'succeeded')),
    captured            numeric(12,2) NOT NULL DEFAULT 0 CHECK (captured >= 0),
    -- Refunds asked for and not failed. The cap: a refund is accepted only if
    -- this stays within what was captured (a row lock serialises requests,
    -- the CHECK holds whatever the code does).
    refund_committed    numeric(12,2) NOT NULL DEFAULT 0
                        CHECK (refund_committed >= 0 AND refund_committed <= captured),
    -- What the provider confirmed as refunded (its word, not capped here).
    refunded            numeric(12,2) NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_payment_id)
);
CREATE INDEX payments_order ON payments (order_id);
CREATE UNIQUE INDEX payments_capture ON payments (provider, capture_id) WHERE capture_id IS NOT NULL;

ALTER TABLE orders
    -- The payment whose money paid the order (at most one).
    ADD COLUMN paid_by       bigint REFERENCES payments (id),
    ADD COLUMN paid_at       timestamptz,
    -- Set: staff must look at the order (a payment that does not match it,
    -- a dispute, a reversal). The status is not changed by a flag.
    ADD COLUMN review_reason text,
    ADD COLUMN flagged_at    timestamptz;

-- Every provider event, once: (provider, event id) is the dedupe key, and
-- the row commits in the same transaction as the event's effect.
CREATE TABLE payment_events (
    provider    text NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    event_id    text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
    event_type  text NOT NULL,
    order_id    bigint REFERENCES orders (id),
    -- What it did (the lifecycle's decision, or `unmatched`).
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX payment_events_order ON payment_events (order_id);

CREATE TABLE refunds (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id         bigint NOT NULL REFERENCES payments (id),
    order_id           bigint NOT NULL REFERENCES orders (id),
    amount             numeric(12,2) NOT NULL CHECK (amount > 0),
    reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    -- admin: POST /admin/orders/{id}/refunds; late_payment / extra_payment:
    -- automatic; provider: made outside this system, learnt from an event.
    origin             text NOT NULL CHECK (origin IN ('admin', 'late_payment', 'extra_payment', 'provider')),
    -- requested: not yet accepted by the provider (the cron retries it);
    -- pending: accepted, not final; succeeded / failed: final.
    status             text NOT NULL DEFAULT 'requested'
                       CHECK (status IN ('requested', 'pending', 'succeeded', 'failed')),
    provider_refund_id text CHECK (length(provider_refund_id) BETWEEN 1 AND 255),
    -- The admin's Idempotency-Key: a retried request returns this refund.
    idempotency_key    text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    attempts           int NOT NULL DEFAULT 0,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, idempotency_key)
);
CREATE INDEX refunds_payment ON refunds (payment_id);
CREATE UNIQUE INDEX refunds_provider_id ON refunds (payment_id, provider_refund_id)
    WHERE provider_refund_id IS NOT NULL;
-- The cron's scan: refunds the provider has not accepted yet.
CREATE INDEX refunds_requested ON refunds (updated_at) WHERE status = 'requested';

-- The gateways each region offers (regions.toml, loaded by scripts/regions-sql),
-- so the orders worker can check a payment retry without the region rules.
ALTER TABLE regions ADD COLUMN payment_providers text[] NOT NULL DEFAULT '{}';
