//! What the cart worker and checkout ask of a cart's Durable Object.

use platform::money::Currency;
use regions::RegionCode;
use serde::{Deserialize, Serialize};

use crate::{CartId, OrderRef, Sku};

/// A change to a cart. The cart function parses requests into these; the
/// Durable Object applies them one at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CartCommand {
    Create {
        store_id: i64,
        region: RegionCode,
        currency: Currency,
    },
    Get,
    /// Checkout's read, which freezes the cart for checkout `key` (its
    /// Idempotency-Key) for `CHECKOUT_LEASE_MS`: meanwhile changes are `409
    /// checkout_in_progress`, and so is another key's `BeginCheckout`. The
    /// same key again renews the lease (a retried checkout). Answers the cart
    /// as stored, not re-priced (checkout checks every price again on the
    /// primary inside its transaction), with its version as the ETag. A
    /// checked-out cart is answered as it is, unfrozen.
    BeginCheckout {
        key: String,
    },
    /// The order for `key` was refused: the cart thaws. A no-op when `key`
    /// does not hold the lease.
    AbortCheckout {
        key: String,
    },
    /// Adds to the line's quantity (creating the line).
    Add {
        sku: Sku,
        quantity: u32,
    },
    /// Sets the line's quantity; 0 removes it.
    Set {
        sku: Sku,
        quantity: u32,
    },
    Remove {
        sku: Sku,
    },
    /// Checkout's: the cart became `order_id`. Sent with `If-Match: "<the
    /// version BeginCheckout answered>"`, so a cart that changed after the
    /// order was priced is never closed as if the order held it (412). The
    /// same order again is no change, whatever the version.
    MarkCheckedOut {
        order_id: OrderRef,
    },
}

impl CartCommand {
    pub fn changes_cart(&self) -> bool {
        !matches!(
            self,
            CartCommand::Get
                | CartCommand::BeginCheckout { .. }
                | CartCommand::AbortCheckout { .. }
        )
    }

    /// Whether the answer re-prices the lines from the database first.
    pub fn reprices(&self) -> bool {
        matches!(
            self,
            CartCommand::Get | CartCommand::Add { .. } | CartCommand::Set { .. }
        )
    }

    /// Changes may be priced from `PriceCache`; a read of the cart always
    /// goes to the database (and refreshes the cache).
    pub fn may_use_cached_prices(&self) -> bool {
        matches!(self, CartCommand::Add { .. } | CartCommand::Set { .. })
    }

    /// The SKU whose stock and price this command needs beyond the cart's own lines.
    pub fn sku(&self) -> Option<&Sku> {
        match self {
            CartCommand::Add { sku, .. } | CartCommand::Set { sku, .. } => Some(sku),
            _ => None,
        }
    }
}

/// What the cart function and checkout send to a cart's Durable Object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartRequest {
    pub cart_id: CartId,
    pub command: CartCommand,
    /// The client's `If-Match`, checked against the version the object holds.
    pub if_match: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn only_changes_may_use_cached_prices() {
        assert!(CartCommand::Add {
            sku: sku("A-1"),
            quantity: 1
        }
        .may_use_cached_prices());
        assert!(!CartCommand::Get.may_use_cached_prices());
    }
}
