//! Where a read may go. Reads prefer the replica (`DB_REPLICA`), writes always go
//! to the primary (`DB`). A client that just wrote carries the primary's WAL
//! position (the `x-db-lsn` header, or the `db_lsn` cookie we set); its reads use
//! the replica only once the replica has replayed that far, so it always reads
//! its own writes. The position travels as a token we signed (`lsn_token`). This file
//! holds the rules; `client.rs` applies them.

use crate::crypto;
use crate::http::cookie_value;
use crate::lsn::Lsn;

pub const LSN_HEADER: &str = "x-db-lsn";
pub const LSN_COOKIE: &str = "db_lsn";
/// Replication lag is normally milliseconds; a minute of "read my writes" after
/// a write covers a lagging replica without pinning a browser to the primary.
pub const LSN_COOKIE_MAX_AGE_SECS: u32 = 60;

/// Which database answered; sent to clients as `x-db`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    Replica,
    Primary,
}

impl Served {
    pub fn as_str(self) -> &'static str {
        match self {
            Served::Replica => "replica",
            Served::Primary => "primary",
        }
    }
}

/// Hex characters of the HMAC tag on an LSN token: 64 bits. A forged token
/// would gain nothing but reads from the primary, and it must be guessed
/// online, one request at a time.
const TAG_HEX: usize = 16;

/// The token a write hands out: `<lsn>.<tag>`, e.g. `16/B374D848.9f2c…`, the
/// tag an HMAC of the position under `LSN_TOKEN_SECRET`. Only positions we
/// signed send reads past the replica (and the edge cache), so a client cannot
/// push all its reads to the primary with `FFFFFFFF/FFFFFFFF`.
pub fn lsn_token(lsn: Lsn, key: &[u8]) -> String {
    let text = lsn.to_string();
    let tag = crypto::tag(key, &[b"lsn", text.as_bytes()], TAG_HEX);
    format!("{text}.{tag}")
}

/// The position in a token we signed; `None` for anything else.
pub fn verify_lsn_token(token: &str, key: &[u8]) -> Option<Lsn> {
    let (text, tag) = token.trim().split_once('.')?;
    let lsn: Lsn = text.parse().ok()?;
    crypto::verify_tag(key, &[b"lsn", text.as_bytes()], tag, TAG_HEX).then_some(lsn)
}

/// The WAL position this request must observe, if any: the later of the
/// header's and the cookie's tokens. Unsigned, forged or malformed tokens are
/// ignored (the read simply goes where any read goes); without a key, all are.
pub fn min_lsn_from(
    header: Option<&str>,
    cookie_header: Option<&str>,
    key: Option<&[u8]>,
) -> Option<Lsn> {
    let key = key?;
    let from_header = header.and_then(|t| verify_lsn_token(t, key));
    let from_cookie = cookie_header
        .and_then(|c| cookie_value(c, LSN_COOKIE))
        .and_then(|t| verify_lsn_token(t, key));
    from_header.max(from_cookie)
}

/// May a read that must observe `min` be served by a replica that has replayed
/// up to `replayed`? `replayed` is `None` when the "replica" is not in recovery
/// (`pg_last_wal_replay_lsn()` is NULL): then it is a primary and always fresh.
pub fn replica_is_fresh(min: Option<Lsn>, replayed: Option<Lsn>) -> bool {
    match (min, replayed) {
        (None, _) | (_, None) => true,
        (Some(min), Some(replayed)) => replayed >= min,
    }
}

/// The cookie a write response sets so the browser's next reads see the write.
pub fn lsn_cookie(token: &str) -> String {
    format!("{LSN_COOKIE}={token}; Max-Age={LSN_COOKIE_MAX_AGE_SECS}; Path=/; HttpOnly; SameSite=Lax; Secure")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsn(s: &str) -> Lsn {
        s.parse().unwrap()
    }

    #[test]
    fn no_lsn_means_any_replica_will_do() {
        assert!(replica_is_fresh(None, Some(lsn("0/1"))));
        assert!(replica_is_fresh(None, None));
    }

    #[test]
    fn replica_must_have_replayed_the_clients_write() {
        assert!(!replica_is_fresh(Some(lsn("1/10")), Some(lsn("1/F"))));
        assert!(replica_is_fresh(Some(lsn("1/10")), Some(lsn("1/10"))));
        assert!(replica_is_fresh(Some(lsn("1/10")), Some(lsn("2/0"))));
        // Not in recovery: it is a primary, hence current.
        assert!(replica_is_fresh(Some(lsn("1/10")), None));
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn token(s: &str) -> String {
        lsn_token(lsn(s), KEY)
    }

    #[test]
    fn header_and_cookie_take_the_later_position() {
        let k = Some(KEY);
        assert_eq!(min_lsn_from(None, None, k), None);
        assert_eq!(min_lsn_from(Some(&token("0/5")), None, k), Some(lsn("0/5")));
        let cookie = format!("a=b; db_lsn={}", token("0/7"));
        assert_eq!(min_lsn_from(None, Some(&cookie), k), Some(lsn("0/7")));
        assert_eq!(
            min_lsn_from(Some(&token("0/9")), Some(&cookie), k),
            Some(lsn("0/9"))
        );
        assert_eq!(
            min_lsn_from(Some(&token("0/5")), Some(&cookie), k),
            Some(lsn("0/7"))
        );
    }

    #[test]
    fn unsigned_forged_and_malformed_tokens_are_ignored() {
        let k = Some(KEY);
        assert_eq!(min_lsn_from(Some("FFFFFFFF/FFFFFFFF"), None, k), None);
        let forged = lsn_token(
            lsn("FFFFFFFF/FFFFFFFF"),
            b"another key, also 32 bytes long!",
        );
        assert_eq!(min_lsn_from(Some(&forged), None, k), None);
        // A valid tag moved onto another position.
        let tag = token("0/5").split_once('.').unwrap().1.to_string();
        assert_eq!(
            min_lsn_from(Some(&format!("FFFFFFFF/FFFFFFFF.{tag}")), None, k),
            None
        );
        assert_eq!(min_lsn_from(Some("nope"), Some("db_lsn=nope"), k), None);
        // No key configured: nothing is trusted.
        assert_eq!(min_lsn_from(Some(&token("0/5")), None, None), None);
    }

    #[test]
    fn cookie_round_trips() {
        let c = lsn_cookie(&token("3/AB"));
        let pair = c.split(';').next().unwrap();
        assert_eq!(min_lsn_from(None, Some(pair), Some(KEY)), Some(lsn("3/AB")));
    }
}
