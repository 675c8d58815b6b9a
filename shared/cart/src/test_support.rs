//! Helpers shared by this crate's unit tests.
#![allow(dead_code)]

pub(crate) use platform::money::Currency;
pub(crate) use regions::{Region, RegionCode, Regions};

pub(crate) use crate::{Cart, CartCommand, CartId, PricedSku, Sku};

pub(crate) fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

pub(crate) fn priced(s: &str, price: &str, available: u32) -> PricedSku {
    PricedSku {
        sku: sku(s),
        name: format!("Item {s}"),
        unit_price: price.parse().unwrap(),
        currency: usd(),
        available,
    }
}

pub(crate) fn cart() -> Cart {
    Cart::new(
        CartId::from_random([7; 16]),
        1,
        RegionCode::parse("US-CA").unwrap(),
        usd(),
    )
}

pub(crate) fn ca() -> &'static Region {
    Regions::builtin()
        .get(&RegionCode::parse("US-CA").unwrap())
        .unwrap()
}

pub(crate) fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}
