//! Checkout, the pure part: parsing the request, applying the region's rules
//! (tax, age, delivery hours) to a cart, and building the one SQL statement
//! that writes the order (`place_order` in migrations/0003_checkout.sql).
//!
//! The order of the checks is the order in `prepare`: everything that can be
//! refused without the database is refused here, so a bad request never
//! reaches the primary and never writes anything.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::cart::{Cart, CartId, CartStatus};
use crate::http::json_object;
use crate::money::Currency;
use crate::regions::{DeliveryRequest, Region, RegionCode};
use crate::sql::Statement;
use crate::ApiError;

/// How long reserved stock waits for payment before the cron gives it back,
/// unless the checkout worker's `RESERVATION_MINUTES` variable says otherwise.
pub const DEFAULT_RESERVATION_MINUTES: u32 = 15;

/// The `RESERVATION_MINUTES` setting: 1 minute to 1 day; anything else is a
/// deployment mistake, reported, and the default is used.
pub fn reservation_minutes(setting: Option<&str>) -> Result<u32, String> {
    match setting {
        None => Ok(DEFAULT_RESERVATION_MINUTES),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|m| (1..=1440).contains(m))
            .ok_or_else(|| format!("RESERVATION_MINUTES={v:?} is not 1-1440")),
    }
}

/// The client's `Idempotency-Key`: required on checkout, 1-255 visible ASCII
/// characters (a UUID is typical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(header: Option<&str>) -> Result<Self, ApiError> {
        let key = header.ok_or_else(|| {
            ApiError::bad_request(
                "idempotency_key_required",
                "send an Idempotency-Key header (e.g. a UUID) so the checkout can be retried safely",
            )
        })?;
        if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(key.to_string()))
        } else {
            Err(ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 visible ASCII characters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    /// Subdivision code, e.g. "CA".
    pub state: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. "US".
    pub country: String,
}

impl ShippingAddress {
    fn parse(v: Option<&Value>) -> Result<Self, ApiError> {
        let bad = |why: &str| {
            ApiError::bad_request("invalid_address", format!("shipping_address: {why}"))
        };
        let obj = v
            .and_then(Value::as_object)
            .ok_or_else(|| bad("must be an object"))?;
        const FIELDS: [&str; 7] = [
            "name",
            "line1",
            "line2",
            "city",
            "state",
            "postal_code",
            "country",
        ];
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(bad(&format!("unknown field {unknown}")));
        }
        let text = |name: &str, required: bool| -> Result<Option<String>, ApiError> {
            match obj.get(name) {
                None | Some(Value::Null) if !required => Ok(None),
                Some(Value::String(s)) => {
                    let s = s.trim();
                    if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
                        Err(bad(&format!("{name} must be 1-200 printable characters")))
                    } else {
                        Ok(Some(s.to_string()))
                    }
                }
                _ => Err(bad(&format!("{name} is required and must be a string"))),
            }
        };
        let req = |name: &str| text(name, true).map(|s| s.unwrap_or_default());
        let address = ShippingAddress {
            name: req("name")?,
            line1: req("line1")?,
            line2: text("line2", false)?,
            city: req("city")?,
            state: req("state")?,
            postal_code: req("postal_code")?,
            country: req("country")?,
        };
        if !(address.country.len() == 2 && address.country.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(bad("country must be an ISO 3166 code such as US"));
        }
        if !((1..=3).contains(&address.state.len())
            && address
                .state
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        {
            return Err(bad("state must be a subdivision code such as CA"));
        }
        if address.country == "US" && !is_us_zip(&address.postal_code) {
            return Err(bad(
                "postal_code must be a US ZIP code: 12345 or 12345-6789",
            ));
        }
        Ok(address)
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name, "line1": self.line1, "line2": self.line2, "city": self.city,
            "state": self.state, "postal_code": self.postal_code, "country": self.country,
        })
    }
}

fn is_us_zip(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => digits(b),
        10 => digits(&b[..5]) && b[5] == b'-' && digits(&b[6..]),
        _ => false,
    }
}

