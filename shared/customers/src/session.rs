//! Session tokens: `s1.<b64url(payload)>.<b64url(hmac)>`, payload the ASCII
//! `"{customer_public_id}.{session_id}.{iat}.{exp}"`, signed with
//! `SESSION_SECRET` (see `signed`). Stateless to check, so a request needs
//! no database; revocation is two KV keys (`revoked_key`,
//! `revoked_before_key`) read alongside. The cookie and header helpers are in
//! `cookie` and re-exported here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use platform::ApiError;

pub use crate::cookie::{
    clear_cookie, from_authorization, from_cookie_header, set_cookie, COOKIE_NAME,
};
pub use crate::ids::CustomerPublicId;
use crate::signed::{open, seal, Unsealed};

/// The version prefix: a token of another format or kind is not one of these.
pub const PREFIX: &str = "s1";
/// A session lasts 14 days, then the customer logs in again.
pub const SESSION_TTL_SECS: i64 = 1_209_600;
/// How far a token's `iat` may lie ahead of our clock (isolates' clocks
/// differ a little); further is a token we did not issue.
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;
/// KV entries never live shorter than this (KV's own minimum TTL).
pub const MIN_KV_TTL_SECS: u64 = 60;

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionToken {
    /// The customer's public id (`cus_...`).
    pub customer: String,
    /// 16 random bytes, b64url (22 characters): names this session in KV.
    pub session_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Why a token was refused. Every case is the same 401 for the client
/// (`unauthenticated`); the cases are for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    Malformed,
    BadSignature,
    Expired,
    FromTheFuture,
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SessionError::Malformed => "malformed session token",
            SessionError::BadSignature => "session token signature mismatch",
            SessionError::Expired => "session token expired",
            SessionError::FromTheFuture => "session token issued in the future",
        })
    }
}

impl std::error::Error for SessionError {}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> ApiError {
        let mut err = unauthenticated();
        err.internal_detail = Some(e.to_string());
        err
    }
}

/// 401 `unauthenticated`: no session, or one that is invalid, expired or
/// revoked. One answer for all, so a client learns nothing from which.
pub fn unauthenticated() -> ApiError {
    let mut e = ApiError::unauthorized("log in first: send the session cookie or a Bearer token");
    e.code = "unauthenticated";
    e
}

/// A fresh random session id (16 bytes from `getrandom`).
pub fn new_session_id() -> Result<[u8; 16], ApiError> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| ApiError::internal(format!("getrandom: {e}")))?;
    Ok(id)
}

/// A token for `customer` (a `CustomerPublicId`'s text; anything else makes a
/// token that `verify` refuses) valid from `now` for `SESSION_TTL_SECS`.
pub fn issue(key: &[u8], customer: &str, now: i64, session_id: [u8; 16]) -> (String, SessionToken) {
    let claims = SessionToken {
        customer: customer.to_string(),
        session_id: URL_SAFE_NO_PAD.encode(session_id),
        issued_at: now,
        expires_at: now.saturating_add(SESSION_TTL_SECS),
    };
    let payload = format!(
        "{}.{}.{}.{}",
        claims.customer, claims.session_id, claims.issued_at, claims.expires_at
    );
    (seal(PREFIX, payload.as_bytes(), key), claims)
}

/// The claims of `token` if one of `keys` (current secret first, then the
/// previous one while it is accepted: `accepted_keys`) signed it, it has not
/// expired (`exp <= now` is expired) and it was not issued more than
/// `MAX_CLOCK_SKEW_SECS` ahead of `now`. Revocation is the caller's check
/// (`is_revoked_before`, and the `revoked_key` lookup).
pub fn verify(token: &str, keys: &[&[u8]], now: i64) -> Result<SessionToken, SessionError> {
    let payload = open(PREFIX, token, keys).map_err(|e| match e {
        Unsealed::Malformed => SessionError::Malformed,
        Unsealed::BadSignature => SessionError::BadSignature,
    })?;
    let claims = parse_payload(&payload).ok_or(SessionError::Malformed)?;
    if claims.expires_at <= now {
        return Err(SessionError::Expired);
    }
    if claims.issued_at > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
        return Err(SessionError::FromTheFuture);
    }
    Ok(claims)
}

