//! The catalog cache's rules, kept pure: what bypasses it, what a key looks
//! like, how long an answer may be kept, and the first tier in isolate memory.

/// `_=<anything>` (the usual cache-buster) asks the edge not to use or fill
/// its cache. The catalog ignores the parameter, so the answer is the same
/// as without it, only fresh. Only dev builds honour it (the caller checks
/// the `dev` feature): in production it would let anyone send every catalog
/// read to the database.
pub fn bypasses_cache(query: Option<&str>) -> bool {
    query
        .unwrap_or("")
        .split('&')
        .any(|pair| pair == "_" || pair.starts_with("_="))
}

/// Whether this build lets `_=` skip the cache: dev builds only.
pub fn honours_cache_buster(query: Option<&str>) -> bool {
    cfg!(feature = "dev") && bypasses_cache(query)
}

/// The cache key for a catalog GET: the catalog version (bumping it orphans
/// every older entry at once), the path, and the query with its parameters in
/// a canonical order so `?a=1&b=2` and `?b=2&a=1` share an entry. Parameters
/// the catalog ignores (a leading `_`) are left out: they cannot change the
/// answer, so they must not mint new entries.
pub fn cache_key(origin: &str, version: &str, path: &str, query: Option<&str>) -> String {
    let mut pairs: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with('_'))
        .collect();
    pairs.sort_unstable();
    let mut key = format!("{origin}/__edge_cache/v{version}{path}");
    if !pairs.is_empty() {
        key.push('?');
        key.push_str(&pairs.join("&"));
    }
    key
}

/// Test hooks (`x-test-now`, ...) that only dev builds pass on.
#[cfg_attr(feature = "dev", allow(dead_code))]
pub fn is_test_header(name: &str) -> bool {
    name.len() >= 7 && name[..7].eq_ignore_ascii_case("x-test-")
}

/// `max-age` (or `s-maxage`, which wins for a shared cache) in seconds;
/// `None` when the response may not be stored by a shared cache at all.
pub fn shared_max_age(cache_control: &str) -> Option<u32> {
    let (mut max_age, mut s_maxage) = (None, None);
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "private" || lower == "no-cache" {
            return None;
        }
        if let Some(v) = lower.strip_prefix("s-maxage=") {
            s_maxage = v.parse().ok();
        } else if let Some(v) = lower.strip_prefix("max-age=") {
            max_age = v.parse().ok();
        }
    }
    s_maxage.or(max_age)
}

/// A catalog answer kept in an isolate's memory.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedResponse {
    pub body: Vec<u8>,
    pub etag: String,
    pub cache_control: String,
    pub content_type: String,
    pub expires_at_ms: f64,
}

/// The first cache tier: a bounded map in the isolate's memory, in front of
/// the Cache API. A hit costs no I/O at all, which is what lets a cached
/// catalog read run at nearly the speed of a constant response. Entries live
/// as long as the response's max-age, and all go when the catalog version
/// changes. Oldest entries are evicted first once the byte budget is spent.
#[derive(Debug, Default)]
pub struct MemoryCache {
    version: String,
    entries: std::collections::HashMap<String, std::rc::Rc<CachedResponse>>,
    order: std::collections::VecDeque<String>,
    bytes: usize,
}

/// Well under the 128 MB an isolate may use.
pub const MEMORY_CACHE_BYTES: usize = 16 * 1024 * 1024;
/// Larger answers go to the Cache API only.
pub const MEMORY_CACHE_MAX_ENTRY: usize = 256 * 1024;

impl MemoryCache {
    pub fn get(
        &mut self,
        version: &str,
        key: &str,
        now_ms: f64,
    ) -> Option<std::rc::Rc<CachedResponse>> {
        self.switch_version(version);
        let hit = self.entries.get(key)?;
        if hit.expires_at_ms > now_ms {
            return Some(hit.clone());
        }
        let stale = self.entries.remove(key)?;
        self.bytes -= stale.body.len();
        None
    }

