//! Where a read may go. Reads prefer the replica (`DB_REPLICA`), writes always go
//! to the primary (`DB`). A client that just wrote carries the primary's WAL
//! position (the `x-db-lsn` header, or the `db_lsn` cookie we set); its reads use
//! the replica only once the replica has replayed that far, so it always reads
//! its own writes. This file holds the rules; `db.rs` applies them.

use crate::http::cookie_value;
use crate::lsn::Lsn;
use crate::ApiError;

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

/// The WAL position this request must observe, if any. A malformed header is
/// the client's bug and gets a 400; a malformed cookie is ignored so that a
/// browser can never be stuck with a bad one.
pub fn min_lsn_from(
    header: Option<&str>,
    cookie_header: Option<&str>,
) -> Result<Option<Lsn>, ApiError> {
    let from_header = match header {
        None => None,
        Some(h) => Some(h.trim().parse::<Lsn>().map_err(|_| {
            ApiError::bad_request(
                "invalid_lsn",
                format!("{LSN_HEADER} must look like 16/B374D848"),
            )
        })?),
    };
    let from_cookie = cookie_header
        .and_then(|c| cookie_value(c, LSN_COOKIE))
        .and_then(|v| v.parse::<Lsn>().ok());
    Ok(from_header.max(from_cookie))
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
pub fn lsn_cookie(lsn: Lsn) -> String {
    format!("{LSN_COOKIE}={lsn}; Max-Age={LSN_COOKIE_MAX_AGE_SECS}; Path=/; HttpOnly; SameSite=Lax; Secure")
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

    #[test]
    fn header_and_cookie_take_the_later_position() {
        assert_eq!(min_lsn_from(None, None), Ok(None));
        assert_eq!(min_lsn_from(Some("0/5"), None), Ok(Some(lsn("0/5"))));
        assert_eq!(
            min_lsn_from(None, Some("a=b; db_lsn=0/7")),
            Ok(Some(lsn("0/7")))
        );
        assert_eq!(
            min_lsn_from(Some("0/9"), Some("db_lsn=0/7")),
            Ok(Some(lsn("0/9")))
        );
        assert_eq!(
            min_lsn_from(Some("0/5"), Some("db_lsn=0/7")),
            Ok(Some(lsn("0/7")))
        );
    }

    #[test]
    fn bad_header_is_rejected_bad_cookie_ignored() {
        assert_eq!(
            min_lsn_from(Some("nope"), None).unwrap_err().code,
            "invalid_lsn"
        );
        assert_eq!(min_lsn_from(None, Some("db_lsn=nope")), Ok(None));
    }

    #[test]
    fn cookie_round_trips() {
        let c = lsn_cookie(lsn("3/AB"));
        let pair = c.split(';').next().unwrap();
        assert_eq!(min_lsn_from(None, Some(pair)), Ok(Some(lsn("3/AB"))));
    }
}
