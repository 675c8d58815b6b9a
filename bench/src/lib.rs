//! A small blocking HTTP client for the load preparation binaries: they talk
//! to the stack through the edge, at EDGESHOP_BASE_URL (scripts/bench sets it).

use std::time::Duration;

use serde_json::Value;

/// The store the benchmarks shop in: the seed's San Francisco store, whose
/// warehouses bench/prepare.sql stocks with the bench SKUs.
pub const STORE_ID: i64 = 1;
pub const REGION: &str = "US-CA";

pub fn base_url() -> String {
    std::env::var("EDGESHOP_BASE_URL").expect("EDGESHOP_BASE_URL: the stack's edge address")
}

/// An answer of any status: the callers decide what they accept.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Each request comes from its own shopper's address (198.18.0.0/15, the
/// benchmarking range): the edge's per-client rate limits and checkout's
/// per-client caps then run, as they would for real traffic from many
/// shoppers, without one address tripping them.
pub fn shopper_ip() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        getrandom::u32().unwrap_or(0) >> 1,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    let x = NEXT.fetch_add(1, Ordering::Relaxed) & 0x1_ffff;
    format!("198.{}.{}.{}", 18 + (x >> 16), (x >> 8) & 0xff, x & 0xff)
}

pub fn post_json(path: &str, body: &Value) -> Reply {
    post_json_with(path, body, &[])
}

/// `post_json` with more headers.
pub fn post_json_with(path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent()
        .post(&format!("{}{path}", base_url()))
        .set("content-type", "application/json")
        .set("cf-connecting-ip", &shopper_ip());
    for (name, value) in headers {
        req = req.set(name, value);
    }
    reply(&format!("POST {path}"), req.send_string(&body.to_string()))
}

/// A GET through the edge with these headers.
pub fn get_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(&format!("{}{path}", base_url()));
    for (name, value) in headers {
        req = req.set(name, value);
    }
    reply(&format!("GET {path}"), req.call())
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build()
}

/// The answer whatever its status; a transport error panics (with `what`).
pub fn reply(what: &str, result: Result<ureq::Response, ureq::Error>) -> Reply {
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{what}: {e}"),
    };
    Reply {
        status: resp.status(),
        body: resp.into_string().unwrap_or_default(),
    }
}

/// A new cart in the bench store, retrying the explicit "retry shortly"
/// answer (503) a few times.
pub fn create_cart() -> String {
    for attempt in 0.. {
        let r = post_json(
            "/cart",
            &serde_json::json!({"store_id": STORE_ID, "region": REGION}),
        );
        if r.status == 201 {
            return r.json()["id"].as_str().unwrap().to_string();
        }
        assert!(
            r.status == 503 && attempt < 5,
            "create cart: {} {}",
            r.status,
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    unreachable!()
}

pub fn add_item(cart: &str, sku: &str, quantity: u32) -> Reply {
    post_json(
        &format!("/cart/{cart}/items"),
        &serde_json::json!({"sku": sku, "quantity": quantity}),
    )
}
