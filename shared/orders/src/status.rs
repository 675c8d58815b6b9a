//! An order's status, as `orders.status` spells it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    PartiallyRefunded,
    Refunded,
    Cancelled,
    Fulfilling,
    Shipped,
    Delivered,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
        OrderStatus::Cancelled,
        OrderStatus::Fulfilling,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ];

    /// The database's spelling (`orders.status`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A status as a client may name it in a filter: the database's
    /// spelling, or `pending` for `pending_payment` (the seed's and the
    /// dashboard's word for "awaiting payment").
    pub fn parse_filter(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(OrderStatus::PendingPayment),
            _ => Self::parse(s),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Fulfilling => "fulfilling",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
        }
    }

    /// The order's money was taken: paid, and anything that follows payment.
    pub fn was_paid(&self) -> bool {
        !matches!(self, OrderStatus::PendingPayment | OrderStatus::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_their_database_spelling() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(OrderStatus::parse_filter(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("pending"), None);
        assert_eq!(
            OrderStatus::parse_filter("pending"),
            Some(OrderStatus::PendingPayment)
        );
        for bad in ["", "PAID", "paid ", "shipping", "pending_payment;"] {
            assert_eq!(OrderStatus::parse_filter(bad), None, "{bad:?}");
        }
    }
}
