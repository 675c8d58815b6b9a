//! The entry worker's cross-cutting duties, against the real stack.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use support::*;

#[test]
fn healthz_is_constant_json() {
    let reply = get("/healthz");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"status": "ok"}));
}

#[test]
fn request_ids_are_kept_or_minted() {
    let kept = get_with("/healthz", &[("x-request-id", "trace-abc.123")]);
    assert_eq!(kept.header("x-request-id"), Some("trace-abc.123"));
    let minted = get_with("/healthz", &[("x-request-id", "no spaces allowed")]);
    let id = minted.header("x-request-id").unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let other = get("/healthz");
    assert_ne!(other.header("x-request-id"), Some(id), "ids are unique");
    // Errors carry one too.
    assert!(get("/nowhere").header("x-request-id").is_some());
}

#[test]
fn unknown_paths_get_a_json_404() {
    for path in ["/", "/nowhere", "/catalogue/products"] {
        let reply = get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.error_code(), "not_found");
        assert_eq!(reply.header("x-db-statements"), Some("0"));
    }
}

#[test]
fn paths_of_functions_not_deployed_get_a_json_503() {
    // /admin/staff belongs to a function that does not exist yet (ADMIN).
    let reply = request("GET", "/admin/staff", &[], None);
    assert_eq!(reply.status, 503);
    assert_eq!(reply.error_code(), "function_unavailable");
}

#[test]
fn cors_allows_configured_storefronts_only() {
    let allowed = "http://localhost:3000";
    let reply = get_with("/catalog/stores", &[("origin", allowed)]);
    assert_eq!(reply.header("access-control-allow-origin"), Some(allowed));
    assert!(reply
        .header("access-control-expose-headers")
        .unwrap()
        .contains("etag"));
    let reply = get_with("/catalog/stores", &[("origin", "https://evil.example")]);
    assert_eq!(reply.header("access-control-allow-origin"), None);

    let preflight = request(
        "OPTIONS",
        "/cart",
        &[
            ("origin", allowed),
            ("access-control-request-method", "POST"),
        ],
        None,
    );
    assert_eq!(preflight.status, 204);
    assert!(preflight
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(preflight
        .header("access-control-allow-headers")
        .unwrap()
        .contains("idempotency-key"));
    let refused = request(
        "OPTIONS",
        "/cart",
        &[("origin", "https://evil.example")],
        None,
    );
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), "origin_not_allowed");
}

#[test]
fn bodies_over_64_kib_are_413_with_or_without_content_length() {
    let big = vec![b'x'; 64 * 1024 + 1];
    for path in ["/cart", "/webhooks/stripe", "/catalog/products"] {
        let reply = request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(&big),
        );
        assert_eq!(reply.status, 413, "{path}");
        assert_eq!(reply.error_code(), "payload_too_large");
    }
    // Exactly the limit passes the edge (and reaches the function).
    let ok = request(
        "POST",
        "/catalog/products",
        &[],
        Some(&vec![b'x'; 64 * 1024]),
    );
    assert_eq!(ok.status, 405);

    // Chunked upload, no Content-Length: counted as it streams in.
    let answer = post_chunked("/webhooks/stripe", 5, 16 * 1024);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        answer.lines().next().unwrap_or("")
    );
    assert!(answer.contains("payload_too_large"));
}

/// POSTs `chunks` chunks of `chunk_size` bytes with Transfer-Encoding: chunked
/// (no Content-Length) and returns the raw HTTP answer.
fn post_chunked(path: &str, chunks: usize, chunk_size: usize) -> String {
    let url = base_url();
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "POST {path} HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        .unwrap();
    let chunk = vec![b'y'; chunk_size];
    for _ in 0..chunks {
        // The server may answer (and stop reading) before the upload ends.
        if write!(stream, "{:x}\r\n", chunk.len())
            .and_then(|_| stream.write_all(&chunk))
            .and_then(|_| stream.write_all(b"\r\n"))
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn concurrent_oversized_chunked_uploads_leave_the_stack_serving() {
    // Regression: a half-read request body used to restart workerd, failing
    // every request in flight.
    let uploads: Vec<_> = (0..12)
        .map(|_| std::thread::spawn(|| post_chunked("/cart", 20, 16 * 1024)))
        .collect();
    let during: Vec<Reply> = (0..10).map(|_| get_uncached("/catalog/stores")).collect();
    for upload in uploads {
        let answer = upload.join().unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{}",
            answer.lines().next().unwrap_or("")
        );
    }
    assert!(
        during.iter().all(|r| r.status == 200),
        "requests alongside the uploads failed"
    );
    assert_eq!(get("/healthz").status, 200);
}

#[test]
fn the_second_read_of_a_catalog_url_is_a_cache_hit_with_no_sql() {
    let path = format!(
        "/catalog/products?limit=7&_edge_test={}",
        std::process::id()
    );
    let first = get(&path);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-cache"), Some("MISS"));
    assert_eq!(first.header("x-db-statements"), Some("1"));
    // The cache write happens after the response (waitUntil): allow it a moment.
    let mut second = get(&path);
    for _ in 0..20 {
        if second.header("x-cache") == Some("HIT") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        second = get(&path);
    }
    assert_eq!(second.header("x-cache"), Some("HIT"));
    assert_eq!(second.header("x-db-statements"), Some("0"));
    assert_eq!(second.header("x-db"), None);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("etag"), first.header("etag"));
    // Parameter order does not matter to the cache.
    let reordered = get(&format!(
        "/catalog/products?_edge_test={}&limit=7",
        std::process::id()
    ));
    assert_eq!(reordered.header("x-cache"), Some("HIT"));
}

#[test]
fn a_cache_buster_parameter_bypasses_the_edge_cache() {
    let path = format!("/catalog/products?limit=2&_=fixed-{}", std::process::id());
    for _ in 0..2 {
        let reply = get(&path);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-cache"), Some("BYPASS"));
        assert_eq!(reply.header("x-db-statements"), Some("1"));
    }
}
