//! Payments through the edge against the local providers: Stripe's signed
//! webhooks (signed with stripe-node, or sent by localstripe itself),
//! exactly-once application, outbound retries, late payments, refunds.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};
use support::*;

/// A `payment_intent.succeeded` for the order's PaymentIntent.
fn succeeded(order: &PaidOrder, amount_minor: i64) -> Value {
    intent_event("payment_intent.succeeded", order, amount_minor)
}

fn intent_event(kind: &str, order: &PaidOrder, amount_minor: i64) -> Value {
    let pi = order.payment["payment_id"].as_str().unwrap();
    stripe_event(
        kind,
        json!({"id": pi, "object": "payment_intent", "amount": amount_minor,
               "amount_received": if kind == "payment_intent.succeeded" { amount_minor } else { 0 },
               "currency": "usd", "status": "succeeded", "latest_charge": format!("ch_{}", &pi[3..]),
               "metadata": {"order_id": order.order_id}}),
    )
}

fn minor(total: &str) -> i64 {
    let (units, cents) = total.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

fn events_recorded(order: &PaidOrder) -> i64 {
    primary()
        .query_one(
            "SELECT count(*) FROM payment_events e JOIN orders o ON o.id = e.order_id WHERE o.public_id = $1",
            &[&order.order_id],
        )
        .unwrap()
        .get(0)
}

#[test]
fn official_stripe_signatures_are_accepted_and_forgeries_change_nothing() {
    let order = order_with_payment("stripe", "12.50", 5, 2);
    assert_eq!(order.payment["provider"], "stripe");
    assert!(order.payment["client_secret"].as_str().unwrap().contains("_secret_"));
    let event = succeeded(&order, minor(&order.total));
    let payload = event.to_string();
    let secret = webhook_secret();
    let now = chrono_now();

    // Every forgery: 400, and the order and the events table are untouched.
    let tampered = payload.replace("\"usd\"", "\"eur\"");
    let cases: Vec<(&str, String, Option<String>)> = vec![
        ("tampered body", tampered.clone(), Some(stripe_signature(&payload, &secret, None))),
        ("wrong secret", payload.clone(), Some(stripe_signature(&payload, "whsec_not_ours_0123456789abcdef", None))),
        ("stale timestamp", payload.clone(), Some(stripe_signature(&payload, &secret, Some(now - 600)))),
        ("future timestamp", payload.clone(), Some(stripe_signature(&payload, &secret, Some(now + 600)))),
        ("missing header", payload.clone(), None),
        ("v0 only", payload.clone(), Some(stripe_signature(&payload, &secret, None).replace("v1=", "v0="))),
        ("garbage header", payload.clone(), Some("t=abc,v1=zz".to_string())),
    ];
    for (name, body, sig) in cases {
        let r = post_stripe_event(&body, sig.as_deref());
        assert_eq!(r.status, 400, "{name}: {}", r.body);
        assert!(r.error_code().starts_with("signature_"), "{name}: {}", r.body);
        assert_eq!(order_state(&order)["status"], "pending_payment", "{name}");
        assert_eq!(events_recorded(&order), 0, "{name}");
    }

    // The genuine one, signed by Stripe's library: accepted and applied.
    let r = post_stripe_event(&payload, Some(&stripe_signature(&payload, &secret, None)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["outcome"], "mark_paid");
    assert_eq!(order_state(&order)["status"], "paid");
    assert_eq!(stock(&order), (3, 0), "on_hand 5 - 2, nothing reserved");
}

#[test]
fn localstripe_end_to_end_pays_the_order_and_commits_its_stock() {
    let order = order_with_payment("stripe", "20.00", 4, 1);
    let pi = order.payment["payment_id"].as_str().unwrap();
    assert_eq!(stock(&order), (4, 1));
    // The shopper confirms with a test card; localstripe charges it and
    // sends its own signed payment_intent.succeeded to /webhooks/stripe.
    assert_eq!(confirm_with_card(pi, "4242424242424242"), 200);
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    assert_eq!(stock(&order), (3, 0));
    assert_eq!(payment_rows(&order), vec![(pi.to_string(), "succeeded".to_string())]);
}

#[test]
fn a_declined_card_then_a_good_one_is_one_payment_and_paid() {
    let order = order_with_payment("stripe", "9.99", 3, 1);
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(confirm_with_card(&pi, "4000000000000341"), 402, "declined at charge time");
    // The failure is recorded; the order still waits, its stock still held.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(order_state(&order)["status"], "pending_payment");
    assert_eq!(stock(&order), (3, 1));
    // The shopper retries: the same PaymentIntent comes back...
    let again = post_json(
        &format!("/orders/{}/payment", order.order_id),
        &json!({"provider": "stripe"}),
        &[("authorization", &format!("Bearer {}", order.token)), ("idempotency-key", &unique("k"))],
    );
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.json()["payment_id"], pi.as_str());
    // ...and another card pays it.
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    assert_eq!(payment_rows(&order), vec![(pi, "succeeded".to_string())]);
    assert_eq!(stock(&order), (2, 0));
}

#[test]
fn every_event_delivered_five_times_concurrently_and_shuffled_applies_once() {
    let orders: Vec<PaidOrder> = (0..3).map(|_| order_with_payment("stripe", "15.00", 10, 2)).collect();
    let mut deliveries: Vec<Value> = Vec::new();
    for o in &orders {
        let total = minor(&o.total);
        // Out of order on purpose: a failure after the success must not undo it.
        for event in [intent_event("payment_intent.payment_failed", o, total), succeeded(o, total)] {
            for _ in 0..5 {
                deliveries.push(event.clone());
            }
        }
    }
    // Shuffle (a fixed permutation of a random seed: whatever order they land in).
    let mut seed = chrono_now() as usize | 1;
    for i in (1..deliveries.len()).rev() {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        deliveries.swap(i, seed % (i + 1));
    }
    let deliveries = std::sync::Arc::new(deliveries);
    let n = deliveries.len();
    // Each delivery is retried as Stripe retries it: a 503 with Retry-After
    // (a busy database, an order that kept changing) is delivered again. Any
    // other answer, or a 503 without Retry-After, fails the test.
    let answers = concurrently(n, {
        let deliveries = deliveries.clone();
        move |i| {
            let mut seen = Vec::new();
            for _ in 0..3 {
                let reply = deliver_stripe(&deliveries[i]);
                seen.push(format!("{} {}", reply.status, reply.body));
                if reply.status != 503 || reply.header("retry-after").is_none() {
                    return (reply.status, seen);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            (503, seen)
        }
    });
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:#?}");
    for o in &orders {
        assert_eq!(order_state(o)["status"], "paid");
        let rows = payment_rows(o);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].1, "succeeded");
        assert_eq!(stock(o), (8, 0), "committed once: 10 - 2");
        assert_eq!(events_recorded(o), 2, "two distinct events, each recorded once");
    }
}

#[test]
fn provider_errors_are_retried_with_the_same_key_and_the_provider_charges_once() {
    // An order without a payment yet; its payment is asked for below.
    let order = order_with_payment("none", "7.00", 2, 1);
    // The fake answers this order's next two PaymentIntent creations with 500
    // (`contains` keeps the fault to this order: tests run in parallel).
    let (s, _) = fake_post(&stripe_url(), "/_fake/faults", &json!({
        "path_prefix": "/v1/payment_intents", "method": "POST", "status": 500, "count": 2,
        "contains": order.order_id}));
    assert_eq!(s, 200);
    let r = post_json(
        &format!("/orders/{}/payment", order.order_id),
        &json!({"provider": "stripe"}),
        &[("authorization", &format!("Bearer {}", order.token)), ("idempotency-key", &unique("k"))],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let pi = r.json()["payment_id"].as_str().unwrap().to_string();
    let (_, log) = fake_get(&stripe_url(), &format!("/_fake/requests?contains={}", order.order_id));
    let creates: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/v1/payment_intents")
        .collect();
    assert_eq!(creates.len(), 3, "two injected 500s, then success: {creates:?}");
    assert_eq!(creates.iter().filter(|r| r["fault"] == true).count(), 2);
    let keys: HashSet<&str> = creates.iter().map(|r| r["idempotency_key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 1, "every retry reuses the key: {keys:?}");
    // localstripe holds exactly one PaymentIntent for this order.
    let (_, list) = stripe_get("/v1/payment_intents?limit=100");
    let mine: Vec<&Value> = list["data"].as_array().unwrap().iter()
        .filter(|p| p["metadata"]["order_id"] == order.order_id.as_str()).collect();
    assert_eq!(mine.len(), 1, "one charge at the provider: {mine:?}");
    assert_eq!(mine[0]["id"], pi.as_str());

    // A refusal (4xx) is final: not retried, and answered as the provider's word.
    let (s, _) = fake_post(&stripe_url(), "/_fake/faults", &json!({
        "path_prefix": "/v1/payment_intents", "method": "POST", "status": 400, "count": 1,
        "contains": order.order_id}));
    assert_eq!(s, 200);
    let refused = post_json(
        &format!("/orders/{}/payment", order.order_id),
        &json!({"provider": "stripe"}),
        &[("authorization", &format!("Bearer {}", order.token)), ("idempotency-key", &unique("k"))],
    );
    assert_eq!(refused.status, 502, "{}", refused.body);
    assert_eq!(refused.error_code(), "payment_provider_rejected");
    let (_, log) = fake_get(&stripe_url(), &format!("/_fake/requests?contains={}", order.order_id));
    let faults = log.as_array().unwrap().iter().filter(|r| r["status"] == 400).count();
    assert_eq!(faults, 1, "sent once: {log}");
}

/// Expires the order's reservation and runs checkout's expiry job.
fn expire(order: &PaidOrder) {
    primary()
        .execute(
            "UPDATE reservations SET expires_at = now() - interval '1 second' \
              WHERE order_id = (SELECT id FROM orders WHERE public_id = $1)",
            &[&order.order_id],
        )
        .unwrap();
    let r = post_json("/checkout/__dev/scheduled", &json!({}), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(order_state(order)["status"], "cancelled");
}

#[test]
fn a_late_payment_is_paid_when_stock_remains_and_refunded_when_it_is_gone() {
    // Stock remains: the order is paid after all, its stock committed.
    let order = order_with_payment("stripe", "11.00", 3, 1);
    expire(&order);
    assert_eq!(stock(&order), (3, 0));
    let r = deliver_stripe(&succeeded(&order, minor(&order.total)));
    assert_eq!(r.json()["outcome"], "late_payment_paid", "{}", r.body);
    assert_eq!(order_state(&order)["status"], "paid");
    assert_eq!(stock(&order), (2, 0));

    // Stock gone: the payment is refunded automatically, and the order says why.
    let order = order_with_payment("stripe", "11.00", 1, 1);
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    expire(&order);
    primary()
        .execute(
            "UPDATE inventory_levels SET on_hand = 0 WHERE warehouse_id = $1",
            &[&order.store.warehouses[0]],
        )
        .unwrap();
    // The shopper pays after all; localstripe's own webhook brings the news.
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    let refund = || -> Option<(String, String)> {
        primary()
            .query_opt(
                "SELECT r.status, e.outcome FROM refunds r JOIN orders o ON o.id = r.order_id \
                   JOIN payment_events e ON e.order_id = o.id \
                  WHERE o.public_id = $1 AND e.event_type = 'payment_intent.succeeded'",
                &[&order.order_id],
            )
            .unwrap()
            .map(|row| (row.get(0), row.get(1)))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while refund().is_none_or(|(s, _)| s != "succeeded") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        refund(),
        Some(("succeeded".to_string(), "late_payment_refunded".to_string())),
        "refunded through localstripe"
    );
    assert_eq!(order_state(&order)["status"], "cancelled");
    let reason: String = primary()
        .query_one(
            "SELECT h.cause FROM order_events h JOIN orders o ON o.id = h.order_id \
              WHERE o.public_id = $1 ORDER BY h.id DESC LIMIT 1",
            &[&order.order_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(reason, "late_payment:refunded_out_of_stock");
    let (_, refunds) = stripe_get(&format!("/v1/refunds?payment_intent={pi}"));
    assert_eq!(refunds["data"].as_array().map(Vec::len), Some(1), "one refund at the provider");
}

#[test]
fn concurrent_refunds_never_exceed_the_captured_amount() {
    let order = order_with_payment("stripe", "30.00", 5, 1);
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    let total = minor(&order.total); // 30.00 + tax
    let admin = local_secret("ADMIN_TOKEN");
    // Eight refunds of 40 % each, at once: at most two fit.
    let part = format!("{}.{:02}", (total * 4 / 10) / 100, (total * 4 / 10) % 100);
    let id = order.order_id.clone();
    let statuses = concurrently(8, move |_| {
        post_json(
            &format!("/admin/orders/{id}/refunds"),
            &json!({"amount": part, "reason": "customer asked"}),
            &[("authorization", &format!("Bearer {admin}")), ("idempotency-key", &unique("r"))],
        )
        .status
    });
    let accepted = statuses.iter().filter(|s| **s == 201 || **s == 202).count();
    assert_eq!(accepted, 2, "{statuses:?}");
    assert!(statuses.iter().all(|s| [201, 202, 409].contains(s)), "{statuses:?}");
    let row = primary()
        .query_one(
            "SELECT p.captured::text, p.refund_committed::text, \
                    (SELECT coalesce(sum(amount), 0)::text FROM refunds WHERE payment_id = p.id AND status <> 'failed') \
               FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.public_id = $1",
            &[&order.order_id],
        )
        .unwrap();
    let (captured, committed, asked): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert!(minor(&asked) <= minor(&captured), "{asked} refunded of {captured}");
    assert_eq!(committed, asked);
    assert_eq!(order_state(&order)["status"], "partially_refunded");
}

#[test]
fn admin_refunds_need_the_admin_token() {
    let order = order_with_payment("stripe", "5.00", 2, 1);
    let path = format!("/admin/orders/{}/refunds", order.order_id);
    let body = json!({"reason": "test"});
    let none = post_json(&path, &body, &[("idempotency-key", "a")]);
    assert_eq!(none.status, 401, "{}", none.body);
    let wrong = post_json(&path, &body, &[("authorization", "Bearer 0123456789012345678901234567890123456789"),
                                          ("idempotency-key", "a")]);
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    let unpaid = post_json(&path, &body, &[("authorization", &format!("Bearer {}", local_secret("ADMIN_TOKEN"))),
                                           ("idempotency-key", "a")]);
    assert_eq!(unpaid.status, 409, "{}", unpaid.body);
    assert_eq!(unpaid.error_code(), "order_not_paid");
    // Another order's token does not open this one.
    let other = order_with_payment("stripe", "5.00", 2, 1);
    let r = request("GET", &format!("/orders/{}", order.order_id),
                    &[("authorization", &format!("Bearer {}", other.token))], None);
    assert_eq!(r.status, 404);
}

#[test]
fn a_payment_that_does_not_match_the_order_is_held_for_review_not_paid() {
    let order = order_with_payment("stripe", "10.00", 2, 1);
    let r = deliver_stripe(&succeeded(&order, minor(&order.total) - 1));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["outcome"], "hold_for_review");
    let state = order_state(&order);
    assert_eq!(state["status"], "pending_payment");
    assert_eq!(state["needs_review"], true);
    assert_eq!(stock(&order), (2, 1), "still only reserved");
}

#[test]
fn a_dispute_flags_the_order() {
    let order = order_with_payment("stripe", "8.00", 2, 1);
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    assert_eq!(order_state(&order)["needs_review"], false);
    // The fake sends a signed charge.dispute.created, as Stripe would.
    let (s, dispute) = fake_post(&stripe_url(), "/_fake/disputes", &json!({"payment_intent": pi}));
    assert_eq!(s, 200, "{dispute}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while order_state(&order)["needs_review"] != true && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let state = order_state(&order);
    assert_eq!(state["needs_review"], true, "{state}");
    assert_eq!(state["status"], "paid", "a flag does not change the status");
}

#[test]
fn a_refund_the_provider_cannot_take_now_is_sent_again_by_the_cron() {
    let order = order_with_payment("stripe", "12.00", 2, 1);
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    // Stripe is down for this refund's every attempt.
    let (s, _) = fake_post(&stripe_url(), "/_fake/faults", &json!({
        "path_prefix": "/v1/refunds", "method": "POST", "status": 503, "count": 3, "contains": pi}));
    assert_eq!(s, 200);
    let r = post_json(
        &format!("/admin/orders/{}/refunds", order.order_id),
        &json!({"reason": "damaged in transit"}),
        &[("authorization", &format!("Bearer {}", local_secret("ADMIN_TOKEN"))),
          ("idempotency-key", &unique("r"))],
    );
    assert_eq!(r.status, 202, "accepted, not settled: {}", r.body);
    assert_eq!(r.json()["status"], "requested");
    assert_eq!(order_state(&order)["status"], "paid");
    let (_, none_yet) = stripe_get(&format!("/v1/refunds?payment_intent={pi}"));
    assert_eq!(none_yet["data"].as_array().map(Vec::len), Some(0));
    // The orders worker's cron sends it again (run on demand here).
    let job = post_json("/orders/__dev/scheduled?min_age_secs=0", &json!({}), &[]);
    assert_eq!(job.status, 200, "{}", job.body);
    assert_eq!(order_state(&order)["status"], "refunded");
    let (_, refunds) = stripe_get(&format!("/v1/refunds?payment_intent={pi}"));
    assert_eq!(refunds["data"].as_array().map(Vec::len), Some(1), "one refund at the provider: {refunds}");
}
