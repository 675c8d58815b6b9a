//! Read/write routing: read-your-writes through the commit LSN, reads falling
//! back to the primary when the replica is down, and invalidating the edge
//! cache. These tests change shared state, so they hold a lock and restore it.

mod support;

use std::sync::Mutex;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

static SHARED_STATE: Mutex<()> = Mutex::new(());

fn set_apply_delay(delay: &str) {
    let mut replica = db(&superuser(&replica_url()));
    replica
        .batch_execute(&format!(
            "ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'"
        ))
        .unwrap();
    replica.batch_execute("SELECT pg_reload_conf()").unwrap();
}

fn price_of(product: &serde_json::Value, sku: &str) -> String {
    product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == sku)
        .map(|v| v["price"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn a_read_carrying_the_write_lsn_sees_the_write_even_when_the_replica_lags() {
    let _lock = SHARED_STATE.lock().unwrap_or_else(|e| e.into_inner());
    // A product of this test's own: its price changes below.
    let old_price = "5.00".to_string();
    let product = fresh_product(1, &old_price, &[]);
    let sku = product.skus[0].clone();
    let path = format!("/catalog/products/{}", product.slug);
    let mut primary = primary();

    // The replica applies commits 4 s late from now on.
    set_apply_delay("4s");
    let new_price: String = primary
        .query_one(
            "UPDATE variants SET price = price + 1 WHERE sku = $1 RETURNING price::text",
            &[&sku],
        )
        .unwrap()
        .get(0);
    // The test helper plays the part of a write route: the LSN after commit,
    // signed as the workers sign it.
    let lsn: String = primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .unwrap()
        .get(0);
    let lsn = signed_lsn(&lsn);

    let with_lsn = get_uncached_with(&path, &[("x-db-lsn", &lsn)]);
    let without_lsn = get_uncached(&path);
    let with_cookie = get_uncached_with(&path, &[("cookie", &format!("theme=dark; db_lsn={lsn}"))]);

    set_apply_delay("0");
    wait_replica_caught_up();
    let after_catch_up = get_uncached_with(&path, &[("x-db-lsn", &lsn)]);

    assert_eq!(with_lsn.status, 200);
    assert_eq!(
        with_lsn.header("x-db"),
        Some("primary"),
        "the lagging replica must not serve this read"
    );
    assert_eq!(price_of(&with_lsn.json(), &sku), new_price);
    assert_eq!(
        with_lsn.header("x-cache"),
        Some("BYPASS"),
        "the edge cache cannot know about the write"
    );

    assert_eq!(without_lsn.header("x-db"), Some("replica"));
    assert_eq!(
        price_of(&without_lsn.json(), &sku),
        old_price,
        "the replica really was behind"
    );

    assert_eq!(with_cookie.header("x-db"), Some("primary"));
    assert_eq!(price_of(&with_cookie.json(), &sku), new_price);

    assert_eq!(
        after_catch_up.header("x-db"),
        Some("replica"),
        "a caught-up replica serves it again"
    );
    assert_eq!(price_of(&after_catch_up.json(), &sku), new_price);
    // Statements: the freshness check plus the read.
    assert_eq!(after_catch_up.header("x-db-statements"), Some("2"));
}

/// A position we did not sign sends nothing to the primary and skips no
/// cache: before, `x-db-lsn: FFFFFFFF/FFFFFFFF` pushed any read past both.
#[test]
fn unsigned_forged_and_malformed_lsn_tokens_are_ignored() {
    // Not while another test has the replica stopped.
    let _lock = SHARED_STATE.lock().unwrap_or_else(|e| e.into_inner());
    let genuine = signed_lsn("0/1");
    let tag = genuine.split_once('.').unwrap().1;
    for token in [
        "FFFFFFFF/FFFFFFFF".to_string(),
        format!("FFFFFFFF/FFFFFFFF.{tag}"),
        "FFFFFFFF/FFFFFFFF.0123456789abcdef".to_string(),
        "yesterday".to_string(),
    ] {
        let read = get_uncached_with("/catalog/stores", &[("x-db-lsn", &token)]);
        assert_eq!(read.status, 200, "{token}: {}", read.body);
        assert_eq!(read.header("x-db"), Some("replica"), "{token}");
        let cookie = format!("db_lsn={token}");
        let read = get_uncached_with("/catalog/stores", &[("cookie", &cookie)]);
        assert_eq!(read.header("x-db"), Some("replica"), "{token} as a cookie");
        let cached = get_with("/catalog/stores", &[("x-db-lsn", &token)]);
        assert_ne!(
            cached.header("x-cache"),
            Some("BYPASS"),
            "{token} skipped the cache"
        );
    }
    // The genuine token of a position long replayed is honoured, on the replica.
    let read = get_uncached_with("/catalog/stores", &[("x-db-lsn", &genuine)]);
    assert_eq!(read.header("x-db"), Some("replica"));
    assert_eq!(
        get_with("/catalog/stores", &[("x-db-lsn", &genuine)]).header("x-cache"),
        Some("BYPASS")
    );
}

#[test]
fn reads_fall_back_to_the_primary_while_the_replica_is_down() {
    let _lock = SHARED_STATE.lock().unwrap_or_else(|e| e.into_inner());
    scripts_db(&["stop-replica"]);
    let during: Vec<Reply> = (0..3)
        .map(|_| get_uncached("/catalog/products?limit=3"))
        .collect();
    scripts_db(&["start-replica"]);

    for reply in &during {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.header("x-db"), Some("primary"));
        assert_eq!(reply.json()["items"].as_array().unwrap().len(), 3);
    }
    // Once it is back (after the isolate's back-off), the replica serves reads again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = get_uncached("/catalog/products?limit=3");
        if reply.header("x-db") == Some("replica") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never took reads back"
        );
        sleep(Duration::from_millis(500));
    }
}

