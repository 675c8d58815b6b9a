//! Inventory sync and low-stock alerts through the edge (the alerts worker's
//! `/admin/inventory` routes; docs/inventory.md): batches applied once per
//! external reference, refusals that leave the rest of the batch applied,
//! the request checks, the levels per warehouse, and the low-stock latch:
//! one outbox message per crossing, even with 20 checkouts at once.

mod support;

use serde_json::{json, Value};
use support::*;

const ADJUSTMENTS: &str = "/admin/inventory/adjustments";

fn admin() -> String {
    format!("Bearer {}", local_secret("ADMIN_TOKEN"))
}

/// A batch of `items`, as staff.
fn adjust(items: Value) -> Reply {
    post_json(
        ADJUSTMENTS,
        &json!({ "adjustments": items }),
        &[("authorization", &admin())],
    )
}

/// The batch's results, which must be a 200.
fn results(r: &Reply) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["results"].as_array().cloned().unwrap_or_default()
}

fn item(external_ref: &str, sku: &str, warehouse: &str, change: (&str, i64)) -> Value {
    let mut v = json!({"external_ref": external_ref, "sku": sku, "warehouse": warehouse,
                       "reason": "integration test"});
    v[change.0] = json!(change.1);
    v
}

fn warehouse_code(id: i64) -> String {
    primary()
        .query_one("SELECT code FROM warehouses WHERE id = $1", &[&id])
        .unwrap()
        .get(0)
}

/// (on_hand, reserved) of `sku` in warehouse `id`; None without a row.
fn level(sku: &str, warehouse: i64) -> Option<(i32, i32)> {
    stock_of(sku)
        .into_iter()
        .find(|(w, _, _)| *w == warehouse)
        .map(|(_, on_hand, reserved)| (on_hand, reserved))
}

fn stored_adjustments(refs: &[&str]) -> i64 {
    let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
    primary()
        .query_one(
            "SELECT count(*) FROM inventory_adjustments WHERE external_ref = ANY($1)",
            &[&refs],
        )
        .unwrap()
        .get(0)
}

/// Sets a stock row's own low-stock threshold (this does not run the
/// trigger: it fires on on_hand and reserved only).
fn set_threshold(sku: &str, warehouse: i64, threshold: i32) {
    primary()
        .execute(
            "UPDATE inventory_levels il SET low_stock_threshold = $3 FROM variants v
              WHERE v.id = il.variant_id AND v.sku = $1 AND il.warehouse_id = $2",
            &[&sku, &warehouse, &threshold],
        )
        .unwrap();
}

/// The low-stock messages the outbox holds for `sku`, oldest first.
fn low_stock_alerts(sku: &str) -> Vec<Value> {
    primary()
        .query(
            "SELECT payload::text FROM outbox
              WHERE topic = 'alerts' AND payload->>'kind' = 'low_stock' AND payload->>'sku' = $1
              ORDER BY id",
            &[&sku],
        )
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap())
        .collect()
}