    pub fn insert(&mut self, version: &str, key: String, entry: CachedResponse) {
        self.switch_version(version);
        let size = entry.body.len();
        if size > MEMORY_CACHE_MAX_ENTRY {
            return;
        }
        if let Some(old) = self.entries.remove(&key) {
            self.bytes -= old.body.len();
        }
        while self.bytes + size > MEMORY_CACHE_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(evicted) = self.entries.remove(&oldest) {
                self.bytes -= evicted.body.len();
            }
        }
        self.bytes += size;
        self.order.push_back(key.clone());
        self.entries.insert(key, std::rc::Rc::new(entry));
        // Keys of replaced or expired entries linger in `order`; drop them
        // before the queue outgrows the map.
        if self.order.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
    }

    fn switch_version(&mut self, version: &str) {
        if self.version != version {
            *self = MemoryCache {
                version: version.to_string(),
                ..MemoryCache::default()
            };
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: usize, expires_at_ms: f64) -> CachedResponse {
        CachedResponse {
            body: vec![b'x'; size],
            etag: "\"e\"".into(),
            cache_control: "public, max-age=60".into(),
            content_type: "application/json".into(),
            expires_at_ms,
        }
    }

    #[test]
    fn max_age_rules() {
        assert_eq!(shared_max_age("public, max-age=60"), Some(60));
        assert_eq!(shared_max_age("max-age=60, s-maxage=600"), Some(600));
        assert_eq!(shared_max_age("s-maxage=600, max-age=60"), Some(600));
        assert_eq!(shared_max_age("no-store"), None);
        assert_eq!(shared_max_age("s-maxage=600, no-store"), None);
        assert_eq!(shared_max_age("private, max-age=60"), None);
        assert_eq!(shared_max_age("public"), None);
    }

    #[test]
    fn memory_cache_expires_entries() {
        let mut c = MemoryCache::default();
        c.insert("1", "k".into(), entry(10, 1_000.0));
        assert!(c.get("1", "k", 999.0).is_some());
        assert!(c.get("1", "k", 1_000.0).is_none());
        assert_eq!((c.len(), c.bytes()), (0, 0));
    }

    #[test]
    fn memory_cache_forgets_everything_on_a_new_version() {
        let mut c = MemoryCache::default();
        c.insert("1", "k".into(), entry(10, 1e12));
        assert!(c.get("2", "k", 0.0).is_none());
        assert!(c.is_empty());
        assert!(
            c.get("1", "k", 0.0).is_none(),
            "an old version does not come back"
        );
    }

    #[test]
    fn memory_cache_stays_within_its_byte_budget() {
        let mut c = MemoryCache::default();
        let size = MEMORY_CACHE_MAX_ENTRY;
        let fits = MEMORY_CACHE_BYTES / size;
        for i in 0..fits + 3 {
            c.insert("1", format!("k{i}"), entry(size, 1e12));
            assert!(c.bytes() <= MEMORY_CACHE_BYTES);
        }
        assert_eq!(c.len(), fits);
        assert!(c.get("1", "k0", 0.0).is_none(), "oldest evicted first");
        assert!(c.get("1", &format!("k{}", fits + 2), 0.0).is_some());
        c.insert("1", "huge".into(), entry(MEMORY_CACHE_MAX_ENTRY + 1, 1e12));
        assert!(c.get("1", "huge", 0.0).is_none());
    }

    #[test]
    fn memory_cache_replaces_in_place() {
        let mut c = MemoryCache::default();
        c.insert("1", "k".into(), entry(10, 1e12));
        c.insert("1", "k".into(), entry(20, 1e12));
        assert_eq!((c.len(), c.bytes()), (1, 20));
    }

    #[test]
    fn cache_buster() {
        assert!(bypasses_cache(Some("_=123")));
        assert!(bypasses_cache(Some("limit=2&_=x")));
        assert!(bypasses_cache(Some("_")));
        assert!(!bypasses_cache(Some("_edge=1")));
        assert!(!bypasses_cache(Some("a_=1")));
        assert!(!bypasses_cache(None));
    }

    #[test]
    fn ignored_parameters_do_not_mint_cache_keys() {
        let plain = cache_key("https://h", "3", "/catalog/products", Some("limit=2"));
        for noisy in ["limit=2&_x=1", "_=9&limit=2", "limit=2&_a=1&_b=2&_"] {
            assert_eq!(
                cache_key("https://h", "3", "/catalog/products", Some(noisy)),
                plain
            );
        }
        assert_ne!(
            cache_key("https://h", "3", "/catalog/products", Some("limit=3")),
            plain
        );
    }

    /// `cargo test -p edge-worker --lib` builds without the `dev` feature, as
    /// a deployed edge is built.
    #[cfg(not(feature = "dev"))]
    #[test]
    fn a_release_build_ignores_the_cache_buster() {
        assert!(bypasses_cache(Some("_=1")));
        assert!(!honours_cache_buster(Some("_=1")));
        assert!(!honours_cache_buster(Some("limit=2&_")));
    }

    #[test]
    fn test_headers() {
        assert!(is_test_header("x-test-now"));
        assert!(is_test_header("X-Test-Fault"));
        assert!(!is_test_header("x-tes"));
        assert!(!is_test_header("x-request-id"));
    }

    #[test]
    fn cache_keys_are_canonical_and_versioned() {
        let a = cache_key("https://h", "3", "/catalog/products", Some("b=2&a=1"));
        let b = cache_key("https://h", "3", "/catalog/products", Some("a=1&b=2"));
        assert_eq!(a, b);
        assert_eq!(a, "https://h/__edge_cache/v3/catalog/products?a=1&b=2");
        assert_ne!(
            a,
            cache_key("https://h", "4", "/catalog/products", Some("a=1&b=2"))
        );
        assert_eq!(
            cache_key("https://h", "1", "/catalog/stores", None),
            "https://h/__edge_cache/v1/catalog/stores"
        );
    }
}
