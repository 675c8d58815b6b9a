//! Cursors against the real stack and the real PostgreSQL. A crafted cursor
//! whose key has the right shape but no meaning (month 13, a rank that
//! underflows) is a 400 `invalid_cursor`, not a 500 from the list query's
//! cast; and every cursor `Cursor::decode` accepts, out of thousands of
//! generated ones (valid, boundary, mutated, random), runs the catalog's own
//! list statement without an error and its key reads back through the cast
//! and prints exactly as the list query prints it. The other way round, the
//! keys PostgreSQL prints (ranks, prices, times) are all accepted.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use catalog::{product_list, Cursor, ProductQuery, Sort};
use postgres::types::{ToSql, Type};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use support::*;

/// How the list query prints `created_at` into a cursor (queries.rs).
const TIME_FORMAT: &str = r#"YYYY-MM-DD"T"HH24:MI:SS.US"Z""#;

fn token(raw: &str) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

#[test]
fn crafted_cursors_are_400_invalid_cursor() {
    for (query, raw) in [
        ("", "v1|newest|2025-13-45T99:99:99.000000Z|1"),
        ("", "v1|newest|2025-02-29T00:00:00.000000Z|1"),
        ("", "v1|newest|0000-01-01T00:00:00.000000Z|1"),
        ("q=shirt&", "v1|relevance|1e-50|1"),
        ("q=shirt&", "v1|relevance|1e+39|1"),
        ("q=shirt&", "v1|relevance|1e-45|1"),
        ("sort=price_asc&", "v1|price_asc|10000000000.00|1"),
        ("sort=price_desc&", "v1|price_desc|1.999|1"),
        ("sort=price_asc&", "v1|price_asc|1.00|9223372036854775808"),
    ] {
        let path = format!("/catalog/products?{query}cursor={}", token(raw));
        let reply = get_uncached(&path);
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "invalid_cursor"),
            "{raw}: {}",
            reply.body
        );
    }
}

/// Sorts and the parameters their list query needs.
fn list_pairs(sort: Sort, token: &str) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("sort".to_string(), sort.as_str().to_string()),
        ("limit".to_string(), "1".to_string()),
        ("cursor".to_string(), token.to_string()),
    ];
    if sort == Sort::Relevance {
        pairs.push(("q".to_string(), "shirt".to_string()));
    }
    pairs
}

fn sort_of(i: usize) -> &'static str {
    ["relevance", "price_asc", "price_desc", "newest"][i % 4]
}

/// A rank as PostgreSQL prints a `real`, written independently of the
/// catalog's own printer: Rust's shortest digits, fixed for decimal exponents
/// -4..=5, else `d.ddde±XX`.
fn pg_style_real(v: f32) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    if v == 0.0 || (-4..6).contains(&exp) {
        format!("{v}")
    } else {
        format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    }
}

fn real_key() -> impl Strategy<Value = String> {
    let boundary = prop::sample::select(vec![
        "0",
        "-0",
        "1",
        "0.5",
        "1e-20",
        "1e-38",
        "1.1754944e-38",
        "1.1754942e-38",
        "1.4e-45",
        "1e-45",
        "1e-46",
        "1e-50",
        "3.4028235e+38",
        "3.4028236e+38",
        "3.5e+38",
        "1e+38",
        "1e+39",
        "inf",
        "-inf",
        "Infinity",
        "NaN",
        "-1",
        "1e-05",
        "1e-5",
        "0.00001",
        "0.0001",
        "0.00010",
        "999999",
        "1e+06",
        "1000000",
        "1e6",
        "0.0607927",
        "0.06079271",
        "+0.5",
        ".5",
        "5.",
        "0x1p-3",
        "1_0",
        "١",
    ])
    .prop_map(str::to_string);
    let any_float = any::<u32>().prop_map(f32::from_bits);
    let rank_like = (0.0f32..1.0).boxed();
    prop_oneof![
        2 => boundary,
        3 => prop_oneof![any_float.clone(), rank_like.clone()].prop_map(pg_style_real),
        1 => any_float.clone().prop_map(|v| format!("{v}")),
        1 => any_float.prop_map(|v| format!("{v:e}")),
        1 => (rank_like, 0usize..12).prop_map(|(v, p)| format!("{v:.p$}")),
    ]
}

