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
    let sep = if path.contains('?') { '&' } else { '?' };
    request(
        "GET",
        &format!("{path}{sep}_={}", unique("")),
        headers,
        None,
    )
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

pub fn post_json(path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    request("POST", path, &all, Some(body.to_string().as_bytes()))
}

/// Waits until the replica has replayed everything the primary has written,
/// so what a test just inserted is visible to reads served by the replica.
pub fn wait_replica_caught_up() {
    let target: String = db(&primary_url())
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .unwrap()
        .get(0);
    let mut replica = db(&replica_url());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        let done: bool = replica
            .query_one(
                "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                &[&target],
            )
            .unwrap()
            .get(0);
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("replica did not catch up");
}

/// A name no earlier run used: tests create their own products, so they can
/// run again and again on the same database.
pub fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{:X}{n:X}{:X}",
        nanos % 0xFFFF_FFFF_FFFF,
        std::process::id() % 0xFFFF
    )
}

/// New SKUs of one new product, each at `price` with `stock` as
/// (warehouse id, on hand). Returns the SKUs once the replica has them.
pub fn fresh_skus(count: usize, price: &str, stock: &[(i64, i32)]) -> Vec<String> {
    let mut primary = db(&primary_url());
    let base = unique("T");
    let slug = base.to_ascii_lowercase();
    let product: i64 = primary
        .query_one(
            "INSERT INTO products (slug, name, category_id) VALUES ($1, $2, 21) RETURNING id",
            &[&slug, &format!("Test item {base}")],
        )
        .unwrap()
        .get(0);
    let mut skus = Vec::new();
    for i in 0..count {
        let sku = format!("{base}-{i}");
        let variant: i64 = primary
            .query_one(
                "INSERT INTO variants (product_id, sku, options, price, currency)
                 VALUES ($1, $2, jsonb_build_object('size', $3::text), $4::text::numeric, 'USD') RETURNING id",
                &[&product, &sku, &i.to_string(), &price],
            )
            .unwrap()
            .get(0);
        for (warehouse, on_hand) in stock {
            primary
                .execute(
                    "INSERT INTO inventory_levels (variant_id, warehouse_id, on_hand) VALUES ($1, $2, $3)",
                    &[&variant, warehouse, on_hand],
                )
                .unwrap();
        }
        skus.push(sku);
    }
    wait_replica_caught_up();
    skus
}

pub fn fresh_sku(price: &str, stock: &[(i64, i32)]) -> String {
    fresh_skus(1, price, stock).remove(0)
}

/// (on_hand, reserved) of a SKU in each warehouse, by warehouse id.
pub fn stock_of(sku: &str) -> Vec<(i64, i32, i32)> {
    db(&primary_url())
        .query(
            "SELECT il.warehouse_id, il.on_hand, il.reserved FROM inventory_levels il
               JOIN variants v ON v.id = il.variant_id WHERE v.sku = $1 ORDER BY 1",
            &[&sku],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// A new cart for a store, checked to be 201.
pub fn new_cart(store_id: i64, region: &str) -> String {
    let r = post_json(
        "/cart",
        &serde_json::json!({"store_id": store_id, "region": region}),
        &[],
    );
    assert_eq!(r.status, 201, "create cart: {}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

pub fn add_item(cart: &str, sku: &str, quantity: u32) -> Reply {
    post_json(
        &format!("/cart/{cart}/items"),
        &serde_json::json!({"sku": sku, "quantity": quantity}),
        &[],
    )
}

/// A cart holding `quantity` of `sku`, ready to check out.
pub fn cart_with(store_id: i64, region: &str, sku: &str, quantity: u32) -> String {
    let cart = new_cart(store_id, region);
    let r = add_item(&cart, sku, quantity);
    assert_eq!(r.status, 200, "add {sku}: {}", r.body);
    cart
}

/// Runs `f` on `n` threads that start together; results in thread order.
pub fn concurrently<T: Send + 'static>(
    n: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = std::sync::Arc::new(f);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Keys of the local KV namespace bound as `binding` in the cart worker, as
/// `wrangler kv key list` prints them (name, expiration), read from the same
/// persisted state that `scripts/dev` serves. Err when wrangler fails (the
/// running stack may hold the local database busy for a moment).
pub fn kv_list(binding: &str, prefix: &str) -> Result<Value, String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(format!("{root}/node_modules/.bin/wrangler"))
        .current_dir(root)
        .args([
            "kv",
            "key",
            "list",
            "--binding",
            binding,
            "--local",
            "--prefix",
            prefix,
            "--persist-to",
            ".local/wrangler",
            "-c",
            "functions/cart/wrangler.toml",
        ])
        .env("WRANGLER_SEND_METRICS", "false")
        .env("XDG_CONFIG_HOME", format!("{root}/.local/xdg"))
        .env("WRANGLER_LOG_PATH", format!("{root}/.local/logs/wrangler"))
        .output()
        .map_err(|e| format!("run wrangler: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    }
    let start = text
        .find('[')
        .ok_or_else(|| format!("no JSON list in: {text}"))?;
    serde_json::from_str(&text[start..]).map_err(|e| format!("{e}: {text}"))
}
