//! Customer accounts in tests (spec: .local/spec11.md): signing up and
//! verifying through the mail the notify fake kept, logging in, requests
//! carrying a session, and session tokens minted exactly as
//! shared/customers mints them (`s1.` tokens), so a test can forge tampered,
//! expired, revoked or foreign-key ones and knows what a real one looks like.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    checkout_body, chrono_now, eventually, local_secret, mail_to, post_json, primary, relay_outbox,
    request, unique, PaidOrder, Reply, Store,
};

/// A session lives 14 days (`SESSION_TTL_SECS`).
pub const SESSION_TTL_SECS: i64 = 1_209_600;

/// The storefront origin the local edge allows (`ALLOWED_ORIGINS` in
/// wrangler.toml): cookie-authenticated writes must come from it.
pub const ALLOWED_ORIGIN: &str = "http://localhost:3000";

/// A verified, logged-in customer.
#[derive(Debug, Clone)]
pub struct Customer {
    pub email: String,
    pub password: String,
    pub name: String,
    /// The session token login answered (`s1.…`).
    pub token: String,
    /// `cus_…`, the profile's `id`.
    pub public_id: String,
}

/// An address no earlier run used, lower case (as accounts store them).
pub fn fresh_customer_email() -> String {
    format!("cus+{}@example.com", unique("").to_ascii_lowercase())
}

/// A password no common-password list holds, 8-256 characters.
pub fn fresh_password() -> String {
    format!("Tr0ub4dor&{}", unique("pw"))
}

pub fn signup(email: &str, password: &str, name: &str) -> Reply {
    post_json(
        "/customers/signup",
        &json!({"email": email, "password": password, "name": name}),
        &[],
    )
}

pub fn verify_email(token: &str) -> Reply {
    post_json("/customers/verify", &json!({ "token": token }), &[])
}

pub fn login(email: &str, password: &str) -> Reply {
    post_json(
        "/customers/login",
        &json!({"email": email, "password": password}),
        &[],
    )
}

/// Login bringing the guest cart of this device (`cart_id`): the answer's
/// `cart` says what became of it (Merge).
pub fn login_with_cart(email: &str, password: &str, cart: &str) -> Reply {
    post_json(
        "/customers/login",
        &json!({"email": email, "password": password, "cart_id": cart}),
        &[],
    )
}

/// Logs in (must be 200) and answers the session token.
pub fn login_token(email: &str, password: &str) -> String {
    let r = login(email, password);
    assert_eq!(r.status, 200, "login {email}: {}", r.body);
    r.json()["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {}", r.body))
        .to_string()
}

/// Signs up (202), follows the verify link of the mail (200), logs in (200).
/// `email` None: a fresh one.
pub fn signup_verified(email: Option<&str>) -> Customer {
    let email = email.map_or_else(fresh_customer_email, str::to_string);
    let password = fresh_password();
    let name = "Ada Lovelace".to_string();
    let seen = link_tokens(&email, "verify");
    let r = signup(&email, &password, &name);
    assert_eq!(r.status, 202, "signup {email}: {}", r.body);
    let token = wait_for_link(&email, "verify", &seen);
    let v = verify_email(&token);
    assert_eq!(v.status, 200, "verify {email}: {}", v.body);
    assert_eq!(v.json()["verified"], true, "{}", v.body);
    let r = login(&email, &password);
    assert_eq!(r.status, 200, "login {email}: {}", r.body);
    let answer = r.json();
    Customer {
        email,
        password,
        name,
        token: answer["token"].as_str().unwrap().to_string(),
        public_id: answer["customer"]["id"].as_str().unwrap().to_string(),
    }
}

// --- Mail --------------------------------------------------------------------

/// Everything a mail says, for searching: subject and every content part.
pub fn mail_text(mail: &Value) -> String {
    let mut text = mail["subject"].as_str().unwrap_or_default().to_string();
    for part in mail["content"].as_array().into_iter().flatten() {
        text.push('\n');
        text.push_str(part["value"].as_str().unwrap_or_default());
    }
    text
}

