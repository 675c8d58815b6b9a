//! Abandoned carts through the edge (docs/orders.md and docs/design.md,
//! "Abandoned carts"): an email attached to a cart (`PATCH /cart/{id}`), the
//! alerts worker's cron (run on demand through the dev route
//! `POST /admin/inventory/__dev/scheduled?idle_secs=N`) queueing one message
//! per abandoned cart however often it runs, the alerts consumer sending the
//! email (the notify fake keeps it), and the signed restore link in it.

mod support;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};
use support::*;

/// The cron's job with `idle_secs=0` claims every cart with an email, the
/// carts of the test that checks a cart is *not* claimed too: that test holds
/// this lock from attaching its email to its last check, the others while
/// they run the job.
static CRON: Mutex<()> = Mutex::new(());

fn cron_lock() -> MutexGuard<'static, ()> {
    CRON.lock().unwrap_or_else(|e| e.into_inner())
}

fn admin() -> String {
    format!("Bearer {}", local_secret("ADMIN_TOKEN"))
}

/// The abandoned-cart cron, now: `{"queued", "closed"}` (over every cart in
/// the index, not only this test's).
fn run_cron(idle_secs: u64) -> Value {
    let r = request(
        "POST",
        &format!("/admin/inventory/__dev/scheduled?idle_secs={idle_secs}"),
        &[("authorization", &admin())],
        None,
    );
    assert_eq!(r.status, 200, "cron: {}", r.body);
    let v = r.json();
    assert!(
        v["queued"].is_u64() && v["closed"].is_u64(),
        "cron answered {v}"
    );
    v
}

/// `shopper+<unique>@example.com`, as the cart stores it (lower case).
fn shopper_email() -> String {
    format!("shopper+{}@example.com", unique("").to_ascii_lowercase())
}

fn patch_json(path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    request("PATCH", path, &all, Some(body.to_string().as_bytes()))
}

/// Attaches `email` to `cart`: 200, `has_email`, and the address nowhere in
/// the answer.
fn attach_email(cart: &str, email: &str) -> Reply {
    let r = patch_json(&format!("/cart/{cart}"), &json!({ "email": email }), &[]);
    assert_eq!(r.status, 200, "attach email: {}", r.body);
    let v = r.json();
    assert_eq!(v["id"], cart, "{}", r.body);
    assert_eq!(v["has_email"], true, "{}", r.body);
    assert!(
        !r.body.to_ascii_lowercase().contains(email),
        "the answer shows the address: {}",
        r.body
    );
    assert!(!r.body.contains("shopper+"), "{}", r.body);
    r
}

/// A store of the test's own, a SKU in it, and `n` carts holding 1 of it.
fn carts(n: usize) -> (Store, String, Vec<String>) {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("3.00", &[(store.warehouses[0], 50)]);
    let carts = (0..n).map(|_| store.cart_with(&sku, 1)).collect();
    (store, sku, carts)
}

/// The cart's row of the recovery index: (email, queued_at, emailed_at,
/// closed_at), the timestamps as text; None without a row.
type RecoveryRow = (String, Option<String>, Option<String>, Option<String>);

fn recovery_row(cart: &str) -> Option<RecoveryRow> {
    primary()
        .query_opt(
            "SELECT email, queued_at::text, emailed_at::text, closed_at::text
               FROM cart_recovery WHERE cart_id = $1",
            &[&cart],
        )
        .unwrap()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
}

/// Recovery messages the outbox ever held for `cart`.
fn outbox_messages(cart: &str) -> i64 {
    primary()
        .query_one(
            "SELECT count(*) FROM outbox
              WHERE topic = 'alerts' AND payload->>'kind' = 'abandoned_cart'
                AND payload->>'cart_id' = $1",
            &[&cart],
        )
        .unwrap()
        .get(0)
}

/// Waits (up to 20 s) until `to` received at least one email; what it got.
fn wait_for_mail(to: &str) -> Vec<Value> {
    eventually(20, || {
        let m = mail_to(to);
        (!m.is_empty()).then_some(m)
    })
    .unwrap_or_default()
}

