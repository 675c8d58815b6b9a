//! Unit tests of the checkout crate: parsing, the rules in `prepare`, and
//! the outcomes of `place_order`.

use cart::{Cart, CartCommand, CartId, PricedSku, Sku};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use platform::money::Currency;
use platform::ApiError;
use regions::{DeliveryRequest, RegionCode, Regions};
use serde_json::{json, Value};

use crate::*;

/// The region config build.rs compiles in, and its conversion (a test may
/// append a region block to it).
const REGIONS_TOML: &str = include_str!("../../regions/regions.toml");

fn regions_from_toml(text: &str) -> Result<Regions, String> {
    let value: Value = toml::from_str(text).map_err(|e| e.to_string())?;
    Regions::from_json(&value.to_string())
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn body() -> Value {
    json!({
        "cart_id": "0123456789abcdef0123456789abcdef",
        "email": "ada@example.com",
        "shipping_address": {"name": "Ada", "line1": "1 Main St", "city": "San Francisco",
                             "state": "CA", "postal_code": "94110", "country": "US"},
        "region": "US-CA",
        "date_of_birth": "1990-05-01",
        "delivery": "asap",
    })
}

fn parse(v: &Value) -> Result<CheckoutRequest, ApiError> {
    CheckoutRequest::parse(v.to_string().as_bytes())
}

fn cart_with(region: &str, lines: &[(&str, &str, u32)]) -> Cart {
    let mut c = Cart::new(
        CartId::parse("0123456789abcdef0123456789abcdef").unwrap(),
        1,
        RegionCode::parse(region).unwrap(),
        usd(),
    );
    for (sku, price, qty) in lines {
        let p = PricedSku {
            sku: Sku::parse(sku).unwrap(),
            name: sku.to_string(),
            unit_price: price.parse().unwrap(),
            currency: usd(),
            available: 99,
        };
        c.apply(
            &CartCommand::Add {
                sku: p.sku.clone(),
                quantity: *qty,
            },
            &[p],
        )
        .unwrap();
    }
    c
}

fn key() -> IdempotencyKey {
    IdempotencyKey::from_header(Some("k-1")).unwrap()
}

/// 2026-06-10 12:00 in San Francisco (PDT, UTC-7).
fn noon_in_sf() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 10, 19, 0, 0).unwrap()
}

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const PUBLIC_ID: &str = "ord_0123456789abcdefghjkmnpqrs";

fn requester() -> Requester<'static> {
    Requester {
        idempotency_secret: SECRET,
        client_ip_hash: Some("c0ffee"),
        customer: None,
    }
}

/// `prepare` with the default settings.
fn prep(
    req: &CheckoutRequest,
    cart: &Cart,
    region: &regions::Region,
    now: DateTime<Utc>,
) -> Result<PlaceOrderInput, ApiError> {
    prepare(
        req,
        &key(),
        cart,
        region,
        now,
        &Settings::default(),
        requester(),
    )
}

#[test]
fn a_good_request_parses() {
    let r = parse(&body()).unwrap();
    assert_eq!(r.region.as_str(), "US-CA");
    assert_eq!(r.shipping_address.state, "CA");
    assert_eq!(r.date_of_birth, NaiveDate::from_ymd_opt(1990, 5, 1));
}

#[test]
fn malformed_requests_are_refused_with_their_own_codes() {
    let with = |path: &str, v: Value| {
        let mut b = body();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(path);
        } else {
            b[path] = v;
        }
        parse(&b).unwrap_err().code
    };
    assert_eq!(with("email", json!("nope")), "invalid_email");
    assert_eq!(with("email", Value::Null), "invalid_email");
    assert_eq!(with("region", json!("California")), "invalid_region");
    assert_eq!(with("cart_id", json!("../etc")), "cart_not_found");
    assert_eq!(
        with("date_of_birth", json!("01/05/1990")),
        "invalid_date_of_birth"
    );
    assert_eq!(with("delivery", json!("tomorrow")), "invalid_delivery");
    assert_eq!(
        with("shipping_address", json!("1 Main St")),
        "invalid_address"
    );
    assert_eq!(with("extra", json!(1)), "unknown_field");
    let mut b = body();
    b["shipping_address"]["postal_code"] = json!("9411");
    assert_eq!(parse(&b).unwrap_err().code, "invalid_address");
    b["shipping_address"]["postal_code"] = json!("94110");
    b["shipping_address"]["line1"] = json!("   ");
    assert_eq!(parse(&b).unwrap_err().code, "invalid_address");
    assert_eq!(
        CheckoutRequest::parse(b"{not json").unwrap_err().code,
        "invalid_json"
    );
    assert_eq!(
        CheckoutRequest::parse(b"[1]").unwrap_err().code,
        "invalid_json"
    );
}

