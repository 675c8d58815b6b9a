//! The catalog routes against the real stack, over the whole catalog as it
//! is (the seed plus what other tests added). Expected answers are computed
//! independently with SQL on the primary, not hard-coded. The answers that
//! depend on a store are in catalog_stores.rs, on stores of their own.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::*;

fn color_facets(page: &Value) -> BTreeMap<String, i64> {
    page["facets"]["color"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect()
}

#[test]
fn categories_nest_with_subtree_product_counts() {
    // Uncached: other tests add products of their own.
    let reply = get_uncached("/catalog/categories");
    assert_eq!(reply.status, 200);
    let tree = reply.json();
    let mut client = primary();
    let expected: BTreeMap<String, i64> = client
        .query(
            "WITH RECURSIVE sub AS (
                 SELECT id AS root, id FROM categories
                 UNION ALL SELECT s.root, c.id FROM categories c JOIN sub s ON c.parent_id = s.id)
             SELECT c.slug, count(p.id) FROM categories c JOIN sub ON sub.root = c.id
               LEFT JOIN products p ON p.category_id = sub.id GROUP BY c.slug",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut seen = BTreeMap::new();
    let mut max_depth = 0;
    fn walk(
        nodes: &Value,
        depth: usize,
        seen: &mut BTreeMap<String, i64>,
        max_depth: &mut usize,
    ) -> i64 {
        let mut total = 0;
        for n in nodes.as_array().unwrap() {
            let count = n["product_count"].as_i64().unwrap();
            let children = &n["children"];
            let child_sum = walk(children, depth + 1, seen, max_depth);
            // A parent counts at least what its children hold (its subtree).
            assert!(
                count >= child_sum,
                "{} counts {count} < children {child_sum}",
                n["slug"]
            );
            seen.insert(n["slug"].as_str().unwrap().to_string(), count);
            *max_depth = (*max_depth).max(depth);
            total += count;
        }
        total
    }
    let root_total = walk(&tree, 1, &mut seen, &mut max_depth);
    assert_eq!(seen, expected, "per-category subtree counts");
    assert_eq!(max_depth, 3, "the seed builds a 3-level tree");
    let products: i64 = client
        .query_one("SELECT count(*) FROM products", &[])
        .unwrap()
        .get(0);
    assert_eq!(root_total, products);
}

#[test]
fn product_list_has_the_documented_shape() {
    let reply = get_uncached("/catalog/products");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("x-db-statements"),
        Some("1"),
        "one SQL statement per list"
    );
    let page = reply.json();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 20, "default limit");
    for item in items {
        assert!(item["id"].is_i64() && item["slug"].is_string() && item["name"].is_string());
        for money in ["price_min", "price_max"] {
            let s = item[money].as_str().expect("amounts are decimal strings");
            assert!(
                s.parse::<f64>().is_ok() && s.split('.').nth(1).map_or(0, str::len) == 2,
                "{s}"
            );
        }
        assert_eq!(item["currency"], "USD");
        assert!(item["in_stock"].is_boolean());
    }
    assert!(page["next_cursor"].is_string());
    let facets = page["facets"].as_object().unwrap();
    assert!(facets["color"]
        .as_object()
        .unwrap()
        .values()
        .all(|n| n.as_i64().unwrap() > 0));
    assert!(facets.contains_key("size"));
}

#[test]
fn paging_newest_visits_every_product_once_in_order() {
    let items = all_pages("", 100);
    let expected = sql_ids("SELECT id FROM products", &[]);
    assert_unique_and_equal(&items, &expected);
    let order: Vec<i64> = primary()
        .query(
            "SELECT id FROM products ORDER BY created_at DESC, id DESC",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids(&items), order);
}