/// The plain-text body of a mail the fake kept.
fn mail_text(mail: &Value) -> String {
    mail["content"]
        .as_array()
        .and_then(|c| c.iter().find(|b| b["type"] == "text/plain"))
        .and_then(|b| b["value"].as_str())
        .unwrap_or_else(|| panic!("no text/plain content in {mail}"))
        .to_string()
}

/// `/cart/restore?token=...` (path and query) as the mail's text carries it.
fn restore_path(mail: &Value) -> String {
    let text = mail_text(mail);
    let start = text
        .find("/cart/restore?token=")
        .unwrap_or_else(|| panic!("no restore link in: {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

/// A restore token as `cart::recovery::restore_token` makes it: the
/// unpadded base64url HMAC-SHA256, under CART_RESTORE_SECRET, of the purpose
/// label, the cart id and the expiry as written.
fn restore_token(cart: &str, expires: i64) -> String {
    let key = local_secret("CART_RESTORE_SECRET");
    let expires = expires.to_string();
    let mac = platform::crypto::hmac_sha256(
        key.as_bytes(),
        &[b"cart_restore_v1", cart.as_bytes(), expires.as_bytes()],
    );
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac);
    format!("{cart}.{expires}.{sig}")
}

/// A link that opens no cart: the one 404 for all of them.
fn assert_restore_refused(path: &str, what: &str) {
    let r = get(path);
    assert_eq!(r.status, 404, "{what}: {path}: {}", r.body);
    assert_eq!(r.error_code(), "cart_not_found", "{what}: {}", r.body);
}

/// `s` with the character at `i` replaced by another one of `alphabet`.
fn flip(s: &str, i: usize, alphabet: &str) -> String {
    let old = s.as_bytes()[i] as char;
    let new = alphabet.chars().find(|c| *c != old).unwrap();
    let mut out = s.to_string();
    out.replace_range(i..i + 1, &new.to_string());
    out
}

#[test]
fn the_cron_run_twice_sends_exactly_one_email_per_abandoned_cart() {
    let (_store, _sku, carts) = carts(4);
    let (abandoned, no_email, bought) = (&carts[..2], &carts[2], &carts[3]);
    let emails: Vec<String> = (0..3).map(|_| shopper_email()).collect();
    // From the first email on: the runs below are the ones that find them.
    let cron = cron_lock();
    for (cart, email) in abandoned.iter().zip(&emails) {
        attach_email(cart, email);
        let r = get(&format!("/cart/{cart}"));
        assert_eq!(r.json()["has_email"], true, "{}", r.body);
        assert!(!r.body.contains(email.as_str()), "{}", r.body);
    }
    attach_email(bought, &emails[2]);
    let r = post_json(
        "/checkout",
        &checkout_body(bought),
        &[("idempotency-key", &unique("k"))],
    );
    assert_eq!(r.status, 201, "checkout: {}", r.body);
    for cart in abandoned.iter().chain([bought]) {
        let row = recovery_row(cart).expect("an attached email writes the index row");
        assert_eq!((row.1, row.3), (None, None), "not queued nor closed yet");
    }
    assert_eq!(recovery_row(no_email), None, "no email, no row");

    // Twice at once, then once more: each cart is claimed once. The counts
    // are over every cart in the index (other tests' carts too).
    let answers = concurrently(2, |_| run_cron(0));
    let again = run_cron(0);
    drop(cron);
    eprintln!("cron answers: {answers:?} then {again}");
    let total = |key: &str| -> u64 {
        answers
            .iter()
            .chain([&again])
            .map(|a| a[key].as_u64().unwrap())
            .sum()
    };
    assert!(
        total("queued") >= 2,
        "both abandoned carts queued: {answers:?} {again}"
    );
    assert!(
        total("closed") >= 1,
        "the checked-out cart closed: {answers:?} {again}"
    );

    let rows: Vec<RecoveryRow> = abandoned.iter().map(|c| recovery_row(c).unwrap()).collect();
    for (cart, row) in abandoned.iter().zip(&rows) {
        assert!(row.1.is_some(), "{cart} queued: {row:?}");
        assert_eq!(row.3, None, "{cart} not closed: {row:?}");
        assert_eq!(
            outbox_messages(cart),
            1,
            "{cart}: one message in the outbox"
        );
    }
    let bought_row = recovery_row(bought).unwrap();
    assert!(
        bought_row.3.is_some(),
        "checked out: closed: {bought_row:?}"
    );
    assert_eq!(
        bought_row.1, None,
        "checked out: never queued: {bought_row:?}"
    );
    assert_eq!(outbox_messages(bought), 0);

    for (cart, email) in abandoned.iter().zip(&emails) {
        let mail = wait_for_mail(email);
        assert_eq!(mail.len(), 1, "one email to {email}: {mail:?}");
        assert_eq!(mail[0]["to"], json!([email]), "{:?}", mail[0]);
        assert!(
            mail[0]["subject"]
                .as_str()
                .unwrap()
                .contains("in your cart"),
            "{:?}",
            mail[0]
        );
        let text = mail_text(&mail[0]);
        assert!(text.contains("/cart/restore?token="), "{text}");
        assert!(
            text.contains(cart.as_str()),
            "the link names the cart: {text}"
        );
        assert!(
            !text.contains(email.as_str()),
            "no address in the text: {text}"
        );
    }

    // A later run, and time for any duplicate to arrive: still one each.
    {
        let _cron = cron_lock();
        run_cron(0);
    }
    std::thread::sleep(Duration::from_secs(3));
    for (cart, (email, before)) in abandoned.iter().zip(emails.iter().zip(&rows)) {
        assert_eq!(mail_to(email).len(), 1, "still one email to {email}");
        let row = recovery_row(cart).unwrap();
        assert_eq!(row.1, before.1, "queued_at set once: {row:?}");
        assert!(row.2.is_some(), "emailed_at recorded: {row:?}");
        assert_eq!(outbox_messages(cart), 1);
    }
    assert!(
        mail_to(&emails[2]).is_empty(),
        "no email for the checked-out cart"
    );
    let row = recovery_row(bought).unwrap();
    assert_eq!(
        (row.1, row.2, row.3),
        (None, None, bought_row.3),
        "closed once, never mailed"
    );
}

#[test]
fn the_restore_link_in_the_email_returns_the_cart_and_tampered_or_expired_links_are_404() {
    let (_store, sku, carts) = carts(1);
    let cart = &carts[0];
    let email = shopper_email();
    attach_email(cart, &email);
    {
        let _cron = cron_lock();
        run_cron(0);
    }
    let mail = wait_for_mail(&email);
    assert_eq!(mail.len(), 1, "{mail:?}");
    let link = restore_path(&mail[0]);

    // The link opens the cart, as GET /cart/{id} shows it.
    let r = get(&link);
    assert_eq!(r.status, 200, "{link}: {}", r.body);
    assert!(
        r.header("cache-control")
            .is_some_and(|c| c.contains("no-store")),
        "{:?}",
        r.headers
    );
    let restored = r.json();
    let direct = get(&format!("/cart/{cart}")).json();
    assert_eq!(restored["id"], cart.as_str());
    assert_eq!(restored["status"], "open");
    assert_eq!(restored["has_email"], true);
    assert_eq!(restored["lines"], direct["lines"]);
    assert_eq!(restored["lines"][0]["sku"], sku.as_str());
    assert_eq!(restored["lines"][0]["quantity"], 1);
    assert!(!r.body.contains(email.as_str()), "{}", r.body);

    let token = link.split_once("token=").unwrap().1.to_string();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let (id, expires, sig) = (parts[0], parts[1], parts[2]);
    assert_eq!(id, cart);
    let expires_at: i64 = expires.parse().unwrap();
    let now = chrono_now();
    assert!(
        (now + 7 * 24 * 3600 - 120..=now + 7 * 24 * 3600 + 5).contains(&expires_at),
        "valid for 7 days: {expires_at} (now {now})"
    );
    // The token is made as shared/cart/src/recovery.rs says.
    assert_eq!(restore_token(cart, expires_at), token);

    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let restore = |t: &str| format!("/cart/restore?token={t}");
    for (what, forged) in [
        ("signature", format!("{id}.{expires}.{}", flip(sig, 0, B64))),
        (
            "signature's end",
            format!("{id}.{expires}.{}", flip(sig, sig.len() - 1, B64)),
        ),
        (
            "expiry",
            format!(
                "{id}.{}.{sig}",
                flip(expires, expires.len() - 1, "0123456789")
            ),
        ),
        (
            "cart id",
            format!("{}.{expires}.{sig}", flip(id, 0, "0123456789abcdef")),
        ),
    ] {
        assert_restore_refused(&restore(&forged), what);
    }

    // Signed with the real key: one in the future opens the cart, one in
    // the past does not.
    let fresh = restore_token(cart, now + 600);
    let r = get(&restore(&fresh));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], cart.as_str());
    assert_restore_refused(&restore(&restore_token(cart, now - 60)), "expired");

    assert_restore_refused(&restore("not.a.token"), "garbage");
    assert_restore_refused(&restore(&"x".repeat(200)), "garbage");
    assert_restore_refused(&restore(""), "empty token");
    assert_restore_refused("/cart/restore", "missing token");
    assert_restore_refused("/cart/restore?tokens=abc", "missing token");

    // The link still works after all that.
    assert_eq!(get(&link).status, 200);
}

