//! Checkout to paid, end to end on the local stack (`scripts/bench`): RUNS
//! times, one after the other, a shopper
//!
//! 1. fills a new cart in the bench store (one unit of a bench SKU; not timed),
//! 2. checks out with `"payment_provider": "stripe"` (the checkout worker
//!    places the order and has the orders worker create its PaymentIntent
//!    on the Stripe fake, localstripe),
//! 3. pays as Stripe.js would: a card PaymentMethod (4242 4242 4242 4242),
//!    then confirms the PaymentIntent with it,
//! 4. polls `GET /orders/{id}` (its order token) every POLL_MS until the order
//!    is `paid`: localstripe charges the card and, after its webhook delay,
//!    delivers its own signed `payment_intent.succeeded` to /webhooks/stripe.
//!
//! Prints one line per run to stderr and, on stdout, the summary line
//! scripts/bench reads:
//!   PAID runs=<n> failed=<n> total_p50_ms= total_p90_ms= webhook_p50_ms=
//!        webhook_p90_ms= checkout_p50_ms= checkout_p90_ms=
//! where total = checkout answered -> paid seen, webhook = confirm call sent ->
//! paid seen, checkout = the POST /checkout itself.
//!
//!   EDGESHOP_BASE_URL=... EDGESHOP_STRIPE_URL=http://127.0.0.1:25340 \
//!   STRIPE_SECRET_KEY=sk_test_... bench_checkout_to_paid RUNS [POLL_MS]

use std::time::{Duration, Instant};

use bench::{add_item, create_cart, get_with, post_json_with, reply, Reply};
use serde_json::json;

const PAID_WITHIN: Duration = Duration::from_secs(15);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args
        .first()
        .and_then(|r| r.parse().ok())
        .expect("usage: bench_checkout_to_paid RUNS [POLL_MS]");
    let poll = Duration::from_millis(args.get(1).and_then(|p| p.parse().ok()).unwrap_or(10));
    let stripe = Stripe {
        url: std::env::var("EDGESHOP_STRIPE_URL").expect("EDGESHOP_STRIPE_URL: the Stripe fake"),
        key: std::env::var("STRIPE_SECRET_KEY").expect("STRIPE_SECRET_KEY: the fake's API key"),
    };
    let (mut total, mut webhook, mut checkout) = (Vec::new(), Vec::new(), Vec::new());
    let mut failed = 0;
    for run in 0..runs {
        match one(&stripe, run, poll) {
            Ok(t) => {
                eprintln!(
                    "run {run}: checkout {:.1} ms, checkout -> paid {:.1} ms, confirm -> paid {:.1} ms",
                    ms(t.checkout),
                    ms(t.total),
                    ms(t.webhook)
                );
                total.push(t.total);
                webhook.push(t.webhook);
                checkout.push(t.checkout);
            }
            Err(e) => {
                eprintln!("run {run}: FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!(
        "PAID runs={} failed={failed} total_p50_ms={} total_p90_ms={} webhook_p50_ms={} \
         webhook_p90_ms={} checkout_p50_ms={} checkout_p90_ms={}",
        total.len(),
        pct(&mut total, 50),
        pct(&mut total, 90),
        pct(&mut webhook, 50),
        pct(&mut webhook, 90),
        pct(&mut checkout, 50),
        pct(&mut checkout, 90),
    );
}

struct Times {
    checkout: Duration,
    total: Duration,
    webhook: Duration,
}

fn one(stripe: &Stripe, run: usize, poll: Duration) -> Result<Times, String> {
    let cart = create_cart();
    let sku = format!("BENCH-{}", run % 20 + 1);
    let r = add_item(&cart, &sku, 1);
    check(&r, 200, "add to cart")?;

    let body = json!({
        "cart_id": cart,
        "email": format!("bench-paid+{cart}@example.com"),
        "shipping_address": {"name": "Bench", "line1": "1 Main St", "city": "San Francisco",
                             "state": "CA", "postal_code": "94110", "country": "US"},
        "region": bench::REGION,
        "date_of_birth": "1980-01-01",
        "delivery": "asap",
        "payment_provider": "stripe",
    });
    let key = format!("bench-paid-{cart}");
    let started = Instant::now();
    let r = post_json_with("/checkout", &body, &[("idempotency-key", &key)]);
    let checked_out = Instant::now();
    check(&r, 201, "checkout")?;
    let answer = r.json();
    let order = answer["order_id"].as_str().ok_or("no order_id")?.to_string();
    let token = answer["order_token"].as_str().ok_or("no order_token")?.to_string();
    let intent = answer["payment"]["payment_id"]
        .as_str()
        .ok_or_else(|| format!("no payment in the checkout answer: {}", r.body))?
        .to_string();

    // What Stripe.js does with the card the shopper typed.
    let (status, pm) = stripe.post(
        "/v1/payment_methods",
        &[("type", "card"), ("card[number]", "4242424242424242"), ("card[exp_month]", "12"),
          ("card[exp_year]", "2030"), ("card[cvc]", "123")],
    );
    if status != 200 {
        return Err(format!("payment method: {status} {pm}"));
    }
    let pm = pm["id"].as_str().ok_or("no payment method id")?.to_string();
    let confirm_sent = Instant::now();
    let (status, pi) = stripe.post(
        &format!("/v1/payment_intents/{intent}/confirm"),
        &[("payment_method", &pm)],
    );
    if status != 200 || pi["status"] != "succeeded" {
        return Err(format!("confirm: {status} {pi}"));
    }

    let auth = format!("Bearer {token}");
    loop {
        let r = get_with(&format!("/orders/{order}"), &[("authorization", &auth)]);
        let seen = Instant::now();
        check(&r, 200, "order")?;
        // Paid, or already on its way: fulfillment may move a paid order
        // on within a second (scripts/bench measures that leg from the
        // order's history).
        let status = r.json()["status"].as_str().unwrap_or_default().to_string();
        if matches!(status.as_str(), "paid" | "fulfilling" | "shipped" | "delivered") {
            return Ok(Times {
                checkout: checked_out - started,
                total: seen - checked_out,
                webhook: seen - confirm_sent,
            });
        }
        if seen - confirm_sent > PAID_WITHIN {
            return Err(format!("{order} not paid {PAID_WITHIN:?} after the confirm: {}", r.body));
        }
        std::thread::sleep(poll);
    }
}

struct Stripe {
    url: String,
    key: String,
}

impl Stripe {
    /// A form POST to the Stripe fake's API, as the server-side key.
    fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = reply(
            &format!("POST {path}"),
            ureq::post(&format!("{}{path}", self.url))
                .timeout(Duration::from_secs(30))
                .set("authorization", &format!("Bearer {}", self.key))
                .set("content-type", "application/x-www-form-urlencoded")
                .send_string(&body),
        );
        let value = serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null);
        (r.status, value)
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn check(r: &Reply, want: u16, what: &str) -> Result<(), String> {
    if r.status == want {
        Ok(())
    } else {
        Err(format!("{what}: {} {}", r.status, r.body))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile, in whole milliseconds ("-" with no samples).
fn pct(samples: &mut [Duration], p: usize) -> String {
    if samples.is_empty() {
        return "-".into();
    }
    samples.sort();
    let rank = (p * samples.len()).div_ceil(100).max(1);
    format!("{:.0}", ms(samples[rank - 1]))
}