fn price_key() -> impl Strategy<Value = String> {
    let boundary = prop::sample::select(vec![
        "0",
        "0.00",
        "0.0",
        "00",
        "0.",
        ".0",
        "-0",
        "9999999999.99",
        "9999999999.999",
        "10000000000",
        "10000000000.00",
        "99999999999",
        "1e3",
        "1E3",
        "NaN",
        "Infinity",
        "1.999",
        "19.99",
        "500.00",
        "+1",
        " 1",
        "1 ",
        "1,5",
        "0x10",
        "٣",
    ])
    .prop_map(str::to_string);
    let shaped = (0u64..200_000_000_000, 0u32..1000, 0usize..5, 0usize..3).prop_map(
        |(whole, fraction, digits, zeros)| {
            let whole = format!("{}{whole}", "0".repeat(zeros.saturating_sub(1)));
            match digits {
                0 => whole,
                4 => format!("{whole}."),
                d => format!("{whole}.{:0d$}", fraction % 10u32.pow(d as u32)),
            }
        },
    );
    let small = (0u32..100_000, 0u32..100).prop_map(|(w, f)| format!("{w}.{f:02}"));
    prop_oneof![1 => boundary, 2 => shaped, 3 => small]
}

fn time_key() -> impl Strategy<Value = String> {
    let boundary = prop::sample::select(vec![
        "2025-13-45T99:99:99.000000Z",
        "2024-02-29T00:00:00.000000Z",
        "2025-02-29T00:00:00.000000Z",
        "2000-02-29T23:59:59.999999Z",
        "2100-02-29T00:00:00.000000Z",
        "0001-01-01T00:00:00.000000Z",
        "0000-01-01T00:00:00.000000Z",
        "9999-12-31T23:59:59.999999Z",
        "2025-01-01T24:00:00.000000Z",
        "2025-06-30T23:59:60.000000Z",
        "2025-04-31T00:00:00.000000Z",
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:00:00.000000+00:00",
        "2025-01-01 00:00:00.000000Z",
        "epoch",
        "infinity",
    ])
    .prop_map(str::to_string);
    let fields = |y, mo, d, h, mi, s| {
        (y, mo, d, h, mi, s, 0u32..1_000_000).prop_map(|(y, mo, d, h, mi, s, us)| {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
        })
    };
    prop_oneof![
        1 => boundary,
        3 => fields(1u32..=9999, 1u32..=12, 1u32..=31, 0u32..=23, 0u32..=59, 0u32..=59),
        2 => fields(0u32..=9999, 0u32..=13, 0u32..=32, 0u32..=25, 0u32..=61, 0u32..=61),
    ]
}

fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (1i64..=i64::MAX).prop_map(|id| id.to_string()),
        2 => (1i64..100_000).prop_map(|id| id.to_string()),
        1 => prop::sample::select(vec![
            "0", "-1", "+1", "01", "1.0", "1e3", "", " 1",
            "9223372036854775807", "9223372036854775808", "18446744073709551616",
        ])
        .prop_map(str::to_string),
    ]
}

/// One character changed, inserted or removed at a random place.
fn mutate(text: String, at: prop::sample::Index, what: u8, with: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = if chars.is_empty() {
        0
    } else {
        at.index(chars.len())
    };
    match what % 3 {
        0 if !chars.is_empty() => chars[i] = with,
        1 => chars.insert(i, with),
        _ if !chars.is_empty() => {
            chars.remove(i);
        }
        _ => chars.push(with),
    }
    chars.into_iter().collect()
}

/// A cursor token: mostly well-formed text with a key meant for its sort
/// (valid or a boundary), sometimes a key meant for another sort or any
/// text, a mutated one, or a random token.
fn candidate() -> impl Strategy<Value = String> {
    let for_sort = prop_oneof![
        (Just("relevance"), real_key()),
        (
            prop::sample::select(vec!["price_asc", "price_desc"]),
            price_key()
        ),
        (Just("newest"), time_key()),
    ];
    let any_key = (
        (0usize..4).prop_map(sort_of),
        prop_oneof![real_key(), price_key(), time_key(), ".{0,30}"],
    );
    let raw = (prop_oneof![6 => for_sort, 1 => any_key], id_text())
        .prop_map(|((sort, key), id)| format!("v1|{sort}|{key}|{id}"))
        .boxed();
    let mutation_char =
        prop::sample::select("0123456789.-+eE:TZ|x \u{0}é".chars().collect::<Vec<_>>());
    prop_oneof![
        8 => raw.clone().prop_map(|r| token(&r)),
        2 => (raw.clone(), any::<prop::sample::Index>(), any::<u8>(), mutation_char)
            .prop_map(|(r, at, what, with)| token(&mutate(r, at, what, with))),
        1 => (raw, any::<prop::sample::Index>(), any::<u8>(),
              prop::sample::select("AZaz09-_=+/.".chars().collect::<Vec<_>>()))
            .prop_map(|(r, at, what, with)| mutate(token(&r), at, what, with)),
        1 => "[A-Za-z0-9_-]{0,80}",
        1 => ".{0,40}".prop_map(|s| token(&s)),
    ]
}