#[test]
fn an_idle_threshold_not_yet_reached_queues_nothing() {
    let (_store, _sku, carts) = carts(1);
    let cart = &carts[0];
    let email = shopper_email();
    // No idle_secs=0 run may claim this cart while the test looks.
    let _cron = cron_lock();
    attach_email(cart, &email);
    let row = recovery_row(cart).expect("indexed");
    assert_eq!((row.1.as_deref(), row.3.as_deref()), (None, None));

    // Carts that are due an hour on (left by earlier runs) may be queued.
    let others_due: i64 = primary()
        .query_one(
            "SELECT count(*) FROM cart_recovery
              WHERE queued_at IS NULL AND closed_at IS NULL
                AND attached_at < now() - interval '3600 seconds' AND cart_id <> $1",
            &[cart],
        )
        .unwrap()
        .get(0);
    let answer = run_cron(3600);
    if others_due == 0 {
        assert_eq!(answer["queued"], 0, "{answer}");
    }
    std::thread::sleep(Duration::from_secs(3));
    let row = recovery_row(cart).unwrap();
    assert_eq!(
        (row.1, row.2, row.3),
        (None, None, None),
        "not queued, mailed nor closed"
    );
    assert_eq!(outbox_messages(cart), 0);
    assert!(mail_to(&email).is_empty(), "no mail yet");
}