fn parse_email(v: Option<&Value>) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_email",
            "email must be an address like name@example.com",
        )
    };
    let s = v.and_then(Value::as_str).map(str::trim).ok_or_else(bad)?;
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let ok = (3..=254).contains(&s.len())
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(s.to_string())
    } else {
        Err(bad())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutRequest {
    pub cart_id: CartId,
    pub email: String,
    pub shipping_address: ShippingAddress,
    pub region: RegionCode,
    pub date_of_birth: Option<NaiveDate>,
    pub delivery: DeliveryRequest,
    /// sha256 of the body's canonical JSON (keys sorted, no whitespace): the
    /// same request sent again, however it is formatted, has the same one.
    pub fingerprint: String,
}

impl CheckoutRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let obj = json_object(body)?;
        const FIELDS: [&str; 6] = [
            "cart_id",
            "email",
            "shipping_address",
            "region",
            "date_of_birth",
            "delivery",
        ];
        if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(ApiError::bad_request(
                "unknown_field",
                format!("unknown field {unknown}; expected {}", FIELDS.join(", ")),
            ));
        }
        let cart_id = obj
            .get("cart_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("invalid_cart_id", "cart_id is required"))
            .and_then(CartId::parse)?;
        let region = obj
            .get("region")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::bad_request("invalid_region", "region is required, e.g. US-CA")
            })
            .and_then(RegionCode::parse)?;
        let date_of_birth = match obj.get("date_of_birth") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    ApiError::bad_request(
                        "invalid_date_of_birth",
                        "date_of_birth must be YYYY-MM-DD",
                    )
                })?)
            }
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_date_of_birth",
                    "date_of_birth must be YYYY-MM-DD",
                ))
            }
        };
        let delivery = DeliveryRequest::from_json(obj.get("delivery").unwrap_or(&Value::Null))?;
        Ok(CheckoutRequest {
            cart_id,
            email: parse_email(obj.get("email"))?,
            shipping_address: ShippingAddress::parse(obj.get("shipping_address"))?,
            region,
            date_of_birth,
            delivery,
            fingerprint: fingerprint(&obj),
        })
    }
}

/// serde_json's maps are sorted by key, so serialising gives canonical JSON.
fn fingerprint(body: &Map<String, Value>) -> String {
    let canonical = serde_json::to_string(body).unwrap_or_default();
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Everything checks out: the input of `place_order`, and the response it
/// stores and returns (completed there with the order id and expiry).
pub fn prepare(
    req: &CheckoutRequest,
    key: &IdempotencyKey,
    cart: &Cart,
    region: &Region,
    now: DateTime<Utc>,
    reservation_minutes: u32,
) -> Result<Value, ApiError> {
    if cart.region != req.region.as_str() || region.code != req.region {
        return Err(ApiError::unprocessable(
            "region_mismatch",
            format!(
                "the cart was opened for {}, not {}",
                cart.region, req.region
            ),
        ));
    }
    if cart.status == CartStatus::CheckedOut {
        // A retry of the checkout that closed it gets its stored answer instead
        // (the caller looks the key up when a checkout is refused).
        return Err(ApiError::conflict(
            "cart_already_checked_out",
            "this cart has already been checked out",
        ));
    }
    if cart.lines.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_cart",
            "the cart has no lines",
        ));
    }
    let addr = &req.shipping_address;
    if addr.country != req.region.country() || addr.state != req.region.subdivision() {
        return Err(ApiError::unprocessable(
            "address_outside_region",
            format!(
                "the shipping address is in {}-{}, the order is for {}",
                addr.country, addr.state, req.region
            ),
        ));
    }
    let age = region.verify_age(req.date_of_birth, now)?;
    let delivery = region.schedule_delivery(&req.delivery, now)?;
    let totals = cart.totals(region);

    let currency = Currency::parse(&cart.currency)?;
    let money = |d: Decimal| currency.format(d);
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let lines: Vec<Value> = cart
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "line_no": i + 1,
                "sku": l.sku,
                "name": l.name,
                "quantity": l.quantity,
                "unit_price": money(l.unit_price),
                "line_total": money(l.line_total()),
            })
        })
        .collect();
    let delivery_json = json!({
        "window_start": time(delivery.window_start),
        "window_end": time(delivery.window_end),
        "rescheduled": delivery.rescheduled,
    });
    let response = json!({
        "cart_id": cart.id,
        "region": req.region.as_str(),
        "currency": cart.currency,
        "lines": lines,
        "totals": {
            "subtotal": money(totals.subtotal),
            "tax": money(totals.tax),
            "total": money(totals.total),
        },
        "delivery": delivery_json,
        "age_verification": age.as_ref().map(|a| json!({ "minimum_age": a.minimum_age })),
    });
    Ok(json!({
        "idempotency_key": key.as_str(),
        "fingerprint": req.fingerprint,
        "cart_id": cart.id,
        "store_id": cart.store_id,
        "region": req.region.as_str(),
        "currency": cart.currency,
        "email": req.email,
        "shipping_address": addr.to_json(),
        "lines": lines,
        "subtotal": money(totals.subtotal),
        "tax": money(totals.tax),
        "total": money(totals.total),
        "delivery": delivery_json,
        "age": age.map(|a| json!({ "minimum_age": a.minimum_age, "verified_at": time(a.verified_at) })),
        "reservation_minutes": reservation_minutes,
        "response": response,
    }))
}

