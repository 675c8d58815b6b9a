//! Property tests of the tokens and the throttle: round trips for any
//! input, no single-byte change of a token survives, and the throttle never
//! blocks below its limit.

use proptest::prelude::*;

use crate::link_token::{self, LinkPurpose, LinkToken};
use crate::session::{self, SESSION_TTL_SECS};
use crate::throttle::FailureLog;

fn customer() -> impl Strategy<Value = String> {
    "cus_[0-9a-z]{26}"
}

fn now() -> impl Strategy<Value = i64> {
    0i64..4_000_000_000
}

/// `token` with byte `at` replaced by `with` (when that changes it).
fn mutate(token: &str, at: usize, with: u8) -> Option<String> {
    let mut bytes = token.as_bytes().to_vec();
    let at = at % bytes.len();
    if bytes[at] == with {
        return None;
    }
    bytes[at] = with;
    String::from_utf8(bytes).ok()
}

proptest! {
    #[test]
    fn session_tokens_round_trip(
        key in prop::collection::vec(any::<u8>(), 0..64),
        cus in customer(),
        now in now(),
        id in any::<[u8; 16]>(),
        age in 0i64..SESSION_TTL_SECS,
    ) {
        let (token, claims) = session::issue(&key, &cus, now, id);
        prop_assert!(session::is_session_token(&token));
        prop_assert_eq!(&claims.customer, &cus);
        prop_assert_eq!(session::verify(&token, &[&key], now + age), Ok(claims.clone()));
        prop_assert_eq!(
            session::verify(&token, &[&key], now + SESSION_TTL_SECS),
            Err(session::SessionError::Expired)
        );
        let cookie = session::set_cookie(&token, SESSION_TTL_SECS);
        let header = cookie.split(';').next().unwrap();
        prop_assert_eq!(session::from_cookie_header(header), Some(token.as_str()));
        let bearer = format!("Bearer {token}");
        prop_assert_eq!(session::from_authorization(&bearer), Some(token.as_str()));
    }

    #[test]
    fn no_single_byte_change_of_a_session_token_is_accepted(
        cus in customer(),
        now in now(),
        id in any::<[u8; 16]>(),
        at in any::<usize>(),
        with in any::<u8>(),
    ) {
        let (token, _) = session::issue(b"key", &cus, now, id);
        if let Some(changed) = mutate(&token, at, with) {
            prop_assert!(session::verify(&changed, &[b"key"], now).is_err(), "{}", changed);
        }
    }

    #[test]
    fn link_tokens_round_trip(
        key in prop::collection::vec(any::<u8>(), 0..64),
        cus in customer(),
        email in "[a-z0-9.+]{1,30}@[a-z]{1,10}\\.[a-z]{2,5}",
        phc in ".{0,100}",
        now in now(),
        reset in any::<bool>(),
    ) {
        let (link, purpose) = if reset {
            (LinkToken::reset_password(&cus, &email, &phc, now), LinkPurpose::Reset)
        } else {
            (LinkToken::verify_email(&cus, &email, now), LinkPurpose::Verify)
        };
        let token = link_token::issue(&key, &link);
        prop_assert_eq!(link_token::verify(&token, &[b"other", &key], purpose, now), Ok(link.clone()));
        prop_assert!(link.fingerprint_matches(Some(&phc)));
        let other = if reset { LinkPurpose::Verify } else { LinkPurpose::Reset };
        prop_assert!(link_token::verify(&token, &[&key], other, now).is_err());
        prop_assert!(link_token::verify(&token, &[&key], purpose, link.expires_at).is_err());
    }

    #[test]
    fn no_single_byte_change_of_a_link_token_is_accepted(
        cus in customer(),
        now in now(),
        at in any::<usize>(),
        with in any::<u8>(),
    ) {
        let link = LinkToken::reset_password(&cus, "ada@example.com", "$argon2id$x", now);
        let token = link_token::issue(b"key", &link);
        if let Some(changed) = mutate(&token, at, with) {
            prop_assert!(
                link_token::verify(&changed, &[b"key"], LinkPurpose::Reset, now).is_err(),
                "{}", changed
            );
        }
    }

    #[test]
    fn arbitrary_text_is_never_a_valid_token(s in ".{0,300}", now in now()) {
        prop_assert!(session::verify(&s, &[b"key"], now).is_err());
        prop_assert!(link_token::verify(&s, &[b"key"], LinkPurpose::Verify, now).is_err());
    }

    #[test]
    fn the_throttle_never_blocks_below_its_limit(
        gaps in prop::collection::vec(0i64..30_000, 0..120),
        window in 1i64..100_000,
        limit in 1u32..60,
    ) {
        let mut log = FailureLog::default();
        let mut t = 0i64;
        let mut recent: Vec<i64> = Vec::new();
        for gap in gaps {
            t += gap;
            recent.retain(|&at| at > t - window);
            let blocked = log.blocked(t, window, limit);
            if recent.len() < limit as usize {
                prop_assert_eq!(blocked, None);
                log.record(t, window);
                recent.push(t);
            } else {
                // Blocked: the wait is positive and, once over, lets one in.
                let wait = blocked.expect("at the limit");
                prop_assert!(wait >= 1);
                prop_assert_eq!(log.blocked(t + wait as i64 * 1000, window, limit), None);
            }
        }
    }
}