#[test]
fn a_bad_email_is_refused_and_the_cart_is_unchanged() {
    let (_store, _sku, carts) = carts(1);
    let cart = &carts[0];
    let before = get(&format!("/cart/{cart}"));
    assert_eq!(before.status, 200);
    let etag = before.header("etag").unwrap().to_string();
    let long = format!("{}@example.com", "a".repeat(300 - "@example.com".len()));
    assert_eq!(long.len(), 300);
    for bad in [
        json!("not-an-email"),
        json!(""),
        json!(long),
        json!(null),
        json!(42),
    ] {
        let r = patch_json(&format!("/cart/{cart}"), &json!({ "email": bad }), &[]);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.error_code(), "invalid_email", "{bad}: {}", r.body);
    }
    let r = patch_json(&format!("/cart/{cart}"), &json!({}), &[]);
    assert_eq!(
        (r.status, r.error_code()),
        (400, "invalid_email".to_string()),
        "{}",
        r.body
    );

    let after = get(&format!("/cart/{cart}"));
    assert_eq!(after.header("etag"), Some(etag.as_str()), "unchanged");
    let (b, a) = (before.json(), after.json());
    assert_eq!(a["version"], b["version"]);
    assert_eq!(a["has_email"], false);
    assert_eq!(a["lines"], b["lines"]);
    assert_eq!(recovery_row(cart), None, "nothing indexed");
}