/// The checkout write: one statement, one transaction.
pub fn place_order(input: &Value) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(input.to_string());
    s.push_sql(&format!("SELECT place_order({p}::jsonb)::text"));
    s
}

/// Reservations released per statement: bounded, so one run never holds
/// many inventory rows locked at once.
pub const RELEASE_BATCH: u64 = 1000;
pub const RELEASE_MAX_BATCHES_PER_RUN: usize = 50;

/// The cron's job: give back the stock of up to `RELEASE_BATCH` expired
/// reservations, oldest first. Returns how many it released.
pub fn release_expired() -> Statement {
    let mut s = Statement::new();
    let batch = s.bind(RELEASE_BATCH.to_string());
    s.push_sql(&format!(
        "SELECT release_expired_reservations({batch}::int)::text"
    ));
    s
}

/// A stored checkout answer, replayed byte for byte on a retry with the same key.
pub fn stored_response(key: &IdempotencyKey) -> Statement {
    let mut s = Statement::new();
    let k = s.bind(key.as_str());
    s.push_sql(&format!(
        "SELECT fingerprint, status::text, response::text FROM idempotency_keys \
          WHERE scope = 'checkout' AND key = {k}"
    ));
    s
}

/// What the client gets back.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedOrder {
    pub status: u16,
    pub replayed: bool,
    pub order_id: Option<i64>,
    pub body: String,
}

/// Reads `place_order`'s answer: the order, a replay, or a refusal.
pub fn read_outcome(answer: &str) -> Result<PlacedOrder, ApiError> {
    let v: Value = serde_json::from_str(answer).map_err(ApiError::internal)?;
    if let Some(err) = v.get("error").and_then(Value::as_object) {
        return Err(refusal(err));
    }
    let response = v
        .get("response")
        .ok_or_else(|| ApiError::internal("place_order answered without a response"))?;
    Ok(PlacedOrder {
        status: v.get("status").and_then(Value::as_u64).unwrap_or(201) as u16,
        replayed: v.get("replayed").and_then(Value::as_bool).unwrap_or(false),
        order_id: response.get("order_id").and_then(Value::as_i64),
        body: response.to_string(),
    })
}

/// The answer for a retry whose key is already stored (`stored_response`'s
/// row), or `None` when the key was never used.
pub fn replay(
    row: Option<&[Option<String>]>,
    req: &CheckoutRequest,
) -> Result<Option<PlacedOrder>, ApiError> {
    let Some(row) = row else { return Ok(None) };
    let col = |i: usize| row.get(i).and_then(|c| c.as_deref()).unwrap_or_default();
    if col(0) != req.fingerprint {
        return Err(key_reused());
    }
    let body: Value = serde_json::from_str(col(2)).map_err(ApiError::internal)?;
    Ok(Some(PlacedOrder {
        status: col(1).parse().unwrap_or(201),
        replayed: true,
        order_id: body.get("order_id").and_then(Value::as_i64),
        body: body.to_string(),
    }))
}

