//! Customer accounts through the edge (spec: .local/spec11.md): signup that
//! answers the same for a new and a taken address, verification by mail,
//! normalised emails, the documented 400s, login and its cookie, the
//! profile, logout, and password reset.

mod support;

use serde_json::{json, Value};
use support::*;

fn address(line1: &str) -> Value {
    json!({"name": "Ada Lovelace", "line1": line1, "city": "Somewhere",
           "state": "CA", "postal_code": "94110", "country": "US"})
}

/// Seconds from now until an RFC 3339 time, as PostgreSQL reads it.
fn secs_until(rfc3339: &str) -> f64 {
    primary()
        .query_one(
            "SELECT extract(epoch FROM $1::text::timestamptz - now())::float8",
            &[&rfc3339],
        )
        .unwrap_or_else(|e| panic!("not a timestamp {rfc3339:?}: {e}"))
        .get(0)
}

fn customers_with_email(email: &str) -> i64 {
    primary()
        .query_one("SELECT count(*) FROM customers WHERE email = $1", &[&email])
        .unwrap()
        .get(0)
}

#[test]
fn signup_answers_the_same_for_a_new_and_a_taken_email_and_the_owner_is_told() {
    let new_email = fresh_customer_email();
    let fresh = signup(&new_email, &fresh_password(), "Ada Lovelace");
    let owner = signup_verified(None);
    let mails_before = mail_to(&owner.email).len();
    let taken = signup(&owner.email, &fresh_password(), "Mallory");

    assert_eq!(fresh.status, 202, "{}", fresh.body);
    assert_eq!(fresh.json(), json!({"status": "verification_sent"}));
    assert_eq!(
        (taken.status, taken.json()),
        (fresh.status, fresh.json()),
        "a taken email gets the answer a new one gets"
    );
    assert_eq!(taken.header("content-type"), fresh.header("content-type"));

    // The new address got a verify link; the owner a mail saying someone
    // tried to sign up with it, and no way to verify anything.
    let link = wait_for_link(&new_email, "verify", &[]);
    assert_eq!(link_payload(&link).unwrap()["e"], new_email.as_str());
    let mails = wait_for_mails(&owner.email, mails_before + 1);
    let told = &mails[mails_before];
    assert_eq!(told["to"], json!([owner.email]), "{told}");
    let text = mail_text(told).to_lowercase();
    assert!(text.contains("already"), "the 'already' mail: {told}");
    assert!(
        tokens_in(told)
            .iter()
            .all(|t| link_payload(t).is_none_or(|p| p["p"] != "verify")),
        "no verify link for someone else's signup: {told}"
    );

    // The taken account is untouched: same name, same password.
    assert_eq!(customers_with_email(&owner.email), 1);
    let r = login(&owner.email, &owner.password);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["customer"]["name"], "Ada Lovelace");
}

#[test]
fn emails_are_trimmed_and_lower_cased_at_signup_and_login() {
    let tag = unique("").to_ascii_lowercase();
    let typed = format!(" Ada+{tag}@Example.COM ");
    let stored = format!("ada+{tag}@example.com");
    let password = fresh_password();
    let r = signup(&typed, &password, "Ada");
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(customers_with_email(&stored), 1, "stored normalised");

    let token = wait_for_link(&stored, "verify", &[]);
    assert_eq!(
        mail_to(&stored)[0]["to"],
        json!([stored]),
        "mailed to the normal form"
    );
    let v = verify_email(&token);
    assert_eq!(v.status, 200, "{}", v.body);

    let r = login(&stored, &password);
    assert_eq!(r.status, 200, "{}", r.body);
    let profile = &r.json()["customer"];
    assert_eq!(profile["email"], stored.as_str());
    assert_eq!(profile["email_verified"], true);
    // The same normalisation on the way in to login.
    let r = login(&format!("  ADA+{tag}@example.Com"), &password);
    assert_eq!(r.status, 200, "{}", r.body);

    // Signing up again in other capitals is the taken address, not a new one.
    let again = signup(&stored.to_uppercase(), &fresh_password(), "Ada");
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(customers_with_email(&stored), 1);
}

