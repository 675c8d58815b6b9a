//! Link tokens, mailed in "verify your email" and "reset your password"
//! links: `l1.<b64url(json)>.<b64url(hmac)>` under `SESSION_SECRET` (the
//! envelope: `signed`). The JSON is `{"p","c","e","x","f"}`: purpose,
//! customer public id, email, expiry (unix seconds), fingerprint.
//!
//! Nothing is stored per link. A reset link dies once used because its
//! fingerprint is taken from the password hash it replaces; a verify link
//! may be used twice, which is harmless (verifying is idempotent).

use platform::crypto::{constant_time_eq, hex};
use platform::ApiError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::CustomerPublicId;
use crate::signed::{open, seal, Unsealed};

pub const PREFIX: &str = "l1";
/// A verify link is good for 7 days (mail can sit unread over a weekend).
pub const VERIFY_TTL_SECS: i64 = 7 * 24 * 60 * 60;
/// A reset link is good for an hour: it is as strong as the password.
pub const RESET_TTL_SECS: i64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkPurpose {
    Verify,
    Reset,
}

/// What a link says, in the field order of its JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkToken {
    #[serde(rename = "p")]
    pub purpose: LinkPurpose,
    /// The customer's public id.
    #[serde(rename = "c")]
    pub customer: String,
    /// The address the link was sent to (the one it verifies).
    #[serde(rename = "e")]
    pub email: String,
    #[serde(rename = "x")]
    pub expires_at: i64,
    /// Reset: `password_fingerprint` of the hash at issue time. Verify: ""
    /// (`verify_email`), or that fingerprint too, to bind the link to the
    /// password it was signed up with.
    #[serde(rename = "f")]
    pub fingerprint: String,
}

/// Why a link was refused; all are 400 `invalid_token` for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    Malformed,
    BadSignature,
    Expired,
    WrongPurpose,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkError::Malformed => "malformed link token",
            LinkError::BadSignature => "link token signature mismatch",
            LinkError::Expired => "link token expired",
            LinkError::WrongPurpose => "link token for another purpose",
        })
    }
}

impl std::error::Error for LinkError {}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> ApiError {
        let mut err = invalid_token();
        err.internal_detail = Some(e.to_string());
        err
    }
}

/// 400 `invalid_token`: bad, expired or already used link.
pub fn invalid_token() -> ApiError {
    ApiError::bad_request(
        "invalid_token",
        "this link is invalid, expired or already used; ask for a new one",
    )
}

impl LinkToken {
    /// A verify link for `email`, good for `VERIFY_TTL_SECS` from `now`.
    pub fn verify_email(customer: &str, email: &str, now: i64) -> LinkToken {
        LinkToken {
            purpose: LinkPurpose::Verify,
            customer: customer.to_string(),
            email: email.to_string(),
            expires_at: now.saturating_add(VERIFY_TTL_SECS),
            fingerprint: String::new(),
        }
    }

    /// A reset link bound to the current hash `phc`, good for
    /// `RESET_TTL_SECS` from `now`.
    pub fn reset_password(customer: &str, email: &str, phc: &str, now: i64) -> LinkToken {
        LinkToken {
            purpose: LinkPurpose::Reset,
            customer: customer.to_string(),
            email: email.to_string(),
            expires_at: now.saturating_add(RESET_TTL_SECS),
            fingerprint: password_fingerprint(phc),
        }
    }

    /// Whether the link still applies to the account as stored now: only
    /// while the password hash it was made from is still the account's
    /// (compared in constant time). A verify link without a fingerprint
    /// applies whatever the hash. `current_phc` is `None` for an account
    /// without a password.
    pub fn fingerprint_matches(&self, current_phc: Option<&str>) -> bool {
        if self.purpose == LinkPurpose::Verify && self.fingerprint.is_empty() {
            return true;
        }
        current_phc.is_some_and(|phc| {
            constant_time_eq(
                password_fingerprint(phc).as_bytes(),
                self.fingerprint.as_bytes(),
            )
        })
    }
}

/// The first 16 hex digits of sha256(phc): enough to tell one hash from the
/// next, and says nothing useful about the password.
pub fn password_fingerprint(phc: &str) -> String {
    let mut h = hex(&Sha256::digest(phc.as_bytes()));
    h.truncate(16);
    h
}

/// The token for `link` under `key`.
pub fn issue(key: &[u8], link: &LinkToken) -> String {
    let json = serde_json::to_vec(link).expect("a LinkToken serializes");
    seal(PREFIX, &json, key)
}