fn text_params(values: &[Option<String>]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    values
        .iter()
        .map(|p| (p as &(dyn ToSql + Sync), Type::TEXT))
        .collect()
}

/// Runs one statement as the workers do (every parameter bound as text,
/// Parse/Bind/Execute at once): the error text, if any.
fn run_as_worker(
    db: &mut postgres::Client,
    sql: &str,
    params: &[Option<String>],
) -> Result<Vec<postgres::Row>, String> {
    db.query_typed(sql, &text_params(params))
        .map_err(|e| match e.as_db_error() {
            Some(d) => format!("{} {}", d.code().code(), d.message()),
            None => e.to_string(),
        })
}

fn one_text(db: &mut postgres::Client, sql: &str, param: &str) -> Result<String, String> {
    let rows = run_as_worker(db, sql, &[Some(param.to_string())])?;
    Ok(rows[0].get::<_, String>(0))
}

/// Every problem with one accepted cursor, as text (empty: none).
fn check_accepted(db: &mut postgres::Client, token: &str, cursor: &Cursor) -> Vec<String> {
    let mut problems = Vec::new();
    if cursor.encode() != token {
        problems.push(format!("re-encodes to another token {}", cursor.encode()));
    }
    // The catalog's own list statement, with this cursor.
    match ProductQuery::parse(&list_pairs(cursor.sort, token)) {
        Ok(query) => {
            let stmt = product_list(&query);
            if let Err(e) = run_as_worker(db, &stmt.sql, &stmt.params) {
                problems.push(format!("the list query fails: {e}"));
            }
        }
        Err(e) => problems.push(format!("the list parameters refuse it: {e}")),
    }
    // The key reads back through the same cast and prints as the query prints it.
    let key = cursor.key.as_str();
    let printed = match cursor.sort {
        Sort::Relevance => one_text(db, "SELECT $1::real::text", key),
        Sort::PriceAsc | Sort::PriceDesc => one_text(
            db,
            "SELECT CASE WHEN $1::numeric = $1::numeric::numeric(12,2) THEN $1 ELSE 'rounded' END",
            key,
        ),
        Sort::Newest => one_text(
            db,
            &format!("SELECT to_char($1::timestamptz AT TIME ZONE 'UTC', '{TIME_FORMAT}')"),
            key,
        ),
    };
    match printed {
        Ok(p) if p == key => {}
        Ok(p) => problems.push(format!("the key prints back as {p:?}")),
        Err(e) => problems.push(format!("the key's cast fails: {e}")),
    }
    match one_text(db, "SELECT $1::bigint::text", &cursor.id.to_string()) {
        Ok(id) if id == cursor.id.to_string() => {}
        other => problems.push(format!("the id's cast: {other:?}")),
    }
    problems
}

