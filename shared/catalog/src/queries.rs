//! One SQL statement per catalog route. PostgreSQL builds the JSON, so a
//! request costs one round trip and the worker mostly passes text through.

use super::cursor::{Cursor, Sort};
use super::params::ProductQuery;
use platform::{ApiError, FromRow, Row, Statement};

/// `GET /catalog/stores` → one row, one column: the JSON array.
pub fn stores() -> Statement {
    let mut s = Statement::new();
    s.push_sql(
        "SELECT COALESCE(json_agg(json_build_object(
                  'id', s.id, 'slug', s.slug, 'name', s.name, 'region', s.region_code) ORDER BY s.id), '[]')::text
           FROM stores s",
    );
    s
}

/// `GET /catalog/categories` → one row: a flat JSON array of
/// `{id, parent_id, slug, name, product_count}` in sibling order, with counts
/// that include every descendant. `nest_categories` turns it into the tree.
pub fn categories() -> Statement {
    let mut s = Statement::new();
    s.push_sql(
        "WITH RECURSIVE tree AS (
             SELECT id, ARRAY[id] AS path FROM categories WHERE parent_id IS NULL
             UNION ALL
             SELECT c.id, t.path || c.id FROM categories c JOIN tree t ON c.parent_id = t.id
         ),
         direct AS (
             SELECT category_id, count(*) AS n FROM products WHERE price_min IS NOT NULL GROUP BY category_id
         ),
         totals AS (
             SELECT a.id, sum(d.n) AS n
               FROM tree t JOIN direct d ON d.category_id = t.id CROSS JOIN LATERAL unnest(t.path) AS a(id)
              GROUP BY a.id
         )
         SELECT COALESCE(json_agg(json_build_object(
                  'id', c.id, 'parent_id', c.parent_id, 'slug', c.slug, 'name', c.name,
                  'product_count', COALESCE(totals.n, 0)) ORDER BY c.position, c.id), '[]')::text
           FROM categories c LEFT JOIN totals ON totals.id = c.id",
    );
    s
}

/// The stock the catalog shows (shared/catalog/sql/sellable_stock.sql): the
/// store's when one is given, else every warehouse's.
fn sellable_stock(s: &mut Statement, store: Option<i64>) -> String {
    match store {
        Some(id) => format!("store_sellable_stock({}::bigint)", s.bind(id.to_string())),
        None => "sellable_stock".to_string(),
    }
}

/// `GET /catalog/products/{slug}` → no row when the slug is unknown, else
/// (product JSON, store_exists).
pub fn product_detail(slug: &str, store: Option<i64>) -> Statement {
    let mut s = Statement::new();
    let slug = s.bind(slug);
    let stock = sellable_stock(&mut s, store);
    let store_exists = match store {
        Some(id) => {
            let p = s.bind(id.to_string());
            format!("EXISTS (SELECT 1 FROM stores WHERE id = {p}::bigint)")
        }
        None => "true".to_string(),
    };
    s.push_sql(&format!(
        "SELECT json_build_object(
                  'id', p.id, 'slug', p.slug, 'name', p.name, 'description', p.description,
                  'category', json_build_object('slug', c.slug, 'name', c.name),
                  'price_min', p.price_min::text, 'price_max', p.price_max::text, 'currency', p.currency,
                  'variants', COALESCE((
                      SELECT json_agg(json_build_object(
                               'id', v.id, 'sku', v.sku, 'options', v.options,
                               'price', v.price::text, 'currency', v.currency,
                               'available', (SELECT COALESCE(sum(st.available), 0)
                                               FROM {stock} st
                                              WHERE st.variant_id = v.id)) ORDER BY v.id)
                        FROM variants v WHERE v.product_id = p.id), '[]'))::text AS product,
                ({store_exists})::text AS store_exists
           FROM products p JOIN categories c ON c.id = p.category_id
          WHERE p.slug = {slug}"
    ));
    s
}

