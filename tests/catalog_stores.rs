//! The catalog's answers that depend on a store (`/catalog/stores`, the
//! `store` parameter of lists and product pages), against the real stack, on
//! stores, warehouses and stock each test creates. Expected answers are
//! computed independently with SQL on the primary.

mod support;

use std::collections::HashSet;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::json;
use support::*;

/// A test comparing an answer over the whole catalog with SQL must not see a
/// product or store appear between the two: the tests here that create
/// fixtures hold this exclusively while they do.
static CATALOG: RwLock<()> = RwLock::new(());

fn reading_the_whole_catalog() -> RwLockReadGuard<'static, ()> {
    CATALOG.read().unwrap_or_else(|e| e.into_inner())
}

fn adding_to_the_catalog() -> RwLockWriteGuard<'static, ()> {
    CATALOG.write().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn stores_list_every_store_with_its_region() {
    let _catalog = adding_to_the_catalog();
    let added = [Store::create("US-CA", 0), Store::create("US-CO", 0)];
    // Uncached: the stores were just added.
    let reply = get_uncached("/catalog/stores");
    assert_eq!(reply.status, 200);
    let stores = reply.json();
    let expected: Vec<(i64, String, String, String)> = primary()
        .query(
            "SELECT id, slug, name, region_code FROM stores ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert!(expected.len() >= 2);
    let got: Vec<(i64, String, String, String)> = stores
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["slug"].as_str().unwrap().into(),
                s["name"].as_str().unwrap().into(),
                s["region"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    for store in &added {
        let listed = (
            store.id,
            store.slug.clone(),
            store.name.clone(),
            store.region.clone(),
        );
        assert!(got.contains(&listed), "store {} is listed", store.id);
    }
    let regions: HashSet<&str> = got.iter().map(|s| s.3.as_str()).collect();
    assert!(regions.contains("US-CA") && regions.contains("US-CO"));
}

#[test]
fn in_stock_counts_only_the_chosen_stores_warehouses() {
    // Two stores, and products in stock in one, the other, both or neither.
    let (stores, only_first, only_second, both, sold_out) = {
        let _catalog = adding_to_the_catalog();
        let first = Store::create("US-CA", 2);
        let second = Store::create("US-CO", 1);
        let (a, b, c) = (
            first.warehouses[0],
            first.warehouses[1],
            second.warehouses[0],
        );
        let product = |size: &str, stock: &[(i64, i32)]| {
            Product::create(
                Category::shared(),
                &[variant(json!({"size": size}), "10.00", stock)],
            )
            .id
        };
        let only_first = product("M", &[(a, 0), (b, 3), (c, 0)]);
        let only_second = product("M", &[(a, 0), (c, 2)]);
        let both = product("M", &[(a, 1), (c, 1)]);
        let sold_out = product("XS", &[(a, 0), (b, 0), (c, 0)]);
        ([first, second], only_first, only_second, both, sold_out)
    };
    let mut per_store = Vec::new();
    for (store, stocked) in [
        (&stores[0], [only_first, both]),
        (&stores[1], [only_second, both]),
    ] {
        let items = all_pages(&format!("in_stock=true&store={}", store.id), 100);
        let expected = sql_ids(
            "SELECT DISTINCT v.product_id FROM variants v
               JOIN inventory_levels il ON il.variant_id = v.id
               JOIN warehouses w ON w.id = il.warehouse_id
              WHERE w.store_id = $1 AND il.on_hand > il.reserved",
            &[&store.id],
        );
        assert_eq!(expected, HashSet::from(stocked), "the fixture's stock");
        assert_unique_and_equal(&items, &expected);
        assert!(items.iter().all(|i| i["in_stock"] == true));
        per_store.push(expected);
    }
    assert_ne!(
        per_store[0], per_store[1],
        "stock differs between the stores"
    );

    // Without a store, any warehouse counts; the stock filter applies to the
    // same variant as the option filter.
    let _catalog = reading_the_whole_catalog();
    let xs_in_stock = all_pages("in_stock=true&size=XS", 100);
    let expected = sql_ids(
        "SELECT DISTINCT v.product_id FROM variants v JOIN inventory_levels il ON il.variant_id = v.id
          WHERE v.options->>'size' = 'XS' AND il.on_hand > il.reserved",
        &[],
    );
    assert_unique_and_equal(&xs_in_stock, &expected);
    let all_xs = sql_ids(
        "SELECT DISTINCT product_id FROM variants WHERE options->>'size' = 'XS'",
        &[],
    );
    assert!(all_xs.contains(&sold_out) && !expected.contains(&sold_out));
    assert!(
        expected.len() < all_xs.len(),
        "some XS variants are sold out everywhere"
    );
}

#[test]
fn product_detail_has_variants_with_availability() {
    // Three variants, stocked differently in the warehouses of two stores.
    let (slug, stores) = {
        let _catalog = adding_to_the_catalog();
        let first = Store::create("US-CA", 2);
        let second = Store::create("US-CO", 1);
        let (a, b, c) = (
            first.warehouses[0],
            first.warehouses[1],
            second.warehouses[0],
        );
        let product = Product::create(
            Category::shared(),
            &[
                variant(
                    json!({"color": "red", "size": "S"}),
                    "12.00",
                    &[(a, 4), (b, 0), (c, 7)],
                ),
                variant(
                    json!({"color": "red", "size": "M"}),
                    "12.50",
                    &[(a, 1), (b, 2), (c, 0)],
                ),
                variant(
                    json!({"color": "blue", "size": "M"}),
                    "13.00",
                    &[(a, 0), (b, 0), (c, 0)],
                ),
            ],
        );
        (product.slug, [first, second])
    };
    let mut client = primary();
    let reply = get_uncached(&format!("/catalog/products/{slug}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("x-db-statements"), Some("1"));
    let product = reply.json();
    assert_eq!(product["slug"], slug.as_str());
    let variants = product["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3);
    for v in variants {
        let sku = v["sku"].as_str().unwrap();
        let (available, price): (i64, String) = {
            let row = client
                .query_one(
                    "SELECT (SELECT COALESCE(sum(on_hand - reserved), 0) FROM inventory_levels WHERE variant_id = v.id)::bigint,
                            price::text FROM variants v WHERE sku = $1",
                    &[&sku],
                )
                .unwrap();
            (row.get(0), row.get(1))
        };
        assert_eq!(v["available"].as_i64().unwrap(), available, "{sku}");
        assert_eq!(v["price"].as_str().unwrap(), price);
        assert!(v["options"].is_object() && v["id"].is_i64() && v["currency"] == "USD");
    }
    // Per store, availability counts that store's warehouses only.
    for store in stores.iter().map(|s| s.id) {
        let in_store = get_uncached(&format!("/catalog/products/{slug}?store={store}")).json();
        for v in in_store["variants"].as_array().unwrap() {
            let sku = v["sku"].as_str().unwrap();
            let expected: i64 = client
                .query_one(
                    "SELECT COALESCE(sum(il.on_hand - il.reserved), 0)::bigint FROM inventory_levels il
                       JOIN warehouses w ON w.id = il.warehouse_id JOIN variants v ON v.id = il.variant_id
                      WHERE v.sku = $1 AND w.store_id = $2",
                    &[&sku, &store],
                )
                .unwrap()
                .get(0);
            assert_eq!(
                v["available"].as_i64().unwrap(),
                expected,
                "{sku} in store {store}"
            );
        }
    }
}
