//! `GET /catalog/products` parameters, parsed once at the edge of the system
//! into a `ProductQuery` that the SQL builder can trust.

use std::collections::BTreeMap;

use super::cursor::{Cursor, Sort};
use super::is_valid_slug;
use platform::money::Amount;
use platform::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
const MAX_QUERY_CHARS: usize = 200;
const MAX_OPTION_FILTERS: usize = 8;
const MAX_OPTION_VALUES: usize = 20;
const MAX_OPTION_VALUE_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct ProductQuery {
    pub category: Option<String>,
    pub q: Option<String>,
    pub min_price: Option<Amount>,
    pub max_price: Option<Amount>,
    pub in_stock: bool,
    /// Availability (for `in_stock` and the items' flag) counts only this
    /// store's warehouses.
    pub store: Option<i64>,
    /// Option name → accepted values. A product matches when one variant has,
    /// for every option filtered, one of the values (and the price and stock
    /// filters hold for that same variant).
    pub options: BTreeMap<String, Vec<String>>,
    pub sort: Sort,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

fn invalid(name: &str, why: &str) -> ApiError {
    ApiError::bad_request("invalid_parameter", format!("{name}: {why}"))
}

/// `store` is a store id from `GET /catalog/stores`.
pub fn parse_store_param(value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| invalid("store", "must be a store id from /catalog/stores"))
}

/// The query of `GET /catalog/products/{slug}`: an optional `store`;
/// `_`-prefixed parameters (cache-busters) are ignored.
pub fn parse_detail_params(pairs: &[(String, String)]) -> Result<Option<i64>, ApiError> {
    let mut store = None;
    for (name, value) in pairs {
        match name.as_str() {
            "store" if store.is_none() => store = Some(parse_store_param(value)?),
            "store" => return Err(invalid("store", "given more than once")),
            n if n.starts_with('_') => {}
            n => return Err(invalid(n, "unknown parameter")),
        }
    }
    Ok(store)
}