/// What `token` says, if one of `keys` signed it, it is for `purpose` and it
/// has not expired (`exp <= now` is expired). Whether it still applies to
/// the account is `fingerprint_matches`, once the account is read.
pub fn verify(
    token: &str,
    keys: &[&[u8]],
    purpose: LinkPurpose,
    now: i64,
) -> Result<LinkToken, LinkError> {
    let json = open(PREFIX, token, keys).map_err(|e| match e {
        Unsealed::Malformed => LinkError::Malformed,
        Unsealed::BadSignature => LinkError::BadSignature,
    })?;
    let link: LinkToken = serde_json::from_slice(&json).map_err(|_| LinkError::Malformed)?;
    if CustomerPublicId::parse(&link.customer).is_err() {
        return Err(LinkError::Malformed);
    }
    if link.purpose != purpose {
        return Err(LinkError::WrongPurpose);
    }
    if link.expires_at <= now {
        return Err(LinkError::Expired);
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const CUS: &str = "cus_0123456789abcdefghijklmnop";
    const NOW: i64 = 1_767_225_600;
    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

    #[test]
    fn the_payload_is_the_documented_json() {
        let t = issue(
            b"k",
            &LinkToken::reset_password(CUS, "ada@example.com", PHC, NOW),
        );
        assert!(t.starts_with("l1."));
        let json = URL_SAFE_NO_PAD
            .decode(t.split('.').nth(1).unwrap())
            .unwrap();
        let want = format!(
            r#"{{"p":"reset","c":"{CUS}","e":"ada@example.com","x":{},"f":"{}"}}"#,
            NOW + RESET_TTL_SECS,
            password_fingerprint(PHC)
        );
        assert_eq!(String::from_utf8(json).unwrap(), want);
    }

    #[test]
    fn verify_links_round_trip_and_last_a_week() {
        let link = LinkToken::verify_email(CUS, "ada@example.com", NOW);
        let t = issue(b"k", &link);
        assert_eq!(
            verify(&t, &[b"k"], LinkPurpose::Verify, NOW),
            Ok(link.clone())
        );
        assert!(link.fingerprint_matches(None));
        assert!(link.fingerprint_matches(Some(PHC)));
        let last = NOW + VERIFY_TTL_SECS - 1;
        assert!(verify(&t, &[b"k"], LinkPurpose::Verify, last).is_ok());
        assert_eq!(
            verify(&t, &[b"k"], LinkPurpose::Verify, last + 1),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn purpose_key_and_kind_must_match() {
        let t = issue(b"k", &LinkToken::verify_email(CUS, "ada@example.com", NOW));
        assert_eq!(
            verify(&t, &[b"k"], LinkPurpose::Reset, NOW),
            Err(LinkError::WrongPurpose)
        );
        assert_eq!(
            verify(&t, &[b"x"], LinkPurpose::Verify, NOW),
            Err(LinkError::BadSignature)
        );
        let (session, _) = crate::session::issue(b"k", CUS, NOW, [1; 16]);
        assert_eq!(
            verify(&session, &[b"k"], LinkPurpose::Verify, NOW),
            Err(LinkError::Malformed)
        );
        assert!(crate::session::verify(&t, &[b"k"], NOW).is_err());
    }

    #[test]
    fn signed_json_of_the_wrong_shape_is_malformed() {
        for json in [
            r#"{"p":"verify","c":"cus_x","e":"a@b.co","x":1,"f":""}"#.to_string(),
            format!(r#"{{"p":"other","c":"{CUS}","e":"a@b.co","x":1,"f":""}}"#),
            format!(r#"{{"p":"verify","c":"{CUS}","e":"a@b.co","x":1,"f":"","z":1}}"#),
            format!(r#"{{"p":"verify","c":"{CUS}","e":"a@b.co","f":""}}"#),
            "[]".to_string(),
        ] {
            let t = seal(PREFIX, json.as_bytes(), b"k");
            assert_eq!(
                verify(&t, &[b"k"], LinkPurpose::Verify, 0),
                Err(LinkError::Malformed),
                "{json}"
            );
        }
    }

    #[test]
    fn a_verify_link_may_be_bound_to_the_hash_too() {
        let mut link = LinkToken::verify_email(CUS, "ada@example.com", NOW);
        link.fingerprint = password_fingerprint(PHC);
        assert!(link.fingerprint_matches(Some(PHC)));
        assert!(!link.fingerprint_matches(Some("$argon2id$other")));
        assert!(!link.fingerprint_matches(None));
    }

    #[test]
    fn a_reset_link_dies_with_the_hash_it_was_made_from() {
        let link = LinkToken::reset_password(CUS, "ada@example.com", PHC, NOW);
        assert_eq!(link.fingerprint.len(), 16);
        assert!(link.fingerprint_matches(Some(PHC)));
        assert!(!link.fingerprint_matches(Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3RoZXI")));
        assert!(!link.fingerprint_matches(None));
        let t = issue(b"k", &link);
        let last = NOW + RESET_TTL_SECS - 1;
        assert!(verify(&t, &[b"k"], LinkPurpose::Reset, last).is_ok());
        assert_eq!(
            verify(&t, &[b"k"], LinkPurpose::Reset, last + 1),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn every_refusal_is_400_invalid_token() {
        let e = ApiError::from(LinkError::WrongPurpose);
        assert_eq!((e.status, e.code), (400, "invalid_token"));
    }
}
