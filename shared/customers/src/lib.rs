//! Customer accounts, pure and natively tested (`cargo test -p customers`):
//! passwords (argon2id), session tokens and their cookie, signed email
//! links, the login throttle, profile and address parsing, request bodies,
//! and the wishlist's rules. The workers
//! (`functions/customers`, the edge, checkout) do the I/O around them.
//!
//! Beside them, for the workers: `queries` (the SQL), `rows` (what it
//! answers), `history` (the order list's paging) and, behind the `worker`
//! feature, `auth` (the session check every worker shares).
//!
//! Token formats, lifetimes and KV keys: .local/spec11.md, "Tokens".
//! Modules with functions of the same name (`session::issue`,
//! `link_token::issue`, `password::verify`) are used through their module.

// `platform::ApiError` is the one error type, returned by value everywhere
// (every crate trips this lint on it); boxing it is a platform-wide change.
#![allow(clippy::result_large_err)]

pub mod address;
#[cfg(feature = "worker")]
pub mod auth;
mod cookie;
pub mod history;
mod ids;
pub mod link_request;
pub mod link_token;
pub mod password;
pub mod profile;
#[cfg(test)]
mod proptests;
pub mod queries;
pub mod request;
pub mod rows;
pub mod session;
mod signed;
pub mod throttle;
pub mod wishlist;

pub use address::{Address, Addresses, MAX_ADDRESSES};
pub use ids::CustomerPublicId;
pub use link_token::{LinkError, LinkPurpose, LinkToken, RESET_TTL_SECS, VERIFY_TTL_SECS};
pub use password::{Password, DUMMY_HASH, PARAMS_TEXT};
pub use profile::{CustomerEmail, Name};
pub use request::{
    CartToMerge, LoginRequest, PatchRequest, ResetConfirmRequest, ResetRequest, SignupRequest,
    VerifyRequest,
};
pub use session::{SessionError, SessionToken, SESSION_TTL_SECS};
pub use throttle::{FailureLog, EMAIL_LIMIT, IP_LIMIT};
pub use wishlist::MAX_WISHLIST_ITEMS;

use platform::ApiError;

/// 401 `invalid_credentials`: the one answer to a wrong password, an
/// unknown email and an unverified account alike, so a login attempt does
/// not tell which addresses have accounts.
pub fn invalid_credentials() -> ApiError {
    let mut e = ApiError::unauthorized("email or password is wrong, or the email is not verified");
    e.code = "invalid_credentials";
    e
}

/// 429 `too_many_attempts` with `Retry-After` (from `FailureLog::blocked`).
pub fn too_many_attempts(retry_after_secs: u64) -> ApiError {
    ApiError::too_many_requests(
        "too_many_attempts",
        "too many failed logins; wait and try again",
        u32::try_from(retry_after_secs).unwrap_or(u32::MAX).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_refusals() {
        let e = invalid_credentials();
        assert_eq!((e.status, e.code), (401, "invalid_credentials"));
        let e = too_many_attempts(16);
        assert_eq!(
            (e.status, e.code, e.retry_after_secs),
            (429, "too_many_attempts", Some(16))
        );
        assert_eq!(too_many_attempts(0).retry_after_secs, Some(1));
    }
}
