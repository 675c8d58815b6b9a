//! Staff access, the same in every worker with admin routes: a bearer token
//! compared in constant time with the ADMIN_TOKEN secret.

use crate::crypto::constant_time_eq;
use crate::secrets;
use crate::serve::Call;
use crate::{ApiError, Result};

/// `Authorization: Bearer <token>`, when present and non-empty.
pub fn bearer(call: &Call) -> Option<String> {
    let value = call.header("authorization")?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// Staff only: `Authorization: Bearer <ADMIN_TOKEN>`. 401 without a token,
/// 403 with a wrong one, 503 when the secret is not set (or too short).
pub fn require_admin(call: &Call) -> Result<()> {
    let expected = secrets::get_credential(&call.env, secrets::ADMIN_TOKEN)
        .filter(|t| t.len() >= secrets::MIN_ADMIN_TOKEN_BYTES)
        .ok_or_else(|| {
            ApiError::unavailable("admin_not_configured", "admin access is not configured")
        })?;
    match bearer(call) {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "forbidden",
            "this token does not open the admin routes",
        )),
        None => Err(ApiError::unauthorized(
            "send Authorization: Bearer <admin token>",
        )),
    }
}
