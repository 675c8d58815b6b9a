//! The cart's ids: `CartId` (unguessable, it is the guest's key to the cart)
//! and `Sku` (a variant as the catalog spells it).

use platform::ApiError;

fn is_cart_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Anything that is not a well-formed id cannot name a cart: 404, the same
/// answer as for a well-formed id nobody created.
pub fn cart_not_found() -> ApiError {
    ApiError::not_found("cart_not_found", "no cart has that id")
}

platform::string_id! {
    /// 128 random bits as 32 lowercase hex digits: unguessable, so the id
    /// alone grants access to a guest cart.
    pub struct CartId, valid: is_cart_id, error: cart_not_found
}

impl CartId {
    pub fn from_random(bytes: [u8; 16]) -> Self {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        CartId::parse(&hex).expect("32 lowercase hex digits")
    }
}

fn invalid_sku() -> ApiError {
    ApiError::bad_request("invalid_sku", platform::ids::SKU_RULE)
}

platform::string_id! {
    /// A stock-keeping unit as the catalog spells it (`P000123-2`): capitals,
    /// digits and dashes, 3 to 64 long, the same rule as the `variants.sku`
    /// CHECK.
    pub struct Sku, valid: platform::ids::is_sku, error: invalid_sku
}

/// An order as checkout names it: a number today, an opaque string
/// (`ord_...`) once orders get public ids. Stored and shown exactly as given
/// (a JSON number or string), so carts stored with a numeric id still read
/// back. Read by a hand-written visitor: serde's derived `untagged` reader
/// buffers the value first and costs the workers KBs of wasm.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum OrderRef {
    Number(i64),
    Text(String),
}

impl<'de> serde::Deserialize<'de> for OrderRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = OrderRef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an order id: a whole number or a string")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<OrderRef, E> {
                Ok(OrderRef::Number(n))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<OrderRef, E> {
                i64::try_from(n)
                    .map(OrderRef::Number)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<OrderRef, E> {
                Ok(OrderRef::Text(s.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<OrderRef, E> {
                Ok(OrderRef::Text(s))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl From<i64> for OrderRef {
    fn from(id: i64) -> Self {
        OrderRef::Number(id)
    }
}

impl From<String> for OrderRef {
    fn from(id: String) -> Self {
        OrderRef::Text(id)
    }
}

impl From<&str> for OrderRef {
    fn from(id: &str) -> Self {
        OrderRef::Text(id.to_string())
    }
}

impl std::fmt::Display for OrderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderRef::Number(n) => write!(f, "{n}"),
            OrderRef::Text(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_nothing_else_parses() {
        let id = CartId::from_random([0xab; 16]);
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(CartId::parse(id.as_str()).unwrap(), id);
        for bad in ["", "abc", &"A".repeat(32), &"g".repeat(32), &"a".repeat(33)] {
            assert_eq!(CartId::parse(bad).unwrap_err().status, 404);
        }
    }

    #[test]
    fn order_refs_keep_their_json_shape() {
        let n: OrderRef = serde_json::from_str("42").unwrap();
        assert_eq!(n, OrderRef::from(42));
        assert_eq!(serde_json::to_string(&n).unwrap(), "42");
        let s: OrderRef = serde_json::from_str("\"ord_7f3a\"").unwrap();
        assert_eq!(s, OrderRef::from("ord_7f3a"));
        assert_eq!(s.to_string(), "ord_7f3a");
        assert_eq!(
            serde_json::from_str::<OrderRef>("-3").unwrap(),
            OrderRef::from(-3)
        );
        for bad in ["null", "1.5", "true", "[1]", "{}", "18446744073709551615"] {
            assert!(serde_json::from_str::<OrderRef>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn skus_follow_the_catalog_rule() {
        assert!(Sku::parse("P000123-2").is_ok());
        for bad in [
            "",
            "ab",
            "p000123-2",
            "-P1",
            "P 1",
            &"A".repeat(65),
            "P1;DROP",
        ] {
            assert_eq!(Sku::parse(bad).unwrap_err().code, "invalid_sku", "{bad}");
        }
    }
}