#[test]
fn idempotency_keys_are_required_and_bounded() {
    assert_eq!(
        IdempotencyKey::from_header(None).unwrap_err().code,
        "idempotency_key_required"
    );
    assert!(IdempotencyKey::from_header(Some("550e8400-e29b-41d4-a716-446655440000")).is_ok());
    for bad in ["", "has space", &"k".repeat(256), "tab\t"] {
        assert_eq!(
            IdempotencyKey::from_header(Some(bad)).unwrap_err().code,
            "invalid_idempotency_key"
        );
    }
}

#[test]
fn prepare_prices_taxes_and_schedules() {
    let regions = Regions::builtin();
    let req = parse(&body()).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "10.00", 2), ("B-1", "0.50", 1)]);
    let ca = regions.get(&req.region).unwrap();
    let p = prep(&req, &cart, ca, noon_in_sf()).unwrap();
    let p = serde_json::to_value(&p).unwrap();
    // 20.50 * 0.0725 = 1.48625 -> 1.49
    assert_eq!(
        p["order"]["totals"],
        json!({"subtotal": "20.50", "tax": "1.49", "total": "21.99"})
    );
    assert_eq!(p["order"]["lines"][0]["line_total"], "20.00");
    assert_eq!(p["order"]["lines"][1]["unit_price"], "0.50");
    assert_eq!(
        p["order"]["delivery"]["window_start"],
        "2026-06-10T19:00:00Z"
    );
    assert_eq!(p["age"]["minimum_age"], 21);
    assert_eq!(p["order"]["age_verification"]["minimum_age"], 21);
    assert!(
        p.to_string().find("1990").is_none(),
        "the birth date is never stored"
    );
}

#[test]
fn prepare_refuses_what_the_rules_refuse() {
    let regions = Regions::builtin();
    let req = parse(&body()).unwrap();
    let ca = regions.get(&req.region).unwrap();
    let co = regions.get(&RegionCode::parse("US-CO").unwrap()).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "10.00", 1)]);

    let e = prep(&req, &cart_with("US-CA", &[]), ca, noon_in_sf()).unwrap_err();
    assert_eq!((e.status, e.code), (422, "empty_cart"));
    let mut closed = cart.clone();
    closed
        .apply(&CartCommand::MarkCheckedOut { order_id: 1.into() }, &[])
        .unwrap();
    let e = prep(&req, &closed, ca, noon_in_sf()).unwrap_err();
    assert_eq!((e.status, e.code), (409, "cart_already_checked_out"));
    let e = prep(
        &req,
        &cart_with("US-CO", &[("A-1", "1.00", 1)]),
        ca,
        noon_in_sf(),
    )
    .unwrap_err();
    assert_eq!(e.code, "region_mismatch");
    assert_eq!(
        prep(&req, &cart, co, noon_in_sf()).unwrap_err().code,
        "region_mismatch"
    );

    let mut b = body();
    b["shipping_address"]["state"] = json!("NV");
    let e = prep(&parse(&b).unwrap(), &cart, ca, noon_in_sf()).unwrap_err();
    assert_eq!(e.code, "address_outside_region");

    let mut b = body();
    b["date_of_birth"] = json!("2010-01-01");
    let e = prep(&parse(&b).unwrap(), &cart, ca, noon_in_sf()).unwrap_err();
    assert_eq!((e.status, e.code), (422, "age_verification_failed"));
}

/// The issue's "config-only region": a block appended to the config text,
/// and a whole checkout (prepare) runs in it, with no code change.
#[test]
fn a_checkout_runs_in_a_region_that_only_the_config_knows() {
    let config = format!(
        "{REGIONS_TOML}\n[regions.US-WA]\nname = \"Washington\"\ncurrency = \"USD\"\n\
         sales_tax = \"0.065\"\nage_verification = \"none\"\n\
         delivery_hours = {{ opens = \"09:00\", closes = \"18:00\", time_zone = \"America/Los_Angeles\" }}\n\
         payment_providers = [\"stripe\"]\n"
    );
    let regions = regions_from_toml(&config).unwrap();
    let mut b = body();
    b["region"] = json!("US-WA");
    b["shipping_address"]["state"] = json!("WA");
    b["shipping_address"]["postal_code"] = json!("98101");
    b.as_object_mut().unwrap().remove("date_of_birth");
    let req = parse(&b).unwrap();
    let wa = regions.get(&req.region).unwrap();
    // 19:00 UTC is noon in Seattle: open.
    let p = prep(
        &req,
        &cart_with("US-WA", &[("A-1", "10.10", 1)]),
        wa,
        noon_in_sf(),
    )
    .unwrap();
    let p = serde_json::to_value(&p).unwrap();
    // 10.10 * 0.065 = 0.6565 -> 0.66; no age check in this region.
    assert_eq!(
        p["order"]["totals"],
        json!({"subtotal": "10.10", "tax": "0.66", "total": "10.76"})
    );
    assert_eq!(p["age"], Value::Null);
    assert_eq!(p["order"]["delivery"]["rescheduled"], false);
}

