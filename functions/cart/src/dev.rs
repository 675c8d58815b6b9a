//! Test hooks of dev builds (cargo feature `dev`, which scripts/dev builds
//! with and scripts/deploy refuses). A deployed build has none of these
//! routes, and its objects ignore `x-test-fault` (the edge strips `x-test-*`
//! headers outside dev builds anyway).
//!
//!   POST /cart/__dev/{id}/alarm    runs the object's alarm now:
//!                                  {outcome, flushed_version, forget_at, alarm_at}
//!   POST /cart/__dev/{id}/evict    the object drops its memory, as a restarted one
//!   POST /cart/__dev/{id}/command  a raw `CartCommand` (checkout's too), If-Match passed,
//!                                  the session's customer as its caller
//!
//! `x-test-fault: kv | kv-stale | storage` on any cart request (and on these
//! routes) makes that request's KV calls fail, KV reads find nothing (a
//! location KV has not reached yet), or the object's storage calls fail.

/// A failure injected into one request's I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Kv,
    KvStale,
    Storage,
}

#[cfg(feature = "dev")]
pub const FAULT_HEADER: &str = "x-test-fault";

impl Fault {
    fn parse(s: &str) -> Fault {
        match s {
            "kv" => Fault::Kv,
            "kv-stale" => Fault::KvStale,
            "storage" => Fault::Storage,
            _ => Fault::None,
        }
    }
}

/// The fault an object request asks for: always `None` outside dev builds.
pub fn fault_of(req: &worker::Request) -> Fault {
    #[cfg(feature = "dev")]
    if let Some(f) = req.headers().get(FAULT_HEADER).ok().flatten() {
        return Fault::parse(&f);
    }
    let _ = (req, Fault::parse);
    Fault::None
}

/// The headers the cart worker passes on to the object: the client's
/// `x-test-fault` in dev builds, nothing otherwise.
pub fn object_headers(call: &platform::serve::Call) -> Vec<(&'static str, String)> {
    #[cfg(feature = "dev")]
    if let Some(f) = call.header(FAULT_HEADER) {
        return vec![(FAULT_HEADER, f)];
    }
    let _ = call;
    Vec::new()
}

#[cfg(feature = "dev")]
pub use dev_only::*;

#[cfg(feature = "dev")]
mod dev_only {
    use cart::object_client;
    use cart::{CartCommand, CartId, CartRequest};
    use platform::serve::Call;
    use platform::{respond, ApiError, Log, Result};
    use worker::Response;

    use crate::object::CartObject;

    /// The cart worker's `/cart/__dev/{id}/{action}` routes.
    pub async fn route(call: &mut Call, id: CartId, action: &str) -> Result<Response> {
        let (path, command) = match action {
            "alarm" => ("/__dev/alarm", CartCommand::Get),
            "evict" => ("/__dev/evict", CartCommand::Get),
            "command" => ("/", call.json::<CartCommand>().await?),
            _ => return Err(ApiError::not_found("not_found", "no such dev route")),
        };
        let request = CartRequest {
            cart_id: id,
            command,
            if_match: call.header("if-match"),
            caller: crate::handlers::caller(call).await?,
        };
        let headers = super::object_headers(call);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        object_client::send_to(&call.env, &call.log, &request, path, &headers).await
    }

    /// The object's side of those routes; `None` for its ordinary requests.
    pub async fn object_route(object: &CartObject, path: &str, log: &Log) -> Option<Response> {
        match path {
            "/__dev/alarm" => Some(match object.run_alarm().await {
                Ok(done) => {
                    let alarm_at = object.pending_alarm().await;
                    respond::private_json(
                        200,
                        serde_json::json!({
                            "outcome": done.outcome,
                            "flushed_version": done.flushed_version,
                            "forget_at": done.forget_at,
                            "alarm_at": alarm_at,
                        })
                        .to_string(),
                    )
                }
                Err(e) => {
                    object.forget_memory();
                    respond::error(&e, log)
                }
            }),
            "/__dev/evict" => {
                object.forget_memory();
                Some(respond::private_json(200, "{\"evicted\":true}"))
            }
            _ => None,
        }
    }
}
