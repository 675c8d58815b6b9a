//! The catalog function: read-only product data, served from the replica.
//! Routes: GET /catalog/stores, /catalog/categories, /catalog/products,
//! /catalog/products/{slug}. Each runs one SQL statement that returns JSON.

use shared::catalog::{self, ProductListRow, ProductQuery};
use shared::db::{Db, Row};
use shared::http::{etag_for, if_none_match_matches};
use shared::{respond, ApiError};
use worker::{event, Context, Env, Method, Request, Response, Result};

/// Browsers may reuse a catalog answer for a minute; the edge keys its copy by
/// catalog version, so an invalidation reaches it without waiting for this.
const CACHE_CONTROL: &str = "public, max-age=60";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let db = match Db::for_request(&env, &req) {
        Ok(db) => db,
        Err(e) => return Ok(respond::error(&e)),
    };
    let mut resp = match route(&req, &db).await {
        Ok(body) => ok(&req, body),
        Err(e) => respond::error(&e),
    };
    db.report(resp.headers_mut());
    Ok(resp)
}

async fn route(req: &Request, db: &Db<'_>) -> std::result::Result<String, ApiError> {
    if req.method() != Method::Get && req.method() != Method::Head {
        return Err(ApiError::method_not_allowed(req.method().as_ref()));
    }
    let url = req.url().map_err(ApiError::internal)?;
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    match url.path() {
        "/catalog/stores" => single_json(db.read(&catalog::stores()).await?),
        "/catalog/categories" => {
            catalog::nest_categories(&single_json(db.read(&catalog::categories()).await?)?)
        }
        "/catalog/products" => product_list(db, &pairs).await,
        path => match path.strip_prefix("/catalog/products/") {
            Some(slug) => product_detail(db, slug, &pairs).await,
            None => Err(ApiError::not_found(
                "not_found",
                format!("no route for {path}"),
            )),
        },
    }
}

async fn product_list(
    db: &Db<'_>,
    pairs: &[(String, String)],
) -> std::result::Result<String, ApiError> {
    let query = ProductQuery::parse(pairs)?;
    let rows = db.read(&catalog::product_list(&query)).await?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::internal("product list returned no row"))?;
    let col = |i: usize| row.get(i).and_then(|c| c.as_deref());
    if col(ProductListRow::CATEGORY_EXISTS) != Some("true") {
        return Err(ApiError::bad_request(
            "unknown_category",
            "no category has that slug",
        ));
    }
    if col(ProductListRow::STORE_EXISTS) != Some("true") {
        return Err(ApiError::bad_request(
            "unknown_store",
            "no store has that id",
        ));
    }
    let next = ProductListRow::next_cursor(query.sort, col(ProductListRow::NEXT))?;
    let next = match next {
        Some(c) => format!("\"{}\"", c.encode()),
        None => "null".to_string(),
    };
    Ok(format!(
        "{{\"items\":{},\"next_cursor\":{next},\"facets\":{}}}",
        col(ProductListRow::ITEMS).unwrap_or("[]"),
        col(ProductListRow::FACETS).unwrap_or("{}"),
    ))
}

async fn product_detail(
    db: &Db<'_>,
    slug: &str,
    pairs: &[(String, String)],
) -> std::result::Result<String, ApiError> {
    let not_found = || ApiError::not_found("product_not_found", "no product has that slug");
    if !catalog::is_valid_slug(slug) {
        return Err(not_found());
    }
    let mut store = None;
    for (name, value) in pairs {
        match name.as_str() {
            "store" if store.is_none() => store = Some(catalog::parse_store_param(value)?),
            "store" => {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    "store: given more than once",
                ))
            }
            n if n.starts_with('_') => {}
            n => {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("{n}: unknown parameter"),
                ))
            }
        }
    }
    let rows = db.read(&catalog::product_detail(slug, store)).await?;
    let row = rows.first().ok_or_else(not_found)?;
    if row.get(1).and_then(|c| c.as_deref()) != Some("true") {
        return Err(ApiError::bad_request(
            "unknown_store",
            "no store has that id",
        ));
    }
    row.first()
        .cloned()
        .flatten()
        .ok_or_else(|| ApiError::internal("product row without JSON"))
}

/// The first column of the first row: the statements above build their whole
/// answer in SQL.
fn single_json(rows: Vec<Row>) -> std::result::Result<String, ApiError> {
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .ok_or_else(|| ApiError::internal("query returned no JSON"))
}

fn ok(req: &Request, body: String) -> Response {
    let etag = etag_for(body.as_bytes());
    let not_modified = req
        .headers()
        .get("if-none-match")
        .ok()
        .flatten()
        .is_some_and(|inm| if_none_match_matches(&inm, &etag));
    let resp = if not_modified {
        Response::builder().with_status(304).empty()
    } else {
        respond::json(200, body)
    };
    let _ = resp.headers().set("etag", &etag);
    let _ = resp.headers().set("cache-control", CACHE_CONTROL);
    resp
}
