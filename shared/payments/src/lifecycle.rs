//! The order's payment lifecycle: what a provider's event does to an order,
//! given the order's state. This is the one place that decides; the SQL in
//! `sql/apply_payment_event.sql` carries the decision out in one
//! transaction, and only if the order is still in the state decided on.
//!
//! Events arrive late, twice, and out of order. Every pair of state and
//! event has an answer here (tested below, all of them), and the answer
//! never takes money twice nor marks an order paid twice.

use serde::{Deserialize, Serialize};

/// The order's status: the orders crate's, whose state machine
/// (`orders::machine`) is the one place that says which status may follow
/// which. The decisions here that move an order are checked against it below.
pub use orders::OrderStatus;

/// A provider's event, reduced to what it means for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Money was captured (Stripe `payment_intent.succeeded`, PayPal
    /// `PAYMENT.CAPTURE.COMPLETED`, or our own capture's answer).
    PaymentSucceeded,
    /// An attempt was declined (Stripe `payment_intent.payment_failed`,
    /// PayPal `PAYMENT.CAPTURE.DECLINED`).
    PaymentFailed,
    /// Stripe `payment_intent.canceled`.
    PaymentCanceled,
    /// PayPal `CHECKOUT.ORDER.APPROVED`: the shopper approved; we capture.
    PaymentApproved,
    /// The provider says how much of a payment is refunded now (Stripe
    /// `charge.refunded`, PayPal `PAYMENT.CAPTURE.REFUNDED`).
    Refunded,
    /// PayPal `PAYMENT.CAPTURE.REVERSED`: the money went back (a chargeback).
    Reversed,
    /// Stripe `charge.dispute.created`.
    Disputed,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::PaymentSucceeded,
        EventKind::PaymentFailed,
        EventKind::PaymentCanceled,
        EventKind::PaymentApproved,
        EventKind::Refunded,
        EventKind::Reversed,
        EventKind::Disputed,
    ];
}

/// What the database knows when the event is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub status: OrderStatus,
    /// The event's payment is the one that paid the order.
    pub same_payment: bool,
    /// The event's amount and currency are the order's total (only read
    /// for `PaymentSucceeded`).
    pub amount_matches: bool,
}

/// What to do. `sql/apply_payment_event.sql` carries each one out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The order is paid by this payment: its reservations become committed
    /// stock (`on_hand -= q, reserved -= q`), the payment row records it.
    MarkPaid,
    /// The order was cancelled (its reservation expired) before the money
    /// came: reserve and commit its stock again and mark it paid, or, when
    /// the stock is gone, refund the payment automatically and say why.
    PayLate,
    /// Another payment already paid this order: record this one and refund
    /// it automatically. A shopper is never charged twice.
    RefundExtraPayment,
    /// Money came, but not the order's amount or currency: record it, flag
    /// the order for review, and do not mark it paid.
    HoldForReview,
    /// PayPal: the shopper approved; capture it (idempotently), then the
    /// capture's answer is a `PaymentSucceeded`.
    Capture,
    /// Record the provider's refunded total; a paid order becomes
    /// `partially_refunded` or `refunded`.
    RecordRefund,
    /// A dispute or a reversal: flag the order for review.
    Flag,
    /// Update the payment row (declined, canceled); the order is unchanged
    /// and its stock stays reserved until it expires or a retry succeeds.
    RecordAttempt,
    /// Record the event only: it changes nothing (a duplicate effect, a
    /// failure after a success, an approval for an order we no longer sell).
    Nothing,
}