/// Exactly four dot-separated fields, each in the one spelling `issue`
/// writes: a customer id, a 22-character b64url session id, and two
/// integers in canonical decimal with `iat < exp`.
fn parse_payload(payload: &[u8]) -> Option<SessionToken> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.split('.');
    let (customer, session_id, iat, exp) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    CustomerPublicId::parse(customer).ok()?;
    let id_ok = session_id.len() == 22
        && URL_SAFE_NO_PAD
            .decode(session_id)
            .is_ok_and(|b| b.len() == 16);
    let (issued_at, expires_at) = (canonical_int(iat)?, canonical_int(exp)?);
    (id_ok && issued_at < expires_at).then(|| SessionToken {
        customer: customer.to_string(),
        session_id: session_id.to_string(),
        issued_at,
        expires_at,
    })
}

/// An `i64` as `to_string` writes it (no `+`, no leading zeros, no `-0`).
fn canonical_int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|n| n.to_string() == s)
}

/// Whether `s` looks like a session token (for telling a Bearer session
/// from other bearer credentials): it starts with `s1.`.
pub fn is_session_token(s: &str) -> bool {
    s.starts_with("s1.")
}

/// The keys to verify with: the current secret, then the previous one while
/// `SESSION_PREVIOUS_UNTIL` (unix seconds) is still in the future, so a
/// rotation does not log everyone out at once.
pub fn accepted_keys<'a>(
    current: &'a [u8],
    previous: Option<&'a [u8]>,
    previous_until: Option<i64>,
    now: i64,
) -> Vec<&'a [u8]> {
    let mut keys = vec![current];
    if let (Some(prev), Some(until)) = (previous, previous_until) {
        if until > now && !prev.is_empty() {
            keys.push(prev);
        }
    }
    keys
}

/// KV key marking one session revoked (logout).
pub fn revoked_key(session_id: &str) -> String {
    format!("revoked:{session_id}")
}

/// KV key holding the unix second from which on sessions of the customer
/// are good again: every one issued before it is revoked (password reset,
/// account deletion).
pub fn revoked_before_key(customer: &str) -> String {
    format!("revoked-before:{customer}")
}

/// The value stored under `revoked_before_key`.
pub fn revoked_before_value(now: i64) -> String {
    now.to_string()
}

/// Whether a `revoked-before` value (as read from KV, if any) revokes this
/// token: `iat < value`. Strictly before: a session issued in the second of
/// the reset itself (the shopper signing in again right away) must work; one
/// stolen and issued in that same second survives it (tokens carry whole
/// seconds). An unreadable value revokes (fail closed).
pub fn is_revoked_before(token: &SessionToken, stored: Option<&str>) -> bool {
    match stored {
        None => false,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map_or(true, |before| token.issued_at < before),
    }
}

