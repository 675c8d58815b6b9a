//! The catalog's answers: each route's one statement, read into its body.

use catalog::{self, ProductDetailRow, ProductListRow, ProductQuery};
use platform::db::Db;
use platform::http::{etag_for, if_none_match_matches};
use platform::respond::{self, set_header};
use platform::{ApiError, Result};
use worker::{Request, Response};

/// Browsers may reuse a catalog answer for a minute; the edge keys its copy by
/// catalog version, so an invalidation reaches it without waiting for this.
const CACHE_CONTROL: &str = "public, max-age=60";

pub async fn stores(db: &Db) -> Result<String> {
    one(db.read::<String>(&catalog::stores()).await?)
}

pub async fn categories(db: &Db) -> Result<String> {
    catalog::nest_categories(&one(db.read::<String>(&catalog::categories()).await?)?)
}

pub async fn product_list(db: &Db, query: &ProductQuery) -> Result<String> {
    let row: ProductListRow = one(db.read(&catalog::product_list(query)).await?)?;
    if !row.category_exists {
        return Err(ApiError::bad_request(
            "unknown_category",
            "no category has that slug",
        ));
    }
    if !row.store_exists {
        return Err(unknown_store());
    }
    let next = match row.next_cursor(query.sort)? {
        Some(c) => format!("\"{}\"", c.encode()),
        None => "null".to_string(),
    };
    Ok(format!(
        "{{\"items\":{},\"next_cursor\":{next},\"facets\":{}}}",
        row.items, row.facets
    ))
}

pub async fn product_detail(db: &Db, slug: &str, pairs: &[(String, String)]) -> Result<String> {
    let not_found = || ApiError::not_found("product_not_found", "no product has that slug");
    if !catalog::is_valid_slug(slug) {
        return Err(not_found());
    }
    let store = catalog::parse_detail_params(pairs)?;
    let rows: Vec<ProductDetailRow> = db.read(&catalog::product_detail(slug, store)).await?;
    let row = rows.into_iter().next().ok_or_else(not_found)?;
    if !row.store_exists {
        return Err(unknown_store());
    }
    Ok(row.product)
}

fn unknown_store() -> ApiError {
    ApiError::bad_request("unknown_store", "no store has that id")
}

/// The one row each catalog statement returns.
fn one<T>(rows: Vec<T>) -> Result<T> {
    rows.into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("the catalog query returned no row"))
}

/// A 200 with a strong ETag and the catalog's cache policy, or a 304 when
/// the client's `If-None-Match` already names it.
pub fn cacheable(req: &Request, body: String) -> Response {
    let etag = etag_for(body.as_bytes());
    let not_modified = req
        .headers()
        .get("if-none-match")
        .ok()
        .flatten()
        .is_some_and(|inm| if_none_match_matches(&inm, &etag));
    let mut resp = if not_modified {
        Response::builder().with_status(304).empty()
    } else {
        respond::json(200, body)
    };
    set_header(resp.headers_mut(), "etag", &etag);
    set_header(resp.headers_mut(), "cache-control", CACHE_CONTROL);
    resp
}