#[test]
fn the_reservation_time_is_a_setting_with_a_default() {
    assert_eq!(reservation_minutes(None), Ok(15));
    assert_eq!(reservation_minutes(Some("30")), Ok(30));
    for bad in ["0", "1441", "-5", "soon", ""] {
        assert!(reservation_minutes(Some(bad)).is_err(), "{bad}");
    }
    let req = parse(&body()).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "1.00", 1)]);
    let settings = Settings {
        reservation_minutes: 30,
        ..Settings::default()
    };
    let p = prepare(
        &req,
        &key(),
        &cart,
        ca,
        noon_in_sf(),
        &settings,
        requester(),
    )
    .unwrap();
    assert_eq!(p.reservation_minutes, 30);
}

fn placed() -> PlacedOrder {
    let req = parse(&body()).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "2.50", 2)]);
    let input = prep(&req, &cart, ca, noon_in_sf()).unwrap();
    PlacedOrder {
        order_id: 7,
        public_id: Some(PUBLIC_ID.into()),
        reservation_expires_at: "2026-06-10T19:15:00Z".into(),
        summary: input.order,
    }
}

fn outcome(v: Value) -> PlaceOrderOutcome {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_placed_order_answers_with_its_id_state_and_summary() {
    let placed = placed();
    let stored = serde_json::to_value(&placed).unwrap();
    let reply = outcome(json!({ "placed": stored })).into_reply().unwrap();
    assert_eq!(
        (reply.status, reply.replayed, reply.order_id),
        (201, false, Some(PUBLIC_ID.to_string()))
    );
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    // Clients see the opaque id only; the bigint stays ours.
    assert_eq!(body["order_id"], PUBLIC_ID);
    assert!(!reply.body.contains(":7,"), "{}", reply.body);
    assert_eq!(body["status"], "pending_payment");
    assert_eq!(body["reservation_expires_at"], "2026-06-10T19:15:00Z");
    assert_eq!(body["totals"]["subtotal"], "5.00");
    assert_eq!(body["lines"][0]["sku"], "A-1");
    assert_eq!(body["region"], "US-CA");

    // A retry gets the same bytes back from the stored record.
    let replay = outcome(json!({"replayed": {"status": 201, "stored": stored}}))
        .into_reply()
        .unwrap();
    assert_eq!(
        (replay.replayed, replay.body.as_str()),
        (true, reply.body.as_str())
    );
}

#[test]
fn refusals_are_data_and_rust_picks_the_status() {
    let e = outcome(json!({"refused": {"code": "out_of_stock",
                           "details": {"message": "only 2", "sku": "A-1", "available": 2}}}))
    .into_reply()
    .unwrap_err();
    assert_eq!(
        (e.status, e.code, e.message.as_str()),
        (409, "out_of_stock", "only 2")
    );
    assert_eq!(e.details.unwrap()["available"], 2);
    let e = outcome(json!({"refused": {"code": "idempotency_key_reused"}}))
        .into_reply()
        .unwrap_err();
    assert_eq!((e.status, e.code), (422, "idempotency_key_reused"));
    let e = outcome(json!({"refused": {"code": "something_new"}}))
        .into_reply()
        .unwrap_err();
    assert_eq!(e.status, 500);
}

#[test]
fn a_stored_key_replays_only_the_same_body() {
    let stored = StoredCheckout {
        fingerprint: "abc".into(),
        status: 201,
        response: serde_json::to_string(&placed()).unwrap(),
    };
    assert_eq!(
        stored.clone().replay("abd", "legacy").unwrap_err().code,
        "idempotency_key_reused"
    );
    let reply = stored.clone().replay("abc", "legacy").unwrap();
    assert_eq!(
        (reply.replayed, reply.order_id),
        (true, Some(PUBLIC_ID.to_string()))
    );
    // A key stored before 0005 matches the request's legacy fingerprint.
    let reply = stored.replay("new", "abc").unwrap();
    assert_eq!(
        (reply.replayed, reply.order_id),
        (true, Some(PUBLIC_ID.to_string()))
    );
}

#[test]
fn delivery_requests_from_json() {
    let delivery = |v: Value| {
        let mut b = body();
        b["delivery"] = v;
        parse(&b).map(|r| r.delivery)
    };
    assert_eq!(delivery(json!("asap")).unwrap(), DeliveryRequest::Asap);
    assert_eq!(
        delivery(json!({"window_start": "2026-06-11T08:00:00-07:00"})).unwrap(),
        DeliveryRequest::Window {
            start: Utc.with_ymd_and_hms(2026, 6, 11, 15, 0, 0).unwrap()
        }
    );
    for bad in [
        json!("ASAP"),
        json!("now"),
        json!(null),
        json!(5),
        json!({}),
        json!({"window_start": "tomorrow"}),
        json!({"window_start": "2026-06-11T08:00:00"}),
        json!({"window_start": 1781190000}),
        json!({"window_start": "2026-06-11T15:00:00Z", "window_end": "2026-06-11T16:00:00Z"}),
    ] {
        let e = delivery(bad.clone()).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_delivery"), "{bad}");
    }
}

// --- hardening: fingerprints, caps, public ids, totals, input rules --------

/// The stored fingerprint of a request (what `prepare` puts in the input).
fn fp(v: &Value) -> String {
    let req = parse(v).unwrap();
    let region = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with(req.region.as_str(), &[("A-1", "1.00", 1)]);
    prep(&req, &cart, region, noon_in_sf()).unwrap().fingerprint
}

#[test]
fn the_fingerprint_ignores_formatting_but_not_content() {
    let a = fp(&body());
    // Whitespace and key order: the same request.
    let spaced = serde_json::to_string_pretty(&body()).unwrap();
    let reordered = r#"{"delivery":"asap","region":"US-CA","date_of_birth":"1990-05-01",
        "shipping_address":{"country":"US","postal_code":"94110","state":"CA","city":"San Francisco",
        "line1":"1 Main St","name":"Ada"},"email":"ada@example.com",
        "cart_id":"0123456789abcdef0123456789abcdef"}"#;
    for text in [spaced.as_str(), reordered] {
        assert_eq!(fp(&serde_json::from_str(text).unwrap()), a, "{text}");
    }
    // As normalised: padding and the domain's case do not matter.
    let mut b = body();
    b["email"] = json!("  ada@EXAMPLE.com ");
    b["shipping_address"]["line1"] = json!(" 1 Main St ");
    assert_eq!(fp(&b), a);
    // Content does.
    for (path, v) in [
        ("email", json!("eve@example.com")),
        ("delivery", json!({"window_start": "2026-06-11T16:00:00Z"})),
    ] {
        let mut other = body();
        other[path] = v;
        assert_ne!(fp(&other), a, "{path}");
    }
    let mut other = body();
    other["shipping_address"]["name"] = json!("Eve");
    assert_ne!(fp(&other), a);
}

