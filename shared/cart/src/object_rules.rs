//! The cart object's rules about time and state, kept out of the Durable
//! Object so they read as plain functions and are tested natively:
//!
//! * the **checkout lease**: `BeginCheckout { key }` freezes the cart for one
//!   checkout (its Idempotency-Key) for `CHECKOUT_LEASE_MS`; meanwhile any
//!   change, and any other key's checkout, is `409 checkout_in_progress`. The
//!   same key again renews it (a retried checkout works), `AbortCheckout`
//!   ends it, `MarkCheckedOut` closes the cart (checked against the version
//!   checkout read, `If-Match`), and a lease past its time is simply ignored;
//! * the **alarm**: flush unflushed changes to KV, else forget the cart only
//!   once `forget_at` has passed. An alarm can run twice (Cloudflare retries
//!   alarms, and delivers them at least once): a second run must not erase
//!   the marker that says which version KV should show.

use platform::ApiError;
use serde::{Deserialize, Serialize};

use crate::{Cart, CartCommand, CartRequest, CartStatus, CART_TTL_SECS};

/// How long a checkout may hold the cart frozen. A checkout is one database
/// statement; this bounds how long a checkout that died (or whose outcome is
/// unknown) keeps the shopper from changing the cart.
pub const CHECKOUT_LEASE_MS: i64 = 60_000;
/// How long changes gather in the object's storage before one KV write (KV
/// takes at most one write per second per key).
pub const FLUSH_DELAY_MS: i64 = 10_000;
/// After the last flush the object forgets the cart, when KV's copy expires.
pub const FORGET_AFTER_MS: i64 = CART_TTL_SECS as i64 * 1000;

/// A checkout holding the cart frozen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutLease {
    /// The checkout's Idempotency-Key.
    pub key: String,
    /// The cart's version when it was frozen.
    pub version: u64,
    /// Ms since the epoch; from then on the lease is ignored.
    pub until_ms: i64,
}

impl CheckoutLease {
    pub fn is_live(&self, now_ms: i64) -> bool {
        now_ms < self.until_ms
    }
}

/// What a request does to the stored lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseChange {
    Keep,
    Set(CheckoutLease),
    Clear,
}

pub fn checkout_in_progress() -> ApiError {
    ApiError::conflict(
        "checkout_in_progress",
        "this cart is being checked out; it cannot change until that checkout ends",
    )
}

/// `503 cart_unavailable` (with Retry-After) for a failure of the object's
/// storage or of KV: `detail` goes to the logs, never to the client.
pub fn cart_unavailable(detail: impl std::fmt::Display) -> ApiError {
    let mut e = ApiError::unavailable("cart_unavailable", "the cart is unavailable, retry shortly");
    e.internal_detail = Some(detail.to_string());
    e
}

/// Whether `request` may run now on `cart`, given the stored `lease`, and
/// what becomes of the lease if it does. Checks `If-Match` too; the cart's
/// own rules (`Cart::apply`) come after.
pub fn admit(
    cart: &Cart,
    lease: Option<&CheckoutLease>,
    request: &CartRequest,
    now_ms: i64,
) -> Result<LeaseChange, ApiError> {
    let live = lease.filter(|l| l.is_live(now_ms));
    let command = &request.command;
    // The email the cart already has, or the owner it already has, again:
    // no change, so like a read.
    let no_change = match command {
        CartCommand::AttachEmail { email } => cart.email.as_ref() == Some(email),
        CartCommand::Adopt { customer } => cart.customer_id.as_ref() == Some(customer),
        _ => false,
    };
    // A checked-out cart answers changes with 409 (and the same order
    // again with 200) in `Cart::apply`, whatever the version.
    if command.changes_cart() && cart.status == CartStatus::Open && !no_change {
        cart.check_if_match(request.if_match.as_deref())?;
    }
    match command {
        CartCommand::Get | CartCommand::Create { .. } => Ok(LeaseChange::Keep),
        CartCommand::AttachEmail { .. } | CartCommand::Adopt { .. } if no_change => {
            Ok(LeaseChange::Keep)
        }
        CartCommand::BeginCheckout { key } => {
            if cart.status == CartStatus::CheckedOut {
                return Ok(LeaseChange::Keep);
            }
            match live {
                Some(l) if &l.key != key => Err(checkout_in_progress()),
                _ => Ok(LeaseChange::Set(CheckoutLease {
                    key: key.clone(),
                    version: cart.version,
                    until_ms: now_ms + CHECKOUT_LEASE_MS,
                })),
            }
        }
        CartCommand::AbortCheckout { key } => Ok(match lease {
            Some(l) if &l.key == key => LeaseChange::Clear,
            _ => LeaseChange::Keep,
        }),
        // The database lets a cart become one order only; whichever checkout
        // placed it closes the cart, at the version it read.
        CartCommand::MarkCheckedOut { .. } => Ok(match lease {
            Some(_) => LeaseChange::Clear,
            None => LeaseChange::Keep,
        }),
        CartCommand::Add { .. }
        | CartCommand::Set { .. }
        | CartCommand::Remove { .. }
        | CartCommand::AttachEmail { .. }
        | CartCommand::Adopt { .. }
        | CartCommand::Merge { .. } => {
            match (live, lease) {
                (Some(_), _) => Err(checkout_in_progress()),
                (None, Some(_)) => Ok(LeaseChange::Clear), // expired: tidy up
                (None, None) => Ok(LeaseChange::Keep),
            }
        }
    }
}

