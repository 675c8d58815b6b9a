//! Properties of the catalog's parsers: the list and detail query
//! parameters, and cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::cursor::{real_layout, real_text};
use crate::{is_valid_slug, parse_detail_params, Cursor, ProductQuery, Sort, MAX_LIMIT};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

fn sort() -> impl Strategy<Value = Sort> {
    prop::sample::select(vec![
        Sort::Relevance,
        Sort::PriceAsc,
        Sort::PriceDesc,
        Sort::Newest,
    ])
}

/// A rank as the list query prints it: any zero or normal `real`.
fn rank_key() -> impl Strategy<Value = String> {
    prop_oneof![
        (0.0f32..1.0).prop_map(real_text),
        (prop::num::f32::NORMAL | prop::num::f32::ZERO | prop::num::f32::POSITIVE)
            .prop_map(real_text),
        (prop::num::f32::NORMAL | prop::num::f32::NEGATIVE).prop_map(real_text),
    ]
}

/// Floats whose shortest digits often sit on a bound of their rounding
/// interval or tie between two candidates (few fractional bits), ranks, and
/// any finite value.
fn tricky_float() -> impl Strategy<Value = f32> {
    prop_oneof![
        (0.0f32..1.0),
        ((127u32 + 18)..(127 + 64), any::<u32>())
            .prop_map(|(e, m)| f32::from_bits((e << 23) | (m & 0x7f_ffff))),
        (1u32..(1 << 24), -30i32..30).prop_map(|(m, e)| m as f32 * 2f32.powi(e)),
        any::<f32>().prop_filter("finite", |v| v.is_finite()),
    ]
}

/// Keys near what PostgreSQL prints for a value: its correctly rounded
/// digits at every length in its layout, one unit off, Rust's own spellings.
fn rank_candidate() -> impl Strategy<Value = String> {
    (tricky_float(), 1usize..=10, -2i64..=2, 0u8..4).prop_map(|(v, n, off, style)| {
        let sci = format!("{:.prec$e}", v.abs(), prec = n - 1);
        let (mantissa, exp) = sci.split_once('e').unwrap();
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let m: i64 = digits.parse::<i64>().unwrap() + off;
        let exp: i32 = exp.parse().unwrap();
        match style {
            0 if m > 0 => {
                let text = m.to_string();
                let exp = exp + text.len() as i32 - digits.len() as i32;
                real_layout(v < 0.0, text.trim_end_matches('0'), exp)
            }
            1 => format!("{v}"),
            2 => format!("{v:e}"),
            _ => real_text(v),
        }
    })
}

/// A price as `numeric(12,2)` holds it, with 0, 1 or 2 decimals.
fn price_key() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..=9_999_999_999, 0u32..100).prop_map(|(w, c)| format!("{w}.{c:02}")),
        (0u64..=9_999_999_999, 0u32..10).prop_map(|(w, c)| format!("{w}.{c}")),
        (0u64..=9_999_999_999).prop_map(|w| w.to_string()),
        (0u64..1000, 0u32..100).prop_map(|(w, c)| format!("{w}.{c:02}")),
    ]
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A time as the list query prints created_at.
fn time_key() -> impl Strategy<Value = String> {
    (
        1u32..=9999,
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        0u32..1_000_000,
    )
        .prop_map(|(y, mo, d, h, mi, s, us)| {
            let d = d.min(days_in_month(y, mo));
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
        })
}

fn key_for(sort: Sort) -> BoxedStrategy<String> {
    match sort {
        Sort::Relevance => rank_key().boxed(),
        Sort::PriceAsc | Sort::PriceDesc => price_key().boxed(),
        Sort::Newest => time_key().boxed(),
    }
}

/// A cursor the API could issue.
fn valid_cursor() -> impl Strategy<Value = Cursor> {
    (sort(), prop_oneof![1i64..1000, 1i64..=i64::MAX])
        .prop_flat_map(|(sort, id)| key_for(sort).prop_map(move |key| Cursor { sort, key, id }))
}

/// The text inside a token: well formed, near misses, noise.
fn cursor_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        rank_key(),
        price_key(),
        time_key(),
        "[0-9.eE+-]{0,12}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z",
        ".{0,10}",
    ];
    let sort = prop_oneof![sort().prop_map(|s| s.as_str().to_string()), "[a-z_]{0,10}"];
    let id = prop_oneof![any::<i64>().prop_map(|i| i.to_string()), "[0-9+-]{0,21}"];
    let version = prop_oneof![4 => Just("v1".to_string()), 1 => "v[0-9]|.{0,3}"];
    prop_oneof![
        8 => (version, sort, part, id).prop_map(|(v, s, k, i)| format!("{v}|{s}|{k}|{i}")),
        1 => ".{0,60}",
        1 => "[|a-z0-9]{0,30}",
    ]
}