#[test]
fn the_fingerprint_is_keyed_and_holds_the_age_result_not_the_birth_date() {
    let a = fp(&body());
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    // Not the plain SHA-256 of the body (the old fingerprint, from which the
    // birth date could be searched for).
    let req = parse(&body()).unwrap();
    assert_ne!(a, req.legacy_fingerprint);
    // Two birth dates that pass the same check: the same fingerprint.
    let mut older = body();
    older["date_of_birth"] = json!("1950-12-31");
    assert_eq!(fp(&older), a, "the birth date does not show");
    // Under another key: another fingerprint.
    let ca = Regions::builtin().get(&req.region).unwrap();
    assert_eq!(
        retry_fingerprint(&req, ca, noon_in_sf(), None, SECRET).unwrap(),
        a,
        "a refused retry computes the same one"
    );
    assert_ne!(
        retry_fingerprint(
            &req,
            ca,
            noon_in_sf(),
            None,
            b"another-secret-another-secret-32"
        )
        .unwrap(),
        a
    );
    // The age outcome is in it: "none" differs from "21+".
    assert_ne!(fingerprint(&req, None, None, SECRET), a);
    assert_eq!(fingerprint(&req, Some(21), None, SECRET), a);
    // A region that checks no age: with or without a birth date, the same.
    let mut or = body();
    or["region"] = json!("US-OR");
    or["shipping_address"]["state"] = json!("OR");
    or["shipping_address"]["postal_code"] = json!("97201");
    let with_dob = fp(&or);
    or.as_object_mut().unwrap().remove("date_of_birth");
    assert_eq!(fp(&or), with_dob);
    // A refused request that fails the age check cannot be a retry.
    let mut young = body();
    young["date_of_birth"] = json!("2015-01-01");
    let young = parse(&young).unwrap();
    assert_eq!(
        retry_fingerprint(&young, ca, noon_in_sf(), None, SECRET)
            .unwrap_err()
            .code,
        "age_verification_failed"
    );
}

#[test]
fn the_input_carries_no_birth_date_and_what_place_order_checks_with() {
    let req = parse(&body()).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let p = prep(
        &req,
        &cart_with("US-CA", &[("A-1", "2.00", 1)]),
        ca,
        noon_in_sf(),
    )
    .unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["tax_rate"], "0.0725");
    assert_eq!(v["minor_digits"], 2);
    assert_eq!(v["client_ip_hash"], "c0ffee");
    assert_eq!(v["max_pending_orders_per_email"], 3);
    assert_eq!(v["max_pending_orders_per_client"], 5);
    let stored_part =
        json!({"fingerprint": v["fingerprint"], "order": v["order"], "age": v["age"]});
    assert!(!stored_part.to_string().contains("1990"), "{stored_part}");
}