#[test]
fn paging_by_price_both_ways_with_an_odd_page_size() {
    let asc = all_pages("sort=price_asc", 37);
    let expected = sql_ids("SELECT id FROM products", &[]);
    assert_unique_and_equal(&asc, &expected);
    let want_asc: Vec<i64> = primary()
        .query("SELECT id FROM products ORDER BY price_min, id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids(&asc), want_asc);

    let desc = all_pages("sort=price_desc", 100);
    let want_desc: Vec<i64> = primary()
        .query(
            "SELECT id FROM products ORDER BY price_max DESC, id DESC",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids(&desc), want_desc);
}

#[test]
fn category_filter_includes_the_whole_subtree() {
    let slug: String = primary()
        .query_one(
            "SELECT slug FROM categories WHERE parent_id IS NULL ORDER BY position, id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    let items = all_pages(&format!("category={slug}"), 100);
    let expected = sql_ids(
        "WITH RECURSIVE sub AS (SELECT id FROM categories WHERE slug = $1
                               UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
         SELECT id FROM products WHERE category_id IN (SELECT id FROM sub)",
        &[&slug],
    );
    assert!(!expected.is_empty());
    assert_unique_and_equal(&items, &expected);
}

#[test]
fn search_is_full_text_and_ranked() {
    // A word that occurs in some product names, taken from the data.
    let word: String = primary()
        .query_one(
            "SELECT split_part(name, ' ', 2) FROM products ORDER BY id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    let q = word.to_lowercase();
    let items = all_pages(&format!("q={q}"), 50);
    let expected = sql_ids(
        "SELECT id FROM products WHERE search @@ websearch_to_tsquery('english', $1)",
        &[&q],
    );
    assert!(!expected.is_empty());
    assert_unique_and_equal(&items, &expected);
    let ranked: Vec<i64> = primary()
        .query(
            "SELECT id FROM products, websearch_to_tsquery('english', $1) tsq
              WHERE search @@ tsq ORDER BY ts_rank(search, tsq) DESC, id DESC",
            &[&q],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids(&items), ranked, "relevance order");
}

#[test]
fn price_option_and_stock_filters_apply_to_one_variant() {
    let (color, size): (String, String) = {
        let row = primary()
            .query_one(
                "SELECT options->>'color', options->>'size' FROM variants ORDER BY id LIMIT 1",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    let items = all_pages(
        &format!("min_price=20&max_price=150.50&color={color}&size={size}"),
        100,
    );
    let expected = sql_ids(
        "SELECT DISTINCT product_id FROM variants
          WHERE price BETWEEN 20 AND 150.50 AND options->>'color' = $1 AND options->>'size' = $2",
        &[&color, &size],
    );
    assert!(!expected.is_empty());
    assert_unique_and_equal(&items, &expected);

    // Several values of one option are alternatives.
    let items = all_pages("size=XS,XL", 100);
    let expected = sql_ids(
        "SELECT DISTINCT product_id FROM variants WHERE options->>'size' IN ('XS', 'XL')",
        &[],
    );
    assert_unique_and_equal(&items, &expected);
}

#[test]
fn facets_count_products_per_option_value_within_the_filter() {
    let slug: String = primary()
        .query_one(
            "SELECT slug FROM categories WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    let page = get_uncached(&format!("/catalog/products?category={slug}&limit=1")).json();
    let expected: BTreeMap<String, i64> = primary()
        .query(
            "WITH RECURSIVE sub AS (SELECT id FROM categories WHERE slug = $1
                                   UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
             SELECT v.options->>'color', count(DISTINCT v.product_id)
               FROM variants v JOIN products p ON p.id = v.product_id
              WHERE p.category_id IN (SELECT id FROM sub) AND v.options ? 'color' GROUP BY 1",
            &[&slug],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(color_facets(&page), expected);
}

#[test]
fn facets_under_other_filters_count_only_matching_products() {
    let page = get_uncached("/catalog/products?in_stock=true&size=M&limit=1").json();
    let expected: BTreeMap<String, i64> = primary()
        .query(
            "SELECT ov, count(*) FROM products p CROSS JOIN LATERAL unnest(p.option_values) AS ov
              WHERE ov LIKE 'color=%' AND EXISTS (
                    SELECT 1 FROM variants v JOIN inventory_levels il ON il.variant_id = v.id
                     WHERE v.product_id = p.id AND v.options->>'size' = 'M' AND il.on_hand > il.reserved)
              GROUP BY ov",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get::<_, String>(0).trim_start_matches("color=").to_string(), r.get(1)))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(color_facets(&page), expected);
}

#[test]
fn unknown_products_are_404() {
    for path in [
        "/catalog/products/no-such-product-anywhere",
        "/catalog/products/NOT_A_SLUG",
        "/catalog/nowhere",
    ] {
        let reply = get_uncached(path);
        assert_eq!(reply.status, 404, "{path}");
        assert!(["product_not_found", "not_found"].contains(&reply.error_code().as_str()));
    }
}

#[test]
fn bad_parameters_are_400_with_a_json_error() {
    for (query, code) in [
        ("limit=0", "invalid_parameter"),
        ("limit=101", "invalid_parameter"),
        ("limit=-1", "invalid_parameter"),
        ("limit=99999999999999999999", "invalid_parameter"),
        ("sort=sideways", "invalid_sort"),
        ("sort=relevance", "invalid_parameter"),
        ("cursor=bm90LWEtY3Vyc29y", "invalid_cursor"),
        ("min_price=-5", "invalid_parameter"),
        ("min_price=10&max_price=5", "invalid_parameter"),
        ("max_price=1e400", "invalid_parameter"),
        ("in_stock=maybe", "invalid_parameter"),
        ("store=abc", "invalid_parameter"),
        ("store=999999", "unknown_store"),
        ("category=no-such-category", "unknown_category"),
        ("Color=red", "invalid_parameter"),
        ("limit=5&limit=6", "invalid_parameter"),
    ] {
        let reply = get_uncached(&format!("/catalog/products?{query}"));
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert_eq!(reply.error_code(), code, "{query}");
    }
    let reply = get_uncached("/catalog/products/any-product?store=0");
    assert_eq!(reply.status, 400);
    let reply = get_uncached("/catalog/products/any-product?foo=1");
    assert_eq!(reply.status, 400);
    // A cursor from one sort order cannot be used with another.
    let page = get_uncached("/catalog/products?sort=price_asc&limit=2").json();
    let cursor = page["next_cursor"].as_str().unwrap();
    let reply = get_uncached(&format!("/catalog/products?sort=newest&cursor={cursor}"));
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "invalid_cursor")
    );
}

#[test]
fn writes_to_the_catalog_are_rejected() {
    let reply = request(
        "POST",
        "/catalog/products",
        &[("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(reply.status, 405);
    assert_eq!(reply.error_code(), "method_not_allowed");
}

#[test]
fn etag_and_if_none_match_give_304_cached_or_not() {
    // A cache key of its own (the catalog ignores `_`-parameters): an entry
    // cached by an earlier run may predate products other tests added.
    let path = &format!(
        "/catalog/products?limit=5&sort=price_desc&_run={}",
        unique("r")
    );
    let first = get_uncached(path);
    let etag = first.header("etag").expect("etag").to_string();
    // Uncached (reaches the function) and cached (answered by the edge).
    let again = get_uncached_with(path, &[("if-none-match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let warm = get(path);
    assert_eq!(warm.header("etag"), Some(etag.as_str()));
    let cached = get_with(path, &[("if-none-match", &etag)]);
    assert_eq!(cached.status, 304);
    assert_eq!(cached.header("x-cache"), Some("HIT"));
    let other = get_with(path, &[("if-none-match", "\"something-else\"")]);
    assert_eq!(other.status, 200);
}