/// Every `token=<token>` a mail's links carry, in order.
pub fn tokens_in(mail: &Value) -> Vec<String> {
    let text = mail_text(mail);
    text.match_indices("token=")
        .map(|(i, _)| {
            text[i + "token=".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// The JSON payload of a link token (`l1.<b64url(json)>.<b64url(mac)>`).
pub fn link_payload(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    if parts.next() != Some("l1") {
        return None;
    }
    let bytes = b64url_decode(parts.next()?)?;
    serde_json::from_slice(&bytes).ok()
}

/// The link tokens of `purpose` ("verify" | "reset") in the mails `email` got,
/// oldest first, each once.
pub fn link_tokens(email: &str, purpose: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for mail in mail_to(email) {
        for t in tokens_in(&mail) {
            if link_payload(&t).is_some_and(|p| p["p"] == purpose) && !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// Waits (up to 20 s) for a link token of `purpose` to `email` that is not
/// in `seen`.
pub fn wait_for_link(email: &str, purpose: &str, seen: &[String]) -> String {
    eventually(20, || {
        link_tokens(email, purpose)
            .into_iter()
            .find(|t| !seen.contains(t))
    })
    .unwrap_or_else(|| {
        panic!(
            "no new {purpose} link mailed to {email}; mails: {:?}",
            mail_to(email)
        )
    })
}

/// Waits (up to 20 s) until `email` got at least `n` mails; all of them.
pub fn wait_for_mails(email: &str, n: usize) -> Vec<Value> {
    eventually(20, || {
        let m = mail_to(email);
        (m.len() >= n).then_some(m)
    })
    .unwrap_or_else(|| panic!("{email} did not get {n} mails: {:?}", mail_to(email)))
}

// --- Requests with a session -------------------------------------------------

/// `Authorization` value for a session token.
pub fn auth_header(token: &str) -> String {
    format!("Bearer {token}")
}

/// `Cookie` value for a session token.
pub fn session_cookie(token: &str) -> String {
    format!("session={token}")
}

/// A request as the customer holding `token` (`Authorization: Bearer`), with
/// a JSON body when given, and extra headers.
pub fn authed_with(
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    extra: &[(&str, &str)],
) -> Reply {
    let auth = auth_header(token);
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    headers.extend_from_slice(extra);
    let bytes = body.map(|b| b.to_string().into_bytes());
    request(method, path, &headers, bytes.as_deref())
}

pub fn authed(method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
    authed_with(method, path, token, body, &[])
}

pub fn get_authed(path: &str, token: &str) -> Reply {
    authed("GET", path, token, None)
}

pub fn post_authed(path: &str, body: &Value, token: &str) -> Reply {
    authed("POST", path, token, Some(body))
}

pub fn patch_authed(path: &str, body: &Value, token: &str) -> Reply {
    authed("PATCH", path, token, Some(body))
}

pub fn delete_authed(path: &str, token: &str) -> Reply {
    authed("DELETE", path, token, None)
}

/// A request with the session as its cookie only, from `origin` when given.
pub fn with_cookie(
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    origin: Option<&str>,
) -> Reply {
    let cookie = session_cookie(token);
    let mut headers = vec![("cookie", cookie.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    if let Some(o) = origin {
        headers.push(("origin", o));
    }
    let bytes = body.map(|b| b.to_string().into_bytes());
    request(method, path, &headers, bytes.as_deref())
}

/// `GET /customers/me` with this session.
pub fn me(token: &str) -> Reply {
    get_authed("/customers/me", token)
}

/// The cookie `name` a reply sets, as its whole `Set-Cookie` line
/// (`name=value; Attr; ...`). The HTTP helper joins several `Set-Cookie`
/// headers with ", ": a new cookie starts after ", " with `token=`.
pub fn set_cookie(reply: &Reply, name: &str) -> Option<String> {
    let all = reply.header("set-cookie")?;
    let mut cookies: Vec<String> = Vec::new();
    for piece in all.split(", ") {
        let starts_cookie = piece
            .split_once('=')
            .is_some_and(|(k, _)| !k.is_empty() && !k.contains([' ', ';']));
        match cookies.last_mut() {
            Some(last) if !starts_cookie => {
                last.push_str(", ");
                last.push_str(piece);
            }
            _ => cookies.push(piece.to_string()),
        }
    }
    cookies
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// The error object without its request id (which differs per request).
pub fn error_body(r: &Reply) -> Value {
    r.error_code();
    let mut e = r.json()["error"].clone();
    if let Some(o) = e.as_object_mut() {
        o.remove("request_id");
    }
    e
}

/// Asserts a 401 `unauthenticated` (what every bad session gets).
pub fn assert_unauthenticated(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.body);
    assert_eq!(r.error_code(), "unauthenticated", "{what}: {}", r.body);
}

pub fn admin_bearer() -> String {
    format!("Bearer {}", local_secret("ADMIN_TOKEN"))
}

// --- Checkout as a customer ---------------------------------------------------

/// A California checkout body for `cart` with the shopper's `email`.
pub fn checkout_body_for(cart: &str, email: &str) -> Value {
    let mut b = checkout_body(cart);
    b["email"] = json!(email);
    b
}

/// `POST /checkout` with the session and a fresh idempotency key.
pub fn checkout_as(token: &str, body: &Value) -> Reply {
    checkout_with_key(token, body, &unique("k"))
}

/// `checkout_as` with a given Idempotency-Key (a retry sends the same one).
pub fn checkout_with_key(token: &str, body: &Value, key: &str) -> Reply {
    authed_with(
        "POST",
        "/checkout",
        token,
        Some(body),
        &[("idempotency-key", key)],
    )
}

/// The order a 201 checkout answer placed, as the payment helpers take it.
pub fn placed_order(answer: &Value, sku: &str, store: &Store) -> PaidOrder {
    PaidOrder {
        order_id: answer["order_id"].as_str().unwrap().to_string(),
        token: answer["order_token"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        payment: answer["payment"].clone(),
        sku: sku.to_string(),
        store: store.clone(),
        total: answer["totals"]["total"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default(),
    }
}

/// The alerts pipeline, now: the outbox relay and the alerts worker's cron
/// (default idle time, so no test's fresh abandoned cart is claimed).
pub fn nudge_alerts() {
    relay_outbox();
    let r = request(
        "POST",
        "/admin/inventory/__dev/scheduled",
        &[("authorization", &admin_bearer())],
        None,
    );
    assert_eq!(r.status, 200, "alerts cron: {}", r.body);
}

/// Sleeps past the current second: revocation compares whole-second `iat`s.
pub fn next_second() {
    std::thread::sleep(Duration::from_millis(1100));
}

// --- The customer's rows -------------------------------------------------------

/// `customers.id` of a public id.
pub fn customer_row_id(public_id: &str) -> i64 {
    primary()
        .query_one(
            "SELECT id FROM customers WHERE public_id = $1",
            &[&public_id],
        )
        .unwrap_or_else(|e| panic!("customer {public_id}: {e}"))
        .get(0)
}

/// (points_balance, sum of the ledger) of a customer, in SQL.
pub fn points_in_sql(public_id: &str) -> (i64, i64) {
    let row = primary()
        .query_one(
            "SELECT c.points_balance::bigint,
                    (SELECT coalesce(sum(l.points), 0)::bigint FROM loyalty_ledger l WHERE l.customer_id = c.id)
               FROM customers c WHERE c.public_id = $1",
            &[&public_id],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

// --- Session tokens (shared/customers) ---------------------------------------

pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

/// The key sessions are signed with locally: `SESSION_SECRET` of the
/// customers worker's .dev.vars, else of .local/secrets.env (scripts/dev
/// writes the one from the other), as its UTF-8 bytes.
pub fn session_key() -> Vec<u8> {
    super::dev_var("customers", "SESSION_SECRET")
        .unwrap_or_else(|| local_secret("SESSION_SECRET"))
        .into_bytes()
}

/// A session id as the worker makes them: 16 random bytes, base64url (22).
pub fn new_session_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("random bytes");
    b64url(&b)
}

/// `s1.<b64url(payload)>.<b64url(HMAC-SHA256(key, "s1." + b64url(payload)))>`,
/// payload `"{customer}.{session_id}.{iat}.{exp}"`.
pub fn mint_session(key: &[u8], customer: &str, sid: &str, iat: i64, exp: i64) -> String {
    let payload = b64url(format!("{customer}.{sid}.{iat}.{exp}").as_bytes());
    let signed = format!("s1.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(signed.as_bytes());
    format!("{signed}.{}", b64url(&mac.finalize().into_bytes()))
}

/// A fresh, valid session for `customer` under the local key.
pub fn fresh_session(customer: &str) -> String {
    let now = chrono_now();
    mint_session(
        &session_key(),
        customer,
        &new_session_id(),
        now,
        now + SESSION_TTL_SECS,
    )
}

/// What a session token says (not checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaims {
    pub customer: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// Reads a session token's payload; panics when it is not `s1.` shaped.
pub fn session_claims(token: &str) -> SessionClaims {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "s1.<payload>.<mac>: {token}");
    assert_eq!(parts[0], "s1", "{token}");
    let payload =
        String::from_utf8(b64url_decode(parts[1]).expect("b64url payload")).expect("ASCII payload");
    let fields: Vec<&str> = payload.split('.').collect();
    assert_eq!(fields.len(), 4, "customer.sid.iat.exp: {payload}");
    SessionClaims {
        customer: fields[0].to_string(),
        sid: fields[1].to_string(),
        iat: fields[2].parse().expect("iat"),
        exp: fields[3].parse().expect("exp"),
    }
}

/// `s` with the character at `i` replaced by another one of `alphabet`.
pub fn flip_char(s: &str, i: usize, alphabet: &str) -> String {
    let old = s.as_bytes()[i] as char;
    let new = alphabet.chars().find(|c| *c != old).unwrap();
    let mut out = s.to_string();
    out.replace_range(i..i + 1, &new.to_string());
    out
}

pub const B64URL_ALPHABET: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