#[test]
fn settings_have_defaults_ranges_and_names() {
    let (s, errors) = Settings::from_vars(|_| None);
    assert_eq!(s, Settings::default());
    assert_eq!(
        (
            s.reservation_minutes,
            s.max_units_per_sku,
            s.max_pending_orders_per_email,
            s.max_pending_orders_per_client
        ),
        (15, 10, 3, 5)
    );
    assert!(errors.is_empty());
    let vars = |name: &str| {
        Some(
            match name {
                "RESERVATION_MINUTES" => "20",
                "MAX_UNITS_PER_SKU" => "99",
                "MAX_PENDING_ORDERS_PER_EMAIL" => " 100000 ",
                _ => "1",
            }
            .to_string(),
        )
    };
    let (s, errors) = Settings::from_vars(vars);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (
            s.reservation_minutes,
            s.max_units_per_sku,
            s.max_pending_orders_per_email,
            s.max_pending_orders_per_client
        ),
        (20, 99, 100_000, 1)
    );
    let (s, errors) = Settings::from_vars(|name| {
        Some(
            if name == "MAX_UNITS_PER_SKU" {
                "100"
            } else {
                "0"
            }
            .to_string(),
        )
    });
    assert_eq!(
        s,
        Settings::default(),
        "invalid values fall back to the defaults"
    );
    assert_eq!(errors.len(), 4);
    assert!(
        errors.iter().any(|e| e.contains("MAX_UNITS_PER_SKU")),
        "{errors:?}"
    );
}

#[test]
fn a_line_over_the_units_cap_is_refused_before_the_database() {
    let req = parse(&body()).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "1.00", 10), ("B-2", "1.00", 11)]);
    let e = prep(&req, &cart, ca, noon_in_sf()).unwrap_err();
    assert_eq!((e.status, e.code), (422, "quantity_limit_exceeded"));
    let details = e.details.unwrap();
    assert_eq!(
        (details["sku"].clone(), details["max_quantity"].clone()),
        (json!("B-2"), json!(10))
    );
    // The benchmark's setting lets it through.
    let raised = Settings {
        max_units_per_sku: 20,
        ..Settings::default()
    };
    assert!(prepare(&req, &key(), &cart, ca, noon_in_sf(), &raised, requester()).is_ok());
}

#[test]
fn client_addresses_are_stored_as_keyed_hashes() {
    let h = client_ip_hash(SECRET, "198.18.0.1");
    assert_eq!(h.len(), 32);
    assert!(!h.contains("198"));
    assert_eq!(h, client_ip_hash(SECRET, "198.18.0.1"));
    assert_ne!(h, client_ip_hash(SECRET, "198.18.0.2"));
    assert_ne!(
        h,
        client_ip_hash(b"another-secret-another-secret-32", "198.18.0.1")
    );
}

#[test]
fn old_stored_records_replay_with_the_public_id() {
    // A record from before public ids, as checkout_record() completes it.
    let mut stored = serde_json::to_value(placed()).unwrap();
    stored.as_object_mut().unwrap().remove("public_id");
    let reply = CheckoutReply::from_stored(201, stored.clone()).unwrap_err();
    assert_eq!(reply.status, 500, "never falls back to the bigint");
    stored["public_id"] = json!(PUBLIC_ID);
    let reply = CheckoutReply::from_stored(201, stored).unwrap();
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        (body["order_id"].clone(), reply.order_id),
        (json!(PUBLIC_ID), Some(PUBLIC_ID.to_string()))
    );

    // The oldest records held the whole answer; checkout_record() has put
    // the public id in place of the bigint. A bigint left there is a 500,
    // never sent.
    let whole = json!({"order_id": PUBLIC_ID, "status": "pending_payment", "cart_id": "c"});
    let reply = CheckoutReply::from_stored(201, whole.clone()).unwrap();
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        (body, reply.order_id, reply.replayed),
        (whole, Some(PUBLIC_ID.to_string()), true)
    );
    let bigint = json!({"order_id": 12, "status": "pending_payment"});
    assert_eq!(
        CheckoutReply::from_stored(201, bigint).unwrap_err().status,
        500
    );
}

