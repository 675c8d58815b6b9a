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

pub fn post_json(path: &str, body: &Value) -> Reply {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build();
    let result = agent
        .post(&format!("{}{path}", base_url()))
        .set("content-type", "application/json")
        .send_string(&body.to_string());
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {path}: {e}"),
    };
    Reply {
        status: resp.status(),
        body: resp.into_string().unwrap_or_default(),
    }
}

pub fn add_item(cart: &str, sku: &str, quantity: u32) -> Reply {
    post_json(
        &format!("/cart/{cart}/items"),
        &serde_json::json!({"sku": sku, "quantity": quantity}),
    )
}
