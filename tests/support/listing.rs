//! Product lists read page by page through the catalog, and the SQL answers
//! the catalog tests compare them with.

use std::collections::HashSet;

use serde_json::Value;

use super::{get_uncached, primary};

/// Every item of a product-list query, following next_cursor to the end.
pub fn all_pages(query: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let mut path = format!("/catalog/products?limit={limit}");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = get_uncached(&path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let page = reply.json();
        let got = page["items"].as_array().unwrap();
        assert!(got.len() <= limit as usize);
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(
                    got.len(),
                    limit as usize,
                    "a page before the last must be full"
                );
                cursor = Some(c.to_string());
            }
            None => return items,
        }
    }
    panic!("paging did not end");
}

pub fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

/// The ids (first column) an SQL query returns on the primary.
pub fn sql_ids(sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> HashSet<i64> {
    primary()
        .query(sql, params)
        .unwrap()
        .iter()
        .map(|r| r.get::<_, i64>(0))
        .collect()
}

/// The listed items are `expected`, each exactly once.
pub fn assert_unique_and_equal(items: &[Value], expected: &HashSet<i64>) {
    let got = ids(items);
    let unique: HashSet<i64> = got.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "duplicate items across pages");
    assert_eq!(&unique, expected, "items differ from the SQL answer");
}
