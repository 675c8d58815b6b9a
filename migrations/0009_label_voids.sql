-- Labels for orders that will not ship (issue 10, follow-up).
--
-- An order may be cancelled while the fulfillment consumer waits for the
-- carrier's label. The label is paid for, so it must be voided (the carrier
-- refunds a voided label). record_shipment notes the need when it finds the
-- order no longer fulfilling; the consumer voids the label and records it
-- (shared/orders/sql/fulfillment.sql, functions/fulfillment/src/book.rs).
ALTER TABLE shipments
    ADD COLUMN void_requested_at timestamptz,
    ADD COLUMN voided_at         timestamptz,
    ADD CONSTRAINT shipments_voided_after_request
        CHECK (voided_at IS NULL OR void_requested_at IS NOT NULL);