/// What an alarm does, from what the object's storage holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmStep {
    /// Copy the unflushed cart to KV, record its version and
    /// `forget_at = now + FORGET_AFTER_MS`, and arm the alarm for then.
    Flush { forget_at: i64 },
    /// Nothing unflushed and `forget_at` has passed: delete everything.
    Forget,
    /// Nothing unflushed, not yet time: (re)store `forget_at` and arm the
    /// alarm for it. A duplicate or retried alarm lands here.
    Rearm { forget_at: i64 },
}

/// The alarm rule. `flushed` says whether a flushed-version marker is
/// stored; an object flushed before `forget_at` existed has one without a
/// `forget_at`, and keeps it for another full period rather than risk
/// serving a stale KV copy.
pub fn alarm_step(
    unflushed: bool,
    forget_at: Option<i64>,
    flushed: bool,
    now_ms: i64,
) -> AlarmStep {
    if unflushed {
        return AlarmStep::Flush {
            forget_at: now_ms + FORGET_AFTER_MS,
        };
    }
    match forget_at {
        Some(at) if now_ms >= at => AlarmStep::Forget,
        Some(at) => AlarmStep::Rearm { forget_at: at },
        None if flushed => AlarmStep::Rearm {
            forget_at: now_ms + FORGET_AFTER_MS,
        },
        None => AlarmStep::Forget, // nothing stored: nothing to lose
    }
}

