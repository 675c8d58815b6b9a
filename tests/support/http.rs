//! Requests to the stack through the edge (EDGESHOP_BASE_URL).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::unique;

pub fn base_url() -> String {
    std::env::var("EDGESHOP_BASE_URL")
        .expect("EDGESHOP_BASE_URL: run the integration tests with scripts/test")
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Asserts the documented error shape and returns the code.
    pub fn error_code(&self) -> String {
        let v = self.json();
        let code = v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.code in {}", self.body));
        assert!(
            v["error"]["message"].is_string(),
            "no error.message in {}",
            self.body
        );
        code.to_string()
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build()
}

/// Every request comes from its own client address (`CF-Connecting-IP`, in
/// 198.18.0.0/15, the benchmarking range) unless the test names one, so the
/// per-client rate limits and caps only meet the tests that are about them.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut req = agent().request(method, &format!("{}{}", base_url(), path));
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("cf-connecting-ip"))
    {
        req = req.set("cf-connecting-ip", &fresh_client_ip());
    }
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.all(&n).join(", ");
            (n.to_ascii_lowercase(), v)
        })
        .collect();
    let body = resp.into_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// An address in 198.18.0.0/15 (2^17 of them) that this process has not
/// used yet: consecutive from a random start, so test processes rarely meet.
pub fn fresh_client_ip() -> String {
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

pub fn get(path: &str) -> Reply {
    request("GET", path, &[], None)
}

pub fn get_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", path, headers, None)
}

/// A GET that the edge cannot answer from its cache (a fresh `_` parameter,
/// which the catalog ignores), so it reaches the function and the database.
/// Fixture data is only visible this way: the edge may hold a list cached
/// before the fixture existed.
pub fn get_uncached(path: &str) -> Reply {
    get_uncached_with(path, &[])
}

pub fn get_uncached_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    let sep = if path.contains('?') { '&' } else { '?' };
    request(
        "GET",
        &format!("{path}{sep}_={}", unique("")),
        headers,
        None,
    )
}

pub fn post_json(path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    request("POST", path, &all, Some(body.to_string().as_bytes()))
}
