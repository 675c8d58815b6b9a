//! Who is calling: the one session check every worker uses (customers, cart,
//! checkout, orders). A session is a token we signed (`session`), sent as
//! the `session` cookie or as `Authorization: Bearer s1.…`; logging out or
//! resetting the password revokes it in the `SESSIONS` KV namespace.
//!
//! KV is eventually consistent across Cloudflare's locations: a revocation
//! holds at once where it was written and within about a minute elsewhere
//! (docs/customers.md). Tokens are short-lived (14 days) for that reason too.

use platform::serve::Call;
use platform::{secrets, ApiError, Result};
use serde_json::json;
use worker::{Date, Env};

use crate::session::{self, SessionToken};

/// The KV namespace holding revocations.
pub const SESSIONS_BINDING: &str = "SESSIONS";
/// During a rotation, `SESSION_SECRET_PREVIOUS` is accepted for checking
/// only while this var (unix seconds) is in the future: set it to the
/// rotation time plus one token lifetime (`SESSION_TTL_SECS`).
pub const SESSION_PREVIOUS_UNTIL: &str = "SESSION_PREVIOUS_UNTIL";

/// A request's verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The customer's public id (`cus_…`).
    pub customer: String,
    pub session_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// Sent as the cookie (a browser): its writes need an allowed Origin,
    /// which the edge checks.
    pub via_cookie: bool,
}

pub fn now_secs() -> i64 {
    (Date::now().as_millis() / 1000) as i64
}

pub use crate::session::unauthenticated;

/// The signing key, for issuing sessions and links.
pub fn signing_key(env: &Env) -> Result<Vec<u8>> {
    secrets::required(env, secrets::SESSION)
}

/// The keys a token may be signed with: the current one, then the previous
/// one while its grace period lasts (`session::accepted_keys`).
pub struct VerifyingKeys {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
    previous_until: Option<i64>,
}

impl VerifyingKeys {
    pub fn of(env: &Env) -> Result<Self> {
        Ok(VerifyingKeys {
            current: signing_key(env)?,
            previous: secrets::get(env, secrets::SESSION_PREVIOUS),
            previous_until: env
                .var(SESSION_PREVIOUS_UNTIL)
                .ok()
                .and_then(|v| v.to_string().trim().parse().ok()),
        })
    }

    pub fn at(&self, now: i64) -> Vec<&[u8]> {
        session::accepted_keys(&self.current, self.previous.as_deref(), self.previous_until, now)
    }
}

/// `None` when the request carries no session; 401 `unauthenticated` when
/// it carries one that is malformed, forged, expired or revoked.
pub async fn caller(call: &Call) -> Result<Option<Caller>> {
    let bearer = call.header("authorization");
    let cookie = call.header("cookie");
    let (token, via_cookie) = match (
        bearer.as_deref().and_then(session::from_authorization),
        cookie.as_deref().and_then(session::from_cookie_header),
    ) {
        (Some(t), _) => (t.to_string(), false),
        (None, Some(t)) => (t.to_string(), true),
        (None, None) => return Ok(None),
    };
    let now = now_secs();
    let keys = VerifyingKeys::of(&call.env)?;
    let token = session::verify(&token, &keys.at(now), now).map_err(|_| unauthenticated())?;
    if is_revoked(call, &token).await? {
        return Err(unauthenticated());
    }
    Ok(Some(Caller {
        customer: token.customer,
        session_id: token.session_id,
        issued_at: token.issued_at,
        expires_at: token.expires_at,
        via_cookie,
    }))
}

/// The caller, or 401.
pub async fn require_caller(call: &Call) -> Result<Caller> {
    caller(call).await?.ok_or_else(unauthenticated)
}

/// Both revocation entries, in one KV read (`get_bulk`). A KV failure is
/// ours and retryable: 503, never a session let through unchecked.
async fn is_revoked(call: &Call, token: &SessionToken) -> Result<bool> {
    let kv = call.env.kv(SESSIONS_BINDING).map_err(|e| {
        ApiError::internal(format!("the {SESSIONS_BINDING} binding is missing: {e}"))
    })?;
    let one = session::revoked_key(&token.session_id);
    let all = session::revoked_before_key(&token.customer);
    let found = kv.get_bulk(&[&one, &all]).text().await.map_err(|e| {
        call.log.warn("session_store_unavailable", json!({"detail": e.to_string()}));
        ApiError::unavailable("session_store_unavailable", "sessions cannot be checked now, retry shortly")
    })?;
    if found.get(&one).is_some_and(Option::is_some) {
        return Ok(true);
    }
    Ok(session::is_revoked_before(token, found.get(&all).cloned().flatten().as_deref()))
}

/// Logout: this session is revoked until it would have expired anyway.
pub async fn revoke(env: &Env, caller: &Caller) -> Result<()> {
    let ttl = session::kv_ttl_secs(caller.expires_at, now_secs());
    put(env, &session::revoked_key(&caller.session_id), "1", ttl).await
}

/// A password reset or an erased account: every session of the customer
/// issued until now is revoked.
pub async fn revoke_all(env: &Env, customer: &str) -> Result<()> {
    put(
        env,
        &session::revoked_before_key(customer),
        &session::revoked_before_value(now_secs()),
        session::SESSION_TTL_SECS as u64,
    )
    .await
}

async fn put(env: &Env, key: &str, value: &str, ttl_secs: u64) -> Result<()> {
    let kv = env
        .kv(SESSIONS_BINDING)
        .map_err(|e| ApiError::internal(format!("the {SESSIONS_BINDING} binding is missing: {e}")))?;
    let unavailable = |e: worker::KvError| {
        let mut err = ApiError::unavailable("session_store_unavailable", "sessions cannot be changed now, retry shortly");
        err.internal_detail = Some(e.to_string());
        err
    };
    kv.put(key, value)
        .map_err(unavailable)?
        .expiration_ttl(ttl_secs.max(session::MIN_KV_TTL_SECS))
        .execute()
        .await
        .map_err(unavailable)
}