/// When a change's flush alarm should fire, if the alarm must be (re)set: a
/// pending flush is never pushed back, so a steady stream of adds still
/// reaches KV every `FLUSH_DELAY_MS`; a pending far-off forget is replaced.
pub fn flush_alarm(pending_flush_at: Option<i64>, now_ms: i64) -> Option<i64> {
    let at = now_ms + FLUSH_DELAY_MS;
    match pending_flush_at {
        Some(pending) if pending <= at => None,
        _ => Some(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    const NOW: i64 = 1_800_000_000_000;

    fn req(command: CartCommand, if_match: Option<&str>) -> CartRequest {
        CartRequest {
            cart_id: cart().id,
            command,
            if_match: if_match.map(str::to_string),
            caller: None,
        }
    }

    fn begin(key: &str) -> CartRequest {
        req(CartCommand::BeginCheckout { key: key.into() }, None)
    }

    fn add() -> CartRequest {
        req(
            CartCommand::Add {
                sku: sku("A-1"),
                quantity: 1,
            },
            None,
        )
    }

    fn lease(key: &str, until_ms: i64) -> CheckoutLease {
        CheckoutLease {
            key: key.into(),
            version: 1,
            until_ms,
        }
    }

    #[test]
    fn begin_freezes_the_cart_for_one_key() {
        let c = cart();
        let granted = admit(&c, None, &begin("k1"), NOW).unwrap();
        let LeaseChange::Set(l) = granted else {
            panic!("no lease: {granted:?}")
        };
        assert_eq!(
            (l.key.as_str(), l.version, l.until_ms),
            ("k1", 1, NOW + CHECKOUT_LEASE_MS)
        );
        // Changes and other checkouts wait; reads do not.
        for refused in [add(), begin("k2")] {
            let e = admit(&c, Some(&l), &refused, NOW + 1).unwrap_err();
            assert_eq!((e.status, e.code), (409, "checkout_in_progress"));
        }
        assert_eq!(
            admit(&c, Some(&l), &req(CartCommand::Get, None), NOW + 1).unwrap(),
            LeaseChange::Keep
        );
        // The same key again (a retried checkout) renews it.
        let again = admit(&c, Some(&l), &begin("k1"), NOW + 5).unwrap();
        assert_eq!(
            again,
            LeaseChange::Set(lease("k1", NOW + 5 + CHECKOUT_LEASE_MS))
        );
    }

    #[test]
    fn an_expired_lease_thaws_the_cart_by_itself() {
        let c = cart();
        let l = lease("k1", NOW);
        assert!(!l.is_live(NOW));
        assert_eq!(
            admit(&c, Some(&l), &add(), NOW).unwrap(),
            LeaseChange::Clear
        );
        assert!(matches!(
            admit(&c, Some(&l), &begin("k2"), NOW).unwrap(),
            LeaseChange::Set(CheckoutLease { ref key, .. }) if key == "k2"
        ));
        let live = lease("k1", NOW + 1);
        assert!(admit(&c, Some(&live), &add(), NOW).is_err());
    }

    #[test]
    fn abort_thaws_only_for_the_key_holding_the_lease() {
        let c = cart();
        let l = lease("k1", NOW + 1000);
        let abort = |k: &str| req(CartCommand::AbortCheckout { key: k.into() }, None);
        assert_eq!(
            admit(&c, Some(&l), &abort("k2"), NOW).unwrap(),
            LeaseChange::Keep
        );
        assert_eq!(
            admit(&c, Some(&l), &abort("k1"), NOW).unwrap(),
            LeaseChange::Clear
        );
        assert_eq!(
            admit(&c, None, &abort("k1"), NOW).unwrap(),
            LeaseChange::Keep
        );
    }

    #[test]
    fn closing_needs_the_version_checkout_read_unless_already_closed() {
        let mut c = cart();
        let l = lease("k1", NOW + 1000);
        let close = |v: &str| {
            req(
                CartCommand::MarkCheckedOut {
                    order_id: "ord_1".into(),
                },
                Some(v),
            )
        };
        assert_eq!(
            admit(&c, Some(&l), &close("\"1\""), NOW).unwrap(),
            LeaseChange::Clear
        );
        // The cart changed after checkout read it (its lease had expired).
        c.version = 2;
        let e = admit(&c, Some(&l), &close("\"1\""), NOW).unwrap_err();
        assert_eq!(e.status, 412);
        // Told again after closing (a retried checkout): fine at any version.
        c.apply(
            &CartCommand::MarkCheckedOut {
                order_id: "ord_1".into(),
            },
            &[],
        )
        .unwrap();
        assert!(admit(&c, None, &close("\"1\""), NOW).is_ok());
        assert!(c
            .apply(
                &CartCommand::MarkCheckedOut {
                    order_id: "ord_1".into()
                },
                &[]
            )
            .is_ok());
    }

    #[test]
    fn an_email_is_a_change_unless_it_is_the_same_one_again() {
        let email = |s: &str, if_match: Option<&str>| {
            req(
                CartCommand::AttachEmail {
                    email: crate::Email::parse(s).unwrap(),
                },
                if_match,
            )
        };
        let mut c = cart();
        let l = lease("k1", NOW + 1000);
        // A change: If-Match holds, and a checkout holding the cart refuses it.
        assert_eq!(
            admit(&c, None, &email("ada@example.com", Some("\"1\"")), NOW).unwrap(),
            LeaseChange::Keep
        );
        let e = admit(&c, None, &email("ada@example.com", Some("\"9\"")), NOW).unwrap_err();
        assert_eq!(e.status, 412);
        let e = admit(&c, Some(&l), &email("ada@example.com", None), NOW).unwrap_err();
        assert_eq!(e.code, "checkout_in_progress");
        // The email it has, again (a retried PATCH): like a read.
        c.apply(&email("ada@example.com", None).command, &[])
            .unwrap();
        assert_eq!(
            admit(&c, Some(&l), &email("ada@example.com", Some("\"1\"")), NOW).unwrap(),
            LeaseChange::Keep
        );
        let e = admit(&c, None, &email("bob@example.com", Some("\"1\"")), NOW).unwrap_err();
        assert_eq!(e.status, 412, "another email is a change");
    }

    #[test]
    fn a_checked_out_cart_is_answered_unfrozen_to_checkout() {
        let mut c = cart();
        c.apply(&CartCommand::MarkCheckedOut { order_id: 5.into() }, &[])
            .unwrap();
        assert_eq!(
            admit(&c, None, &begin("k9"), NOW).unwrap(),
            LeaseChange::Keep
        );
    }

    #[test]
    fn the_alarm_flushes_then_forgets_only_after_forget_at() {
        let forget_at = NOW + FORGET_AFTER_MS;
        assert_eq!(
            alarm_step(true, None, false, NOW),
            AlarmStep::Flush { forget_at }
        );
        // Unflushed changes are flushed even past an old forget_at.
        assert_eq!(
            alarm_step(true, Some(NOW - 1), true, NOW),
            AlarmStep::Flush { forget_at }
        );
        // A duplicate or retried alarm right after the flush keeps the marker.
        assert_eq!(
            alarm_step(false, Some(forget_at), true, NOW + 5),
            AlarmStep::Rearm { forget_at }
        );
        assert_eq!(
            alarm_step(false, Some(forget_at), true, forget_at - 1),
            AlarmStep::Rearm { forget_at }
        );
        assert_eq!(
            alarm_step(false, Some(forget_at), true, forget_at),
            AlarmStep::Forget
        );
        // Flushed before forget_at was stored: another full period.
        assert_eq!(
            alarm_step(false, None, true, NOW),
            AlarmStep::Rearm { forget_at }
        );
        assert_eq!(alarm_step(false, None, false, NOW), AlarmStep::Forget);
    }

    #[test]
    fn a_pending_flush_is_never_pushed_back() {
        assert_eq!(flush_alarm(None, NOW), Some(NOW + FLUSH_DELAY_MS));
        assert_eq!(flush_alarm(Some(NOW + 3000), NOW), None);
        // A far-off forget alarm is replaced by the flush.
        assert_eq!(
            flush_alarm(Some(NOW + FORGET_AFTER_MS), NOW),
            Some(NOW + FLUSH_DELAY_MS)
        );
    }
}
