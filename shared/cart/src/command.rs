//! What the cart worker and checkout ask of a cart's Durable Object.

use platform::money::Currency;
use regions::RegionCode;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{CartId, Email, MergeLine, OrderRef, Sku};

/// A change to a cart. The cart function parses requests into these; the
/// Durable Object applies them one at a time.
///
/// On the wire (to the object, and the dev route's body) a command is one
/// JSON object: `op`, the variant's name in snake_case, beside the
/// variant's fields, e.g. `{"op":"add","sku":"A-1","quantity":2}` (serde's
/// internally tagged form). Written by hand below rather than derived: the
/// derived internally tagged code buffers every value first and costs the
/// cart and checkout workers tens of KB of wasm; the format is the same.
#[derive(Debug, Clone, PartialEq)]
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
    /// The shopper's email for the abandoned-cart message (`PATCH
    /// /cart/{id}`): an open cart only, a change like the others (version,
    /// If-Match, refused while a checkout holds the cart). The same email
    /// again is no change, like a read, whatever the version: so a PATCH
    /// retried after its recovery-index write failed gets 200 (and the
    /// cart worker writes the index again).
    AttachEmail {
        email: Email,
    },
    /// A guest cart becomes `customer`'s saved cart (login with a guest cart
    /// and no saved one): `customer_id` set, a change like the others
    /// (version, If-Match, refused while a checkout holds the cart, 409
    /// `cart_checked_out` once checked out). Sent with `caller` = the same
    /// customer, so a cart another customer owns is 404 (`owner`); a cart
    /// this customer already owns is no change, like a read.
    Adopt {
        customer: String,
    },
    /// A guest cart's lines merged into this (saved) cart (login with both):
    /// quantities summed, capped by `MAX_QUANTITY`, stock and `MAX_LINES`
    /// (`Cart::merge`). Refused, not an error, when the guest cart is of
    /// another region or store, or this cart is checked out: the object
    /// answers `{"cart", "merge"}` (`object_answer`).
    Merge {
        lines: Vec<MergeLine>,
        region: RegionCode,
        store_id: i64,
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
            CartCommand::Get
                | CartCommand::Add { .. }
                | CartCommand::Set { .. }
                | CartCommand::Merge { .. }
        )
    }

    /// Changes may be priced from `PriceCache`; a read of the cart always
    /// goes to the database (and refreshes the cache).
    pub fn may_use_cached_prices(&self) -> bool {
        matches!(
            self,
            CartCommand::Add { .. } | CartCommand::Set { .. } | CartCommand::Merge { .. }
        )
    }

    /// The SKU whose stock and price this command needs beyond the cart's own lines.
    pub fn sku(&self) -> Option<&Sku> {
        match self {
            CartCommand::Add { sku, .. } | CartCommand::Set { sku, .. } => Some(sku),
            _ => None,
        }
    }
}

/// A command as one flat JSON object (see `CartCommand`): every variant's
/// fields, each present only for the variants that have it.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    op: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    store_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<RegionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    currency: Option<Currency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_id: Option<OrderRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<MergeLine>>,
}

const OPS: &[&str] = &[
    "create",
    "get",
    "begin_checkout",
    "abort_checkout",
    "add",
    "set",
    "remove",
    "mark_checked_out",
    "attach_email",
    "adopt",
    "merge",
];