#[test]
fn cap_and_totals_refusals_map_to_422_and_500() {
    let e = outcome(json!({"refused": {"code": "too_many_pending_orders",
        "details": {"message": "this email already has 3", "limit": "email", "max_pending_orders": 3}}}))
    .into_reply()
    .unwrap_err();
    assert_eq!((e.status, e.code), (422, "too_many_pending_orders"));
    assert_eq!(e.details.unwrap()["limit"], "email");
    let e = outcome(json!({"refused": {"code": "totals_mismatch",
        "details": {"message": "the totals do not add up", "tax": "1.00"}}}))
    .into_reply()
    .unwrap_err();
    assert_eq!((e.status, e.code), (500, "internal"));
    assert!(e.internal_detail.unwrap().contains("totals_mismatch"));
    assert!(
        !e.message.contains("totals"),
        "the detail is logged, not sent"
    );
}

fn email(s: &str) -> Result<String, ApiError> {
    address::parse_email(platform::body::Field::Valid(s.to_string()))
}

#[test]
fn emails_follow_the_whatwg_rule() {
    for (given, stored) in [
        ("ada@example.com", "ada@example.com"),
        (
            "  Ada.Lovelace+shop@Mail.Example.COM ",
            "Ada.Lovelace+shop@mail.example.com",
        ),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x!#$%&'*+/=?^_`{|}~-@a-b.c0", "x!#$%&'*+/=?^_`{|}~-@a-b.c0"),
    ] {
        assert_eq!(email(given).unwrap(), stored, "{given}");
    }
    let long_local = format!("{}@example.com", "a".repeat(243)); // 255 characters
    let max = format!("{}@example.com", "a".repeat(242)); // 254
    assert!(email(&max).is_ok());
    for bad in [
        "\"><img@x.io",
        "x@y.com;bcc",
        "x@y.com;bcc=z@w.com",
        "a b@example.com",
        "ab@exa mple.com",
        "\"ada\"@example.com",
        "ada@example.com\r\nBcc: eve@example.com",
        "ada@",
        "@example.com",
        "ada@@example.com",
        "ada@example",
        "ada@-example.com",
        "ada@example-.com",
        "ada@example..com",
        "ada@.example.com",
        "ada@example.com.",
        "ada@exa_mple.com",
        "ádá@example.com",
        "ada@exämple.com",
        "ada@[127.0.0.1]",
        &format!("ada@{}.com", "a".repeat(64)),
        &long_local,
        "",
        "   ",
    ] {
        let e = email(bad).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_email"), "{bad:?}");
    }
}

#[test]
fn address_fields_refuse_hidden_characters_and_long_values() {
    let with = |field: &str, v: &str| {
        let mut b = body();
        b["shipping_address"][field] = json!(v);
        parse(&b)
    };
    for hidden in [
        "\u{202E}tS niaM 1", // right-to-left override
        "1 Main\u{2066} St", // left-to-right isolate
        "1 Main\u{2069} St",
        "1\u{200B}Main St", // zero-width space
        "1 Main\u{200D}St",
        "1 Main\u{2060}St",
        "\u{FEFF}1 Main St",
        "1 Main\u{0007}St",
        "1 Main\nSt",
        "1 Main\u{0085}St",
        "1 Main\u{2028}St",
    ] {
        for field in ["name", "line1", "line2", "city"] {
            let e = with(field, hidden).unwrap_err();
            assert_eq!(
                (e.status, e.code),
                (400, "invalid_address"),
                "{field} {hidden:?}"
            );
            assert!(e.message.contains(field), "{}", e.message);
        }
    }
    // Ordinary non-ASCII text is fine.
    assert_eq!(
        with("name", "José Ñúñez-Łukasiewicz")
            .unwrap()
            .shipping_address
            .name,
        "José Ñúñez-Łukasiewicz"
    );
    assert_eq!(
        with("city", "Zürich").unwrap().shipping_address.city,
        "Zürich"
    );
    for (field, max) in [("name", 100), ("line1", 100), ("line2", 100), ("city", 100)] {
        assert!(with(field, &"é".repeat(max)).is_ok(), "{field}");
        let e = with(field, &"é".repeat(max + 1)).unwrap_err();
        assert_eq!(e.code, "invalid_address");
        assert!(e.message.contains(&format!("1-{max}")), "{}", e.message);
    }
}

// --- loyalty points: redeeming, earning, the signed-in checkout -------------

const CUSTOMER: &str = "cus_0123456789abcdefghjkmnpqrs";

fn signed_in() -> Requester<'static> {
    Requester {
        customer: Some(CUSTOMER),
        ..requester()
    }
}

/// `prepare` at noon in San Francisco, as `who`.
fn prep_as(
    req: &CheckoutRequest,
    cart: &Cart,
    region: &regions::Region,
    who: Requester<'static>,
) -> Result<PlaceOrderInput, ApiError> {
    prepare(
        req,
        &key(),
        cart,
        region,
        noon_in_sf(),
        &Settings::default(),
        who,
    )
}

