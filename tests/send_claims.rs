//! A notice is sent once even when the queue delivers its message twice at
//! the same time: each delivery claims the notice in its row before calling
//! the provider (platform::send_claim; SQL alert_claim and
//! cart_recovery_claim). These tests call the claims as the alerts consumer
//! does, from many connections at once, on the real primary.

mod support;

use std::sync::{Arc, Barrier};

use support::*;

/// Runs `sql` (one text column) from `n` connections released together.
fn at_once(n: usize, sql: &'static str, params: Vec<String>) -> Vec<String> {
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, params) = (barrier.clone(), params.clone());
            std::thread::spawn(move || {
                let mut db = primary();
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect();
                barrier.wait();
                db.query_one(sql, &refs).unwrap().get::<_, String>(0)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn count(answers: &[String], what: &str) -> usize {
    answers.iter().filter(|a| *a == what).count()
}

const ALERT_CLAIM: &str = "SELECT alert_claim($1, 'low_stock', NULL, 'a test notice', $2::text::int)";
const RECOVERY_CLAIM: &str = "SELECT claim FROM cart_recovery_claim($1, $2::text::int)";

#[test]
fn of_ten_deliveries_of_one_alert_at_once_one_sends_and_the_rest_wait() {
    let key = unique("low_stock:claim-test-");
    let answers = at_once(10, ALERT_CLAIM, vec![key.clone(), "30".into()]);
    assert_eq!((count(&answers, "claimed"), count(&answers, "busy")), (1, 9), "{answers:?}");
    let mut db = primary();
    let rows: i64 = db.query_one("SELECT count(*) FROM alerts WHERE dedupe_key = $1", &[&key]).unwrap().get(0);
    assert_eq!(rows, 1, "one row for the notice");
    // Marked sent (as mark_posted does): every later delivery finds it sent.
    db.execute(
        "UPDATE alerts SET posted_at = now(), sending_until = NULL WHERE dedupe_key = $1",
        &[&key],
    )
    .unwrap();
    assert_eq!(at_once(3, ALERT_CLAIM, vec![key.clone(), "30".into()]), ["sent"; 3]);
    db.execute("DELETE FROM alerts WHERE dedupe_key = $1", &[&key]).unwrap();
}

#[test]
fn a_claim_whose_sender_gave_up_lapses_or_is_released() {
    let key = unique("low_stock:claim-test-");
    let mut db = primary();
    let claim = |db: &mut postgres::Client, lease: &str| -> String {
        db.query_one(ALERT_CLAIM, &[&key, &lease]).unwrap().get(0)
    };
    assert_eq!(claim(&mut db, "1"), "claimed");
    assert_eq!(claim(&mut db, "1"), "busy");
    // The sender crashed: its lease lapses and the next delivery sends.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(claim(&mut db, "30"), "claimed");
    // The send failed: the sender releases the claim (alerts::release).
    db.execute(
        "UPDATE alerts SET sending_until = NULL WHERE dedupe_key = $1 AND posted_at IS NULL",
        &[&key],
    )
    .unwrap();
    assert_eq!(claim(&mut db, "30"), "claimed");
    db.execute("DELETE FROM alerts WHERE dedupe_key = $1", &[&key]).unwrap();
}

#[test]
fn of_ten_deliveries_of_one_cart_recovery_at_once_one_mails() {
    let cart_id = format!("{:0>32}", unique("").to_lowercase());
    let mut db = primary();
    db.execute(
        "INSERT INTO cart_recovery (cart_id, store_id, email, queued_at) \
         SELECT $1, min(id), 'claims@example.com', now() FROM stores",
        &[&cart_id],
    )
    .unwrap();
    let answers = at_once(10, RECOVERY_CLAIM, vec![cart_id.clone(), "30".into()]);
    assert_eq!((count(&answers, "claimed"), count(&answers, "busy")), (1, 9), "{answers:?}");
    // A failed send releases the claim; the retry claims it again.
    let released: bool = db.query_one("SELECT cart_recovery_release($1)", &[&cart_id]).unwrap().get(0);
    assert!(released);
    assert_eq!(at_once(1, RECOVERY_CLAIM, vec![cart_id.clone(), "30".into()]), ["claimed"]);
    // Mailed: nothing more to send, however often it is delivered.
    let emailed: bool = db.query_one("SELECT cart_recovery_emailed($1)", &[&cart_id]).unwrap().get(0);
    assert!(emailed);
    assert_eq!(at_once(3, RECOVERY_CLAIM, vec![cart_id.clone(), "30".into()]), ["sent"; 3]);
    // No row for an unknown cart: the consumer acks it.
    let unknown = db
        .query(RECOVERY_CLAIM, &[&"f".repeat(32), &"30"])
        .unwrap();
    assert!(unknown.is_empty());
    db.execute("DELETE FROM cart_recovery WHERE cart_id = $1", &[&cart_id]).unwrap();
}