impl ProductQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut seen: Vec<&str> = Vec::new();
        let mut q = ProductQuery {
            category: None,
            q: None,
            min_price: None,
            max_price: None,
            in_stock: false,
            store: None,
            options: BTreeMap::new(),
            sort: Sort::Newest,
            limit: DEFAULT_LIMIT,
            cursor: None,
        };
        let mut sort = None;
        for (name, value) in pairs {
            let name = name.as_str();
            // Leading underscore: ignored, so clients (and benchmarks) can bust caches.
            if name.starts_with('_') {
                continue;
            }
            let is_option = !matches!(
                name,
                "category"
                    | "q"
                    | "min_price"
                    | "max_price"
                    | "in_stock"
                    | "store"
                    | "sort"
                    | "limit"
                    | "cursor"
            );
            if !is_option {
                if seen.contains(&name) {
                    return Err(invalid(name, "given more than once"));
                }
                seen.push(name);
            }
            match name {
                "category" => {
                    if !is_valid_slug(value) {
                        return Err(invalid(name, "must be a category slug"));
                    }
                    q.category = Some(value.clone());
                }
                "q" => {
                    let text = value.trim();
                    if text.is_empty() || text.chars().count() > MAX_QUERY_CHARS {
                        return Err(invalid(name, "must be 1 to 200 characters"));
                    }
                    // PostgreSQL text cannot hold NUL (a 22021 from the
                    // database otherwise), and no search needs controls.
                    if text.chars().any(char::is_control) {
                        return Err(invalid(name, "must not contain control characters"));
                    }
                    q.q = Some(text.to_string());
                }
                "min_price" => {
                    q.min_price = Some(Amount::parse(value).map_err(|e| invalid(name, &e.message))?)
                }
                "max_price" => {
                    q.max_price = Some(Amount::parse(value).map_err(|e| invalid(name, &e.message))?)
                }
                "in_stock" => {
                    q.in_stock = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(invalid(name, "must be true or false")),
                    }
                }
                "store" => q.store = Some(parse_store_param(value)?),
                "sort" => sort = Some(Sort::parse(value)?),
                "limit" => {
                    q.limit = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| invalid(name, "must be an integer from 1 to 100"))?;
                }
                "cursor" => q.cursor = Some(Cursor::decode(value)?),
                option => q.add_option(option, value)?,
            }
        }
        if let (Some(lo), Some(hi)) = (q.min_price, q.max_price) {
            if lo > hi {
                return Err(invalid("min_price", "must not exceed max_price"));
            }
        }
        q.sort = match (sort, &q.q) {
            (Some(Sort::Relevance), None) => {
                return Err(invalid("sort", "relevance needs a search query q"))
            }
            (Some(s), _) => s,
            (None, Some(_)) => Sort::Relevance,
            (None, None) => Sort::Newest,
        };
        if let Some(c) = &q.cursor {
            if c.sort != q.sort {
                return Err(ApiError::bad_request(
                    "invalid_cursor",
                    "cursor belongs to a different sort order",
                ));
            }
        }
        Ok(q)
    }

    fn add_option(&mut self, name: &str, value: &str) -> Result<(), ApiError> {
        let name_ok = name.len() <= 32
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(invalid(
                name,
                "unknown parameter (option names are lowercase letters, digits and _)",
            ));
        }
        if !self.options.contains_key(name) && self.options.len() == MAX_OPTION_FILTERS {
            return Err(invalid(name, "too many option filters (at most 8)"));
        }
        let values = self.options.entry(name.to_string()).or_default();
        for v in value.split(',') {
            let v = v.trim();
            if v.is_empty()
                || v.chars().count() > MAX_OPTION_VALUE_CHARS
                || v.chars().any(char::is_control)
            {
                return Err(invalid(
                    name,
                    "option values are 1 to 64 characters without control characters, comma-separated",
                ));
            }
            if !values.iter().any(|have| have == v) {
                values.push(v.to_string());
            }
        }
        if values.len() > MAX_OPTION_VALUES {
            return Err(invalid(name, "at most 20 values per option"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<ProductQuery, ApiError> {
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        ProductQuery::parse(&pairs)
    }

    #[test]
    fn defaults() {
        let q = parse("").unwrap();
        assert_eq!(q.limit, 20);
        assert_eq!(q.sort, Sort::Newest);
        assert!(!q.in_stock && q.options.is_empty() && q.cursor.is_none());
    }

    /// A NUL reached PostgreSQL and came back as a 22021 (found by schemathesis).
    #[test]
    fn text_with_control_characters_is_refused_before_the_database() {
        for q in ["q=a\u{0}b", "q=tab\there", "color=red\u{0}"] {
            assert_eq!(parse(q).unwrap_err().code, "invalid_parameter", "{q:?}");
        }
        assert!(parse("q=caf\u{e9} cr\u{e8}me").is_ok());
    }

    #[test]
    fn search_defaults_to_relevance() {
        assert_eq!(parse("q=shirt").unwrap().sort, Sort::Relevance);
        assert_eq!(
            parse("q=shirt&sort=price_desc").unwrap().sort,
            Sort::PriceDesc
        );
        assert_eq!(
            parse("sort=relevance").unwrap_err().code,
            "invalid_parameter"
        );
    }

    #[test]
    fn all_filters() {
        let q = parse("category=tops&q=red&min_price=10&max_price=20.50&in_stock=true&store=2&color=red,blue&size=M&limit=100&sort=price_asc").unwrap();
        assert_eq!(q.category.as_deref(), Some("tops"));
        assert_eq!(q.min_price.unwrap().to_string(), "10");
        assert_eq!(q.max_price.unwrap().to_string(), "20.50");
        assert!(q.in_stock);
        assert_eq!(q.store, Some(2));
        assert_eq!(q.options["color"], vec!["red", "blue"]);
        assert_eq!(q.options["size"], vec!["M"]);
        assert_eq!(q.limit, 100);
    }

    #[test]
    fn repeated_option_params_accumulate() {
        let q = parse("color=red&color=blue&color=red").unwrap();
        assert_eq!(q.options["color"], vec!["red", "blue"]);
    }

    #[test]
    fn underscore_params_are_ignored() {
        assert_eq!(parse("_=123&_bust=x").unwrap(), parse("").unwrap());
    }

    #[test]
    fn bad_parameters_are_400s() {
        for (query, code) in [
            ("limit=0", "invalid_parameter"),
            ("limit=101", "invalid_parameter"),
            ("limit=-5", "invalid_parameter"),
            ("limit=ten", "invalid_parameter"),
            ("min_price=-1", "invalid_parameter"),
            ("min_price=1e9", "invalid_parameter"),
            ("min_price=30&max_price=20", "invalid_parameter"),
            ("in_stock=yes", "invalid_parameter"),
            ("store=0", "invalid_parameter"),
            ("store=abc", "invalid_parameter"),
            ("sort=cheapest", "invalid_sort"),
            ("category=Not%20A%20Slug", "invalid_parameter"),
            ("q=", "invalid_parameter"),
            ("cursor=garbage!", "invalid_cursor"),
            ("limit=5&limit=6", "invalid_parameter"),
            ("Color=red", "invalid_parameter"),
            ("color=", "invalid_parameter"),
            ("a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1", "invalid_parameter"),
        ] {
            let err = parse(query).unwrap_err();
            assert_eq!((err.status, err.code), (400, code), "{query}");
        }
        assert_eq!(
            parse(&format!("q={}", "x".repeat(201))).unwrap_err().status,
            400
        );
    }

    #[test]
    fn cursor_must_match_sort() {
        let c = Cursor {
            sort: Sort::PriceAsc,
            key: "1.00".into(),
            id: 3,
        };
        let token = c.encode();
        assert_eq!(
            parse(&format!("sort=price_asc&cursor={token}"))
                .unwrap()
                .cursor,
            Some(c)
        );
        assert_eq!(
            parse(&format!("cursor={token}")).unwrap_err().code,
            "invalid_cursor"
        );
    }
}
