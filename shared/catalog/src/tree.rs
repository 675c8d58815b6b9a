//! Turns the flat category list the database returns into the nested tree
//! `GET /catalog/categories` serves.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{json, Value};

use platform::ApiError;

#[derive(Deserialize)]
struct FlatCategory {
    id: i64,
    parent_id: Option<i64>,
    slug: String,
    name: String,
    product_count: i64,
}

/// `flat_json` is in sibling order; that order is kept. Only nodes reachable
/// from a root appear (a parent cycle cannot hang us).
pub fn nest_categories(flat_json: &str) -> Result<String, ApiError> {
    let flat: Vec<FlatCategory> = serde_json::from_str(flat_json).map_err(ApiError::internal)?;
    let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    for (i, c) in flat.iter().enumerate() {
        children.entry(c.parent_id).or_default().push(i);
    }
    fn build(
        parent: Option<i64>,
        flat: &[FlatCategory],
        children: &HashMap<Option<i64>, Vec<usize>>,
        depth: u32,
    ) -> Vec<Value> {
        if depth > 32 {
            return Vec::new();
        }
        children
            .get(&parent)
            .map(|kids| {
                kids.iter()
                    .map(|&i| {
                        let c = &flat[i];
                        json!({
                            "id": c.id,
                            "slug": c.slug,
                            "name": c.name,
                            "product_count": c.product_count,
                            "children": build(Some(c.id), flat, children, depth + 1),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    Ok(Value::Array(build(None, &flat, &children, 0)).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_in_sibling_order() {
        let flat = r#"[
            {"id":1,"parent_id":null,"slug":"a","name":"A","product_count":3},
            {"id":3,"parent_id":1,"slug":"a2","name":"A2","product_count":1},
            {"id":2,"parent_id":1,"slug":"a1","name":"A1","product_count":2},
            {"id":4,"parent_id":null,"slug":"b","name":"B","product_count":0}
        ]"#;
        let tree: Value = serde_json::from_str(&nest_categories(flat).unwrap()).unwrap();
        assert_eq!(tree.as_array().unwrap().len(), 2);
        assert_eq!(tree[0]["slug"], "a");
        assert_eq!(tree[0]["children"][0]["slug"], "a2");
        assert_eq!(tree[0]["children"][1]["slug"], "a1");
        assert_eq!(tree[0]["children"][1]["children"], json!([]));
        assert_eq!(tree[1]["product_count"], 0);
    }

    #[test]
    fn ignores_unreachable_cycles() {
        let flat = r#"[
            {"id":1,"parent_id":2,"slug":"a","name":"A","product_count":0},
            {"id":2,"parent_id":1,"slug":"b","name":"B","product_count":0}
        ]"#;
        assert_eq!(nest_categories(flat).unwrap(), "[]");
    }
}
