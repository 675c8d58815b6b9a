use super::*;
use crate::view::tests::{personal_columns, words};

fn parse(query: &str) -> Result<DashboardQuery, ApiError> {
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    DashboardQuery::parse(&pairs)
}

fn enc(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn cursor(created_at: &str, id: i64) -> Cursor {
    Cursor {
        created_at: created_at.into(),
        id,
    }
}

fn highest_placeholder(sql: &str) -> usize {
    sql.split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .max()
        .unwrap_or(0)
}

fn summary(n: i64) -> OrderSummary {
    OrderSummary {
        id: n,
        order_id: format!("ord_{n:026}"),
        status: "paid".into(),
        total: "10.00".into(),
        currency: "USD".into(),
        created_at: format!("2026-01-01T00:00:{:02}.000000Z", 59 - n),
        updated_at: "2026-01-02T00:00:00.000000Z".into(),
    }
}

#[test]
fn defaults_and_the_pending_alias() {
    let q = parse("status=pending").unwrap();
    assert_eq!(
        q,
        DashboardQuery {
            status: OrderStatus::PendingPayment,
            limit: 50,
            cursor: None
        }
    );
    assert_eq!(
        parse("status=pending_payment").unwrap().status,
        OrderStatus::PendingPayment
    );
    for s in OrderStatus::ALL {
        assert_eq!(parse(&format!("status={}", s.as_str())).unwrap().status, s);
    }
    let q = parse("status=shipped&limit=100&_=cachebuster").unwrap();
    assert_eq!((q.status, q.limit), (OrderStatus::Shipped, 100));
    assert_eq!(parse("limit=1&status=paid").unwrap().limit, 1);
}

#[test]
fn a_missing_or_unknown_status_is_422_with_the_allowed_values() {
    for query in [
        "",
        "limit=5",
        "status=",
        "status=PAID",
        "status=shipping",
        "status=paid%20",
    ] {
        let err = parse(query).unwrap_err();
        assert_eq!((err.status, err.code), (422, "invalid_status"), "{query}");
        let body: serde_json::Value = serde_json::from_str(&err.to_json()).unwrap();
        let allowed: Vec<&str> = body["error"]["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(allowed, allowed_statuses(), "{query}");
        assert!(allowed.contains(&"pending") && allowed.contains(&"pending_payment"));
        assert_eq!(allowed.len(), 1 + OrderStatus::ALL.len());
    }
}

#[test]
fn bad_limits_unknown_and_repeated_parameters_are_400() {
    for (query, code) in [
        ("status=paid&limit=0", "invalid_parameter"),
        ("status=paid&limit=101", "invalid_parameter"),
        ("status=paid&limit=-1", "invalid_parameter"),
        ("status=paid&limit=ten", "invalid_parameter"),
        ("status=paid&limit=", "invalid_parameter"),
        ("status=paid&limit=1.5", "invalid_parameter"),
        ("status=paid&limit=5&limit=6", "invalid_parameter"),
        ("status=paid&status=paid", "invalid_parameter"),
        ("status=paid&store=1", "invalid_parameter"),
        ("status=paid&cursor=garbage!", "invalid_cursor"),
        ("status=paid&cursor=", "invalid_cursor"),
    ] {
        let err = parse(query).unwrap_err();
        assert_eq!((err.status, err.code), (400, code), "{query}");
    }
}

#[test]
fn the_cursor_round_trips_opaque_and_url_safe() {
    for (at, id) in [
        ("2026-01-31T09:15:00.123456Z", 1),
        ("2024-02-29T23:59:59.999999Z", 42),
        ("0001-01-01T00:00:00.000000Z", i64::MAX),
    ] {
        let c = cursor(at, id);
        let token = c.encode();
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert!(!token.contains(at), "opaque: {token}");
        assert_eq!(Cursor::decode(&token).unwrap(), c);
        let q = parse(&format!("status=paid&cursor={token}")).unwrap();
        assert_eq!(q.cursor, Some(c));
    }
}

#[test]
fn tampered_or_foreign_cursors_are_400() {
    let good = "2026-01-31T09:15:00.123456Z";
    for bad in [
        String::new(),
        "!!!".to_string(),
        "a".repeat(300),
        enc(&format!("o2|{good}|1")),
        // The catalog's newest-first cursor is not ours.
        enc(&format!("v1|newest|{good}|1")),
        enc(&format!("v1|{good}|1")),
        enc(&format!("o1|{good}|1|extra")),
        enc(&format!("o1|{good}")),
        enc(&format!("o1|{good}|0")),
        enc(&format!("o1|{good}|-1")),
        enc(&format!("o1|{good}|01")),
        enc(&format!("o1|{good}|+1")),
        enc(&format!("o1|{good}|9223372036854775808")),
        enc(&format!("o1|{good}|1 OR 1=1")),
        enc("o1|2026-01-31 09:15:00|1"),
        enc("o1|2026-01-31T09:15:00Z|1"),
        enc("o1|2026-01-31T09:15:00.123456+00:00|1"),
        enc("o1|2026-02-30T00:00:00.000000Z|1"),
        enc("o1|2025-02-29T00:00:00.000000Z|1"),
        enc("o1|2026-13-01T00:00:00.000000Z|1"),
        enc("o1|2026-01-01T24:00:00.000000Z|1"),
        enc("o1|2026-01-01T23:60:00.000000Z|1"),
        enc("o1|0000-01-01T00:00:00.000000Z|1"),
        enc("o1|2026-01-01T00:00:00.000000Z'); DROP TABLE orders; --|1"),
        // Valid base64url of bytes that are not UTF-8.
        URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x7c]),
        // Padded base64, and the standard alphabet's characters.
        format!("{}==", enc(&format!("o1|{good}|1"))),
        format!("+{}", &enc(&format!("o1|{good}|1"))[1..]),
    ] {
        let err = Cursor::decode(&bad).unwrap_err();
        assert_eq!((err.status, err.code), (400, "invalid_cursor"), "{bad:?}");
    }
    // A valid token with one character changed either fails or is another
    // well-formed position: never a database error.
    let token = cursor(good, 12345).encode();
    for i in 0..token.len() {
        for c in ['A', 'z', '0', '-', '_'] {
            let mut t = token.clone().into_bytes();
            t[i] = c as u8;
            let t = String::from_utf8(t).unwrap();
            if let Ok(c) = Cursor::decode(&t) {
                assert!(is_utc_timestamp(&c.created_at) && c.id > 0, "{t}");
            }
        }
    }
}