fn redeeming(points: Value) -> Value {
    let mut b = body();
    b["redeem_points"] = points;
    b
}

#[test]
fn redeem_points_is_a_whole_number_in_range() {
    let redeem = |v: Value| parse(&redeeming(v)).map(|r| r.redeem_points);
    assert_eq!(parse(&body()).unwrap().redeem_points, None);
    assert_eq!(redeem(json!(null)).unwrap(), None);
    assert_eq!(redeem(json!(1)).unwrap(), Some(1));
    assert_eq!(
        redeem(json!(500.0)).unwrap(),
        Some(500),
        "JSON does not tell 500.0 from 500"
    );
    assert_eq!(redeem(json!(10_000_000)).unwrap(), Some(10_000_000));
    for bad in [
        json!(0),
        json!(-1),
        json!(10_000_001),
        json!(4_294_967_296u64),
        json!(1.5),
        json!("100"),
        json!(true),
        json!([100]),
        json!({"points": 100}),
    ] {
        let e = redeem(bad.clone()).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_redeem_points"), "{bad}");
    }
}

#[test]
fn points_pay_part_of_the_total_and_the_rest_earns() {
    let req = parse(&redeeming(json!(500))).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "10.00", 2), ("B-1", "0.50", 1)]);
    let p = prep_as(&req, &cart, ca, signed_in())
    .unwrap();
    let v = serde_json::to_value(&p).unwrap();
    // 20.50 + 1.49 tax (on the full price) − 5.00 of points.
    assert_eq!(
        v["order"]["totals"],
        json!({"subtotal": "20.50", "tax": "1.49", "points_discount": "5.00", "total": "16.99"})
    );
    assert_eq!(v["order"]["points_redeemed"], 500);
    // floor(20.50 − 5.00) × 1 point per dollar.
    assert_eq!(
        v["customer"],
        json!({"public_id": CUSTOMER, "redeem_points": 500, "points_discount": "5.00",
               "points_to_earn": 15})
    );
}

#[test]
fn a_signed_in_checkout_without_points_is_linked_and_earns() {
    let req = parse(&body()).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "10.00", 2), ("B-1", "0.50", 1)]);
    let p = prep_as(&req, &cart, ca, signed_in())
    .unwrap();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(
        v["order"]["totals"],
        json!({"subtotal": "20.50", "tax": "1.49", "total": "21.99"}),
        "no points: the totals a guest gets"
    );
    assert_eq!(v["order"].get("points_redeemed"), None);
    assert_eq!(
        v["customer"],
        json!({"public_id": CUSTOMER, "redeem_points": 0, "points_discount": "0.00",
               "points_to_earn": 20})
    );
    // A guest's input says so: no customer.
    let guest = serde_json::to_value(prep(&req, &cart, ca, noon_in_sf()).unwrap()).unwrap();
    assert_eq!(guest["customer"], Value::Null);
}

#[test]
fn redeeming_is_refused_without_a_session_over_the_total_or_in_fractions() {
    let ca = Regions::builtin()
        .get(&RegionCode::parse("US-CA").unwrap())
        .unwrap();
    let cart = cart_with("US-CA", &[("A-1", "10.00", 1)]);
    let run = |points: u32, requester: Requester<'static>, region: &regions::Region| {
        let req = parse(&redeeming(json!(points))).unwrap();
        prep_as(&req, &cart, region, requester)
    };
    let e = run(100, requester(), ca).unwrap_err();
    assert_eq!((e.status, e.code), (401, "unauthenticated"));
    // 10.00 + 0.73 tax: points may pay 10.23 at most.
    let p = run(1023, signed_in(), ca).unwrap();
    assert_eq!(p.order.totals.total.to_string(), "0.50");
    assert_eq!(
        p.customer.unwrap().points_to_earn,
        0,
        "floor(10.00 − 10.23) is below 0"
    );
    let e = run(1024, signed_in(), ca).unwrap_err();
    assert_eq!((e.status, e.code), (422, "redeem_exceeds_total"));
    assert_eq!(e.details.unwrap()["max_points_discount"], "10.23");

    // A region where 1,000 points pay a dollar: 5 points are half a cent.
    let config = REGIONS_TOML.replace(
        "[regions.US-CA]",
        "[regions.US-CA]\nloyalty = { earn_per_unit = 2, points_per_unit = 1000 }",
    );
    let config = config.replacen(
        "loyalty = { earn_per_unit = 1, points_per_unit = 100 }\n",
        "",
        1,
    );
    let regions = regions_from_toml(&config).unwrap();
    let ca = regions.get(&RegionCode::parse("US-CA").unwrap()).unwrap();
    assert_eq!(ca.loyalty.points_per_unit, 1000);
    let e = run(1005, signed_in(), ca).unwrap_err();
    assert_eq!((e.status, e.code), (400, "invalid_redeem_points"));
    let p = run(1010, signed_in(), ca).unwrap();
    assert_eq!(p.order.totals.points_discount.to_string(), "1.01");
    // floor(10.00 − 1.01) = 8, at 2 points per dollar.
    assert_eq!(p.customer.unwrap().points_to_earn, 16);
}

