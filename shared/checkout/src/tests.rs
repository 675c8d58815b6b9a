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

#[test]
fn a_good_request_parses() {
    let r = parse(&body()).unwrap();
    assert_eq!(r.region.as_str(), "US-CA");
    assert_eq!(r.shipping_address.state, "CA");
    assert_eq!(r.date_of_birth, NaiveDate::from_ymd_opt(1990, 5, 1));
}

#[test]
fn the_fingerprint_ignores_formatting_but_not_content() {
    let a = parse(&body()).unwrap().fingerprint;
    let spaced = serde_json::to_string_pretty(&body()).unwrap();
    assert_eq!(
        CheckoutRequest::parse(spaced.as_bytes())
            .unwrap()
            .fingerprint,
        a
    );
    let mut other = body();
    other["email"] = json!("eve@example.com");
    assert_ne!(parse(&other).unwrap().fingerprint, a);
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
    let p = prepare(&req, &key(), &cart, ca, noon_in_sf(), 15).unwrap();
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

    let e = prepare(&req, &key(), &cart_with("US-CA", &[]), ca, noon_in_sf(), 15).unwrap_err();
    assert_eq!((e.status, e.code), (422, "empty_cart"));
    let mut closed = cart.clone();
    closed
        .apply(&CartCommand::MarkCheckedOut { order_id: 1 }, &[])
        .unwrap();
    let e = prepare(&req, &key(), &closed, ca, noon_in_sf(), 15).unwrap_err();
    assert_eq!((e.status, e.code), (409, "cart_already_checked_out"));
    let e = prepare(
        &req,
        &key(),
        &cart_with("US-CO", &[("A-1", "1.00", 1)]),
        ca,
        noon_in_sf(),
        15,
    )
    .unwrap_err();
    assert_eq!(e.code, "region_mismatch");
    assert_eq!(
        prepare(&req, &key(), &cart, co, noon_in_sf(), 15)
            .unwrap_err()
            .code,
        "region_mismatch"
    );

    let mut b = body();
    b["shipping_address"]["state"] = json!("NV");
    let e = prepare(&parse(&b).unwrap(), &key(), &cart, ca, noon_in_sf(), 15).unwrap_err();
    assert_eq!(e.code, "address_outside_region");

    let mut b = body();
    b["date_of_birth"] = json!("2010-01-01");
    let e = prepare(&parse(&b).unwrap(), &key(), &cart, ca, noon_in_sf(), 15).unwrap_err();
    assert_eq!((e.status, e.code), (422, "age_verification_failed"));
}

/// The "config-only region": a block appended to the config text,
/// and a whole checkout (prepare) runs in it, with no code change.
#[test]
fn a_checkout_runs_in_a_region_that_only_the_config_knows() {
    let config = format!(
        "{REGIONS_TOML}\n[regions.US-WA]\nname = \"Washington\"\ncurrency = \"USD\"\n\
         sales_tax = \"0.065\"\nage_verification = \"none\"\n\
         delivery_hours = {{ opens = \"09:00\", closes = \"18:00\", time_zone = \"America/Los_Angeles\" }}\n"
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
    let p = prepare(
        &req,
        &key(),
        &cart_with("US-WA", &[("A-1", "10.10", 1)]),
        wa,
        noon_in_sf(),
        15,
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
    let p = prepare(&req, &key(), &cart, ca, noon_in_sf(), 30).unwrap();
    assert_eq!(p.reservation_minutes, 30);
}

fn placed() -> PlacedOrder {
    let req = parse(&body()).unwrap();
    let ca = Regions::builtin().get(&req.region).unwrap();
    let cart = cart_with("US-CA", &[("A-1", "2.50", 2)]);
    let input = prepare(&req, &key(), &cart, ca, noon_in_sf(), 15).unwrap();
    PlacedOrder {
        order_id: 7,
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
        (201, false, Some(7))
    );
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["order_id"], 7);
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
        stored.clone().replay("abd").unwrap_err().code,
        "idempotency_key_reused"
    );
    let reply = stored.replay("abc").unwrap();
    assert_eq!((reply.replayed, reply.order_id), (true, Some(7)));
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

// --- input rules: emails and address fields ---------------------------------

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