/// The lifecycle's rule: this event, for an order with these facts.
pub fn decide(kind: EventKind, facts: &Facts) -> Decision {
    use Decision::*;
    use OrderStatus::*;
    match kind {
        EventKind::PaymentSucceeded => match facts.status {
            _ if !facts.amount_matches => HoldForReview,
            PendingPayment => MarkPaid,
            Cancelled => PayLate,
            _ if facts.same_payment => Nothing,
            // Paid (or later) by another payment: this one is extra.
            _ => RefundExtraPayment,
        },
        EventKind::PaymentFailed | EventKind::PaymentCanceled => match facts.status {
            PendingPayment => RecordAttempt,
            // A failure after the success (or after the cancellation) is
            // history, not news.
            _ => Nothing,
        },
        EventKind::PaymentApproved => match facts.status {
            PendingPayment => Capture,
            // Cancelled: the stock was released; taking the money now would
            // only mean refunding it. Paid: another payment paid it, so
            // capturing this approval would charge the shopper twice.
            _ => Nothing,
        },
        EventKind::Refunded => RecordRefund,
        EventKind::Reversed | EventKind::Disputed => Flag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: OrderStatus, same_payment: bool, amount_matches: bool) -> Facts {
        Facts {
            status,
            same_payment,
            amount_matches,
        }
    }

    /// Every state × event × fact: the answer is one of the allowed ones,
    /// and the money rules hold.
    #[test]
    fn every_pair_of_state_and_event_has_a_safe_answer() {
        for status in OrderStatus::ALL {
            for kind in EventKind::ALL {
                for same in [false, true] {
                    for matches in [false, true] {
                        let d = decide(kind, &facts(status, same, matches));
                        // Only a success for a matching amount can pay an order...
                        if matches!(d, Decision::MarkPaid | Decision::PayLate) {
                            assert_eq!(kind, EventKind::PaymentSucceeded);
                            assert!(matches);
                            // ...and only one that is not paid yet.
                            assert!(!status.was_paid(), "{status:?} paid twice");
                        }
                        // A paid order never captures again.
                        if d == Decision::Capture {
                            assert_eq!(status, OrderStatus::PendingPayment);
                        }
                        // A failure never changes an order that is past pending.
                        if matches!(kind, EventKind::PaymentFailed | EventKind::PaymentCanceled) {
                            let expected = if status == OrderStatus::PendingPayment {
                                Decision::RecordAttempt
                            } else {
                                Decision::Nothing
                            };
                            assert_eq!(d, expected, "{kind:?} on {status:?}");
                        }
                        // Money that arrives is always accounted for: paid,
                        // refunded, held for review, or already the payment of record.
                        if kind == EventKind::PaymentSucceeded {
                            assert!(
                                matches!(
                                    d,
                                    Decision::MarkPaid
                                        | Decision::PayLate
                                        | Decision::RefundExtraPayment
                                        | Decision::HoldForReview
                                ) || (d == Decision::Nothing && same && status.was_paid()),
                                "{status:?} same={same} matches={matches} -> {d:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_table() {
        use Decision::*;
        use EventKind as E;
        use OrderStatus::*;
        let cases = [
            (
                E::PaymentSucceeded,
                facts(PendingPayment, false, true),
                MarkPaid,
            ),
            (
                E::PaymentSucceeded,
                facts(PendingPayment, false, false),
                HoldForReview,
            ),
            (E::PaymentSucceeded, facts(Cancelled, false, true), PayLate),
            (
                E::PaymentSucceeded,
                facts(Cancelled, false, false),
                HoldForReview,
            ),
            (E::PaymentSucceeded, facts(Paid, true, true), Nothing),
            (
                E::PaymentSucceeded,
                facts(Paid, false, true),
                RefundExtraPayment,
            ),
            (E::PaymentSucceeded, facts(Refunded, true, true), Nothing),
            (
                E::PaymentSucceeded,
                facts(Shipped, false, true),
                RefundExtraPayment,
            ),
            (
                E::PaymentFailed,
                facts(PendingPayment, false, true),
                RecordAttempt,
            ),
            (E::PaymentFailed, facts(Paid, true, true), Nothing),
            (
                E::PaymentCanceled,
                facts(PendingPayment, false, true),
                RecordAttempt,
            ),
            (E::PaymentCanceled, facts(Cancelled, false, true), Nothing),
            (
                E::PaymentApproved,
                facts(PendingPayment, false, true),
                Capture,
            ),
            (E::PaymentApproved, facts(Cancelled, false, true), Nothing),
            (E::PaymentApproved, facts(Paid, false, true), Nothing),
            (E::PaymentApproved, facts(Paid, true, true), Nothing),
            (E::Refunded, facts(Paid, true, true), RecordRefund),
            (
                E::Refunded,
                facts(PendingPayment, false, true),
                RecordRefund,
            ),
            (E::Reversed, facts(Paid, true, true), Flag),
            (E::Disputed, facts(Delivered, true, true), Flag),
        ];
        for (kind, f, want) in cases {
            assert_eq!(decide(kind, &f), want, "{kind:?} {f:?}");
        }
    }

    /// A decision that moves the order is a move the order state machine
    /// allows: marking paid is `payment_succeeded`, paying late is
    /// `late_payment` (from `cancelled`).
    #[test]
    fn decisions_that_move_an_order_are_legal_in_the_order_machine() {
        use orders::{next, OrderEvent};
        for status in OrderStatus::ALL {
            for kind in EventKind::ALL {
                for same in [false, true] {
                    for matches in [false, true] {
                        let d = decide(kind, &facts(status, same, matches));
                        let event = match d {
                            Decision::MarkPaid => OrderEvent::PaymentSucceeded,
                            Decision::PayLate => OrderEvent::LatePayment,
                            _ => continue,
                        };
                        assert_eq!(
                            next(status, event),
                            Ok(OrderStatus::Paid),
                            "{kind:?} on {status:?} -> {d:?}"
                        );
                    }
                }
            }
        }
    }
}
