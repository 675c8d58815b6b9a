//! Who may use a cart. A guest cart (`customer_id` None) is open to anyone
//! holding its id, as it always was: the id is 128 random bits. A saved cart
//! (`customer_id` Some) answers its owner's session only; to anyone else it
//! is `404 cart_not_found`, the very answer a cart that does not exist gets,
//! so an id that leaked (a shared link, a log) says nothing about the cart,
//! not even that it exists. The object checks this first, before `If-Match`,
//! the checkout lease or the command (`BeginCheckout` included).

use platform::ApiError;

use crate::{cart_not_found, Cart, CartCommand, CartRequest};

/// Whether `request.caller` may send `request` to `cart`: 404
/// `cart_not_found` for a saved cart and anyone but its owner. An `Adopt`
/// must come from the customer it names (its sender sets both; anything
/// else is a bug of the sender: 500).
pub fn check_caller(cart: &Cart, request: &CartRequest) -> Result<(), ApiError> {
    let caller = request.caller.as_deref();
    if let Some(owner) = &cart.customer_id {
        if caller != Some(owner.as_str()) {
            return Err(cart_not_found());
        }
    }
    if let CartCommand::Adopt { customer } = &request.command {
        if caller != Some(customer.as_str()) {
            return Err(ApiError::internal(
                "an adopt must come from the customer it names",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object_rules::{admit, CheckoutLease, LeaseChange};
    use crate::test_support::*;

    const NOW: i64 = 1_800_000_000_000;

    fn req(command: CartCommand, caller: Option<&str>) -> CartRequest {
        CartRequest {
            cart_id: cart().id,
            command,
            if_match: None,
            caller: caller.map(str::to_string),
        }
    }

    fn adopt(customer: &str) -> CartCommand {
        CartCommand::Adopt {
            customer: customer.into(),
        }
    }

    fn owned_by(customer: &str) -> Cart {
        let mut c = cart();
        c.customer_id = Some(customer.into());
        c
    }

    #[test]
    fn a_guest_cart_is_open_to_anyone_holding_its_id() {
        let c = cart();
        for caller in [None, Some("cus_a"), Some("cus_b")] {
            for command in [
                CartCommand::Get,
                CartCommand::BeginCheckout { key: "k".into() },
            ] {
                assert_eq!(check_caller(&c, &req(command, caller)), Ok(()));
            }
        }
    }

    #[test]
    fn a_saved_cart_is_not_found_but_by_its_owner() {
        let c = owned_by("cus_a");
        let commands = [
            CartCommand::Get,
            CartCommand::BeginCheckout { key: "k".into() },
            CartCommand::Remove { sku: sku("A-1") },
            adopt("cus_b"),
            CartCommand::Merge {
                lines: vec![],
                region: c.region.clone(),
                store_id: 1,
            },
        ];
        for command in commands {
            assert_eq!(
                check_caller(&c, &req(command.clone(), Some("cus_a"))).is_ok(),
                !matches!(command, CartCommand::Adopt { .. })
            );
            for caller in [None, Some("cus_b"), Some("cus_A"), Some("")] {
                let e = check_caller(&c, &req(command.clone(), caller)).unwrap_err();
                assert_eq!(e, cart_not_found(), "{caller:?} {command:?}");
            }
        }
    }

    #[test]
    fn an_adopt_comes_from_the_customer_it_names() {
        let c = cart();
        assert!(check_caller(&c, &req(adopt("cus_a"), Some("cus_a"))).is_ok());
        for caller in [None, Some("cus_b")] {
            let e = check_caller(&c, &req(adopt("cus_a"), caller)).unwrap_err();
            assert_eq!(e.status, 500);
        }
    }

    #[test]
    fn adopting_makes_the_cart_theirs_once() {
        let mut c = cart();
        c.apply(&adopt("cus_a"), &[]).unwrap();
        assert_eq!((c.customer_id.as_deref(), c.version), (Some("cus_a"), 2));
        // Again (a retried login): no change, like a read, even frozen.
        c.apply(&adopt("cus_a"), &[]).unwrap();
        assert_eq!(c.version, 2);
        let lease = CheckoutLease {
            key: "k".into(),
            version: 2,
            until_ms: NOW + 1,
        };
        let again = CartRequest {
            if_match: Some("\"1\"".into()),
            ..req(adopt("cus_a"), Some("cus_a"))
        };
        assert_eq!(admit(&c, Some(&lease), &again, NOW), Ok(LeaseChange::Keep));
        // Another customer's cart stays theirs.
        assert_eq!(c.apply(&adopt("cus_b"), &[]), Err(cart_not_found()));
        assert_eq!(c.customer_id.as_deref(), Some("cus_a"));
    }

    #[test]
    fn adopting_is_a_change_like_the_others() {
        let c = cart();
        let lease = CheckoutLease {
            key: "k".into(),
            version: 1,
            until_ms: NOW + 1,
        };
        let e = admit(&c, Some(&lease), &req(adopt("cus_a"), Some("cus_a")), NOW).unwrap_err();
        assert_eq!(e.code, "checkout_in_progress");
        let stale = CartRequest {
            if_match: Some("\"9\"".into()),
            ..req(adopt("cus_a"), Some("cus_a"))
        };
        assert_eq!(admit(&c, None, &stale, NOW).unwrap_err().status, 412);
        let merge = req(CartCommand::merge_of(&cart()), Some("cus_a"));
        let e = admit(&c, Some(&lease), &merge, NOW).unwrap_err();
        assert_eq!(e.code, "checkout_in_progress");
        // Checked out: 409, whoever adopts.
        let mut c = cart();
        c.apply(&CartCommand::MarkCheckedOut { order_id: 1.into() }, &[])
            .unwrap();
        let e = c.apply(&adopt("cus_a"), &[]).unwrap_err();
        assert_eq!((e.status, e.code), (409, "cart_checked_out"));
        assert_eq!(c.customer_id, None);
    }
}