#[test]
fn store_ids_are_positive_bigints_else_404() {
    assert_eq!(parse_store_id("1"), Ok(1));
    assert_eq!(parse_store_id("9223372036854775807"), Ok(i64::MAX));
    for bad in [
        "0",
        "-1",
        "+1",
        "01",
        "1.0",
        "",
        "abc",
        "1e3",
        " 1",
        "9223372036854775808",
        "sf",
    ] {
        let err = parse_store_id(bad).unwrap_err();
        assert_eq!((err.status, err.code), (404, "store_not_found"), "{bad:?}");
    }
}

#[test]
fn the_first_page_walks_the_index_from_its_start() {
    let stmt = page(7, &parse("status=pending").unwrap());
    assert_eq!(
        stmt.params,
        vec![Some("7".to_string()), Some("pending_payment".to_string())]
    );
    assert_eq!(highest_placeholder(&stmt.sql), stmt.params.len());
    assert!(stmt
        .sql
        .contains("o.store_id = $1::bigint AND o.status = $2::text"));
    assert!(!stmt.sql.contains("o.created_at, o.id) <"), "{}", stmt.sql);
    assert!(stmt
        .sql
        .contains("ORDER BY o.created_at DESC, o.id DESC\n LIMIT 51"));
}

#[test]
fn a_later_page_binds_its_keyset_as_a_row_comparison() {
    let c = cursor("2026-01-31T09:15:00.123456Z", 99);
    let q = DashboardQuery {
        status: OrderStatus::Paid,
        limit: 2,
        cursor: Some(c),
    };
    let stmt = page(3, &q);
    assert_eq!(
        stmt.params,
        vec![
            Some("3".to_string()),
            Some("paid".to_string()),
            Some("2026-01-31T09:15:00.123456Z".to_string()),
            Some("99".to_string()),
        ]
    );
    assert_eq!(highest_placeholder(&stmt.sql), 4);
    // The form the index serves: both columns DESC, compared as one row.
    assert!(stmt
        .sql
        .contains("AND (o.created_at, o.id) < ($3::timestamptz, $4::bigint)"));
    assert!(stmt.sql.contains("LIMIT 3"));
    assert!(!stmt.sql.contains("OFFSET"));
}