#[test]
fn every_cursor_decode_accepts_runs_the_list_query_and_reads_back_its_key() {
    let mut db = primary();
    let mut runner = TestRunner::deterministic();
    let strategy = candidate();
    let cases = 3000;
    let mut accepted = [0usize; 4];
    let mut failures = Vec::new();
    for _ in 0..cases {
        let token = strategy.new_tree(&mut runner).unwrap().current();
        let Ok(cursor) = Cursor::decode(&token) else {
            assert_eq!(Cursor::decode(&token).unwrap_err().code, "invalid_cursor");
            continue;
        };
        accepted[cursor.sort as usize] += 1;
        let problems = check_accepted(&mut db, &token, &cursor);
        if !problems.is_empty() {
            let raw = String::from_utf8_lossy(&URL_SAFE_NO_PAD.decode(&token).unwrap_or_default())
                .into_owned();
            failures.push(format!("{raw} ({token}): {}", problems.join("; ")));
        }
    }
    eprintln!("{cases} cursors generated; accepted (relevance, price_asc, price_desc, newest): {accepted:?}");
    assert!(
        failures.is_empty(),
        "{} accepted cursors fail in PostgreSQL:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The generator must reach the interesting side too.
    for (i, n) in accepted.iter().enumerate() {
        assert!(
            *n >= 100,
            "only {n} {} cursors were accepted: {accepted:?}",
            sort_of(i)
        );
    }
}

fn accepted_key(sort: Sort, key: &str) -> bool {
    Cursor::decode(
        &Cursor {
            sort,
            key: key.to_string(),
            id: 1,
        }
        .encode(),
    )
    .is_ok()
}

fn sample<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, n: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

#[test]
fn every_key_postgres_prints_is_accepted() {
    let mut db = primary();
    let mut refused = Vec::new();

    // Reals: ranks as they are, and any zero or normal float.
    // Floats from 2^20 to 2^60 have few fractional bits or none, so their
    // shortest digits often sit on a rounding bound or tie.
    let floats: Vec<f32> = sample(
        prop_oneof![
            0.0f32..1.0,
            prop::num::f32::POSITIVE | prop::num::f32::NORMAL | prop::num::f32::ZERO,
            ((127u32 + 20)..(127 + 60), any::<u32>())
                .prop_map(|(e, m)| f32::from_bits((e << 23) | (m & 0x7f_ffff))),
        ],
        3000,
    );
    // Values whose PostgreSQL spelling differs from Rust's shortest digits.
    let floats: Vec<f32> = floats
        .into_iter()
        .chain([470_449_984.0, 100_227_344.0, 3_107_486.2, 54_489_568.0])
        .collect();
    for row in db
        .query("SELECT x::text FROM unnest($1::real[]) x", &[&floats])
        .unwrap()
    {
        let text: String = row.get(0);
        if !accepted_key(Sort::Relevance, &text) {
            refused.push(format!("real {text}"));
        }
    }
    let words: Vec<String> = db
        .query(
            "SELECT DISTINCT lower(split_part(name, ' ', 1)) FROM products WHERE name ~ '^[A-Za-z]+ '
              ORDER BY 1 LIMIT 20",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut ranks = 0;
    for row in db
        .query(
            "SELECT ts_rank(p.search, tsq)::text
               FROM unnest($1::text[]) w CROSS JOIN LATERAL websearch_to_tsquery('english', w) tsq
               JOIN products p ON p.search @@ tsq",
            &[&words],
        )
        .unwrap()
    {
        let text: String = row.get(0);
        ranks += 1;
        if !accepted_key(Sort::Relevance, &text) {
            refused.push(format!("ts_rank {text}"));
        }
    }
    assert!(ranks > 0, "no product matched any of {words:?}");

    // Prices as the numeric(12,2) column prints them, and the real ones.
    let cents: Vec<i64> = sample(
        prop_oneof![0i64..100_000, 0i64..=999_999_999_999, Just(999_999_999_999)],
        1000,
    );
    for row in db
        .query(
            "SELECT (c / 100.0)::numeric(12,2)::text FROM unnest($1::bigint[]) c
             UNION ALL SELECT price_min::text FROM products WHERE price_min IS NOT NULL
             UNION ALL SELECT price_max::text FROM products WHERE price_max IS NOT NULL",
            &[&cents],
        )
        .unwrap()
    {
        let text: String = row.get(0);
        if !accepted_key(Sort::PriceAsc, &text) {
            refused.push(format!("price {text}"));
        }
    }

    // Times from 0001-01-01 to 9999-12-31, microseconds included, and the real ones.
    let seconds: Vec<f64> = sample(
        prop_oneof![
            -62_135_596_800.0f64..253_402_300_799.0,
            1_500_000_000.0f64..2_000_000_000.0,
        ],
        1000,
    );
    for row in db
        .query(
            &format!(
                "SELECT to_char(to_timestamp(s) AT TIME ZONE 'UTC', '{TIME_FORMAT}') FROM unnest($1::float8[]) s
                 UNION ALL SELECT to_char(created_at AT TIME ZONE 'UTC', '{TIME_FORMAT}') FROM products"
            ),
            &[&seconds],
        )
        .unwrap()
    {
        let text: String = row.get(0);
        if !accepted_key(Sort::Newest, &text) {
            refused.push(format!("time {text}"));
        }
    }
    assert!(
        refused.is_empty(),
        "keys PostgreSQL prints are refused:\n{}",
        refused.join("\n")
    );
}