#[test]
fn invalid_signups_are_400_with_the_documented_codes_and_create_nothing() {
    let ok_password = fresh_password();
    let long_email = format!("{}@example.com", "a".repeat(255 - "@example.com".len()));
    let cases: Vec<(String, String, String, &str)> = vec![
        // Passwords: 8-256 characters (not bytes), not a common one.
        (
            fresh_customer_email(),
            "short7!".into(),
            "Ada".into(),
            "invalid_password",
        ),
        (
            fresh_customer_email(),
            "é".repeat(7),
            "Ada".into(),
            "invalid_password",
        ),
        (
            fresh_customer_email(),
            "x".repeat(257),
            "Ada".into(),
            "invalid_password",
        ),
        (
            fresh_customer_email(),
            "é".repeat(257),
            "Ada".into(),
            "invalid_password",
        ),
        (
            fresh_customer_email(),
            "".into(),
            "Ada".into(),
            "invalid_password",
        ),
        (
            fresh_customer_email(),
            "password".into(),
            "Ada".into(),
            "common_password",
        ),
        (
            fresh_customer_email(),
            "PassWord".into(),
            "Ada".into(),
            "common_password",
        ),
        (
            fresh_customer_email(),
            "12345678".into(),
            "Ada".into(),
            "common_password",
        ),
        // Emails.
        (
            "not-an-email".into(),
            ok_password.clone(),
            "Ada".into(),
            "invalid_email",
        ),
        (
            "".into(),
            ok_password.clone(),
            "Ada".into(),
            "invalid_email",
        ),
        (
            "ada@localhost".into(),
            ok_password.clone(),
            "Ada".into(),
            "invalid_email",
        ),
        (
            "ada lovelace@example.com".into(),
            ok_password.clone(),
            "Ada".into(),
            "invalid_email",
        ),
        (
            "ada@@example.com".into(),
            ok_password.clone(),
            "Ada".into(),
            "invalid_email",
        ),
        (
            long_email,
            ok_password.clone(),
            "Ada".into(),
            "invalid_email",
        ),
        // Names: 1-200 characters once trimmed, no control characters.
        (
            fresh_customer_email(),
            ok_password.clone(),
            "".into(),
            "invalid_name",
        ),
        (
            fresh_customer_email(),
            ok_password.clone(),
            "   ".into(),
            "invalid_name",
        ),
        (
            fresh_customer_email(),
            ok_password.clone(),
            "é".repeat(201),
            "invalid_name",
        ),
        (
            fresh_customer_email(),
            ok_password.clone(),
            "Ada\nLovelace".into(),
            "invalid_name",
        ),
        (
            fresh_customer_email(),
            ok_password.clone(),
            "Ada\u{7}".into(),
            "invalid_name",
        ),
    ];
    for (email, password, name, code) in &cases {
        let r = signup(email, password, name);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, *code),
            "email {email:?} password {password:?} name {name:?}: {}",
            r.body
        );
        assert_eq!(
            customers_with_email(&email.trim().to_ascii_lowercase()),
            0,
            "{email}: no account"
        );
    }
    // The boundaries themselves are fine: 8 and 256 characters (256 'é' is
    // 512 bytes), a 200-character name.
    for (password, name) in [
        ("é-Qx7#Lm".to_string(), "A".to_string()),
        (format!("{}Qx7#Lm", "é".repeat(250)), "é".repeat(200)),
    ] {
        assert!([8, 256].contains(&password.chars().count()), "{password}");
        let email = fresh_customer_email();
        let r = signup(&email, &password, &name);
        assert_eq!(
            r.status,
            202,
            "{} chars: {}",
            password.chars().count(),
            r.body
        );
        assert_eq!(customers_with_email(&email), 1);
    }
    // The mails the refused ones would have had: none (checked last, so the
    // accepted ones' mails had time to arrive first).
    let accepted = fresh_customer_email();
    assert_eq!(signup(&accepted, &fresh_password(), "Ada").status, 202);
    wait_for_link(&accepted, "verify", &[]);
    for (email, ..) in cases
        .iter()
        .filter(|c| c.0.contains("@example.com") && c.0.len() < 100)
    {
        assert!(mail_to(email).is_empty(), "{email} was mailed");
    }
}