fn key_reused() -> ApiError {
    ApiError::unprocessable(
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request body",
    )
}

/// The codes `place_order` may refuse with, as the API's static codes.
fn refusal(err: &Map<String, Value>) -> ApiError {
    let text = |k: &str| {
        err.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let code: &'static str = match text("code").as_str() {
        "out_of_stock" => "out_of_stock",
        "price_changed" => "price_changed",
        "sku_unavailable" => "sku_unavailable",
        "cart_already_checked_out" => "cart_already_checked_out",
        "idempotency_key_reused" => return key_reused(),
        other => return ApiError::internal(format!("place_order refused with {other:?}")),
    };
    let mut e = ApiError::conflict(code, text("message"));
    for (k, v) in err {
        if !matches!(k.as_str(), "code" | "message" | "status") {
            e = e.with_detail(k, v.clone());
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{CartCommand, PricedSku, Sku};
    use crate::regions::Regions;
    use chrono::TimeZone;

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
            region.into(),
            "USD".into(),
        );
        for (sku, price, qty) in lines {
            let p = PricedSku {
                sku: Sku::parse(sku).unwrap(),
                name: sku.to_string(),
                unit_price: price.parse().unwrap(),
                currency: "USD".into(),
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
        IdempotencyKey::parse(Some("k-1")).unwrap()
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
            IdempotencyKey::parse(None).unwrap_err().code,
            "idempotency_key_required"
        );
        assert!(IdempotencyKey::parse(Some("550e8400-e29b-41d4-a716-446655440000")).is_ok());
        for bad in ["", "has space", &"k".repeat(256), "tab\t"] {
            assert_eq!(
                IdempotencyKey::parse(Some(bad)).unwrap_err().code,
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
        // 20.50 * 0.0725 = 1.48625 -> 1.49
        assert_eq!(
            p["response"]["totals"],
            json!({"subtotal": "20.50", "tax": "1.49", "total": "21.99"})
        );
        assert_eq!(p["lines"][0]["line_total"], "20.00");
        assert_eq!(p["delivery"]["window_start"], "2026-06-10T19:00:00Z");
        assert_eq!(p["age"]["minimum_age"], 21);
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

    /// The issue's "config-only region": a block appended to the config text,
    /// and a whole checkout (prepare) runs in it, with no code change.
    #[test]
    fn a_checkout_runs_in_a_region_that_only_the_config_knows() {
        use crate::regions::tests::{regions_from_toml, REGIONS_TOML};
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
        // 10.10 * 0.065 = 0.6565 -> 0.66; no age check in this region.
        assert_eq!(
            p["response"]["totals"],
            json!({"subtotal": "10.10", "tax": "0.66", "total": "10.76"})
        );
        assert_eq!(p["age"], Value::Null);
        assert_eq!(p["delivery"]["rescheduled"], false);
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
        assert_eq!(p["reservation_minutes"], 30);
    }

    #[test]
    fn outcomes_map_to_api_answers() {
        let ok =
            read_outcome(r#"{"status":201,"replayed":false,"response":{"order_id":7}}"#).unwrap();
        assert_eq!((ok.status, ok.replayed, ok.order_id), (201, false, Some(7)));
        let e = read_outcome(
            r#"{"error":{"status":409,"code":"out_of_stock","message":"only 2","sku":"A-1","available":2}}"#,
        )
        .unwrap_err();
        assert_eq!((e.status, e.code), (409, "out_of_stock"));
        assert_eq!(e.details.unwrap()["available"], 2);
        let e = read_outcome(r#"{"error":{"status":422,"code":"idempotency_key_reused"}}"#)
            .unwrap_err();
        assert_eq!(e.status, 422);
    }
}
