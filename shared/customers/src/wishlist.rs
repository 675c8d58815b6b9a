//! The wishlist's rules: its cap, and its one body (`POST
//! /customers/me/wishlist` `{sku}`). SKUs are the cart's `Sku`, so a SKU a
//! cart accepts is one a wishlist accepts and no other.

use cart::Sku;
use platform::body::{parse_json, Field};
use platform::ApiError;
use serde::Deserialize;

/// Most items on one wishlist; the 501st is 409 `wishlist_full`.
pub const MAX_WISHLIST_ITEMS: usize = 500;

/// `POST /customers/me/wishlist` as sent: `{sku}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    #[serde(default)]
    sku: Field<String>,
}

/// The SKU to add: 400 `invalid_sku` when missing or not a SKU.
pub fn parse_add(body: &[u8]) -> Result<Sku, ApiError> {
    let b: AddBody = parse_json(body)?;
    Sku::parse(&b.sku.required(|| Sku::parse("").unwrap_err())?)
}

/// Whether one more item fits on a list of `count` items.
pub fn check_room(count: usize) -> Result<(), ApiError> {
    if count >= MAX_WISHLIST_ITEMS {
        Err(wishlist_full())
    } else {
        Ok(())
    }
}

/// 409 `wishlist_full`.
pub fn wishlist_full() -> ApiError {
    ApiError::conflict(
        "wishlist_full",
        format!("a wishlist holds at most {MAX_WISHLIST_ITEMS} items; remove one first"),
    )
    .with_detail("max_items", MAX_WISHLIST_ITEMS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_bodies_hold_one_sku() {
        assert_eq!(
            parse_add(br#"{"sku":"P000123-2"}"#).unwrap().as_str(),
            "P000123-2"
        );
        for (body, want) in [
            (r#"{}"#, "invalid_sku"),
            (r#"{"sku":5}"#, "invalid_sku"),
            (r#"{"sku":"p000123"}"#, "invalid_sku"),
            (r#"{"sku":"P1","qty":1}"#, "unknown_field"),
        ] {
            let e = parse_add(body.as_bytes()).unwrap_err();
            assert_eq!((e.status, e.code), (400, want), "{body}");
        }
    }

    #[test]
    fn the_501st_item_does_not_fit() {
        assert!(check_room(0).is_ok());
        assert!(check_room(MAX_WISHLIST_ITEMS - 1).is_ok());
        let e = check_room(MAX_WISHLIST_ITEMS).unwrap_err();
        assert_eq!((e.status, e.code), (409, "wishlist_full"));
    }
}