#[test]
fn login_before_verification_is_invalid_credentials_like_a_wrong_password() {
    let email = fresh_customer_email();
    let password = fresh_password();
    assert_eq!(signup(&email, &password, "Ada").status, 202);

    let unverified = login(&email, &password);
    let wrong = login(&email, "not-the-password-1");
    let unknown = login(&fresh_customer_email(), &password);
    for (what, r) in [
        ("unverified", &unverified),
        ("wrong", &wrong),
        ("unknown", &unknown),
    ] {
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(r.error_code(), "invalid_credentials", "{what}");
        assert!(
            set_cookie(r, "session").is_none(),
            "{what}: no session cookie"
        );
    }
    assert_eq!(
        error_body(&unverified),
        error_body(&unknown),
        "the same body"
    );
    assert_eq!(error_body(&wrong), error_body(&unknown), "the same body");

    let token = wait_for_link(&email, "verify", &[]);
    let v = verify_email(&token);
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.json()["claimed_orders"], 0);
    let r = login(&email, &password);
    assert_eq!(r.status, 200, "verified now: {}", r.body);

    let sig = token.rfind('.').unwrap() + 1;
    let forged = flip_char(&token, sig, B64URL_ALPHABET);
    for bad in ["", "l1.garbage.token", forged.as_str()] {
        let r = verify_email(bad);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invalid_token"),
            "{bad:?}: {}",
            r.body
        );
    }
}

#[test]
fn login_sets_an_httponly_secure_lax_cookie_that_alone_authenticates() {
    let c = signup_verified(None);
    let r = login(&c.email, &c.password);
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    let token = answer["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("s1."), "{token}");
    assert_eq!(answer["customer"]["email"], c.email.as_str());
    assert!(
        answer["cart"].is_null() || answer["cart"]["status"] == "none",
        "no cart_id, no merge: {}",
        answer["cart"]
    );
    let left = secs_until(answer["expires_at"].as_str().unwrap());
    assert!(
        (SESSION_TTL_SECS as f64 - 120.0..=SESSION_TTL_SECS as f64 + 5.0).contains(&left),
        "expires in 14 days: {left} s"
    );

    let cookie = set_cookie(&r, "session").expect("a session cookie");
    let mut attrs = cookie.split(';').map(str::trim);
    assert_eq!(
        attrs.next(),
        Some(format!("session={token}").as_str()),
        "{cookie}"
    );
    let attrs: Vec<String> = attrs.map(str::to_ascii_lowercase).collect();
    for want in [
        "path=/",
        "max-age=1209600",
        "httponly",
        "secure",
        "samesite=lax",
    ] {
        assert!(attrs.iter().any(|a| a == want), "{want} in {cookie}");
    }

    // The cookie alone (no Authorization) opens the profile.
    let cookie_only = with_cookie("GET", "/customers/me", &token, None, None);
    assert_eq!(cookie_only.status, 200, "{}", cookie_only.body);
    let profile = cookie_only.json();
    assert_eq!(profile["id"], c.public_id.as_str());
    assert_eq!(profile["email"], c.email.as_str());
    assert!(
        c.public_id.len() == 30
            && c.public_id.starts_with("cus_")
            && c.public_id[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
        "cus_ and 26 of [0-9a-z]: {}",
        c.public_id
    );
    let head = with_cookie("HEAD", "/customers/me", &token, None, None);
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_unauthenticated(&get("/customers/me"), "no session");
    assert_unauthenticated(
        &get_with("/customers/me", &[("cookie", "session=")]),
        "empty cookie",
    );

    // Writes with the cookie need an allowed Origin; the bearer needs none.
    let body = json!({"name": "Ada King"});
    let r = with_cookie("PATCH", "/customers/me", &token, Some(&body), None);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "origin_not_allowed"),
        "no Origin"
    );
    let r = with_cookie(
        "PATCH",
        "/customers/me",
        &token,
        Some(&body),
        Some("https://evil.example"),
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "origin_not_allowed"),
        "evil Origin"
    );
    assert_eq!(
        me(&token).json()["name"],
        "Ada Lovelace",
        "refused writes changed nothing"
    );
    let r = with_cookie(
        "PATCH",
        "/customers/me",
        &token,
        Some(&body),
        Some(ALLOWED_ORIGIN),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["name"], "Ada King");
}