/// The one row `product_list` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductListRow {
    /// The page's products, a JSON array.
    pub items: String,
    /// Counts per option value, a JSON object.
    pub facets: String,
    /// `<sort key>|<id>` of the last item shown, NULL on the last page.
    pub next: Option<String>,
    pub category_exists: bool,
    pub store_exists: bool,
}

impl FromRow for ProductListRow {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(ProductListRow {
            items: row.get("items")?,
            facets: row.get("facets")?,
            next: row.get_opt("next")?,
            category_exists: row.flag("category_exists")?,
            store_exists: row.flag("store_exists")?,
        })
    }
}

impl ProductListRow {
    /// The cursor for the next page, from the row's `next` column.
    pub fn next_cursor(&self, sort: Sort) -> Result<Option<Cursor>, ApiError> {
        let Some(next) = &self.next else {
            return Ok(None);
        };
        let (key, id) = next
            .rsplit_once('|')
            .ok_or_else(|| ApiError::internal("malformed next-page key"))?;
        let id = id
            .parse()
            .map_err(|_| ApiError::internal("non-numeric product id"))?;
        Ok(Some(Cursor {
            sort,
            key: key.to_string(),
            id,
        }))
    }
}

/// The one row `product_detail` returns (none for an unknown slug).
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDetailRow {
    /// The product with its variants, a JSON object.
    pub product: String,
    pub store_exists: bool,
}

impl FromRow for ProductDetailRow {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(ProductDetailRow {
            product: row.get("product")?,
            store_exists: row.flag("store_exists")?,
        })
    }
}

/// How one sort order is expressed in SQL: the sort value (an expression on
/// products `p`), its direction, its type for the cursor cast, and how it is
/// printed into a cursor. Every order ends in the id so that it is total and a
/// page boundary is exact.
struct Ordering {
    value: &'static str,
    descending: bool,
    sql_type: &'static str,
    as_text: &'static str,
}

fn ordering(sort: Sort) -> Ordering {
    match sort {
        Sort::Newest => Ordering {
            value: "p.created_at",
            descending: true,
            sql_type: "timestamptz",
            as_text: "to_char(sort_value AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
        },
        Sort::PriceAsc => Ordering {
            value: "p.price_min",
            descending: false,
            sql_type: "numeric",
            as_text: "sort_value::text",
        },
        Sort::PriceDesc => Ordering {
            value: "p.price_max",
            descending: true,
            sql_type: "numeric",
            as_text: "sort_value::text",
        },
        Sort::Relevance => Ordering {
            value: "ts_rank(p.search, tsq)",
            descending: true,
            sql_type: "real",
            as_text: "sort_value::text",
        },
    }
}