/// Rows of `alerts` for a low-stock alert of `sku`: (message, posted).
fn low_stock_rows(sku: &str) -> Vec<(String, bool)> {
    primary()
        .query(
            "SELECT message, posted_at IS NOT NULL FROM alerts
              WHERE kind = 'low_stock' AND position($1 IN message) > 0 ORDER BY id",
            &[&format!("{sku} ")],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn latched(sku: &str, warehouse: i64) -> bool {
    primary()
        .query_one(
            "SELECT il.low_stock_alerted FROM inventory_levels il JOIN variants v ON v.id = il.variant_id
              WHERE v.sku = $1 AND il.warehouse_id = $2",
            &[&sku, &warehouse],
        )
        .unwrap()
        .get(0)
}

/// Checks out `cart` (one California shopper per cart), which must be 201.
fn checkout(cart: &str) -> Reply {
    let r = post_json(
        "/checkout",
        &checkout_body(cart),
        &[("idempotency-key", &unique("k"))],
    );
    assert_eq!(r.status, 201, "checkout: {}", r.body);
    r
}

/// `n` carts of the store, each holding 1 of `sku`, made 10 at a time.
fn carts_with_one(store: &Store, sku: &str, n: usize) -> Vec<String> {
    let (store, sku) = (store.clone(), sku.to_string());
    concurrently(10, move |i| {
        (0..n)
            .filter(|k| k % 10 == i)
            .map(|_| store.cart_with(&sku, 1))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}

/// `carts` checked out all at once; every one must succeed.
fn check_out_together(carts: Vec<String>) {
    let n = carts.len();
    let statuses = concurrently(n, move |i| {
        post_json(
            "/checkout",
            &checkout_body(&carts[i]),
            &[("idempotency-key", &unique("k"))],
        )
        .status
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

#[test]
fn a_replayed_batch_answers_its_stored_results_and_changes_nothing() {
    let store = Store::create("US-CA", 2);
    let (w0, w1) = (store.warehouses[0], store.warehouses[1]);
    let (c0, c1) = (warehouse_code(w0), warehouse_code(w1));
    let sku = fresh_sku("4.00", &[(w0, 10), (w1, 5)]);
    let (r1, r2) = (unique("rcv-"), unique("count-"));
    let batch = json!([
        item(&r1, &sku, &c0, ("delta", 5)),
        item(&r2, &sku, &c1, ("set_on_hand", 2)),
    ]);

    let first = results(&adjust(batch.clone()));
    assert_eq!(first.len(), 2);
    assert_eq!(
        (
            &first[0]["external_ref"],
            &first[0]["outcome"],
            &first[0]["replayed"]
        ),
        (&json!(r1), &json!("applied"), &json!(false))
    );
    assert_eq!(
        (&first[0]["on_hand_before"], &first[0]["on_hand_after"]),
        (&json!(10), &json!(15))
    );
    assert_eq!(
        (&first[1]["on_hand_before"], &first[1]["on_hand_after"]),
        (&json!(5), &json!(2))
    );
    assert_eq!(stock_of(&sku), vec![(w0, 15, 0), (w1, 2, 0)]);

    // The same batch again: the stored results, nothing applied.
    let again = results(&adjust(batch));
    for (a, f) in again.iter().zip(&first) {
        assert_eq!(a["replayed"], true, "{a}");
        assert_eq!(a["replayed_with_different_content"], false, "{a}");
        for field in [
            "external_ref",
            "outcome",
            "on_hand_before",
            "on_hand_after",
            "sku",
            "warehouse",
        ] {
            assert_eq!(a[field], f[field], "{field} of {a}");
        }
    }
    assert_eq!(stock_of(&sku), vec![(w0, 15, 0), (w1, 2, 0)]);

    // A reference reused for another change still answers what it did.
    let other = results(&adjust(json!([item(&r1, &sku, &c0, ("delta", 50))])));
    assert_eq!(other[0]["replayed"], true);
    assert_eq!(other[0]["replayed_with_different_content"], true);
    assert_eq!(other[0]["delta"], 5, "the stored change, not the new one");
    assert_eq!(stock_of(&sku), vec![(w0, 15, 0), (w1, 2, 0)]);
    assert_eq!(stored_adjustments(&[&r1, &r2]), 2);
}

#[test]
fn concurrent_deliveries_of_one_batch_apply_it_once() {
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let code = warehouse_code(w);
    let sku = fresh_sku("4.00", &[(w, 10)]);
    let refs: Vec<String> = (0..5).map(|_| unique("pos-")).collect();
    let batch: Vec<Value> = refs
        .iter()
        .map(|r| item(r, &sku, &code, ("delta", 1)))
        .collect();
    let replies = concurrently(8, move |_| adjust(json!(batch.clone())));
    let mut fresh = vec![0; refs.len()];
    for r in &replies {
        for (i, res) in results(r).iter().enumerate() {
            assert_eq!(res["outcome"], "applied", "{res}");
            if res["replayed"] == false {
                fresh[i] += 1;
            }
        }
    }
    assert_eq!(
        fresh,
        vec![1; refs.len()],
        "each adjustment applied by exactly one request"
    );
    assert_eq!(level(&sku, w), Some((15, 0)));
}

#[test]
fn an_adjustment_below_reserved_is_refused_while_the_rest_of_the_batch_applies() {
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let code = warehouse_code(w);
    let skus = fresh_skus(2, "6.00", &[(w, 5)]);
    let (a, b) = (&skus[0], &skus[1]);
    checkout(&store.cart_with(a, 3));
    assert_eq!(level(a, w), Some((5, 3)), "3 reserved by the checkout");

    let refs: Vec<String> = (0..4).map(|_| unique("adj-")).collect();
    let res = results(&adjust(json!([
        item(&refs[0], a, &code, ("set_on_hand", 2)),
        item(&refs[1], a, &code, ("delta", -6)),
        item(&refs[2], b, &code, ("delta", -4)),
        item(&refs[3], a, &code, ("set_on_hand", 3)),
    ])));
    assert_eq!(res[0]["outcome"], "refused");
    assert_eq!(res[0]["refusal"], "below_reserved");
    assert_eq!(
        (
            &res[0]["on_hand_before"],
            &res[0]["reserved"],
            &res[0]["requested_on_hand"]
        ),
        (&json!(5), &json!(3), &json!(2))
    );
    assert!(res[0].get("on_hand_after").is_none(), "{}", res[0]);
    // Below 0 is below reserved too.
    assert_eq!(
        (&res[1]["refusal"], &res[1]["requested_on_hand"]),
        (&json!("below_reserved"), &json!(-1))
    );
    assert_eq!(
        (&res[2]["outcome"], &res[2]["on_hand_after"]),
        (&json!("applied"), &json!(1))
    );
    // Exactly what is reserved is allowed.
    assert_eq!(
        (&res[3]["outcome"], &res[3]["on_hand_after"]),
        (&json!("applied"), &json!(3))
    );
    assert_eq!(level(a, w), Some((3, 3)));
    assert_eq!(level(b, w), Some((1, 0)));

    // A refused reference stays refused, even once it would fit.
    let replay = results(&adjust(json!([item(
        &refs[0],
        a,
        &code,
        ("set_on_hand", 2)
    )])));
    assert_eq!(
        (&replay[0]["outcome"], &replay[0]["replayed"]),
        (&json!("refused"), &json!(true))
    );
}

#[test]
fn unknown_skus_and_warehouses_are_refused_and_the_rest_applies() {
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let code = warehouse_code(w);
    let sku = fresh_sku("3.00", &[(w, 7)]);
    let nobody = unique("NOSUCH");
    let nowhere = format!("no-such-{}", unique("").to_ascii_lowercase());
    let refs: Vec<String> = (0..4).map(|_| unique("u-")).collect();
    let res = results(&adjust(json!([
        item(&refs[0], &nobody, &code, ("delta", 1)),
        item(&refs[1], &sku, &nowhere, ("delta", 1)),
        item(&refs[2], &nobody, &nowhere, ("set_on_hand", 1)),
        item(&refs[3], &sku, &code, ("delta", 2)),
    ])));
    let refusals: Vec<&Value> = res.iter().map(|r| &r["refusal"]).collect();
    assert_eq!(
        refusals,
        vec![
            &json!("unknown_sku"),
            &json!("unknown_warehouse"),
            &json!("unknown_sku"),
            &Value::Null
        ]
    );
    assert!(res[..3].iter().all(|r| r["outcome"] == "refused"));
    assert_eq!(res[3]["outcome"], "applied");
    assert_eq!(stock_of(&sku), vec![(w, 9, 0)]);
    assert_eq!(
        stored_adjustments(&refs.iter().map(String::as_str).collect::<Vec<_>>()),
        4
    );
}

#[test]
fn a_warehouse_without_a_stock_row_gets_one_only_when_the_adjustment_applies() {
    let store = Store::create("US-CA", 3);
    let (w0, w1, w2) = (
        store.warehouses[0],
        store.warehouses[1],
        store.warehouses[2],
    );
    let sku = fresh_sku("3.00", &[(w0, 4)]);
    let res = results(&adjust(json!([
        item(&unique("n-"), &sku, &warehouse_code(w1), ("delta", 6)),
        item(&unique("n-"), &sku, &warehouse_code(w2), ("delta", -1)),
    ])));
    assert_eq!(
        (
            &res[0]["outcome"],
            &res[0]["on_hand_before"],
            &res[0]["on_hand_after"]
        ),
        (&json!("applied"), &json!(0), &json!(6))
    );
    assert_eq!(
        (&res[1]["outcome"], &res[1]["refusal"]),
        (&json!("refused"), &json!("below_reserved"))
    );
    assert_eq!(
        stock_of(&sku),
        vec![(w0, 4, 0), (w1, 6, 0)],
        "no row for the refused one"
    );
}

#[test]
fn bad_bodies_are_refused_with_the_error_shape_and_nothing_is_written() {
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let code = warehouse_code(w);
    let sku = fresh_sku("3.00", &[(w, 7)]);
    let auth = admin();
    let good = |r: &str| item(r, &sku, &code, ("delta", 1));
    let first_ref = unique("never-");
    let mut both = good(&unique("b-"));
    both["set_on_hand"] = json!(3);
    let mut extra = good(&unique("x-"));
    extra["warehouse_id"] = json!(w);
    let many: Vec<Value> = (0..101)
        .map(|i| good(&format!("{first_ref}-{i}")))
        .collect();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"adjustments\": [".to_vec(), 400, "invalid_json"),
        (b"[]".to_vec(), 400, "invalid_json"),
        (json!({"adjustments": [good(&first_ref)], "dry_run": true}).to_string().into_bytes(), 400, "unknown_field"),
        (json!({"adjustments": [good(&first_ref), extra]}).to_string().into_bytes(), 400, "unknown_field"),
        (json!({"adjustments": []}).to_string().into_bytes(), 422, "invalid_adjustments"),
        (json!({}).to_string().into_bytes(), 422, "invalid_adjustments"),
        (json!({ "adjustments": many }).to_string().into_bytes(), 422, "invalid_adjustments"),
        (json!({"adjustments": [good(&first_ref), item("z", &sku, &code, ("delta", 0))]}).to_string().into_bytes(), 422, "invalid_delta"),
        (json!({"adjustments": [good(&first_ref), item("z", &sku, &code, ("delta", 1_000_001))]}).to_string().into_bytes(), 422, "invalid_delta"),
        (json!({"adjustments": [good(&first_ref), item("z", &sku, &code, ("set_on_hand", -1))]}).to_string().into_bytes(), 422, "invalid_set_on_hand"),
        (json!({"adjustments": [good(&first_ref), both]}).to_string().into_bytes(), 422, "invalid_adjustment"),
        (json!({"adjustments": [good(&first_ref), good(&first_ref)]}).to_string().into_bytes(), 422, "duplicate_external_ref"),
        (json!({"adjustments": [good(&first_ref), item("z", "lower-sku", &code, ("delta", 1))]}).to_string().into_bytes(), 422, "invalid_sku"),
        (json!({"adjustments": [good(&first_ref), item("z", &sku, "a warehouse", ("delta", 1))]}).to_string().into_bytes(), 422, "invalid_warehouse"),
        (json!({"adjustments": [good(&first_ref), item(" z", &sku, &code, ("delta", 1))]}).to_string().into_bytes(), 422, "invalid_external_ref"),
    ];
    for (body, status, code) in cases {
        let r = request(
            "POST",
            ADJUSTMENTS,
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            Some(&body),
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{}: {}",
            String::from_utf8_lossy(&body[..body.len().min(120)]),
            r.body
        );
    }
    let r = request(
        "POST",
        ADJUSTMENTS,
        &[("content-type", "text/plain"), ("authorization", &auth)],
        Some(
            json!({ "adjustments": [good(&first_ref)] })
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (415, "unsupported_media_type")
    );
    assert_eq!(stored_adjustments(&[&first_ref]), 0);
    assert_eq!(stock_of(&sku), vec![(w, 7, 0)]);
}

#[test]
fn the_inventory_routes_need_the_admin_token() {
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let sku = fresh_sku("3.00", &[(w, 7)]);
    let r = unique("t-");
    let body = json!({"adjustments": [item(&r, &sku, &warehouse_code(w), ("delta", 1))]});
    let forged = "Bearer 0123456789012345678901234567890123456789";
    let none = post_json(ADJUSTMENTS, &body, &[]);
    assert_eq!(
        (none.status, none.error_code().as_str()),
        (401, "unauthorized")
    );
    let wrong = post_json(ADJUSTMENTS, &body, &[("authorization", forged)]);
    assert_eq!(
        (wrong.status, wrong.error_code().as_str()),
        (403, "forbidden")
    );
    // The token is checked before the body: a bad one is still 401/403.
    let junk = request(
        "POST",
        ADJUSTMENTS,
        &[("content-type", "application/json")],
        Some(b"{"),
    );
    assert_eq!(junk.status, 401, "{}", junk.body);
    let path = format!("/admin/inventory?sku={sku}");
    let none = get(&path);
    assert_eq!(
        (none.status, none.error_code().as_str()),
        (401, "unauthorized")
    );
    let wrong = get_with(&path, &[("authorization", forged)]);
    assert_eq!(
        (wrong.status, wrong.error_code().as_str()),
        (403, "forbidden")
    );
    assert_eq!(stored_adjustments(&[&r]), 0);
    assert_eq!(stock_of(&sku), vec![(w, 7, 0)]);
}

#[test]
fn levels_show_each_warehouse_with_available_threshold_and_low_stock() {
    let store = Store::create("US-CA", 2);
    let (w0, w1) = (store.warehouses[0], store.warehouses[1]);
    let (c0, c1) = (warehouse_code(w0), warehouse_code(w1));
    let sku = fresh_sku("3.00", &[(w0, 10), (w1, 30)]);
    set_threshold(&sku, w0, 12);
    let default: i32 = primary()
        .query_one(
            "SELECT default_low_stock_threshold FROM stock_settings",
            &[],
        )
        .unwrap()
        .get(0);
    // Reserves 2 in w1 (the warehouse with the most stock).
    checkout(&store.cart_with(&sku, 2));
    wait_replica_caught_up();

    let auth = admin();
    let r = get_with(
        &format!("/admin/inventory?sku={sku}"),
        &[("authorization", &auth)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let mut expected = vec![
        json!({"warehouse": c0, "on_hand": 10, "reserved": 0, "available": 10,
               "threshold": 12, "threshold_source": "own", "low_stock": true,
               "low_stock_alerted": false}),
        json!({"warehouse": c1, "on_hand": 30, "reserved": 2, "available": 28,
               "threshold": default, "threshold_source": "default", "low_stock": 28 < default,
               "low_stock_alerted": 28 < default}),
    ];
    expected.sort_by(|a, b| a["warehouse"].as_str().cmp(&b["warehouse"].as_str()));
    assert_eq!(r.json(), json!({"sku": sku, "warehouses": expected}));

    // Read-your-writes: the adjustment's x-db-lsn makes the next read see it.
    let a = adjust(json!([item(&unique("r-"), &sku, &c0, ("delta", 5))]));
    assert_eq!(results(&a)[0]["outcome"], "applied");
    let lsn = a
        .header("x-db-lsn")
        .expect("a write answers its x-db-lsn")
        .to_string();
    let after = get_with(
        &format!("/admin/inventory?sku={sku}"),
        &[("authorization", &auth), ("x-db-lsn", &lsn)],
    );
    let w = after.json()["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["warehouse"] == json!(c0))
        .cloned()
        .unwrap();
    assert_eq!(
        (&w["on_hand"], &w["low_stock"]),
        (&json!(15), &json!(false))
    );

    // A SKU stocked nowhere has no warehouses; an unknown one is 404.
    let bare = fresh_sku("3.00", &[]);
    wait_replica_caught_up();
    let r = get_with(
        &format!("/admin/inventory?sku={bare}"),
        &[("authorization", &auth)],
    );
    assert_eq!(r.json(), json!({"sku": bare, "warehouses": []}));
    let r = get_with(
        &format!("/admin/inventory?sku={}", unique("NOSUCH")),
        &[("authorization", &auth)],
    );
    assert_eq!((r.status, r.error_code().as_str()), (404, "sku_not_found"));
    for bad in [
        "/admin/inventory",
        "/admin/inventory?sku=",
        "/admin/inventory?sku=lower-case",
    ] {
        let r = get_with(bad, &[("authorization", &auth)]);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (422, "invalid_sku"),
            "{bad}"
        );
    }
    let r = get_with(
        &format!("/admin/inventory?sku={sku}&store=1"),
        &[("authorization", &auth)],
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "invalid_parameter")
    );
}

#[test]
fn twenty_checkouts_crossing_the_threshold_together_enqueue_one_alert_and_a_restock_rearms_it() {
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let code = warehouse_code(w);
    let sku = fresh_sku("2.00", &[(w, 30)]);
    set_threshold(&sku, w, 15);

    // 20 units at once: available goes 30 -> 10 and crosses 15 once.
    check_out_together(carts_with_one(&store, &sku, 20));
    assert_eq!(level(&sku, w), Some((30, 20)));
    let alerts = low_stock_alerts(&sku);
    assert_eq!(alerts.len(), 1, "one alert per crossing: {alerts:?}");
    assert_eq!(
        alerts[0],
        json!({"kind": "low_stock", "sku": sku, "warehouse": code, "available": 14, "threshold": 15})
    );
    assert!(latched(&sku, w));

    // The alert reaches the staff's webhook once, and is recorded as posted.
    relay_outbox();
    let posted = eventually(20, || {
        let m = slack_messages_with(&sku);
        (!m.is_empty()).then_some(m)
    })
    .unwrap_or_default();
    assert_eq!(posted.len(), 1, "one Slack message: {posted:?}");
    let text = posted[0]["body"]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(&sku) && text.contains("14 available") && text.contains("threshold 15"),
        "{text}"
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    let posted = slack_messages_with(&sku);
    assert_eq!(posted.len(), 1, "still one Slack message: {posted:?}");
    assert_eq!(low_stock_rows(&sku), vec![(text.to_string(), true)]);

    // Still low: another sale says nothing new.
    checkout(&store.cart_with(&sku, 1));
    assert_eq!(low_stock_alerts(&sku).len(), 1);

    // A restock above the threshold re-arms the latch...
    let res = results(&adjust(json!([item(
        &unique("restock-"),
        &sku,
        &code,
        ("delta", 20)
    )])));
    assert_eq!(res[0]["on_hand_after"], 50);
    assert!(!latched(&sku, w), "available 29 >= 15: re-armed");
    assert_eq!(low_stock_alerts(&sku).len(), 1);

    // ...and the next crossing alerts again, once.
    check_out_together(carts_with_one(&store, &sku, 20));
    assert_eq!(level(&sku, w), Some((50, 41)));
    let alerts = low_stock_alerts(&sku);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(
        (&alerts[1]["available"], &alerts[1]["threshold"]),
        (&json!(14), &json!(15))
    );
}

#[test]
fn an_adjustment_that_takes_available_below_the_threshold_alerts_once() {
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let code = warehouse_code(w);
    let sku = fresh_sku("2.00", &[(w, 20)]);
    set_threshold(&sku, w, 10);
    let res = results(&adjust(json!([
        item(&unique("loss-"), &sku, &code, ("delta", -12)),
        item(&unique("loss-"), &sku, &code, ("delta", -1)),
    ])));
    assert!(res.iter().all(|r| r["outcome"] == "applied"), "{res:?}");
    let alerts = low_stock_alerts(&sku);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        (&alerts[0]["available"], &alerts[0]["threshold"]),
        (&json!(8), &json!(10))
    );
}

#[test]
fn a_paid_order_committing_its_reserved_stock_raises_no_second_alert() {
    let store = Store::create("US-CA", 1);
    store.set_fulfillment("manual"); // the order stays `paid`
    let w = store.warehouses[0];
    let sku = fresh_sku("9.00", &[(w, 5)]);
    set_threshold(&sku, w, 5);
    let mut body = checkout_body(&store.cart_with(&sku, 1));
    body["payment_provider"] = json!("stripe");
    let r = post_json("/checkout", &body, &[("idempotency-key", &unique("k"))]);
    assert_eq!(r.status, 201, "checkout: {}", r.body);
    let answer = r.json();
    // Reserving 1 takes available from 5 to 4: the crossing.
    assert_eq!(low_stock_alerts(&sku).len(), 1);

    let order = PaidOrder {
        order_id: answer["order_id"].as_str().unwrap().to_string(),
        token: answer["order_token"].as_str().unwrap().to_string(),
        payment: answer["payment"].clone(),
        sku: sku.clone(),
        store: store.clone(),
        total: String::new(),
    };
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    // Paid: on hand and reserved both went down by 1, available stayed 4.
    assert_eq!(level(&sku, w), Some((4, 0)));
    assert_eq!(low_stock_alerts(&sku).len(), 1, "no new crossing");
    assert!(latched(&sku, w));
}