/// One byte of a token replaced, inserted or removed.
fn mutated(token: String, at: prop::sample::Index, op: u8, with: char) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    if chars.is_empty() {
        return with.to_string();
    }
    let i = at.index(chars.len());
    match op % 3 {
        0 => chars[i] = with,
        1 => chars.insert(i, with),
        _ => {
            chars.remove(i);
        }
    }
    chars.into_iter().collect()
}

/// One query parameter: mostly a known name with a plausible value.
fn param() -> impl Strategy<Value = (String, String)> {
    let text = ".{0,12}";
    let known = |name: &'static str, value: BoxedStrategy<String>| {
        value.prop_map(move |v| (name.to_string(), v))
    };
    prop_oneof![
        1 => known("category", prop_oneof!["[a-z0-9][a-z0-9-]{0,8}", text].boxed()),
        1 => known("q", prop_oneof!["[ a-z]{0,10}", text, " {0,3}"].boxed()),
        1 => known("min_price", prop_oneof![price_key(), "[0-9.e-]{0,8}"].boxed()),
        1 => known("max_price", prop_oneof![price_key(), "[0-9.e-]{0,8}"].boxed()),
        1 => known("in_stock", prop_oneof!["true|false", text].boxed()),
        1 => known("store", prop_oneof![(-3i64..1000).prop_map(|n| n.to_string()), text].boxed()),
        1 => known(
            "sort",
            prop_oneof!["relevance|price_asc|price_desc|newest", text].boxed()
        ),
        1 => known(
            "limit",
            prop_oneof![(0u32..=120).prop_map(|n| n.to_string()), text].boxed()
        ),
        1 => known(
            "cursor",
            prop_oneof![
                valid_cursor().prop_map(|c| c.encode()),
                cursor_text().prop_map(|t| URL_SAFE_NO_PAD.encode(t)),
                text
            ]
            .boxed()
        ),
        2 => (
            "[a-z][a-z0-9_]{0,6}",
            prop_oneof!["[A-Za-z0-9 ]{0,6}(,[A-Za-z0-9 ]{0,6}){0,3}", text]
        ),
        1 => ("_[a-z]{0,3}", text),
        1 => (".{0,6}", text),
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    // A cursor must match the sort, which random pairs seldom do.
    let paging = (valid_cursor(), prop::collection::vec(param(), 0..4)).prop_map(|(c, extra)| {
        let mut pairs = vec![
            ("sort".to_string(), c.sort.as_str().to_string()),
            ("cursor".to_string(), c.encode()),
        ];
        if c.sort == Sort::Relevance {
            pairs.push(("q".to_string(), "red shirt".to_string()));
        }
        pairs.extend(extra);
        pairs
    });
    prop_oneof![3 => prop::collection::vec(param(), 0..8), 1 => paging]
}

