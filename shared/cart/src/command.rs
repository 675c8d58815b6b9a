//! What the cart worker and checkout ask of a cart's Durable Object.

use platform::money::Currency;
use regions::RegionCode;
use serde::{Deserialize, Serialize};

use crate::{CartId, Sku};

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
    /// Checkout's read: the cart as stored, not re-priced. Checkout checks
    /// every price again on the primary, inside its transaction, so pricing
    /// here on the replica would be a wasted round trip.
    Snapshot,
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
    /// Checkout's: the cart became `order_id`.
    MarkCheckedOut {
        order_id: i64,
    },
}

impl CartCommand {
    pub fn changes_cart(&self) -> bool {
        !matches!(self, CartCommand::Get | CartCommand::Snapshot)
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