#[test]
fn the_profile_name_and_addresses_can_be_changed_within_limits() {
    let c = signup_verified(None);
    let r = patch_authed(
        "/customers/me",
        &json!({"name": "  Augusta Ada King  "}),
        &c.token,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["name"], "Augusta Ada King", "trimmed");
    assert_eq!(r.json()["addresses"], json!([]), "untouched");

    let two = json!([address("1 Main St"), address("2 Side St")]);
    let r = patch_authed("/customers/me", &json!({ "addresses": two }), &c.token);
    assert_eq!(r.status, 200, "{}", r.body);
    let profile = me(&c.token).json();
    assert_eq!(
        profile["name"], "Augusta Ada King",
        "a PATCH without name keeps it"
    );
    let lines: Vec<&str> = profile["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["line1"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["1 Main St", "2 Side St"]);
    assert_eq!(profile["addresses"][0]["postal_code"], "94110");
    for key in [
        "id",
        "email",
        "name",
        "email_verified",
        "addresses",
        "points_balance",
        "created_at",
    ] {
        assert!(profile.get(key).is_some(), "{key} in {profile}");
    }
    assert_eq!(profile["points_balance"], 0);

    // Refused, and nothing changes: 11 addresses, a bad one, a bad name.
    let eleven: Vec<Value> = (0..11).map(|i| address(&format!("{i} Main St"))).collect();
    let r = patch_authed("/customers/me", &json!({ "addresses": eleven }), &c.token);
    assert_eq!(r.status, 400, "11 addresses: {}", r.body);
    r.error_code();
    let mut bad = address("1 Main St");
    bad.as_object_mut().unwrap().remove("city");
    let r = patch_authed("/customers/me", &json!({ "addresses": [bad] }), &c.token);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_address"),
        "{}",
        r.body
    );
    let r = patch_authed("/customers/me", &json!({"name": ""}), &c.token);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_name"),
        "{}",
        r.body
    );
    assert_eq!(me(&c.token).json(), profile, "unchanged by the refusals");

    let anonymous = request(
        "PATCH",
        "/customers/me",
        &[("content-type", "application/json")],
        Some(br#"{"name":"Mallory"}"#),
    );
    assert_unauthenticated(&anonymous, "PATCH without a session");
}