/// TTL of the `revoked:` entry of a session expiring at `expires_at`: until
/// it would have expired anyway, at least `MIN_KV_TTL_SECS`.
pub fn kv_ttl_secs(expires_at: i64, now: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(now))
        .unwrap_or(0)
        .max(MIN_KV_TTL_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUS: &str = "cus_0123456789abcdefghijklmnop";
    const NOW: i64 = 1_767_225_600;

    #[test]
    fn issued_tokens_verify_and_say_who() {
        let (t, claims) = issue(b"k1", CUS, NOW, [7; 16]);
        assert!(is_session_token(&t));
        assert_eq!(claims.session_id, "BwcHBwcHBwcHBwcHBwcHBw");
        assert_eq!(claims.expires_at - claims.issued_at, SESSION_TTL_SECS);
        assert_eq!(verify(&t, &[b"k1"], NOW), Ok(claims.clone()));
        assert_eq!(verify(&t, &[b"k0", b"k1"], NOW + 100), Ok(claims));
        let payload = t.split('.').nth(1).unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(
            text,
            format!(
                "{CUS}.BwcHBwcHBwcHBwcHBwcHBw.{NOW}.{}",
                NOW + SESSION_TTL_SECS
            )
        );
    }

    #[test]
    fn wrong_key_expired_and_future_tokens_are_refused() {
        let (t, _) = issue(b"k1", CUS, NOW, [7; 16]);
        assert_eq!(verify(&t, &[b"k2"], NOW), Err(SessionError::BadSignature));
        assert_eq!(
            verify(&t, &[b"k1"], NOW + SESSION_TTL_SECS),
            Err(SessionError::Expired)
        );
        assert!(verify(&t, &[b"k1"], NOW + SESSION_TTL_SECS - 1).is_ok());
        assert!(verify(&t, &[b"k1"], NOW - 60).is_ok());
        assert_eq!(
            verify(&t, &[b"k1"], NOW - 61),
            Err(SessionError::FromTheFuture)
        );
        assert_eq!(
            verify("s1.x.y", &[b"k1"], NOW),
            Err(SessionError::Malformed)
        );
        assert_eq!(
            verify("l1.x.y", &[b"k1"], NOW),
            Err(SessionError::Malformed)
        );
    }

    #[test]
    fn signed_payloads_of_the_wrong_shape_are_malformed() {
        for payload in [
            format!("{CUS}.BwcHBwcHBwcHBwcHBwcHBw.{NOW}"),
            format!("{CUS}.BwcHBwcHBwcHBwcHBwcHBw.{NOW}.{}.x", NOW + 1),
            format!("cus_x.BwcHBwcHBwcHBwcHBwcHBw.{NOW}.{}", NOW + 1),
            format!("{CUS}.short.{NOW}.{}", NOW + 1),
            format!("{CUS}.BwcHBwcHBwcHBwcHBwcHBw.0{NOW}.{}", NOW + 1),
            format!("{CUS}.BwcHBwcHBwcHBwcHBwcHBw.+{NOW}.{}", NOW + 1),
            format!("{CUS}.BwcHBwcHBwcHBwcHBwcHBw.{NOW}.{NOW}"),
            format!("{CUS}.BwcHBwcHBwcHBwcHBwcHBw.{NOW}.99999999999999999999"),
        ] {
            let t = seal(PREFIX, payload.as_bytes(), b"k");
            assert_eq!(
                verify(&t, &[b"k"], NOW),
                Err(SessionError::Malformed),
                "{payload}"
            );
        }
        let t = seal(PREFIX, &[0xff, 0xfe], b"k");
        assert_eq!(verify(&t, &[b"k"], NOW), Err(SessionError::Malformed));
    }

    #[test]
    fn every_refusal_is_401_unauthenticated() {
        let e = ApiError::from(SessionError::Expired);
        assert_eq!((e.status, e.code), (401, "unauthenticated"));
        assert!(!e.to_json().contains("expired"));
    }

    #[test]
    fn the_previous_key_counts_only_until_its_deadline() {
        let (cur, prev): (&[u8], &[u8]) = (b"new", b"old");
        assert_eq!(
            accepted_keys(cur, Some(prev), Some(NOW + 1), NOW),
            vec![cur, prev]
        );
        assert_eq!(accepted_keys(cur, Some(prev), Some(NOW), NOW), vec![cur]);
        assert_eq!(accepted_keys(cur, Some(prev), None, NOW), vec![cur]);
        assert_eq!(accepted_keys(cur, None, Some(NOW + 1), NOW), vec![cur]);
        assert_eq!(accepted_keys(cur, Some(b""), Some(NOW + 1), NOW), vec![cur]);
    }

    #[test]
    fn revocation_keys_values_and_ttls() {
        let (_, claims) = issue(b"k", CUS, NOW, [7; 16]);
        assert_eq!(
            revoked_key(&claims.session_id),
            "revoked:BwcHBwcHBwcHBwcHBwcHBw"
        );
        assert_eq!(revoked_before_key(CUS), format!("revoked-before:{CUS}"));
        assert!(!is_revoked_before(&claims, None));
        // Issued before the reset's second: revoked; in it or after: not.
        assert!(is_revoked_before(&claims, Some(&revoked_before_value(NOW + 1))));
        assert!(!is_revoked_before(&claims, Some(&revoked_before_value(NOW))));
        assert!(!is_revoked_before(
            &claims,
            Some(&revoked_before_value(NOW - 1))
        ));
        assert!(is_revoked_before(&claims, Some("garbage")));
        let exp = claims.expires_at;
        assert_eq!(kv_ttl_secs(exp, NOW), SESSION_TTL_SECS as u64);
        assert_eq!(kv_ttl_secs(exp, NOW + SESSION_TTL_SECS - 5), 60);
        assert_eq!(kv_ttl_secs(exp, NOW + SESSION_TTL_SECS + 500), 60);
    }

    #[test]
    fn session_ids_are_random() {
        assert_ne!(new_session_id().unwrap(), new_session_id().unwrap());
    }
}