/// It runs on the replica as shop_reader, which cannot read them.
#[test]
fn the_list_reads_no_personal_column() {
    let q = DashboardQuery {
        status: OrderStatus::Paid,
        limit: 2,
        cursor: Some(cursor("2026-01-31T09:15:00.123456Z", 99)),
    };
    let stmt = page(3, &q);
    let sql = words(&stmt.sql);
    for column in personal_columns() {
        assert!(!sql.contains(&column), "the dashboard reads {column}");
    }
    assert!(
        !stmt.sql.contains('*'),
        "every column by name: {}",
        stmt.sql
    );
}

#[test]
fn a_page_keeps_limit_rows_and_points_after_the_last() {
    let rows: Vec<OrderSummary> = (1..=3).map(summary).collect();
    let page = Page::from_rows(rows.clone(), 2);
    assert_eq!(page.orders, rows[..2].to_vec());
    let next = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(next, cursor(&rows[1].created_at, 2));

    // Exactly `limit` rows, fewer, none: the last page.
    for n in [2, 1, 0] {
        let rows: Vec<OrderSummary> = (1..=n).map(summary).collect();
        let page = Page::from_rows(rows.clone(), 2);
        assert_eq!(page.orders, rows);
        assert_eq!(page.next_cursor, None);
    }
}

#[test]
fn the_answer_has_the_documented_fields_only() {
    let page = Page::from_rows(vec![summary(1), summary(2)], 1);
    let v: serde_json::Value = serde_json::from_str(&page.to_json()).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["next_cursor", "orders"]);
    let order = v["orders"][0].as_object().unwrap();
    let mut keys: Vec<&str> = order.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "currency",
            "order_id",
            "status",
            "total",
            "updated_at"
        ]
    );
    assert_eq!(v["orders"][0]["order_id"], summary(1).order_id.as_str());
    assert!(v["next_cursor"].is_string());
    let last = Page::from_rows(vec![summary(1)], 1);
    let v: serde_json::Value = serde_json::from_str(&last.to_json()).unwrap();
    assert!(v["next_cursor"].is_null());
}

#[test]
fn rows_are_read_by_column_name() {
    let row = Row::from_pairs(&[
        ("id", Some("12")),
        ("order_id", Some("ord_0123456789abcdefghjkmnpqrs")),
        ("status", Some("paid")),
        ("total", Some("19.99")),
        ("currency", Some("USD")),
        ("created_at", Some("2026-01-31T09:15:00.123456Z")),
        ("updated_at", Some("2026-01-31T09:16:00.000000Z")),
    ]);
    let s = OrderSummary::from_row(&row).unwrap();
    assert_eq!((s.id, s.total.as_str()), (12, "19.99"));
    // A NULL order id would be a bug of ours (public_id is NOT NULL): 500.
    let null_id = Row::from_pairs(&[
        ("id", Some("12")),
        ("order_id", None),
        ("status", Some("paid")),
        ("total", Some("19.99")),
        ("currency", Some("USD")),
        ("created_at", Some("2026-01-31T09:15:00.123456Z")),
        ("updated_at", Some("2026-01-31T09:16:00.000000Z")),
    ]);
    assert_eq!(OrderSummary::from_row(&null_id).unwrap_err().status, 500);
}
