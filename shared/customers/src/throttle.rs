//! The login throttle: a sliding-window log of failed logins per key (one
//! per email, one per client IP), stored as JSON. A key is blocked while it
//! has `limit` failures within the window; it frees itself as they age out,
//! so there is nothing to unlock by hand. A success clears the email's log.
//!
//! A log rather than a counter: a fixed window lets `2 × limit` guesses
//! through around its edge; a log counts exactly the last `window`.

use serde::{Deserialize, Serialize};

/// Failures per email within the window before its logins are refused
/// (the 6th attempt is answered 429).
pub const EMAIL_LIMIT: u32 = 5;
/// Failures per client IP within the window: higher, since an office or a
/// mobile carrier puts many shoppers behind one address.
pub const IP_LIMIT: u32 = 50;
/// Most entries a log keeps: twice the largest limit. Only the newest
/// `limit` entries decide anything, so dropping older ones changes no answer
/// and keeps a hammered key's value small.
pub const MAX_ENTRIES: usize = 2 * IP_LIMIT as usize;
/// The window when `LOGIN_WINDOW_SECS` is unset or unreadable (production's).
pub const DEFAULT_WINDOW_SECS: u64 = 900;

/// Times (unix milliseconds) of the recent failures, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureLog {
    pub at_ms: Vec<i64>,
}

impl FailureLog {
    /// Drops the failures that are out of the window (`at <= now - window`).
    pub fn prune(&mut self, now_ms: i64, window_ms: i64) {
        let cutoff = now_ms.saturating_sub(window_ms);
        self.at_ms.retain(|&at| at > cutoff);
    }

    /// Notes a failure at `now_ms`, dropping what is out of the window and
    /// all but the newest `MAX_ENTRIES`.
    pub fn record(&mut self, now_ms: i64, window_ms: i64) {
        self.prune(now_ms, window_ms);
        self.at_ms.push(now_ms);
        self.at_ms.sort_unstable();
        let excess = self.at_ms.len().saturating_sub(MAX_ENTRIES);
        self.at_ms.drain(..excess);
    }

    /// `Some(retry_after_secs)` (at least 1) while `limit` or more failures
    /// lie within the window ending at `now_ms`: the wait until enough of
    /// them age out that one more attempt is allowed. With exactly `limit`
    /// failures that is `oldest + window - now`. Entries older than the
    /// window are ignored (`prune` drops them from storage).
    pub fn blocked(&self, now_ms: i64, window_ms: i64, limit: u32) -> Option<u64> {
        let cutoff = now_ms.saturating_sub(window_ms);
        let mut recent: Vec<i64> = self
            .at_ms
            .iter()
            .copied()
            .filter(|&at| at > cutoff)
            .collect();
        let limit = limit.max(1) as usize;
        if recent.len() < limit {
            return None;
        }
        recent.sort_unstable();
        // The attempt is allowed again once fewer than `limit` remain: when
        // the entry `limit` places from the newest leaves the window.
        let frees_at = recent[recent.len() - limit].saturating_add(window_ms);
        let wait_ms = frees_at.saturating_sub(now_ms).max(1);
        Some((wait_ms as u64).div_ceil(1000).max(1))
    }

    /// Forgets every failure (a successful login, a password reset).
    pub fn clear(&mut self) {
        self.at_ms.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.at_ms.is_empty()
    }
}

/// `LOGIN_WINDOW_SECS` read as a window in milliseconds: a positive whole
/// number of seconds, else `DEFAULT_WINDOW_SECS`.
pub fn window_ms(var: Option<&str>) -> i64 {
    let secs = var
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| (1..=86_400).contains(&s))
        .unwrap_or(DEFAULT_WINDOW_SECS);
    secs as i64 * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 20_000;

    #[test]
    fn the_sixth_attempt_is_refused_until_the_oldest_ages_out() {
        let mut log = FailureLog::default();
        for i in 0..5 {
            assert_eq!(log.blocked(1_000 + i * 1_000, W, EMAIL_LIMIT), None);
            log.record(1_000 + i * 1_000, W);
        }
        // Oldest at 1_000: frees at 21_000.
        assert_eq!(log.blocked(5_500, W, EMAIL_LIMIT), Some(16));
        assert_eq!(log.blocked(20_999, W, EMAIL_LIMIT), Some(1));
        assert_eq!(log.blocked(21_000, W, EMAIL_LIMIT), None);
    }

    #[test]
    fn with_more_than_limit_the_wait_is_until_one_attempt_is_free() {
        let log = FailureLog {
            at_ms: vec![0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000],
        };
        // 7 in window, limit 5: allowed again once 3 have left, i.e. when the
        // one at 2_000 leaves (22_000).
        assert_eq!(log.blocked(6_000, W, 5), Some(16));
        assert_eq!(log.blocked(22_000, W, 5), None);
    }

    #[test]
    fn stored_entries_are_pruned_and_capped() {
        let mut log = FailureLog::default();
        log.record(0, W);
        log.record(W + 1, W);
        assert_eq!(log.at_ms, vec![W + 1]);
        for i in 0..(3 * MAX_ENTRIES as i64) {
            log.record(W + 2 + i, W);
        }
        assert_eq!(log.at_ms.len(), MAX_ENTRIES);
        assert!(log.blocked(W + 200, W, IP_LIMIT).is_some());
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.blocked(W + 200, W, IP_LIMIT), None);
    }

    #[test]
    fn the_log_is_stored_as_json() {
        let log = FailureLog { at_ms: vec![1, 2] };
        let json = serde_json::to_string(&log).unwrap();
        assert_eq!(json, r#"{"at_ms":[1,2]}"#);
        assert_eq!(serde_json::from_str::<FailureLog>(&json).unwrap(), log);
    }

    #[test]
    fn window_and_ttl() {
        assert_eq!(window_ms(Some("20")), 20_000);
        assert_eq!(window_ms(Some(" 900 ")), 900_000);
        for bad in [
            None,
            Some(""),
            Some("0"),
            Some("-5"),
            Some("x"),
            Some("100000"),
        ] {
            assert_eq!(window_ms(bad), 900_000, "{bad:?}");
        }
    }
}