#[test]
fn logout_revokes_the_session_and_clears_the_cookie() {
    let c = signup_verified(None);
    let other = login_token(&c.email, &c.password);
    assert_eq!(me(&c.token).status, 200);

    let r = request(
        "POST",
        "/customers/logout",
        &[("authorization", &auth_header(&c.token))],
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let cleared = set_cookie(&r, "session").expect("the cookie is cleared");
    assert!(cleared.starts_with("session=;"), "{cleared}");
    assert!(
        cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );

    assert_unauthenticated(&me(&c.token), "the logged-out token");
    assert_unauthenticated(
        &with_cookie("GET", "/customers/me", &c.token, None, None),
        "the logged-out token as a cookie",
    );
    assert_eq!(
        me(&other).status,
        200,
        "another session of the same customer lives on"
    );
}

#[test]
fn a_password_reset_link_sets_a_new_password_once_and_revokes_old_sessions() {
    let c = signup_verified(None);
    let seen = link_tokens(&c.email, "reset");
    let r = post_json("/customers/password-reset", &json!({"email": c.email}), &[]);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json(), json!({"status": "reset_sent"}));
    let token = wait_for_link(&c.email, "reset", &seen);
    let payload = link_payload(&token).unwrap();
    assert_eq!(
        (&payload["c"], &payload["e"]),
        (&json!(c.public_id), &json!(c.email))
    );
    let left = payload["x"].as_i64().unwrap() - chrono_now();
    assert!((3500..=3605).contains(&left), "valid for an hour: {left} s");

    // A weak new password is refused and spends nothing.
    let confirm = |password: &str| {
        post_json(
            "/customers/password-reset/confirm",
            &json!({"token": token, "password": password}),
            &[],
        )
    };
    let weak = confirm("short");
    assert_eq!(
        (weak.status, weak.error_code().as_str()),
        (400, "invalid_password")
    );
    let common = confirm("password");
    assert_eq!(
        (common.status, common.error_code().as_str()),
        (400, "common_password")
    );

    // Sessions are revoked by their whole-second `iat`: keep the old one in
    // an earlier second than the reset, and the new login in a later one.
    next_second();
    let new_password = fresh_password();
    let r = confirm(&new_password);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"reset": true}));
    next_second();

    let old = login(&c.email, &c.password);
    assert_eq!(
        (old.status, old.error_code().as_str()),
        (401, "invalid_credentials")
    );
    let fresh = login(&c.email, &new_password);
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    let fresh_token = fresh.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        me(&fresh_token).status,
        200,
        "a session after the reset works"
    );
    assert_unauthenticated(&me(&c.token), "a session from before the reset");

    let again = confirm(&fresh_password());
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (400, "invalid_token"),
        "a reset link works once: {}",
        again.body
    );
    assert_eq!(
        login(&c.email, &new_password).status,
        200,
        "still the new password"
    );
}

#[test]
fn a_reset_for_an_unknown_email_gets_the_same_202_and_no_mail() {
    let known = signup_verified(None);
    let unknown = fresh_customer_email();
    let a = post_json(
        "/customers/password-reset",
        &json!({ "email": unknown }),
        &[],
    );
    let seen = link_tokens(&known.email, "reset");
    let b = post_json(
        "/customers/password-reset",
        &json!({"email": known.email}),
        &[],
    );
    assert_eq!(b.status, 202, "{}", b.body);
    assert_eq!(
        (a.status, a.json()),
        (b.status, b.json()),
        "the same answer"
    );
    // The known address's mail arrives; by then the unknown one has none.
    wait_for_link(&known.email, "reset", &seen);
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(
        mail_to(&unknown).is_empty(),
        "no mail to an address with no account"
    );
    assert_eq!(customers_with_email(&unknown), 0, "and no account made");
}

#[test]
fn a_password_reset_also_verifies_the_email() {
    let email = fresh_customer_email();
    assert_eq!(signup(&email, &fresh_password(), "Ada").status, 202);
    let r = post_json("/customers/password-reset", &json!({ "email": email }), &[]);
    assert_eq!(r.status, 202, "{}", r.body);
    let token = wait_for_link(&email, "reset", &[]);
    let password = fresh_password();
    let r = post_json(
        "/customers/password-reset/confirm",
        &json!({"token": token, "password": password}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = login(&email, &password);
    assert_eq!(r.status, 200, "verified by the reset: {}", r.body);
    assert_eq!(r.json()["customer"]["email_verified"], true);
}