#[test]
fn bumping_the_catalog_version_invalidates_the_edge_cache_within_a_second_or_so() {
    let _lock = SHARED_STATE.lock().unwrap_or_else(|e| e.into_inner());
    let path = "/catalog/products?limit=4&_invalidation_test=1";
    get(path);
    assert_eq!(get(path).header("x-cache"), Some("HIT"));

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let status = std::process::Command::new(format!("{root}/scripts/catalog-invalidate"))
        .status()
        .unwrap();
    assert!(status.success());
    let bumped = Instant::now();
    // Each isolate re-reads the version at most once a second.
    loop {
        let reply = get(path);
        if reply.header("x-cache") == Some("MISS") {
            assert_eq!(reply.header("x-db-statements"), Some("1"));
            break;
        }
        assert!(
            bumped.elapsed() < Duration::from_secs(3),
            "still served from the old cache version"
        );
        sleep(Duration::from_millis(100));
    }
    assert_eq!(
        get(path).header("x-cache"),
        Some("HIT"),
        "cached again under the new version"
    );
}

#[test]
fn facet_counts_follow_a_change_to_a_variants_options() {
    let _lock = SHARED_STATE.lock().unwrap_or_else(|e| e.into_inner());
    // A colour no product has, even one left behind by an interrupted run.
    let colour = format!("ultraviolet-{}", unique("").to_ascii_lowercase());
    let options = json!({"color": "red", "size": "M"});
    let category = Category::shared();
    let product = Product::create(category, &[variant(options.clone(), "9.00", &[])]);
    let sku = &product.skus[0];
    let mut primary = primary();
    let color_count = |path: &str| -> Option<i64> {
        get_uncached(path).json()["facets"]["color"][colour.as_str()].as_i64()
    };
    let everything = "/catalog/products?limit=1";
    let in_category = format!("/catalog/products?limit=1&category={}", category.slug);
    let filtered = "/catalog/products?limit=1&min_price=0";
    assert_eq!(color_count(everything), None);

    primary
        .execute(
            "UPDATE variants SET options = options || jsonb_build_object('color', $2::text) WHERE sku = $1",
            &[&sku, &colour],
        )
        .unwrap();
    wait_replica_caught_up();
    let after = (
        color_count(everything),
        color_count(&in_category),
        color_count(filtered),
    );

    primary
        .execute(
            "UPDATE variants SET options = $2::text::jsonb WHERE sku = $1",
            &[&sku, &options.to_string()],
        )
        .unwrap();
    wait_replica_caught_up();
    let reverted = (
        color_count(everything),
        color_count(&in_category),
        color_count(filtered),
    );

    // The per-category summary (first two) and the per-product count (third) agree.
    assert_eq!(after, (Some(1), Some(1), Some(1)));
    assert_eq!(reverted, (None, None, None));
}