/// `GET /catalog/products` → one row with the columns of `ProductListRow`.
///
/// The page walks `products` in sort order (an index for every order but
/// relevance) and stops after limit + 1 rows; the facets are counted
/// separately over everything that matches (see `facet_counts`).
pub fn product_list(query: &ProductQuery) -> Statement {
    let mut s = Statement::new();
    let mut with = Vec::new();
    let mut filters = vec!["p.price_min IS NOT NULL".to_string()];
    let mut from = "products p".to_string();

    let category_exists = match &query.category {
        Some(slug) => {
            let p = s.bind(slug.as_str());
            with.push(format!(
                "subtree AS (SELECT id FROM categories WHERE slug = {p}
                             UNION ALL
                             SELECT c.id FROM categories c JOIN subtree st ON c.parent_id = st.id)"
            ));
            filters.push("p.category_id IN (SELECT id FROM subtree)".into());
            format!("EXISTS (SELECT 1 FROM categories WHERE slug = {p})")
        }
        None => "true".into(),
    };

    if let Some(text) = &query.q {
        let p = s.bind(text.as_str());
        from.push_str(&format!(
            " CROSS JOIN websearch_to_tsquery('english', {p}) AS tsq"
        ));
        filters.push("p.search @@ tsq".into());
    }

    // Variant-level filters must all hold for one and the same variant.
    let mut variant_filters = Vec::new();
    if let Some(lo) = query.min_price {
        variant_filters.push(format!("v.price >= {}::numeric", s.bind(lo.to_string())));
    }
    if let Some(hi) = query.max_price {
        variant_filters.push(format!("v.price <= {}::numeric", s.bind(hi.to_string())));
    }
    for (name, values) in &query.options {
        let any_of: Vec<String> = values
            .iter()
            .map(|v| {
                format!(
                    "v.options @> {}::jsonb",
                    s.bind(serde_json::json!({ name: v }).to_string())
                )
            })
            .collect();
        variant_filters.push(format!("({})", any_of.join(" OR ")));
    }
    let stock = sellable_stock(&mut s, query.store);
    if query.in_stock {
        variant_filters.push(format!(
            "EXISTS (SELECT 1 FROM {stock} st WHERE st.variant_id = v.id AND st.available > 0)"
        ));
    }
    if !variant_filters.is_empty() {
        filters.push(format!(
            "EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND {})",
            variant_filters.join(" AND ")
        ));
    }
    let filters = filters.join(" AND ");

    let order = ordering(query.sort);
    let dir = if order.descending { "DESC" } else { "ASC" };
    let keyset = match &query.cursor {
        Some(c) => {
            let key = s.bind(c.key.as_str());
            let id = s.bind(c.id.to_string());
            let cmp = if order.descending { "<" } else { ">" };
            format!(
                " AND ({}, p.id) {cmp} ({key}::{}, {id}::bigint)",
                order.value, order.sql_type
            )
        }
        None => String::new(),
    };
    let store_exists = match query.store {
        Some(id) => format!(
            "EXISTS (SELECT 1 FROM stores WHERE id = {}::bigint)",
            s.bind(id.to_string())
        ),
        None => "true".into(),
    };
    let limit = query.limit;

    with.push(format!(
        "page AS MATERIALIZED (
             SELECT p.id, p.slug, p.name, p.price_min, p.price_max, p.currency, {value} AS sort_value
               FROM {from}
              WHERE {filters}{keyset}
              ORDER BY {value} {dir}, p.id {dir}
              LIMIT {fetch}
         )",
        value = order.value,
        fetch = limit + 1,
    ));
    let page_order = format!("sort_value {dir}, id {dir}");

    // Facet counts as (ov, n) rows. With no filter but a category they come
    // from the per-category summary the triggers keep exact; otherwise from
    // the matching products, grouped by identical option sets first (a few
    // hundred groups per thousand products) so only those arrays are unpacked.
    let only_category = query.q.is_none()
        && query.min_price.is_none()
        && query.max_price.is_none()
        && query.options.is_empty()
        && !query.in_stock;
    let facet_counts = if only_category {
        let within = if query.category.is_some() {
            "WHERE category_id IN (SELECT id FROM subtree)"
        } else {
            ""
        };
        format!(
            "SELECT option_value AS ov, sum(products) AS n FROM category_option_counts {within}
              GROUP BY option_value HAVING sum(products) > 0"
        )
    } else {
        format!(
            "SELECT ov, sum(g.n) AS n
               FROM (SELECT p.option_values, count(*) AS n FROM {from} WHERE {filters} GROUP BY p.option_values) g
              CROSS JOIN LATERAL unnest(g.option_values) AS ov
              GROUP BY ov"
        )
    };

    s.push_sql(&format!(
        "WITH RECURSIVE {with}
         SELECT
           (SELECT COALESCE(json_agg(json_build_object(
                     'id', sh.id, 'slug', sh.slug, 'name', sh.name,
                     'price_min', sh.price_min::text, 'price_max', sh.price_max::text,
                     'currency', sh.currency,
                     'in_stock', EXISTS (SELECT 1 FROM variants v JOIN {stock} st ON st.variant_id = v.id
                                          WHERE v.product_id = sh.id AND st.available > 0)
                   ) ORDER BY {page_order}), '[]')::text
              FROM (SELECT * FROM page ORDER BY {page_order} LIMIT {limit}) sh) AS items,
           (SELECT COALESCE(json_object_agg(f.key, f.counts ORDER BY f.key), '{{}}')::text
              FROM (SELECT split_part(ov, '=', 1) AS key,
                           json_object_agg(substr(ov, strpos(ov, '=') + 1), n ORDER BY ov) AS counts
                      FROM ({facet_counts}) c
                     GROUP BY 1) f) AS facets,
           (SELECT {as_text} || '|' || id
              FROM (SELECT * FROM page ORDER BY {page_order} OFFSET {last} LIMIT 1) last_shown
             WHERE (SELECT count(*) FROM page) > {limit}) AS next,
           ({category_exists})::text AS category_exists,
           ({store_exists})::text AS store_exists",
        with = with.join(",\n         "),
        as_text = order.as_text,
        last = limit - 1,
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> ProductQuery {
        let pairs: Vec<(String, String)> = q
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        ProductQuery::parse(&pairs).unwrap()
    }

    fn highest_placeholder(sql: &str) -> usize {
        sql.split('$')
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn user_input_is_bound_never_spliced() {
        let hostile = "x'); DROP TABLE products; --";
        let q = query(&format!("q={hostile}&category=tops&color={hostile}&min_price=1&max_price=2&store=7&in_stock=true"));
        let stmt = product_list(&q);
        assert!(!stmt.sql.contains("DROP TABLE"), "{}", stmt.sql);
        assert!(stmt
            .params
            .iter()
            .flatten()
            .any(|p| p.contains("DROP TABLE")));
        assert_eq!(highest_placeholder(&stmt.sql), stmt.params.len());
    }

    #[test]
    fn every_sort_binds_its_cursor() {
        for (sort, key) in [
            ("newest", "2025-01-01T00:00:00.000000Z"),
            ("price_asc", "1.00"),
            ("price_desc", "9.99"),
        ] {
            let cursor = Cursor {
                sort: Sort::parse(sort).unwrap(),
                key: key.into(),
                id: 5,
            }
            .encode();
            let stmt = product_list(&query(&format!("sort={sort}&cursor={cursor}")));
            assert!(stmt.params.contains(&Some(key.to_string())), "{sort}");
            assert_eq!(highest_placeholder(&stmt.sql), stmt.params.len());
        }
        let cursor = Cursor {
            sort: Sort::Relevance,
            key: "0.5".into(),
            id: 5,
        }
        .encode();
        let stmt = product_list(&query(&format!("q=shirt&cursor={cursor}")));
        assert!(stmt.sql.contains("ts_rank(p.search, tsq), p.id) <"));
    }

    fn list_row(next: Option<&str>) -> ProductListRow {
        ProductListRow::from_row(&Row::from_pairs(&[
            ("items", Some("[]")),
            ("facets", Some("{}")),
            ("next", next),
            ("category_exists", Some("true")),
            ("store_exists", Some("false")),
        ]))
        .unwrap()
    }

    #[test]
    fn the_list_row_is_read_by_column_name() {
        let row = list_row(None);
        assert_eq!((row.items.as_str(), row.facets.as_str()), ("[]", "{}"));
        assert!(row.category_exists && !row.store_exists);
    }

    #[test]
    fn next_cursor_comes_from_key_and_id() {
        let c = list_row(Some("12.50|42"))
            .next_cursor(Sort::PriceAsc)
            .unwrap()
            .unwrap();
        assert_eq!((c.key.as_str(), c.id), ("12.50", 42));
        assert_eq!(list_row(None).next_cursor(Sort::PriceAsc).unwrap(), None);
        assert!(list_row(Some("no-separator"))
            .next_cursor(Sort::PriceAsc)
            .is_err());
    }
}