impl Serialize for CartCommand {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut w = Wire {
            op: "".into(),
            store_id: None,
            region: None,
            currency: None,
            key: None,
            sku: None,
            quantity: None,
            order_id: None,
            email: None,
            customer: None,
            lines: None,
        };
        let op = match self {
            CartCommand::Create {
                store_id,
                region,
                currency,
            } => {
                (w.store_id, w.region, w.currency) =
                    (Some(*store_id), Some(region.clone()), Some(*currency));
                "create"
            }
            CartCommand::Get => "get",
            CartCommand::BeginCheckout { key } => {
                w.key = Some(key.clone());
                "begin_checkout"
            }
            CartCommand::AbortCheckout { key } => {
                w.key = Some(key.clone());
                "abort_checkout"
            }
            CartCommand::Add { sku, quantity } | CartCommand::Set { sku, quantity } => {
                (w.sku, w.quantity) = (Some(sku.clone()), Some(*quantity));
                if matches!(self, CartCommand::Add { .. }) {
                    "add"
                } else {
                    "set"
                }
            }
            CartCommand::Remove { sku } => {
                w.sku = Some(sku.clone());
                "remove"
            }
            CartCommand::MarkCheckedOut { order_id } => {
                w.order_id = Some(order_id.clone());
                "mark_checked_out"
            }
            CartCommand::AttachEmail { email } => {
                w.email = Some(email.clone());
                "attach_email"
            }
            CartCommand::Adopt { customer } => {
                w.customer = Some(customer.clone());
                "adopt"
            }
            CartCommand::Merge {
                lines,
                region,
                store_id,
            } => {
                (w.lines, w.region, w.store_id) =
                    (Some(lines.clone()), Some(region.clone()), Some(*store_id));
                "merge"
            }
        };
        w.op = op.into();
        w.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CartCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(deserializer)?;
        fn need<T, E: serde::de::Error>(v: Option<T>, field: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::missing_field(field))
        }
        Ok(match &*w.op {
            "create" => CartCommand::Create {
                store_id: need(w.store_id, "store_id")?,
                region: need(w.region, "region")?,
                currency: need(w.currency, "currency")?,
            },
            "get" => CartCommand::Get,
            "begin_checkout" => CartCommand::BeginCheckout {
                key: need(w.key, "key")?,
            },
            "abort_checkout" => CartCommand::AbortCheckout {
                key: need(w.key, "key")?,
            },
            "add" => CartCommand::Add {
                sku: need(w.sku, "sku")?,
                quantity: need(w.quantity, "quantity")?,
            },
            "set" => CartCommand::Set {
                sku: need(w.sku, "sku")?,
                quantity: need(w.quantity, "quantity")?,
            },
            "remove" => CartCommand::Remove {
                sku: need(w.sku, "sku")?,
            },
            "mark_checked_out" => CartCommand::MarkCheckedOut {
                order_id: need(w.order_id, "order_id")?,
            },
            "attach_email" => CartCommand::AttachEmail {
                email: need(w.email, "email")?,
            },
            "adopt" => CartCommand::Adopt {
                customer: need(w.customer, "customer")?,
            },
            "merge" => CartCommand::Merge {
                lines: need(w.lines, "lines")?,
                region: need(w.region, "region")?,
                store_id: need(w.store_id, "store_id")?,
            },
            other => return Err(D::Error::unknown_variant(other, OPS)),
        })
    }
}

