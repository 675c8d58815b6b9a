//! The catalog worker: read-only product data, served from the replica.
//! Each route runs one SQL statement that builds its JSON (shared/catalog).

use catalog::ProductQuery;
use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response};

mod answers;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    let pairs = platform::http::query_pairs(&call.req.inner().url());
    let body = match (call.method(), segments(&path).as_slice()) {
        (Method::Get | Method::Head, ["catalog", "stores"]) => answers::stores(&call.db).await?,
        (Method::Get | Method::Head, ["catalog", "categories"]) => {
            answers::categories(&call.db).await?
        }
        (Method::Get | Method::Head, ["catalog", "products"]) => {
            answers::product_list(&call.db, &ProductQuery::parse(&pairs)?).await?
        }
        (Method::Get | Method::Head, ["catalog", "products", slug]) => {
            answers::product_detail(&call.db, slug, &pairs).await?
        }
        (method, ["catalog", ..]) if method != Method::Get && method != Method::Head => {
            return Err(no_route(&path, Some("GET, HEAD")))
        }
        (_, _) => return Err(no_route(&path, None)),
    };
    Ok(answers::cacheable(&call.req, body))
}
