//! Request ids: the edge keeps a client's id when it is short and plain (so
//! logs can be joined across systems) or mints one, and passes it to every
//! function and cart object as `x-request-id`. Every answer carries it, and
//! every error body names it, so a shopper's report finds its log lines.

pub const HEADER: &str = "x-request-id";

/// Short and plain: nothing that could break a log line or a header.
pub fn is_acceptable(candidate: &str) -> bool {
    (1..=128).contains(&candidate.len())
        && candidate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The id a request arrived with when acceptable, else a new random one.
pub fn from_header_or_new(header: Option<&str>) -> String {
    match header {
        Some(id) if is_acceptable(id) => id.to_string(),
        _ => new_id(),
    }
}

/// The request's id (`from_header_or_new` on its `x-request-id`).
#[cfg(feature = "worker")]
pub fn of(req: &worker::Request) -> String {
    from_header_or_new(req.headers().get(HEADER).ok().flatten().as_deref())
}

/// 128 random bits as hex.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Unreachable on Workers (crypto.getRandomValues). Ids are for tracing,
        // not security, so a counter is an acceptable fallback. (No clock:
        // std's SystemTime panics on wasm32-unknown-unknown.)
        static FALLBACK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = FALLBACK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        bytes[..8].copy_from_slice(&n.to_le_bytes());
    }
    crate::crypto::hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptable_ids() {
        assert!(is_acceptable("abc-123_x.y:z"));
        assert!(!is_acceptable(""));
        assert!(!is_acceptable("has space"));
        assert!(!is_acceptable("a\"b"));
        assert!(!is_acceptable(&"a".repeat(129)));
    }

    #[test]
    fn kept_or_minted() {
        assert_eq!(from_header_or_new(Some("req-1")), "req-1");
        let minted = from_header_or_new(Some("bad id"));
        assert_eq!(minted.len(), 32);
        assert_ne!(minted, new_id());
    }
}
