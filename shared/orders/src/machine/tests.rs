use super::*;
use OrderEvent as E;
use OrderStatus::*;

/// Every state × event, written out: what is allowed, and where it leads.
/// Anything not listed is illegal.
const LEGAL: &[(OrderStatus, OrderEvent, OrderStatus)] = &[
    (PendingPayment, E::PaymentSucceeded, Paid),
    (PendingPayment, E::ReservationExpired, Cancelled),
    (PendingPayment, E::Cancel, Cancelled),
    (Paid, E::Cancel, Cancelled),
    (Paid, E::StartFulfillment, Fulfilling),
    (Paid, E::PartialRefund, PartiallyRefunded),
    (Paid, E::FullRefund, Refunded),
    (PartiallyRefunded, E::Cancel, Cancelled),
    (PartiallyRefunded, E::StartFulfillment, Fulfilling),
    (PartiallyRefunded, E::PartialRefund, PartiallyRefunded),
    (PartiallyRefunded, E::FullRefund, Refunded),
    (Fulfilling, E::Cancel, Cancelled),
    (Fulfilling, E::Ship, Shipped),
    (Shipped, E::Deliver, Delivered),
    (Cancelled, E::LatePayment, Paid),
];

#[test]
fn every_pair_of_state_and_event() {
    let mut legal = 0;
    for from in OrderStatus::ALL {
        for event in OrderEvent::ALL {
            let want = LEGAL
                .iter()
                .find(|(f, e, _)| *f == from && *e == event)
                .map(|(_, _, to)| *to);
            match (next(from, event), want) {
                (Ok(to), Some(w)) => {
                    assert_eq!(to, w, "{from:?} + {event:?}");
                    legal += 1;
                }
                (Err(e), None) => assert_eq!(e, IllegalTransition { from, event }),
                (got, want) => panic!("{from:?} + {event:?}: got {got:?}, want {want:?}"),
            }
        }
    }
    assert_eq!(legal, LEGAL.len());
    assert_eq!(OrderStatus::ALL.len() * OrderEvent::ALL.len(), 72);
}

#[test]
fn nothing_leaves_the_end_states_but_a_late_payment() {
    for event in OrderEvent::ALL {
        assert!(next(Delivered, event).is_err(), "{event:?}");
        assert!(next(Refunded, event).is_err(), "{event:?}");
        if event != E::LatePayment {
            assert!(next(Cancelled, event).is_err(), "{event:?}");
        }
    }
}

#[test]
fn nothing_is_cancelled_once_it_shipped() {
    for from in [Shipped, Delivered] {
        assert!(next(from, E::Cancel).is_err());
    }
}

#[test]
fn only_a_paid_order_is_fulfilled() {
    for from in OrderStatus::ALL {
        if next(from, E::StartFulfillment).is_ok() {
            assert!(from.was_paid() && from != Refunded, "{from:?}");
        }
    }
}

#[test]
fn illegal_transitions_say_what_was_refused() {
    let e = next(Delivered, E::Cancel).unwrap_err();
    assert_eq!(e.to_string(), "an order that is delivered cannot take cancel");
}

/// The database's guard (`sql/order_transitions.sql`) lists exactly the
/// status changes this machine allows: parsed from the file itself.
#[test]
fn the_database_guard_allows_exactly_the_machines_changes() {
    let sql = include_str!("../../sql/order_transitions.sql");
    let start = sql.find("-- transitions:begin").expect("begin marker");
    let end = sql.find("-- transitions:end").expect("end marker");
    let mut in_sql: Vec<(OrderStatus, OrderStatus)> = sql[start..end]
        .lines()
        .filter_map(|l| {
            let l = l.trim().trim_end_matches(',');
            let inner = l.strip_prefix("('")?.strip_suffix("')")?;
            let (f, t) = inner.split_once("', '")?;
            Some((OrderStatus::parse(f).unwrap(), OrderStatus::parse(t).unwrap()))
        })
        .collect();
    let mut in_rust = allowed_changes();
    let key = |p: &(OrderStatus, OrderStatus)| (p.0.as_str(), p.1.as_str());
    in_sql.sort_by_key(key);
    in_rust.sort_by_key(key);
    assert_eq!(in_sql, in_rust);
}

#[test]
fn sources_are_where_an_event_may_happen() {
    assert_eq!(sources(E::StartFulfillment), vec![Paid, PartiallyRefunded]);
    assert_eq!(sources(E::Deliver), vec![Shipped]);
    assert_eq!(
        sources(E::Cancel),
        vec![PendingPayment, Paid, PartiallyRefunded, Fulfilling]
    );
}