/// What the cart function and checkout send to a cart's Durable Object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartRequest {
    pub cart_id: CartId,
    pub command: CartCommand,
    /// The client's `If-Match`, checked against the version the object holds.
    pub if_match: Option<String>,
    /// Who asks: the signed-in customer's public id (`cus_...`), `None` for
    /// a guest. A cart a customer owns answers only that customer (404 to
    /// anyone else: `owner::check_caller`); a `Create` with a caller makes
    /// the cart theirs. Absent on the wire for a guest, and read as `None`
    /// from senders that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    /// The wire format is what the derived internally tagged form wrote: a
    /// checkout or cart worker of either build reads the other's commands.
    #[test]
    fn commands_keep_their_wire_format() {
        use serde_json::{json, Value};
        let email = crate::Email::parse("ada@example.com").unwrap();
        for (command, wire) in [
            (
                CartCommand::Create {
                    store_id: 2,
                    region: RegionCode::parse("US-CA").unwrap(),
                    currency: usd(),
                },
                json!({"op": "create", "store_id": 2, "region": "US-CA", "currency": "USD"}),
            ),
            (CartCommand::Get, json!({"op": "get"})),
            (
                CartCommand::BeginCheckout { key: "k1".into() },
                json!({"op": "begin_checkout", "key": "k1"}),
            ),
            (
                CartCommand::AbortCheckout { key: "k1".into() },
                json!({"op": "abort_checkout", "key": "k1"}),
            ),
            (
                CartCommand::Add {
                    sku: sku("A-1"),
                    quantity: 2,
                },
                json!({"op": "add", "sku": "A-1", "quantity": 2}),
            ),
            (
                CartCommand::Set {
                    sku: sku("A-1"),
                    quantity: 0,
                },
                json!({"op": "set", "sku": "A-1", "quantity": 0}),
            ),
            (
                CartCommand::Remove { sku: sku("A-1") },
                json!({"op": "remove", "sku": "A-1"}),
            ),
            (
                CartCommand::MarkCheckedOut { order_id: 7.into() },
                json!({"op": "mark_checked_out", "order_id": 7}),
            ),
            (
                CartCommand::MarkCheckedOut {
                    order_id: "ord_x".into(),
                },
                json!({"op": "mark_checked_out", "order_id": "ord_x"}),
            ),
            (
                CartCommand::AttachEmail { email },
                json!({"op": "attach_email", "email": "ada@example.com"}),
            ),
            (
                CartCommand::Adopt {
                    customer: "cus_a1".into(),
                },
                json!({"op": "adopt", "customer": "cus_a1"}),
            ),
            (
                CartCommand::Merge {
                    lines: vec![
                        MergeLine {
                            sku: sku("A-1"),
                            quantity: 2,
                        },
                        MergeLine {
                            sku: sku("B-1"),
                            quantity: 99,
                        },
                    ],
                    region: RegionCode::parse("US-CA").unwrap(),
                    store_id: 3,
                },
                json!({"op": "merge", "region": "US-CA", "store_id": 3, "lines": [
                    {"sku": "A-1", "quantity": 2}, {"sku": "B-1", "quantity": 99},
                ]}),
            ),
            (
                CartCommand::Merge {
                    lines: vec![],
                    region: RegionCode::parse("US-CO").unwrap(),
                    store_id: 1,
                },
                json!({"op": "merge", "lines": [], "region": "US-CO", "store_id": 1}),
            ),
        ] {
            assert_eq!(serde_json::to_value(&command).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<CartCommand>(wire).unwrap(),
                command
            );
        }
        // The tag may come anywhere, unknown fields are ignored (as before).
        let late: CartCommand =
            serde_json::from_str(r#"{"key":"k","extra":[1],"op":"begin_checkout"}"#).unwrap();
        assert_eq!(late, CartCommand::BeginCheckout { key: "k".into() });
        // And exactly what serde derives for the internally tagged enum.
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "op", rename_all = "snake_case")]
        enum Derived {
            Create {
                store_id: i64,
                region: RegionCode,
                currency: Currency,
            },
            Get,
            BeginCheckout {
                key: String,
            },
            AbortCheckout {
                key: String,
            },
            Add {
                sku: Sku,
                quantity: u32,
            },
            Set {
                sku: Sku,
                quantity: u32,
            },
            Remove {
                sku: Sku,
            },
            MarkCheckedOut {
                order_id: OrderRef,
            },
            AttachEmail {
                email: crate::Email,
            },
            Adopt {
                customer: String,
            },
            Merge {
                lines: Vec<MergeLine>,
                region: RegionCode,
                store_id: i64,
            },
        }
        for wire in [
            json!({"op": "create", "store_id": 2, "region": "US-CA", "currency": "USD"}),
            json!({"op": "get"}),
            json!({"op": "begin_checkout", "key": "k1"}),
            json!({"op": "abort_checkout", "key": "k1", "ignored": true}),
            json!({"quantity": 3, "op": "add", "sku": "A-1"}),
            json!({"op": "set", "sku": "A-1", "quantity": 0}),
            json!({"op": "remove", "sku": "A-1"}),
            json!({"op": "mark_checked_out", "order_id": -7}),
            json!({"op": "mark_checked_out", "order_id": "ord_x"}),
            json!({"op": "attach_email", "email": "ada@example.com"}),
            json!({"customer": "cus_x", "op": "adopt"}),
            json!({"op": "merge", "lines": [{"quantity": 1, "sku": "A-1"}], "region": "US-CA", "store_id": 2}),
        ] {
            let ours: CartCommand = serde_json::from_value(wire.clone()).unwrap();
            let derived: Derived = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(
                serde_json::to_value(&ours).unwrap(),
                serde_json::to_value(&derived).unwrap(),
                "{wire}"
            );
        }
        for bad in [
            json!({}),
            json!({"op": "explode"}),
            json!({"op": "add", "sku": "A-1"}),
            json!({"op": "add", "sku": "a b", "quantity": 1}),
            json!({"op": "mark_checked_out", "order_id": null}),
            json!({"op": "attach_email", "email": "nope"}),
            json!({"op": "adopt"}),
            json!({"op": "adopt", "customer": 7}),
            json!({"op": "merge", "lines": [], "region": "US-CA"}),
            json!({"op": "merge", "region": "US-CA", "store_id": 1}),
            json!({"op": "merge", "lines": [{"sku": "A-1"}], "region": "US-CA", "store_id": 1}),
            json!({"op": "merge", "lines": [{"sku": "a b", "quantity": 1}], "region": "US-CA", "store_id": 1}),
            json!("get"),
            Value::Null,
        ] {
            assert!(
                serde_json::from_value::<CartCommand>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    /// Senders that predate `caller` (a checkout of the previous build)
    /// still parse, as a guest's request; a guest's request has no `caller`.
    #[test]
    fn requests_without_a_caller_are_a_guests() {
        use serde_json::json;
        let id = crate::CartId::from_random([1; 16]);
        let old = json!({"cart_id": id, "command": {"op": "get"}, "if_match": null});
        let request: CartRequest = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(request.caller, None);
        assert_eq!(serde_json::to_value(&request).unwrap(), old);
        let signed_in = CartRequest {
            caller: Some("cus_a1".into()),
            ..request
        };
        let wire = serde_json::to_value(&signed_in).unwrap();
        assert_eq!(wire["caller"], "cus_a1");
        assert_eq!(
            serde_json::from_value::<CartRequest>(wire).unwrap(),
            signed_in
        );
    }

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
