//! Helpers for the integration tests. They run against the real local stack
//! (`scripts/dev`), whose addresses `scripts/test` passes in:
//! EDGESHOP_BASE_URL, EDGESHOP_PRIMARY_URL, EDGESHOP_REPLICA_URL.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

pub fn base_url() -> String {
    std::env::var("EDGESHOP_BASE_URL")
        .expect("EDGESHOP_BASE_URL: run the integration tests with scripts/test")
}

fn env_url(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name}: run the integration tests with scripts/test"))
}

pub fn primary_url() -> String {
    env_url("EDGESHOP_PRIMARY_URL")
}

pub fn replica_url() -> String {
    env_url("EDGESHOP_REPLICA_URL")
}

/// The same server as a superuser (for ALTER SYSTEM on the replica).
pub fn superuser(url: &str) -> String {
    let rest = url.split_once('@').expect("url with credentials").1;
    let host_port = rest.split('/').next().unwrap();
    format!("postgres://postgres@{host_port}/postgres")
}

pub fn db(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL")
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

pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let mut req = agent().request(method, &format!("{}{}", base_url(), path));
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

pub fn get(path: &str) -> Reply {
    request("GET", path, &[], None)
}

pub fn get_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", path, headers, None)
}

/// A GET that the edge cannot answer from its cache (a fresh `_` parameter,
/// which the catalog ignores), so it reaches the function and the database.
pub fn get_uncached(path: &str) -> Reply {
    get_uncached_with(path, &[])
}

pub fn get_uncached_with(path: &str, headers: &[(&str, &str)]) -> Reply {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let sep = if path.contains('?') { '&' } else { '?' };
    request("GET", &format!("{path}{sep}_={nanos}-{n}"), headers, None)
}

/// Runs `scripts/db <args>` (stop/start the replica in failure tests).
pub fn scripts_db(args: &[&str]) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let status = Command::new(format!("{root}/scripts/db"))
        .args(args)
        .status()
        .expect("run scripts/db");
    assert!(status.success(), "scripts/db {args:?} failed");
}