#[test]
fn a_guests_fingerprint_is_unchanged_and_a_session_or_redemption_changes_it() {
    let req = parse(&body()).unwrap();
    // The v1 parts, exactly as before accounts existed.
    let a = &req.shipping_address;
    let v1: [&[u8]; 13] = [
        b"checkout-fingerprint-v1",
        req.cart_id.as_str().as_bytes(),
        req.email.as_bytes(),
        a.name.as_bytes(),
        a.line1.as_bytes(),
        b"",
        a.city.as_bytes(),
        a.state.as_bytes(),
        a.postal_code.as_bytes(),
        a.country.as_bytes(),
        b"US-CA",
        b"asap",
        b"21+",
    ];
    let guest = fingerprint(&req, Some(21), None, SECRET);
    assert_eq!(
        guest,
        platform::crypto::hex(&platform::crypto::hmac_sha256(SECRET, &v1))
    );
    assert_eq!(fp(&body()), guest);

    let mine = fingerprint(&req, Some(21), Some(CUSTOMER), SECRET);
    let theirs = fingerprint(
        &req,
        Some(21),
        Some("cus_zzzzzzzzzzzzzzzzzzzzzzzzzz"),
        SECRET,
    );
    let redeem = |n: u32| {
        let r = parse(&redeeming(json!(n))).unwrap();
        fingerprint(&r, Some(21), Some(CUSTOMER), SECRET)
    };
    let all = [guest, mine, theirs, redeem(100), redeem(200)];
    for (i, x) in all.iter().enumerate() {
        for y in &all[i + 1..] {
            assert_ne!(x, y);
        }
    }
    assert_eq!(redeem(100), redeem(100));
    // What prepare stores, and what a refused retry computes, agree.
    let r = parse(&redeeming(json!(100))).unwrap();
    let ca = Regions::builtin().get(&r.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "10.00", 1)]);
    let p = prep_as(&r, &cart, ca, signed_in())
    .unwrap();
    assert_eq!(p.fingerprint, redeem(100));
    assert_eq!(
        retry_fingerprint(&r, ca, noon_in_sf(), Some(CUSTOMER), SECRET).unwrap(),
        redeem(100)
    );
}

#[test]
fn the_answer_shows_points_only_when_they_paid() {
    let req = parse(&redeeming(json!(250))).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "2.50", 2)]);
    let input = prep_as(&req, &cart, ca, signed_in())
    .unwrap();
    let with_points = PlacedOrder {
        order_id: 7,
        public_id: Some(PUBLIC_ID.into()),
        reservation_expires_at: "2026-06-10T19:15:00Z".into(),
        summary: input.order,
    };
    let stored = serde_json::to_value(&with_points).unwrap();
    let reply = outcome(json!({ "placed": stored })).into_reply().unwrap();
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["points_redeemed"], 250);
    assert_eq!(body["points_discount"], "2.50");
    // 5.00 + 0.36 tax − 2.50.
    assert_eq!(
        body["totals"],
        json!({"subtotal": "5.00", "tax": "0.36", "points_discount": "2.50", "total": "2.86"})
    );
    let replay = outcome(json!({"replayed": {"status": 201, "stored": stored}}))
        .into_reply()
        .unwrap();
    assert_eq!(replay.body, reply.body);

    // Without points (a guest's, or a record stored before points existed).
    let guest = serde_json::to_value(placed()).unwrap();
    assert!(guest["summary"]["totals"].get("points_discount").is_none());
    let body: Value =
        serde_json::from_str(&CheckoutReply::from_stored(201, guest).unwrap().body).unwrap();
    assert_eq!(body.get("points_redeemed"), None);
    assert_eq!(body.get("points_discount"), None);
    assert_eq!(
        body["totals"],
        json!({"subtotal": "5.00", "tax": "0.36", "total": "5.36"})
    );
}

#[test]
fn points_refusals_map_to_409_and_401() {
    let e = outcome(json!({"refused": {"code": "insufficient_points",
        "details": {"message": "only 120 points are available", "available": 120}}}))
    .into_reply()
    .unwrap_err();
    assert_eq!((e.status, e.code), (409, "insufficient_points"));
    assert_eq!(e.details.unwrap()["available"], 120);
    let e = outcome(json!({"refused": {"code": "unauthenticated",
        "details": {"message": "the signed-in account no longer exists"}}}))
    .into_reply()
    .unwrap_err();
    assert_eq!((e.status, e.code), (401, "unauthenticated"));
}
