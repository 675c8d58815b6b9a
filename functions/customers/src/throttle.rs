//! Failed logins, counted per email and per client address over a sliding
//! window (`customers::throttle` holds the rule). One Durable Object per
//! key: it sees every attempt on its key, one at a time, wherever in the
//! world they come from, so the count is exact (the rate-limit binding
//! counts per location and cannot count only failures).
//!
//! A login asks both of its objects first (`check`), verifies the password
//! only when neither is over its limit, then records a failure on both
//! (`fail`) or clears the email's (`clear`) on success.

use std::cell::RefCell;

use customers::throttle::FailureLog;
use platform::{ApiError, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{durable_object, Date, DurableObject, Env, Method, Request, RequestInit, Response, State};

pub const BINDING: &str = "LOGIN_THROTTLE";
const STORAGE_KEY: &str = "failures";

/// What a login is throttled by: its email (hashed: the object's name is
/// visible to the operator) and its client address.
pub struct Keys {
    pub email: String,
    pub client: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Ask {
    op: String,
    limit: u32,
    window_ms: i64,
}

#[derive(Serialize, Deserialize)]
struct Told {
    retry_after: Option<u64>,
}

/// 429 `too_many_attempts` with Retry-After when either key is over its
/// limit now.
pub async fn check(env: &Env, keys: &Keys, window_ms: i64) -> Result<()> {
    // One after the other (a millisecond or two beside the hash): joining
    // them costs this worker, near its wasm budget, a few KB of code.
    let email = ask(env, &keys.email, "check", customers::throttle::EMAIL_LIMIT, window_ms).await?;
    let client = match &keys.client {
        Some(c) => ask(env, c, "check", customers::throttle::IP_LIMIT, window_ms).await?,
        None => None,
    };
    if let Some(secs) = email.max(client) {
        return Err(customers::too_many_attempts(secs));
    }
    Ok(())
}

/// Records a failed attempt on both keys.
pub async fn failed(env: &Env, keys: &Keys, window_ms: i64) -> Result<()> {
    ask(env, &keys.email, "fail", customers::throttle::EMAIL_LIMIT, window_ms).await?;
    if let Some(c) = &keys.client {
        ask(env, c, "fail", customers::throttle::IP_LIMIT, window_ms).await?;
    }
    Ok(())
}

/// A successful sign-in forgets the email's failures.
pub async fn succeeded(env: &Env, keys: &Keys, window_ms: i64) -> Result<()> {
    ask(env, &keys.email, "clear", customers::throttle::EMAIL_LIMIT, window_ms).await?;
    Ok(())
}

async fn ask(env: &Env, key: &str, op: &str, limit: u32, window_ms: i64) -> Result<Option<u64>> {
    let unavailable = |detail: String| {
        let mut e = ApiError::unavailable("throttle_unavailable", "sign-in is unavailable, retry shortly");
        e.internal_detail = Some(detail);
        e
    };
    let stub = env
        .durable_object(BINDING)
        .and_then(|ns| ns.id_from_name(key)?.get_stub())
        .map_err(|e| unavailable(format!("throttle stub: {e}")))?;
    let body = serde_json::to_string(&Ask {
        op: op.to_string(),
        limit,
        window_ms,
    })
    .map_err(ApiError::internal)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init("https://login-throttle/", &init)?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| unavailable(format!("throttle unreachable: {e}")))?;
    let told: Told = resp
        .json()
        .await
        .map_err(|e| unavailable(format!("throttle answer: {e}")))?;
    Ok(told.retry_after)
}

/// One key's failures.
#[durable_object]
pub struct LoginThrottle {
    state: State,
    log: RefCell<Option<FailureLog>>,
}

impl DurableObject for LoginThrottle {
    fn new(state: State, _env: Env) -> Self {
        LoginThrottle {
            state,
            log: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let ask: Ask = req.json().await?;
        let now = Date::now().as_millis() as i64;
        let mut log = match self.log.borrow().clone() {
            Some(log) => log,
            None => self
                .state
                .storage()
                .get::<FailureLog>(STORAGE_KEY)
                .await
                .ok()
                .flatten()
                .unwrap_or_default(),
        };
        let retry_after = match ask.op.as_str() {
            "check" => log.blocked(now, ask.window_ms, ask.limit),
            "fail" => {
                log.record(now, ask.window_ms);
                self.state.storage().put(STORAGE_KEY, &log).await?;
                None
            }
            "clear" => {
                log.clear();
                self.state.storage().delete(STORAGE_KEY).await?;
                None
            }
            other => return Response::error(format!("unknown op {other}"), 400),
        };
        *self.log.borrow_mut() = Some(log);
        Response::from_json(&json!({ "retry_after": retry_after }))
    }
}