/// The canonical query string of a parsed query, as pairs.
fn canonical(q: &ProductQuery) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut push = |k: &str, v: String| pairs.push((k.to_string(), v));
    if let Some(c) = &q.category {
        push("category", c.clone());
    }
    if let Some(t) = &q.q {
        push("q", t.clone());
    }
    if let Some(p) = q.min_price {
        push("min_price", p.to_string());
    }
    if let Some(p) = q.max_price {
        push("max_price", p.to_string());
    }
    push("in_stock", q.in_stock.to_string());
    if let Some(s) = q.store {
        push("store", s.to_string());
    }
    for (name, values) in &q.options {
        push(name, values.join(","));
    }
    push("sort", q.sort.as_str().to_string());
    push("limit", q.limit.to_string());
    if let Some(c) = &q.cursor {
        push("cursor", c.encode());
    }
    pairs
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn list_params_never_panic_and_errors_are_stable_400s(pairs in params()) {
        if let Err(e) = ProductQuery::parse(&pairs) {
            prop_assert_eq!(e.status, 400);
            prop_assert!(
                ["invalid_parameter", "invalid_sort", "invalid_cursor"].contains(&e.code),
                "{}", e.code
            );
        }
    }

    #[test]
    fn accepted_list_params_are_in_their_documented_ranges(pairs in params()) {
        let Ok(q) = ProductQuery::parse(&pairs) else { return Ok(()) };
        prop_assert!((1..=MAX_LIMIT).contains(&q.limit));
        if let Some(c) = &q.category {
            prop_assert!(is_valid_slug(c));
        }
        if let Some(t) = &q.q {
            prop_assert!(!t.is_empty() && t.trim() == t && t.chars().count() <= 200);
        }
        let max = Decimal::new(999_999_999_999, 2);
        for p in [q.min_price, q.max_price].into_iter().flatten() {
            prop_assert!(p.decimal() >= Decimal::ZERO && p.decimal() <= max);
            prop_assert!(p.decimal().scale() <= 2);
        }
        if let (Some(lo), Some(hi)) = (q.min_price, q.max_price) {
            prop_assert!(lo <= hi);
        }
        if let Some(s) = q.store {
            prop_assert!(s > 0);
        }
        prop_assert!(q.options.len() <= 8);
        for (name, values) in &q.options {
            prop_assert!(name.len() <= 32 && name.starts_with(|c: char| c.is_ascii_lowercase()));
            prop_assert!(!values.is_empty() && values.len() <= 20);
            for v in values {
                prop_assert!(!v.is_empty() && v.trim() == v && v.chars().count() <= 64 && !v.contains(','));
            }
        }
        prop_assert!(q.sort != Sort::Relevance || q.q.is_some());
        if let Some(c) = &q.cursor {
            prop_assert_eq!(c.sort, q.sort);
        }
    }

    #[test]
    fn the_canonical_form_parses_to_the_same_query(pairs in params()) {
        let Ok(q) = ProductQuery::parse(&pairs) else { return Ok(()) };
        let again = ProductQuery::parse(&canonical(&q));
        prop_assert_eq!(again, Ok(q));
    }

    #[test]
    fn detail_params_never_panic_and_accept_only_a_store_id(pairs in params()) {
        match parse_detail_params(&pairs) {
            Ok(store) => {
                prop_assert!(store.is_none_or(|s| s > 0));
                prop_assert!(pairs.iter().all(|(k, _)| k == "store" || k.starts_with('_')));
                prop_assert!(pairs.iter().filter(|(k, _)| k == "store").count() <= 1);
            }
            Err(e) => prop_assert_eq!((e.status, e.code), (400, "invalid_parameter")),
        }
    }

    #[test]
    fn slugs_never_panic(s in ".{0,20}|[a-z0-9-]{0,130}") {
        if is_valid_slug(&s) {
            prop_assert!((1..=127).contains(&s.len()) && !s.starts_with('-'));
        }
    }

    #[test]
    fn every_valid_cursor_decodes_to_itself(c in valid_cursor()) {
        let token = c.encode();
        prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert_eq!(Cursor::decode(&token), Ok(c));
    }

    #[test]
    fn decode_never_panics_on_arbitrary_tokens(token in ".{0,80}|[A-Za-z0-9_-]{0,80}") {
        if let Err(e) = Cursor::decode(&token) {
            prop_assert_eq!((e.status, e.code), (400, "invalid_cursor"));
        }
    }

    #[test]
    fn what_decode_accepts_encodes_to_the_same_token(text in cursor_text()) {
        let token = URL_SAFE_NO_PAD.encode(&text);
        match Cursor::decode(&token) {
            Ok(c) => prop_assert_eq!(c.encode(), token),
            Err(e) => prop_assert_eq!((e.status, e.code), (400, "invalid_cursor")),
        }
    }

    #[test]
    fn mutated_tokens_are_refused_or_canonical(
        c in valid_cursor(),
        at in any::<prop::sample::Index>(),
        op in any::<u8>(),
        with in prop::sample::select("AZaz09-_=+/.|".chars().collect::<Vec<_>>()),
    ) {
        let token = mutated(c.encode(), at, op, with);
        if let Ok(d) = Cursor::decode(&token) {
            prop_assert_eq!(d.encode(), token);
        }
    }

    #[test]
    fn a_rank_is_accepted_exactly_as_postgres_prints_it(key in rank_candidate()) {
        let printed = key
            .parse::<f32>()
            .ok()
            .filter(|v| *v == 0.0 || v.is_normal())
            .map(real_text);
        let accepted = Cursor::decode(
            &Cursor { sort: Sort::Relevance, key: key.clone(), id: 1 }.encode(),
        )
        .is_ok();
        prop_assert_eq!(accepted, printed.as_deref() == Some(key.as_str()), "{} vs {:?}", key, printed);
    }

    #[test]
    fn ranks_print_as_reals_that_read_back(v in any::<f32>()) {
        prop_assume!(v.is_finite());
        let text = real_text(v);
        prop_assert_eq!(text.parse::<f32>().map(f32::to_bits), Ok(v.to_bits()), "{}", text);
        let accepted = Cursor::decode(&Cursor { sort: Sort::Relevance, key: text.clone(), id: 1 }.encode()).is_ok();
        prop_assert_eq!(accepted, v == 0.0 || v.is_normal(), "{}", text);
    }
}
